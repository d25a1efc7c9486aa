"""Stacked networks (a leading batch axis) give exactly the per-network results.

Every function that accepts weights of shape ``(..., d_{l-1}, d_l)`` (network,
regularizer and bound functions) is called once on a stack and once per
network; the shapes of the results and their values must agree. A sum over the
wrong axis (over the networks instead of the samples, the layers or the
matrix entries) passes every unstacked test, so each function is also checked
against a plain formula on single networks.
"""

import itertools

import numpy as np
import pytest
from instances import well_conditioned

import dlnlib
from dlnlib.network import partial_products

BATCHES = [(), (1,), (4,), (2, 3)]
DIMS = [(3, 4, 2), (2, 3, 3, 4), (1, 2, 1, 3, 1), (4, 2, 5, 3)]
N = 5  # samples; never equal to a batch size or a width, so a wrong axis changes a shape


def stack(rng, batch, dims):
    return [
        rng.standard_normal(batch + (dims[l], dims[l + 1])) / np.sqrt(dims[l])
        for l in range(len(dims) - 1)
    ]


def networks(ws, batch):
    """(index, single network) for every network of the stack."""
    for idx in itertools.product(*[range(b) for b in batch]):
        yield idx, [w[idx] for w in ws]


def product(mats, size):
    out = np.eye(size)
    for m in mats:
        out = out @ m
    return out


@pytest.fixture(
    params=list(itertools.product(range(len(BATCHES)), range(len(DIMS)))),
    ids=lambda p: f"batch{BATCHES[p[0]]}-dims{DIMS[p[1]]}",
)
def case(request):
    b, d = request.param
    batch, dims = BATCHES[b], DIMS[d]
    rng = np.random.default_rng(100 * b + d)
    ws = stack(rng, batch, dims)
    xs, ys = (
        rng.standard_normal((N, dims[0])),
        rng.standard_normal((N, dims[-1])),
    )
    targets = rng.standard_normal(N)
    X, Y = well_conditioned(rng, dims[0]), well_conditioned(rng, dims[-1])
    return batch, dims, ws, xs, ys, targets, X, Y


