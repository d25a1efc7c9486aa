"""dlnlib.sweep: chapters run over parameter values on Dask, recorded in Parquet.

The runs use the cheapest chapter, ``setup`` (a few seconds a run), and a toy
chapter written by the tests (a kernel that sleeps or dies on demand). Every
timeout below is a guard against a hang, never a measurement.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import psutil
import pytest

from dlnlib import sweep
from dlnlib.sweep import SweepError, run_key, run_sweep

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HANG = 600  # seconds: only a guard against a hang

# Inside its documented ranges every claim of setup holds, so the sweep below runs a
# copy of setup with one test-only knob, placed after its range checks (as in
# test_claims_modes.py): break_fd tightens the finite-difference tolerance to 1e-30,
# which no finite difference meets, and so breaks exactly one claim.
BREAKS_FD = {"seed": 0, "dims": (8, 8, 8, 8), "break_fd": True}
HOLDS = {**BREAKS_FD, "break_fd": False}

COLUMNS = {
    "chapter",
    "key",
    "params",
    "status",
    "error",
    "claims",
    "claims_held",
    "claims_failed",
    "glue",
    "seconds",
    "attempt",
    "final",
    "started",
    "worker",
    "commit",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_toy(directory: Path) -> Path:
    """A chapter whose kernel sleeps for an hour, once or always, or kills itself."""
    new = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        new(
            'mode = "ok"  # ok, sleep, sleep-once or die\n'
            'pid_file = ""  # where the kernel appends its pid\n'
            'marker = ""  # sleep-once sleeps when this file does not exist',
            metadata={"tags": ["parameters"]},
        ),
        new(
            "from dlnlib.book import require\n\n"
            "require(\n"
            '    mode in ("ok", "sleep", "sleep-once", "die"),\n'
            '    "mode is ok, sleep, sleep-once or die",\n'
            ")"
        ),
        new(
            "import os\nimport signal\nimport time\n\n"
            "from dlnlib import book\n\n"
            'claims = book.Claims("toy")\n'
            "if pid_file:\n"
            '    with open(pid_file, "a") as f:\n'
            "        print(os.getpid(), file=f)\n"
            'if mode == "sleep-once" and not os.path.exists(marker):\n'
            '    open(marker, "w").close()\n'
            '    mode = "sleep"\n'
            'if mode == "sleep":\n'
            "    time.sleep(3600)\n"
            'if mode == "die":\n'
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
            'claims.check("the mode is {mode}", True, mode=mode)'
        ),
        new("claims.ledger()"),
    ]
    directory.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, directory / "toy.ipynb")
    return directory


def assert_gone(pids) -> None:
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=30)
    alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes of a stopped run still alive: {alive}"


# --- combinations, keys, injection ---------------------------------------------------------------


def test_grid_values_are_python_literals():
    values = sweep.parse_grid(["seed=0,1", "dims=(4,5,3,2),(8,8,8,8)"])
    assert values == {"seed": [0, 1], "dims": [(4, 5, 3, 2), (8, 8, 8, 8)]}
    combos = sweep.grid(values)
    assert len(combos) == 4 and combos[1] == {"seed": 0, "dims": (8, 8, 8, 8)}
    assert sweep.grid({}) == [{}]
    for bad in (["seed"], ["mode=fast"], ["seed=0", "seed=1"], ["seed="]):
        with pytest.raises(SweepError):
            sweep.parse_grid(bad)


def test_sample_is_seeded_distinct_and_inside_the_grid():
    values = {"seed": list(range(10)), "n": [1, 12, 200], "dims": [(2, 2, 2)]}
    picks = sweep.sample(values, 12, seed=3)
    full = sweep.grid(values)
    assert len({run_key("setup", p) for p in picks}) == 12
    assert all(p in full for p in picks)
    assert picks == sweep.sample(values, 12, seed=3)
    assert picks != sweep.sample(values, 12, seed=4)
    assert len(sweep.sample(values, 30, seed=0)) == 30
    with pytest.raises(SweepError, match="1..30"):
        sweep.sample(values, 31)


def test_run_key_is_stable_and_tells_types_apart():
    key = run_key("setup", {"seed": 0, "n": 1})
    assert key == run_key("setup", {"n": 1, "seed": 0})
    assert key != run_key("construction", {"seed": 0, "n": 1})
    assert key != run_key("setup", {"seed": 0, "n": 1.0})
    assert key != run_key("setup", {"seed": 0, "n": True})
    # the record stores JSON: a tuple comes back a list, an integer key text
    assert run_key("setup", {"dims": (2, 2)}) == run_key(
        "setup", {"dims": [2, 2]}
    )
    assert run_key("setup", {"m": {2: 1}}) == run_key("setup", {"m": {"2": 1}})
    # integer keys are sorted as the text the record holds
    assert run_key("setup", {"m": {2: 1, 10: 3}}) == run_key(
        "setup", {"m": {"10": 3, "2": 1}}
    )


def test_run_key_is_one_of_the_values_a_run_resolves_to():
    defaults = sweep.chapter_defaults("setup")
    assert run_key("setup", {}, defaults) == run_key("setup", {})
    # a knob named at its default value is the run that leaves it out
    assert run_key("setup", dict(defaults), defaults) == run_key("setup", {})
    moved = {"seed": defaults["seed"] + 1}
    assert run_key("setup", {**defaults, **moved}, defaults) == run_key(
        "setup", moved
    )
    assert run_key("setup", moved, defaults) != run_key("setup", {}, defaults)
    # 1.0 is not the default 1: the value's type is kept
    assert sweep.resolved({"n": 1.0}, {"n": 1}) == {"n": 1.0}
    assert sweep.resolved({"n": 1, "x": 2}, {"n": 1}) == {"x": 2}


def test_plan_runs_once_what_resolves_to_the_same_values():
    defaults = sweep.chapter_defaults("setup")
    seed = defaults["seed"]
    combos = [
        {},
        {"seed": seed},
        {"seed": seed + 1},
        {**defaults, "seed": seed + 1},
    ]
    todo, skipped = sweep.plan([], "setup", combos, defaults)
    assert todo == [({}, 1), ({"seed": seed + 1}, 1)] and skipped == 0
    # a record of the defaults, made naming a default value, is found
    done = {
        "key": run_key("setup", {"seed": seed}, defaults),
        "attempt": 1,
        "final": True,
    }
    todo, skipped = sweep.plan([done], "setup", combos, defaults)
    assert todo == [({"seed": seed + 1}, 1)] and skipped == 1


def test_a_record_is_keyed_again_when_read(tmp_path):
    defaults = sweep.chapter_defaults("setup")
    params = {"seed": defaults["seed"], "n": defaults["n"] + 1}
    row = {
        "chapter": "setup",
        "key": "made-by-an-old-key",
        "params": json.dumps(params),
        "status": "ok",
        "error": None,
        "claims": None,
        "claims_held": None,
        "claims_failed": None,
        "glue": "{}",
        "seconds": 1.0,
        "attempt": 1,
        "final": True,
        "started": None,
        "worker": None,
        "commit": None,
    }
    path = tmp_path / "setup.parquet"
    sweep._write_records(path, [row])
    (read,) = sweep._read_records(path, "setup", defaults)
    assert read["key"] == run_key("setup", {"n": defaults["n"] + 1})
    todo, skipped = sweep.plan(
        [read], "setup", [{"n": defaults["n"] + 1}], defaults
    )
    assert todo == [] and skipped == 1


def test_injected_cell_follows_the_parameters_and_keeps_types():
    nb = nbformat.read(ROOT / "chapters" / "setup.ipynb", as_version=4)
    index, parameters, _ = sweep.chapter_cells(nb)
    params = {"dims": (8,), "fd_rtol": float("inf"), "x": {2: [1.5, "a"]}}
    out = sweep.inject(nb, params)
    cell = out.cells[index + 1]
    assert cell.metadata["tags"] == ["injected-parameters"]
    assert len(out.cells) == len(nb.cells) + 1
    namespace = {}
    exec(parameters + "\n" + cell.source, namespace)
    assert {k: namespace[k] for k in params} == params
    assert "injected-parameters" not in str(nb.cells)  # the input is untouched


def test_knobs_are_the_top_level_assignments_of_every_chapter():
    nb = nbformat.read(ROOT / "chapters" / "setup.ipynb", as_version=4)
    _, parameters, checks = sweep.chapter_cells(nb)
    assert sweep.knobs(parameters)[:3] == ["seed", "dims", "n"]
    assert "spec.check(globals())" in checks
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        _, parameters, _ = sweep.chapter_cells(nb)
        found = sweep.knobs(parameters)
        assert found, path.name
        # a chapter that draws random numbers from its seed has it as a knob
        source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        if re.search(r"seed\s*=\s*seed|default_rng\(\s*seed", source):
            assert "seed" in found, path.name


def test_chapter_spec_gives_the_ranges_and_the_defaults(tmp_path):
    spec, defaults = sweep.chapter_spec("setup")
    assert list(defaults)[:3] == ["seed", "dims", "n"]
    assert set(spec.names) == set(defaults)
    spec.check(defaults)
    with pytest.raises(ValueError, match="parameter out of range: n = 0"):
        spec.check({**defaults, "n": 0})
    with pytest.raises(SweepError, match="make no `spec`"):
        sweep.chapter_spec("toy", write_toy(tmp_path / "chapters"))


def test_plan_skips_final_runs_and_resumes_a_lost_first_attempt():
    rows = [
        {"key": run_key("setup", {"n": 1}), "attempt": 1, "final": True},
        {"key": run_key("setup", {"n": 2}), "attempt": 1, "final": False},
        {"key": run_key("setup", {"n": 3}), "attempt": 1, "final": False},
        {"key": run_key("setup", {"n": 3}), "attempt": 2, "final": True},
    ]
    combos = [{"n": n} for n in (1, 2, 3, 4, 4)]
    todo, skipped = sweep.plan(rows, "setup", combos)
    assert todo == [({"n": 2}, 2), ({"n": 4}, 1)] and skipped == 2


# --- bad input: a clear error before any run -----------------------------------------------------


def test_unknown_chapter(tmp_path):
    out = tmp_path / "x.parquet"
    with pytest.raises(SweepError, match="no such chapter: 'setpu'.*setup"):
        run_sweep("setpu", [{}], out, scheduler="tcp://127.0.0.1:1")
    assert not out.exists()


def test_unknown_parameter(tmp_path):
    out = tmp_path / "x.parquet"
    with pytest.raises(SweepError, match="no parameter 'sed'.*seed, dims"):
        run_sweep("setup", [{"seed": 1}, {"sed": 1}], out)
    assert not out.exists()


def test_value_the_chapter_refuses_names_the_combination(tmp_path):
    out = tmp_path / "x.parquet"
    combos = sweep.grid({"n": [0, 12], "dims": [(4, 5, 3, 2), (4, 9)]})
    with pytest.raises(SweepError) as info:
        run_sweep("setup", combos, out, scheduler="tcp://127.0.0.1:1")
    message = str(info.value)
    assert "setup refuses 3 of 4 combinations (no run was started)" in message
    # the first knob out of range in each combination, with its values
    assert (
        "n=0, dims=(4, 5, 3, 2): ValueError: parameter out of range:"
        " n = 0 must be 1..200" in message
    )
    assert (
        "n=12, dims=(4, 9): ValueError: parameter out of range: dims ="
        " (4, 9) must be L >= 2, 1..8 (length 2)" in message
    )
    assert "n=12, dims=(4, 5, 3, 2)" not in message
    assert not out.exists()


def test_unreachable_scheduler(tmp_path):
    out = tmp_path / "x.parquet"
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(
        SweepError, match=f"cannot reach the Dask scheduler at {address}"
    ):
        run_sweep(
            "setup", [{"n": 1}], out, scheduler=address, connect_timeout=2
        )
    assert not out.exists()


def test_command_line_reports_bad_input(capsys):
    assert sweep.main(["setup", "--grid", "sed=1,2"]) == 2
    assert "error: setup has no parameter 'sed'" in capsys.readouterr().err
    assert sweep.main(["setup", "--grid", "seed=fast"]) == 2
    assert "must be Python literals" in capsys.readouterr().err
    assert sweep.main(["setup", "--sample", "2"]) == 2
    assert "--sample draws from the --grid values" in capsys.readouterr().err


# --- sweeps --------------------------------------------------------------------------------------


def test_explore_lets_values_out_of_range_through_and_says_which(tmp_path):
    combos = [{"n": 0}, {"n": 12}, {"n": 201}]
    outside = sweep.check_combinations("setup", combos, explore=True)
    assert outside[1] is None
    assert outside[0].startswith(
        "parameter out of range: n = 0 must be 1..200"
    )
    assert outside[2].startswith("parameter out of range: n = 201 must be")
    # an unknown name is still refused, explore or not
    with pytest.raises(SweepError, match="setup has no parameter 'nn'"):
        sweep.check_combinations("setup", [{"nn": 1}], explore=True)


def spec_toy(directory: Path) -> Path:
    """A chapter with one knob n in 1..3 and one claim that n is in 1..3."""
    new = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [
        new("n = 2  # 1..3", metadata={"tags": ["parameters"]}),
        new(
            "from dlnlib.ranges import Spec, integer\n\n"
            "Spec(n=integer(1, 3)).check(globals())"
        ),
        new(
            "from dlnlib import book\n\n"
            'claims = book.Claims("toy")\n'
            'claims.check("n = {n} is in 1..3", 1 <= n <= 3, n=n)\n'
            "claims.ledger()"
        ),
    ]
    directory.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, directory / "spec_toy.ipynb")
    return directory


@pytest.mark.parametrize("explore", [False, True])
def test_a_run_outside_the_ranges_is_refused_or_explored(tmp_path, explore):
    chapters = spec_toy(tmp_path / "chapters")
    notebook = nbformat.read(chapters / "spec_toy.ipynb", as_version=4)
    row = sweep._run(
        {
            "chapter": "spec_toy",
            "key": run_key("spec_toy", {"n": 5}),
            "params": {"n": 5},
            "attempt": 1,
            "notebook": nbformat.writes(sweep.inject(notebook, {"n": 5})),
            "siblings": {},
            "timeout": HANG,
            "commit": None,
            "explore": explore,
        }
    )
    if explore:  # the chapter ran on, and its claim failed at n = 5
        assert row["status"] == "claim-failed", row
        assert row["claims_failed"] == 1 and row["error"] is None
    else:
        assert row["status"] == "error", row
        assert row["error"].startswith(
            "ValueError: parameter out of range: n = 5 must be 1..3"
        ), row


def setup_with_a_breakable_claim(directory: Path) -> Path:
    """chapters/setup.ipynb with a knob break_fd that, after the range checks, sets fd_rtol = 1e-30."""
    nb = nbformat.read(ROOT / "chapters" / "setup.ipynb", as_version=4)
    code = [k for k, c in enumerate(nb.cells) if c.cell_type == "code"]
    params, checks = code[1], code[2]  # code[0] is the install cell
    nb.cells[
        params
    ].source += "\nbreak_fd = False  # test: tighten fd_rtol to 1e-30"
    nb.cells.insert(
        checks + 1,
        nbformat.v4.new_code_cell("if break_fd:\n    fd_rtol = 1e-30"),
    )
    directory.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, directory / "setup.ipynb")
    return directory


def test_local_cluster_sweep_records_every_claim_and_resumes(tmp_path):
    out = tmp_path / "sweeps" / "setup.parquet"
    log = tmp_path / "progress.txt"
    chapters = setup_with_a_breakable_claim(tmp_path / "chapters")
    combos = [BREAKS_FD, HOLDS]
    with open(log, "w") as stream:
        rows = run_sweep(
            "setup",
            combos,
            out,
            n_workers=2,
            timeout=HANG,
            chapters_dir=chapters,
            log=stream,
        )
    assert len(rows) == 2
    table = pd.read_parquet(out)
    assert COLUMNS <= set(table.columns)
    assert {"param_seed", "param_dims", "param_break_fd"} <= set(table.columns)
    assert len(table) == 2  # one row per run
    defaults = sweep.chapter_defaults("setup", chapters)
    assert sorted(table.key) == sorted(
        run_key("setup", c, defaults) for c in combos
    )
    assert (table.chapter == "setup").all() and (table.attempt == 1).all()
    assert table.final.all() and table.error.isna().all()
    assert (table.seconds > 0).all() and table.worker.str.startswith(
        "tcp://"
    ).all()
    assert sorted(table.param_break_fd) == ["false", "true"]  # as JSON
    assert set(table.param_dims) == {"[8, 8, 8, 8]"}
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert all(c.startswith(head) for c in table.commit)

    by_knob = {
        json.loads(p)["break_fd"]: r
        for p, r in zip(table.params, table.itertuples())
    }
    broken, fine = by_knob[True], by_knob[False]
    assert json.loads(broken.params) == {**BREAKS_FD, "dims": [8, 8, 8, 8]}
    assert broken.status == "claim-failed" and fine.status == "ok"
    for row in (broken, fine):
        claims = json.loads(row.claims)
        assert len(claims) == row.claims_held + row.claims_failed >= 10
        assert all({"claim", "held", "numbers"} <= set(c) for c in claims)
        glue = json.loads(row.glue)
        assert isinstance(glue["setup_fd_err"], float)
        assert isinstance(glue["setup_R"], float)
    failed = [c for c in json.loads(broken.claims) if not c["held"]]
    assert broken.claims_failed == 1 and len(failed) == 1
    assert failed[0]["claim"].startswith("finite differences match")
    numbers = failed[0]["numbers"]
    # 1e-30 and the error both print below the floor of the text, "< 1e-12"
    assert numbers["fd_rtol"] == "< 1e-12"
    assert json.loads(broken.glue)["setup_fd_err"] > 0
    assert fine.claims_failed == 0
    # the same claims, one verdict apart
    assert [c["claim"][:30] for c in json.loads(broken.claims)] == [
        c["claim"][:30] for c in json.loads(fine.claims)
    ]
    progress = log.read_text()
    assert "2 runs on a LocalCluster of 2 workers" in progress
    assert "[2/2 done, 0 running, 0 failed, 1 with a failed claim" in progress

    # resume: every run is recorded, nothing runs, the file is untouched
    before = out.read_bytes()
    with open(log, "w") as stream:
        assert (
            run_sweep(
                "setup",
                [HOLDS, BREAKS_FD],
                out,
                chapters_dir=chapters,
                log=stream,
            )
            == []
        )
    assert out.read_bytes() == before
    assert "nothing to run, all 2 runs are recorded" in log.read_text()


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    ) as c:
        yield c


def test_timeout_is_recorded_and_retried_once(tmp_path, cluster):
    chapters = write_toy(tmp_path / "chapters")
    pids = tmp_path / "pids.txt"
    out = tmp_path / "toy.parquet"
    combo = {"mode": "sleep", "pid_file": str(pids)}
    with open(tmp_path / "log.txt", "w") as log:
        rows = run_sweep(
            "toy",
            [combo],
            out,
            scheduler=cluster.scheduler_address,
            timeout=3,
            chapters_dir=chapters,
            log=log,
        )
    assert [(r["status"], r["attempt"], r["final"]) for r in rows] == [
        ("timeout", 1, False),
        ("timeout", 2, True),
    ]
    table = pd.read_parquet(out)
    assert table.status.tolist() == ["timeout", "timeout"]
    assert table.error.tolist() == ["timed out after 3 s"] * 2
    assert table.key.nunique() == 1
    # the kernels that got as far as writing their pid were stopped with them
    kernel_pids = pids.read_text().split() if pids.exists() else []
    assert len(kernel_pids) <= 2
    assert_gone([int(p) for p in kernel_pids])
    # a settled run is not retried again
    with open(tmp_path / "log.txt", "w") as log:
        assert (
            run_sweep("toy", [combo], out, chapters_dir=chapters, log=log)
            == []
        )


def test_dead_kernel_is_recorded_and_retried_once(tmp_path, cluster):
    chapters = write_toy(tmp_path / "chapters")
    out = tmp_path / "toy.parquet"
    combos = [{"mode": "die"}, {"mode": "ok"}]
    with open(tmp_path / "log.txt", "w") as log:
        rows = run_sweep(
            "toy",
            combos,
            out,
            scheduler=cluster.scheduler_address,
            timeout=HANG,
            chapters_dir=chapters,
            log=log,
        )
    died = [r for r in rows if json.loads(r["params"]) == {"mode": "die"}]
    assert [(r["status"], r["attempt"]) for r in died] == [
        ("killed", 1),
        ("killed", 2),
    ]
    assert all(r["error"].startswith("DeadKernelError") for r in died)
    assert all(r["claims"] is None for r in died)
    (fine,) = [r for r in rows if json.loads(r["params"]) == {"mode": "ok"}]
    assert fine["status"] == "ok" and fine["attempt"] == 1
    assert json.loads(fine["claims"]) == [
        {"claim": "the mode is ok", "held": True, "numbers": {"mode": "ok"}}
    ]
    assert len(pd.read_parquet(out)) == 3


@pytest.fixture(scope="module")
def dask_cli():
    """A scheduler and a worker (with its nanny) started with the dask CLIs."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = []
    with tempfile.TemporaryFile("w+") as logs:
        try:
            for args in (
                ["scheduler", "--port", str(port)],
                ["worker", address, "--nworkers", "1", "--nthreads", "1"],
            ):
                procs.append(
                    subprocess.Popen(
                        [BIN / "dask", *args, "--host", "127.0.0.1"]
                        + ["--no-dashboard"],
                        stdout=logs,
                        stderr=logs,
                    )
                )
            yield address
        finally:
            for proc in reversed(procs):
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def test_sweep_on_a_scheduler_and_worker_started_here(tmp_path, dask_cli):
    out = tmp_path / "setup.parquet"
    with open(tmp_path / "log.txt", "w") as log:
        rows = run_sweep(
            "setup",
            [{"seed": 1, "n": 1}],
            out,
            scheduler=dask_cli,
            timeout=HANG,
            connect_timeout=120,
            log=log,
        )
    assert [(r["status"], r["attempt"]) for r in rows] == [("ok", 1)]
    table = pd.read_parquet(out)
    assert len(table) == 1 and table.param_n.tolist() == [1.0]
    assert table.claims_held[0] >= 10 and table.claims_failed[0] == 0
    assert (
        f"1 runs on the scheduler at {dask_cli}"
        in (tmp_path / "log.txt").read_text()
    )


