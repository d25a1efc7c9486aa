"""Tests for dlnlib.convex.convex_references and dlnlib.interpolant.least_found, the two
helpers the training chapters use for their targets."""

import numpy as np
import pytest

from dlnlib import depth_two_minimum, predict
from dlnlib.convex import convex_references, reference_weights
from dlnlib.depth_two import depth_two_moments
from dlnlib.kronecker import kronecker_factors
from dlnlib.problems import gaussian_sensing, matrix_completion


def fits(W, pb, tol=1e-6):
    P = predict([W, np.eye(W.shape[1])], pb.xs, pb.ys)
    return np.max(np.abs(P - pb.targets)) <= tol * max(
        1.0, np.abs(pb.targets).max()
    )


@pytest.mark.parametrize(
    "pb",
    [
        gaussian_sensing(30, 6, 6, 1, seed=1),
        matrix_completion(40, 8, 8, 1, seed=2, cover=True),
    ],
    ids=["sensing", "completion"],
)
def test_references_interpolate_and_depth_two_wins_its_own_objective(pb):
    refs = convex_references(pb.xs, pb.ys, pb.targets)
    assert list(refs) == ["plain", "Kronecker-weighted", "exact depth-2"]
    for W in refs.values():
        assert fits(W, pb)
    values = {k: depth_two_minimum(W, pb.xs, pb.ys) for k, W in refs.items()}
    assert values["exact depth-2"] <= min(values.values()) * (1 + 1e-6)


def test_reference_weights_are_the_kronecker_factors_and_moment_roots():
    pb = gaussian_sensing(30, 4, 3, 1, seed=4)
    weights = reference_weights(pb.xs, pb.ys)
    assert list(weights) == ["plain", "Kronecker-weighted", "exact depth-2"]
    np.testing.assert_array_equal(weights["plain"][0], np.eye(4))
    np.testing.assert_array_equal(weights["plain"][1], np.eye(3))
    kf = kronecker_factors(pb.xs, pb.ys)
    np.testing.assert_array_equal(weights["Kronecker-weighted"][0], kf.X)
    np.testing.assert_array_equal(weights["Kronecker-weighted"][1], kf.Y)
    A, B = weights["exact depth-2"]
    M_x, M_y = depth_two_moments(pb.xs, pb.ys)
    for root, M in ((A, M_x), (B, M_y)):
        np.testing.assert_allclose(root, root.T, atol=1e-12)
        assert np.linalg.eigvalsh(root).min() > 0
        np.testing.assert_allclose(root @ root, M, rtol=1e-10, atol=1e-10)


def test_reference_weights_refuse_a_direction_never_sampled():
    xs = np.eye(3)[[0, 1, 0, 1]]  # the third input direction is never seen
    ys = np.eye(2)[[0, 1, 1, 0]]
    with pytest.raises(
        ValueError, match="M_x is singular or badly conditioned"
    ):
        reference_weights(xs, ys)
