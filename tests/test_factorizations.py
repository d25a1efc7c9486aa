"""The factorization helpers of dlnlib.construction and dlnlib.network.random_weights do what they document."""

import numpy as np
import pytest
from instances import low_rank, well_conditioned

import dlnlib
from dlnlib.construction import (
    balanced_factorization,
    gauge_transform,
    random_factorization,
)

DIMS = [(3, 3, 4), (3, 4, 2, 4), (3, 2, 5, 3, 4)]


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("r", [0, 1, 2])
def test_balanced_factorization_is_balanced_in_whitened_coordinates(dims, r):
    rng = np.random.default_rng(10 * r + len(dims))
    W = low_rank(rng, dims[0], dims[-1], r)
    X, Y = well_conditioned(rng, dims[0]), well_conditioned(rng, dims[-1])
    ws = balanced_factorization(W, X, Y, dims)
    assert [w.shape for w in ws] == [
        (dims[l], dims[l + 1]) for l in range(len(dims) - 1)
    ]
    np.testing.assert_allclose(dlnlib.end_to_end(ws), W, atol=1e-10)
    V = [X @ ws[0], *ws[1:-1], ws[-1] @ Y]  # whitened layers
    for a, b in zip(V[:-1], V[1:]):
        np.testing.assert_allclose(a.T @ a, b @ b.T, atol=1e-10)
    s = np.linalg.svd(X @ W @ Y, compute_uv=False)[:r]
    np.testing.assert_allclose(
        np.linalg.svd(V[1], compute_uv=False)[:r],
        s ** (1 / (len(dims) - 1)),
        rtol=1e-9,
    )


def test_balanced_factorization_attains_the_bound_at_depth_two_only_with_equal_norms():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((3, 4))
    X, Y = well_conditioned(rng, 3), well_conditioned(rng, 4)
    Y *= np.linalg.norm(X) / np.linalg.norm(Y)  # ||X||_F = ||Y||_F
    ws = balanced_factorization(W, X, Y, (3, 3, 4))
    assert dlnlib.regularizer_kron(ws, X, Y) == pytest.approx(
        dlnlib.lower_bound(W, X, Y, 2), rel=1e-10
    )
    ws3 = balanced_factorization(W, X, Y, (3, 3, 3, 4))
    assert dlnlib.regularizer_kron(ws3, X, Y) > dlnlib.lower_bound(
        W, X, Y, 3
    ) * (1 + 1e-6)


def test_gauge_transform_formula_and_invariants():
    rng = np.random.default_rng(4)
    dims = (2, 3, 4, 2)
    ws = [rng.standard_normal((dims[l], dims[l + 1])) for l in range(3)]
    G = [well_conditioned(rng, 3), well_conditioned(rng, 4)]
    new = gauge_transform(ws, G)
    np.testing.assert_allclose(new[0], ws[0] @ G[0], rtol=1e-12)
    np.testing.assert_allclose(
        new[1], np.linalg.inv(G[0]) @ ws[1] @ G[1], rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        new[2], np.linalg.inv(G[1]) @ ws[2], rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        dlnlib.end_to_end(new), dlnlib.end_to_end(ws), rtol=1e-10, atol=1e-12
    )
    # orthogonal gauges keep every term of R
    Q = [np.linalg.qr(rng.standard_normal((k, k)))[0] for k in (3, 4)]
    X, Y = well_conditioned(rng, 2), well_conditioned(rng, 2)
    np.testing.assert_allclose(
        dlnlib.regularizer_kron_terms(gauge_transform(ws, Q), X, Y),
        dlnlib.regularizer_kron_terms(ws, X, Y),
        rtol=1e-10,
    )


@pytest.mark.parametrize(
    "dims, r",
    [((3, 3, 4), 3), ((3, 4, 5, 4), 2), ((2, 1, 1, 3), 1), ((2, 3, 3, 3), 0)],
)
def test_random_factorization_reproduces_w(dims, r):
    rng = np.random.default_rng(5)
    W = low_rank(rng, dims[0], dims[-1], r)
    a = random_factorization(W, dims, np.random.default_rng(1), spread=0.5)
    b = random_factorization(W, dims, np.random.default_rng(1), spread=0.5)
    c = random_factorization(W, dims, np.random.default_rng(2), spread=0.5)
    np.testing.assert_allclose(dlnlib.end_to_end(a), W, atol=1e-10)
    np.testing.assert_allclose(dlnlib.end_to_end(c), W, atol=1e-10)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not all(np.allclose(u, v) for u, v in zip(a, c))


def test_random_weights_follow_the_documented_rule():
    dims, spread = (3, 4, 2, 5), 0.7
    got = dlnlib.random_weights(dims, np.random.default_rng(8), spread=spread)
    rng = np.random.default_rng(8)
    for l, w in enumerate(got):
        scale = np.exp(spread * rng.standard_normal())
        np.testing.assert_allclose(
            w,
            scale
            * rng.standard_normal((dims[l], dims[l + 1]))
            / np.sqrt(dims[l]),
            rtol=1e-14,
        )
    flat = dlnlib.random_weights(dims, np.random.default_rng(8))
    rng = np.random.default_rng(8)
    for l, w in enumerate(flat):
        rng.standard_normal()
        np.testing.assert_allclose(
            w,
            rng.standard_normal((dims[l], dims[l + 1])) / np.sqrt(dims[l]),
            rtol=1e-14,
        )


@pytest.mark.parametrize("seed", range(20))
def test_rank_of_w_survives_the_rounding_of_x_w_y(seed):
    # A rank-one W whose row and column spaces meet the small directions of X and Y: X W Y is
    # small next to ||X|| ||W|| ||Y||, so the rounding of the product X W Y leaves a second
    # singular value above eps * sigma_max(X W Y). rank(X W Y) = rank(W) all the same (X, Y
    # invertible): the construction must count rank 1 and fit through a width-one layer.
    # (Found by the lower_bound chapter at seed 7, n_random 2000, depths 2..8.)
    rng = np.random.default_rng(seed)
    Qx = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    Qy = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    X = (Qx * [3.0, 1.0, 1e-3]) @ Qx.T
    Y = (Qy * [3.0, 1.0, 1.0, 1e-3]) @ Qy.T
    u = Qx[:, 2] + 1e-3 * rng.standard_normal(3)
    v = Qy[:, 3] + 1e-3 * rng.standard_normal(4)
    W = dlnlib.end_to_end([u[:, None], v[None, :], well_conditioned(rng, 4)])
    assert dlnlib.construction_scales(W, X, Y, 3).rank == 1
    ws = dlnlib.optimal_factorization(W, X, Y, (3, 1, 4, 4))
    np.testing.assert_allclose(
        dlnlib.end_to_end(ws), W, rtol=0, atol=1e-12 * np.abs(W).max()
    )
    assert float(dlnlib.regularizer_kron(ws, X, Y)) == pytest.approx(
        dlnlib.lower_bound(W, X, Y, 3), rel=1e-9
    )
    assert balanced_factorization(W, X, Y, (3, 1, 1, 4))[1].shape == (1, 1)
