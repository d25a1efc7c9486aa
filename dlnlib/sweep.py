"""Parameter sweeps: one chapter run over many parameter values, in parallel on Dask.

A sweep runs one chapter notebook (``chapters/<chapter>.ipynb``) once per
combination of parameter values, with papermill, on Dask distributed (a
``LocalCluster`` of one single-threaded worker process per core, or any
running scheduler given by its address), and records every run in one Parquet
file per chapter, by default ``sweeps/<chapter>.parquet``. From the command
line::

    python -m dlnlib.sweep setup --grid seed=0,1,2 --grid n=1,200
    python -m dlnlib.sweep setup --grid seed=0,1,2,3 --grid n=1,12,200 --sample 5
    make sweep CHAPTER=setup ARGS="--grid seed=0,1,2 --grid n=1,200"

How a run is made
    The values of a combination are written, one ``name = value`` line each,
    into a new cell tagged ``injected-parameters`` right after the cell tagged
    ``parameters`` (papermill's convention; the values are written as Python
    literals, so tuples and dictionaries with integer keys survive). The
    notebook is executed by papermill in a fresh temporary directory
    ``<tmp>/chapters/`` (the other files of the chapters directory beside it,
    the working directory set there), in a child process of the Dask worker,
    with the claims in reader mode (``DLNLIB_CLAIMS=reader``): a claim that
    fails is recorded in the claims ledger and the chapter goes on, so every
    claim gets a verdict. The committed notebooks are never written.

Before any run
    The sweep refuses, with a :class:`SweepError` naming what is wrong, an
    unknown chapter, a parameter name that is not a top-level assignment of
    the parameters cell (:func:`knobs`), a combination that the chapter's
    range checks refuse (:func:`check_combinations` executes the parameters
    cell, the injected values and the next code cell, which holds the
    chapter's range checks, a :class:`dlnlib.ranges.Spec` and its
    ``spec.check(globals())``, for every combination) and a scheduler that
    cannot be reached or has no worker. With ``--explore`` the values
    out of range are run too (``DLNLIB_RANGES=explore``: the chapter prints
    that they are outside and runs on), to map where the claims stop holding;
    a record's run is outside when the chapter's spec refuses its values. :func:`chapter_spec` gives that spec
    and the defaults, e.g. to sweep every knob to the ends of its range
    (:meth:`dlnlib.ranges.Spec.edges`).

The record (one row per attempt of a run)
    ======================  ===================================================
    ``chapter``             the chapter's name (``setup``)
    ``key``                 :func:`run_key` of the chapter and the values
                            that differ from its defaults (made again from
                            ``params`` when the record is read)
    ``params``              the values set, a JSON object (tuples as lists)
    ``param_<name>``        one column per parameter set in the file: float64
                            when every recorded value is a number, else the
                            value as JSON text; null where a run left it at
                            the chapter's default
    ``status``              ``ok`` (every claim held), ``claim-failed`` (the
                            chapter ran through, a claim failed), ``error`` (a
                            cell raised), ``timeout`` (stopped after
                            ``timeout`` seconds) or ``killed`` (the kernel or
                            the run's process died)
    ``error``               the last line of the traceback, e.g.
                            ``ValueError: parameter out of range: ...``; null
                            when the chapter ran through
    ``claims``              the ledger's records, a JSON list of
                            ``{"claim": MyST text, "held": bool, "numbers":
                            {name: text}}``; null when no ledger was shown
                            (and after a timeout or a killed process, whose
                            notebook may be half written)
    ``claims_held``,        how many claims held and failed (null without a
    ``claims_failed``       ledger)
    ``glue``                the glued numbers, a JSON object ``name -> value``
                            (a number, or the text when it is no literal);
                            empty after a timeout or a killed process
    ``seconds``             wall time of the attempt
    ``attempt``             1, or 2 for the retry of a run that timed out or
                            whose kernel died
    ``final``               whether the run is settled: its status is ``ok``,
                            ``claim-failed`` or ``error``, or it is a second
                            attempt
    ``started``             when the attempt started (UTC)
    ``worker``              the Dask worker's address
    ``commit``              ``git rev-parse HEAD`` of the checkout the sweep
                            was started from, ``+dirty`` when ``dlnlib/`` or
                            the chapter differ from it; null outside a git
                            checkout
    ======================  ===================================================

    After every finished attempt the whole file is written to a temporary
    file beside it and moved over it (``os.replace``), so a sweep stopped at
    any moment (Ctrl-C, a kill) keeps every run it recorded. Read it with
    ``pandas.read_parquet`` (``json.loads`` the JSON columns).

Resuming
    Runs whose key has a final row in the file are skipped; a run recorded
    only with a first attempt that timed out or died is started again as its
    second attempt. A run whose Dask worker died is rescheduled by Dask on
    another worker (up to ``distributed.scheduler.allowed-failures`` times);
    when Dask gives it up (``KilledWorker``) it is recorded as ``killed`` and
    retried once like a dead kernel.

Progress
    One line on stderr per finished attempt: runs done out of the total,
    running, failed (settled as ``error``, ``timeout`` or ``killed``) and
    with a failed claim, an estimate of the time left (the elapsed time per
    settled run times the runs left), and the attempt's status, values, wall
    time and error.
"""

from __future__ import annotations

import argparse
import ast
import copy
import datetime
import hashlib
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from dlnlib.ranges import PREFIX

