"""The algebra that assembles the lower bound, checked exactly by sympy.

After AM-GM (:mod:`dlnlib.certificates`) bounds the regularizer by ``L``
times the geometric mean of its ``L`` terms, two identities in positive
symbols turn that geometric mean into the bound:

- :func:`geometric_mean_rearrangement`: the product of the terms, regrouped
  into the pairs :math:`a_l b_l` that Cauchy-Schwarz bounds (one depth at a time);
- :func:`collapsed_exponents`: the exponents of the bound collapse, for
  general (symbolic) depth ``L``.

Both return an :class:`~dlnlib.symbolic.Identity` checked by
:func:`~dlnlib.symbolic.equal_positive` (``method="positive"``).
"""

from __future__ import annotations

import sympy as sp

from . import _checks
from .symbolic import Identity

__all__ = ["collapsed_exponents", "geometric_mean_rearrangement"]


def geometric_mean_rearrangement(L: int) -> Identity:
    """Rearranging the AM-GM product, for one depth ``L``.

    Book: equation :eq:`lb-rearrange` in :doc:`/chapters/lower_bound`.

    With positive symbols :math:`a_l = \\|X W_1 \\cdots W_l\\|_F` (``l = 0..L-1``, so
    :math:`a_0 = \\|X\\|_F`) and :math:`b_l = \\|W_{l+1} \\cdots W_L Y\\|_F`
    (``l = 1..L``, so :math:`b_L = \\|Y\\|_F`), the ``l``-th term of ``R`` is
    :math:`a_{l-1}^2 b_l^2` and

    .. math:: \\Big(\\prod_{l=1}^L a_{l-1}^2 b_l^2\\Big)^{1/L}
              = \\Big(a_0 \\, b_L \\prod_{l=1}^{L-1} a_l b_l\\Big)^{2/L}.

    Parameters
    ----------
    L : int
        Depth, ``2 <= L <= 16``.

    Returns
    -------
    Identity
        ``lhs`` and ``rhs`` the two sides above, ``method="positive"``;
        ``symbols["a"][l]`` is :math:`a_l` (``l = 0..L-1``) and
        ``symbols["b"][l-1]`` is :math:`b_l` (``l = 1..L``).

    Raises
    ------
    ValueError
        If ``L`` is not an integer in ``[2, 16]``.
    """
    L = _checks.integer(L, "L", 2, 16)
    a = sp.symbols(f"a0:{L}", positive=True)
    b = sp.symbols(f"b1:{L + 1}", positive=True)
    lhs = sp.Mul(
        *[a[l - 1] ** 2 * b[l - 1] ** 2 for l in range(1, L + 1)]
    ) ** sp.Rational(1, L)
    rhs = (
        a[0] * b[L - 1] * sp.Mul(*[a[l] * b[l - 1] for l in range(1, L)])
    ) ** sp.Rational(2, L)
    return Identity(
        f"(prod_(l=1..{L}) a_(l-1)^2 b_l^2)^(1/{L}) = (a_0 b_{L} prod_(l=1..{L - 1}) a_l b_l)^(2/{L})",
        lhs,
        rhs,
        {"a": a, "b": b},
        method="positive",
    )


def collapsed_exponents() -> Identity:
    """Collapsing the exponents of the bound, for general depth ``L``.

    Book: equation :eq:`lb-collapse` in :doc:`/chapters/lower_bound`.

    With positive symbols :math:`x = \\|X\\|_F`, :math:`y = \\|Y\\|_F`,
    :math:`\\nu = \\|X \\tilde W Y\\|_*` and a positive integer ``L``,

    .. math:: L \\Big(x y \\prod_{l=1}^{L-1} \\nu\\Big)^{2/L} = L\\, (x y)^{2/L} \\, \\nu^{2 - 2/L}.

    The product of ``L - 1`` equal factors is written ``Product(nu, (l, 1, L-1))``
    and evaluated by sympy to ``nu**(L-1)``.

    Returns
    -------
    Identity
        ``lhs`` and ``rhs`` the two sides above (equal for every ``L``),
        ``method="positive"``, ``symbols`` ``{"L", "x", "y", "nu", "l"}``: the
        same symbols as :func:`dlnlib.symbolic_construction.construction_scalars`
        uses by default, so expressions from both combine.
    """
    L = sp.Symbol("L", integer=True, positive=True)
    x, y, nu = sp.symbols("x y nu", positive=True)
    l = sp.Symbol("l", integer=True, positive=True)
    prod = sp.Product(nu, (l, 1, L - 1)).doit()
    lhs = L * (x * y * prod) ** (2 / L)
    rhs = L * (x * y) ** (2 / L) * nu ** (2 - 2 / L)
    return Identity(
        "L (x y prod_(l=1..L-1) nu)^(2/L) = L (x y)^(2/L) nu^(2 - 2/L)",
        lhs,
        rhs,
        {"L": L, "x": x, "y": y, "nu": nu, "l": l},
        method="positive",
    )
