"""The valid range of every knob of a chapter, written once, as data.

A chapter's parameters cell gives each knob a value and a comment with its
range; the same ranges are stated as a :class:`Spec` (one per chapter, in
:mod:`dlnlib.chapter_ranges`), which the next cell checks the values
against. A spec reads::

    spec = Spec(
        seed=integer(0),
        sens_d=integer(8, 12),
        sens_n=integer(
            lambda p: 2.5 * p.sens_d,
            lambda p: 3 * p.sens_d,
            text="2.5 sens_d..3 sens_d",
            why="with more, the convex references coincide",
        ),
        depths=sequence(integer(2, 4), min_len=1, text="each 2..4"),
    )
    spec.couple(
        lambda p: p.lr**2 * p.noise_std**2 * p.steps >= 100,
        "label noise needs time: lr^2 noise_std^2 steps must be >= 100",
        got=lambda p: p.lr**2 * p.noise_std**2 * p.steps,
    )
    spec.check(globals())  # in the chapter, after spec = spec_of("...")

The same spec is read by the tests (the comment of each knob must contain its
range text, every variant set must pass) and by sweeps (:meth:`Spec.edges`
lists each knob's ends, :meth:`Spec.outside` values just outside them).

Kinds of knob
    :func:`integer` and :func:`real` (bounds included, each a number, a
    function of the other knobs or ``None``), :func:`choice` (one of given
    values), :func:`sequence` (a list or tuple whose elements have a kind of
    their own, with length limits) and :func:`mapping` (a dict whose entries
    have a kind each, e.g. a step size per depth).

Dependent bounds
    A bound (or a length limit, or the keys a mapping needs) may be a
    function of ``p``, the knobs' values read as attributes (``p.sens_d``).
    It may read only knobs declared *before* it in the spec, so the first
    violation reported is the knob to change.

Couplings
    Conditions that are no range of one knob (a product, an order, "contains
    every value of") are :meth:`Spec.couple` entries, checked after every knob
    is in its own range.

Exploring outside the ranges
    With the environment variable ``DLNLIB_RANGES=explore`` (set by
    ``python -m dlnlib.sweep --explore``, which maps where the claims stop
    holding), :meth:`Spec.check` does not refuse values out of range: it
    prints one line saying which value is outside and that the claims below
    are not promised there, and the chapter runs on. Unset, or ``strict``,
    it refuses them (the default, and the promise of the README).
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Callable, Mapping

__all__ = [
    "EXPLORING",
    "PREFIX",
    "RANGES_ENV",
    "Range",
    "Spec",
    "choice",
    "integer",
    "mapping",
    "ranges_mode",
    "real",
    "sequence",
]

#: Every refusal starts with this (tests, :mod:`dlnlib.sweep` and readers rely on it).
PREFIX = "parameter out of range: "

#: The environment variable that lets :meth:`Spec.check` run on outside the ranges.
RANGES_ENV = "DLNLIB_RANGES"

#: What :meth:`Spec.check` prints, in explore mode, instead of refusing.
EXPLORING = "outside the documented ranges (DLNLIB_RANGES=explore): "


def ranges_mode() -> str:
    """``"strict"`` (refuse values out of range) or ``"explore"`` (show them, go on).

    Read from the environment variable ``DLNLIB_RANGES`` at every call.

    Raises
    ------
    ValueError
        When the variable holds anything else, so that a misspelt mode never
        silently refuses or lets through.
    """
    mode = os.environ.get(RANGES_ENV, "strict").strip().lower() or "strict"
    if mode not in ("strict", "explore"):
        raise ValueError(
            f"{RANGES_ENV} must be 'strict' or 'explore', got {mode!r}"
        )
    return mode


def _number(x) -> str:
    """A bound as the comments write it: ``5``, ``0.3``, ``1e-12``."""
    if isinstance(x, numbers.Integral):
        return str(int(x))
    text = repr(float(x))
    if text.endswith(".0"):
        text = text[:-2]
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", text)


def _show(value) -> str:
    """A value in a message; numpy scalars as the Python numbers they hold."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float):
        return _number(value)
    return repr(value)


