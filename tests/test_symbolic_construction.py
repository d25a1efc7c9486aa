"""Tests for dlnlib.symbolic_construction (the whitening identities are in test_symbolic_kronecker.py).

Each check is run on the true construction (it must pass) and on a corrupted
one (it must fail), so none of them can pass vacuously.
"""

import dataclasses

import numpy as np
import pytest
import sympy as sp

import dlnlib
from dlnlib import symbolic_construction as SC
from dlnlib.symbolic import equal_positive, frobenius_sq
from dlnlib.symbolic_bound import collapsed_exponents


def test_scalars_product_is_one_for_general_depth():
    sc = SC.construction_scalars()
    assert isinstance(sc, SC.SymbolicConstructionScales)
    assert sc.L.is_integer and sc.L.is_positive
    assert equal_positive(
        sc.alpha * sc.beta ** (sc.L - 2) * sc.gamma, sp.Integer(1)
    )
    # a wrong power of beta is refuted
    assert not equal_positive(
        sc.alpha * sc.beta ** (sc.L - 1) * sc.gamma, sp.Integer(1)
    )


def test_scalars_share_symbols_with_exponent_collapse():
    sym = collapsed_exponents().symbols
    sc = SC.construction_scalars()
    assert (sc.L, sc.x, sc.y, sc.nu) == (
        sym["L"],
        sym["x"],
        sym["y"],
        sym["nu"],
    )


def test_every_term_equals_the_common_value_for_general_depth():
    sc = SC.construction_scalars()
    target = sc.x * sc.y * sc.beta ** (sc.L - 2) * sc.nu
    terms = SC.construction_terms(
        sc.L, sc.alpha, sc.beta, sc.gamma, sc.x**2, sc.y**2, sc.nu, sc.nu
    )
    for key in ("first", "interior", "last"):
        assert equal_positive(terms[key], target), key
    # the interior term with a wrong exponent of beta is refuted
    assert not equal_positive(terms["interior"] * sc.beta, target)


def test_split_products_equal_the_nuclear_norm_for_general_depth():
    sc = SC.construction_scalars()
    l = sp.Symbol("l", integer=True, positive=True)
    a_sq, b_sq = SC.construction_partial_norms(
        l, sc.L, sc.alpha, sc.beta, sc.gamma, sc.nu, sc.nu
    )
    assert equal_positive(a_sq * b_sq, sc.nu**2)


@pytest.mark.parametrize("L", [2, 3, 5])
def test_scalars_match_dlnlib_numerically(L):
    rng = np.random.default_rng(L)
    W = rng.standard_normal((3, 4))
    X, Y = rng.standard_normal((3, 3)), rng.standard_normal((4, 4))
    num = dlnlib.construction_scales(W, X, Y, L)
    sc = SC.construction_scalars(
        L, np.linalg.norm(X), np.linalg.norm(Y), dlnlib.nuclear_norm(X @ W @ Y)
    )
    assert np.allclose(
        [float(sc.alpha), float(sc.beta), float(sc.gamma)],
        [num.alpha, num.beta, num.gamma],
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    "widths, rank",
    [
        ((2, 2, 2), 2),
        ((3, 1, 2), 1),
        ((3, 3, 2, 2), 2),
        ((2, 3, 2, 4, 2), 2),
        ((3, 2, 3, 2, 3, 2), 2),
    ],
)
def test_generic_construction_verifies(widths, rank):
    check = SC.verify_generic_construction(
        SC.generic_construction(widths, rank)
    )
    assert check.ok and check.holds()
    L = len(widths) - 1
    assert (
        len(check.left) == len(check.right) == L - 1 and len(check.terms) == L
    )


def test_corrupted_generic_construction_is_caught():
    gc = SC.generic_construction((3, 3, 2, 3, 2), 2)
    ws = list(gc.factors)
    field = ws[0].domain
    two = field.from_sympy(sp.Integer(2))
    scaled = dataclasses.replace(
        gc, factors=tuple([ws[0], ws[1] * two, *ws[2:]])
    )
    check = SC.verify_generic_construction(scaled)
    assert not check.product and not check.ok and not check.holds()
    # transposed selector in a middle layer (ones off the top-left corner) breaks the product
    bad = ws[2].to_Matrix()
    bad = sp.Matrix.hstack(bad[:, 1:], bad[:, :1])
    from sympy.polys.matrices import DomainMatrix

    swapped = dataclasses.replace(
        gc,
        factors=tuple(
            [
                ws[0],
                ws[1],
                DomainMatrix.from_Matrix(bad).convert_to(field),
                ws[3],
            ]
        ),
    )
    assert not SC.verify_generic_construction(swapped).ok


def test_generic_construction_rejects_narrow_widths():
    with pytest.raises(ValueError, match="below the rank"):
        SC.generic_construction((3, 1, 2), 2)
    with pytest.raises(ValueError, match="depth"):
        SC.generic_construction((3, 2), 1)
    with pytest.raises(ValueError):
        SC.generic_construction((3, 5, 2), 1)
    with pytest.raises(ValueError, match="GenericConstruction"):
        SC.verify_generic_construction("not a construction")


def test_scalars_and_terms_reject_bad_depth():
    with pytest.raises(ValueError, match="depth"):
        SC.construction_scalars(1)
    with pytest.raises(ValueError, match="positive"):
        SC.construction_scalars(3, x=-1)
    with pytest.raises(ValueError, match="split position"):
        SC.construction_partial_norms(3, 3, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="depth"):
        SC.construction_terms(sp.Rational(5, 2), 1, 1, 1, 1, 1, 1, 1)


@pytest.mark.parametrize("m, r", [(2, 1), (2, 2), (3, 2), (3, 3)])
def test_rational_semi_orthogonal(m, r):
    U, params = SC.rational_semi_orthogonal(m, r)
    assert U.shape == (m, r)
    assert (U.T * U - sp.eye(r)).applyfunc(sp.cancel).is_zero_matrix
    sig = sp.symbols(f"s1:{r + 1}", positive=True)
    assert (
        sp.cancel(frobenius_sq(U * sp.diag(*sig)) - sum(s**2 for s in sig))
        == 0
    )
    with pytest.raises(ValueError):
        SC.rational_semi_orthogonal(m, m + 1)
    with pytest.raises(ValueError):
        SC.rational_semi_orthogonal(4, 2)
