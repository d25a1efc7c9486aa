"""Tests for dlnlib.problems: the generators produce what their docstrings promise."""

import numpy as np
import pytest

from dlnlib import kronecker_factors, nuclear_norm
from dlnlib.problems import (
    Problem,
    completion_from_pattern,
    gaussian_sensing,
    matrix_completion,
)


def test_sensing_shapes_targets_and_rank():
    pb = gaussian_sensing(50, 10, 8, 2, seed=3)
    assert isinstance(pb, Problem) and pb.kind == "sensing"
    assert (
        pb.xs.shape == (50, 10)
        and pb.ys.shape == (50, 8)
        and pb.targets.shape == (50,)
    )
    assert pb.W_star.shape == (10, 8) and pb.n == 50 and pb.shape == (10, 8)
    s = np.linalg.svd(pb.W_star, compute_uv=False)
    assert np.sum(s > 1e-10 * s[0]) == 2
    assert nuclear_norm(pb.W_star) == pytest.approx(1.0, rel=1e-12)
    direct = np.array([x @ pb.W_star @ y for x, y in zip(pb.xs, pb.ys)])
    np.testing.assert_allclose(pb.targets, direct, rtol=1e-12, atol=1e-14)
    assert pb.counts is None and pb.rows is None


def test_sensing_scale_and_seed_reproducibility():
    a = gaussian_sensing(20, 5, 5, 1, seed=7, scale=3.0)
    b = gaussian_sensing(20, 5, 5, 1, seed=7, scale=3.0)
    c = gaussian_sensing(20, 5, 5, 1, seed=8, scale=3.0)
    assert nuclear_norm(a.W_star) == pytest.approx(3.0)
    for f in ("xs", "ys", "targets", "W_star"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert not np.allclose(a.xs, c.xs)


def test_problem_is_frozen():
    pb = gaussian_sensing(5, 3, 3, 1, seed=0)
    with pytest.raises(AttributeError):
        pb.xs = np.zeros((5, 3))
    with pytest.raises(ValueError):
        pb.targets[0] = 1.0


def test_completion_uniform_distinct_entries():
    pb = matrix_completion(200, 20, 20, 2, seed=1)
    assert pb.kind == "completion"
    np.testing.assert_array_equal(pb.xs.sum(axis=1), 1.0)
    np.testing.assert_array_equal(pb.ys.sum(axis=1), 1.0)
    np.testing.assert_array_equal(pb.xs.argmax(axis=1), pb.rows)
    np.testing.assert_array_equal(pb.ys.argmax(axis=1), pb.cols)
    np.testing.assert_array_equal(pb.targets, pb.W_star[pb.rows, pb.cols])
    assert pb.counts.sum() == 200 and pb.counts.max() == 1.0
    assert len(set(zip(pb.rows.tolist(), pb.cols.tolist()))) == 200
    assert np.sqrt(np.mean(pb.W_star**2)) == pytest.approx(1.0)
    assert np.linalg.matrix_rank(pb.W_star) == 2
    np.testing.assert_allclose(pb.row_probs, 1 / 20)
    # the data moment is diag(vec(counts))
    z = (pb.xs[:, :, None] * pb.ys[:, None, :]).reshape(200, -1)
    np.testing.assert_array_equal(z.T @ z, np.diag(pb.counts.ravel()))


def test_completion_product_law_is_followed():
    p = np.array([8.0, 4.0, 2.0, 1.0, 1.0])
    q = np.array([1.0, 1.0, 1.0, 1.0, 4.0, 0.0])
    pb = matrix_completion(
        20000, 5, 6, 1, seed=2, row_weights=p, col_weights=q, replace=True
    )
    np.testing.assert_allclose(pb.row_probs, p / p.sum())
    assert np.all(pb.counts[:, 5] == 0), "a zero-weight column was sampled"
    freq = pb.counts / pb.counts.sum()
    np.testing.assert_allclose(
        freq, np.outer(p / p.sum(), q / q.sum()), atol=0.01
    )
    # i.i.d. product sampling: the counts are close to rank one, so the Kronecker assumption nearly holds
    assert kronecker_factors(pb.xs, pb.ys).rel_error < 0.05


def test_completion_weighted_without_replacement_prefers_heavy_rows():
    p = np.r_[np.full(5, 10.0), np.ones(15)]
    pb = matrix_completion(100, 20, 20, 2, seed=4, row_weights=p)
    assert pb.counts.max() == 1.0
    assert pb.counts[:5].sum() > pb.counts[5:].sum()


def test_completion_cover_observes_every_row_and_column():
    # seed 3 with 60 entries of a 20 x 20 matrix misses a row; cover redraws
    plain = matrix_completion(60, 20, 20, 1, seed=3)
    assert min(plain.counts.sum(1).min(), plain.counts.sum(0).min()) == 0
    pb = matrix_completion(60, 20, 20, 1, seed=3, cover=True)
    assert (
        pb.counts.sum(axis=1).min() >= 1 and pb.counts.sum(axis=0).min() >= 1
    )
    np.testing.assert_array_equal(pb.W_star, plain.W_star)
    again = matrix_completion(60, 20, 20, 1, seed=3, cover=True)
    np.testing.assert_array_equal(pb.rows, again.rows)  # deterministic
    # a sample that already covers every line is returned unchanged
    full = matrix_completion(200, 20, 20, 2, seed=1)
    assert full.counts.sum(axis=1).min() >= 1 and full.counts.sum(0).min() >= 1
    same = matrix_completion(200, 20, 20, 2, seed=1, cover=True)
    np.testing.assert_array_equal(full.rows, same.rows)


def test_completion_connected_makes_the_kronecker_factors_invertible():
    # seed 6, 8 entries of a 4 x 4 matrix: cover=True sees every row and column, but the
    # pattern falls into two blocks and the nearest Kronecker factor X is singular
    split = matrix_completion(8, 4, 4, 1, seed=6, cover=True)
    assert min(split.counts.sum(1).min(), split.counts.sum(0).min()) >= 1
    assert (
        np.linalg.svd(kronecker_factors(split.xs, split.ys).X)[1].min() < 1e-8
    )
    pb = matrix_completion(8, 4, 4, 1, seed=6, connected=True)
    np.testing.assert_array_equal(pb.W_star, split.W_star)
    # connected: a walk through observed entries reaches every row and column
    reach, frontier = {0}, {0}
    while frontier:
        cols = {int(b) for a, b in zip(pb.rows, pb.cols) if a in frontier}
        rows = {int(a) for a, b in zip(pb.rows, pb.cols) if b in cols}
        frontier = rows - reach
        reach |= rows
    assert reach == {0, 1, 2, 3} and set(pb.cols.tolist()) == {0, 1, 2, 3}
    kf = kronecker_factors(pb.xs, pb.ys)
    for M in (kf.X, kf.Y):
        s = np.linalg.svd(M, compute_uv=False)
        assert s.min() > 0.1 * s.max()
    # a connected draw is returned unchanged, deterministic in the seed
    full = matrix_completion(200, 20, 20, 2, seed=1, cover=True)
    same = matrix_completion(200, 20, 20, 2, seed=1, connected=True)
    np.testing.assert_array_equal(full.rows, same.rows)
    with pytest.raises(ValueError, match="n >= d0 \\+ dL - 1 = 7"):
        matrix_completion(6, 4, 4, 1, seed=0, connected=True)
    with pytest.raises(ValueError, match="more than one connected block"):
        matrix_completion(39, 20, 20, 1, seed=0, connected=True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 10}, "n >= max"),
        ({"n": 30, "row_weights": [1.0] * 19 + [0.0]}, "positive weight"),
        (
            {"n": 20, "row_weights": [1e6] + [1.0] * 19},
            "100 draws",
        ),
    ],
)
def test_completion_cover_bad_input(kwargs, match):
    args = {"n": 40, "d0": 20, "dL": 20, "rank": 1, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        matrix_completion(**args, cover=True)


@pytest.mark.parametrize(
    "call",
    [
        lambda: gaussian_sensing(0, 3, 3, 1, seed=0),
        lambda: gaussian_sensing(5, 3, 3, 4, seed=0),
        lambda: gaussian_sensing(5, 3.5, 3, 1, seed=0),
        lambda: gaussian_sensing(5, 3, 3, 1, seed=0, scale=-1.0),
        lambda: matrix_completion(10, 3, 3, 1, seed=0),
        lambda: matrix_completion(4, 3, 3, 1, seed=0, row_weights=[1, 1]),
        lambda: matrix_completion(4, 3, 3, 1, seed=0, col_weights=[1, -1, 1]),
        lambda: matrix_completion(
            4, 3, 3, 1, seed=0, row_weights=[1, 0, 0], col_weights=[1, 1, 0]
        ),
        lambda: matrix_completion(
            4, 3, 3, 1, seed=0, row_weights=[np.nan, 1, 1]
        ),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()


def test_completion_from_pattern_observes_exactly_the_pattern():
    pattern = (
        np.add.outer(np.arange(6), np.arange(5)) < 5
    )  # a triangle: not a product law
    pb = completion_from_pattern(pattern, 2, seed=3)
    np.testing.assert_array_equal(pb.counts, pattern.astype(float))
    assert pb.n == pattern.sum()
    np.testing.assert_array_equal(pb.targets, pb.W_star[pattern])
    np.testing.assert_array_equal(pb.xs.argmax(axis=1), pb.rows)
    # same seed, shape and rank: the same ground truth as matrix_completion
    np.testing.assert_array_equal(
        pb.W_star, matrix_completion(3, 6, 5, 2, seed=3).W_star
    )
    assert kronecker_factors(pb.xs, pb.ys).rel_error > 0.3


@pytest.mark.parametrize(
    "pattern",
    [
        np.zeros((3, 3), bool),
        np.ones(4, bool),
        np.full((2, 2), 2),
        np.ones((0, 3)),
    ],
)
def test_completion_from_bad_pattern_raises(pattern):
    with pytest.raises(ValueError):
        completion_from_pattern(pattern, 1, seed=0)