def _span(lo, hi) -> str:
    if lo is None:
        return f"<= {_number(hi)}"
    if hi is None:
        return f">= {_number(lo)}"
    return f"{_number(lo)}..{_number(hi)}"


def _read(text: str) -> float | None:
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return None


def _agrees(text: str, lo, hi) -> bool:
    """Whether a text of the form ``A..B``, ``>= A`` or ``<= B`` names these bounds.

    Texts of any other form (``2.5 sens_d..3 sens_d``) are not read.
    """
    match = re.fullmatch(r"\s*(\S+)\s*\.\.\s*(\S+)\s*", text)
    if match:
        a, b = _read(match[1]), _read(match[2])
        if a is not None and b is not None:
            return (a, b) == (lo, hi)
    match = re.fullmatch(r"\s*(>=|<=)\s*(\S+)\s*", text)
    if match and _read(match[2]) is not None:
        return (lo, hi) == (
            (_read(match[2]), None)
            if match[1] == ">="
            else (None, _read(match[2]))
        )
    return True


class Range:
    """The range of one knob: its kind, bounds, range text and reason.

    Made by :func:`integer`, :func:`real`, :func:`choice`, :func:`sequence`
    and :func:`mapping`; not by hand.

    Attributes
    ----------
    text : str
        The range as the parameters cell's comment writes it.
    why : str or None
        Why the range stops there, said in a refusal.
    """

    def __init__(self, text: str, why: str | None) -> None:
        if not isinstance(text, str) or not text.strip():
            raise TypeError(
                "a range needs a text, as the comment writes it (text=...)"
            )
        self.text, self.why = text, why

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.text}>"

    # What each kind answers (p: the other knobs, see Spec).
    def problem(self, value, p) -> str | None:
        """``None`` when ``value`` is in range, else a detail ('' for none)."""
        raise NotImplementedError

    def _slots(self, value, p):
        """``(scalar range, value, rebuild, sides)`` of each end to move toward."""
        return [(self, value, lambda x: x, ("lo", "hi"))]

    def _shapes(self, value, p) -> list:
        """Other values at the ends of the knob's shape (a length)."""
        return []

    def _outside(self, value, p) -> list:
        """Values just outside the range."""
        return []


