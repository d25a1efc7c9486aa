"""Book mechanics: checked claims, glued numbers, timing and the figure style.

Nothing here is mathematics. These are the few lines every chapter would
otherwise repeat (d2l keeps them in its package for the same reason): a claim
check that says in words what failed, rounding before a number is glued into
the prose (so that reruns glue the same text), a timer whose printed line the
test suite knows to ignore, and one matplotlib style for every figure.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "ClaimError",
    "STYLE",
    "Timer",
    "check",
    "check_refuses",
    "coordinate_nudges",
    "fmt",
    "glue_excess",
    "glue_int",
    "glue_number",
    "glue_percent",
    "glue_text",
    "print_table",
    "require",
    "subplots",
    "use_style",
]

#: Figures are drawn for the page column: 688 CSS pixels, i.e. 8.6 inches at 80 dpi.
COLUMN_INCHES = 8.6
#: Stored at twice the column width in pixels, so they stay sharp on high-density screens.
DPI = 160

#: The one matplotlib style of the book (:func:`use_style` applies it).
STYLE = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.figsize": (COLUMN_INCHES, 3.4),
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.formatter.limits": (-3, 4),
    "lines.linewidth": 1.2,
    "figure.constrained_layout.use": True,
}


class ClaimError(AssertionError):
    """A claim of the book did not hold for the current parameters."""


def require(condition, message: str) -> None:
    """Reject a parameter outside its documented range, before any work is done.

    Parameters
    ----------
    condition : bool
    message : str
        Which parameter, its range and why, e.g.
        ``"hurwitz_max must be 2..8: sympy needs minutes beyond"``.

    Raises
    ------
    ValueError
        ``"parameter out of range: " + message`` when ``condition`` is false.

    Examples
    --------
    >>> require(3 >= 2, "depth must be at least 2")
    >>> require(1 >= 2, "depth must be at least 2")
    Traceback (most recent call last):
    ...
    ValueError: parameter out of range: depth must be at least 2
    """
    if not bool(condition):
        raise ValueError(f"parameter out of range: {message}")


def check(condition, claim: str) -> None:
    """Stop the notebook with a sentence when a claim of the prose fails.

    Parameters
    ----------
    condition : bool or array_like of bool
        The claim's test; an array must hold everywhere.
    claim : str
        The claim in words, with the numbers that were measured, e.g.
        ``f"label noise ends within 10 % of the optimum: got {ratio:.3g}"``.

    Raises
    ------
    ClaimError
        (an :class:`AssertionError`) with the message
        ``"claim failed: " + claim`` when ``condition`` is not true
        everywhere.

    Examples
    --------
    >>> check(1 + 1 == 2, "arithmetic works")
    >>> check([True, False], "every chain converged")
    Traceback (most recent call last):
    ...
    dlnlib.book.ClaimError: claim failed: every chain converged
    """
    if not bool(np.all(condition)):
        raise ClaimError(f"claim failed: {claim}")


class check_refuses:
    """A claim that a call is refused: the block must raise ``error``.

    Used as a context manager, like ``pytest.raises``; the refusal's message
    is kept in :attr:`message` for the prose to show.

    Parameters
    ----------
    claim : str
        What must be refused, in words, e.g.
        ``"a hidden width below the rank is refused"``.
    error : type, optional
        The exception the block must raise (``ValueError`` by default); any
        other exception passes through unchanged.

    Raises
    ------
    ClaimError
        ``"claim failed: " + claim`` when the block raises nothing.

    Examples
    --------
    >>> with check_refuses("a negative square root is refused") as refusal:
    ...     raise ValueError("no real root")
    >>> refusal.message
    'no real root'
    >>> with check_refuses("a negative square root is refused"):
    ...     pass
    Traceback (most recent call last):
    ...
    dlnlib.book.ClaimError: claim failed: a negative square root is refused
    """

    def __init__(self, claim: str, error: type = ValueError):
        self.claim, self.error = claim, error
        #: The message of the exception that refused the call.
        self.message: str | None = None

    def __enter__(self) -> check_refuses:
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if kind is None:
            raise ClaimError(f"claim failed: {self.claim}")
        if issubclass(kind, self.error):
            self.message = str(exc)
            return True
        return False


def _glue(name: str, value) -> None:
    from myst_nb import glue

    glue(name, value, display=False)


def glue_number(name: str, value, digits: int = 3) -> float:
    """Glue a number for the prose, rounded to ``digits`` significant digits.

    The rounding makes the glued text identical on every rerun (the last
    digits of a float may differ between machines).

    Parameters
    ----------
    name : str
        Key for ``{glue:text}`name``` in the markdown.
    value : float
    digits : int, optional

    Returns
    -------
    float
        The rounded value that was glued.
    """
    rounded = float(f"{float(value):.{digits}g}")
    _glue(name, rounded)
    return rounded


def glue_percent(name: str, ratio, digits: int = 2) -> float:
    """Glue how far a ratio near one lies above one, in percent.

    Parameters
    ----------
    name : str
    ratio : float
        E.g. a measured value over its optimum.
    digits : int, optional
        Significant digits of the percentage.

    Returns
    -------
    float
        ``100 (ratio - 1)``, rounded.
    """
    return glue_excess(name, float(ratio) - 1, digits)


def glue_excess(name: str, excess, digits: int = 2) -> float:
    """Glue a relative excess in percent, e.g. ``R / bound - 1``.

    Parameters
    ----------
    name : str
    excess : float
        A relative difference, ``0.012`` for 1.2 %.
    digits : int, optional
        Significant digits of the percentage.

    Returns
    -------
    float
        ``100 excess``, rounded to ``digits`` significant digits.
    """
    return glue_number(name, 100 * float(excess), digits)


def glue_int(name: str, value) -> int:
    """Glue an integer (a count, a size, a seed).

    Parameters
    ----------
    name : str
    value : int

    Returns
    -------
    int
    """
    value = int(value)
    _glue(name, value)
    return value


def glue_text(name: str, text: str) -> str:
    """Glue a short text (a list of depths, a shape such as ``20 x 20``).

    Parameters
    ----------
    name : str
    text : str

    Returns
    -------
    str
    """
    _glue(name, str(text))
    return str(text)


def coordinate_nudges(weights: Sequence[np.ndarray], h: float):
    """Every layer entry moved by ``+h`` and by ``-h``, for finite differences.

    Yields, for each layer ``l`` and each index ``idx`` of ``W_l`` (in
    ``numpy.ndindex`` order), the tuple ``(l, idx, up, down)`` where ``up`` and
    ``down`` are copies of the weight list with ``W_l[idx]`` replaced by
    ``W_l[idx] + h`` and ``W_l[idx] - h``. A central difference of a function
    ``f`` of the weights along that entry is ``(f(up) - f(down)) / (2 h)``, and
    a second difference is ``(f(up) - 2 f(weights) + f(down)) / h**2``.

    Parameters
    ----------
    weights : sequence of ndarray
        ``[W_1, ..., W_L]``; not modified.
    h : float
        The step, ``h > 0``.

    Examples
    --------
    >>> ws = [np.zeros((1, 2)), np.ones((2, 1))]
    >>> [(l, idx, float(up[l][idx] - down[l][idx]))
    ...  for l, idx, up, down in coordinate_nudges(ws, 0.5)]
    [(0, (0, 0), 1.0), (0, (0, 1), 1.0), (1, (0, 0), 1.0), (1, (1, 0), 1.0)]
    """
    if not (np.isfinite(h) and h > 0):
        raise ValueError(
            f"the step h must be a positive finite number, got {h!r}"
        )
    weights = [np.asarray(w, dtype=float) for w in weights]
    for l, w in enumerate(weights):
        for idx in np.ndindex(w.shape):
            up, down = w.copy(), w.copy()
            up[idx] += h
            down[idx] -= h
            before, after = weights[:l], weights[l + 1 :]
            yield l, idx, [*before, up, *after], [*before, down, *after]


class Timer:
    """Time a block and print one line ``"<label>: took <seconds> s"``.

    The test suite compares every stored output with a fresh run; its
    sanitizer (``tests/nbval_sanitize.cfg``) replaces the seconds of this
    line, the one number in the book that a rerun cannot reproduce.

    Parameters
    ----------
    label : str
        What was timed.

    Examples
    --------
    >>> with Timer("nothing"):  # doctest: +ELLIPSIS
    ...     pass
    nothing: took ... s
    """

    def __init__(self, label: str):
        self.label = label
        self.seconds = None

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._start
        if exc[0] is None:
            print(f"{self.label}: took {self.seconds:.1f} s")


def use_style() -> None:
    """Apply the book's matplotlib style (:data:`STYLE`) to every figure that follows."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)


