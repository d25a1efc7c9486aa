"""Exact (sympy) checks of the steps of the derivation: the tools the checks share.

Every inequality of the lower bound is proved by an *identity* that sympy
verifies exactly: the gap between the two sides is written as a sum of terms
that are nonnegative by inspection (a certificate).  Identities are proved
either for general depth ``L`` (positive symbols, ``powsimp``) or for every
``L`` in a range.

This module holds what every check shares: :class:`Identity`, the one result
type of an identity or certificate (:meth:`Identity.holds` checks it exactly),
:func:`equal_positive`, and explicit symbolic matrices (:func:`symbol_matrix`,
:func:`frobenius_sq`, :func:`kron`).  It imports none of the checks.

The checks themselves live in one module per family of identities (import them
from there):

- :mod:`dlnlib.certificates`: the inequalities of the lower bound, each with a
  certificate: AM-GM (Hurwitz), Cauchy-Schwarz (Lagrange), the 2 x 2
  Frobenius-nuclear inequality, and the 2 x 2 nuclear norm;
- :mod:`dlnlib.symbolic_bound`: the algebra that assembles the bound
  (rearranging the AM-GM product, collapsing the exponents);
- :mod:`dlnlib.symbolic_kronecker`: the Kronecker assumption (the regularizer
  as a trace, its factorization, the whitening change of variables);
- :mod:`dlnlib.symbolic_construction`: the construction that attains the bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from . import _checks

__all__ = [
    "Identity",
    "equal_positive",
    "frobenius_sq",
    "kron",
    "symbol_matrix",
]


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