__all__ = [
    "GLUE_MIME",
    "LEDGER_MIME",
    "STATUSES",
    "SweepError",
    "check_combinations",
    "chapter_cells",
    "chapter_defaults",
    "chapter_spec",
    "grid",
    "inject",
    "knobs",
    "main",
    "parse_grid",
    "plan",
    "resolved",
    "run_key",
    "run_sweep",
    "sample",
]

ROOT = Path(__file__).resolve().parents[1]
#: Where the chapter notebooks are, by default.
CHAPTERS = ROOT / "chapters"
#: The MIME type under which :meth:`dlnlib.book.Claims.ledger` carries its records.
LEDGER_MIME = "application/vnd.dlnlib.ledger+json"
#: The MIME type of a glued value's text (myst-nb's ``glue``).
GLUE_MIME = "application/papermill.record/text/plain"
#: Every status a run may have.
STATUSES = ("ok", "claim-failed", "error", "timeout", "killed")
#: The statuses that end a run at its first attempt (the others are retried once).
SETTLED = ("ok", "claim-failed", "error")


class SweepError(ValueError):
    """Bad input to a sweep, found before any run starts."""


# --- the chapter's parameters --------------------------------------------------------------------


def knobs(source: str) -> list[str]:
    """The names a parameters cell assigns at its top level, in order.

    Parameters
    ----------
    source : str
        The source of a cell tagged ``parameters``.

    Returns
    -------
    list of str
        Every name bound by a top-level ``name = ...``, ``a, b = ...`` or
        ``name: type = ...`` statement, once each.

    Raises
    ------
    SyntaxError
        When ``source`` is not Python.

    Examples
    --------
    >>> knobs("seed = 0  # any integer\\nd0, dL = 4, 3\\nrate: float = 0.1\\nprint(seed)")
    ['seed', 'd0', 'dL', 'rate']
    """
    names: list[str] = []

    def add(target) -> None:
        if isinstance(target, ast.Name):
            if target.id not in names:
                names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                add(element)
        elif isinstance(target, ast.Starred):
            add(target.value)

    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                add(target)
        elif isinstance(node, ast.AnnAssign):
            add(node.target)
    return names


def _chapter_path(chapter: str, chapters_dir: Path) -> Path:
    path = Path(chapters_dir) / f"{chapter}.ipynb"
    if not path.is_file():
        known = sorted(p.stem for p in Path(chapters_dir).glob("*.ipynb"))
        raise SweepError(
            f"no such chapter: {chapter!r} (no {path}); the chapters are:"
            f" {', '.join(known) or 'none'}"
        )
    return path


def chapter_cells(notebook) -> tuple[int, str, str]:
    """Where a chapter's parameters cell is, its source and its range checks.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A chapter, read with ``nbformat.read(path, as_version=4)``.

    Returns
    -------
    index : int
        The position of the cell tagged ``parameters`` in ``notebook.cells``.
    parameters : str
        Its source.
    checks : str
        The source of the next code cell, which rejects values out of range
        (CONTRIBUTING.md's convention).

    Raises
    ------
    SweepError
        When no cell, or more than one, is tagged ``parameters``, or no code
        cell follows it.
    """
    tagged = [
        k
        for k, cell in enumerate(notebook.cells)
        if "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        raise SweepError(
            f"a chapter needs exactly one cell tagged 'parameters', found"
            f" {len(tagged)}"
        )
    index = tagged[0]
    after = [
        cell.source
        for cell in notebook.cells[index + 1 :]
        if cell.cell_type == "code"
    ]
    if not after:
        raise SweepError("no code cell follows the parameters cell")
    return index, notebook.cells[index].source, after[0]


def _run_parameters(parameters: str) -> tuple[dict, dict]:
    """Execute a parameters cell: its namespace and the value of each knob."""
    namespace = {"__name__": "__main__"}
    exec(compile(parameters, "<parameters cell>", "exec"), namespace)
    defaults = {
        name: copy.deepcopy(namespace[name]) for name in knobs(parameters)
    }
    return namespace, defaults


def chapter_defaults(chapter: str, chapters_dir=None) -> dict:
    """A chapter's defaults: every knob of its parameters cell and its value.

    Executes the parameters cell (only) in this process; ``chapter`` and
    ``chapters_dir`` as for :func:`chapter_spec`.

    Raises
    ------
    SweepError
        For an unknown chapter, or one without a single parameters cell.
    """
    import nbformat

    path = _chapter_path(chapter, Path(chapters_dir or CHAPTERS))
    _, parameters, _ = chapter_cells(nbformat.read(path, as_version=4))
    return _run_parameters(parameters)[1]


def chapter_spec(chapter: str, chapters_dir=None):
    """A chapter's parameter ranges (its :class:`~dlnlib.ranges.Spec`) and defaults.

    Executes, in this process, the parameters cell and the next code cell of
    the chapter (:func:`chapter_cells`), which makes ``spec`` and checks the
    defaults with it.

    Parameters
    ----------
    chapter : str
        The notebook's name without ``.ipynb``.
    chapters_dir : path-like, optional
        Default ``chapters/`` of this checkout.

    Returns
    -------
    spec : dlnlib.ranges.Spec
    defaults : dict
        Every name the parameters cell assigns (:func:`knobs`) and its value.

    Raises
    ------
    SweepError
        For an unknown chapter, or when the range checks make no ``spec``.
    """
    import nbformat

    from dlnlib.ranges import Spec

    path = _chapter_path(chapter, Path(chapters_dir or CHAPTERS))
    _, parameters, checks = chapter_cells(nbformat.read(path, as_version=4))
    namespace, defaults = _run_parameters(parameters)
    exec(compile(checks, "<range checks>", "exec"), namespace)
    spec = namespace.get("spec")
    if not isinstance(spec, Spec):
        raise SweepError(
            f"the range checks of {chapter} make no `spec` (dlnlib.ranges.Spec)"
        )
    return spec, defaults


