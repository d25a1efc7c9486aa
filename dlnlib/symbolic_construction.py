"""The construction that attains the lower bound, checked exactly by sympy.

The symbolic side of :mod:`dlnlib.construction` (chapter "Construction"):

- :func:`construction_scalars`: the construction's scales ``alpha``, ``beta``,
  ``gamma`` for general depth (:class:`SymbolicConstructionScales`);
- :func:`construction_partial_norms`, :func:`construction_terms`: the norms of
  the two halves of the factorization and the ``L`` terms of the regularizer,
  as formulas in those scales;
- :func:`generic_construction`, :func:`verify_generic_construction`: the
  factors built from generic symbolic matrices, and the exact check
  (:class:`ConstructionCheck`) that their product and norms are the formulas;
- :func:`rational_semi_orthogonal`: matrices with orthonormal columns and
  rational entries, for exact checks with an SVD.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import _checks
from .symbolic import frobenius_sq, symbol_matrix

__all__ = [
    "ConstructionCheck",
    "GenericConstruction",
    "SymbolicConstructionScales",
    "construction_partial_norms",
    "construction_scalars",
    "construction_terms",
    "generic_construction",
    "rational_semi_orthogonal",
    "verify_generic_construction",
]


@dataclass(frozen=True)
class SymbolicConstructionScales:
    """The scalars of the construction as sympy expressions (:func:`construction_scalars`).

    Book: equation :eq:`con-scales` in :doc:`/chapters/construction`.

    The symbolic counterpart of the numbers :class:`dlnlib.construction.ConstructionScales`.

    .. math::
        \\beta = \\Big(\\frac{\\nu}{x y}\\Big)^{1/L}, \\\\
        \\alpha = \\sqrt{x / y}\\, \\beta^{1 - L/2}, \\\\
        \\gamma = \\sqrt{y / x}\\, \\beta^{1 - L/2},

    with :math:`x = \\|X\\|_F`, :math:`y = \\|Y\\|_F`, :math:`\\nu = \\|X \\tilde W Y\\|_*`.

    Attributes
    ----------
    alpha, beta, gamma : sympy.Expr
    L, x, y, nu : sympy.Expr
        The depth and the three norms the scalars are built from (symbols by default).
    """

    alpha: sp.Expr
    beta: sp.Expr
    gamma: sp.Expr
    L: sp.Expr
    x: sp.Expr
    y: sp.Expr
    nu: sp.Expr


def construction_scalars(
    L=None, x=None, y=None, nu=None
) -> SymbolicConstructionScales:
    """The construction's ``alpha``, ``beta``, ``gamma`` for general (symbolic) depth.

    Book: equation :eq:`con-scales` in :doc:`/chapters/construction`.

    .. math::
        \\beta = \\Big(\\frac{\\nu}{x y}\\Big)^{1/L}, \\\\
        \\alpha = \\sqrt{x / y}\\, \\beta^{1 - L/2}, \\\\
        \\gamma = \\sqrt{y / x}\\, \\beta^{1 - L/2}

    By default ``L`` is a positive integer symbol and ``x``, ``y``, ``nu`` are
    positive symbols with the same names and assumptions as in
    :func:`dlnlib.symbolic_bound.collapsed_exponents`, so expressions from both functions combine.

    Parameters
    ----------
    L : int or sympy.Expr, optional
        Depth; an integer must be ``>= 2``.
    x, y, nu : sympy.Expr or number, optional
        :math:`\\|X\\|_F`, :math:`\\|Y\\|_F`, :math:`\\|X \\tilde W Y\\|_*`; must not be
        known to be nonpositive.

    Returns
    -------
    SymbolicConstructionScales

    Raises
    ------
    ValueError
        If ``L`` is a number that is not an integer ``>= 2``, or one of
        ``x``, ``y``, ``nu`` is known to be zero or negative.
    """
    if L is None:
        L = sp.Symbol("L", integer=True, positive=True)
    else:
        L = sp.sympify(L)
        if L.is_number and not (L.is_integer and L >= 2):
            raise ValueError(f"depth L must be an integer >= 2, got {L}")
    defaults = {"x": x, "y": y, "nu": nu}
    values = {}
    for name, value in defaults.items():
        value = (
            sp.Symbol(name, positive=True)
            if value is None
            else sp.sympify(value)
        )
        if value.is_positive is False:
            raise ValueError(f"{name} must be positive, got {value}")
        values[name] = value
    x, y, nu = values["x"], values["y"], values["nu"]
    beta = (nu / (x * y)) ** (1 / L)
    alpha = sp.sqrt(x / y) * beta ** (1 - L / 2)
    gamma = sp.sqrt(y / x) * beta ** (1 - L / 2)
    return SymbolicConstructionScales(alpha, beta, gamma, L, x, y, nu)


def _a_sq(j, alpha, beta, kappa):
    return alpha**2 * beta ** (2 * (j - 1)) * kappa


def _b_sq(j, L, beta, gamma, eta):
    return beta ** (2 * (L - 1 - j)) * gamma**2 * eta


def _check_depth(L) -> sp.Expr:
    L = sp.sympify(L)
    if L.is_number and not (L.is_integer and L >= 2):
        raise ValueError(f"depth L must be an integer >= 2, got {L}")
    return L


def construction_partial_norms(
    l, L, alpha, beta, gamma, kappa, eta
) -> tuple[sp.Expr, sp.Expr]:
    """Squared Frobenius norms of the two halves of the construction split after layer ``l``.

    Book: equation :eq:`con-ab` in :doc:`/chapters/construction`.

    For ``1 <= l <= L - 1`` the construction has
    :math:`X W_1 \\cdots W_l = \\alpha \\beta^{l-1} (U \\Sigma^{1/2} \\;\\, 0)` and
    :math:`W_{l+1} \\cdots W_L Y = \\beta^{L-1-l} \\gamma\\, (\\Sigma^{1/2} V^\\top ; 0)`, so

    .. math:: a_l^2 = \\alpha^2 \\beta^{2(l-1)} \\kappa, \\qquad
              b_l^2 = \\beta^{2(L-1-l)} \\gamma^2 \\eta,

    with :math:`\\kappa = \\|U \\Sigma^{1/2}\\|_F^2` and :math:`\\eta = \\|\\Sigma^{1/2} V^\\top\\|_F^2`
    (both equal :math:`\\operatorname{tr} \\Sigma = \\|X \\tilde W Y\\|_*`). The boundary values are
    :math:`a_0 = \\|X\\|_F` and :math:`b_L = \\|Y\\|_F`.

    Parameters
    ----------
    l, L : int or sympy.Expr
        Split position and depth; symbols are allowed (then ``1 <= l <= L-1`` is assumed).
    alpha, beta, gamma, kappa, eta : sympy.Expr or number

    Returns
    -------
    a_sq, b_sq : sympy.Expr
        :math:`a_l^2` and :math:`b_l^2`.

    Raises
    ------
    ValueError
        If ``L`` is a number that is not an integer ``>= 2``, or ``l`` and ``L``
        are numbers with ``l`` outside ``1..L-1``.
    """
    l, L = sp.sympify(l), _check_depth(L)
    if l.is_number and L.is_number and not (l.is_integer and 1 <= l <= L - 1):
        raise ValueError(
            f"split position l must be an integer in 1..L-1 = 1..{L - 1}, got {l}"
        )
    return _a_sq(l, alpha, beta, kappa), _b_sq(l, L, beta, gamma, eta)


def construction_terms(
    L, alpha, beta, gamma, x_sq, y_sq, kappa, eta, l=None
) -> dict[str, sp.Expr]:
    """The terms ``T_l = a_{l-1}^2 b_l^2`` of the regularizer for the construction.

    Book: equation :eq:`con-equal` in :doc:`/chapters/construction`.

    From :func:`construction_partial_norms`, with :math:`a_0^2 = x^2 = \\|X\\|_F^2` and
    :math:`b_L^2 = y^2 = \\|Y\\|_F^2`:

    .. math::
        T_1 = x^2 \\beta^{2(L-2)} \\gamma^2 \\eta, \\\\
        T_l = \\alpha^2 \\beta^{2(l-2)} \\kappa \\cdot \\beta^{2(L-1-l)} \\gamma^2 \\eta
        \\;\\; (2 \\le l \\le L-1), \\\\
        T_L = \\alpha^2 \\beta^{2(L-2)} \\kappa \\, y^2 .

    Parameters
    ----------
    L : int or sympy.Expr
        Depth (``>= 2`` if a number).
    alpha, beta, gamma, x_sq, y_sq, kappa, eta : sympy.Expr or number
    l : sympy.Symbol or int, optional
        Position of the interior term; a fresh positive integer symbol ``l`` by default.

    Returns
    -------
    dict
        ``"first"`` (:math:`T_1`), ``"interior"`` (:math:`T_l`, meaningful for
        ``2 <= l <= L-1``, so only when ``L >= 3``), ``"last"`` (:math:`T_L`) and ``"l"``.

    Raises
    ------
    ValueError
        If ``L`` is a number that is not an integer ``>= 2``.
    """
    L = _check_depth(L)
    l = (
        sp.Symbol("l", integer=True, positive=True)
        if l is None
        else sp.sympify(l)
    )
    return {
        "first": x_sq * _b_sq(1, L, beta, gamma, eta),
        "interior": _a_sq(l - 1, alpha, beta, kappa)
        * _b_sq(l, L, beta, gamma, eta),
        "last": _a_sq(L - 1, alpha, beta, kappa) * y_sq,
        "l": l,
    }


def rational_semi_orthogonal(
    m: int, r: int, name: str = "t"
) -> tuple[sp.Matrix, tuple]:
    """An ``m x r`` matrix with orthonormal columns and rational entries in free parameters.

    Book: used in :doc:`/chapters/construction` and
    :doc:`/chapters/conclusion`.

    The product of Givens rotations :math:`G_{ji}(t)` with the rational
    (Cayley) parametrization :math:`\\cos = (1 - t^2)/(1 + t^2)`,
    :math:`\\sin = 2t/(1 + t^2)`, one per pair ``j < i`` with ``j < r``,
    restricted to its first ``r`` columns. So :math:`U^\\top U = I_r`
    holds as an identity of rational functions, which sympy verifies exactly
    (no trigonometric simplification needed).

    Parameters
    ----------
    m, r : int
        ``1 <= r <= m <= 3`` (larger sizes make the exact check slow).
    name : str, optional
        Stem of the parameter names ``{name}1, {name}2, ...``.

    Returns
    -------
    U : sympy.Matrix, shape (m, r)
    params : tuple of sympy.Symbol
        The real parameters.

    Raises
    ------
    ValueError
        If ``m`` or ``r`` is not an integer with ``1 <= r <= m <= 3``, or ``name`` is empty.
    """
    m = _checks.integer(m, "m", 1, 3)
    r = _checks.integer(r, "r", 1, m)
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a nonempty string, got {name!r}")
    Q = sp.eye(m)
    params = []
    for j in range(min(r, m - 1)):
        for i in range(j + 1, m):
            t = sp.Symbol(f"{name}{len(params) + 1}", real=True)
            params.append(t)
            G = sp.eye(m)
            c, s = (1 - t**2) / (1 + t**2), 2 * t / (1 + t**2)
            G[j, j], G[i, i], G[j, i], G[i, j] = c, c, -s, s
            Q = Q * G
    return Q[:, :r], tuple(params)


@dataclass(frozen=True)
class GenericConstruction:
    """The construction built from generic symbolic matrices (see :func:`generic_construction`).

    Book: equation :eq:`con-factors` in :doc:`/chapters/construction`.

    Attributes
    ----------
    widths : tuple of int
        ``(d_0, ..., d_L)``.
    rank : int
        ``r``.
    X, Y : sympy.Matrix
        Generic ``d_0 x d_0`` and ``d_L x d_L`` symbol matrices.
    K, H : sympy.Matrix
        Generic ``d_0 x r`` and ``r x d_L`` symbol matrices standing for
        :math:`U \\Sigma^{1/2}` and :math:`\\Sigma^{1/2} V^\\top`.
    alpha, beta, gamma : sympy.Symbol
        Free positive symbols (the construction's values are not substituted).
    factors : tuple of sympy.polys.matrices.DomainMatrix
        ``W_1, ..., W_L`` over the field of rational functions in all symbols.
    """

    widths: tuple
    rank: int
    X: sp.Matrix
    Y: sp.Matrix
    K: sp.Matrix
    H: sp.Matrix
    alpha: sp.Symbol
    beta: sp.Symbol
    gamma: sp.Symbol
    factors: tuple


def _selector(rows: int, cols: int, r: int, field):
    from sympy.polys.matrices import DomainMatrix

    return DomainMatrix(
        {k: {k: field.one} for k in range(r)}, (rows, cols), field
    )


def generic_construction(widths, rank: int) -> GenericConstruction:
    """The post's factors with generic symbolic ``X``, ``Y``, ``U Sigma^{1/2}``, ``Sigma^{1/2} V^T``.

    Book: equation :eq:`con-factors` in :doc:`/chapters/construction`.

    With :math:`E_i = (I_r \\;\\, 0) \\in \\mathbb R^{r \\times d_i}`, :math:`K = U \\Sigma^{1/2}`
    and :math:`H = \\Sigma^{1/2} V^\\top`,

    .. math::
        W_1 = \\alpha X^{-1} K E_1, \\\\
        W_i = \\beta E_{i-1}^\\top E_i \\;\\; (i = 2, \\dots, L-1), \\\\
        W_L = \\gamma E_{L-1}^\\top H Y^{-1},

    which is the block form of the construction (:math:`E_{i-1}^\\top E_i` is the
    :math:`d_{i-1} \\times d_i` matrix with :math:`I_r` in its top-left corner).
    ``X``, ``Y``, ``K``, ``H`` have independent symbols as entries, and
    ``alpha``, ``beta``, ``gamma`` are left free, so whatever
    :func:`verify_generic_construction` proves holds for all values. The
    arithmetic is exact, in sympy's field of rational functions (``DomainMatrix``).

    Parameters
    ----------
    widths : sequence of int
        ``(d_0, ..., d_L)``, depth ``2 <= L <= 12``, every ``d_i`` in ``1..4``.
    rank : int
        ``r >= 1`` with ``r <= d_i`` for every ``i`` (hidden widths at least the rank,
        and ``r <= min(d_0, d_L)``).

    Returns
    -------
    GenericConstruction

    Raises
    ------
    ValueError
        If ``widths`` is malformed, the depth or a width is out of range, or some
        ``d_i < rank``.
    """
    from sympy.polys.matrices import DomainMatrix

    try:
        d = tuple(_checks.integer(k, "every width d_i", 1, 4) for k in widths)
    except TypeError:
        raise ValueError(
            f"widths must be a sequence of integers (d_0, ..., d_L), got {widths!r}"
        ) from None
    if not 3 <= len(d) <= 13:
        raise ValueError(
            f"widths (d_0, ..., d_L) must describe a depth 2 <= L <= 12, got {len(d) - 1}"
        )
    r = _checks.integer(rank, "rank", 1)
    for i, di in enumerate(d):
        if di < r:
            raise ValueError(
                f"width d_{i} = {di} is below the rank r = {r}: the construction needs every d_i >= r"
            )
    L = len(d) - 1
    X = symbol_matrix("X", d[0], d[0])
    Y = symbol_matrix("Y", d[-1], d[-1])
    K = symbol_matrix("k", d[0], r)
    H = symbol_matrix("h", r, d[-1])
    alpha, beta, gamma = sp.symbols("alpha beta gamma", positive=True)
    gens = sorted(
        set().union(
            X.free_symbols, Y.free_symbols, K.free_symbols, H.free_symbols
        ),
        key=str,
    )
    field = sp.QQ.frac_field(*gens, alpha, beta, gamma)

    def dm(M):
        return DomainMatrix.from_Matrix(M).convert_to(field)

    a, b, g = (field.from_sympy(s) for s in (alpha, beta, gamma))
    first = dm(X).inv() * dm(K) * _selector(r, d[1], r, field) * a
    middle = [
        _selector(d[i - 1], r, r, field) * _selector(r, d[i], r, field) * b
        for i in range(2, L)
    ]
    last = _selector(d[L - 1], r, r, field) * dm(H) * dm(Y).inv() * g
    return GenericConstruction(
        d, r, X, Y, K, H, alpha, beta, gamma, (first, *middle, last)
    )


@dataclass(frozen=True)
class ConstructionCheck:
    """What :func:`verify_generic_construction` found, one flag per claim.

    Book: equations :eq:`con-product` and :eq:`con-ab` in
    :doc:`/chapters/construction`.

    Attributes
    ----------
    product : bool
        :math:`W_1 \\cdots W_L = \\alpha \\beta^{L-2} \\gamma \\, X^{-1} K H Y^{-1}`.
    left, right : tuple of bool
        For ``l = 1..L-1``: :math:`\\|X W_1 \\cdots W_l\\|_F^2 = a_l^2` and
        :math:`\\|W_{l+1} \\cdots W_L Y\\|_F^2 = b_l^2` as in
        :func:`construction_partial_norms` (with :math:`\\kappa = \\|K\\|_F^2`,
        :math:`\\eta = \\|H\\|_F^2`).
    terms : tuple of bool
        For ``l = 1..L``: :math:`T_l` equals the formula of :func:`construction_terms`.
    """

    product: bool
    left: tuple
    right: tuple
    terms: tuple

    @property
    def ok(self) -> bool:
        """All claims hold."""
        return (
            self.product
            and all(self.left)
            and all(self.right)
            and all(self.terms)
        )

    def holds(self) -> bool:
        """Whether the construction is verified, as for an :class:`~dlnlib.symbolic.Identity`.

        Returns
        -------
        bool
            :attr:`ok`: every claim holds.
        """
        return self.ok


def verify_generic_construction(gc: GenericConstruction) -> ConstructionCheck:
    """Check the structure of the construction exactly, for one depth and set of widths.

    Book: equations :eq:`con-product` and :eq:`con-ab` in
    :doc:`/chapters/construction`.

    Verifies, as identities of rational functions in all the symbols of
    :func:`generic_construction`,

    .. math::
        W_1 \\cdots W_L = \\alpha \\beta^{L-2} \\gamma \\; X^{-1} K H Y^{-1}, \\\\
        \\|X W_1 \\cdots W_l\\|_F^2 = a_l^2, \\\\ \\|W_{l+1} \\cdots W_L Y\\|_F^2 = b_l^2,

    and :math:`T_l = \\|X W_1 \\cdots W_{l-1}\\|_F^2 \\|W_{l+1} \\cdots W_L Y\\|_F^2` equal to
    :func:`construction_terms`, with :math:`\\kappa = \\|K\\|_F^2`, :math:`\\eta = \\|H\\|_F^2`.

    Parameters
    ----------
    gc : GenericConstruction

    Returns
    -------
    ConstructionCheck

    Raises
    ------
    ValueError
        If ``gc`` is not a :class:`GenericConstruction`.
    """
    from sympy.polys.matrices import DomainMatrix

    if not isinstance(gc, GenericConstruction):
        raise ValueError(
            f"gc must be a GenericConstruction, got {type(gc).__name__}"
        )
    ws = gc.factors
    L = len(ws)
    field = ws[0].domain

    def dm(M):
        return DomainMatrix.from_Matrix(M).convert_to(field)

    def fro(M):
        return sum((e**2 for e in M.to_list_flat()), field.zero)

    def el(expr):
        return field.from_sympy(sp.sympify(expr))

    X, Y = dm(gc.X), dm(gc.Y)
    kappa_e, eta_e = frobenius_sq(gc.K), frobenius_sq(gc.H)
    a, b, g = gc.alpha, gc.beta, gc.gamma

    lefts = [DomainMatrix.eye(gc.widths[0], field)]  # lefts[l] = W_1 ... W_l
    for w in ws[:-1]:
        lefts.append(lefts[-1] * w)
    rights = [
        DomainMatrix.eye(gc.widths[-1], field)
    ]  # built from the right: W_{l+1} ... W_L
    for w in reversed(ws[1:]):
        rights.append(w * rights[-1])
    rights.reverse()  # rights[l-1] = W_{l+1} ... W_L for l = 1..L
    product = lefts[-1] * ws[-1]
    target = (
        dm(gc.X).inv()
        * dm(gc.K)
        * dm(gc.H)
        * dm(gc.Y).inv()
        * el(a * b ** (L - 2) * g)
    )
    left_sq = [fro(X * A) for A in lefts]  # left_sq[l] = ||X W_1 ... W_l||_F^2
    right_sq = [
        fro(B * Y) for B in rights
    ]  # right_sq[l-1] = ||W_{l+1} ... W_L Y||_F^2
    left_ok, right_ok = [], []
    for l in range(1, L):
        a_sq, b_sq = construction_partial_norms(l, L, a, b, g, kappa_e, eta_e)
        left_ok.append(left_sq[l] == el(a_sq))
        right_ok.append(right_sq[l - 1] == el(b_sq))
    formulas = construction_terms(
        L, a, b, g, frobenius_sq(gc.X), frobenius_sq(gc.Y), kappa_e, eta_e
    )
    terms_ok = []
    for l in range(1, L + 1):
        T = left_sq[l - 1] * right_sq[l - 1]
        if l == 1:
            f = formulas["first"]
        elif l == L:
            f = formulas["last"]
        else:
            f = formulas["interior"].subs(formulas["l"], l)
        terms_ok.append(T == el(f))
    return ConstructionCheck(
        bool((product - target).is_zero_matrix),
        tuple(left_ok),
        tuple(right_ok),
        tuple(terms_ok),
    )
