"""Sweep records read against the documented ranges: where each claim held.

A sweep (:mod:`dlnlib.sweep`) records every run of a chapter in
``sweeps/<chapter>.parquet``: the values set, the status and, from the claims
ledger, every claim with its verdict. This module reads those records back
for the page "Where the claims hold": which runs lie inside the documented
ranges (the chapter's :class:`dlnlib.ranges.Spec` accepts their values), the
verdict of one claim in every run, and a map of those verdicts over two
parameters.

A claim is found in a run's ledger by the start of its text (the words before
its first measured number, e.g. ``"label noise ends closer in"``), so one
name matches the same claim in every run whatever numbers it measured.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = [
    "VERDICTS",
    "claim_numbers",
    "claim_verdicts",
    "draw_claim_map",
    "read_runs",
    "recorded",
    "unrecorded_ends",
]

ROOT = Path(__file__).resolve().parents[1]

#: The verdicts of a claim in one run, in the order the maps draw them.
VERDICTS = ("held", "failed", "crashed", "absent")


def recorded(directory=None) -> tuple[str, ...]:
    """The chapters with a sweep record, ``sweeps/<chapter>.parquet``, sorted.

    Parameters
    ----------
    directory : path-like, optional
        Where the records are, default ``sweeps/`` of this checkout.
    """
    folder = Path(directory or ROOT / "sweeps")
    return tuple(sorted(p.stem for p in folder.glob("*.parquet")))


def unrecorded_ends(chapter: str, directory=None, chapters_dir=None) -> list:
    """The runs of ``--edges`` that a chapter's record does not hold yet.

    ``--edges`` runs the chapter at its defaults and with each knob at each
    end of its documented range (:meth:`dlnlib.ranges.Spec.edges`).

    Parameters
    ----------
    chapter : str
    directory, chapters_dir : path-like, optional
        As for :func:`read_runs`.

    Returns
    -------
    list of dict
        The values of each such run without a settled record (all of them
        when the chapter has no record).
    """
    from dlnlib import sweep

    spec, defaults = sweep.chapter_spec(chapter, chapters_dir)
    wanted = [{}, *spec.edges(defaults)]
    if chapter not in recorded(directory):
        return wanted
    have = set(read_runs(chapter, directory, chapters_dir).index)
    return [
        p for p in wanted if sweep.run_key(chapter, p, defaults) not in have
    ]


def _int_keys(value):
    """Undo JSON's string keys: ``{"2": ...}`` back to ``{2: ...}``, at any depth.

    A dict knob keyed by depth (``steps_by_depth = {2: 50_000, ...}``) is
    recorded as JSON, whose keys are strings; the parameters cell's spec
    reads integer keys. Top-level names are identifiers and stay as they are.
    """
    if isinstance(value, dict):
        return {
            int(k) if isinstance(k, str) and k.lstrip("-").isdigit() else k: (
                _int_keys(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_int_keys(v) for v in value]
    return value


def read_runs(chapter: str, directory=None, chapters_dir=None):
    """The settled runs of a chapter's sweep record, with their place in the ranges.

    Parameters
    ----------
    chapter : str
        The chapter's name, e.g. ``"experiments"``.
    directory : path-like, optional
        Where the records are, default ``sweeps/`` of this checkout.
    chapters_dir : path-like, optional
        Where the notebooks are (for the spec and the defaults), default
        ``chapters/``.

    Returns
    -------
    pandas.DataFrame
        One row per settled run (the last attempt of each; of two runs
        that resolve to the same values, the one recorded later in the
        file), indexed by the run's
        key (:func:`dlnlib.sweep.run_key` of the values that differ from
        today's defaults), with columns ``params`` (dict: the values set),
        ``values`` (dict: every knob, the defaults filled in), ``outside``
        (the spec's refusal of ``values``, missing inside the ranges),
        ``inside`` (bool: the spec accepts ``values``),
        ``status``, ``error``, ``claims`` (list of ``{"claim", "held",
        "numbers"}``, empty without a ledger) and ``seconds``; the
        chapter's defaults in ``attrs["defaults"]``.

    Notes
    -----
    A record holds the values a run *set*; the others are read from the
    chapter as it is now. A record made before its chapter's defaults or
    ranges changed is therefore read against today's chapter: sweep again
    (or delete the record) after such a change.

    Raises
    ------
    FileNotFoundError
        When the chapter has no record.
    ValueError
        When the record holds another chapter's runs.
    """
    import pandas as pd

    from dlnlib import sweep

    path = Path(directory or ROOT / "sweeps") / f"{chapter}.parquet"
    if not path.is_file():
        raise FileNotFoundError(
            f"{chapter} has no sweep record at {path}; run `make sweep"
            f" CHAPTER={chapter} ARGS=--edges`"
        )
    table = pd.read_parquet(path)
    others = sorted(set(table["chapter"]) - {chapter})
    if others:
        raise ValueError(f"{path} holds runs of {others}, not only {chapter}")
    spec, defaults = sweep.chapter_spec(chapter, chapters_dir)
    table = table.assign(
        key=[
            sweep.run_key(chapter, json.loads(p), defaults)
            for p in table["params"]
        ]
    )
    final = (
        table[table["final"]]
        .sort_values("attempt", kind="stable")
        .drop_duplicates("key", keep="last")
    )
    rows = []
    for _, run in final.iterrows():
        params = _int_keys(json.loads(run["params"]))
        values = {**defaults, **params}
        outside = spec.violation(values)
        rows.append(
            {
                "key": run["key"],
                "params": params,
                "values": values,
                "outside": outside,
                "inside": outside is None,
                "status": run["status"],
                "error": run["error"],
                "claims": json.loads(run["claims"])
                if isinstance(run["claims"], str)
                else [],
                "seconds": run["seconds"],
            }
        )
    columns = [
        "key",
        "params",
        "values",
        "outside",
        "inside",
        "status",
        "error",
    ]
    runs = pd.DataFrame(rows, columns=[*columns, "claims", "seconds"])
    runs = runs.set_index("key")
    runs.attrs["defaults"] = defaults
    return runs


def _the_claim(key, run, claim: str) -> dict | None:
    """The one claim of a run's ledger whose text starts with ``claim``, if any."""
    found = [c for c in run["claims"] if c["claim"].startswith(claim)]
    if len(found) > 1:
        raise ValueError(
            f"{len(found)} claims of run {key} start with {claim!r}; give"
            " more of the text"
        )
    return found[0] if found else None


def claim_verdicts(runs, claim: str):
    """The verdict of one claim in every run.

    Parameters
    ----------
    runs : pandas.DataFrame
        From :func:`read_runs`.
    claim : str
        The start of the claim's text, as the ledger writes it.

    Returns
    -------
    pandas.Series
        Per run (same index): ``"held"`` or ``"failed"`` as its ledger says,
        ``"crashed"`` when the run stopped before its ledger (an error, a
        timeout, a killed kernel) or ``"absent"`` when its ledger has no claim
        starting so (e.g. a section the values switched off).

    Raises
    ------
    ValueError
        When no run at all has the claim (a misspelt start), or one ledger
        has two claims starting so (the start does not name one claim).
    """
    import pandas as pd

    verdicts = {}
    for key, run in runs.iterrows():
        found = _the_claim(key, run, claim)
        if found:
            verdicts[key] = "held" if found["held"] else "failed"
        elif run["status"] in ("ok", "claim-failed"):
            verdicts[key] = "absent"
        else:
            verdicts[key] = "crashed"
    verdicts = pd.Series(verdicts, dtype=object).reindex(runs.index)
    if not verdicts.isin(["held", "failed"]).any():
        raise ValueError(f"no recorded run has a claim starting {claim!r}")
    return verdicts


def claim_numbers(runs, claim: str, name: str):
    """One measured number of one claim in every run, as its ledger wrote it.

    Parameters
    ----------
    runs : pandas.DataFrame
        From :func:`read_runs`.
    claim : str
        The start of the claim's text.
    name : str
        The number's name in the claim's ``numbers``.

    Returns
    -------
    pandas.Series
        Per run (same index), the number's text, or ``None`` where the run
        has no such claim.

    Raises
    ------
    KeyError
        When a run's claim has no number ``name``.
    ValueError
        When one ledger has two claims starting so.
    """
    import pandas as pd

    found = {}
    for key, run in runs.iterrows():
        c = _the_claim(key, run, claim)
        if c:
            if name not in c["numbers"]:
                raise KeyError(
                    f"the claim {claim!r} of run {key} has no number"
                    f" {name!r}; it has {sorted(c['numbers'])}"
                )
            found[key] = c["numbers"][name]
    return pd.Series(found, dtype=object).reindex(runs.index)


def _place(value) -> str:
    """Where a value sits on a map's axis: a number by its value, the rest by JSON."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    return json.dumps(value)


def _same(a, b) -> bool:
    """Equal as the records store them: numbers by value, the rest as JSON."""
    return _place(a) == _place(b)


def _axis(values) -> tuple[dict, list, list[str]]:
    """Where each distinct value sits on an axis, the ticks and their labels.

    Numbers sit at their value; anything else (a list, a string) at 0, 1, ...
    in order: by value where Python orders the values (lists of numbers
    element by element, so ``[2]`` comes before ``[12]``), else by JSON text.
    """
    distinct = {json.dumps(v): v for v in values}
    numeric = all(
        isinstance(v, (int, float)) and not isinstance(v, bool)
        for v in distinct.values()
    )
    if numeric:
        order = sorted(distinct, key=distinct.get)
        ticks = [distinct[t] for t in order]
        return dict(zip(order, ticks)), ticks, [f"{v:g}" for v in ticks]
    try:  # as read back from JSON: a tuple default and a recorded list compare
        order = sorted(distinct, key=json.loads)
    except TypeError:  # values Python does not order (dicts, mixed types)
        order = sorted(distinct)
    ticks = list(range(len(order)))
    return dict(zip(order, ticks)), ticks, order


_STYLE = {
    "held": dict(marker="o", color="#2a7f3f"),
    "failed": dict(marker="X", color="#c0392b"),
    "crashed": dict(marker="s", color="#222222"),
    "absent": dict(marker="d", color="#999999"),
}


def _mark(ax, at, verdict: str, inside: bool) -> None:
    style = _STYLE[verdict]
    ax.scatter(
        *at,
        s=90,
        marker=style["marker"],
        facecolors=style["color"] if inside else "none",
        edgecolors=style["color"],
        linewidths=1.6,
        zorder=3,
    )


def _finish(ax, x, y, x_ticks, x_labels, y_ticks, y_labels, drawn, legend):
    """Ticks at the values recorded, the knobs' names, and the legend of what was drawn."""
    ax.margins(x=0.12, y=0.15)  # room for the notes beside the marks
    ax.set_xticks(x_ticks, x_labels)
    ax.set_yticks(y_ticks, y_labels)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if legend:
        from matplotlib.lines import Line2D

        def mark(verdict, filled, label):
            style = _STYLE[verdict]
            return Line2D(
                [], [], ls="", marker=style["marker"], ms=8, mew=1.6,
                color=style["color"],
                mfc=style["color"] if filled else "none", label=label,
            )  # fmt: skip

        handles = [
            mark(v, side, f"{v}, {'inside' if side else 'outside'} the ranges")
            for v in VERDICTS
            for side in (True, False)
            if (v, side) in drawn
        ]
        ax.legend(
            handles=handles,
            fontsize=7,
            loc="center left",
            bbox_to_anchor=(1.02, 0.5),
            frameon=False,
        )


def draw_claim_map(
    ax,
    runs,
    verdicts,
    x: str,
    y: str,
    others=None,
    legend: bool = True,
    notes=None,
    across: str | None = None,
):
    """Draw one claim's verdicts over two parameters.

    Each run is a mark at its values of ``x`` and ``y`` (numbers at their
    value, other values in order, ticks at the values recorded): a green disc where the
    claim held, a red cross where it failed, a black square where the run
    crashed, a grey diamond where the claim was absent. A mark is filled
    inside the documented ranges and hollow outside them.

    With ``across`` (e.g. ``"seed"``), the runs that differ only in that
    knob share one mark: a red cross if the claim failed in any of them,
    else a black square if any crashed, a grey diamond if it was absent in
    any, a green disc if it held in all; beside the mark, how many of them
    it held in (``"3/3"``).

    Parameters
    ----------
    ax : matplotlib Axes
    runs : pandas.DataFrame
        From :func:`read_runs`.
    verdicts : pandas.Series
        From :func:`claim_verdicts` of these runs.
    x, y : str
        The two knobs.
    others : dict, optional
        Values of other knobs: only the runs whose every knob but ``x`` and
        ``y`` has these values or, for knobs not named here, its default.
    legend : bool, optional
        Add a legend, right of the axes, of the verdicts drawn and of filled
        (inside) and hollow (outside) marks.
    notes : pandas.Series, optional
        A text per run (e.g. from :func:`dlnlib.records.claim_numbers`), written
        beside its mark; not with ``across``.
    across : str, optional
        A knob whose values share a mark (any value, not only its default).

    Returns
    -------
    pandas.DataFrame
        The runs drawn (rows of ``runs``) with a column ``verdict``, each
        run's own.

    Raises
    ------
    ValueError
        When no run varies only ``x`` and ``y`` (and ``across``, with
        ``others``), two runs sit at the same place (one would hide the
        other; with ``across``: two with the same value of it), or
        ``across`` is ``x``, ``y``, in ``others``, or given with ``notes``.
    """
    if across is not None and (across in (x, y) or across in (others or {})):
        raise ValueError(
            f"across={across!r} must be another knob than x, y and others"
        )
    if across is not None and notes is not None:
        raise ValueError(
            "notes are per run: not with across (it counts the runs)"
        )
    others = dict(others or {})
    base = {**runs.attrs.get("defaults", {}), **others}
    keep = [
        key
        for key, run in runs.iterrows()
        if all(
            _same(run["values"][k], v)
            for k, v in base.items()
            if k not in (x, y, across)
        )
    ]
    if not keep:
        raise ValueError(f"no recorded run varies {x} and {y} alone")
    chosen = runs.loc[keep]
    where = [
        (_place(v[x]), _place(v[y]))
        + (() if across is None else (_place(v[across]),))
        for v in chosen["values"]
    ]
    twice = {p for p in where if where.count(p) > 1}
    if twice:
        named = f"{x}, {y}" + ("" if across is None else f", {across}")
        raise ValueError(
            f"several recorded runs at the same {named}: {sorted(twice)}"
        )
    xs, x_ticks, x_labels = _axis(v[x] for v in chosen["values"])
    ys, y_ticks, y_labels = _axis(v[y] for v in chosen["values"])
    places: dict = {}  # one mark per run, or per place with across
    for key, v in chosen["values"].items():
        at = (xs[json.dumps(v[x])], ys[json.dumps(v[y])])
        places.setdefault(key if across is None else at, (at, []))[1].append(
            key
        )
    drawn = set()
    for at, keys in places.values():
        kinds = {verdicts[k] for k in keys}
        verdict = next(
            v for v in ("failed", "crashed", "absent", "held") if v in kinds
        )
        inside = bool(chosen.loc[keys, "inside"].all())
        _mark(ax, at, verdict, inside)
        drawn.add((verdict, inside))
        if across is not None:
            held = sum(verdicts[k] == "held" for k in keys)
            note = f"{held}/{len(keys)}"
        else:
            note = None if notes is None else notes.get(keys[0])
        if isinstance(note, str):
            ax.annotate(
                note, at, xytext=(7, 5), textcoords="offset points", fontsize=7
            )
    _finish(ax, x, y, x_ticks, x_labels, y_ticks, y_labels, drawn, legend)
    return chosen.assign(verdict=verdicts[chosen.index])