def _literal(value) -> str:
    """``value`` as Python source; floats that are not finite included."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, (set, frozenset)):
        if not value:
            return "set()"
        return (
            "{" + ", ".join(_literal(v) for v in sorted(value, key=repr)) + "}"
        )
    if isinstance(value, dict):
        items = (f"{_literal(k)}: {_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return repr(value)


def _injected_source(params: dict) -> str:
    lines = ["# Parameters set by dlnlib.sweep"]
    lines += [f"{name} = {_literal(value)}" for name, value in params.items()]
    return "\n".join(lines) + "\n"


def inject(notebook, params: dict):
    """A copy of ``notebook`` with ``params`` set in a cell after its parameters cell.

    The new cell is tagged ``injected-parameters`` (papermill's convention)
    and assigns each value as a Python literal, so tuples, sets and
    dictionaries with integer keys keep their type.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
    params : dict
        ``{name: value}``, values that ``ast.literal_eval`` can produce.

    Returns
    -------
    nbformat.NotebookNode
        ``notebook`` itself is not modified.

    Raises
    ------
    SweepError
        As :func:`chapter_cells`.
    """
    import nbformat

    index, _, _ = chapter_cells(notebook)
    out = copy.deepcopy(notebook)
    cell = nbformat.v4.new_code_cell(
        _injected_source(params), metadata={"tags": ["injected-parameters"]}
    )
    out.cells.insert(index + 1, cell)
    return out


# --- the combinations ----------------------------------------------------------------------------


def parse_grid(options) -> dict[str, list]:
    """The values of ``--grid name=v1,v2,...`` options, each a Python literal.

    The text after ``=`` is read as the items of a Python list, so a value
    may be a tuple or a list (``dims=(4,5,3,2),(8,8,8,8)``); strings need
    quotes (``mode='fast','slow'``).

    Parameters
    ----------
    options : sequence of str

    Returns
    -------
    dict
        ``{name: [v1, v2, ...]}`` in the order given.

    Raises
    ------
    SweepError
        When an option has no ``=``, a value is not a literal, a name is given
        twice or has no value.

    Examples
    --------
    >>> parse_grid(["seed=0,1,2", "dims=(4,5,3,2),(8,8,8,8)", "fd_rtol=1e-6"])
    {'seed': [0, 1, 2], 'dims': [(4, 5, 3, 2), (8, 8, 8, 8)], 'fd_rtol': [1e-06]}
    """
    values: dict[str, list] = {}
    for option in options:
        name, sep, text = option.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise SweepError(
                f"--grid needs name=v1,v2,... (Python literals), got {option!r}"
            )
        if name in values:
            raise SweepError(f"--grid gives {name!r} twice")
        try:
            items = ast.literal_eval(f"[{text}]")
        except (ValueError, SyntaxError) as exc:
            raise SweepError(
                f"--grid {option!r}: the values must be Python literals"
                f" separated by commas (quote strings: 'a','b'): {exc}"
            ) from None
        if not items:
            raise SweepError(f"--grid {option!r} gives no value")
        values[name] = items
    return values


def grid(values: dict) -> list[dict]:
    """Every combination of the values: their cartesian product.

    Parameters
    ----------
    values : dict
        ``{name: [v1, v2, ...]}``.

    Returns
    -------
    list of dict
        ``prod(len(v))`` combinations, the last name varying fastest; one
        empty combination (the chapter's defaults) when ``values`` is empty.

    Examples
    --------
    >>> grid({"seed": [0, 1], "n": [1, 200]})
    [{'seed': 0, 'n': 1}, {'seed': 0, 'n': 200}, {'seed': 1, 'n': 1}, {'seed': 1, 'n': 200}]
    """
    names = list(values)
    return [
        dict(zip(names, combo))
        for combo in itertools.product(*(values[n] for n in names))
    ]


def sample(values: dict, k: int, seed: int = 0) -> list[dict]:
    """``k`` distinct combinations drawn at random from the grid of ``values``.

    Draws ``k`` indices without replacement from the ``prod(len(v))``
    combinations of :func:`grid` with ``numpy.random.default_rng(seed)``, so
    the same seed gives the same sample (with the pinned numpy), without
    building the grid.

    Parameters
    ----------
    values : dict
        ``{name: [v1, v2, ...]}``.
    k : int
        How many combinations, ``1 <= k <=`` the size of the grid.
    seed : int, optional

    Returns
    -------
    list of dict
        In the order drawn.

    Raises
    ------
    SweepError
        When ``k`` is out of range or the grid has ``2**63`` combinations or
        more.

    Examples
    --------
    >>> picks = sample({"seed": [0, 1, 2], "n": [1, 12, 200]}, 4, seed=1)
    >>> len(picks), all(p in grid({"seed": [0, 1, 2], "n": [1, 12, 200]}) for p in picks)
    (4, True)
    >>> picks == sample({"seed": [0, 1, 2], "n": [1, 12, 200]}, 4, seed=1)
    True
    """
    import numpy as np

    names = list(values)
    sizes = [len(values[n]) for n in names]
    total = math.prod(sizes)
    if not 1 <= k <= total:
        raise SweepError(
            f"--sample must be 1..{total} (the size of the grid), got {k}"
        )
    if total >= 2**63:
        raise SweepError(f"the grid has {total} combinations: too many")
    picks = []
    for index in np.random.default_rng(seed).choice(
        total, size=k, replace=False
    ):
        index, combo = int(index), {}
        for name, size in zip(reversed(names), reversed(sizes)):
            index, digit = divmod(index, size)
            combo[name] = values[name][digit]
        picks.append({n: combo[n] for n in names})
    return picks


def _json(value) -> str:
    """``value`` as the record stores it, JSON text with every dictionary sorted.

    Read back first, so that a dictionary's integer keys are sorted as the
    text they become (``{2: a, 10: b}`` and ``{"10": b, "2": a}`` give one
    text).
    """
    return json.dumps(json.loads(json.dumps(value)), sort_keys=True)


def resolved(params: dict, defaults: dict) -> dict:
    """The entries of ``params`` that differ from the chapter's ``defaults``.

    Two values are the same when their JSON texts are (:func:`run_key`):
    a knob set to its default value is dropped, as if it had not been set.

    Examples
    --------
    >>> resolved({"seed": 0, "n": 200, "dims": (4, 3)}, {"seed": 0, "n": 50, "dims": [4, 3]})
    {'n': 200}
    """
    return {
        k: v
        for k, v in params.items()
        if k not in defaults or _json(v) != _json(defaults[k])
    }


def run_key(chapter: str, params: dict, defaults: dict | None = None) -> str:
    """A stable key of a run: a hash of the chapter and the values it resolves to.

    ``sha256`` of ``chapter + "\\n" +`` the JSON text of ``params`` (names
    sorted), its first 16 hex digits. With ``defaults`` (the chapter's,
    :func:`chapter_defaults`), the entries equal to their default are left
    out first (:func:`resolved`), so a run that names a knob at its default
    value and a run that leaves it there share one key: a grid point that
    repeats the defaults, or an end of ``--edges``, runs once. The order of
    ``params`` does not matter; ``1`` and ``1.0`` are different runs; a
    tuple and a list, or a dictionary's integer keys and their text, are the
    same, as in the record's JSON.

    Examples
    --------
    >>> run_key("setup", {"seed": 0, "n": 1})
    'f7632f259f3a2c1b'
    >>> run_key("setup", {"n": 1, "seed": 0}) == run_key("setup", {"seed": 0, "n": 1})
    True
    >>> run_key("setup", {"seed": 0, "n": 1}, {"seed": 0, "n": 50}) == run_key("setup", {"n": 1})
    True
    """
    if defaults is not None:
        params = resolved(params, defaults)
    text = f"{chapter}\n{_json(params)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _describe(params: dict) -> str:
    return ", ".join(f"{k}={_literal(v)}" for k, v in params.items()) or (
        "(defaults)"
    )


# --- checks before any run -----------------------------------------------------------------------

_CHECK_SCRIPT = r"""
import contextlib, io, json, sys, traceback
job = json.load(sys.stdin)
refused = []
for index, injected in enumerate(job["injected"]):
    namespace = {"__name__": "__main__"}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(job["parameters"], "<parameters cell>", "exec"), namespace)
            exec(compile(injected, "<injected parameters>", "exec"), namespace)
            exec(compile(job["checks"], "<range checks>", "exec"), namespace)
    except Exception as exc:
        line = traceback.format_exception_only(type(exc), exc)[-1].strip()
        refused.append({"index": index, "error": line})
json.dump(refused, sys.stdout)
"""


def check_combinations(
    chapter: str,
    combos,
    chapters_dir=None,
    timeout: float = 600,
    *,
    explore: bool = False,
) -> list[str | None]:
    """Refuse, before any run, a combination the chapter would refuse.

    Checks that the chapter exists and that every name is a parameter of it
    (:func:`knobs`), then executes, in one child process (working directory
    the chapters directory, ``MPLBACKEND=Agg``), for every combination: the
    parameters cell, the values as :func:`inject` writes them, and the next
    code cell, which holds the chapter's range checks
    (``spec.check(globals())``, see :func:`chapter_spec`).

    Parameters
    ----------
    chapter : str
        The notebook's name without ``.ipynb``.
    combos : sequence of dict
        The combinations to check.
    chapters_dir : path-like, optional
        Default ``chapters/`` of this checkout.
    timeout : float, optional
        Seconds the child process may take (a guard against a hang).
    explore : bool, optional
        Let combinations outside the documented ranges through (they are run
        with ``DLNLIB_RANGES=explore``, see :func:`dlnlib.ranges.ranges_mode`);
        any other refusal of the checks cell still refuses.

    Returns
    -------
    list of str or None
        Per combination, the range check's refusal (``"parameter out of
        range: ..."``) when ``explore`` let it through, else ``None``.

    Raises
    ------
    SweepError
        For an unknown chapter or parameter, or when the range checks refuse a
        combination: the message names each refused combination and the
        exception's last line (``ValueError: parameter out of range: ...``).
    RuntimeError
        When the child process itself fails or hangs.
    """
    import nbformat

    chapters_dir = Path(chapters_dir or CHAPTERS)
    path = _chapter_path(chapter, chapters_dir)
    _, parameters, checks = chapter_cells(nbformat.read(path, as_version=4))
    known = knobs(parameters)
    unknown = sorted({n for c in combos for n in c} - set(known))
    if unknown:
        raise SweepError(
            f"{chapter} has no parameter {', '.join(map(repr, unknown))}; its"
            f" parameters are: {', '.join(known)}"
        )
    if not combos:
        return []
    job = {
        "parameters": parameters,
        "checks": checks,
        "injected": [_injected_source(c) for c in combos],
    }
    env = dict(
        os.environ,
        MPLBACKEND="Agg",
        DLNLIB_CLAIMS="reader",
        DLNLIB_RANGES="strict",  # a value out of range must raise here
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHECK_SCRIPT],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            cwd=chapters_dir,
            env=env,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"checking the values of {chapter} took more than {timeout:g} s"
        ) from None
    if done.returncode != 0:
        raise RuntimeError(
            f"checking the values of {chapter} failed:\n{done.stderr}"
        )
    refused = json.loads(done.stdout)
    outside: list[str | None] = [None] * len(combos)
    if explore:
        allowed = f"ValueError: {PREFIX}"
        for r in refused:
            if r["error"].startswith(allowed):
                outside[r["index"]] = r["error"].removeprefix("ValueError: ")
        refused = [r for r in refused if outside[r["index"]] is None]
    if refused:
        lines = [
            f"  {_describe(combos[r['index']])}: {r['error']}"
            for r in refused[:20]
        ]
        more = len(refused) - len(lines)
        raise SweepError(
            f"{chapter} refuses {len(refused)} of {len(combos)} combinations"
            " (no run was started):\n"
            + "\n".join(lines)
            + (f"\n  ... and {more} more" if more else "")
        )
    return outside


# --- one run, on a Dask worker -------------------------------------------------------------------


def _kill_tree(pid: int, include_root: bool = True) -> None:
    """SIGKILL a process's descendants (the papermill child, its kernel)."""
    import psutil

    try:
        root = psutil.Process(pid)
        victims = root.children(recursive=True)
    except psutil.NoSuchProcess:
        return
    if include_root:
        victims.append(root)
    for proc in victims:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(victims, timeout=10)


def _exit_with_parent() -> None:
    """Die, with the kernel, when the process that started us dies (a lost worker)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                _kill_tree(os.getpid(), include_root=False)
                os._exit(70)

    threading.Thread(target=watch, daemon=True).start()


def _execute_child() -> None:
    """Entry of the child process: execute one notebook in place with papermill.

    ``sys.argv[1:3]`` are the notebook and the file where the outcome is
    written as JSON: ``{"status": "done" | "error" | "killed", "error": ...}``.
    """
    notebook, outcome = sys.argv[1], sys.argv[2]
    _exit_with_parent()
    import nbclient.exceptions
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        pm.execute_notebook(
            notebook,
            notebook,
            cwd=str(Path(notebook).parent),
            kernel_name="python3",
            progress_bar=False,
        )
        result = {"status": "done", "error": None}
    except PapermillExecutionError as exc:
        result = {"status": "error", "error": f"{exc.ename}: {exc.evalue}"}
    except nbclient.exceptions.DeadKernelError as exc:
        result = {"status": "killed", "error": f"DeadKernelError: {exc}"}
    Path(f"{outcome}.tmp").write_text(json.dumps(result))
    os.replace(f"{outcome}.tmp", outcome)  # whole, or not there


def _glued_value(text: str):
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return text


def _read_outputs(path: Path) -> tuple[list | None, dict]:
    """The ledger's records (None when not shown) and the glued values."""
    import nbformat

    claims, glue = None, {}
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else ():
            data = out.get("data", {})
            if LEDGER_MIME in data:
                claims = data[LEDGER_MIME]["claims"]
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None and GLUE_MIME in data:
                glue[name] = _glued_value(data[GLUE_MIME])
    return claims, glue


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _run(job: dict) -> dict:
    """Execute one run (on a Dask worker) and return its record."""
    started = datetime.datetime.now(datetime.UTC)
    start = time.perf_counter()
    try:
        from distributed import get_worker

        worker = get_worker().address
    except ValueError:  # called outside a worker (tests of this function)
        worker = None
    status, error, claims, glue = "error", None, None, {}
    with tempfile.TemporaryDirectory(
        prefix=f"dln-sweep-{job['chapter']}-"
    ) as tmp:
        work = Path(tmp) / "chapters"
        work.mkdir()
        for name, data in job["siblings"].items():
            (work / name).write_bytes(data)
        notebook = work / f"{job['chapter']}.ipynb"
        notebook.write_text(job["notebook"])
        outcome, log = Path(tmp) / "outcome.json", Path(tmp) / "child.log"
        env = dict(
            os.environ,
            DLNLIB_CLAIMS="reader",
            DLNLIB_RANGES="explore" if job.get("explore") else "strict",
        )
        with open(log, "w") as stderr:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from dlnlib.sweep import _execute_child; _execute_child()",
                    str(notebook),
                    str(outcome),
                ],
                cwd=work,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                # out of the terminal's process group: Ctrl-C stops the sweep,
                # not the run (a stopped worker's runs stop with it, see
                # _exit_with_parent)
                start_new_session=True,
            )
            try:
                child.wait(timeout=job["timeout"])
            except subprocess.TimeoutExpired:
                _kill_tree(child.pid)
                child.wait()
                status = "timeout"
                error = f"timed out after {job['timeout']:g} s"
        if status != "timeout":
            if outcome.is_file():
                result = json.loads(outcome.read_text())
                status, error = result["status"], result["error"]
            elif child.returncode < 0:
                status = "killed"
                error = f"the run's process was killed by signal {-child.returncode}"
            else:
                status = "error"
                error = _last_line(log.read_text()) or (
                    f"the run's process exited with code {child.returncode}"
                )
        if outcome.is_file():  # papermill finished: its notebook is whole
            claims, glue = _read_outputs(notebook)
    if status == "done":
        if claims is None:
            status = "error"
            error = f"the chapter ran through but showed no claims ledger ({LEDGER_MIME})"
        elif all(c["held"] for c in claims):
            status = "ok"
        else:
            status = "claim-failed"
    held = None if claims is None else sum(bool(c["held"]) for c in claims)
    return {
        "chapter": job["chapter"],
        "key": job["key"],
        "params": json.dumps(job["params"]),
        "status": status,
        "error": error,
        "claims": None if claims is None else json.dumps(claims),
        "claims_held": held,
        "claims_failed": None if claims is None else len(claims) - held,
        "glue": json.dumps(glue),
        "seconds": time.perf_counter() - start,
        "attempt": job["attempt"],
        "final": status in SETTLED or job["attempt"] >= 2,
        "started": started,
        "worker": worker,
        "commit": job["commit"],
    }


