"""Tests of the derivation's core quantities: every assertion here could fail."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from instances import architectures, low_rank, random_weights, well_conditioned
from scipy.optimize import approx_fprime

import dlnlib

RTOL = 1e-10


# --- the theorem: R >= bound for every factorization --------------------------------------


@settings(max_examples=400, deadline=None)
@given(architectures())
def test_regularizer_kron_is_at_least_the_lower_bound(case):
    seed, dims = case
    rng = np.random.default_rng(seed)
    ws = random_weights(rng, dims)
    X = well_conditioned(rng, dims[0])
    Y = well_conditioned(rng, dims[-1])
    R = dlnlib.regularizer_kron(ws, X, Y)
    bound = dlnlib.lower_bound(dlnlib.end_to_end(ws), X, Y, len(dims) - 1)
    assert R >= bound * (1 - RTOL)


@settings(max_examples=200, deadline=None)
@given(architectures(), st.integers(0, 5))
def test_optimal_factorization_attains_the_bound(case, rank):
    seed, dims = case
    rng = np.random.default_rng(seed)
    r = min(rank, dims[0], dims[-1], *dims[1:-1])
    W = low_rank(rng, dims[0], dims[-1], r)
    X = well_conditioned(rng, dims[0])
    Y = well_conditioned(rng, dims[-1])
    ws = dlnlib.optimal_factorization(W, X, Y, dims)
    assert [w.shape for w in ws] == [
        (dims[l], dims[l + 1]) for l in range(len(dims) - 1)
    ]
    product = dlnlib.end_to_end(ws)
    assert (
        np.linalg.norm(product - W) <= RTOL * max(np.linalg.norm(W), 1e-300)
        or r == 0
    )
    if r == 0:
        assert np.all(product == 0)
    R = dlnlib.regularizer_kron(ws, X, Y)
    bound = dlnlib.lower_bound(W, X, Y, len(dims) - 1)
    assert abs(R - bound) <= 1e-9 * max(bound, 1e-300)


@settings(max_examples=100, deadline=None)
@given(architectures(min_width=5))
def test_optimal_terms_are_all_equal(case):
    """AM-GM is tight only when all L terms coincide."""
    seed, dims = case
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((dims[0], dims[-1]))
    X = well_conditioned(rng, dims[0])
    Y = well_conditioned(rng, dims[-1])
    terms = dlnlib.regularizer_kron_terms(
        dlnlib.optimal_factorization(W, X, Y, dims), X, Y
    )
    np.testing.assert_allclose(terms, terms.mean(), rtol=1e-9)


def test_random_factorizations_are_strictly_above_the_bound():
    rng = np.random.default_rng(0)
    dims = (4, 6, 6, 3)
    X, Y = well_conditioned(rng, 4), well_conditioned(rng, 3)
    ratios = []
    for _ in range(50):
        ws = random_weights(rng, dims)
        ratios.append(
            dlnlib.regularizer_kron(ws, X, Y)
            / dlnlib.lower_bound(dlnlib.end_to_end(ws), X, Y, 3)
        )
    assert min(ratios) > 1.01


def test_scaling_a_factor_of_the_construction_breaks_optimality():
    rng = np.random.default_rng(1)
    dims = (3, 4, 4, 3)
    W = rng.standard_normal((3, 3))
    X, Y = well_conditioned(rng, 3), well_conditioned(rng, 3)
    ws = dlnlib.optimal_factorization(W, X, Y, dims)
    off = [1.01 * ws[0], ws[1] / 1.01, ws[2]]  # same product, unbalanced
    np.testing.assert_allclose(dlnlib.end_to_end(off), W, atol=1e-12)
    assert dlnlib.regularizer_kron(off, X, Y) > dlnlib.lower_bound(
        W, X, Y, 3
    ) * (1 + 1e-6)


def test_construction_scales_multiply_to_one():
    rng = np.random.default_rng(2)
    for L in range(2, 7):
        W = rng.standard_normal((3, 4))
        sc = dlnlib.construction_scales(
            W, well_conditioned(rng, 3), well_conditioned(rng, 4), L
        )
        assert sc.alpha * sc.beta ** (L - 2) * sc.gamma == pytest.approx(
            1.0, rel=1e-12
        )
        assert sc.rank == 3


def test_lower_bound_formula_on_a_hand_computed_case():
    # X = 2 I_2, Y = I_2, W = diag(3, 1): ||X||_F ||Y||_F = 2 sqrt2 * sqrt2 = 4, ||XWY||_* = 8
    W = np.diag([3.0, 1.0])
    for L in (2, 3, 4):
        expected = L * 4.0 ** (2 / L) * 8.0 ** (2 - 2 / L)
        assert dlnlib.lower_bound(
            W, 2 * np.eye(2), np.eye(2), L
        ) == pytest.approx(expected, rel=1e-14)


def test_nuclear_norm_matches_singular_values():
    M = np.array([[3.0, 0.0], [4.0, 5.0]])
    assert dlnlib.nuclear_norm(M) == pytest.approx(
        np.sqrt(np.sum(M**2) + 2 * abs(np.linalg.det(M)))
    )


# --- the regularizer from data, and the Kronecker assumption ------------------------------


@settings(max_examples=100, deadline=None)
@given(architectures())
def test_regularizer_equals_kron_form_when_assumption_holds(case):
    seed, dims = case
    rng = np.random.default_rng(seed)
    ws = random_weights(rng, dims)
    X, Y = well_conditioned(rng, dims[0]), well_conditioned(rng, dims[-1])
    xs, ys = dlnlib.product_design(X, Y)
    np.testing.assert_allclose(
        dlnlib.second_moment(xs, ys), np.kron(X.T @ X, Y @ Y.T), atol=1e-10
    )
    np.testing.assert_allclose(
        dlnlib.regularizer(ws, xs, ys),
        dlnlib.regularizer_kron(ws, X, Y),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        dlnlib.regularizer_terms(ws, xs, ys),
        dlnlib.regularizer_kron_terms(ws, X, Y),
        rtol=1e-9,
        atol=1e-12,
    )


def test_regularizer_differs_from_kron_form_when_assumption_fails():
    rng = np.random.default_rng(3)
    dims = (4, 5, 5, 4)
    ws = random_weights(rng, dims)
    xs, ys = (
        rng.standard_normal((12, 4)),
        rng.standard_normal((12, 4)),
    )  # n < d0 dL: cannot factor
    kf = dlnlib.kronecker_factors(xs, ys)
    assert kf.rel_error > 0.05
    R = dlnlib.regularizer(ws, xs, ys)
    assert abs(R - dlnlib.regularizer_kron(ws, kf.X, kf.Y)) > 1e-3 * R


def test_regularizer_matches_a_loop_over_samples_and_layers():
    rng = np.random.default_rng(4)
    dims = (3, 4, 2, 5)
    ws = random_weights(rng, dims)
    xs, ys = rng.standard_normal((7, 3)), rng.standard_normal((7, 5))
    by_hand = sum(
        np.sum(g**2)
        for x, y in zip(xs, ys)
        for g in dlnlib.layer_gradients(ws, x, y)
    )
    assert dlnlib.regularizer(ws, xs, ys) == pytest.approx(by_hand, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_kronecker_factors_recovers_exact_products(d0, dL, seed):
    rng = np.random.default_rng(seed)
    X, Y = well_conditioned(rng, d0), well_conditioned(rng, dL)
    kf = dlnlib.kronecker_factors(*dlnlib.product_design(X, Y))
    assert kf.rel_error < 1e-7
    np.testing.assert_allclose(
        np.kron(kf.X.T @ kf.X, kf.Y @ kf.Y.T),
        np.kron(X.T @ X, Y @ Y.T),
        atol=1e-9,
    )
    np.testing.assert_allclose(
        np.linalg.norm(kf.X.T @ kf.X), np.linalg.norm(kf.Y @ kf.Y.T), rtol=1e-9
    )


def test_kronecker_factors_error_matches_its_definition():
    rng = np.random.default_rng(5)
    xs, ys = rng.standard_normal((20, 3)), rng.standard_normal((20, 4))
    kf = dlnlib.kronecker_factors(xs, ys)
    M = dlnlib.second_moment(xs, ys)
    direct = np.linalg.norm(
        M - np.kron(kf.X.T @ kf.X, kf.Y @ kf.Y.T)
    ) / np.linalg.norm(M)
    assert kf.rel_error == pytest.approx(direct, rel=1e-8)
    assert kf.rel_error > 0.01


def test_completion_with_rank_one_counts_satisfies_the_assumption():
    p, q = np.array([1.0, 2.0, 3.0]), np.array([2.0, 1.0])
    counts = np.outer(p, q).astype(int)  # every entry observed p_a q_b times
    rows, cols = np.nonzero(counts)
    reps = counts[rows, cols]
    xs = np.repeat(np.eye(3)[rows], reps, axis=0)
    ys = np.repeat(np.eye(2)[cols], reps, axis=0)
    kf = dlnlib.kronecker_factors(xs, ys)
    assert kf.rel_error < 1e-12
    np.testing.assert_allclose(
        np.kron(kf.X @ kf.X, kf.Y @ kf.Y), np.diag(counts.ravel()), atol=1e-10
    )
    # the Razin-Cohen pattern: counts [[0, 1], [1, 1]] are not rank one
    xs = np.eye(2)[[0, 1, 1]]
    ys = np.eye(2)[[1, 0, 1]]
    assert dlnlib.kronecker_factors(xs, ys).rel_error > 0.1


# --- the gradient identity ------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(architectures())
def test_layer_gradients_agree_with_finite_differences(case):
    seed, dims = case
    rng = np.random.default_rng(seed)
    ws = random_weights(rng, dims)
    x, y = rng.standard_normal(dims[0]), rng.standard_normal(dims[-1])
    grads = dlnlib.layer_gradients(ws, x, y)
    for l, w in enumerate(ws):

        def P(flat, l=l, w=w):
            trial = list(ws)
            trial[l] = flat.reshape(w.shape)
            return float(dlnlib.predict(trial, x[None], y[None])[0])

        numeric = approx_fprime(w.ravel(), P, 1e-6).reshape(w.shape)
        np.testing.assert_allclose(grads[l], numeric, rtol=1e-4, atol=1e-5)
        # the Frobenius norm splits into a product of two vector norms
        lefts, rights = dlnlib.partial_products(ws)
        expected = np.linalg.norm(x @ lefts[l]) * np.linalg.norm(rights[l] @ y)
        assert np.linalg.norm(grads[l]) == pytest.approx(
            expected, rel=1e-10, abs=1e-14
        )


def test_batched_weights_give_the_same_answers_as_single_networks():
    rng = np.random.default_rng(6)
    dims = (3, 4, 4, 2)
    batch = [rng.standard_normal((5, dims[l], dims[l + 1])) for l in range(3)]
    xs, ys = rng.standard_normal((9, 3)), rng.standard_normal((9, 2))
    X, Y = well_conditioned(rng, 3), well_conditioned(rng, 2)
    R = dlnlib.regularizer(batch, xs, ys)
    Rk = dlnlib.regularizer_kron(batch, X, Y)
    P = dlnlib.predict(batch, xs, ys)
    assert R.shape == (5,) and P.shape == (5, 9)
    for k in range(5):
        single = [w[k] for w in batch]
        assert R[k] == pytest.approx(
            dlnlib.regularizer(single, xs, ys), rel=1e-12
        )
        assert Rk[k] == pytest.approx(
            dlnlib.regularizer_kron(single, X, Y), rel=1e-12
        )
        np.testing.assert_allclose(
            P[k], dlnlib.predict(single, xs, ys), rtol=1e-12
        )


def test_squared_loss_is_zero_at_interpolation():
    rng = np.random.default_rng(7)
    ws = random_weights(rng, (3, 3, 3))
    xs, ys = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    t = dlnlib.predict(ws, xs, ys)
    assert dlnlib.squared_loss(ws, xs, ys, t) == 0.0
    assert dlnlib.squared_loss(ws, xs, ys, t + 1.0) == pytest.approx(2.5)


# --- bad input gets a ValueError that names the problem -------------------------------------

GOOD = [np.ones((3, 4)), np.ones((4, 2))]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: dlnlib.end_to_end([np.ones((3, 3))]), "at least 2"),
        (lambda: dlnlib.end_to_end(np.ones((2, 3, 3))), "list of matrices"),
        (
            lambda: dlnlib.end_to_end([np.ones((3, 4)), np.ones((5, 2))]),
            "undefined",
        ),
        (
            lambda: dlnlib.end_to_end([np.ones(3), np.ones((3, 2))]),
            "at least 2 dimensions",
        ),
        (
            lambda: dlnlib.end_to_end(
                [np.full((2, 2), np.nan), np.ones((2, 2))]
            ),
            "NaN or infinite",
        ),
        (
            lambda: dlnlib.end_to_end(
                [np.full((2, 2), np.inf), np.ones((2, 2))]
            ),
            "NaN or infinite",
        ),
        (
            lambda: dlnlib.end_to_end(
                [np.ones((2, 2, 2)), np.ones((3, 2, 2))]
            ),
            "batch",
        ),
        (lambda: dlnlib.end_to_end([[["a"]], [[1.0]]]), "numeric"),
        (
            lambda: dlnlib.predict(GOOD, np.ones((5, 3)), np.ones((4, 2))),
            "same number of rows",
        ),
        (
            lambda: dlnlib.predict(GOOD, np.ones((5, 2)), np.ones((5, 2))),
            "d_0 = 3",
        ),
        (
            lambda: dlnlib.predict(GOOD, np.ones((5, 3)), np.ones((5, 3))),
            "d_L = 2",
        ),
        (
            lambda: dlnlib.predict(GOOD, np.ones(3), np.ones(2)),
            "2-dimensional",
        ),
        (
            lambda: dlnlib.predict(GOOD, np.ones((0, 3)), np.ones((0, 2))),
            "no samples",
        ),
        (
            lambda: dlnlib.layer_gradients(GOOD, np.ones(2), np.ones(2)),
            "d_0 = 3",
        ),
        (
            lambda: dlnlib.regularizer(
                GOOD, np.ones((5, 3)), np.full((5, 2), np.nan)
            ),
            "ys contains NaN",
        ),
        (
            lambda: dlnlib.regularizer_kron(GOOD, np.eye(2), np.eye(2)),
            "X must be 3 x 3",
        ),
        (
            lambda: dlnlib.regularizer_kron(GOOD, np.eye(3), np.ones((2, 3))),
            "Y must be square",
        ),
        (
            lambda: dlnlib.squared_loss(
                GOOD, np.ones((5, 3)), np.ones((5, 2)), np.ones(4)
            ),
            "targets has length 4",
        ),
        (
            lambda: dlnlib.lower_bound(
                np.ones((3, 2)), np.eye(3), np.eye(2), 1
            ),
            "depth L must be an integer >= 2",
        ),
        (
            lambda: dlnlib.lower_bound(
                np.ones((3, 2)), np.eye(3), np.eye(2), 2.5
            ),
            "depth L must be an integer >= 2",
        ),
        (
            lambda: dlnlib.lower_bound(
                np.ones((3, 2)), np.eye(2), np.eye(2), 2
            ),
            "X must be 3 x 3",
        ),
        (
            lambda: dlnlib.optimal_factorization(
                np.ones((3, 2)), np.eye(3), np.eye(2), (3, 2)
            ),
            "depth L >= 2",
        ),
        (
            lambda: dlnlib.optimal_factorization(
                np.ones((3, 2)), np.eye(3), np.eye(2), (3, 4, 3)
            ),
            "dims asks",
        ),
        (
            lambda: dlnlib.optimal_factorization(
                np.eye(3), np.eye(3), np.eye(3), (3, 2, 3)
            ),
            "below rank",
        ),
        (
            lambda: dlnlib.optimal_factorization(
                np.eye(3), np.eye(3), np.eye(3), (3, 0, 3)
            ),
            "positive",
        ),
        (
            lambda: dlnlib.optimal_factorization(
                np.eye(3), np.eye(3), np.eye(3), (3, 2.5, 3)
            ),
            "integers",
        ),
        (
            lambda: dlnlib.optimal_factorization(
                np.eye(2), np.diag([1.0, 0.0]), np.eye(2), (2, 2, 2)
            ),
            "X is singular",
        ),
        (
            lambda: dlnlib.optimal_factorization(
                np.eye(2), np.eye(2), np.diag([1.0, 1e-12]), (2, 2, 2)
            ),
            "Y is singular or badly conditioned",
        ),
        (
            lambda: dlnlib.construction_scales(
                np.zeros((2, 2)), np.eye(2), np.eye(2), 3
            ),
            "W is zero",
        ),
        (
            lambda: dlnlib.kronecker_factors(
                np.zeros((3, 2)), np.ones((3, 2))
            ),
            "zero",
        ),
        (
            lambda: dlnlib.kronecker_factors(np.ones((3, 2)), np.ones((4, 2))),
            "same number of rows",
        ),
        (
            lambda: dlnlib.product_design(np.ones((2, 3)), np.eye(2)),
            "X must be square",
        ),
        (lambda: dlnlib.nuclear_norm(np.ones(3)), "at least 2 dimensions"),
    ],
)
def test_bad_input_raises_a_named_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_narrow_layers_at_the_rank_are_accepted():
    rng = np.random.default_rng(8)
    W = low_rank(rng, 4, 4, 2)
    ws = dlnlib.optimal_factorization(W, np.eye(4), np.eye(4), (4, 2, 2, 4))
    np.testing.assert_allclose(dlnlib.end_to_end(ws), W, atol=1e-12)