class _Number(Range):
    def __init__(self, integral, lo, hi, lo_open, text, why) -> None:
        dependent = callable(lo) or callable(hi)
        if lo_open and lo is None:
            raise ValueError("lo_open needs a lower bound")
        if text is None:
            if dependent:
                raise TypeError(
                    "a bound that depends on other knobs needs text=..."
                )
            if lo is None and hi is None:
                text = "any integer" if integral else "any number"
            elif lo_open:
                text = (
                    f"> {_number(lo)}"
                    if hi is None
                    else f"({_number(lo)}, {_number(hi)}]"
                )
            else:
                text = _span(lo, hi)
        super().__init__(text, why)
        for bound in (lo, hi):
            if not (
                bound is None
                or callable(bound)
                or (
                    isinstance(bound, numbers.Real)
                    and not isinstance(bound, bool)
                    and math.isfinite(bound)
                )
            ):
                raise TypeError(
                    f"a bound is a finite number, a function or None, got {bound!r}"
                )
        if not dependent:
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"empty range: {lo} > {hi}")
            if not _agrees(text, lo, hi):
                raise ValueError(
                    f"the text {text!r} does not name the bounds {_span(lo, hi)}"
                )
        self.integral, self.dependent = integral, dependent
        self.lo, self.hi, self.lo_open = lo, hi, lo_open

    def bounds(self, p) -> tuple:
        """``(lo, hi)`` for the knobs' values ``p`` (``None``: no bound)."""
        return tuple(b(p) if callable(b) else b for b in (self.lo, self.hi))

    def problem(self, value, p):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return "not an integer" if self.integral else "not a number"
        if not math.isfinite(value):
            return "not finite"
        if self.integral and not float(value).is_integer():
            return "not an integer"
        lo, hi = self.bounds(p)
        below = lo is not None and (
            value <= lo if self.lo_open else value < lo
        )
        if below or (hi is not None and value > hi):
            return f"here {_span(lo, hi)}" if self.dependent else ""
        return None

    def _ends(self, p) -> tuple:
        """The attainable ends, ``None`` for an open or missing one."""
        lo, hi = self.bounds(p)
        if self.lo_open:
            lo = None
        if self.integral:
            lo = None if lo is None else math.ceil(lo)
            hi = None if hi is None else math.floor(hi)
        return lo, hi

    def clamp(self, value, p):
        """``value`` moved to the nearest attainable end when it is outside."""
        lo, hi = self._ends(p)
        if lo is not None and value < lo:
            value = lo
        if hi is not None and value > hi:
            value = hi
        return value

    def _outside(self, value, p) -> list:
        lo, hi = self.bounds(p)
        out = []
        if lo is not None:
            if self.lo_open:
                out.append(math.floor(lo) if self.integral else lo)
            elif self.integral:
                out.append(math.ceil(lo) - 1)
            else:
                out.append(math.nextafter(lo, -math.inf))
        if hi is not None:
            out.append(
                math.floor(hi) + 1
                if self.integral
                else math.nextafter(hi, math.inf)
            )
        return out


def integer(lo=None, hi=None, *, text=None, why=None) -> Range:
    """An integer knob, ``lo <= value <= hi``.

    A whole float (``2e5``) is accepted, as :mod:`dlnlib`'s functions do.

    Parameters
    ----------
    lo, hi : int, float, callable or None, optional
        The bounds, both included; a callable ``f(p)`` reads the knobs
        declared before (``lambda p: 2 * p.d``); ``None``: unbounded.
    text : str, optional
        The range as the comment writes it; by default ``lo..hi``,
        ``>= lo`` or ``<= hi`` (needed when a bound is a callable).
    why : str, optional
        Why, said when a value is refused.

    Returns
    -------
    Range

    Examples
    --------
    >>> integer(4, 16).text, integer(0).text
    ('4..16', '>= 0')
    >>> integer(4, 16).problem(17, None), integer(4, 16).problem(8, None)
    ('', None)
    >>> integer(4, 16).problem(8.5, None), integer(4, 16).problem(8.0, None)
    ('not an integer', None)
    """
    return _Number(True, lo, hi, False, text, why)


def real(lo=None, hi=None, *, lo_open=False, text=None, why=None) -> Range:
    """A real knob (an int is accepted), finite, ``lo <= value <= hi``.

    Parameters
    ----------
    lo, hi : float, callable or None, optional
        As :func:`integer`.
    lo_open : bool, optional
        Exclude ``lo`` itself (``lo < value``), e.g. a step size above 0.
    text, why : str, optional
        As :func:`integer`.

    Returns
    -------
    Range

    Examples
    --------
    >>> real(1e-12, 1e-6).text, real(0.3, 1.0).text, real(0, lo_open=True).text
    ('1e-12..1e-6', '0.3..1', '> 0')
    >>> real(0, 5.0, lo_open=True).text, real(0, 5.0, lo_open=True).problem(0.0, None)
    ('(0, 5]', '')
    >>> real(1e-7, 1e-3, text="1e-7..1e-3").problem(float("nan"), None)
    'not finite'
    """
    return _Number(False, lo, hi, lo_open, text, why)


