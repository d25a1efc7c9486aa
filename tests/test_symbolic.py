"""Tests for dlnlib.symbolic: the shared helpers, the Identity result type, every name the
chapters use (re-exported from the family modules) and the deprecated aliases' old return shapes.

The checks themselves are tested per family: test_certificates.py, test_symbolic_bound.py,
test_symbolic_kronecker.py and test_symbolic_construction.py.
"""

import dataclasses
import importlib
import warnings

import numpy as np
import pytest
import sympy as sp

from dlnlib import symbolic as S
from dlnlib.symbolic import Identity

# --- helpers ----------------------------------------------------------------------------------


def test_symbol_matrix_and_frobenius_sq():
    M = S.symbol_matrix("M", 2, 3)
    assert M.shape == (2, 3) and str(M[1, 2]) == "M_23" and M[0, 0].is_real
    assert sp.expand(S.frobenius_sq(M) - sum(e**2 for e in M)) == 0


def test_kron_matches_numpy():
    rng = np.random.default_rng(1)
    P = rng.integers(-3, 4, size=(2, 3))
    Q = rng.integers(-3, 4, size=(3, 2))
    assert np.array_equal(
        np.array(S.kron(sp.Matrix(P), sp.Matrix(Q)), dtype=int), np.kron(P, Q)
    )
    with pytest.raises(ValueError):
        S.kron(P, sp.Matrix(Q))


def test_equal_positive():
    x, y = sp.symbols("x y", positive=True)
    assert S.equal_positive((x**2 * y**2) ** sp.Rational(1, 2), x * y)
    assert not S.equal_positive((x**2 * y**2) ** sp.Rational(1, 2), x * y**2)


@pytest.mark.parametrize(
    "call",
    [
        lambda: S.symbol_matrix("", 2, 2),
        lambda: S.symbol_matrix("M", 0, 2),
        lambda: S.frobenius_sq([[1, 2]]),
        lambda: S.equal_positive(1, sp.Integer(1)),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


# --- Identity ---------------------------------------------------------------------------------


def test_identity_holds_by_each_method():
    a, b = sp.symbols("a b", real=True)
    square = Identity(
        "(a + b)^2 = a^2 + 2ab + b^2",
        (a + b) ** 2,
        a**2 + 2 * a * b + b**2,
        {"a": a, "b": b},
    )
    assert (
        square.holds()
        and not dataclasses.replace(square, rhs=a**2 + b**2).holds()
    )
    assert sp.expand(square.difference()) == 0
    ratio = Identity("a/(a b) = 1/b", a / (a * b), 1 / b, {}, method="cancel")
    assert ratio.holds()
    p = sp.Symbol("p", positive=True)
    power = Identity(
        "(p^4)^(1/2) = p^2",
        (p**4) ** sp.Rational(1, 2),
        p**2,
        {"p": p},
        method="positive",
    )
    assert power.holds() and not dataclasses.replace(power, rhs=p**3).holds()
    M = S.symbol_matrix("m", 2, 2)
    inverse = Identity(
        "M M^-1 = I", M * M.inv(), sp.eye(2), {"M": M}, method="cancel"
    )
    assert (
        inverse.holds()
        and not dataclasses.replace(inverse, rhs=2 * sp.eye(2)).holds()
    )
    assert (
        repr(square)
        == "Identity(statement='(a + b)^2 = a^2 + 2ab + b^2', method='expand')"
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(lhs=sp.Integer(1), rhs=sp.Integer(1), method="simplify"),
            "method must be one of",
        ),
        (
            dict(lhs=1, rhs=sp.Integer(1)),
            "lhs must be a sympy expression or matrix, got int",
        ),
        (
            dict(lhs=sp.eye(2), rhs=sp.Integer(1)),
            "lhs and rhs must both be matrices or both be scalars",
        ),
        (
            dict(lhs=sp.eye(2), rhs=sp.eye(3)),
            "lhs has shape (2, 2) but rhs has shape (3, 3)",
        ),
        (
            dict(lhs=sp.eye(2), rhs=sp.eye(2), method="positive"),
            "method 'positive' compares scalars",
        ),
    ],
)
def test_identity_rejects_malformed_input(kwargs, message):
    with pytest.raises(ValueError) as info:
        Identity("bad", symbols={}, **kwargs)
    assert str(info.value).startswith(message)


