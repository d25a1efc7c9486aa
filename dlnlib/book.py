"""Book mechanics: claims and their ledger, tables, glued numbers, timing and the figure style.

Nothing here is mathematics. These are the few lines every chapter would
otherwise repeat (d2l keeps them in its package for the same reason): the
results layer (:class:`Claims` states a claim, checks it, shows its verdict
once and lists it in the page's ledger; :class:`Table` is a captioned,
numbered table), rounding before a number is glued into the prose (so that
reruns glue the same text), a timer whose printed line the test suite knows to
ignore, and one matplotlib style for every figure.
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Sequence

import numpy as np

__all__ = [
    "ClaimError",
    "Claims",
    "MODE_VARIABLE",
    "STYLE",
    "Timer",
    "claims_mode",
    "coordinate_nudges",
    "fill",
    "fmt",
    "glue_excess",
    "glue_int",
    "glue_number",
    "glue_percent",
    "glue_text",
    "log_axis",
    "plain_text",
    "require",
    "rounded",
    "subplots",
    "table",
    "Table",
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


def _glue(name: str, value) -> None:
    from myst_nb import glue

    glue(name, value, display=False)


def rounded(value, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits, as glued for the prose.

    The rounding makes the glued text identical on every rerun (the last
    digits of a float may differ between machines).

    Examples
    --------
    >>> rounded(3.14159), rounded(0.012345, 2)
    (3.14, 0.012)
    """
    return float(f"{float(value):.{digits}g}")


def glue_number(name: str, value, digits: int = 3) -> None:
    """Glue a number for the prose, rounded to ``digits`` significant digits.

    Returns nothing, so a glue call at the end of a cell adds no output to
    the page (use :func:`rounded` for the value).

    Parameters
    ----------
    name : str
        Key for ``{glue:text}`name``` in the markdown.
    value : float
    digits : int, optional
    """
    _glue(name, rounded(value, digits))


def glue_percent(name: str, ratio, digits: int = 2) -> None:
    """Glue how far a ratio near one lies above one, in percent.

    Parameters
    ----------
    name : str
    ratio : float
        E.g. a measured value over its optimum; ``100 (ratio - 1)`` is glued.
    digits : int, optional
        Significant digits of the percentage.
    """
    glue_excess(name, float(ratio) - 1, digits)


def glue_excess(name: str, excess, digits: int = 2) -> None:
    """Glue a relative excess in percent, e.g. ``R / bound - 1``.

    Parameters
    ----------
    name : str
    excess : float
        A relative difference, ``0.012`` for 1.2 %; ``100 excess`` is glued,
        rounded to ``digits`` significant digits.
    digits : int, optional
    """
    glue_number(name, 100 * float(excess), digits)


def glue_int(name: str, value) -> None:
    """Glue an integer (a count, a size, a seed).

    Parameters
    ----------
    name : str
    value : int
    """
    _glue(name, int(value))


def glue_text(name: str, text: str) -> None:
    """Glue a short text (a list of depths, a shape such as ``20 x 20``).

    Parameters
    ----------
    name : str
    text : str
    """
    _glue(name, str(text))


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


def log_axis(ax, which: str = "x") -> None:
    """Put one axis of ``ax`` on a log scale, keeping its ticks and their labels.

    For a map whose marks sit at recorded values spread over decades
    (:func:`dlnlib.records.draw_claim_map` puts a tick at each): the ticks
    stay where they were, labelled with the values (``%g``), and the minor
    ticks of the log scale are left out.

    Parameters
    ----------
    ax : matplotlib Axes
    which : {"x", "y"}

    Raises
    ------
    ValueError
        For another axis name, or a tick at zero or below.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax.set_xticks([1e-4, 1e-2, 1])  # doctest: +ELLIPSIS
    [...]
    >>> log_axis(ax, "x")
    >>> ax.get_xscale(), [t.get_text() for t in ax.get_xticklabels()]
    ('log', ['0.0001', '0.01', '1'])
    >>> plt.close(fig)
    """
    if which not in ("x", "y"):
        raise ValueError(f"which must be 'x' or 'y', got {which!r}")
    ticks = list(getattr(ax, f"get_{which}ticks")())
    if min(ticks) <= 0:
        raise ValueError(
            f"a log {which} axis needs positive ticks, got {min(ticks):g}"
        )
    getattr(ax, f"set_{which}scale")("log")
    getattr(ax, f"set_{which}ticks")(
        ticks, [f"{t:g}" for t in ticks], minor=False
    )
    ax.minorticks_off()


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


