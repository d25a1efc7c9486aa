"""min_regularizer, compress and the gauge sweep: the exact minimum of R over a fibre, for any data."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from instances import low_rank, well_conditioned

import dlnlib
from dlnlib.construction import random_factorization
from dlnlib.depth_two import depth_two_minimum
from dlnlib.induced import compress, fibre_minima, gauge_sweep, min_regularizer


@st.composite
def fibres(draw, max_depth=4):
    """(rng, W, xs, ys, dims): data with nondegenerate moments and a low-rank W."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    d0, dL = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    L = draw(st.integers(2, max_depth))
    r = draw(st.integers(1, min(d0, dL)))
    hidden = [draw(st.integers(r, 5)) for _ in range(L - 1)]
    n = draw(st.integers(max(d0, dL) + 2, 16))
    xs, ys = rng.standard_normal((n, d0)), rng.standard_normal((n, dL))
    return rng, low_rank(rng, d0, dL, r), xs, ys, (d0, *hidden, dL)


@settings(max_examples=60, deadline=None)
@given(fibres(max_depth=2))
def test_agrees_with_the_depth_two_minimum_for_any_data(case):
    rng, W, xs, ys, dims = case
    value, ws = min_regularizer(W, xs, ys, dims, starts=3)
    assert np.isclose(value, depth_two_minimum(W, xs, ys), rtol=1e-9)
    assert np.allclose(
        dlnlib.end_to_end(ws), W, atol=1e-9 * max(1.0, np.abs(W).max())
    )
    assert np.isclose(float(dlnlib.regularizer(ws, xs, ys)), value, rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 5),
    st.integers(1, 3),
    st.integers(1, 3),
)
def test_equals_the_lower_bound_when_the_assumption_holds(seed, L, d0, dL):
    rng = np.random.default_rng(seed)
    X, Y = well_conditioned(rng, d0), well_conditioned(rng, dL)
    xs, ys = dlnlib.product_design(X, Y)
    r = int(rng.integers(1, min(d0, dL) + 1))
    W = low_rank(rng, d0, dL, r)
    value, _ = min_regularizer(
        W, xs, ys, (d0, *[r + 1] * (L - 1), dL), starts=3
    )
    assert np.isclose(value, dlnlib.lower_bound(W, X, Y, L), rtol=1e-8)


@settings(max_examples=60, deadline=None)
@given(fibres())
def test_never_above_the_kronecker_construction_and_never_above_random_factorizations(
    case,
):
    rng, W, xs, ys, dims = case
    value, ws = min_regularizer(W, xs, ys, dims, starts=4)
    assert np.allclose(
        dlnlib.end_to_end(ws), W, atol=1e-9 * max(1.0, np.abs(W).max())
    )
    kf = dlnlib.kronecker_factors(xs, ys)
    s = (
        np.linalg.svd(kf.X, compute_uv=False),
        np.linalg.svd(kf.Y, compute_uv=False),
    )
    if min(v[-1] / v[0] for v in s) > 1e-8:
        kron = dlnlib.optimal_factorization(W, kf.X, kf.Y, dims)
        assert value <= float(dlnlib.regularizer(kron, xs, ys)) * (1 + 1e-10)
    for _ in range(5):
        other = random_factorization(W, dims, rng, spread=0.7)
        assert float(dlnlib.regularizer(other, xs, ys)) >= value * (1 - 1e-9)


@settings(max_examples=80, deadline=None)
@given(fibres(max_depth=5))
def test_compress_keeps_the_product_and_lowers_every_term(case):
    rng, W, xs, ys, dims = case
    ws = random_factorization(W, dims, rng, spread=0.7)
    core = compress(ws)
    r = np.linalg.matrix_rank(W)
    assert [c.shape[1] for c in core[:-1]] == [r] * (len(dims) - 2)
    assert np.allclose(
        dlnlib.end_to_end(core), W, atol=1e-8 * max(1.0, np.abs(W).max())
    )
    before = dlnlib.regularizer_terms(ws, xs, ys)
    after = dlnlib.regularizer_terms(core, xs, ys)
    assert np.all(after <= before * (1 + 1e-9))


