"""Full-rank problems, rank = min(d0, dL): allowed by the generators and usable downstream.

The docstrings allow ``1 <= rank <= min(d0, dL)``; the unit tests only used
low ranks, so a check rejecting ``rank == min(d0, dL)`` went unnoticed.
"""

import numpy as np
import pytest

import dlnlib
from dlnlib.depth_two import depth_two_factorization, depth_two_minimum
from dlnlib.problems import (
    completion_from_pattern,
    gaussian_sensing,
    matrix_completion,
)

SHAPES = [(1, 1), (1, 4), (3, 3), (2, 5), (5, 2)]


def exact_rank(W):
    s = np.linalg.svd(W, compute_uv=False)
    return int(np.sum(s > 1e-8 * s[0]))


@pytest.mark.parametrize("d0, dL", SHAPES)
def test_gaussian_sensing_at_full_rank(d0, dL):
    r = min(d0, dL)
    pb = gaussian_sensing(7, d0, dL, r, seed=11, scale=2.5)
    assert pb.rank == r and pb.shape == (d0, dL) and pb.kind == "sensing"
    assert exact_rank(pb.W_star) == r
    assert dlnlib.nuclear_norm(pb.W_star) == pytest.approx(2.5, rel=1e-12)
    np.testing.assert_allclose(
        pb.targets,
        [x @ pb.W_star @ y for x, y in zip(pb.xs, pb.ys)],
        rtol=1e-12,
        atol=1e-14,
    )


@pytest.mark.parametrize("d0, dL", SHAPES)
def test_matrix_completion_at_full_rank(d0, dL):
    r = min(d0, dL)
    pb = matrix_completion(
        d0 * dL, d0, dL, r, seed=12, scale=0.5
    )  # every entry observed once
    assert pb.rank == r and exact_rank(pb.W_star) == r
    assert np.sqrt(np.mean(pb.W_star**2)) == pytest.approx(0.5, rel=1e-12)
    np.testing.assert_array_equal(pb.counts, np.ones((d0, dL)))
    np.testing.assert_array_equal(pb.targets, pb.W_star[pb.rows, pb.cols])
    again = matrix_completion(
        2 * d0 * dL, d0, dL, r, seed=12, scale=0.5, replace=True
    )
    np.testing.assert_array_equal(
        again.W_star, pb.W_star
    )  # same seed: the same ground truth


@pytest.mark.parametrize("d0, dL", SHAPES)
def test_completion_from_pattern_at_full_rank(d0, dL):
    r = min(d0, dL)
    pattern = np.ones((d0, dL), bool)
    pattern[0, -1] = (
        d0 * dL == 1
    )  # one entry missing unless it is the only one
    pb = completion_from_pattern(pattern, r, seed=13)
    assert pb.rank == r and exact_rank(pb.W_star) == r
    np.testing.assert_array_equal(
        pb.W_star, matrix_completion(1, d0, dL, r, seed=13).W_star
    )
    np.testing.assert_array_equal(pb.targets, pb.W_star[pattern])


def test_full_rank_problems_downstream():
    """A full-rank truth is recovered from all its entries, and factorizes at the narrowest widths."""
    pb = matrix_completion(12, 3, 4, 3, seed=5)
    W = dlnlib.min_nuclear_norm(pb.xs, pb.ys, pb.targets)
    np.testing.assert_allclose(W, pb.W_star, atol=1e-7)
    X, Y = np.diag([1.0, 2.0, 3.0]), np.eye(4)
    for dims in [(3, 3, 4), (3, 3, 3, 4)]:
        ws = dlnlib.optimal_factorization(pb.W_star, X, Y, dims)
        np.testing.assert_allclose(
            dlnlib.end_to_end(ws), pb.W_star, atol=1e-12
        )
        assert dlnlib.regularizer_kron(ws, X, Y) == pytest.approx(
            dlnlib.lower_bound(pb.W_star, X, Y, len(dims) - 1), rel=1e-10
        )
    with pytest.raises(
        ValueError, match=r"hidden width d_1 = 2 is below rank\(W\) = 3"
    ):
        dlnlib.optimal_factorization(pb.W_star, X, Y, (3, 2, 4))
    sensing = gaussian_sensing(40, 3, 4, 3, seed=6)
    W1, W2 = depth_two_factorization(sensing.W_star, sensing.xs, sensing.ys, 3)
    np.testing.assert_allclose(W1 @ W2, sensing.W_star, atol=1e-10)
    assert float(
        dlnlib.regularizer([W1, W2], sensing.xs, sensing.ys)
    ) == pytest.approx(
        depth_two_minimum(sensing.W_star, sensing.xs, sensing.ys), rel=1e-9
    )
