"""A factorization that attains the lower bound (the construction of the post).

Write the compact SVD ``X W~ Y = U Sigma V^T`` with rank ``r``, and set

.. math::
    W_1 &= \\alpha \\begin{pmatrix} X^{-1} U \\Sigma^{1/2} & 0 \\end{pmatrix}, \\\\
    W_i &= \\beta \\begin{pmatrix} I_r & 0 \\\\ 0 & 0 \\end{pmatrix}, \\quad i = 2, \\dots, L-1, \\\\
    W_L &= \\gamma \\begin{pmatrix} \\Sigma^{1/2} V^\\top Y^{-1} \\\\ 0 \\end{pmatrix},

with

.. math::
    \\beta = \\Big(\\frac{\\|X \\tilde W Y\\|_*}{\\|X\\|_F \\|Y\\|_F}\\Big)^{1/L}, \\\\
    \\alpha = \\sqrt{\\frac{\\|X\\|_F}{\\|Y\\|_F}} \\, \\beta^{1 - L/2}, \\\\
    \\gamma = \\sqrt{\\frac{\\|Y\\|_F}{\\|X\\|_F}} \\, \\beta^{1 - L/2}.

Then ``alpha beta^{L-2} gamma = 1`` so the product is ``W~``, and every one of
the ``L`` terms of the regularizer equals ``||X||_F ||Y||_F beta^{L-2} ||X W~ Y||_*``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks
from ._checks import numerical_rank  # noqa: F401  (public here since the first release)


@dataclass(frozen=True)
class ConstructionScales:
    """The scalars ``alpha``, ``beta``, ``gamma`` and the rank ``r`` of the construction."""

    alpha: float
    beta: float
    gamma: float
    rank: int


def construction_scales(W, X, Y, depth: int) -> ConstructionScales:
    """The scalars of the construction for an end-to-end matrix ``W``.

    .. math::
        \\beta = \\Big(\\frac{\\|X W Y\\|_*}{\\|X\\|_F \\|Y\\|_F}\\Big)^{1/L}, \\\\
        \\alpha = \\sqrt{\\|X\\|_F / \\|Y\\|_F} \\, \\beta^{1 - L/2}, \\\\
        \\gamma = \\sqrt{\\|Y\\|_F / \\|X\\|_F} \\, \\beta^{1 - L/2}

    Parameters
    ----------
    W : array_like, shape (d_0, d_L)
    X : array_like, shape (d_0, d_0)
        Invertible and well conditioned.
    Y : array_like, shape (d_L, d_L)
        Invertible and well conditioned.
    depth : int
        ``L >= 2``.

    Returns
    -------
    ConstructionScales

    Raises
    ------
    ValueError
        If ``depth < 2``, shapes mismatch, entries are not finite, ``X`` or
        ``Y`` is singular or badly conditioned, or ``W = 0`` (then
        ``beta = 0`` and ``alpha``, ``gamma`` are undefined for ``L > 2``).
    """
    L = _checks.integer(depth, "depth L", 2)
    W = _checks.finite_array(W, "W", ndim=2)
    X = _checks.invertible(X, "X", W.shape[0])
    Y = _checks.invertible(Y, "Y", W.shape[1])
    s = np.linalg.svd(X @ W @ Y, compute_uv=False)
    r = _checks.numerical_rank(s, W.shape)
    if r == 0:
        raise ValueError("W is zero: the construction's scales are undefined (the zero factorization is optimal)")
    return _scales(s[:r].sum(), np.linalg.norm(X), np.linalg.norm(Y), L, r)


def _scales(nuclear: float, nx: float, ny: float, L: int, r: int) -> ConstructionScales:
    # alpha, beta, gamma from ||X W Y||_*, ||X||_F and ||Y||_F (formulas in construction_scales)
    beta = (nuclear / (nx * ny)) ** (1.0 / L)
    alpha = np.sqrt(nx / ny) * beta ** (1.0 - L / 2.0)
    gamma = np.sqrt(ny / nx) * beta ** (1.0 - L / 2.0)
    return ConstructionScales(float(alpha), float(beta), float(gamma), r)


def optimal_factorization(W, X, Y, dims) -> list[np.ndarray]:
    """Factorization ``W = W_1 ... W_L`` whose regularizer equals the lower bound.

    Builds the post's construction (module docstring) from the compact SVD
    ``X W Y = U Sigma V^T``. The result satisfies
    ``end_to_end(ws) == W`` and
    ``regularizer_kron(ws, X, Y) == lower_bound(W, X, Y, L)`` up to rounding.

    Parameters
    ----------
    W : array_like, shape (d_0, d_L)
        Target end-to-end matrix.
    X : array_like, shape (d_0, d_0)
        Invertible, well-conditioned left factor of the data second moment.
    Y : array_like, shape (d_L, d_L)
        Invertible, well-conditioned right factor of the data second moment.
    dims : sequence of int
        ``(d_0, d_1, ..., d_L)`` with ``L >= 2``; ``d_0``, ``d_L`` must match
        ``W`` and every hidden width ``d_i`` must be at least ``r = rank(W)``.

    Returns
    -------
    list of ndarray
        ``[W_1, ..., W_L]`` with ``W_l`` of shape ``(d_{l-1}, d_l)``.
        For ``W = 0`` all factors are zero (then ``R = 0`` = the bound).

    Raises
    ------
    ValueError
        If ``dims`` is malformed or disagrees with ``W``, a hidden width is
        below ``rank(W)``, ``X``/``Y`` are singular or badly conditioned, or an
        entry is not finite.
    """
    d = _checks.dims_tuple(dims)
    L = len(d) - 1
    W = _checks.finite_array(W, "W", ndim=2)
    if W.shape != (d[0], d[-1]):
        raise ValueError(f"W has shape {W.shape} but dims asks for (d_0, d_L) = ({d[0]}, {d[-1]})")
    X = _checks.invertible(X, "X", d[0])
    Y = _checks.invertible(Y, "Y", d[-1])
    U, s, Vt = np.linalg.svd(X @ W @ Y, full_matrices=False)
    r = _checks.numerical_rank(s, W.shape)
    for i, di in enumerate(d[1:-1], start=1):
        if di < r:
            raise ValueError(
                f"hidden width d_{i} = {di} is below rank(W) = {r}: no depth-{L} factorization with these "
                f"widths can carry W (every d_i must be >= {r})"
            )
    if r == 0:
        return [np.zeros((d[l], d[l + 1])) for l in range(L)]
    sc = _scales(s[:r].sum(), np.linalg.norm(X), np.linalg.norm(Y), L, r)
    root = np.sqrt(s[:r])
    first = np.zeros((d[0], d[1]))
    first[:, :r] = sc.alpha * np.linalg.solve(X, U[:, :r] * root)
    last = np.zeros((d[-2], d[-1]))
    last[:r, :] = sc.gamma * np.linalg.solve(Y.T, (root[:, None] * Vt[:r]).T).T
    middle = []
    for l in range(1, L - 1):
        Wl = np.zeros((d[l], d[l + 1]))
        Wl[np.arange(r), np.arange(r)] = sc.beta
        middle.append(Wl)
    return [first, *middle, last]
