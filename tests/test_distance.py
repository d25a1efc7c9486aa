"""dlnlib.bound.relative_distance: values, stacks and refusals."""

import numpy as np
import pytest

from dlnlib import relative_distance


def test_relative_distance_of_one_matrix_and_of_a_stack():
    rng = np.random.default_rng(5)
    B = rng.standard_normal((3, 4))
    A = rng.standard_normal((6, 3, 4))
    stacked = relative_distance(A, B)
    assert stacked.shape == (6,)
    for a, d in zip(A, stacked):
        single = relative_distance(a, B)
        assert isinstance(single, float)
        assert single == pytest.approx(
            np.sqrt(np.sum((a - B) ** 2) / np.sum(B**2)), rel=1e-14
        )
        assert d == pytest.approx(single, rel=1e-14)
    assert relative_distance(B, B) == 0.0


def test_relative_distance_refuses_bad_input():
    B = np.eye(2)
    with pytest.raises(ValueError, match="B is zero"):
        relative_distance(B, np.zeros((2, 2)))
    with pytest.raises(
        ValueError,
        match=r"A has matrices of shape \(2, 3\) but B has shape \(2, 2\)",
    ):
        relative_distance(np.ones((2, 3)), B)
    with pytest.raises(
        ValueError,
        match=r"A has matrices of shape \(3, 2\) but B has shape \(2, 2\)",
    ):
        relative_distance(np.ones((3, 2)), B)
    with pytest.raises(ValueError, match="A contains NaN or infinite entries"):
        relative_distance(np.full((2, 2), np.nan), B)
    with pytest.raises(ValueError, match="B must be 2-dimensional"):
        relative_distance(B, np.ones((1, 2, 2)))