# --- the results layer: claims, their verdicts, the ledger and tables ----------------------------

#: The environment variable that sets how a failed claim is handled (:func:`claims_mode`).
MODE_VARIABLE = "DLNLIB_CLAIMS"

_ROLE = re.compile(r"\{(?P<role>[\w:+-]+)\}`(?P<body>[^`]*)`")


def claims_mode() -> str:
    """How a failed claim is handled: ``"reader"`` (default) or ``"strict"``.

    Read from the environment variable ``DLNLIB_CLAIMS`` when a :class:`Claims`
    ledger is made. In *reader* mode a failed claim shows a failure box and the
    chapter goes on, so a reader who changed a parameter still sees every other
    verdict and figure; in *strict* mode (``make test``, ``make execute``, the
    variant stage) it raises :class:`ClaimError` at once. Sweeps
    (:mod:`dlnlib.sweep`) run in reader mode, so every claim of a run gets
    its verdict in the record.

    Raises
    ------
    ValueError
        When the variable holds anything but ``reader`` or ``strict``.
    """
    value = os.environ.get(MODE_VARIABLE, "reader").strip() or "reader"
    if value not in ("reader", "strict"):
        raise ValueError(
            f"{MODE_VARIABLE} must be 'reader' or 'strict', got {value!r}"
        )
    return value


def _role_text(match: re.Match) -> str:
    role, body = match["role"], match["body"]
    if role == "eq":
        return f"({body})"
    label = re.sub(r"^(.*?)\s*<.*>$", r"\1", body).strip() or body
    return (
        label.removeprefix("~").split(".")[-1]
        if role.startswith("py:")
        else label
    )


_SPAN = re.compile(r"\[(?P<body>[^\]]*)\]\{\.[\w-]+\}")


def plain_text(text: str) -> str:
    """A claim's MyST text as plain text: roles become their labels.

    ``{eq}`setup-grad``` becomes ``(setup-grad)``, ``{py:func}`dlnlib.x.f```
    becomes ``f``, other roles their text; math stays as written.

    Examples
    --------
    >>> plain_text("finite differences match {eq}`setup-grad`")
    'finite differences match (setup-grad)'
    >>> plain_text("see {py:func}`dlnlib.network.predict`")
    'see predict'
    """
    return _ROLE.sub(_role_text, _SPAN.sub(lambda m: m["body"], text))


def _html_text(text: str) -> str:
    return plain_text(html.escape(text, quote=False))


# a field is {name} or {name:spec}; not a MyST role ({eq}`...`) nor a TeX command's argument
# (\\operatorname{tr}, \\tilde{W}: the brace follows a letter)
_FIELD = re.compile(
    r"(?<![A-Za-z])\{(?P<name>[A-Za-z_]\w*)(?::(?P<spec>[^{}`]*))?\}(?!`)"
)


def fill(text: str, numbers: dict) -> str:
    """Fill the ``{name}`` / ``{name:spec}`` fields of a claim's text.

    Only names given in ``numbers`` are fields, and not right after a
    letter: MyST roles (``{eq}`...```) and TeX arguments
    (``\\tilde{W}``, ``\\operatorname{tr}``) stay as written.

    Examples
    --------
    >>> print(fill(r"{eq}`a` holds to {err:.0e} for $\\tilde{W}$", {"err": 3e-11}))
    {eq}`a` holds to 3e-11 for $\\tilde{W}$
    """

    def one(match: re.Match) -> str:
        name, spec = match["name"], match["spec"] or ""
        if name not in numbers:
            return match[0]
        value = numbers[name]
        if isinstance(value, (list, tuple)) and not spec:
            return _number_text(value)
        return format(value, spec)

    return _FIELD.sub(one, text)