class _Choice(Range):
    def __init__(self, values, text, why) -> None:
        if not values:
            raise ValueError("a choice needs values")
        super().__init__(
            text
            or ", ".join(map(_show, values[:-1]))
            + (" or " if len(values) > 1 else "")
            + _show(values[-1]),
            why,
        )
        self.values = tuple(values)
        self.numeric = all(
            isinstance(v, numbers.Real) and not isinstance(v, bool)
            for v in values
        )

    def problem(self, value, p):
        return None if value in self.values else ""

    def _ends(self, p) -> tuple:
        if not self.numeric:
            return None, None
        return min(self.values), max(self.values)

    def _outside(self, value, p) -> list:
        if not self.numeric:  # a value of another kind: none of the choices
            return ["none of these"]
        step = 1 if all(isinstance(v, int) for v in self.values) else 1e-9
        return [min(self.values) - step, max(self.values) + step]


def choice(*values, text=None, why=None) -> Range:
    """A knob that takes one of the given values.

    Examples
    --------
    >>> depth = choice(2, 3, 4)
    >>> depth.text, depth.problem(3, None), depth.problem(5, None)
    ('2, 3 or 4', None, '')
    """
    return _Choice(values, text, why)


def _rebuild(value, index, x):
    items = list(value)
    items[index] = x
    return type(value)(items)


class _Sequence(Range):
    def __init__(self, element, min_len, max_len, text, why) -> None:
        if not isinstance(element, Range):
            raise TypeError(
                f"a sequence's element is a Range (integer(...), ...), got {element!r}"
            )
        if text is None:
            if callable(min_len) or callable(max_len):
                raise TypeError("a length that depends on knobs needs text=")
            text = f"each {element.text}"
            if max_len is not None or min_len:
                text = f"{_span(min_len, max_len)} of {element.text}"
        super().__init__(text, why)
        if not callable(min_len) and not callable(max_len):
            if max_len is not None and min_len > max_len:
                raise ValueError(f"min_len {min_len} > max_len {max_len}")
        self.element, self.min_len, self.max_len = element, min_len, max_len

    def lengths(self, p) -> tuple:
        """``(min_len, max_len)`` for the knobs' values ``p``."""
        return tuple(
            b(p) if callable(b) else b for b in (self.min_len, self.max_len)
        )

    def problem(self, value, p):
        if not isinstance(value, (list, tuple)):
            return "not a list or tuple"
        low, high = self.lengths(p)
        if len(value) < low or (high is not None and len(value) > high):
            return f"length {len(value)}"
        for x in value:
            detail = self.element.problem(x, p)
            if detail is not None:
                return f"element {_show(x)} " + (
                    detail or f"not {self.element.text}"
                )
        return None

    def _extremes(self, value):
        """Indices of the smallest and the largest element, when comparable."""
        if not value or not isinstance(self.element, (_Number, _Choice)):
            return None
        if isinstance(self.element, _Choice) and not self.element.numeric:
            return None
        indices = range(len(value))
        return (
            min(indices, key=value.__getitem__),
            max(indices, key=value.__getitem__),
        )

    def _slots(self, value, p):
        extremes = self._extremes(value)
        if extremes is None:
            return []
        (i, j), element = extremes, self.element
        return [
            (element, value[i], lambda x: _rebuild(value, i, x), ("lo",)),
            (element, value[j], lambda x: _rebuild(value, j, x), ("hi",)),
        ]

    def _shapes(self, value, p) -> list:
        low, high = self.lengths(p)
        out = []
        if len(value) > low:
            out.append(type(value)(value[:low]))
        if high is not None and value and len(value) < high:
            out.append(
                type(value)([*value, *[value[-1]] * (high - len(value))])
            )
        return out

    def _outside(self, value, p) -> list:
        low, high = self.lengths(p)
        out = []
        extremes = self._extremes(value)
        if extremes is not None:
            lo_end, hi_end = self.element._ends(p)
            for x in self.element._outside(value[0], p):
                if lo_end is not None and x < lo_end:
                    out.append(_rebuild(value, extremes[0], x))
                elif hi_end is not None and x > hi_end:
                    out.append(_rebuild(value, extremes[1], x))
        elif value:  # elements with a shape of their own: the first one
            out += [
                _rebuild(value, 0, x)
                for x in self.element._outside(value[0], p)
            ]
        if low > 0:
            out.append(type(value)(value[: low - 1]))
        if high is not None and value:
            out.append(
                type(value)([*value, *[value[-1]] * (high + 1 - len(value))])
            )
        return out


