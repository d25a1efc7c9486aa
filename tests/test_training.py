"""Tests for dlnlib.training: label-noise SGD reaches the convex optimum, plain GD does not,
batched chains equal single chains, the gradient step is the true gradient, bad input raises."""

import warnings

import numpy as np
import pytest

from dlnlib import (
    end_to_end,
    layer_gradients,
    nuclear_norm,
    regularizer,
    training,
)
from dlnlib.convex import min_nuclear_norm
from dlnlib.descent import DivergenceError, _Network, _step, init_weights
from dlnlib.problems import gaussian_sensing, matrix_completion
from dlnlib.training import label_noise_sgd


@pytest.fixture(scope="module")
def sensing():
    return gaussian_sensing(24, 6, 6, 1, seed=1)


def test_label_noise_reaches_the_convex_optimum_and_plain_gd_does_not(sensing):
    pb = sensing
    W_cvx = min_nuclear_norm(pb.xs, pb.ys, pb.targets)
    opt = nuclear_norm(W_cvx)
    kw = dict(lr=0.1, steps=30_000, seeds=[0, 1, 2], progress=False)
    noisy = label_noise_sgd(
        pb.xs, pb.ys, pb.targets, (6, 6, 6), noise_std=0.5, **kw
    )
    plain = label_noise_sgd(
        pb.xs, pb.ys, pb.targets, (6, 6, 6), noise_std=0.0, **kw
    )
    assert noisy.converged.all() and plain.converged.all()
    # both runs end on the interpolating set, from the same initializations
    for run in (noisy, plain):
        np.testing.assert_array_equal(
            run.history.end_to_end[0], plain.history.end_to_end[0]
        )
        assert np.all(run.loss <= 1e-6 * 0.5 * np.mean(pb.targets**2))
    ratio_noisy = noisy.nuclear_norm / opt
    ratio_plain = plain.nuclear_norm / opt
    assert np.all(ratio_noisy >= 1 - 1e-6), (
        "below the convex minimum: the solver or the run is wrong"
    )
    assert np.all(ratio_noisy < 1.04), ratio_noisy
    assert np.all(ratio_plain > 1.2), ratio_plain
    dist = np.linalg.norm(
        noisy.end_to_end - W_cvx, axis=(1, 2)
    ) / np.linalg.norm(W_cvx)
    assert np.all(dist < 0.05), dist
    # the nuclear norm went down along the way, and R with it
    assert np.all(
        noisy.history.nuclear_norm[-1] < 0.7 * noisy.history.nuclear_norm[0]
    )
    assert np.all(noisy.history.R[-1] < noisy.history.R[0])


def test_batched_and_single_chains_agree(sensing):
    pb = sensing
    kw = dict(
        lr=0.05, noise_std=0.5, steps=700, record_every=100, progress=False
    )
    batch = label_noise_sgd(
        pb.xs, pb.ys, pb.targets, (6, 7, 6, 6), seeds=[4, 9, 2], **kw
    )
    alone = label_noise_sgd(
        pb.xs, pb.ys, pb.targets, (6, 7, 6, 6), seeds=9, **kw
    )
    assert batch.batched and not alone.batched
    assert batch.weights[1].shape == (3, 7, 6) and alone.weights[1].shape == (
        7,
        6,
    )
    for wb, wa in zip(batch.weights, alone.weights):
        np.testing.assert_allclose(wb[1], wa, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        batch.history.nuclear_norm[:, 1], alone.history.nuclear_norm, rtol=1e-9
    )
    assert batch.final_steps[1] == alone.final_steps
    # different seeds are different chains
    assert not np.allclose(batch.weights[0][0], batch.weights[0][1])


def test_settings_per_chain_agree_with_separate_runs(sensing):
    pb = sensing
    kw = dict(steps=400, record_every=100, progress=False)
    batch = label_noise_sgd(
        pb.xs,
        pb.ys,
        pb.targets,
        (6, 6, 6),
        lr=[0.05, 0.1, 0.1],
        noise_std=[0.5, 0.5, 0.0],
        seeds=[1, 2, 2],
        **kw,
    )
    assert batch.batched and batch.lr.shape == (3,)
    for c, (lr, noise, seed) in enumerate(
        [(0.05, 0.5, 1), (0.1, 0.5, 2), (0.1, 0.0, 2)]
    ):
        alone = label_noise_sgd(
            pb.xs,
            pb.ys,
            pb.targets,
            (6, 6, 6),
            lr=lr,
            noise_std=noise,
            seeds=seed,
            **kw,
        )
        np.testing.assert_allclose(
            batch.end_to_end[c], alone.end_to_end, rtol=1e-9, atol=1e-12
        )
    # a single seed is shared by all settings: same initialization
    shared = label_noise_sgd(
        pb.xs,
        pb.ys,
        pb.targets,
        (6, 6, 6),
        lr=0.1,
        noise_std=[0.0, 0.3],
        seeds=5,
        **kw,
    )
    np.testing.assert_array_equal(
        shared.history.end_to_end[0, 0], shared.history.end_to_end[0, 1]
    )
    with pytest.raises(ValueError, match="one length"):
        label_noise_sgd(
            pb.xs,
            pb.ys,
            pb.targets,
            (6, 6, 6),
            lr=[0.1, 0.2],
            noise_std=0.1,
            seeds=[1, 2, 3],
            **kw,
        )


