"""Tests for dlnlib.symbolic_kronecker: each identity holds, and fails without its hypothesis."""

import dataclasses

import pytest
import sympy as sp

from dlnlib import symbolic_kronecker as K
from dlnlib.symbolic import Identity


def test_regularizer_trace_holds_for_any_data():
    ident = K.regularizer_trace(2, 2, 3, 2, n=2)
    assert isinstance(ident, Identity) and ident.holds()
    assert ident.symbols["A"].shape == (2, 2) and ident.symbols["B"].shape == (
        3,
        2,
    )
    assert len(ident.symbols["xs"]) == len(ident.symbols["ys"]) == 2


def test_kronecker_trace_factorization_needs_the_assumption():
    data = K.regularizer_trace(2, 2, 3, 2, n=2)
    factored = K.kronecker_trace_factorization(2, 2, 3, 2)
    assert factored.holds()
    # the same A, B in both identities, so they chain
    assert (
        factored.symbols["A"] == data.symbols["A"]
        and factored.symbols["B"] == data.symbols["B"]
    )
    assert factored.symbols["X"].shape == (2, 2) and factored.symbols[
        "Y"
    ].shape == (2, 2)
    # without the assumption the data trace is not a product of Frobenius norms
    assert not dataclasses.replace(data, rhs=factored.rhs).holds()


def test_whitening_identities_hold():
    for make in (K.whitened_prediction, K.whitened_sample, K.whitened_moment):
        ident = make(2, 2)
        assert ident.method == "cancel" and ident.holds(), make.__name__
    assert K.whitened_moment(2, 3).lhs.shape == (6, 6)
    # without the inverses the prediction identity fails
    pred = K.whitened_prediction(2, 2)
    g = pred.symbols
    wrong = (g["x"].T * g["X"] * g["W"] * g["Y"] * g["y"])[0, 0]
    assert not dataclasses.replace(pred, rhs=wrong).holds()
    # a moment that is not X^T X kron Y Y^T is not whitened to the identity
    moment = K.whitened_moment(2, 2)
    assert not dataclasses.replace(moment, rhs=2 * sp.eye(4)).holds()


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: K.regularizer_trace(2, 2, 2, 4),
            "dL must be at most 3, got 4",
        ),
        (
            lambda: K.regularizer_trace(1, 1, 1, 1, 0),
            "n must be an integer >= 1, got 0",
        ),
        (
            lambda: K.kronecker_trace_factorization(0, 1, 1, 1),
            "d0 must be an integer >= 1, got 0",
        ),
        (lambda: K.whitened_prediction(4, 1), "d0 must be at most 3, got 4"),
        (lambda: K.whitened_sample(1, 0), "dL must be an integer >= 1, got 0"),
        (lambda: K.whitened_moment(1, 4), "dL must be at most 3, got 4"),
    ],
)
def test_bad_sizes_raise(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message
