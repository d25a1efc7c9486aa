"""Tests for dlnlib.symbolic: each certificate verifies, and corrupted ones are rejected."""

import dataclasses
import time

import numpy as np
import pytest
import sympy as sp

from dlnlib import nuclear_norm
from dlnlib import symbolic as S


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_hurwitz_certificate_verifies(n):
    cert = S.hurwitz_certificate(n)
    assert S.verify_amgm_certificate(cert)
    # the certificate is a polynomial identity: evaluate both sides at a rational point
    point = {x: sp.Rational(k + 2, 3) for k, x in enumerate(cert.xs)}
    total = sum(t.as_expr() for t in cert.terms())
    assert total.subs(point) == cert.gap.subs(point)
    assert cert.gap.subs(point) > 0  # unequal variables: strict AM-GM


def test_hurwitz_n6_is_fast():
    t0 = time.perf_counter()
    assert S.verify_amgm_certificate(S.hurwitz_certificate(6))
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("n", [2, 4, 5])
def test_equality_case_all_terms_vanish(n):
    cert = S.hurwitz_certificate(n)
    t = sp.Symbol("t", positive=True)
    equal = {x: t for x in cert.xs}
    assert sp.simplify(cert.gap.subs(equal)) == 0
    assert all(term.as_expr().subs(equal) == 0 for term in cert.terms())


def test_corrupted_certificates_are_rejected():
    cert = S.hurwitz_certificate(4)
    x1 = cert.xs[0]
    wrong_scale = dataclasses.replace(cert, scale=cert.scale * 2)
    dropped = dataclasses.replace(cert, bases=cert.bases[:-1], cofactors=cert.cofactors[:-1])
    negative = dataclasses.replace(cert, cofactors=(cert.cofactors[0] - x1**2,) + cert.cofactors[1:])
    neg_scale = dataclasses.replace(cert, scale=-cert.scale)
    wrong_exponent = dataclasses.replace(cert, cofactors=(cert.cofactors[0] * x1,) + cert.cofactors[1:])
    for bad in (wrong_scale, dropped, negative, neg_scale, wrong_exponent):
        assert not S.verify_amgm_certificate(bad)


def test_negative_cofactor_rejected_even_if_identity_holds():
    # gap = 1/2 (x1 - x2)^2 for n = 2; write it with a cofactor that has a negative coefficient
    cert = S.hurwitz_certificate(2)
    x1, x2 = cert.xs
    bogus = dataclasses.replace(
        cert, bases=(sp.Integer(1),), cofactors=(x1**2 - 2 * x1 * x2 + x2**2,), scale=sp.Rational(1, 4)
    )
    assert sp.expand(S.symmetrize(bogus.cofactors[0] / 4, bogus.xs).as_expr() - cert.gap) == 0
    assert not S.verify_amgm_certificate(bogus)


def test_symmetrize_matches_subs():
    xs = sp.symbols("p q r")
    f = xs[0] ** 3 * xs[1] - 2 * xs[2] + xs[0] * xs[2] ** 2
    from itertools import permutations

    by_subs = sum(f.subs(dict(zip(xs, perm)), simultaneous=True) for perm in permutations(xs))
    assert sp.expand(S.symmetrize(f, xs).as_expr() - by_subs) == 0


@pytest.mark.parametrize("m", [1, 2, 3, 5])
def test_lagrange_identity(m):
    gap, cert, u, v = S.lagrange_identity(m)
    assert sp.expand(gap - cert) == 0
    # a wrong certificate (one square dropped) fails for m >= 2
    if m >= 2:
        assert sp.expand(gap - (cert - (u[0] * v[1] - u[1] * v[0]) ** 2)) != 0


def test_nuclear_norm_2x2_matches_svd():
    rng = np.random.default_rng(0)
    for _ in range(20):
        M = rng.integers(-5, 6, size=(2, 2))
        exact = S.nuclear_norm_2x2(sp.Matrix(M))
        assert abs(float(exact) - nuclear_norm(M)) < 1e-12 * (1 + nuclear_norm(M))


@pytest.mark.parametrize("sign", [1, -1])
def test_frobenius_nuclear_certificate_2x2(sign):
    A = S.symbol_matrix("A", 2, 2)
    B = S.symbol_matrix("B", 2, 2)
    gap, cert = S.frobenius_nuclear_certificate_2x2(A, B, sign)
    assert sp.expand(gap - cert) == 0
    # the other sign's gap is not this certificate
    other, _ = S.frobenius_nuclear_certificate_2x2(A, B, -sign)
    assert sp.expand(other - cert) != 0


def test_kron_trace_identity():
    d = S.kron_trace_identity(2, 2, 3, 2, n=2)
    assert sp.expand(d["per_sample"] - d["trace_data"]) == 0
    assert sp.expand(d["trace_kron"] - d["frobenius"]) == 0
    # without the assumption the data trace is not a product of Frobenius norms
    X, Y = d["X"], d["Y"]
    assert sp.expand(d["trace_data"] - d["frobenius"]) != 0
    assert X.shape == (2, 2) and Y.shape == (2, 2)


@pytest.mark.parametrize("L", range(2, 9))
def test_rearrangement_identity(L):
    lhs, rhs, a, b = S.rearrangement_identity(L)
    assert S.equal_positive(lhs, rhs)
    assert not S.equal_positive(lhs, rhs * a[0] ** sp.Rational(1, L))  # a wrong exponent is caught


def test_exponent_collapse_general_L():
    lhs, rhs, s = S.exponent_collapse()
    assert S.equal_positive(lhs, rhs)
    L, nu = s["L"], s["nu"]
    assert not S.equal_positive(lhs, L * (s["x"] * s["y"]) ** (2 / L) * nu ** (2 - 1 / L))
    for k in range(2, 7):  # and at concrete depths
        assert S.equal_positive(lhs.subs(L, k), rhs.subs(L, k))


@pytest.mark.parametrize(
    "call",
    [
        lambda: S.hurwitz_certificate(1),
        lambda: S.hurwitz_certificate(2.5),
        lambda: S.hurwitz_certificate(True),
        lambda: S.symbol_matrix("", 2, 2),
        lambda: S.symbol_matrix("M", 0, 2),
        lambda: S.frobenius_sq([[1, 2]]),
        lambda: S.nuclear_norm_2x2(sp.Matrix([[1, 2, 3]])),
        lambda: S.frobenius_nuclear_certificate_2x2(sp.eye(2), sp.eye(2), 0),
        lambda: S.lagrange_identity(0),
        lambda: S.kron_trace_identity(2, 2, 2, 4),
        lambda: S.rearrangement_identity(1),
        lambda: S.symmetrize(sp.sqrt(sp.Symbol("z")), [sp.Symbol("z")]),
        lambda: S.verify_amgm_certificate("not a certificate"),
        lambda: S.equal_positive(1, sp.Integer(1)),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_kron_matches_numpy():
    rng = np.random.default_rng(1)
    P = rng.integers(-3, 4, size=(2, 3))
    Q = rng.integers(-3, 4, size=(3, 2))
    assert np.array_equal(np.array(S.kron(sp.Matrix(P), sp.Matrix(Q)), dtype=int), np.kron(P, Q))
    with pytest.raises(ValueError):
        S.kron(P, sp.Matrix(Q))