def test_batched_and_single_chains_agree_with_minibatches(sensing):
    pb = sensing
    kw = dict(lr=0.05, noise_std=0.3, steps=300, batch_size=8, progress=False)
    batch = label_noise_sgd(
        pb.xs, pb.ys, pb.targets, (6, 6, 6), seeds=[1, 2], **kw
    )
    alone = label_noise_sgd(pb.xs, pb.ys, pb.targets, (6, 6, 6), seeds=2, **kw)
    np.testing.assert_allclose(
        batch.end_to_end[1], alone.end_to_end, rtol=1e-9, atol=1e-12
    )
    full = label_noise_sgd(
        pb.xs,
        pb.ys,
        pb.targets,
        (6, 6, 6),
        seeds=2,
        **{**kw, "batch_size": None},
    )
    assert not np.allclose(full.end_to_end, alone.end_to_end), (
        "batch_size had no effect"
    )


def test_one_step_is_the_gradient_of_the_mean_squared_loss():
    rng = np.random.default_rng(0)
    xs, ys, t = (
        rng.standard_normal((7, 4)),
        rng.standard_normal((7, 3)),
        rng.standard_normal(7),
    )
    ws = [rng.standard_normal(s) for s in [(4, 5), (5, 6), (6, 3)]]
    lr = 0.01
    r = np.einsum("ni,ij,nj->n", xs, end_to_end(ws), ys) - t
    expected = [w.copy() for w in ws]
    for i in range(7):
        for e, g in zip(expected, layer_gradients(ws, xs[i], ys[i])):
            e -= lr * r[i] * g / 7
    stacked = [w[None].copy() for w in ws]
    r_step = _step(stacked, _Network(xs, ys, t, lr), t[None])
    np.testing.assert_allclose(r_step[0], r, rtol=1e-12)
    for s, e in zip(stacked, expected):
        np.testing.assert_allclose(s[0], e, rtol=1e-12, atol=1e-14)


def test_completion_fast_path_matches_the_general_path():
    pb = matrix_completion(30, 6, 5, 2, seed=0)
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal((2,) + s) for s in [(6, 6), (6, 5)]]
    fast, slow = (
        _Network(pb.xs, pb.ys, pb.targets, 0.1),
        _Network(pb.xs, pb.ys, pb.targets, 0.1),
    )
    assert fast.entries is not None
    slow.entries = slow.entries_t = None
    a, b = [w.copy() for w in ws], [w.copy() for w in ws]
    labels = pb.targets + rng.standard_normal((2, 30))
    np.testing.assert_allclose(
        _step(a, fast, labels), _step(b, slow, labels), rtol=1e-12
    )
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


def test_history_and_final_measurements_are_consistent(sensing):
    pb = sensing
    run = label_noise_sgd(
        pb.xs,
        pb.ys,
        pb.targets,
        (6, 6, 6),
        lr=0.1,
        noise_std=0.2,
        steps=250,
        record_every=100,
        seeds=[0, 1],
        progress=False,
    )
    np.testing.assert_array_equal(run.history.steps, [0, 100, 200, 250])
    h = run.history
    assert (
        h.loss.shape == (4, 2)
        and h.singular_values.shape == (4, 2, 6)
        and h.end_to_end.shape == (4, 2, 6, 6)
    )
    np.testing.assert_allclose(
        h.nuclear_norm, nuclear_norm(h.end_to_end), rtol=1e-12
    )
    np.testing.assert_allclose(
        h.singular_values.sum(axis=-1), h.nuclear_norm, rtol=1e-12
    )
    np.testing.assert_allclose(
        run.end_to_end, end_to_end(run.weights), rtol=1e-12
    )
    np.testing.assert_allclose(
        run.R, regularizer(run.weights, pb.xs, pb.ys), rtol=1e-12
    )
    assert [w.shape for w in h.weights] == [(4, 2, 6, 6), (4, 2, 6, 6)]
    np.testing.assert_allclose(h.end_to_end, end_to_end(h.weights), rtol=1e-12)
    np.testing.assert_allclose(
        h.R, regularizer(h.weights, pb.xs, pb.ys), rtol=1e-12
    )
    first = init_weights((6, 6, 6), 1.0, seed=1)
    np.testing.assert_allclose(
        h.end_to_end[0, 1], first[0] @ first[1], rtol=1e-12
    )


