"""Tests for dlnlib.certificates: each certificate verifies, and corrupted ones are rejected."""

import dataclasses
from itertools import permutations

import numpy as np
import pytest
import sympy as sp

from dlnlib import certificates as C
from dlnlib import nuclear_norm
from dlnlib.symbolic import Identity, symbol_matrix


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_hurwitz_certificate_verifies(n):
    cert = C.hurwitz_certificate(n)
    assert C.verify_amgm_certificate(cert) and cert.holds()
    # the certificate is a polynomial identity: evaluate both sides at a rational point
    point = {x: sp.Rational(k + 2, 3) for k, x in enumerate(cert.xs)}
    total = sum(t.as_expr() for t in cert.terms())
    assert total.subs(point) == cert.gap.subs(point)
    assert cert.gap.subs(point) > 0  # unequal variables: strict AM-GM


def test_hurwitz_n6_verifies():
    # how long this takes is measured by benchmarks/bench_symbolic.py, never asserted
    assert C.verify_amgm_certificate(C.hurwitz_certificate(6))


@pytest.mark.parametrize("n", [2, 4, 5])
def test_equality_case_all_terms_vanish(n):
    cert = C.hurwitz_certificate(n)
    t = sp.Symbol("t", positive=True)
    equal = {x: t for x in cert.xs}
    assert sp.simplify(cert.gap.subs(equal)) == 0
    assert all(term.as_expr().subs(equal) == 0 for term in cert.terms())


def test_corrupted_certificates_are_rejected():
    cert = C.hurwitz_certificate(4)
    x1 = cert.xs[0]
    wrong_scale = dataclasses.replace(cert, scale=cert.scale * 2)
    dropped = dataclasses.replace(
        cert, bases=cert.bases[:-1], cofactors=cert.cofactors[:-1]
    )
    negative = dataclasses.replace(
        cert, cofactors=(cert.cofactors[0] - x1**2,) + cert.cofactors[1:]
    )
    neg_scale = dataclasses.replace(cert, scale=-cert.scale)
    wrong_exponent = dataclasses.replace(
        cert, cofactors=(cert.cofactors[0] * x1,) + cert.cofactors[1:]
    )
    for bad in (wrong_scale, dropped, negative, neg_scale, wrong_exponent):
        assert not C.verify_amgm_certificate(bad) and not bad.holds()


def test_negative_cofactor_rejected_even_if_identity_holds():
    # gap = 1/2 (x1 - x2)^2 for n = 2; write it with a cofactor that has a negative coefficient
    cert = C.hurwitz_certificate(2)
    x1, x2 = cert.xs
    bogus = dataclasses.replace(
        cert,
        bases=(sp.Integer(1),),
        cofactors=(x1**2 - 2 * x1 * x2 + x2**2,),
        scale=sp.Rational(1, 4),
    )
    assert (
        sp.expand(
            C.symmetrize(bogus.cofactors[0] / 4, bogus.xs).as_expr() - cert.gap
        )
        == 0
    )
    assert not C.verify_amgm_certificate(bogus)


def test_symmetrize_matches_subs():
    xs = sp.symbols("p q r")
    f = xs[0] ** 3 * xs[1] - 2 * xs[2] + xs[0] * xs[2] ** 2
    by_subs = sum(
        f.subs(dict(zip(xs, perm)), simultaneous=True)
        for perm in permutations(xs)
    )
    assert sp.expand(C.symmetrize(f, xs).as_expr() - by_subs) == 0


@pytest.mark.parametrize("m", [1, 2, 3, 5])
def test_cauchy_schwarz_certificate(m):
    ident = C.cauchy_schwarz_certificate(m)
    assert isinstance(ident, Identity) and ident.method == "expand"
    assert ident.holds()
    u, v = ident.symbols["u"], ident.symbols["v"]
    assert len(u) == len(v) == m and all(s.is_real for s in u + v)
    # a wrong certificate (one square dropped) fails for m >= 2
    if m >= 2:
        wrong = dataclasses.replace(
            ident, rhs=ident.rhs - (u[0] * v[1] - u[1] * v[0]) ** 2
        )
        assert not wrong.holds()


def test_nuclear_norm_2x2_matches_svd():
    rng = np.random.default_rng(0)
    for _ in range(20):
        M = rng.integers(-5, 6, size=(2, 2))
        exact = C.nuclear_norm_2x2(sp.Matrix(M))
        assert abs(float(exact) - nuclear_norm(M)) < 1e-12 * (
            1 + nuclear_norm(M)
        )


@pytest.mark.parametrize("sign", [1, -1])
def test_frobenius_nuclear_certificate(sign):
    A = symbol_matrix("A", 2, 2)
    B = symbol_matrix("B", 2, 2)
    ident = C.frobenius_nuclear_certificate(A, B, sign)
    assert ident.holds() and ident.symbols == {"A": A, "B": B}
    # the other sign's gap is not this certificate
    other = C.frobenius_nuclear_certificate(A, B, -sign)
    assert not dataclasses.replace(ident, lhs=other.lhs).holds()
    # the gap is ||A||^2 ||B||^2 - ||AB||_*^2 when s is the sign of det A det B
    a, b = sp.Matrix([[2, 1], [0, 1]]), sp.Matrix([[1, 0], [3, sign]])
    gap = C.frobenius_nuclear_certificate(a, b, sign).lhs
    assert (
        sp.simplify(
            gap
            - (
                sum(e**2 for e in a) * sum(e**2 for e in b)
                - C.nuclear_norm_2x2(a * b) ** 2
            )
        )
        == 0
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: C.hurwitz_certificate(1), "n must be an integer >= 2, got 1"),
        (
            lambda: C.hurwitz_certificate(2.5),
            "n must be an integer >= 2, got 2.5",
        ),
        (
            lambda: C.nuclear_norm_2x2(sp.Matrix([[1, 2, 3]])),
            "M must be an explicit 2 x 2 sympy Matrix, got (1, 3)",
        ),
        (
            lambda: C.frobenius_nuclear_certificate(sp.eye(2), sp.eye(2), 0),
            "sign must be +1 or -1, got 0",
        ),
        (
            lambda: C.frobenius_nuclear_certificate(sp.eye(3), sp.eye(2), 1),
            "A must be an explicit 2 x 2 sympy Matrix",
        ),
        (
            lambda: C.cauchy_schwarz_certificate(0),
            "m must be an integer >= 1, got 0",
        ),
        (
            lambda: C.cauchy_schwarz_certificate(13),
            "m must be at most 12, got 13",
        ),
        (
            lambda: C.symmetrize(sp.sqrt(sp.Symbol("z")), [sp.Symbol("z")]),
            "expr is not a polynomial",
        ),
        (
            lambda: C.verify_amgm_certificate("not a certificate"),
            "cert must be an AMGMCertificate, got str",
        ),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value).startswith(message)