# --- the names the chapters use --------------------------------------------------------------


def test_every_name_resolves_and_the_families_match_their_modules():
    for name in S.__all__:
        assert getattr(S, name) is not None, name
    assert set(S.__all__) <= set(dir(S))
    for module, names in S._FAMILIES.items():
        family = importlib.import_module(f"dlnlib.{module}")
        assert sorted(family.__all__) == sorted(names), module
        assert all(getattr(S, n) is getattr(family, n) for n in names), module
    with pytest.raises(AttributeError, match="no attribute 'no_such_check'"):
        S.no_such_check  # noqa: B018


def test_construction_scalars_is_the_symbolic_scales_class():
    from dlnlib.symbolic_construction import SymbolicConstructionScales

    assert S.ConstructionScalars is SymbolicConstructionScales
    assert isinstance(S.construction_scalars(), S.ConstructionScalars)


# --- deprecated aliases: old shapes, same content as the new functions, no warning -------------


def test_deprecated_aliases_return_the_old_shapes():
    with warnings.catch_warnings():
        warnings.simplefilter(
            "error"
        )  # an alias must not warn: the warning would show in the chapters
        gap, cert, u, v = S.lagrange_identity(3)
        new = S.cauchy_schwarz_certificate(3)
        assert (gap, cert, u, v) == (
            new.lhs,
            new.rhs,
            new.symbols["u"],
            new.symbols["v"],
        )
        assert sp.expand(gap - cert) == 0

        A, B = S.symbol_matrix("A", 2, 2), S.symbol_matrix("B", 2, 2)
        gap, cert = S.frobenius_nuclear_certificate_2x2(A, B, -1)
        assert sp.expand(gap - cert) == 0

        lhs, rhs, a, b = S.rearrangement_identity(4)
        assert S.equal_positive(lhs, rhs) and len(a) == len(b) == 4

        lhs, rhs, sym = S.exponent_collapse()
        assert S.equal_positive(lhs, rhs) and set(sym) == {
            "L",
            "x",
            "y",
            "nu",
            "l",
        }
        assert (sym["L"], sym["x"], sym["y"], sym["nu"]) == tuple(
            getattr(S.construction_scalars(), k) for k in ("L", "x", "y", "nu")
        )

        d = S.kron_trace_identity(2, 2, 3, 2, n=2)
        assert set(d) == {
            "per_sample",
            "trace_data",
            "trace_kron",
            "frobenius",
            "A",
            "B",
            "X",
            "Y",
            "xs",
            "ys",
        }
        assert sp.expand(d["per_sample"] - d["trace_data"]) == 0
        assert sp.expand(d["trace_kron"] - d["frobenius"]) == 0
        assert sp.expand(d["trace_data"] - d["frobenius"]) != 0

        w = S.whitening_identities(
            2, 1
        )  # small: the identities themselves are tested in test_symbolic_kronecker
        assert set(w) == {"prediction", "sample", "moment", "symbols"}
        assert set(w["symbols"]) == {"X", "Y", "W", "x", "y"}
        assert sp.cancel(w["prediction"][0] - w["prediction"][1]) == 0
        for key in ("sample", "moment"):
            lhs, rhs = w[key]
            assert (lhs - rhs).applyfunc(sp.cancel).is_zero_matrix, key


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: S.lagrange_identity(0), "m must be an integer >= 1, got 0"),
        (
            lambda: S.frobenius_nuclear_certificate_2x2(
                sp.eye(2), sp.eye(2), 0
            ),
            "sign must be +1 or -1, got 0",
        ),
        (
            lambda: S.rearrangement_identity(1),
            "L must be an integer >= 2, got 1",
        ),
        (
            lambda: S.kron_trace_identity(1, 1, 1, 1, 4),
            "n must be at most 3, got 4",
        ),
        (
            lambda: S.kron_trace_identity(2, 2, 2, 4),
            "dL must be at most 3, got 4",
        ),
        (
            lambda: S.whitening_identities(0, 2),
            "d0 must be an integer >= 1, got 0",
        ),
    ],
)
def test_deprecated_aliases_keep_their_errors(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_deprecated_aliases_say_so():
    for name in S._DEPRECATED:
        assert (
            "Deprecated alias of" in getattr(S, name).__doc__.splitlines()[0]
        ), name