def _verdict_held(holds) -> bool:
    """The truth of a claim's test; refuses values that cannot be a verdict."""
    if holds is None:  # sympy's "cannot decide", e.g. ``expr.is_positive``
        return False
    if isinstance(holds, (bool, np.bool_)):
        return bool(holds)
    from sympy.logic.boolalg import BooleanAtom  # sp.true, sp.false

    if isinstance(holds, BooleanAtom):
        return bool(holds)
    values = np.asarray(holds)
    if values.dtype != bool:
        raise TypeError(
            "a claim's test must be a bool or an array of bools, got "
            f"{type(holds).__name__} of dtype {values.dtype}"
        )
    if values.size == 0:
        raise ValueError(
            "a claim's test is an empty array: nothing was checked"
        )
    return bool(values.all())


def _number_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return fmt(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_number_text(v) for v in value) + ")"
    if isinstance(value, list):
        return ", ".join(_number_text(v) for v in value)
    raise TypeError(
        "a claim's numbers must be numbers, strings or lists of them, got "
        f"{type(value).__name__}"
    )


def _glue_value(key: str, value, digits: int) -> None:
    """Glue one value by its type: an int, a float rounded, or else its text."""
    if isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    ):
        glue_int(key, value)
    elif isinstance(value, (float, np.floating)):
        glue_number(key, value, digits)
    else:
        glue_text(key, _number_text(value))


class _Bundle:
    """An output with a plain, an HTML and a MyST Markdown form."""

    def __init__(self, plain: str, html_: str, markdown: str, extra=None):
        self.plain, self.html, self.markdown = plain, html_, markdown
        self.extra = extra or {}

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {
            "text/plain": self.plain,
            "text/html": self.html,
            "text/markdown": self.markdown,
            **self.extra,
        }

    def __repr__(self) -> str:
        return self.plain


def _display(obj) -> None:
    from IPython.display import display

    display(obj)


