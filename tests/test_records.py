"""dlnlib.records: sweep records read against the ranges, one claim's verdicts, its map."""

from __future__ import annotations

import json

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from dlnlib import records, sweep  # noqa: E402

CLAIM = "finite differences match"


def row(params, status, held=None, attempt=1, other=True):
    """One record of setup: a ledger with the claim (held or not) and another claim."""
    claims = None
    if held is not None:
        claims = [{"claim": f"{CLAIM} to 1e-9", "held": held, "numbers": {}}]
        if other:
            claims.append(
                {"claim": "another claim", "held": True, "numbers": {}}
            )
    return {
        "chapter": "setup",
        "key": sweep.run_key("setup", params),
        "params": json.dumps(params),
        "status": status,
        "error": None if status in ("ok", "claim-failed") else "Boom: x",
        "claims": None if claims is None else json.dumps(claims),
        "claims_held": None,
        "claims_failed": None,
        "glue": "{}",
        "seconds": 1.0,
        "attempt": attempt,
        "final": status != "killed" or attempt == 2,
        "started": None,
        "worker": None,
        "commit": None,
    }


@pytest.fixture
def recorded(tmp_path):
    rows = [
        row({}, "ok", held=True),
        row({"n": 1}, "ok", held=True),
        row({"n": 200}, "claim-failed", held=False),
        row({"n": 300}, "claim-failed", held=False),  # outside 1..200
        row({"n": 400}, "killed"),  # first attempt: not settled
        row({"n": 400}, "error", attempt=2),
        row({"seed": 3}, "ok", held=True),
        row({"n": 1, "seed": 3}, "ok", held=None),  # ran, no such claim
    ]
    rows[-1]["claims"] = json.dumps(
        [{"claim": "x", "held": True, "numbers": {}}]
    )
    sweep._write_records(tmp_path / "setup.parquet", rows)
    return tmp_path


def test_recorded_lists_the_chapters_with_a_record(recorded, tmp_path):
    assert records.recorded(recorded) == ("setup",)
    assert records.recorded(tmp_path / "none") == ()


def test_runs_are_the_settled_attempts_placed_in_the_ranges(recorded):
    runs = records.read_runs("setup", recorded)
    assert len(runs) == 7  # the killed first attempt is not settled
    by_n = {
        r["params"].get("n"): r
        for _, r in runs.iterrows()
        if "seed" not in r["params"]
    }
    assert (
        by_n[None]["inside"]
        and by_n[200]["inside"]
        and not by_n[300]["inside"]
    )
    assert by_n[300]["outside"].startswith("n = 300 must be 1..200")
    assert by_n[400]["status"] == "error" and by_n[400]["claims"] == []
    _, defaults = sweep.chapter_spec("setup")
    assert by_n[1]["values"] == {**defaults, "n": 1}


def test_verdicts_of_one_claim(recorded):
    runs = records.read_runs("setup", recorded)
    verdicts = records.claim_verdicts(runs, CLAIM)
    got = {
        json.dumps(runs.loc[k, "params"], sort_keys=True): v
        for k, v in verdicts.items()
    }
    assert got == {
        "{}": "held",
        '{"n": 1}': "held",
        '{"n": 200}': "failed",
        '{"n": 300}': "failed",
        '{"n": 400}': "crashed",
        '{"seed": 3}': "held",
        '{"n": 1, "seed": 3}': "absent",
    }
    with pytest.raises(
        ValueError, match="no recorded run has a claim starting"
    ):
        records.claim_verdicts(runs, "finite differences matched")
    with pytest.raises(ValueError, match="give more of the text"):
        records.claim_verdicts(runs, "")


