"""label_noise_sgd pinned against an independent implementation of its documented steps.

The reference below re-implements, with plain numpy on one chain at a time,

- the initialization of :func:`dlnlib.descent.init_weights`
  (``N(0, s^{2/L} / sqrt(d_{l-1} d_l))`` entries, drawn from the first of the
  three child streams of ``SeedSequence(seed)``);
- a noisy step: labels ``t_i + sigma xi_i`` with fresh ``xi ~ N(0, 1)`` from the
  second child stream, and every layer moved at once by
  ``lr (1/b) A_l^T (sum_{i in batch} r_i x_i y_i^T) B_l^T`` (``b = n`` for the full batch);
- the mini-batch: ``b`` distinct samples per step from the third child stream
  (the first ``b`` indices of the argsort of ``n`` uniforms, as drawn by
  ``dlnlib.training``);
- the noise-free phase: full-batch steps on the clean targets, with the loss
  compared with ``final_tol`` times that of the zero network every 100 steps.

and compares the weights after every step (``record_every=1``) with the
library's. Comparing the library with itself (batched against single chains)
cannot see a wrong noise scale or a wrong step size; this can.
"""

import numpy as np
import pytest

import dlnlib
from dlnlib.problems import gaussian_sensing, matrix_completion

RTOL, ATOL = 1e-10, 1e-13


def child_generators(seed):
    init, noise, batch = np.random.SeedSequence(seed).spawn(3)
    return (
        np.random.default_rng(init),
        np.random.default_rng(noise),
        np.random.default_rng(batch),
    )


def reference_init(dims, scale, seed):
    rng = child_generators(seed)[0]
    L = len(dims) - 1
    return [
        rng.standard_normal((dims[l], dims[l + 1]))
        * np.sqrt(scale ** (2 / L) / np.sqrt(dims[l] * dims[l + 1]))
        for l in range(L)
    ]


def chain_product(mats, size):
    out = np.eye(size)
    for m in mats:
        out = out @ m
    return out


def reference_step(ws, xs, ys, labels, lr):
    """One gradient step on (1/(2b)) sum_i (x_i^T W_1...W_L y_i - labels_i)^2, all layers from the same point."""
    d0, dL = xs.shape[1], ys.shape[1]
    W = chain_product(ws, d0)
    r = np.einsum("ni,ij,nj->n", xs, W, ys) - labels
    G = (xs * r[:, None]).T @ ys / len(labels)  # (1/b) sum_i r_i x_i y_i^T
    new = []
    for l, w in enumerate(ws):
        A = chain_product(ws[:l], d0)
        B = chain_product(ws[l + 1 :], w.shape[1])
        assert B.shape[1] == dL
        new.append(w - lr * A.T @ G @ B.T)
    return new


def reference_noisy_run(
    xs,
    ys,
    t,
    dims,
    lr,
    sigma,
    steps,
    seed,
    batch_size=None,
    init_scale=1.0,
    warmup=0,
):
    """The weights after each of ``steps`` noisy steps (index 0 is the initialization).

    With a warm-up of ``K`` steps, step ``k < K`` (0-based) takes the step size ``lr (k + 1) / K``.
    """
    _, noise, batch = child_generators(seed)
    n = len(t)
    ws = reference_init(dims, init_scale, seed)
    out = [ws]
    for k in range(steps):
        if batch_size is None:
            rows = np.arange(n)
            xi = noise.standard_normal(n)
        else:
            rows = np.argsort(batch.random(n))[:batch_size]
            xi = noise.standard_normal(batch_size)
        eta = lr * (k + 1) / warmup if k < warmup else lr
        ws = reference_step(ws, xs[rows], ys[rows], t[rows] + sigma * xi, eta)
        out.append(ws)
    return out


def assert_history_matches(run, reference, chain=None):
    for k, ref in enumerate(reference):
        for l, w in enumerate(ref):
            got = (
                run.history.weights[l][k]
                if chain is None
                else run.history.weights[l][k, chain]
            )
            np.testing.assert_allclose(
                got,
                w,
                rtol=RTOL,
                atol=ATOL,
                err_msg=f"step {k}, layer {l + 1}",
            )


def noisy_run(pb, dims, steps, **kw):
    """steps noisy steps recorded at every step, no noise-free phase (asked for: no warning)."""
    return dlnlib.label_noise_sgd(
        pb.xs,
        pb.ys,
        pb.targets,
        dims,
        steps=steps,
        record_every=1,
        max_final_steps=0,
        progress=False,
        **kw,
    )


