"""Depth two without the Kronecker assumption, the prediction Jacobian, grad R and the drift formula."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from instances import low_rank, random_weights, well_conditioned

import dlnlib
from dlnlib.depth_two import (
    depth_two_factorization,
    depth_two_minimum,
    depth_two_moments,
)
from dlnlib.drift import normal_space, predicted_drift, tangent_gradient
from dlnlib.network import flatten, jacobian, jacobian_derivative, unflatten
from dlnlib.regularizer import regularizer_gradient


def sensing_data(rng, n, d0, dL):
    return rng.standard_normal((n, d0)), rng.standard_normal((n, dL))


# --- depth two ---------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 10**6),
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(0, 5),
    st.integers(0, 3),
)
def test_depth_two_factorization_attains_the_minimum_and_nothing_goes_below(
    seed, d0, dL, rank, extra
):
    rng = np.random.default_rng(seed)
    r = min(rank, d0, dL)
    xs, ys = sensing_data(rng, 3 * d0 * dL + 3, d0, dL)
    W = low_rank(rng, d0, dL, r)
    width = max(r, 1) + extra
    W1, W2 = depth_two_factorization(W, xs, ys, width)
    assert W1.shape == (d0, width) and W2.shape == (width, dL)
    assert np.allclose(W1 @ W2, W, atol=1e-9 * max(1.0, np.abs(W).max()))
    m = depth_two_minimum(W, xs, ys)
    assert np.isclose(
        float(dlnlib.regularizer([W1, W2], xs, ys)), m, rtol=1e-9, atol=1e-12
    )
    # any other factorization of W (a random gauge of the optimum) is not below
    G = np.eye(width) + rng.standard_normal((width, width))
    other = [W1 @ G, np.linalg.solve(G, W2)]
    assert float(dlnlib.regularizer(other, xs, ys)) >= m * (1 - 1e-9)


def test_depth_two_moments_are_the_partial_traces_of_the_data_moment():
    rng = np.random.default_rng(3)
    xs, ys = sensing_data(rng, 9, 3, 2)
    M = dlnlib.second_moment(xs, ys).reshape(3, 2, 3, 2)
    M_x, M_y = depth_two_moments(xs, ys)
    assert np.allclose(M_x, np.einsum("abcb->ac", M))
    assert np.allclose(M_y, np.einsum("abad->bd", M))


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 4), st.integers(1, 4))
def test_depth_two_minimum_is_the_kronecker_bound_under_the_assumption(
    seed, d0, dL
):
    rng = np.random.default_rng(seed)
    X, Y = well_conditioned(rng, d0), well_conditioned(rng, dL)
    xs, ys = dlnlib.product_design(X, Y)
    W = rng.standard_normal((d0, dL))
    assert np.isclose(
        depth_two_minimum(W, xs, ys), dlnlib.lower_bound(W, X, Y, 2), rtol=1e-9
    )


def test_depth_two_for_completion_is_the_count_weighted_nuclear_norm():
    xs, ys = np.eye(2)[[0, 1, 1]], np.eye(2)[[1, 0, 1]]  # Razin-Cohen pattern
    W = np.array([[0.5, 1.0], [1.0, 0.0]])
    D = np.diag(np.sqrt([1.0, 2.0]))
    assert np.isclose(
        depth_two_minimum(W, xs, ys),
        2 * dlnlib.nuclear_norm(D @ W @ D),
        rtol=1e-12,
    )


def test_depth_two_rejects_bad_input_with_a_message():
    rng = np.random.default_rng(0)
    xs, ys = sensing_data(rng, 10, 3, 2)
    W = rng.standard_normal((3, 2))
    with pytest.raises(ValueError, match=r"M_x = sum_i .* singular"):
        depth_two_minimum(
            W, np.eye(3)[[0, 1] * 5], ys
        )  # the third row is never measured
    with pytest.raises(ValueError, match=r"M_y = sum_i .* singular"):
        depth_two_minimum(W, xs, np.eye(2)[[0] * 10])
    with pytest.raises(
        ValueError, match=r"hidden width d_1 = 1 is below rank\(W\) = 2"
    ):
        depth_two_factorization(W, xs, ys, 1)
    depth_two_factorization(W, xs, ys, 2)  # the boundary width is accepted
    with pytest.raises(
        ValueError,
        match="xs has 3 columns but the network's input dimension is d_0 = 2",
    ):
        depth_two_minimum(W.T, xs, ys)
    with pytest.raises(ValueError, match="NaN or infinite"):
        depth_two_minimum(np.full((3, 2), np.nan), xs, ys)
    with pytest.raises(ValueError, match="width d_1 must be an integer >= 1"):
        depth_two_factorization(W, xs, ys, 2.5)


# --- Jacobian, grad R and the drift -------------------------------------------------------


def central_difference(f, theta, h=1e-6):
    return np.array(
        [
            (f(theta + h * e) - f(theta - h * e)) / (2 * h)
            for e in np.eye(theta.size)
        ]
    )


@pytest.mark.parametrize("dims", [(3, 4, 2), (2, 3, 4, 3), (3, 2, 2, 3, 2)])
def test_jacobian_and_regularizer_gradient_match_finite_differences(dims):
    rng = np.random.default_rng(len(dims))
    ws = random_weights(rng, dims)
    xs, ys = sensing_data(rng, 5, dims[0], dims[-1])
    theta = flatten(ws)
    J = jacobian(ws, xs, ys)
    J_fd = central_difference(
        lambda t: dlnlib.predict(unflatten(t, dims), xs, ys), theta
    ).T
    assert np.allclose(J, J_fd, rtol=1e-6, atol=1e-7 * np.abs(J).max())
    g = flatten(regularizer_gradient(ws, xs, ys))
    g_fd = central_difference(
        lambda t: float(dlnlib.regularizer(unflatten(t, dims), xs, ys)), theta
    )
    assert np.allclose(g, g_fd, rtol=1e-6, atol=1e-7 * np.abs(g).max())
    v, c = rng.standard_normal(theta.size), rng.standard_normal(len(xs))
    jd = jacobian_derivative(ws, xs, ys, v, c)
    jd_fd = central_difference(
        lambda s: jacobian(unflatten(theta + s[0] * v, dims), xs, ys).T @ c,
        np.zeros(1),
    )[0]
    assert np.allclose(jd, jd_fd, rtol=1e-6, atol=1e-7 * np.abs(jd).max())
    # grad R = 2 sum_i Hess(P_i) grad(P_i): the identity behind the drift
    twice = sum(
        2 * jacobian_derivative(ws, xs, ys, J[i], np.eye(len(xs))[i])
        for i in range(len(xs))
    )
    assert np.allclose(twice, g, rtol=1e-10, atol=1e-12 * np.abs(g).max())


def test_flatten_round_trip_and_errors():
    rng = np.random.default_rng(1)
    ws = random_weights(rng, (2, 3, 4))
    back = unflatten(flatten(ws), (2, 3, 4))
    assert all(np.array_equal(a, b) for a, b in zip(ws, back))
    with pytest.raises(
        ValueError, match=r"theta has 17 entries but dims \(2, 3, 4\) need 18"
    ):
        unflatten(np.zeros(17), (2, 3, 4))
    with pytest.raises(ValueError, match="single network"):
        flatten([np.zeros((2, 2, 3)), np.zeros((2, 3, 4))])


def test_predicted_drift_on_the_scalar_network_by_hand():
    # P = a b, one sample x = y = 1: R = a^2 + b^2, grad R = (2a, 2b), normal direction (b, a)
    a, b, eta, sigma = 2.0, 0.5, 0.1, 1.0
    ws = [np.array([[a]]), np.array([[b]])]
    g, u = np.array([2 * a, 2 * b]), np.array([b, a]) / np.hypot(a, b)
    tangent = g - (g @ u) * u
    expected = -(eta**2) * sigma**2 / 4 * tangent @ tangent
    one = np.ones((1, 1))
    assert np.isclose(
        predicted_drift(ws, one, one, lr=eta, noise_std=sigma),
        expected,
        rtol=1e-12,
    )
    assert np.allclose(tangent_gradient(ws, one, one), tangent)
    # the Lyapunov covariance scales the only normal direction by 2 / (2 - eta lambda), lambda = a^2 + b^2
    lam = a**2 + b**2
    lyap = predicted_drift(
        ws, one, one, lr=eta, noise_std=sigma, covariance="lyapunov"
    )
    assert np.isclose(lyap, expected * 2 / (2 - eta * lam), rtol=1e-12)
    assert np.isclose(normal_space(ws, one, one).hessian_eigenvalues[0], lam)


def test_predicted_drift_vanishes_at_a_minimizer_of_R():
    rng = np.random.default_rng(5)
    X, Y = well_conditioned(rng, 3), well_conditioned(rng, 3)
    xs, ys = dlnlib.product_design(X, Y)
    W = low_rank(rng, 3, 3, 2)
    ws = dlnlib.optimal_factorization(W, X, Y, (3, 3, 3, 3))
    # the data pin W down (n = d_0 d_L): the optimum of R on the fibre is a stationary point
    drift = predicted_drift(ws, xs, ys, lr=1e-3, noise_std=1.0)
    scale = (
        1e-6 / 4 / len(xs) ** 2 * float(dlnlib.regularizer(ws, xs, ys)) ** 2
    )
    assert abs(drift) < 1e-12 * scale


def test_predicted_drift_errors():
    one = np.ones((1, 1))
    ws = [np.array([[2.0]]), np.array([[0.5]])]
    with pytest.raises(
        FloatingPointError, match=r"lr \* lambda_max\(H\) = 2.12 >= 2"
    ):
        predicted_drift(
            ws, one, one, lr=0.5, noise_std=1.0, covariance="lyapunov"
        )
    with pytest.raises(
        ValueError, match="lr must be a positive finite number"
    ):
        predicted_drift(ws, one, one, lr=0.0, noise_std=1.0)
    with pytest.raises(
        ValueError, match="noise_std must be a positive finite number"
    ):
        predicted_drift(ws, one, one, lr=0.1, noise_std=np.nan)
    with pytest.raises(
        ValueError, match="covariance must be 'leading' or 'lyapunov'"
    ):
        predicted_drift(
            ws, one, one, lr=0.1, noise_std=1.0, covariance="exact"
        )
    with pytest.raises(
        ValueError, match="Jacobian of the predictions is zero"
    ):
        predicted_drift(
            [np.zeros((1, 1)), np.zeros((1, 1))],
            one,
            one,
            lr=0.1,
            noise_std=1.0,
        )