def subplots(ncols: int = 1, nrows: int = 1, height: float = 3.4, **kwargs):
    """A figure of the column's width with a flat list of axes, even for one panel.

    Parameters
    ----------
    ncols, nrows : int, optional
    height : float, optional
        Height in inches (the width is the column's, 8.6 inches).
    **kwargs
        Passed to ``matplotlib.pyplot.subplots`` (``sharey=True``, ...).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : list of matplotlib.axes.Axes
        Always a list, of length ``ncols * nrows``.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        nrows, ncols, figsize=(COLUMN_INCHES, height), squeeze=False, **kwargs
    )
    return fig, list(np.ravel(axes))


def fmt(value, digits: int = 3, floor: float = 1e-12) -> str:
    """A number as text, with rounding-level values shown as a bound.

    Values below ``floor`` in magnitude print as ``"< 1e-12"`` (for the
    default floor): their digits are rounding error, which differs between
    machines, and a rerun must print the same text.

    Parameters
    ----------
    value : float
    digits : int, optional
        Significant digits.
    floor : float, optional

    Returns
    -------
    str

    Examples
    --------
    >>> fmt(0.0123456), fmt(-3e-16), fmt(2e-7, floor=1e-9)
    ('0.0123', '< 1e-12', '2e-07')
    """
    value = float(value)
    if abs(value) < floor:
        return f"< {floor:.0e}".replace("e-0", "e-")
    return f"{value:.{digits}g}"


def _cell(value, spec) -> str:
    if isinstance(value, str):
        return value
    if callable(spec):
        return spec(value)
    return format(value, spec)


def print_table(
    header: Sequence[str],
    rows: Iterable[Sequence],
    formats: Sequence[str] | None = None,
) -> None:
    """Print rows as a right-aligned text table.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : iterable of sequences
        One entry per column; strings are printed as they are.
    formats : sequence of str or callable, optional
        A format spec (or a function returning text, such as :func:`fmt`)
        per column for the non-string entries (default ``".4g"``).

    Examples
    --------
    >>> print_table(["L", "ratio"], [(2, 1.0312), (3, 1.00071)], ["d", ".4f"])
    L  ratio
    2 1.0312
    3 1.0007
    """
    formats = list(formats) if formats is not None else [".4g"] * len(header)
    body = [[_cell(v, f) for v, f in zip(row, formats)] for row in rows]
    widths = [
        max(len(h), *(len(r[k]) for r in body)) if body else len(h)
        for k, h in enumerate(header)
    ]
    print(" ".join(h.rjust(w) for h, w in zip(header, widths)))
    for r in body:
        print(" ".join(v.rjust(w) for v, w in zip(r, widths)))
