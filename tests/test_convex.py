"""Tests for dlnlib.convex.min_nuclear_norm: feasibility, optimality against other interpolants,
recovery where theory guarantees it, the weighted version, and bad input."""

import numpy as np
import pytest

from dlnlib import nuclear_norm
from dlnlib.convex import min_nuclear_norm
from dlnlib.problems import gaussian_sensing, matrix_completion


def fits(W, pb, tol=1e-7):
    P = np.einsum("ni,ij,nj->n", pb.xs, W, pb.ys)
    return np.max(np.abs(P - pb.targets)) <= tol * max(
        1.0, np.max(np.abs(pb.targets))
    )


def interpolants(pb, rng, k=5):
    """The least-Frobenius interpolant plus random elements of the interpolating set."""
    d0, dL = pb.W_star.shape
    A = (pb.xs[:, :, None] * pb.ys[:, None, :]).reshape(pb.n, -1)
    base = np.linalg.lstsq(A, pb.targets, rcond=None)[0]
    null = np.linalg.svd(A)[2][np.linalg.matrix_rank(A) :]
    out = [base.reshape(d0, dL)]
    for _ in range(k):
        out.append(
            (base + 0.3 * rng.standard_normal(null.shape[0]) @ null).reshape(
                d0, dL
            )
        )
    return out


def test_sensing_recovers_the_low_rank_truth():
    pb = gaussian_sensing(
        50, 10, 10, 1, seed=0
    )  # 50 Gaussian measurements, 19 degrees of freedom
    W = min_nuclear_norm(pb.xs, pb.ys, pb.targets)
    assert fits(W, pb)
    assert np.linalg.norm(W - pb.W_star) <= 1e-5 * np.linalg.norm(pb.W_star)


def test_underdetermined_sensing_is_optimal_among_interpolants():
    pb = gaussian_sensing(
        12, 5, 6, 2, seed=3
    )  # too few measurements to recover W_star
    W = min_nuclear_norm(pb.xs, pb.ys, pb.targets)
    assert fits(W, pb)
    rng = np.random.default_rng(0)
    for V in interpolants(pb, rng) + [pb.W_star]:
        assert fits(V, pb)
        assert nuclear_norm(W) <= nuclear_norm(V) + 1e-6


def test_completion_with_every_entry_observed_returns_the_matrix():
    pb = matrix_completion(12, 3, 4, 2, seed=5)
    W = min_nuclear_norm(pb.xs, pb.ys, pb.targets)
    np.testing.assert_allclose(W, pb.W_star, atol=1e-7)


def test_weighted_and_plain_solutions_each_win_their_own_objective():
    p = np.r_[np.full(3, 8.0), np.ones(7)]
    pb = matrix_completion(
        45, 10, 10, 2, seed=2, row_weights=p, col_weights=p[::-1]
    )
    X = np.sqrt(pb.n) * np.diag(np.sqrt(pb.row_probs))
    Y = np.diag(np.sqrt(pb.col_probs))
    plain = min_nuclear_norm(pb.xs, pb.ys, pb.targets)
    weighted = min_nuclear_norm(pb.xs, pb.ys, pb.targets, X, Y)
    assert fits(plain, pb) and fits(weighted, pb)
    assert nuclear_norm(plain) <= nuclear_norm(weighted) + 1e-6
    assert nuclear_norm(X @ weighted @ Y) <= nuclear_norm(X @ plain @ Y) + 1e-6
    assert np.linalg.norm(plain - weighted) > 1e-3 * np.linalg.norm(plain), (
        "weights had no effect"
    )
    # a scalar multiple of the weights does not change the optimal value (the minimizer need not be unique)
    again = min_nuclear_norm(pb.xs, pb.ys, pb.targets, 3.0 * X, Y / 7.0)
    assert fits(again, pb)
    assert nuclear_norm(X @ again @ Y) == pytest.approx(
        nuclear_norm(X @ weighted @ Y), rel=1e-6
    )


def test_invertible_weights_change_variables():
    # min ||X W Y||_* with W = X^-1 V Y^-1: compare with the plain problem on transformed data
    pb = gaussian_sensing(15, 4, 5, 1, seed=4)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 4)) + 3 * np.eye(4)
    Y = rng.standard_normal((5, 5)) + 3 * np.eye(5)
    W = min_nuclear_norm(pb.xs, pb.ys, pb.targets, X, Y)
    V = min_nuclear_norm(
        np.linalg.solve(X.T, pb.xs.T).T,
        np.linalg.solve(Y, pb.ys.T).T,
        pb.targets,
    )
    np.testing.assert_allclose(X @ W @ Y, V, atol=1e-6 * np.linalg.norm(V))


@pytest.mark.parametrize(
    "call",
    [
        lambda pb: min_nuclear_norm(pb.xs, pb.ys[:9], pb.targets),
        lambda pb: min_nuclear_norm(pb.xs[:5], pb.ys, pb.targets),
        lambda pb: min_nuclear_norm(pb.xs, pb.ys, pb.targets[:5]),
        lambda pb: min_nuclear_norm(
            pb.xs, pb.ys, np.r_[np.nan, pb.targets[1:]]
        ),
        lambda pb: min_nuclear_norm(
            pb.xs, pb.ys, pb.targets, X=np.diag([1.0, 1.0, 0.0, 1.0])
        ),
        lambda pb: min_nuclear_norm(
            pb.xs, pb.ys, pb.targets, X=np.diag([1.0, 1.0, 1e-12, 1.0])
        ),
        lambda pb: min_nuclear_norm(pb.xs, pb.ys, pb.targets, Y=np.eye(4)),
        lambda pb: min_nuclear_norm(
            pb.xs, pb.ys, pb.targets, X=np.ones((4, 3))
        ),
        # the same measurement twice with different targets: nothing fits
        lambda pb: min_nuclear_norm(
            np.r_[pb.xs, pb.xs[:1]],
            np.r_[pb.ys, pb.ys[:1]],
            np.r_[pb.targets, 1.0 + pb.targets[0]],
        ),
    ],
)
def test_bad_input_raises(call):
    pb = gaussian_sensing(10, 4, 5, 1, seed=0)
    with pytest.raises(ValueError):
        call(pb)


def test_singular_weight_message_says_why():
    pb = gaussian_sensing(10, 4, 5, 1, seed=0)
    with pytest.raises(
        ValueError,
        match=r"^X is singular or badly conditioned \(condition number inf > 1e\+10\): "
        r"\|\|X W Y\|\|_\* would not determine W$",
    ):
        min_nuclear_norm(
            pb.xs, pb.ys, pb.targets, X=np.diag([1.0, 1.0, 0.0, 1.0])
        )