def sequence(element, min_len=0, max_len=None, *, text=None, why=None):
    """A list or tuple of elements, each in the range ``element``.

    Parameters
    ----------
    element : Range
        The range of every element (:func:`integer`, ..., or a sequence).
    min_len, max_len : int, callable or None, optional
        Length limits, both included (``max_len=None``: no limit); a
        callable ``f(p)`` reads the knobs declared before.
    text : str, optional
        The range as the comment writes it (by default from the element's).
    why : str, optional

    Returns
    -------
    Range

    Examples
    --------
    >>> dims = sequence(integer(1, 8), min_len=3, text="L >= 2, 1..8")
    >>> dims.problem((4, 5, 3, 2), None), dims.problem((4, 9), None)
    (None, 'length 2')
    >>> dims.problem((4, 9, 2), None)
    'element 9 not 1..8'
    >>> sequence(integer(2, 5), min_len=1).text
    '>= 1 of 2..5'
    """
    return _Sequence(element, min_len, max_len, text, why)


class _Mapping(Range):
    def __init__(self, entries, keys, text, why) -> None:
        super().__init__(text, why)
        if not entries or not all(
            isinstance(r, Range) for r in entries.values()
        ):
            raise TypeError("a mapping needs {key: Range, ...}")
        self.entries, self.keys = dict(entries), keys

    def needed(self, p) -> list:
        """The keys that must be present for the knobs' values ``p``."""
        return list(self.keys(p) if callable(self.keys) else self.entries)

    def problem(self, value, p):
        if not isinstance(value, Mapping):
            return "not a dict"
        for key in self.needed(p):
            if key not in self.entries:
                return f"no range for the key {_show(key)}"
            if key not in value:
                return f"no entry for {_show(key)}"
            detail = self.entries[key].problem(value[key], p)
            if detail is not None:
                return f"entry {_show(key)}: {_show(value[key])} " + (
                    detail or f"not {self.entries[key].text}"
                )
        return None

    def _slots(self, value, p):
        def rebuild(key):
            return lambda x: {**value, key: x}

        return [
            (self.entries[key], value[key], rebuild(key), ("lo", "hi"))
            for key in self.needed(p)
            if isinstance(self.entries[key], (_Number, _Choice))
        ]

    def _outside(self, value, p) -> list:
        out = []
        for key in self.needed(p):
            out += [
                {**value, key: x}
                for x in self.entries[key]._outside(value[key], p)
            ]
            out.append({k: v for k, v in value.items() if k != key})
        return out


def mapping(entries, *, keys=None, text, why=None) -> Range:
    """A dict knob whose entries have ranges of their own, key by key.

    Parameters
    ----------
    entries : dict
        ``{key: Range}``.
    keys : callable, optional
        ``f(p)``, the keys that must be present and in range (e.g. the depths
        the chapter runs, ``lambda p: p.depths``); by default every key of
        ``entries``. Other keys of the value are not read.
    text : str
        The range as the comment writes it.
    why : str, optional

    Returns
    -------
    Range

    Examples
    --------
    >>> lr = mapping({2: real(0, 5.0, lo_open=True)}, text="each <= default")
    >>> lr.problem({2: 1.0, 7: -1}, None), lr.problem({2: 6.0}, None)
    (None, 'entry 2: 6 not (0, 5]')
    >>> lr.problem({}, None)
    'no entry for 2'
    """
    return _Mapping(entries, keys, text, why)