def test_a_run_whose_worker_is_killed_is_retried_and_recorded(
    tmp_path, dask_cli
):
    """The worker dies while its kernel sleeps; Dask reruns the run elsewhere."""
    from distributed import Client

    chapters = write_toy(tmp_path / "chapters")
    out, marker, pids = (
        tmp_path / "toy.parquet",
        tmp_path / "marker",
        tmp_path / "pids",
    )
    combo = {
        "mode": "sleep-once",
        "marker": str(marker),
        "pid_file": str(pids),
    }
    outcome = {}

    def sweep_in_thread():
        try:
            with open(tmp_path / "log.txt", "w") as log:
                outcome["rows"] = run_sweep(
                    "toy",
                    [combo],
                    out,
                    scheduler=dask_cli,
                    timeout=HANG,
                    chapters_dir=chapters,
                    connect_timeout=120,
                    log=log,
                )
        except BaseException as exc:  # re-raised in the test's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=sweep_in_thread)
    thread.start()
    deadline = time.monotonic() + HANG
    while not marker.exists() and thread.is_alive():
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.2)
    with Client(dask_cli, timeout=120) as client:
        ((worker, pid),) = client.run(os.getpid).items()
    sleeping = psutil.Process(pid).children(recursive=True)
    assert any(p.pid == int(pids.read_text()) for p in sleeping)
    os.kill(pid, signal.SIGKILL)
    thread.join(HANG)
    assert not thread.is_alive()
    if "error" in outcome:
        raise outcome["error"]
    (row,) = outcome["rows"]
    assert (row["status"], row["attempt"], row["final"]) == ("ok", 1, True)
    assert row["worker"] != worker  # the restarted worker ran it again
    assert json.loads(row["claims"])[0]["claim"] == "the mode is sleep-once"
    assert len(pd.read_parquet(out)) == 1
    assert len(pids.read_text().split()) == 2  # two kernels: two executions
    # the killed worker's papermill child and its sleeping kernel died with it
    assert_gone([p.pid for p in sleeping])