def test_init_rule_gives_the_documented_scale():
    dims, s = (6, 9, 7, 5), 0.5
    sq = [
        np.sum(end_to_end(init_weights(dims, s, seed)) ** 2)
        for seed in range(600)
    ]
    assert np.mean(sq) == pytest.approx(s**2 * np.sqrt(6 * 5), rel=0.15)


def run_on(pb, dims, **kw):
    """label_noise_sgd on problem pb with the network widths dims, no progress bar."""
    return label_noise_sgd(
        pb.xs, pb.ys, pb.targets, dims, progress=False, **kw
    )


def test_divergence_raises_naming_the_step(sensing):
    with pytest.raises(
        FloatingPointError,
        match=r"diverged at step \d+.*smaller learning rate",
    ):
        run_on(sensing, (6, 6, 6, 6), lr=5.0, noise_std=0.5, steps=1000)
    with pytest.raises(DivergenceError, match=r"seed\(s\) 3"):
        run_on(
            sensing, (6, 6, 6), lr=5.0, noise_std=0.0, steps=1000, seeds=[3]
        )


def test_warmup_prevents_a_divergence_of_the_first_steps():
    """A large initialization at depth 4 that diverges at lr = 0.05 in its first steps (seed 13
    of the experiments' sensing problem) trains through with a warm-up of 100 steps."""
    pb = gaussian_sensing(30, 10, 10, 1, seed=13)
    kw = dict(
        lr=0.05, noise_std=0.5, steps=400, seeds=[0, 1], max_final_steps=0
    )
    dims = (10,) * 5
    with pytest.raises(DivergenceError, match=r"diverged at step \d+"):
        run_on(pb, dims, **kw)
    run = run_on(pb, dims, warmup=100, **kw)
    assert np.all(np.isfinite(run.loss)), "the warmed-up run is not finite"


@pytest.mark.parametrize(
    "warmup, message",
    [
        (-1, "warmup must be an integer >= 0"),
        (2.5, "warmup must be an integer"),
        (11, "warmup must be at most 10"),
    ],
)
def test_warmup_out_of_range_is_refused(sensing, warmup, message):
    with pytest.raises(ValueError, match=message):
        run_on(
            sensing, (6, 6, 6), lr=0.05, noise_std=0.5, steps=10, warmup=warmup
        )


def test_divergence_names_only_the_chains_that_diverged(sensing):
    """One lr for two seeds is that lr for each chain: at lr = 5 only the chain of seed 4 (the
    second) diverges, and the error names that seed and its lr."""
    with pytest.raises(
        DivergenceError,
        match=r"diverged at step 2 \(noisy phase\) for seed\(s\) 4: the residuals became "
        r"non-finite or exploded with lr = 5;",
    ):
        run_on(
            sensing, (6, 6, 6), lr=5.0, noise_std=0.0, steps=1000, seeds=[3, 4]
        )


def test_unconverged_noise_free_phase_warns(sensing):
    pb = sensing
    with pytest.warns(RuntimeWarning, match="did not reach final_tol"):
        run = label_noise_sgd(
            pb.xs,
            pb.ys,
            pb.targets,
            (6, 6, 6),
            lr=0.1,
            noise_std=0.5,
            steps=50,
            max_final_steps=1,
            progress=False,
        )
    assert not run.converged


def test_no_noise_free_phase_asked_means_no_warning(sensing):
    pb = sensing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = label_noise_sgd(
            pb.xs,
            pb.ys,
            pb.targets,
            (6, 6, 6),
            lr=0.1,
            noise_std=0.5,
            steps=50,
            max_final_steps=0,
            progress=False,
        )
    assert not run.converged


