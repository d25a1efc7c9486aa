"""Exact (sympy) checks of the steps of the derivation: the shared tools, and every check by name.

Every inequality of the lower bound is proved by an *identity* that sympy
verifies exactly: the gap between the two sides is written as a sum of terms
that are nonnegative by inspection (a certificate).  Identities are proved
either for general depth ``L`` (positive symbols, ``powsimp``) or for every
``L`` in a range.

The checks live in one module per family of identities:

- :mod:`dlnlib.certificates`: the inequalities of the lower bound, each with a
  certificate: AM-GM (Hurwitz), Cauchy-Schwarz (Lagrange), the 2 x 2
  Frobenius-nuclear inequality, and the 2 x 2 nuclear norm;
- :mod:`dlnlib.symbolic_bound`: the algebra that assembles the bound
  (rearranging the AM-GM product, collapsing the exponents);
- :mod:`dlnlib.symbolic_kronecker`: the Kronecker assumption (the regularizer
  as a trace, its factorization, the whitening change of variables);
- :mod:`dlnlib.symbolic_construction`: the construction that attains the bound.

This module holds what they share: :class:`Identity`, the one result type of
an identity or certificate (:meth:`Identity.holds` checks it exactly),
:func:`equal_positive`, and explicit symbolic matrices (:func:`symbol_matrix`,
:func:`frobenius_sq`, :func:`kron`).  Every public name of the four modules is
also reachable as ``dlnlib.symbolic.NAME`` (imported on first use).

Six functions keep the tuple and dict return conventions of earlier versions:
:func:`lagrange_identity`, :func:`frobenius_nuclear_certificate_2x2`,
:func:`rearrangement_identity`, :func:`exponent_collapse`,
:func:`kron_trace_identity` and :func:`whitening_identities` are deprecated
aliases, each calling the function that replaces it (which returns
:class:`Identity` objects) and returning the old shape.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import sympy as sp

from . import _checks

#: Where each check lives; ``dlnlib.symbolic.NAME`` imports it from there on first use.
#: ``ConstructionScalars`` is the former name of ``SymbolicConstructionScales``.
_FAMILIES = {
    "certificates": (
        "AMGMCertificate",
        "cauchy_schwarz_certificate",
        "frobenius_nuclear_certificate",
        "hurwitz_certificate",
        "nuclear_norm_2x2",
        "symmetrize",
        "verify_amgm_certificate",
    ),
    "symbolic_bound": ("collapsed_exponents", "geometric_mean_rearrangement"),
    "symbolic_kronecker": (
        "kronecker_trace_factorization",
        "regularizer_trace",
        "whitened_moment",
        "whitened_prediction",
        "whitened_sample",
    ),
    "symbolic_construction": (
        "ConstructionCheck",
        "GenericConstruction",
        "SymbolicConstructionScales",
        "construction_partial_norms",
        "construction_scalars",
        "construction_terms",
        "generic_construction",
        "rational_semi_orthogonal",
        "verify_generic_construction",
    ),
}
_MOVED = {
    name: (module, name)
    for module, names in _FAMILIES.items()
    for name in names
}
_MOVED["ConstructionScalars"] = (
    "symbolic_construction",
    "SymbolicConstructionScales",
)

_DEPRECATED = [
    "exponent_collapse",
    "frobenius_nuclear_certificate_2x2",
    "kron_trace_identity",
    "lagrange_identity",
    "rearrangement_identity",
    "whitening_identities",
]
__all__ = [
    "Identity",
    "equal_positive",
    "frobenius_sq",
    "kron",
    "symbol_matrix",
    *_DEPRECATED,
    *sorted(_MOVED),
]


def __getattr__(name: str):
    # PEP 562: the family modules import this one, so they are imported here lazily, not at the top
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _MOVED[name]
    return getattr(importlib.import_module(f"{__package__}.{module}"), attr)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MOVED))


# ---------------------------------------------------------------------------
# the result type
# ---------------------------------------------------------------------------

#: How :meth:`Identity.holds` decides that ``lhs - rhs`` is zero.
_METHODS = ("expand", "cancel", "positive")


@dataclass(frozen=True)
class Identity:
    """An exact identity ``lhs = rhs`` between sympy expressions or explicit matrices.

    Book: used in :doc:`/chapters/assumption`, :doc:`/chapters/lower_bound`,
    :doc:`/chapters/construction` and :doc:`/chapters/conclusion`.

    The result type of every identity and certificate of the derivation. A
    certificate of an inequality ``f >= g`` is the identity

    .. math:: f - g = \\sum_k s_k ,

    whose right-hand side is manifestly nonnegative (a sum of squares, or of
    products of nonnegative symbols).  :meth:`holds` checks the identity
    exactly, in the way ``method`` names:

    - ``"expand"``: :math:`\\operatorname{expand}(\\text{lhs} - \\text{rhs}) = 0`
      (polynomials);
    - ``"cancel"``: :math:`\\operatorname{cancel}(\\text{lhs} - \\text{rhs}) = 0`
      entry by entry (rational functions, e.g. with inverse matrices);
    - ``"positive"``: :func:`equal_positive` (powers of positive symbols,
      symbolic exponents).

    Attributes
    ----------
    statement : str
        The identity in words or plain-text math, e.g. ``"(sum u_i^2)(sum v_i^2) - ..."``.
    lhs, rhs : sympy.Expr or sympy.Matrix
        The two sides; both scalars, or explicit matrices of one shape.
    symbols : dict
        The free symbols, symbol tuples or symbol matrices the identity is
        stated in, by name (e.g. ``{"u": (u1, u2), "v": (v1, v2)}``).
    method : str
        How :meth:`holds` decides: ``"expand"`` (the default), ``"cancel"`` or ``"positive"``.

    Raises
    ------
    ValueError
        On construction, if ``method`` is unknown, the sides are not sympy
        objects, only one side is a matrix, the shapes differ, or ``method``
        is ``"positive"`` for matrices.
    """

    statement: str
    lhs: sp.Basic = field(repr=False)
    rhs: sp.Basic = field(repr=False)
    symbols: dict = field(repr=False)
    method: str = "expand"

    def __post_init__(self):
        if self.method not in _METHODS:
            raise ValueError(
                f"method must be one of {_METHODS}, got {self.method!r}"
            )
        sides = (("lhs", self.lhs), ("rhs", self.rhs))
        for name, side in sides:
            if not isinstance(side, (sp.Basic, sp.MatrixBase)):
                raise ValueError(
                    f"{name} must be a sympy expression or matrix, got {type(side).__name__}"
                )
        matrices = [isinstance(side, sp.MatrixBase) for _, side in sides]
        if matrices[0] != matrices[1]:
            raise ValueError(
                "lhs and rhs must both be matrices or both be scalars"
            )
        if matrices[0] and self.lhs.shape != self.rhs.shape:
            raise ValueError(
                f"lhs has shape {self.lhs.shape} but rhs has shape {self.rhs.shape}"
            )
        if matrices[0] and self.method == "positive":
            raise ValueError(
                "method 'positive' compares scalars; use 'expand' or 'cancel' for matrices"
            )

    def difference(self):
        """The difference of the two sides, unsimplified.

        Returns
        -------
        sympy.Expr or sympy.Matrix
            ``lhs - rhs`` (a matrix of the sides' shape for matrix identities).
        """
        return self.lhs - self.rhs

    def holds(self) -> bool:
        """Check the identity exactly, in the way ``method`` names.

        Returns
        -------
        bool
            ``True`` iff ``lhs - rhs`` simplifies to zero (every entry, for
            matrices): ``sympy.expand`` or ``sympy.cancel`` of it is 0, or
            :func:`equal_positive` for ``method="positive"``. ``False`` means
            that this simplification did not prove it, not that it is false.
        """
        if self.method == "positive":
            return equal_positive(self.lhs, self.rhs)
        simplify = sp.expand if self.method == "expand" else sp.cancel
        diff = self.difference()
        if isinstance(diff, sp.MatrixBase):
            return diff.applyfunc(simplify).is_zero_matrix is True
        return simplify(diff) == 0


# ---------------------------------------------------------------------------
# explicit symbolic matrices
# ---------------------------------------------------------------------------


def symbol_matrix(name: str, rows: int, cols: int, **assumptions) -> sp.Matrix:
    """An explicit ``rows x cols`` matrix of fresh real symbols ``name_ij``.

    Book: used in :doc:`/chapters/assumption`, :doc:`/chapters/lower_bound`,
    :doc:`/chapters/construction` and :doc:`/chapters/conclusion`.

    .. math:: M = (m_{ij})_{1 \\le i \\le \\text{rows},\\ 1 \\le j \\le \\text{cols}}

    Parameters
    ----------
    name : str
        Stem of the symbol names (entries are ``{name}_{i}{j}``, 1-based).
    rows, cols : int
        Positive dimensions.
    **assumptions
        Extra sympy assumptions (``real=True`` is always set).

    Returns
    -------
    sympy.Matrix, shape (rows, cols)

    Raises
    ------
    ValueError
        If ``name`` is not a nonempty string or a dimension is not a positive integer.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a nonempty string, got {name!r}")
    rows = _checks.integer(rows, "rows", 1)
    cols = _checks.integer(cols, "cols", 1)
    assumptions.setdefault("real", True)
    return sp.Matrix(
        rows,
        cols,
        lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", **assumptions),
    )


def frobenius_sq(M) -> sp.Expr:
    """Squared Frobenius norm ``||M||_F^2 = sum_ij M_ij^2`` of an explicit sympy matrix.

    Book: used in :doc:`/chapters/assumption`, :doc:`/chapters/lower_bound`,
    :doc:`/chapters/construction` and :doc:`/chapters/conclusion`.

    Parameters
    ----------
    M : sympy.Matrix
        Explicit (not a ``MatrixSymbol``) matrix with real entries.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValueError
        If ``M`` is not an explicit sympy matrix.
    """
    if not isinstance(M, sp.MatrixBase):
        raise ValueError(
            f"M must be an explicit sympy Matrix, got {type(M).__name__}"
        )
    return sp.Add(*[e**2 for e in M])


def kron(P, Q) -> sp.Matrix:
    """Kronecker product of two explicit sympy matrices (the same convention as ``numpy.kron``).

    Book: used in :doc:`/chapters/assumption` and :doc:`/chapters/conclusion`.

    .. math:: (P \\otimes Q)_{(i, k), (j, l)} = P_{ij} Q_{kl}

    Parameters
    ----------
    P : sympy.Matrix, shape (p, q)
    Q : sympy.Matrix, shape (r, s)

    Returns
    -------
    sympy.Matrix, shape (p r, q s)

    Raises
    ------
    ValueError
        If ``P`` or ``Q`` is not an explicit sympy matrix.
    """
    for name, M in (("P", P), ("Q", Q)):
        if not isinstance(M, sp.MatrixBase):
            raise ValueError(
                f"{name} must be an explicit sympy Matrix, got {type(M).__name__}"
            )
    return sp.Matrix(
        P.rows * Q.rows,
        P.cols * Q.cols,
        lambda i, j: P[i // Q.rows, j // Q.cols] * Q[i % Q.rows, j % Q.cols],
    )


# ---------------------------------------------------------------------------
# identities in positive symbols
# ---------------------------------------------------------------------------


def equal_positive(lhs, rhs) -> bool:
    """Exact equality of two expressions in positive symbols, via power simplification.

    Book: used in :doc:`/chapters/lower_bound`, :doc:`/chapters/construction`
    and :doc:`/chapters/conclusion`.

    Returns ``True`` iff ``lhs - rhs`` simplifies to 0 after
    ``expand_power_base``/``powdenest``/``powsimp`` with ``force=False`` (safe
    for positive symbols) and, failing that, ``sympy.simplify``.

    Parameters
    ----------
    lhs, rhs : sympy.Expr

    Returns
    -------
    bool

    Raises
    ------
    ValueError
        If an argument is not a sympy expression.
    """
    for name, e in (("lhs", lhs), ("rhs", rhs)):
        if not isinstance(e, sp.Basic):
            raise ValueError(
                f"{name} must be a sympy expression, got {type(e).__name__}"
            )

    def norm(e):
        return sp.powsimp(sp.powdenest(sp.expand_power_base(sp.expand(e))))

    diff = norm(lhs) - norm(rhs)
    if sp.expand(diff) == 0:
        return True
    return sp.simplify(diff) == 0


# ---------------------------------------------------------------------------
# Deprecated aliases: the tuple and dict return conventions of earlier versions.
# Each calls the function that replaces it and returns the old shape (no warning
# is emitted: the chapters still call them, and a warning would show in their outputs).
# ---------------------------------------------------------------------------


def lagrange_identity(m: int) -> tuple[sp.Expr, sp.Expr, tuple, tuple]:
    """Deprecated alias of :func:`dlnlib.certificates.cauchy_schwarz_certificate`, as a tuple.

    Book: equation :eq:`lb-lagrange` in :doc:`/chapters/lower_bound`.

    Lagrange's identity, the certificate of Cauchy-Schwarz in ``R^m``:

    .. math:: \\Big(\\sum_i u_i^2\\Big)\\Big(\\sum_i v_i^2\\Big) - \\Big(\\sum_i u_i v_i\\Big)^2
              = \\sum_{i < j} (u_i v_j - u_j v_i)^2

    Parameters
    ----------
    m : int
        Length of the vectors, ``1 <= m <= 12``.

    Returns
    -------
    gap : sympy.Expr
        The left-hand side.
    certificate : sympy.Expr
        The right-hand side, a sum of squares.
    u, v : tuple of sympy.Symbol
        The real symbols used.

    Raises
    ------
    ValueError
        If ``m`` is not an integer in ``[1, 12]``.
    """
    from .certificates import cauchy_schwarz_certificate

    ident = cauchy_schwarz_certificate(m)
    return ident.lhs, ident.rhs, ident.symbols["u"], ident.symbols["v"]


def frobenius_nuclear_certificate_2x2(
    A, B, sign: int
) -> tuple[sp.Expr, sp.Expr]:
    """Deprecated alias of :func:`dlnlib.certificates.frobenius_nuclear_certificate`, as a pair.

    Book: equation :eq:`lb-cert2` in :doc:`/chapters/lower_bound`.

    The sum-of-squares certificate of ``||A||_F^2 ||B||_F^2 >= ||AB||_*^2`` for 2 x 2
    matrices, with :math:`s` = ``sign`` and :math:`C = A J B`:

    .. math:: \\|A\\|_F^2 \\|B\\|_F^2 - \\|AB\\|_F^2 - 2 s \\det A \\det B
              = (c_{11} - s\\, c_{22})^2 + (c_{12} + s\\, c_{21})^2 .

    Parameters
    ----------
    A, B : sympy.Matrix, shape (2, 2)
    sign : {+1, -1}

    Returns
    -------
    gap : sympy.Expr
        The left-hand side.
    certificate : sympy.Expr
        The sum of two squares on the right.

    Raises
    ------
    ValueError
        If ``A`` or ``B`` is not a 2 x 2 sympy matrix or ``sign`` is not +1 or -1.
    """
    from .certificates import frobenius_nuclear_certificate

    ident = frobenius_nuclear_certificate(A, B, sign)
    return ident.lhs, ident.rhs


def rearrangement_identity(L: int) -> tuple[sp.Expr, sp.Expr, tuple, tuple]:
    """Deprecated alias of :func:`dlnlib.symbolic_bound.geometric_mean_rearrangement`, as a tuple.

    Book: equation :eq:`lb-rearrange` in :doc:`/chapters/lower_bound`.

    Rearranging the AM-GM product for one depth ``L``, in positive symbols
    :math:`a_l` (``l = 0..L-1``) and :math:`b_l` (``l = 1..L``):

    .. math:: \\Big(\\prod_{l=1}^L a_{l-1}^2 b_l^2\\Big)^{1/L}
              = \\Big(a_0 \\, b_L \\prod_{l=1}^{L-1} a_l b_l\\Big)^{2/L}.

    Parameters
    ----------
    L : int
        Depth, ``2 <= L <= 16``.

    Returns
    -------
    lhs, rhs : sympy.Expr
        The two sides (equal by :func:`equal_positive`).
    a, b : tuple of sympy.Symbol
        ``a[l]`` is :math:`a_l` (``l = 0..L-1``); ``b[l-1]`` is :math:`b_l` (``l = 1..L``).

    Raises
    ------
    ValueError
        If ``L`` is not an integer in ``[2, 16]``.
    """
    from .symbolic_bound import geometric_mean_rearrangement

    ident = geometric_mean_rearrangement(L)
    return ident.lhs, ident.rhs, ident.symbols["a"], ident.symbols["b"]


def exponent_collapse() -> tuple[sp.Expr, sp.Expr, dict[str, sp.Symbol]]:
    """Deprecated alias of :func:`dlnlib.symbolic_bound.collapsed_exponents`, as a tuple.

    Book: equation :eq:`lb-collapse` in :doc:`/chapters/lower_bound`.

    Collapsing the exponents of the bound for general depth ``L``, with positive
    symbols :math:`x = \\|X\\|_F`, :math:`y = \\|Y\\|_F`, :math:`\\nu = \\|X \\tilde W Y\\|_*`:

    .. math:: L \\Big(x y \\prod_{l=1}^{L-1} \\nu\\Big)^{2/L} = L\\, (x y)^{2/L} \\, \\nu^{2 - 2/L}.

    Returns
    -------
    lhs, rhs : sympy.Expr
        Equal for every ``L`` (check with :func:`equal_positive`).
    symbols : dict
        ``{"L", "x", "y", "nu", "l"}``.
    """
    from .symbolic_bound import collapsed_exponents

    ident = collapsed_exponents()
    return ident.lhs, ident.rhs, dict(ident.symbols)


def kron_trace_identity(
    d0: int, k0: int, kL: int, dL: int, n: int = 2
) -> dict[str, sp.Expr]:
    """Deprecated alias of :func:`dlnlib.symbolic_kronecker.regularizer_trace` and
    :func:`dlnlib.symbolic_kronecker.kronecker_trace_factorization`, as one dict.

    Book: equations :eq:`asm-trace-data` and :eq:`asm-trace-kron` in
    :doc:`/chapters/assumption`.

    With :math:`M = \\sum_i (x_i x_i^\\top) \\otimes (y_i y_i^\\top)`,

    .. math::
        \\sum_{i=1}^n \\|x_i^\\top A\\|_2^2 \\, \\|B y_i\\|_2^2
        &= \\operatorname{tr}\\big(M \\, (A A^\\top \\otimes B^\\top B)\\big) \\quad\\text{(any data)},\\\\
        \\operatorname{tr}\\big((X^\\top X \\otimes Y Y^\\top)(A A^\\top \\otimes B^\\top B)\\big)
        &= \\|X A\\|_F^2 \\, \\|B Y\\|_F^2 .

    Parameters
    ----------
    d0, k0, kL, dL : int
        Shapes of ``A`` (``d0 x k0``) and ``B`` (``kL x dL``), each in ``[1, 3]``.
    n : int, optional
        Number of symbolic samples ``(x_i, y_i)``, in ``[1, 3]``.

    Returns
    -------
    dict
        ``"per_sample"``, ``"trace_data"``: the two sides of the first identity;
        ``"trace_kron"``, ``"frobenius"``: the two sides of the second;
        ``"A"``, ``"B"``, ``"X"``, ``"Y"``, ``"xs"``, ``"ys"``: the symbols used.

    Raises
    ------
    ValueError
        If a dimension is not an integer in ``[1, 3]``.
    """
    from .symbolic_kronecker import (
        kronecker_trace_factorization,
        regularizer_trace,
    )

    data = regularizer_trace(d0, k0, kL, dL, n)
    factored = kronecker_trace_factorization(d0, k0, kL, dL)
    return {
        "per_sample": data.lhs,
        "trace_data": data.rhs,
        "trace_kron": factored.lhs,
        "frobenius": factored.rhs,
        "A": data.symbols["A"],
        "B": data.symbols["B"],
        "X": factored.symbols["X"],
        "Y": factored.symbols["Y"],
        "xs": data.symbols["xs"],
        "ys": data.symbols["ys"],
    }


def whitening_identities(d0: int, dL: int) -> dict[str, tuple]:
    """Deprecated alias of :func:`dlnlib.symbolic_kronecker.whitened_prediction`,
    :func:`~dlnlib.symbolic_kronecker.whitened_sample` and
    :func:`~dlnlib.symbolic_kronecker.whitened_moment`, as one dict.

    Book: equations :eq:`concl-pred` and :eq:`concl-white` in
    :doc:`/chapters/conclusion`.

    The change of variables :math:`W' = X \\tilde W Y`, :math:`x' = X^{-\\top} x`,
    :math:`y' = Y^{-1} y` keeps every prediction, maps each sample's term of the
    fourth moment by :math:`X^{-\\top} \\otimes Y^{-1}` on the left and its transpose
    on the right, and turns the moment :math:`X^\\top X \\otimes Y Y^\\top` into
    :math:`I_{d_0} \\otimes I_{d_L}`: the whitened data are isotropic.

    Parameters
    ----------
    d0, dL : int
        Sizes, each in ``1..3``.

    Returns
    -------
    dict
        ``"prediction"``, ``"sample"``, ``"moment"``: pairs ``(lhs, rhs)`` of the
        three identities (scalars or explicit matrices; their difference is
        zero after ``sympy.cancel`` entry by entry), and ``"symbols"``: the
        matrices ``X``, ``Y``, ``W``, ``x``, ``y`` used.

    Raises
    ------
    ValueError
        If ``d0`` or ``dL`` is not an integer in ``1..3``.
    """
    from .symbolic_kronecker import (
        whitened_moment,
        whitened_prediction,
        whitened_sample,
    )

    prediction = whitened_prediction(d0, dL)
    sample, moment = whitened_sample(d0, dL), whitened_moment(d0, dL)
    return {
        "prediction": (prediction.lhs, prediction.rhs),
        "sample": (sample.lhs, sample.rhs),
        "moment": (moment.lhs, moment.rhs),
        "symbols": dict(prediction.symbols),
    }