def test_the_map_draws_the_runs_that_vary_its_two_knobs(recorded):
    runs = records.read_runs("setup", recorded)
    verdicts = records.claim_verdicts(runs, CLAIM)
    fig, ax = plt.subplots()
    drawn = records.draw_claim_map(ax, runs, verdicts, "n", "seed")
    # every run: they all set only n and seed
    counts = drawn.groupby(["verdict", "inside"]).size().to_dict()
    assert counts == {
        ("held", True): 3,
        ("failed", True): 1,
        ("failed", False): 1,
        ("crashed", False): 1,
        ("absent", True): 1,
    }
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "1",
        "12",
        "200",
        "300",
        "400",
    ]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "held, inside the ranges",
        "failed, inside the ranges",
        "failed, outside the ranges",
        "crashed, outside the ranges",
        "absent, inside the ranges",
    ]
    # each mark where its values put it, filled inside the ranges only
    marks = {
        tuple(c.get_offsets()[0]): len(c.get_facecolor()) > 0
        and c.get_facecolor()[0][3] > 0
        for c in ax.collections
    }
    assert marks == {
        (12, 0): True,
        (1, 0): True,
        (200, 0): True,
        (300, 0): False,
        (400, 0): False,
        (12, 3): True,
        (1, 3): True,
    }
    fig2, ax2 = plt.subplots()
    only = records.draw_claim_map(
        ax2, runs, verdicts, "n", "dims", legend=False
    )
    assert len(only) == 5  # the runs that set seed are left out
    # other knobs fixed: the runs at seed 3 (set), not those at the default seed
    at3 = records.draw_claim_map(ax2, runs, verdicts, "n", "dims", {"seed": 3})
    assert sorted(map(str, at3["params"])) == [
        "{'n': 1, 'seed': 3}",
        "{'seed': 3}",
    ]
    with pytest.raises(ValueError, match="no recorded run varies"):
        records.draw_claim_map(
            ax2, runs.iloc[[4]], verdicts, "dims", "fd_rtol"
        )
    plt.close("all")


def test_numbers_of_one_claim_and_notes_on_the_map(recorded):
    runs = records.read_runs("setup", recorded)
    # the fixture's claims carry no numbers: a number asked for is a KeyError
    with pytest.raises(KeyError, match="has no number 'err'"):
        records.claim_numbers(runs, CLAIM, "err")
    for run in runs["claims"]:
        for c in run:
            c["numbers"] = {"err": f"{len(c['claim'])}"}
    notes = records.claim_numbers(runs, CLAIM, "err")
    assert notes.notna().sum() == 5  # the runs whose ledger has the claim
    assert set(notes.dropna()) == {str(len(CLAIM) + len(" to 1e-9"))}
    fig, ax = plt.subplots()
    verdicts = records.claim_verdicts(runs, CLAIM)
    records.draw_claim_map(ax, runs, verdicts, "n", "seed", notes=notes)
    assert len(ax.texts) == 5
    plt.close(fig)


def test_a_knob_set_to_its_default_is_drawn_and_two_runs_at_one_place_are_refused(
    tmp_path,
):
    rows = [
        row({}, "ok", held=True),
        row({"n": 5, "seed": 0}, "ok", held=True),
    ]
    sweep._write_records(tmp_path / "setup.parquet", rows)
    runs = records.read_runs("setup", tmp_path)
    verdicts = records.claim_verdicts(runs, CLAIM)
    fig, ax = plt.subplots()
    # seed = 0 is its default: the run is on the map of n and dims
    assert len(records.draw_claim_map(ax, runs, verdicts, "n", "dims")) == 2
    rows.append(row({"seed": 0}, "ok", held=False))  # the defaults again
    sweep._write_records(tmp_path / "setup.parquet", rows)
    runs = records.read_runs("setup", tmp_path)
    assert len(runs) == 2  # one run: the later record of the defaults counts
    assert records.claim_verdicts(runs, CLAIM).value_counts().to_dict() == {
        "held": 1,
        "failed": 1,
    }
    # 5.0 is another run than 5 (its type differs) but sits at the same place
    rows.append(row({"n": 5.0}, "ok", held=False))
    sweep._write_records(tmp_path / "setup.parquet", rows)
    runs = records.read_runs("setup", tmp_path)
    verdicts = records.claim_verdicts(runs, CLAIM)
    with pytest.raises(ValueError, match="several recorded runs at the same"):
        records.draw_claim_map(ax, runs, verdicts, "n", "dims")
    plt.close(fig)


