"""Tests for dlnlib.weight_decay and dlnlib.convex.nuclear_norm_regression: the Schatten
penalty (ib-schatten) against factorizations, one step of weight_decay_gd against an
independent computation, depth 2 against the convex program (ib-depth2-wd), its optimality
test (a minimizer need not be unique), and bad input."""

import numpy as np
import pytest

from dlnlib import layer_gradients, nuclear_norm, predict
from dlnlib.construction import balanced_factorization, random_factorization
from dlnlib.convex import (
    min_nuclear_norm,
    nuclear_norm_regression,
    nuclear_norm_regression_optimality,
)
from dlnlib.descent import DivergenceError
from dlnlib.problems import matrix_completion
from dlnlib.training import label_noise_sgd
from dlnlib.weight_decay import (
    schatten_penalty,
    weight_decay_gd,
    weight_decay_penalty,
)


def low_rank(rng, d=5, r=2):
    return rng.standard_normal((d, r)) @ rng.standard_normal((r, d))


def test_schatten_penalty_at_depth_two_is_twice_the_nuclear_norm():
    W = low_rank(np.random.default_rng(0), r=3)
    assert schatten_penalty(W, 2) == pytest.approx(
        2 * nuclear_norm(W), rel=1e-12
    )


@pytest.mark.parametrize("L", [2, 3, 4, 5])
def test_balanced_factorizations_attain_and_random_ones_stay_above(L):
    rng = np.random.default_rng(L)
    W = low_rank(rng)  # rank 2: three singular values at rounding level
    dims = (5,) * (L + 1)
    floor = schatten_penalty(W, L)
    I = np.eye(5)
    balanced = weight_decay_penalty(balanced_factorization(W, I, I, dims))
    assert balanced == pytest.approx(floor, rel=1e-9)
    for _ in range(50):
        assert weight_decay_penalty(
            random_factorization(W, dims, rng)
        ) >= floor * (1 - 1e-12)


def test_rounding_level_singular_values_count_as_zero():
    W = np.diag([4.0, 1.0, 1e-17])
    assert schatten_penalty(W, 4) == pytest.approx(4 * (2.0 + 1.0), rel=1e-12)


def test_schatten_penalty_at_depth_one_is_the_squared_frobenius_norm():
    W = low_rank(np.random.default_rng(4), r=3)
    assert schatten_penalty(W, 1) == pytest.approx(np.sum(W**2), rel=1e-12)
    with pytest.raises(
        ValueError, match=r"^depth must be an integer >= 1, got 0$"
    ):
        schatten_penalty(W, 0)


def test_weight_decay_penalty_stacked_and_unstacked():
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal((3, 3, 4)), rng.standard_normal((3, 4, 2))]
    stacked = weight_decay_penalty(ws)
    for c in range(3):
        assert stacked[c] == pytest.approx(
            weight_decay_penalty([w[c] for w in ws])
        )


def completion():
    return matrix_completion(30, 8, 8, 2, seed=0, cover=True)