# --- the record ----------------------------------------------------------------------------------

_FIELDS = [
    ("chapter", "string"),
    ("key", "string"),
    ("params", "string"),
    ("status", "string"),
    ("error", "string"),
    ("claims", "string"),
    ("claims_held", "int64"),
    ("claims_failed", "int64"),
    ("glue", "string"),
    ("seconds", "float64"),
    ("attempt", "int64"),
    ("final", "bool"),
    ("started", "timestamp"),
    ("worker", "string"),
    ("commit", "string"),
]


def _arrow_type(name: str):
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    return types[name]


def _read_records(
    path: Path, chapter: str, defaults: dict | None = None
) -> list[dict]:
    """The rows of a record, each keyed again by :func:`run_key` with ``defaults``.

    Keys are made again from the values recorded, so a record written
    before the key left out the knobs set to their default (or before the
    chapter's defaults changed) is read as today's chapter reads it.
    """
    import pyarrow.parquet as pq

    if not path.exists():
        return []
    table = pq.read_table(path)
    missing = [n for n, _ in _FIELDS if n not in table.column_names]
    if missing:
        raise SweepError(
            f"{path} is not a sweep record: it has no column {', '.join(missing)}"
        )
    rows = table.select([n for n, _ in _FIELDS]).to_pylist()
    others = sorted({r["chapter"] for r in rows} - {chapter})
    if others:
        raise SweepError(
            f"{path} records runs of {', '.join(others)}, not of {chapter}:"
            " one file per chapter"
        )
    for row in rows:
        row["key"] = run_key(chapter, json.loads(row["params"]), defaults)
    return rows


