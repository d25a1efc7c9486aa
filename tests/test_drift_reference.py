"""The drift formulas of dlnlib.drift against an independent computation with n > 1 samples.

The hand-computed scalar example of test_depth_two_and_drift.py has n = 1, where
every factor 1/n is invisible. Here the Hessian of the mean loss, the
leading-order drift and the Lyapunov drift are rebuilt from the Jacobian with
explicit matrices: the Hessians of the predictions come from central
differences of the Jacobian, which are exact (up to rounding) at depth 3 since
the Jacobian is then quadratic along any line.
"""

import numpy as np
import pytest

from dlnlib.drift import normal_space, predicted_drift, tangent_gradient
from dlnlib.network import flatten, jacobian, unflatten
from dlnlib.regularizer import regularizer_gradient

DIMS = (2, 3, 2, 2)  # depth 3


@pytest.fixture(scope="module")
def point():
    rng = np.random.default_rng(0)
    ws = [
        rng.standard_normal((DIMS[l], DIMS[l + 1])) / np.sqrt(DIMS[l])
        for l in range(3)
    ]
    xs, ys = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    return ws, xs, ys


def normal_basis(J):
    U, s, Vt = np.linalg.svd(J, full_matrices=False)
    k = int(np.sum(s > max(J.shape) * np.finfo(float).eps * s[0]))
    return Vt[:k].T, s[:k]


def test_hessian_eigenvalues_are_those_of_the_mean_loss(point):
    ws, xs, ys = point
    n = len(xs)
    J = jacobian(ws, xs, ys)
    H = J.T @ J / n
    expected = np.sort(np.linalg.eigvalsh(H))[::-1][: min(J.shape)]
    space = normal_space(ws, xs, ys)
    np.testing.assert_allclose(
        space.hessian_eigenvalues,
        expected[: len(space.hessian_eigenvalues)],
        rtol=1e-10,
    )
    B = space.basis
    np.testing.assert_allclose(
        B @ np.diag(space.hessian_eigenvalues) @ B.T, H, atol=1e-12
    )


def test_leading_drift_prefactor(point):
    ws, xs, ys = point
    n, eta, sigma = len(xs), 0.03, 0.7
    V, _ = normal_basis(jacobian(ws, xs, ys))
    g = flatten(regularizer_gradient(ws, xs, ys))
    tangent = g - V @ (V.T @ g)
    np.testing.assert_allclose(
        tangent_gradient(ws, xs, ys), tangent, rtol=1e-9, atol=1e-12
    )
    expected = -(eta**2) * sigma**2 / (4 * n**2) * tangent @ tangent
    assert predicted_drift(
        ws, xs, ys, lr=eta, noise_std=sigma
    ) == pytest.approx(expected, rel=1e-10)


def test_lyapunov_drift_from_explicit_matrices(point):
    ws, xs, ys = point
    n, eta, sigma = len(xs), 0.2, 0.7
    theta = flatten(ws)
    J = jacobian(ws, xs, ys)
    V, s = normal_basis(J)
    lam = s**2 / n
    assert eta * lam[0] < 2
    S = (
        V @ np.diag(eta * sigma**2 / (n * (2 - eta * lam))) @ V.T
    )  # solves S = (I - eta H) S (I - eta H) + ...
    H = J.T @ J / n
    I = np.eye(len(theta))
    np.testing.assert_allclose(
        S,
        (I - eta * H) @ S @ (I - eta * H) + eta**2 * sigma**2 / n * H,
        atol=1e-12,
    )

    def hess_times(
        i, u, h=1e-3
    ):  # (Hessian of P_i) u, exact for a quadratic Jacobian
        plus = jacobian(unflatten(theta + h * u, DIMS), xs, ys)[i]
        minus = jacobian(unflatten(theta - h * u, DIMS), xs, ys)[i]
        return (plus - minus) / (2 * h)

    pull = sum(hess_times(i, S @ J[i]) for i in range(n))
    g = flatten(regularizer_gradient(ws, xs, ys))
    P_T = I - V @ V.T
    expected = -(eta / 2) * g @ P_T @ (2 / n * pull)
    got = predicted_drift(
        ws, xs, ys, lr=eta, noise_std=sigma, covariance="lyapunov"
    )
    assert got == pytest.approx(expected, rel=1e-6)
    assert got < 0
    # to leading order in eta the two covariances agree
    small = 1e-5
    ratio = predicted_drift(
        ws, xs, ys, lr=small, noise_std=sigma, covariance="lyapunov"
    ) / predicted_drift(ws, xs, ys, lr=small, noise_std=sigma)
    assert ratio == pytest.approx(1.0, abs=1e-3)