class _Knobs:
    """The knobs' values as attributes, limited to those a bound may read."""

    def __init__(self, values: dict, readable, reader: str | None) -> None:
        self._values, self._readable, self._reader = values, readable, reader

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._readable:
            return self._values[name]
        if name in self._values:
            raise TypeError(
                f"bad spec: the range of {self._reader} reads {name}, which"
                f" is declared after it; declare {name} first"
            )
        raise TypeError(f"bad spec: {name} is no knob of the spec")


class Spec:
    """Every knob of a chapter with its range, and the couplings between them.

    Parameters
    ----------
    **knobs : Range
        ``name=range``, in an order where a dependent bound reads only the
        knobs before it.

    Examples
    --------
    >>> spec = Spec(d=integer(2, 6), n=integer(lambda p: 2 * p.d, text="n >= 2 d"))
    >>> spec.check({"d": 4, "n": 8})
    >>> spec.check({"d": 4, "n": 7})
    Traceback (most recent call last):
    ...
    ValueError: parameter out of range: n = 7 must be n >= 2 d (here >= 8)
    >>> spec.couple(lambda p: p.n % 2 == 0, "n must be even", got=lambda p: p.n)
    >>> spec.check({"d": 4, "n": 9})
    Traceback (most recent call last):
    ...
    ValueError: parameter out of range: n must be even, got 9
    >>> spec.edges({"d": 4, "n": 8})
    [{'d': 2}, {'d': 6, 'n': 12}]
    """

    def __init__(self, **knobs: Range) -> None:
        for name, kind in knobs.items():
            if not isinstance(kind, Range):
                raise TypeError(
                    f"{name}: a knob's range is integer(...), real(...),"
                    f" choice(...), sequence(...) or mapping(...), got {kind!r}"
                )
        self.knobs: dict[str, Range] = dict(knobs)
        self.couplings: list[tuple[Callable, str, Callable | None]] = []

    @property
    def names(self) -> list[str]:
        """The knobs' names, in the spec's order."""
        return list(self.knobs)

    def couple(self, test: Callable, message: str, *, got=None) -> None:
        """Add a condition between knobs that is no range of one knob.

        Parameters
        ----------
        test : callable
            ``test(p) -> bool``, ``p`` the knobs' values as attributes; called
            only when every knob is in its own range.
        message : str
            What must hold and why, e.g. ``"fd_rtol must be at least 100 eps
            / fd_step: ..."``.
        got : callable, optional
            ``got(p)``: the value the message speaks of, shown after it.
        """
        if not callable(test) or (got is not None and not callable(got)):
            raise TypeError("couple(test, message, got=...) takes functions")
        if not isinstance(message, str) or not message:
            raise TypeError("a coupling needs a message")
        self.couplings.append((test, message, got))

    def _view(self, values: dict, reader: str | None = None) -> _Knobs:
        if reader is None:
            return _Knobs(values, self.knobs, None)
        return _Knobs(values, self.names[: self.names.index(reader)], reader)

    def violation(self, values: Mapping) -> str | None:
        """The first problem of these values, or ``None`` when they are in range.

        Knobs are checked in the spec's order, then the couplings.
        """
        missing = [name for name in self.knobs if name not in values]
        if missing:
            raise NameError(f"no value for the knobs {', '.join(missing)}")
        for name, kind in self.knobs.items():
            detail = kind.problem(values[name], self._view(values, name))
            if detail is not None:
                why = f": {kind.why}" if kind.why else ""
                detail = f" ({detail})" if detail else ""
                return (
                    f"{name} = {_show(values[name])} must be {kind.text}"
                    f"{detail}{why}"
                )
        p = self._view(values)
        for test, message, got in self.couplings:
            if not test(p):
                return message + (f", got {_show(got(p))}" if got else "")
        return None

    def check(self, namespace: Mapping) -> None:
        """Refuse values out of range, naming the first knob or coupling broken.

        Parameters
        ----------
        namespace : mapping
            Where the knobs are, e.g. a notebook's ``globals()``; other names
            in it are not read.

        Raises
        ------
        ValueError
            ``"parameter out of range: <name> = <value> must be <range text>
            (<detail>): <why>"`` for a knob, ``"parameter out of range:
            <message>, got <value>"`` for a coupling.
        NameError
            When a knob has no value in ``namespace``.

        Notes
        -----
        In explore mode (:func:`ranges_mode`, ``DLNLIB_RANGES=explore``) the
        problem is printed, ``"outside the documented ranges
        (DLNLIB_RANGES=explore): <problem>; the claims below are not promised
        for these values"``, instead of raised.
        """
        problem = self.violation(namespace)
        if problem is None:
            return
        if ranges_mode() == "explore":
            print(
                f"{EXPLORING}{problem}; the claims below are not promised for"
                " these values"
            )
            return
        raise ValueError(PREFIX + problem)

    def defaults(self, namespace: Mapping) -> dict:
        """The knobs' values in ``namespace``, in the spec's order."""
        return {name: namespace[name] for name in self.knobs}

    # --- values for sweeps ---------------------------------------------------------------------

    def _repaired(self, base: dict, name: str, value) -> dict:
        """``base`` with ``name`` set to ``value``, and every numeric knob whose
        own range moved with it (a dependent bound) clamped into that range."""
        values = {**base, name: value}
        for other, kind in self.knobs.items():
            if other == name or not isinstance(kind, _Number):
                continue
            p = self._view(values, other)
            v = values[other]
            if (
                isinstance(v, numbers.Real)
                and not isinstance(v, bool)
                and kind.problem(v, p) is not None
            ):
                values[other] = kind.clamp(v, p)
        return values

    def _accepts(self, base, name, value) -> dict | None:
        values = self._repaired(base, name, value)
        return values if self.violation(values) is None else None

    def _reach(self, base, name, slot, x0, rebuild, target):
        """The value nearest ``target``, from ``x0`` on, that the spec accepts."""
        if self._accepts(base, name, rebuild(target)) is not None:
            return target
        if isinstance(slot, _Choice):
            between = sorted(
                (
                    v
                    for v in slot.values
                    if min(x0, target) < v < max(x0, target)
                ),
                key=lambda v: abs(v - target),
            )
            for v in between:
                if self._accepts(base, name, rebuild(v)) is not None:
                    return v
            return x0
        good, bad = x0, target
        if slot.integral:
            while abs(bad - good) > 1:
                mid = (good + bad) // 2
                if self._accepts(base, name, rebuild(mid)) is not None:
                    good = mid
                else:
                    bad = mid
            return good
        for _ in range(64):
            mid = (good + bad) / 2
            if self._accepts(base, name, rebuild(mid)) is not None:
                good = mid
            else:
                bad = mid
        for digits in range(2, 7):  # a rounder value, as near the end
            rounder = float(f"{good:.{digits}g}")
            if abs(rounder - good) <= 0.01 * abs(
                target - x0
            ) and self._accepts(base, name, rebuild(rounder)):
                return rounder
        return good

    def edges(self, defaults: Mapping, interior: int = 0) -> list[dict]:
        """Values at the ends of every knob's range, one knob moved at a time.

        For each knob, from ``defaults``: a number moved to each end of its
        range (an open end is skipped); a sequence's smallest element moved
        to the element's lower end, its largest to the upper end, and the
        sequence cut to its least length and stretched to its greatest (the
        last element repeated); a mapping's needed entries moved like
        numbers; a choice of numbers moved to its smallest and largest
        value, any other choice to each of its values. A knob
        whose range depends on the moved one is clamped into its new range;
        when a coupling still refuses the end, the moved value stops at the
        accepted value nearest the end (found by bisection, between the
        default and the end), and a value the spec refuses is left out.

        Parameters
        ----------
        defaults : mapping
            A value for every knob, in range (e.g. :meth:`defaults`).
        interior : int, optional
            Also this many values between the two ends of each number
            (evenly spaced, or geometrically when the ends are positive and a
            factor of 10 or more apart).

        Returns
        -------
        list of dict
            ``{name: value, ...}``: the moved knob and the knobs clamped with
            it, the others at ``defaults``; each set passes :meth:`check`,
            none is the defaults, none is listed twice.

        Raises
        ------
        ValueError
            When ``defaults`` are out of range.

        Examples
        --------
        >>> spec = Spec(
        ...     lr=real(0.01, 0.05), steps=integer(100_000, 400_000, text="1e5..4e5")
        ... )
        >>> spec.couple(lambda p: p.lr**2 * p.steps >= 100, "lr^2 steps >= 100")
        >>> spec.edges({"lr": 0.05, "steps": 200_000})
        [{'lr': 0.0224}, {'steps': 100000}, {'steps': 400000}]
        >>> spec.edges({"lr": 0.05, "steps": 200_000}, interior=1)[:2]
        [{'lr': 0.0224}, {'lr': 0.0362}]
        """
        base = {name: defaults[name] for name in self.knobs}
        problem = self.violation(base)
        if problem is not None:
            raise ValueError(f"the defaults are out of range: {problem}")
        found: list[dict] = []

        def add(name: str, values: dict | None) -> None:
            if values is None:
                return
            moved = {
                k: v for k, v in values.items() if k == name or v != base[k]
            }
            if moved[name] != base[name] and moved not in found:
                found.append(moved)

        for name, kind in self.knobs.items():
            p = self._view(base, name)
            for slot, x0, rebuild, sides in kind._slots(base[name], p):
                if isinstance(slot, _Choice) and not slot.numeric:
                    for x in slot.values:
                        add(name, self._accepts(base, name, rebuild(x)))
                    continue
                lo, hi = slot._ends(p)
                ends = {}
                for side, target in (("lo", lo), ("hi", hi)):
                    if side in sides and target is not None:
                        ends[side] = self._reach(
                            base, name, slot, x0, rebuild, target
                        )
                middle = []
                if interior and len(ends) == 2 and isinstance(slot, _Number):
                    a, b = ends["lo"], ends["hi"]
                    k = range(1, interior + 1)
                    if a > 0 and b >= 10 * a:
                        middle = [
                            a * (b / a) ** (i / (interior + 1)) for i in k
                        ]
                    else:
                        middle = [a + (b - a) * i / (interior + 1) for i in k]
                    if slot.integral:
                        middle = [round(x) for x in middle]
                    else:
                        middle = [float(f"{x:.3g}") for x in middle]
                for x in [ends.get("lo"), *middle, ends.get("hi")]:
                    if x is not None:
                        add(name, self._accepts(base, name, rebuild(x)))
            for value in kind._shapes(base[name], p):
                add(name, self._accepts(base, name, value))
        return found

    def outside(self, defaults: Mapping) -> list[dict]:
        """Values just outside each knob's range, one knob at a time.

        A number one past an integer bound or the next float beyond a real
        one (an open bound itself); for a choice of other values (strings,
        booleans) the string ``"none of these"``; a sequence with its smallest or largest
        element so moved, one element too short or too long; a mapping with
        a needed entry so moved, or without it. :meth:`check` refuses each,
        naming the moved knob (the knobs declared after it are not read
        first).

        Parameters
        ----------
        defaults : mapping
            A value for every knob, in range.

        Returns
        -------
        list of dict
            ``{name: value}``, one knob each, the others at ``defaults``.

        Examples
        --------
        >>> Spec(d=integer(2, 6), tol=real(0, 1)).outside({"d": 4, "tol": 0.5})
        [{'d': 1}, {'d': 7}, {'tol': -5e-324}, {'tol': 1.0000000000000002}]
        """
        base = {name: defaults[name] for name in self.knobs}
        return [
            {name: value}
            for name, kind in self.knobs.items()
            for value in kind._outside(base[name], self._view(base, name))
        ]