def test_one_step_matches_layer_gradients():
    pb = completion()
    rng = np.random.default_rng(2)
    ws = [rng.standard_normal((8, 8)) / 3 for _ in range(3)]
    lr, lam = 0.1, 0.05
    r = predict(ws, pb.xs, pb.ys) - pb.targets
    grads = [np.zeros_like(w) for w in ws]
    for i in range(pb.n):
        for g, gi in zip(grads, layer_gradients(ws, pb.xs[i], pb.ys[i])):
            g += r[i] * gi / pb.n
    expected = [w - lr * (g + lam * w) for w, g in zip(ws, grads)]
    run = weight_decay_gd(
        pb.xs,
        pb.ys,
        pb.targets,
        (8,) * 4,
        lr=lr,
        decay=lam,
        steps=1,
        initial_weights=ws,
    )
    for got, want in zip(run.weights, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_loss_and_objective_are_the_documented_ones():
    """loss = (1/(2n)) sum_i (P_i - t_i)^2 and objective = loss + (decay / 2) sum_l ||W_l||_F^2,
    recomputed from the returned weights, per chain."""
    pb = completion()
    lam = 0.05
    run = weight_decay_gd(
        pb.xs,
        pb.ys,
        pb.targets,
        (8, 8, 8),
        lr=0.5,
        decay=lam,
        steps=50,
        seeds=[0, 1],
    )
    for c in range(2):
        ws = [w[c] for w in run.weights]
        loss = np.sum((predict(ws, pb.xs, pb.ys) - pb.targets) ** 2) / (
            2 * pb.n
        )
        penalty = sum(np.sum(w**2) for w in ws)
        assert run.loss[c] == pytest.approx(loss, rel=1e-12)
        assert run.objective[c] == pytest.approx(
            loss + lam / 2 * penalty, rel=1e-12
        )


def test_no_decay_is_plain_gradient_descent():
    pb = completion()
    a = weight_decay_gd(
        pb.xs,
        pb.ys,
        pb.targets,
        (8, 8, 8),
        lr=0.5,
        decay=0.0,
        steps=300,
        seeds=[0, 1],
    )
    b = label_noise_sgd(
        pb.xs,
        pb.ys,
        pb.targets,
        (8, 8, 8),
        lr=0.5,
        noise_std=0.0,
        steps=300,
        seeds=[0, 1],
        max_final_steps=0,
        progress=False,
    )
    np.testing.assert_allclose(
        a.end_to_end, b.end_to_end, rtol=1e-10, atol=1e-12
    )


def test_a_chain_is_the_same_alone_or_batched():
    pb = completion()
    kw = dict(lr=0.5, decay=0.01, steps=200)
    both = weight_decay_gd(
        pb.xs, pb.ys, pb.targets, (8, 8, 8), seeds=[3, 4], **kw
    )
    alone = weight_decay_gd(pb.xs, pb.ys, pb.targets, (8, 8, 8), seeds=4, **kw)
    np.testing.assert_allclose(
        both.end_to_end[1], alone.end_to_end, rtol=1e-12
    )
    assert alone.loss.shape == ()


def test_depth_two_reaches_the_convex_program_and_is_balanced():
    pb = completion()
    lam = 0.02
    W_cvx = nuclear_norm_regression(pb.xs, pb.ys, pb.targets, lam)
    run = weight_decay_gd(
        pb.xs,
        pb.ys,
        pb.targets,
        (8, 8, 8),
        lr=1.0,
        decay=lam,
        steps=20_000,
        seeds=[0, 1],
    )
    assert np.all(run.stationarity < 1e-8)
    apart = np.linalg.norm(
        run.end_to_end - W_cvx, axis=(1, 2)
    ) / np.linalg.norm(W_cvx)
    assert np.all(apart < 1e-5)
    gap = weight_decay_penalty(run.weights) / [
        schatten_penalty(W, 2) for W in run.end_to_end
    ]
    np.testing.assert_allclose(gap, 1.0, rtol=1e-8)


def test_weight_decay_end_points_pass_the_optimality_test():
    pb = completion()
    lam = 0.02
    data = (pb.xs, pb.ys, pb.targets, lam)
    solver = nuclear_norm_regression_optimality(
        nuclear_norm_regression(*data), *data
    )
    assert abs(solver.dual_ratio - 1) < 1e-6  # not zero here: rho = 1
    run = weight_decay_gd(
        pb.xs, pb.ys, pb.targets, (8, 8, 8), lr=1.0, decay=lam,
        steps=20_000, tol=1e-10, seeds=[0, 1, 2],
    )  # fmt: skip
    f, rho, gap = nuclear_norm_regression_optimality(run.end_to_end, *data)
    assert f.shape == rho.shape == gap.shape == (3,)
    assert np.all(f <= solver.objective * (1 + 1e-8))
    assert np.all(np.abs(rho - 1) < 1e-6) and np.all(np.abs(gap) < 1e-6)
    # the run's objective has the Frobenius penalty (ib-wd-objective), this
    # one the nuclear norm: equal because the end layers are balanced
    np.testing.assert_allclose(f, run.objective, rtol=1e-8)


def test_the_optimality_test_rejects_what_does_not_solve_the_program():
    pb = completion()
    lam = 0.02
    data = (pb.xs, pb.ys, pb.targets, lam)
    W = nuclear_norm_regression(*data)
    least = nuclear_norm_regression_optimality(W, *data).objective
    f, rho, gap = nuclear_norm_regression_optimality(0.9 * W, *data)
    assert f > least * (1 + 1e-3) and rho > 1.1
    # an interpolant has G = 0: rho = 0 passes, the alignment gap does not
    f, rho, gap = nuclear_norm_regression_optimality(
        min_nuclear_norm(pb.xs, pb.ys, pb.targets), *data
    )
    assert f > least * (1 + 1e-3) and rho < 1e-4 and gap > 0.99
    # early-stopped weight decay fails all three
    early = weight_decay_gd(
        pb.xs, pb.ys, pb.targets, (8, 8, 8), lr=1.0, decay=lam, steps=500
    )
    f, rho, gap = nuclear_norm_regression_optimality(early.end_to_end, *data)
    assert f > least * (1 + 1e-6) and rho > 1 + 1e-4 and abs(gap) > 1e-6


def test_a_program_with_many_minimizers():
    # two observed diagonal entries: every [[0.8, b], [b, 0.3]] with
    # b**2 <= 0.24 has trace norm 1.1 and the same fit, so the same value
    xs = ys = np.eye(2)
    t, lam = np.array([1.0, 0.5]), 0.1
    least = nuclear_norm_regression_optimality(
        nuclear_norm_regression(xs, ys, t, lam), xs, ys, t, lam
    ).objective
    assert least == pytest.approx(0.13, abs=1e-8)
    stack = np.array([[[0.8, b], [b, 0.3]] for b in (-0.45, 0.0, 0.3, 0.48)])
    f, rho, gap = nuclear_norm_regression_optimality(stack, xs, ys, t, lam)
    np.testing.assert_allclose(f, 0.13, rtol=1e-12)
    np.testing.assert_allclose(rho, 1.0, rtol=1e-12)
    np.testing.assert_allclose(gap, 0.0, atol=1e-12)
    # past b**2 = 0.24 the matrix is indefinite: larger trace norm
    f, rho, gap = nuclear_norm_regression_optimality(
        np.array([[0.8, 0.6], [0.6, 0.3]]), xs, ys, t, lam
    )
    assert f > 0.13 + 1e-3 and rho == pytest.approx(1.0) and gap > 1e-3


def objective(W, pb, lam):
    r = predict([W, np.eye(W.shape[1])], pb.xs, pb.ys) - pb.targets
    return 0.5 * np.mean(r**2) + lam * nuclear_norm(W)


def test_nuclear_norm_regression_beats_perturbations():
    pb = completion()
    lam = 0.02
    W = nuclear_norm_regression(pb.xs, pb.ys, pb.targets, lam)
    best = objective(W, pb, lam)
    rng = np.random.default_rng(5)
    for _ in range(20):
        assert (
            objective(W + 1e-3 * rng.standard_normal(W.shape), pb, lam)
            >= best - 1e-9
        )


def test_a_large_penalty_gives_zero():
    pb = completion()
    # zero is optimal once lambda >= ||(1/n) sum_i t_i x_i y_i^T||_op
    G = np.einsum("n,ni,nj->ij", pb.targets, pb.xs, pb.ys) / pb.n
    lam = 1.01 * np.linalg.norm(G, 2)
    W = nuclear_norm_regression(pb.xs, pb.ys, pb.targets, lam)
    assert np.abs(W).max() < 1e-6


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(decay=-0.1), "decay"),
        (dict(decay=float("nan")), "decay"),
        (dict(steps=0), "steps must be >= 1"),
        (dict(lr=0.0), "lr"),
        (dict(dims=(8, 1, 8)), "width"),
        (dict(targets=np.ones(3)), "targets has length 3"),
    ],
)
def test_weight_decay_gd_bad_input(kwargs, message):
    pb = completion()
    args = dict(
        xs=pb.xs,
        ys=pb.ys,
        targets=pb.targets,
        dims=(8, 8, 8),
        lr=0.1,
        decay=0.01,
        steps=10,
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        weight_decay_gd(**args)


def test_weight_decay_gd_diverging_step_is_reported():
    pb = completion()
    with pytest.raises(
        DivergenceError,
        match=r"^weight_decay_gd diverged at step \d+ \(gradient steps\) for seed",
    ):
        weight_decay_gd(
            pb.xs,
            pb.ys,
            pb.targets,
            (8, 8, 8),
            lr=500.0,
            decay=0.01,
            steps=2000,
        )


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda pb: nuclear_norm_regression(pb.xs, pb.ys, pb.targets, 0.0),
            "penalty",
        ),
        (
            lambda pb: nuclear_norm_regression(
                pb.xs, pb.ys, pb.targets[:-1], 0.1
            ),
            "targets has length",
        ),
        (lambda pb: schatten_penalty(pb.W_star, 0), "depth"),
        (
            lambda pb: nuclear_norm_regression_optimality(
                pb.W_star[:-1], pb.xs, pb.ys, pb.targets, 0.1
            ),
            r"W must have shape \(8, 8\) or \(C, 8, 8\)",
        ),
        (
            lambda pb: nuclear_norm_regression_optimality(
                pb.W_star[0], pb.xs, pb.ys, pb.targets, 0.1
            ),
            "W must have shape",
        ),
        (
            lambda pb: nuclear_norm_regression_optimality(
                pb.W_star[None, None], pb.xs, pb.ys, pb.targets, 0.1
            ),
            "W must have shape",
        ),
        (
            lambda pb: nuclear_norm_regression_optimality(
                pb.W_star, pb.xs[:-1], pb.ys, pb.targets, 0.1
            ),
            "same number of rows",
        ),
        (
            lambda pb: nuclear_norm_regression_optimality(
                pb.W_star, pb.xs, pb.ys, np.full(pb.n, np.nan), 0.1
            ),
            "targets contains NaN",
        ),
        (
            lambda pb: nuclear_norm_regression_optimality(
                pb.W_star, pb.xs, pb.ys, pb.targets[:, None], 0.1
            ),
            "targets must be 1-dimensional",
        ),
        (
            lambda pb: nuclear_norm_regression_optimality(
                pb.W_star, pb.xs, pb.ys, pb.targets, -0.1
            ),
            "penalty",
        ),
        (
            lambda pb: nuclear_norm_regression_optimality(
                pb.W_star, pb.xs, pb.ys, pb.targets, float("nan")
            ),
            "penalty",
        ),
        (
            lambda pb: nuclear_norm_regression_optimality(
                pb.W_star, pb.xs, pb.ys, pb.targets, float("inf")
            ),
            "penalty",
        ),
        (
            lambda pb: nuclear_norm_regression_optimality(
                np.full((8, 8), np.inf), pb.xs, pb.ys, pb.targets, 0.1
            ),
            "W contains NaN or infinite",
        ),
        (
            lambda pb: nuclear_norm_regression_optimality(
                pb.W_star, pb.xs, pb.ys, pb.targets, 0.0
            ),
            "penalty",
        ),
        (
            lambda pb: nuclear_norm_regression_optimality(
                pb.W_star, pb.xs, pb.ys, pb.targets[:-1], 0.1
            ),
            "targets has length",
        ),
        (lambda pb: schatten_penalty(np.full((2, 2), np.nan), 2), "W"),
    ],
)
def test_bad_input_messages(call, message):
    with pytest.raises(ValueError, match=message):
        call(completion())


def test_tol_stops_at_a_stationary_point_and_says_when():
    pb = completion()
    kw = dict(lr=1.0, decay=0.02, seeds=[0, 1])
    full = weight_decay_gd(
        pb.xs, pb.ys, pb.targets, (8, 8, 8), steps=20_000, **kw
    )
    early = weight_decay_gd(
        pb.xs, pb.ys, pb.targets, (8, 8, 8), steps=20_000, tol=1e-9, **kw
    )
    assert full.steps == 20_000
    assert early.steps < 20_000 and early.steps % 1000 == 0
    assert np.all(early.stationarity < 1e-9)
    np.testing.assert_allclose(early.end_to_end, full.end_to_end, atol=1e-6)
    with pytest.raises(ValueError, match="tol"):
        weight_decay_gd(
            pb.xs, pb.ys, pb.targets, (8, 8, 8), steps=10, tol=-1, **kw
        )