def test_end_to_end_and_partial_products(case):
    batch, dims, ws, *_ = case
    L = len(dims) - 1
    W = dlnlib.end_to_end(ws)
    lefts, rights = partial_products(ws)
    assert W.shape == batch + (dims[0], dims[-1])
    assert [A.shape for A in lefts] == [
        batch + (dims[0], dims[l]) for l in range(L)
    ]
    assert [B.shape for B in rights] == [
        batch + (dims[l + 1], dims[-1]) for l in range(L)
    ]
    for idx, single in networks(ws, batch):
        expected = product(single, dims[0])
        np.testing.assert_allclose(W[idx], expected, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(
            W[idx], dlnlib.end_to_end(single), rtol=1e-12, atol=1e-14
        )
        single_lefts, single_rights = partial_products(single)
        for l in range(L):
            np.testing.assert_allclose(
                lefts[l][idx],
                product(single[:l], dims[0]),
                rtol=1e-12,
                atol=1e-14,
            )
            np.testing.assert_allclose(
                rights[l][idx],
                product(single[l + 1 :], dims[l + 1]),
                rtol=1e-12,
                atol=1e-14,
            )
            np.testing.assert_allclose(
                lefts[l][idx], single_lefts[l], rtol=1e-12, atol=1e-14
            )
            np.testing.assert_allclose(
                rights[l][idx], single_rights[l], rtol=1e-12, atol=1e-14
            )


def test_predict_and_squared_loss(case):
    batch, dims, ws, xs, ys, t, *_ = case
    P = dlnlib.predict(ws, xs, ys)
    loss = dlnlib.squared_loss(ws, xs, ys, t)
    assert P.shape == batch + (N,)
    assert np.shape(loss) == batch
    for idx, single in networks(ws, batch):
        W = product(single, dims[0])
        expected_P = np.array([x @ W @ y for x, y in zip(xs, ys)])
        np.testing.assert_allclose(P[idx], expected_P, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(
            dlnlib.predict(single, xs, ys), expected_P, rtol=1e-12, atol=1e-13
        )
        expected_loss = 0.5 * sum(
            (p - ti) ** 2 for p, ti in zip(expected_P, t)
        )
        assert loss[idx] == pytest.approx(expected_loss, rel=1e-12)
        assert dlnlib.squared_loss(single, xs, ys, t) == pytest.approx(
            expected_loss, rel=1e-12
        )


def test_regularizer_from_data(case):
    batch, dims, ws, xs, ys, *_ = case
    L = len(dims) - 1
    terms = dlnlib.regularizer_terms(ws, xs, ys)
    R = dlnlib.regularizer(ws, xs, ys)
    assert terms.shape == batch + (L,) and np.shape(R) == batch
    for idx, single in networks(ws, batch):
        expected = [
            sum(
                np.sum((x @ product(single[:l], dims[0])) ** 2)
                * np.sum((product(single[l + 1 :], dims[l + 1]) @ y) ** 2)
                for x, y in zip(xs, ys)
            )
            for l in range(L)
        ]
        np.testing.assert_allclose(terms[idx], expected, rtol=1e-11)
        np.testing.assert_allclose(
            dlnlib.regularizer_terms(single, xs, ys), expected, rtol=1e-11
        )
        assert R[idx] == pytest.approx(sum(expected), rel=1e-11)
        assert dlnlib.regularizer(single, xs, ys) == pytest.approx(
            sum(expected), rel=1e-11
        )


def test_regularizer_kron(case):
    batch, dims, ws, _, _, _, X, Y = case
    L = len(dims) - 1
    terms = dlnlib.regularizer_kron_terms(ws, X, Y)
    R = dlnlib.regularizer_kron(ws, X, Y)
    assert terms.shape == batch + (L,) and np.shape(R) == batch
    for idx, single in networks(ws, batch):
        expected = [
            np.linalg.norm(X @ product(single[:l], dims[0])) ** 2
            * np.linalg.norm(product(single[l + 1 :], dims[l + 1]) @ Y) ** 2
            for l in range(L)
        ]
        np.testing.assert_allclose(terms[idx], expected, rtol=1e-11)
        np.testing.assert_allclose(
            dlnlib.regularizer_kron_terms(single, X, Y), expected, rtol=1e-11
        )
        assert R[idx] == pytest.approx(sum(expected), rel=1e-11)
        assert dlnlib.regularizer_kron(single, X, Y) == pytest.approx(
            sum(expected), rel=1e-11
        )


def test_nuclear_norm_and_lower_bound(case):
    batch, dims, ws, _, _, _, X, Y = case
    L = len(dims) - 1
    W = dlnlib.end_to_end(ws)
    nuc = dlnlib.nuclear_norm(W)
    bound = dlnlib.lower_bound(W, X, Y, L)
    assert np.shape(nuc) == batch and np.shape(bound) == batch
    for idx, _ in networks(ws, batch):
        single_nuc = dlnlib.nuclear_norm(W[idx])
        assert isinstance(single_nuc, float)
        assert single_nuc == pytest.approx(
            np.sum(np.linalg.svd(W[idx], compute_uv=False)), rel=1e-12
        )
        assert np.asarray(nuc)[idx] == pytest.approx(single_nuc, rel=1e-12)
        nxy = np.sum(np.linalg.svd(X @ W[idx] @ Y, compute_uv=False))
        expected = (
            L
            * (np.linalg.norm(X) * np.linalg.norm(Y)) ** (2 / L)
            * nxy ** (2 - 2 / L)
        )
        assert np.asarray(bound)[idx] == pytest.approx(expected, rel=1e-11)
        assert dlnlib.lower_bound(W[idx], X, Y, L) == pytest.approx(
            expected, rel=1e-11
        )


@pytest.mark.filterwarnings(
    "ignore:the noise-free phase did not reach:RuntimeWarning"
)
def test_stacked_label_noise_sgd_initial_weights_match_single_runs():
    """A chain axis on initial_weights: chain c starts at initial_weights[.][c] and runs as it would alone."""
    pb = dlnlib.gaussian_sensing(8, 3, 3, 1, seed=2)
    rng = np.random.default_rng(0)
    start = stack(rng, (3,), (3, 4, 3))
    kw = dict(
        lr=0.05, noise_std=0.2, steps=20, max_final_steps=200, progress=False
    )
    batch = dlnlib.label_noise_sgd(
        pb.xs,
        pb.ys,
        pb.targets,
        (3, 4, 3),
        seeds=[5, 6, 7],
        initial_weights=start,
        **kw,
    )
    for c, seed in enumerate([5, 6, 7]):
        alone = dlnlib.label_noise_sgd(
            pb.xs,
            pb.ys,
            pb.targets,
            (3, 4, 3),
            seeds=seed,
            initial_weights=[w[c] for w in start],
            **kw,
        )
        np.testing.assert_array_equal(
            batch.history.weights[0][0, c], start[0][c]
        )
        for wb, wa in zip(batch.weights, alone.weights):
            np.testing.assert_allclose(wb[c], wa, rtol=1e-12, atol=1e-14)
        assert batch.loss[c] == pytest.approx(alone.loss, rel=1e-10)