def test_every_sweep_lowers_R_and_the_sweeps_converge():
    rng = np.random.default_rng(7)
    xs, ys = rng.standard_normal((30, 4)), rng.standard_normal((30, 4))
    W = low_rank(rng, 4, 4, 2)
    ws = compress(random_factorization(W, (4, 5, 5, 5, 4), rng, spread=1.0))
    history = [float(dlnlib.regularizer(ws, xs, ys))]
    for _ in range(200):
        ws = gauge_sweep(ws, xs, ys)
        history.append(float(dlnlib.regularizer(ws, xs, ys)))
    steps = np.diff(history)
    assert np.all(steps <= 1e-10 * history[0])  # monotone
    value, _ = min_regularizer(W, xs, ys, (4, 5, 5, 5, 4), starts=6)
    assert (
        abs(history[-1] / value - 1) < 1e-8
    )  # the sweeps from this start reach the minimum
    assert abs(steps[-1]) < 1e-12 * history[0]  # and have stopped moving
    spread = fibre_minima(W, xs, ys, (4, 5, 5, 5, 4), starts=6)
    assert np.ptp(spread) < 1e-8 * spread.min()  # every start agrees here


def test_zero_matrix_and_errors():
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    value, ws = min_regularizer(np.zeros((3, 2)), xs, ys, (3, 1, 2))
    assert value == 0.0 and all(not w.any() for w in ws)
    W = low_rank(rng, 3, 2, 2)
    with pytest.raises(
        ValueError, match=r"hidden width d_1 = 1 is below rank\(W\) = 2"
    ):
        min_regularizer(W, xs, ys, (3, 1, 2))
    with pytest.raises(
        ValueError,
        match=r"W has shape \(3, 2\) but dims asks for \(d_0, d_L\) = \(2, 3\)",
    ):
        min_regularizer(W, ys, xs, (2, 2, 3))
    with pytest.raises(ValueError, match="M_x = sum_i .* singular"):
        min_regularizer(W, np.eye(3)[[0, 1] * 5], ys, (3, 2, 2))
    with pytest.raises(ValueError, match="NaN or infinite"):
        min_regularizer(np.full((3, 2), np.inf), xs, ys, (3, 2, 2))
    with pytest.raises(ValueError, match="starts must be an integer >= 1"):
        min_regularizer(W, xs, ys, (3, 2, 2), starts=0)
    with pytest.raises(ValueError, match="zero: nothing to compress"):
        compress([np.zeros((2, 2)), np.ones((2, 2))])


def test_non_convergence_is_reported():
    rng = np.random.default_rng(1)
    xs, ys = rng.standard_normal((20, 3)), rng.standard_normal((20, 3))
    W = low_rank(rng, 3, 3, 2)
    with pytest.warns(
        RuntimeWarning, match="did not converge to tol = 1e-15 within 1 sweeps"
    ):
        min_regularizer(
            W, xs, ys, (3, 3, 3, 3), starts=2, tol=1e-15, max_sweeps=1
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        min_regularizer(W, xs, ys, (3, 3, 3, 3), starts=2)


@pytest.mark.parametrize("shape", [(3, 3, 3), (4, 3, 3), (3, 4, 4), (3, 3, 2)])
def test_induced_gradient_matches_central_differences(shape):
    from dlnlib.induced import induced_gradient

    d0, dL, L = shape
    rng = np.random.default_rng(sum(shape))
    xs, ys = rng.standard_normal((20, d0)), rng.standard_normal((20, dL))
    W = rng.standard_normal((d0, dL))
    dims = (d0, *[max(d0, dL)] * (L - 1), dL)
    value, grad = induced_gradient(W, xs, ys, dims)
    assert np.isclose(value, min_regularizer(W, xs, ys, dims)[0])
    E = rng.standard_normal((d0, dL))
    h = 1e-5
    fd = (
        min_regularizer(W + h * E, xs, ys, dims)[0]
        - min_regularizer(W - h * E, xs, ys, dims)[0]
    ) / (2 * h)
    assert abs(fd - np.sum(grad * E)) < 1e-4 * max(1.0, abs(fd))
    with pytest.raises(
        ValueError, match="not differentiable at rank-deficient"
    ):
        induced_gradient(low_rank(rng, d0, dL, 1), xs, ys, dims)