def _write_records(path: Path, rows: list[dict]) -> None:
    """Write every row to ``path`` atomically (temporary file, then ``os.replace``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields = [pa.field(n, _arrow_type(t)) for n, t in _FIELDS]
    table = pa.Table.from_pylist(rows, schema=pa.schema(fields))
    params = [json.loads(r["params"]) for r in rows]
    for name in sorted({n for p in params for n in p}):
        values = [p.get(name) for p in params]
        numeric = all(
            v is None
            or (isinstance(v, (int, float)) and not isinstance(v, bool))
            for v in values
        )
        if numeric:
            column = pa.array(
                [None if v is None else float(v) for v in values], pa.float64()
            )
        else:
            column = pa.array(
                [
                    None if name not in p else json.dumps(p[name])
                    for p in params
                ],
                pa.string(),
            )
        table = table.append_column(f"param_{name}", column)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def plan(
    records, chapter: str, combos, defaults: dict | None = None
) -> tuple[list[tuple[dict, int]], int]:
    """Which runs a sweep still has to make, given the rows already recorded.

    Parameters
    ----------
    records : sequence of dict
        Rows of the record (``key``, ``attempt``, ``final``), their keys
        made by :func:`run_key` with the same ``defaults``.
    chapter : str
    combos : sequence of dict
        The sweep's combinations (two that resolve to the same values run
        once).
    defaults : dict, optional
        The chapter's defaults (:func:`chapter_defaults`), so that a
        combination naming a knob at its default is the run that leaves it
        out.

    Returns
    -------
    todo : list of (dict, int)
        Each combination still to run and its attempt number: 1, or 2 when
        its first attempt is recorded and was not final.
    skipped : int
        How many combinations have a final row already.

    Examples
    --------
    >>> done = {"key": run_key("setup", {"seed": 0}), "attempt": 1, "final": True}
    >>> lost = {"key": run_key("setup", {"seed": 1}), "attempt": 1, "final": False}
    >>> plan([done, lost], "setup", [{"seed": 0}, {"seed": 1}, {"seed": 2}, {"seed": 2}])
    ([({'seed': 1}, 2), ({'seed': 2}, 1)], 1)
    >>> plan([], "setup", [{}, {"seed": 2}, {"seed": 2, "n": 50}], {"seed": 0, "n": 50})
    ([({}, 1), ({'seed': 2}, 1)], 0)
    """
    final = {r["key"] for r in records if r["final"]}
    attempts: dict[str, int] = {}
    for r in records:
        attempts[r["key"]] = max(attempts.get(r["key"], 0), r["attempt"])
    todo, seen, skipped = [], set(), 0
    for combo in combos:
        key = run_key(chapter, combo, defaults)
        if key in seen:
            continue
        seen.add(key)
        if key in final:
            skipped += 1
        else:
            todo.append((combo, attempts.get(key, 0) + 1))
    return todo, skipped


def _commit(chapter_path: Path) -> str | None:
    """The checkout's commit, ``+dirty`` when dlnlib/ or the chapter differ from it."""

    def git(*args) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["git", "--no-optional-locks", "-C", str(ROOT), *args],
            capture_output=True,
            text=True,
        )

    try:
        head = git("rev-parse", "HEAD")
    except FileNotFoundError:  # no git on this machine: documented as null
        return None
    if head.returncode != 0:  # not a git checkout: documented as null
        return None
    paths = [str(ROOT / "dlnlib")]
    if chapter_path.resolve().is_relative_to(ROOT):
        paths.append(str(chapter_path))
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", *paths)
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