class Claims:
    """The claims of one page: each checked, shown once, listed in a ledger.

    One call, :meth:`check`, states a claim in the book's notation, tests it,
    shows its verdict under the cell as one rendered line (math typeset,
    equation references linked) and glues the numbers the prose reads. The
    page ends with :meth:`ledger`, a table of every claim checked on it.

    A failed claim depends on :func:`claims_mode`: in reader mode it shows a
    failure box with the claim and its numbers and the chapter goes on (the
    ledger marks it failed); in strict mode it raises :class:`ClaimError`.

    Parameters
    ----------
    prefix : str
        The page's prefix: glue keys are ``prefix + "_" + name`` and the
        ledger's table is named ``"tbl-" + prefix + "-ledger"``.
    mode : {"reader", "strict"}, optional
        Overrides the environment variable (tests use it).

    Examples
    --------
    >>> claims = Claims("demo", mode="strict")
    >>> claims.check("$1 + 1 = {two}$", 1 + 1 == 2, two=2)
    ✓ $1 + 1 = 2$
    >>> claims.check("$2 > {three}$", 2 > 3, three=3)
    Traceback (most recent call last):
    ...
    dlnlib.book.ClaimError: claim failed: $2 > 3$
    """

    def __init__(self, prefix: str, mode: str | None = None):
        if not re.fullmatch(r"[a-z][a-z0-9_]*", prefix or ""):
            raise ValueError(
                f"prefix must be lower-case letters, digits and _, got {prefix!r}"
            )
        self.prefix = prefix
        self.mode = claims_mode() if mode is None else mode
        if self.mode not in ("reader", "strict"):
            raise ValueError(
                f"mode must be 'reader' or 'strict', got {mode!r}"
            )
        #: One dict per claim checked (``claim``, ``held``, ``numbers``), in order.
        self.records: list[dict] = []

    # -- checking --------------------------------------------------------------------------
    def check(self, text: str, holds, *, glue=(), **numbers) -> None:
        """State a claim, test it and show its verdict once.

        Parameters
        ----------
        text : str
            The claim in the book's notation (MyST Markdown: ``$...$`` math,
            ``{eq}`label``` references), with ``{name:spec}`` fields filled
            from ``numbers``, e.g.
            ``"finite differences match {eq}`setup-grad` to {err:.0e}"``.
        holds : bool, array_like of bool or sympy boolean
            The claim's test; an array must hold everywhere. ``None`` (sympy
            could not decide) counts as failed.
        glue : str, sequence of str or dict, optional
            Names of ``numbers`` to glue for the prose as
            ``prefix + "_" + name`` (numbers rounded to 3 significant
            digits), or a dict ``{name: digits}``.
        **numbers
            The measured numbers, by name: numbers, strings or lists.

        Raises
        ------
        ClaimError
            In strict mode, when the claim fails.
        TypeError, ValueError
            When ``holds`` is not a verdict (a float, an empty array), a
            number is of another type, or ``text`` names a number not given.
        """
        held = _verdict_held(holds)
        self._record(text, held, numbers, glue)

    class _Refusal:
        def __init__(self, claims, text, error, glue, numbers):
            self.claims, self.text, self.error = claims, text, error
            self.glue, self.numbers = glue, numbers
            #: The message of the exception that refused the call.
            self.message: str | None = None

        def __enter__(self):
            return self

        def __exit__(self, kind, exc, tb) -> bool:
            if kind is not None and not issubclass(kind, self.error):
                return False
            held = kind is not None
            self.message = str(exc) if held else "nothing was refused"
            numbers = {"message": self.message, **self.numbers}
            self.claims._record(self.text, held, numbers, self.glue)
            return True

    def refuses(
        self, text: str, error: type = ValueError, *, glue=(), **numbers
    ):
        """A claim that a call is refused: the ``with`` block must raise ``error``.

        The refusal's message is the number ``message`` (``{message}`` in
        ``text``) and the context manager's ``message`` attribute. Any other
        exception passes through unchanged.

        Examples
        --------
        >>> claims = Claims("demo", mode="strict")
        >>> with claims.refuses("a negative root is refused: {message}"):
        ...     raise ValueError("no real root")
        ✓ a negative root is refused: no real root
        """
        return Claims._Refusal(self, text, error, glue, numbers)

    def _record(self, text: str, held: bool, numbers: dict, glue) -> None:
        shown = {k: _number_text(v) for k, v in numbers.items()}
        claim = fill(text, numbers)
        self._glue(numbers, glue)
        record = {"claim": claim, "held": held, "numbers": shown}
        plain = plain_text(claim)
        # a rerun cell replaces its claim instead of listing it twice
        for k, old in enumerate(self.records):
            if plain_text(old["claim"]) == plain:
                self.records[k] = record
                break
        else:
            self.records.append(record)
        if held:
            _display(
                _Bundle(
                    f"✓ {plain}",
                    f'<p class="dln-claim">✓ {_html_text(claim)}</p>',
                    f"{{.dln-claim}}\n[✓]{{.dln-held}} {claim}",
                )
            )
            return
        if self.mode == "strict":
            raise ClaimError(f"claim failed: {plain}")
        _display(
            _Bundle(
                f"✗ claim failed: {plain}",
                '<div class="dln-claim-failed" style="border-left: 4px solid'
                " #c62828; background: #fdecea; padding: 0.4em 0.8em;"
                ' margin: 0.3em 0"><b>✗ Claim failed</b>: '
                f"{_html_text(claim)}</div>",
                f":::{{error}} Claim failed\n{claim}\n:::",
            )
        )

    def glue(self, *, digits: int = 3, **values) -> None:
        """Glue numbers and texts for the prose, as ``prefix + "_" + name``.

        One call for the values a cell hands to the prose that no claim of
        the cell checks (a parameter, a size): an integer is glued as
        :func:`glue_int`, a float as :func:`glue_number` (``digits``
        significant digits), a string as :func:`glue_text`.

        Parameters
        ----------
        digits : int, optional
            Significant digits of the floats.
        **values
            The values, by name.

        Raises
        ------
        TypeError
            For any other type (a bool, an array, a list): glue those with
            the ``book.glue_*`` function that says how to show them.

        Examples
        --------
        >>> claims = Claims("demo", mode="strict")
        >>> claims.glue(n=12, gap=0.012345, shape="3 x 4")  # demo_n, demo_gap, ...
        """
        for name, value in values.items():
            # every value checked before any is glued
            if isinstance(value, (bool, np.bool_)):
                raise TypeError(
                    f"{name}: a bool is no number to glue; glue the words"
                    " with book.glue_text"
                )
            if not isinstance(
                value, (int, np.integer, float, np.floating, str)
            ):
                raise TypeError(
                    f"{name}: glue takes an int, a float or a str, got"
                    f" {type(value).__name__}"
                )
        for name, value in values.items():
            _glue_value(f"{self.prefix}_{name}", value, digits)

    def _glue(self, numbers: dict, glue) -> None:
        if isinstance(glue, str):
            glue = (glue,)
        digits = glue if isinstance(glue, dict) else dict.fromkeys(glue, 3)
        for name, d in digits.items():
            if name not in numbers:
                raise ValueError(f"glue names {name!r}, which is not a number")
            _glue_value(f"{self.prefix}_{name}", numbers[name], d)

    # -- the ledger ------------------------------------------------------------------------
    @property
    def failed(self) -> list[dict]:
        """The records of the claims that failed (reader mode only)."""
        return [r for r in self.records if not r["held"]]

    def ledger(self) -> None:
        """Show the table of every claim checked on the page and its verdict.

        The table is named ``tbl-<prefix>-ledger`` (reference it with
        ``{numref}``); its output also carries the records as JSON
        (``application/vnd.dlnlib.ledger+json``) for the sweeps to read.
        """
        n, bad = len(self.records), len(self.failed)
        caption = (
            f"The {n} claim{'s' if n != 1 else ''} checked on this page: {n - bad} held"
            + (f", {bad} failed." if bad else ".")
        )
        rows = [
            (k + 1, r["claim"], _VERDICT[r["held"]])
            for k, r in enumerate(self.records)
        ]
        tab = Table(
            rows,
            header=["#", "claim, with the numbers measured", "verdict"],
            caption=caption,
            name=f"tbl-{self.prefix}-ledger",
        )
        tab.extra = {
            "application/vnd.dlnlib.ledger+json": {"claims": self.records}
        }
        _display(tab)