@pytest.mark.parametrize(
    "change",
    [
        {"xs": np.zeros((24, 5))},
        {"ys": np.zeros((23, 6))},
        {"targets": np.zeros(23)},
        {"targets": np.full(24, np.nan)},
        {"dims": (6, 6)},
        {"dims": (6, 4, 6)},
        {"dims": (6, 6, 5)},
        {"lr": -0.1},
        {"lr": 0.0},
        {"noise_std": -1.0},
        {"noise_std": [0.1, -1.0]},
        {"lr": []},
        {"steps": -1},
        {"steps": 2.5},
        {"seeds": []},
        {"seeds": [1, -2]},
        {"seeds": "0"},
        {"init_scale": 0.0},
        {"batch_size": 25},
        {"record_every": 0},
        {"initial_weights": [np.zeros((6, 6)), np.zeros((5, 6))]},
    ],
    ids=lambda c: next(iter(c)),
)
def test_bad_input_raises(sensing, change):
    pb = sensing
    args = dict(
        xs=pb.xs,
        ys=pb.ys,
        targets=pb.targets,
        dims=(6, 6, 6),
        lr=0.1,
        noise_std=0.1,
        steps=10,
        progress=False,
    )
    args.update(change)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError):
            label_noise_sgd(
                args.pop("xs"),
                args.pop("ys"),
                args.pop("targets"),
                args.pop("dims"),
                **args,
            )


def test_weight_growth_beyond_the_limit_raises(sensing, monkeypatch):
    # the weight check (for layers that blow up while the residuals stay moderate), with the limit
    # lowered to 0.3 x max(1, largest initial entry) = 0.3: from a small init the layers must grow
    # past it (to about 0.44) to fit the data
    pb = sensing
    monkeypatch.setattr(training, "_WEIGHT_EXPLOSION", 0.3)
    with pytest.raises(DivergenceError, match=r"diverged at step [1-9]\d*"):
        label_noise_sgd(
            pb.xs,
            pb.ys,
            pb.targets,
            (6, 6, 6),
            lr=0.1,
            noise_std=0.0,
            steps=3000,
            init_scale=0.01,
            record_every=10,
            progress=False,
        )
    monkeypatch.setattr(training, "_WEIGHT_EXPLOSION", 1e8)
    run = label_noise_sgd(
        pb.xs,
        pb.ys,
        pb.targets,
        (6, 6, 6),
        lr=0.1,
        noise_std=0.0,
        steps=3000,
        init_scale=0.01,
        record_every=10,
        progress=False,
    )
    assert run.converged


@pytest.mark.parametrize(
    "value, allow_zero, message",
    [
        (-0.1, False, "lr must be a positive finite number, got -0.1"),
        (0.0, False, "lr must be a positive finite number, got 0.0"),
        (
            float("nan"),
            True,
            "lr must be a nonnegative finite number, got nan",
        ),
        (float("inf"), False, "lr must be a positive finite number, got inf"),
        ("x", False, "lr must be a number, got 'x'"),
        (None, True, "lr must be a number, got None"),
    ],
)
def test_positive_check_messages(value, allow_zero, message):
    # the one positive-number check of dlnlib (training, drift and problems use it)
    from dlnlib import _checks

    with pytest.raises(ValueError) as info:
        _checks.positive(value, "lr", allow_zero)
    assert str(info.value) == message
    assert (
        _checks.positive(0, "lr", allow_zero=True) == 0.0
        and _checks.positive(np.float32(2), "lr") == 2.0
    )


def test_init_weights_rejects_a_non_number_scale():
    with pytest.raises(
        ValueError, match="init_scale must be a number, got None"
    ):
        init_weights((3, 3, 3), None)


def test_history_records_are_consistent(sensing):
    # every record holds one step's measurements of the same weights: W~ = W_1 ... W_L, ||W~||_*, R, loss
    pb = sensing
    for seeds in (3, [3, 5]):
        run = label_noise_sgd(
            pb.xs,
            pb.ys,
            pb.targets,
            (6, 7, 6, 6),
            lr=0.05,
            noise_std=0.3,
            steps=60,
            record_every=25,
            seeds=seeds,
            progress=False,
        )
        h = run.history
        assert list(h.steps) == [0, 25, 50, 60]
        for k in range(len(h.steps)):
            layers = [w[k] for w in h.weights]
            np.testing.assert_allclose(
                end_to_end(layers), h.end_to_end[k], rtol=1e-12, atol=1e-14
            )
            e2e = h.end_to_end[k].reshape(
                -1, 6, 6
            )  # (C, d_0, d_L), C = 1 for a single chain
            np.testing.assert_allclose(
                [nuclear_norm(e) for e in e2e],
                np.ravel(h.nuclear_norm[k]),
                rtol=1e-10,
            )
            np.testing.assert_allclose(
                regularizer(layers, pb.xs, pb.ys), h.R[k], rtol=1e-10
            )
            np.testing.assert_allclose(
                h.singular_values[k].sum(axis=-1),
                h.nuclear_norm[k],
                rtol=1e-12,
            )