# --- the sweep -----------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


def _connect(scheduler, n_workers, connect_timeout: float):
    """A Dask client, and the LocalCluster it owns (None for a given scheduler)."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        return Client(cluster), cluster
    try:
        client = Client(scheduler, timeout=connect_timeout)
    except (OSError, TimeoutError) as exc:
        raise SweepError(
            f"cannot reach the Dask scheduler at {scheduler} within"
            f" {connect_timeout:g} s: {exc}"
        ) from None
    try:
        client.wait_for_workers(1, timeout=connect_timeout)
    except TimeoutError:
        client.close()
        raise SweepError(
            f"the Dask scheduler at {scheduler} has no worker (waited"
            f" {connect_timeout:g} s)"
        ) from None
    return client, None


def run_sweep(
    chapter: str,
    combos,
    out=None,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    timeout: float | None = None,
    chapters_dir=None,
    connect_timeout: float = 10,
    log=None,
    explore: bool = False,
) -> list[dict]:
    """Run ``chapter`` once per combination on Dask and record every run.

    Parameters
    ----------
    chapter : str
        The notebook's name, without ``.ipynb``.
    combos : sequence of dict
        ``{name: value}`` per run (:func:`grid`, :func:`sample`).
    out : path-like, optional
        The Parquet record, default ``sweeps/<chapter>.parquet`` of this
        checkout; created when missing, else resumed.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:port``); by
        default a ``LocalCluster`` is started for the sweep and closed after.
    n_workers : int, optional
        Workers of the ``LocalCluster`` (default: one per core), one thread
        each, in separate processes.
    timeout : float, optional
        Seconds an attempt may take; it is then stopped, recorded as
        ``timeout`` and retried once. Default: no limit.
    chapters_dir : path-like, optional
        Where the notebooks are, default ``chapters/`` of this checkout.
    connect_timeout : float, optional
        Seconds to reach ``scheduler`` and to wait for its first worker.
    log : file, optional
        Where progress goes, default ``sys.stderr``.
    explore : bool, optional
        Also run combinations outside the documented ranges, with
        ``DLNLIB_RANGES=explore`` (the chapter prints that its values are
        outside and runs on); their records are read as outside by comparing
        their values with the chapter's spec. Used to map where the claims
        stop holding. Default: refuse them before any run.

    Returns
    -------
    list of dict
        The rows recorded by this call, in the order they finished (the
        columns of the module's table, ``param_<name>`` excepted).

    Raises
    ------
    SweepError
        Before any run: an unknown chapter or parameter, a combination the
        chapter refuses (:func:`check_combinations`), a record of another
        chapter at ``out``, a scheduler that cannot be reached or has no
        worker.
    KeyboardInterrupt
        When the sweep is stopped; the runs finished so far are in ``out``.
    """
    import nbformat
    from distributed import KilledWorker, as_completed

    log = log or sys.stderr
    chapters_dir = Path(chapters_dir or CHAPTERS)
    path = _chapter_path(chapter, chapters_dir)
    out = (
        Path(out)
        if out is not None
        else ROOT / "sweeps" / f"{chapter}.parquet"
    )
    combos = [dict(c) for c in combos]
    check_combinations(chapter, [], chapters_dir)  # chapter and cells exist
    defaults = chapter_defaults(chapter, chapters_dir)
    records = _read_records(out, chapter, defaults)
    todo, skipped = plan(records, chapter, combos, defaults)
    if not todo:
        print(
            f"sweep {chapter}: nothing to run, all {skipped} runs are recorded"
            f" in {out}",
            file=log,
        )
        return []
    outside = check_combinations(
        chapter, [c for c, _ in todo], chapters_dir, explore=explore
    )
    if any(outside):
        print(
            f"sweep {chapter}: {sum(map(bool, outside))} of {len(todo)} runs"
            " are outside the documented ranges (--explore)",
            file=log,
            flush=True,
        )

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:  # papermill clears them; no need to ship them
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    siblings = {
        p.name: p.read_bytes()
        for p in chapters_dir.iterdir()
        if p.is_file() and p.suffix != ".ipynb"
    }
    commit = _commit(path)

    def job(combo: dict, attempt: int) -> dict:
        return {
            "chapter": chapter,
            "key": run_key(chapter, combo, defaults),
            "params": combo,
            "attempt": attempt,
            "notebook": nbformat.writes(inject(notebook, combo)),
            "siblings": siblings,
            "timeout": timeout,
            "commit": commit,
            "explore": explore,
        }

    client, cluster = _connect(scheduler, n_workers, connect_timeout)
    where = (
        f"the scheduler at {scheduler}"
        if cluster is None
        else f"a LocalCluster of {len(cluster.workers)} workers"
    )
    print(
        f"sweep {chapter}: {len(todo)} runs on {where}"
        + (f" ({skipped} already recorded, skipped)" if skipped else "")
        + f" -> {out}",
        file=log,
        flush=True,
    )
    new_rows: list[dict] = []
    futures = {}

    def submit(spec: dict):
        fut = client.submit(
            _run,
            spec,
            key=f"sweep-{chapter}-{spec['key']}-{spec['attempt']}",
            pure=False,
        )
        futures[fut] = spec
        return fut

    try:
        for combo, attempt in todo:
            submit(job(combo, attempt))
        pending = as_completed(list(futures))
        total, done, died, broke = len(todo), 0, 0, 0
        start = time.perf_counter()
        for fut in pending:
            spec = futures.pop(fut)
            try:
                row = fut.result()
            except KilledWorker as exc:
                row = {
                    "chapter": chapter,
                    "key": spec["key"],
                    "params": json.dumps(spec["params"]),
                    "status": "killed",
                    "error": f"KilledWorker: {exc}",
                    "claims": None,
                    "claims_held": None,
                    "claims_failed": None,
                    "glue": "{}",
                    "seconds": None,
                    "attempt": spec["attempt"],
                    "final": spec["attempt"] >= 2,
                    "started": None,
                    "worker": None,
                    "commit": commit,
                }
            records.append(row)
            new_rows.append(row)
            _write_records(out, records)
            if not row["final"]:
                pending.add(submit(job(spec["params"], row["attempt"] + 1)))
            else:
                done += 1
                died += row["status"] in ("error", "timeout", "killed")
                broke += row["status"] == "claim-failed"
            threads = sum(client.nthreads().values())
            running = min(len(futures), threads)
            left = (
                (time.perf_counter() - start) / done * (total - done)
                if done
                else None
            )
            eta = "?" if left is None else f"~{_duration(left)}"
            seconds = (
                "" if row["seconds"] is None else f"{row['seconds']:.1f} s, "
            )
            print(
                f"[{done}/{total} done, {running} running, {died} failed,"
                f" {broke} with a failed claim; {eta} left]"
                f" {row['status']}: {_describe(spec['params'])}"
                f" ({seconds}attempt {row['attempt']})"
                + (f": {row['error']}" if row["error"] else ""),
                file=log,
                flush=True,
            )
    except KeyboardInterrupt:
        print(
            f"sweep {chapter}: stopped; {len(new_rows)} attempts of this sweep"
            f" are recorded in {out}",
            file=log,
            flush=True,
        )
        raise
    finally:
        for fut in futures:
            fut.cancel()
        client.close()
        if cluster is not None:
            cluster.close()
    return new_rows


# --- the command line ----------------------------------------------------------------------------


def main(argv=None) -> int:
    """``python -m dlnlib.sweep``: parse the command line and run the sweep.

    Returns the exit status: 0 when the sweep ran (whatever the verdicts), 2
    for bad input, 130 when stopped with Ctrl-C. ``--help`` lists the options.
    """
    parser = argparse.ArgumentParser(
        prog="python -m dlnlib.sweep",
        description="Run a chapter over a grid or a random sample of parameter"
        " values on Dask, recording every run in a Parquet file.",
    )
    parser.add_argument("chapter", help="the notebook's name, e.g. setup")
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2,...",
        help="values of a parameter, Python literals (quote strings);"
        " repeat for several parameters: their cartesian product is run",
    )
    parser.add_argument(
        "--sample",
        type=int,
        metavar="K",
        help="run K combinations drawn at random from the grid instead",
    )
    parser.add_argument("--sample-seed", type=int, default=0, metavar="S")
    parser.add_argument(
        "--edges",
        action="store_true",
        help="run the defaults and every end of every documented range"
        " (dlnlib.ranges.Spec.edges), after any --grid combinations",
    )
    parser.add_argument(
        "--explore",
        action="store_true",
        help="also run values outside the documented ranges (DLNLIB_RANGES="
        "explore), to map where the claims stop holding",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, tcp://host:port (default: a LocalCluster)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="workers of the LocalCluster (default: one per core)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop an attempt after this long (recorded, retried once)",
    )
    parser.add_argument(
        "--out", metavar="PATH", help="default sweeps/<chapter>.parquet"
    )
    parser.add_argument(
        "--chapters-dir", metavar="DIR", help="default chapters/"
    )
    parser.add_argument(
        "--connect-timeout", type=float, default=10, metavar="SECONDS"
    )
    args = parser.parse_args(argv)
    try:
        values = parse_grid(args.grid)
        if args.sample is not None:
            if not values:
                raise SweepError(
                    "--sample draws from the --grid values: give some"
                )
            combos = sample(values, args.sample, args.sample_seed)
        elif args.edges and not values:
            combos = []
        else:
            combos = grid(values)
        if args.edges:
            spec, defaults = chapter_spec(args.chapter, args.chapters_dir)
            combos = [*combos, {}, *spec.edges(defaults)]
        run_sweep(
            args.chapter,
            combos,
            args.out,
            scheduler=args.scheduler,
            n_workers=args.workers,
            timeout=args.timeout,
            chapters_dir=args.chapters_dir,
            connect_timeout=args.connect_timeout,
            explore=args.explore,
        )
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