#: A number in scientific notation: a table column must not break it at its "-".
_SCIENTIFIC = re.compile(r"(?<![\w.$])-?\d+(?:\.\d+)?e[+-]\d+(?![\w.])")


def _myst_cell(text: str) -> str:
    """A table cell as MyST: one line, never read as a heading, a list or a quote.

    Numbers in scientific notation become ``[6e-11]{.dln-num}`` spans, which
    the book's style sheet keeps on one line.
    """
    text = text.replace("\n", " ").strip()
    if not text:
        return "\u2014"
    if re.fullmatch(r"\d+[.)]", text):
        return text[:-1] + "\\" + text[-1]
    if "$" not in text:
        text = _SCIENTIFIC.sub(lambda m: f"[{m[0]}]{{.dln-num}}", text)
    return "\\" + text if text[0] in "#>+*-" else text


_VERDICT = {True: "[✓ held]{.dln-held}", False: "[✗ failed]{.dln-failed}"}


class Table(_Bundle):
    """A captioned, numbered table: HTML in Jupyter, a MyST table in the book.

    Parameters
    ----------
    rows : sequence of sequences or pandas.DataFrame
        The table's rows; a DataFrame brings its own header.
    caption : str
        The caption, MyST Markdown (math allowed).
    name : str
        The label, ``"tbl-..."``: reference it with ``{numref}`tbl-...```.
    header : sequence of str, optional
        Column titles (required for plain rows).
    formats : sequence of str or callable, optional
        A format spec or a function (such as :func:`fmt`) per column for the
        entries that are not strings (default: :func:`fmt`).

    Notes
    -----
    The output carries three forms: ``text/html`` (a pandas ``Styler``, for
    JupyterLab), ``text/markdown`` (a ``list-table`` directive, which the book
    renders as a numbered table; the caption may hold roles such as ``{eq}``) and ``text/plain`` (aligned columns, which
    the test suite compares).

    Examples
    --------
    >>> print(Table([(2, 1.0312)], caption="Ratios.", name="tbl-demo",
    ...             header=["$L$", "ratio"], formats=["d", ".3f"]))
    Table: Ratios.
    $L$ ratio
      2 1.031
    """

    def __init__(
        self, rows, caption: str, name: str, header=None, formats=None
    ):
        if not re.fullmatch(r"tbl-[a-z0-9-]+", name or ""):
            raise ValueError(f"a table's name must be 'tbl-...', got {name!r}")
        if not caption:
            raise ValueError("a table needs a caption")
        if header is None:
            if not hasattr(rows, "columns"):
                raise ValueError("plain rows need a header")
            header = [str(c) for c in rows.columns]
        if hasattr(rows, "itertuples"):
            rows = list(rows.itertuples(index=False, name=None))
        header = [str(h) for h in header]
        formats = list(formats) if formats is not None else [fmt] * len(header)
        if len(formats) != len(header):
            raise ValueError(
                f"{len(formats)} formats for {len(header)} columns"
            )
        body = []
        for row in rows:
            if len(row) != len(header):
                raise ValueError(
                    f"a row has {len(row)} entries for {len(header)} columns"
                )
            body.append([_cell(v, f) for v, f in zip(row, formats)])
        self.caption, self.name, self.header, self.body = (
            caption,
            name,
            header,
            body,
        )
        super().__init__(self._plain(), self._html(), self._markdown())

    def _plain(self) -> str:
        cols = [self.header, *self.body]
        widths = [
            max(len(r[k]) for r in cols) for k in range(len(self.header))
        ]
        lines = [
            " ".join(plain_text(v).rjust(w) for v, w in zip(r, widths))
            for r in cols
        ]
        return "\n".join([f"Table: {plain_text(self.caption)}", *lines])

    def _html(self) -> str:
        import pandas as pd

        frame = pd.DataFrame(
            [[_html_text(v) for v in r] for r in self.body],
            columns=[_html_text(h) for h in self.header],
        )
        styler = (
            frame.style.hide(axis="index")
            .set_caption(_html_text(self.caption))
            .set_uuid(self.name.replace("-", "_"))
            .set_table_attributes('class="dln-table"')
        )
        return styler.to_html()

    def _markdown(self) -> str:
        lines = [
            # a tilde fence: its opening line may hold backticks (a role in the caption)
            f"~~~{{list-table}} {self.caption}",
            f":name: {self.name}",
            ":header-rows: 1",
            "",
        ]
        for r in [self.header, *self.body]:
            lines += [f"* - {_myst_cell(r[0])}"]
            lines += [f"  - {_myst_cell(v)}" for v in r[1:]]
        lines.append("~~~")
        return "\n".join(lines)


def table(rows, caption: str, name: str, header=None, formats=None) -> None:
    """Show a :class:`Table` under the cell (see there for the parameters)."""
    _display(Table(rows, caption, name, header=header, formats=formats))
