"""Shared random-instance builders for the dlnlib tests."""

import numpy as np
from hypothesis import strategies as st


def random_weights(rng, dims):
    """Gaussian layers W_l of shape (d_{l-1}, d_l), scaled to keep products of order one."""
    return [
        rng.standard_normal((dims[l], dims[l + 1])) / np.sqrt(dims[l])
        for l in range(len(dims) - 1)
    ]


def well_conditioned(rng, d, low=0.3, high=3.0):
    """A random d x d matrix with singular values in [low, high]."""
    Q1, _ = np.linalg.qr(rng.standard_normal((d, d)))
    Q2, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (Q1 * rng.uniform(low, high, d)) @ Q2


def low_rank(rng, d0, dL, r):
    """A random d0 x dL matrix of rank r."""
    return rng.standard_normal((d0, r)) @ rng.standard_normal((r, dL))


@st.composite
def architectures(draw, min_width=1):
    """(seed, dims) with depth 2..6, outer dims 1..5, hidden widths min_width..6."""
    depth = draw(st.integers(2, 6))
    d0 = draw(st.integers(1, 5))
    dL = draw(st.integers(1, 5))
    hidden = [draw(st.integers(min_width, 6)) for _ in range(depth - 1)]
    seed = draw(st.integers(0, 2**32 - 1))
    return seed, (d0, *hidden, dL)