def test_the_retry_of_a_run_is_the_run(tmp_path):
    rows = [
        row({"n": 3}, "timeout"),
        row({"n": 3}, "ok", held=True, attempt=2),
    ]
    assert rows[0][
        "final"
    ]  # two settled rows of one run: the later attempt counts
    sweep._write_records(tmp_path / "setup.parquet", rows[::-1])  # any order
    (run,) = records.read_runs("setup", tmp_path).itertuples()
    assert run.status == "ok"


def test_unrecorded_ends_are_the_edges_without_a_settled_run(
    recorded, tmp_path
):
    spec, defaults = sweep.chapter_spec("setup")
    edges = [{}, *spec.edges(defaults)]
    assert {"n": 1} in edges and {"n": 200} in edges
    missing = records.unrecorded_ends("setup", recorded)
    assert {} not in missing and {"n": 1} not in missing
    assert {"n": 200} not in missing  # its claim failed, but it is recorded
    assert len(missing) == len(edges) - 3
    assert records.unrecorded_ends("setup", tmp_path / "none") == edges


def test_a_missing_record_is_an_error_naming_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="make sweep CHAPTER=setup"):
        records.read_runs("setup", tmp_path)


def test_runs_that_resolve_to_the_same_values_are_read_once(tmp_path):
    # a grid point that named the default seed, recorded before the sweep
    # keyed runs by their resolved values, and the later run of the defaults
    _, defaults = sweep.chapter_spec("setup")
    rows = [
        row({"seed": defaults["seed"]}, "claim-failed", held=False),
        row({}, "ok", held=True),
        row({"n": 1, "seed": defaults["seed"]}, "ok", held=True),
    ]
    sweep._write_records(tmp_path / "setup.parquet", rows)
    runs = records.read_runs("setup", tmp_path)
    assert len(runs) == 2
    assert runs.loc[sweep.run_key("setup", {}), "status"] == "ok"
    assert runs.loc[sweep.run_key("setup", {"n": 1}), "values"] == {
        **defaults,
        "n": 1,
    }
    assert records.unrecorded_ends("setup", tmp_path)[0] != {}


def test_a_map_orders_lists_by_their_numbers():
    where, ticks, labels = records._axis([[12], [2], (4, 1), [4]])
    assert labels == ["[2]", "[4]", "[4, 1]", "[12]"]  # a tuple default too
    assert [where[t] for t in labels] == ticks == [0, 1, 2, 3]
    # values Python cannot order keep the order of their JSON text
    _, _, labels = records._axis([{"b": 1}, {"a": 2}])
    assert labels == ['{"a": 2}', '{"b": 1}']
    _, _, labels = records._axis(["b", [1]])
    assert labels == ['"b"', "[1]"]


def test_a_map_across_seeds_shares_one_mark_per_place(tmp_path):
    rows = [
        row({"n": 1}, "ok", held=True),
        row({"n": 1, "seed": 3}, "claim-failed", held=False),
        row({"n": 200}, "ok", held=True),
        row({"n": 200, "seed": 3}, "ok", held=True),
        row({"n": 200, "seed": 4}, "ok", held=True),
    ]
    sweep._write_records(tmp_path / "setup.parquet", rows)
    runs = records.read_runs("setup", tmp_path)
    verdicts = records.claim_verdicts(runs, CLAIM)
    fig, ax = plt.subplots()
    drawn = records.draw_claim_map(
        ax, runs, verdicts, "n", "dims", across="seed"
    )
    assert len(drawn) == 5 and sorted(drawn["verdict"]) == [
        "failed",
        *["held"] * 4,
    ]
    assert sorted(t.get_text() for t in ax.texts) == ["1/2", "3/3"]
    # one mark per place: red where a seed failed, green where all held
    colors = sorted(
        tuple(np.round(c.get_edgecolor()[0], 3)) for c in ax.collections
    )
    assert len(colors) == 2
    with pytest.raises(ValueError, match="another knob"):
        records.draw_claim_map(ax, runs, verdicts, "n", "seed", across="seed")
    with pytest.raises(ValueError, match="not with across"):
        records.draw_claim_map(
            ax, runs, verdicts, "n", "dims", notes=verdicts, across="seed"
        )
    # without across the seeds are other knobs: only seed 0 is on the map
    assert len(records.draw_claim_map(ax, runs, verdicts, "n", "dims")) == 2
    plt.close(fig)