# --- antithetic pairs -------------------------------------------------------------------------


def test_antithetic_pairs_share_a_chain_and_flip_its_noise(sensing):
    pb = sensing
    kw = dict(lr=0.05, noise_std=0.5, progress=False, max_final_steps=0)
    dims = (6, 7, 6)
    pairs = label_noise_sgd(
        pb.xs, pb.ys, pb.targets, dims, steps=300, seeds=[4, 9],
        antithetic=True, **kw,
    )  # fmt: skip
    assert pairs.batched and pairs.seeds == (4, 4, 9, 9)
    assert pairs.end_to_end.shape == (4, 6, 6)
    # the first chain of a pair is the plain chain of its seed
    alone = label_noise_sgd(
        pb.xs, pb.ys, pb.targets, dims, steps=300, seeds=9, **kw
    )
    np.testing.assert_allclose(
        pairs.end_to_end[2], alone.end_to_end, rtol=1e-9
    )
    # the second differs from it: its noise has the other sign
    assert not np.allclose(pairs.end_to_end[2], pairs.end_to_end[3])


@pytest.mark.parametrize("batch_size", [None, 5])
def test_an_antithetic_pair_draws_its_noise_once(sensing, batch_size):
    """The pair's second chain reuses the first one's draw, sign flipped, and leaves its own generators alone."""
    import dataclasses

    from dlnlib._chains import _resolve
    from dlnlib.descent import _streams
    from dlnlib.training import _draw_labels

    pb = sensing
    t = pb.targets
    signs = np.tile([1.0, -1.0], 2)
    cfg = dataclasses.replace(
        _resolve(
            pb.xs, pb.ys, t, (6, 7, 6), 0.05, 0.5, 10, 1.0, [4, 4, 9, 9], 10,
            1e-10, 0, batch_size,
        ),
        noise_signs=signs,
    )  # fmt: skip
    streams = [_streams(s) for s in cfg.seeds]
    labels, rows = _draw_labels(7, cfg, streams)
    assert labels.shape == (7, 4, batch_size or len(t))
    plain = t if rows is None else t[rows]
    if rows is not None:  # the same mini-batches in a pair
        np.testing.assert_array_equal(rows[:, 0], rows[:, 1])
        np.testing.assert_array_equal(rows[:, 2], rows[:, 3])
    noise = labels - plain
    # the same draw with the other sign (up to rounding of the label's sum)
    np.testing.assert_allclose(noise[:, 1], -noise[:, 0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(noise[:, 3], -noise[:, 2], rtol=0, atol=1e-14)
    assert not np.allclose(noise[:, 0], noise[:, 2])  # two seeds, two draws
    # the second chain's generators were not used: they still give the first draw
    again = _streams(4)
    for used, fresh in zip(streams[1][1:], again[1:]):
        assert used.bit_generator.state == fresh.bit_generator.state
    assert streams[0][1].bit_generator.state != again[1].bit_generator.state


def test_one_antithetic_step_averages_to_the_clean_step(sensing):
    """One step is linear in the label noise, so a pair's mean is the noise-free step."""
    pb = sensing
    dims = (6, 7, 6)
    start = init_weights(dims, seed=3)
    kw = dict(
        lr=0.05, steps=1, initial_weights=start, progress=False,
        max_final_steps=0,
    )  # fmt: skip
    pairs = label_noise_sgd(
        pb.xs, pb.ys, pb.targets, dims, noise_std=0.7, seeds=[5],
        antithetic=True, **kw,
    )  # fmt: skip
    clean = label_noise_sgd(
        pb.xs, pb.ys, pb.targets, dims, noise_std=0.0, seeds=5, **kw
    )
    for w_pair, w_clean in zip(pairs.weights, clean.weights):
        np.testing.assert_allclose(
            w_pair.mean(axis=0), w_clean, rtol=1e-12, atol=1e-14
        )
        assert np.abs(w_pair[0] - w_pair[1]).max() > 1e-3  # the noise acted


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(antithetic="yes"), "antithetic must be True or False"),
        (dict(antithetic=True, seeds=[]), "empty sequence"),
        (dict(antithetic=True, seeds=[1, -2]), "nonnegative integer"),
        (dict(antithetic=True, seeds=[1, 2], lr=[0.01, 0.02]), "one length"),
    ],
)
def test_antithetic_bad_input_raises(sensing, change, message):
    pb = sensing
    kw = dict(lr=0.05, noise_std=0.5, steps=10, progress=False) | change
    with pytest.raises(ValueError, match=message):
        label_noise_sgd(pb.xs, pb.ys, pb.targets, (6, 7, 6), **kw)