@pytest.fixture(scope="module")
def sensing():
    return gaussian_sensing(10, 3, 4, 2, seed=3)


@pytest.mark.parametrize(
    "dims, scale, seed",
    [((3, 5, 4), 1.0, 0), ((3, 4, 4, 4), 0.3, 7), ((2, 2, 3, 3, 5), 2.0, 1)],
)
def test_init_weights_follows_the_documented_rule(dims, scale, seed):
    got = dlnlib.descent.init_weights(dims, scale, seed)
    for g, w in zip(got, reference_init(dims, scale, seed)):
        np.testing.assert_allclose(g, w, rtol=1e-14)


@pytest.mark.parametrize("batch_size", [1, 3, 9])
@pytest.mark.parametrize("sigma", [0.0, 0.7])
def test_minibatch_steps_match_the_reference(sensing, batch_size, sigma):
    pb, dims, steps = sensing, (3, 4, 5, 4), 6
    run = noisy_run(
        pb,
        dims,
        steps,
        lr=0.05,
        noise_std=sigma,
        seeds=4,
        batch_size=batch_size,
    )
    ref = reference_noisy_run(
        pb.xs,
        pb.ys,
        pb.targets,
        dims,
        0.05,
        sigma,
        steps,
        seed=4,
        batch_size=batch_size,
    )
    assert_history_matches(run, ref)
    for w, r in zip(run.weights, ref[-1]):
        np.testing.assert_allclose(w, r, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("sigma", [0.0, 0.7])
def test_full_batch_steps_match_the_reference(sensing, sigma):
    pb, dims, steps = sensing, (3, 4, 4), 6
    run = noisy_run(
        pb, dims, steps, lr=0.05, noise_std=sigma, seeds=9, init_scale=0.5
    )
    ref = reference_noisy_run(
        pb.xs,
        pb.ys,
        pb.targets,
        dims,
        0.05,
        sigma,
        steps,
        seed=9,
        init_scale=0.5,
    )
    assert_history_matches(run, ref)


@pytest.mark.parametrize("batch_size", [None, 3])
def test_warmup_steps_match_the_reference(sensing, batch_size):
    """The first ``warmup`` steps take lr (k + 1) / warmup, later steps lr."""
    pb, dims, steps = sensing, (3, 4, 5, 4), 7
    kw = dict(batch_size=batch_size, init_scale=1.5)
    run = noisy_run(
        pb, dims, steps, lr=0.05, noise_std=0.7, seeds=2, warmup=4, **kw
    )
    args = (pb.xs, pb.ys, pb.targets, dims, 0.05, 0.7, steps)
    assert_history_matches(
        run, reference_noisy_run(*args, seed=2, warmup=4, **kw)
    )
    # and it is not the run without a warm-up
    plain = reference_noisy_run(*args, seed=2, **kw)
    assert not np.allclose(run.weights[0], plain[-1][0], rtol=1e-3)


def test_full_batch_steps_match_the_reference_for_completion():
    """Matrix completion takes a faster path (a gather and a scatter instead of matmuls)."""
    pb = matrix_completion(7, 3, 4, 1, seed=2)
    dims, steps = (3, 3, 4), 5
    run = noisy_run(pb, dims, steps, lr=0.2, noise_std=0.5, seeds=3)
    assert_history_matches(
        run,
        reference_noisy_run(
            pb.xs, pb.ys, pb.targets, dims, 0.2, 0.5, steps, seed=3
        ),
    )


@pytest.mark.parametrize("batch_size", [None, 4])
def test_chains_with_their_own_settings_match_the_reference(
    sensing, batch_size
):
    pb, dims, steps = sensing, (3, 3, 4), 5
    settings = [(0.05, 0.3, 2), (0.02, 0.0, 5), (0.08, 1.0, 2)]
    lrs, sigmas, seeds = (list(v) for v in zip(*settings))
    run = noisy_run(
        pb,
        dims,
        steps,
        lr=lrs,
        noise_std=sigmas,
        seeds=seeds,
        batch_size=batch_size,
    )
    for c, (lr, sigma, seed) in enumerate(settings):
        ref = reference_noisy_run(
            pb.xs,
            pb.ys,
            pb.targets,
            dims,
            lr,
            sigma,
            steps,
            seed=seed,
            batch_size=batch_size,
        )
        assert_history_matches(run, ref, chain=c)


def test_batch_size_n_is_the_full_batch(sensing):
    pb, dims = sensing, (3, 4, 4)
    full = noisy_run(pb, dims, 4, lr=0.05, noise_std=0.5, seeds=1)
    same = noisy_run(
        pb, dims, 4, lr=0.05, noise_std=0.5, seeds=1, batch_size=pb.n
    )
    for a, b in zip(full.history.weights, same.history.weights):
        np.testing.assert_array_equal(a, b)


def test_history_loss_is_the_mean_squared_error(sensing):
    pb = sensing
    run = noisy_run(pb, (3, 4, 4), 5, lr=0.05, noise_std=0.5, seeds=[0, 1])
    for k in range(6):
        ws = [w[k] for w in run.history.weights]
        expected = dlnlib.squared_loss(ws, pb.xs, pb.ys, pb.targets) / pb.n
        np.testing.assert_allclose(run.history.loss[k], expected, rtol=1e-12)
    np.testing.assert_allclose(
        run.loss,
        dlnlib.squared_loss(run.weights, pb.xs, pb.ys, pb.targets) / pb.n,
        rtol=1e-12,
    )


def test_default_record_interval():
    pb = gaussian_sensing(4, 2, 2, 1, seed=0)
    kw = dict(lr=0.01, noise_std=0.1, max_final_steps=0, progress=False)
    for steps, expected in [
        (7, np.arange(8)),
        (399, np.arange(400)),
        (401, np.r_[np.arange(0, 401, 2), 401]),
        (0, [0]),
    ]:
        run = dlnlib.label_noise_sgd(
            pb.xs, pb.ys, pb.targets, (2, 2, 2), steps=steps, **kw
        )
        np.testing.assert_array_equal(run.history.steps, expected)


# --- the noise-free phase -------------------------------------------------------------------


@pytest.fixture(scope="module")
def overdetermined():
    return gaussian_sensing(20, 3, 3, 1, seed=0)


def reference_noise_free(ws, xs, ys, t, lr, final_tol, max_steps, check=100):
    """Full-batch steps on the clean targets until the relative loss reaches final_tol (checked every 100 steps)."""
    zero_loss = 0.5 * np.mean(t**2)
    done = 0
    while done < max_steps:
        for _ in range(min(check, max_steps - done)):
            ws = reference_step(ws, xs, ys, t, lr)
        done += min(check, max_steps - done)
        P = np.einsum("ni,ij,nj->n", xs, chain_product(ws, xs.shape[1]), ys)
        if 0.5 * np.mean((P - t) ** 2) <= final_tol * zero_loss:
            return ws, done, True
    return ws, done, False


def test_noise_free_phase_matches_the_reference(overdetermined):
    """Three chains converge after 400, 200 and 100 steps; each stops there while the others go on."""
    pb, dims = overdetermined, (3, 4, 3)
    lrs = [0.02, 0.05, 0.1]
    run = dlnlib.label_noise_sgd(
        pb.xs,
        pb.ys,
        pb.targets,
        dims,
        lr=lrs,
        noise_std=0.0,
        steps=0,
        seeds=1,
        final_tol=1e-2,
        progress=False,
    )
    np.testing.assert_array_equal(run.final_steps, [400, 200, 100])
    assert run.converged.all()
    for c, lr in enumerate(lrs):
        ws, done, converged = reference_noise_free(
            reference_init(dims, 1.0, 1),
            pb.xs,
            pb.ys,
            pb.targets,
            lr,
            1e-2,
            10_000,
        )
        assert converged and done == run.final_steps[c]
        for w, r in zip(run.weights, ws):
            np.testing.assert_allclose(w[c], r, rtol=1e-9, atol=1e-12)


def test_noise_free_phase_stops_at_max_final_steps(overdetermined):
    pb, dims = overdetermined, (3, 3, 3)
    with pytest.warns(
        RuntimeWarning,
        match=r"did not reach final_tol = 1e-12 within 250 steps for seed\(s\) \[2\]",
    ):
        run = dlnlib.label_noise_sgd(
            pb.xs,
            pb.ys,
            pb.targets,
            dims,
            lr=0.05,
            noise_std=0.3,
            steps=3,
            seeds=[2],
            final_tol=1e-12,
            max_final_steps=250,
            progress=False,
        )
    assert run.final_steps.tolist() == [250] and not run.converged[0]
    start = reference_noisy_run(
        pb.xs, pb.ys, pb.targets, dims, 0.05, 0.3, 3, seed=2
    )[-1]
    ws, done, converged = reference_noise_free(
        start, pb.xs, pb.ys, pb.targets, 0.05, 1e-12, 250
    )
    assert done == 250 and not converged
    for w, r in zip(run.weights, ws):
        np.testing.assert_allclose(w[0], r, rtol=1e-9, atol=1e-12)
