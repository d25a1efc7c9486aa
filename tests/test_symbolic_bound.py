"""Tests for dlnlib.symbolic_bound: the identities hold, and a wrong exponent is refuted."""

import dataclasses

import pytest
import sympy as sp

from dlnlib import symbolic_bound as SB
from dlnlib.symbolic import Identity


@pytest.mark.parametrize("L", range(2, 9))
def test_geometric_mean_rearrangement(L):
    ident = SB.geometric_mean_rearrangement(L)
    assert isinstance(ident, Identity) and ident.method == "positive"
    assert ident.holds()
    a, b = ident.symbols["a"], ident.symbols["b"]
    assert len(a) == len(b) == L and all(s.is_positive for s in a + b)
    wrong = dataclasses.replace(
        ident, rhs=ident.rhs * a[0] ** sp.Rational(1, L)
    )  # one exponent wrong
    assert not wrong.holds()


def test_collapsed_exponents_general_L():
    ident = SB.collapsed_exponents()
    assert ident.holds()
    s = ident.symbols
    L, nu = s["L"], s["nu"]
    assert (
        L.is_integer
        and L.is_positive
        and all(s[k].is_positive for k in ("x", "y", "nu"))
    )
    wrong = L * (s["x"] * s["y"]) ** (2 / L) * nu ** (2 - 1 / L)
    assert not dataclasses.replace(ident, rhs=wrong).holds()
    for k in range(2, 7):  # and at concrete depths
        assert dataclasses.replace(
            ident, lhs=ident.lhs.subs(L, k), rhs=ident.rhs.subs(L, k)
        ).holds()


@pytest.mark.parametrize(
    "L, message",
    [
        (1, "L must be an integer >= 2, got 1"),
        (17, "L must be at most 16, got 17"),
    ],
)
def test_rearrangement_rejects_bad_depth(L, message):
    with pytest.raises(ValueError, match=message):
        SB.geometric_mean_rearrangement(L)
