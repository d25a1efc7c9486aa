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

    Book: equation :eq:`con-scales` in :doc:`/chapters/construction`.

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
    r = _rank_of_product(s, X, W, Y)
    if r == 0:
        raise ValueError(
            "W is zero: the construction's scales are undefined (the zero factorization is optimal)"
        )
    return _scales(s[:r].sum(), np.linalg.norm(X), np.linalg.norm(Y), L, r)


def _rank_of_product(s: np.ndarray, X, W, Y) -> int:
    """The rank of ``W`` read from the singular values ``s`` of ``X W Y`` (``X``, ``Y`` invertible).

    The rounding of the product ``X @ W @ Y`` is of the order of
    ``eps ||X||_2 ||W||_2 ||Y||_2``, which exceeds ``eps sigma_max(X W Y)`` when
    ``X W Y`` is small next to its factors (``W`` along small directions of
    ``X`` or ``Y``): :func:`dlnlib.construction.numerical_rank` (numpy's rule,
    relative to ``s[0]``) would count that rounding as rank. The tolerance
    here is ``max(shape) * eps`` times the product of the factors' norms.
    """
    if s.size == 0 or s[0] == 0:
        return 0
    scale = np.linalg.norm(X, 2) * np.linalg.norm(W, 2) * np.linalg.norm(Y, 2)
    return int(np.sum(s > max(W.shape) * np.finfo(float).eps * scale))


def _scales(
    nuclear: float, nx: float, ny: float, L: int, r: int
) -> ConstructionScales:
    # alpha, beta, gamma from ||X W Y||_*, ||X||_F and ||Y||_F (formulas in construction_scales)
    beta = (nuclear / (nx * ny)) ** (1.0 / L)
    alpha = np.sqrt(nx / ny) * beta ** (1.0 - L / 2.0)
    gamma = np.sqrt(ny / nx) * beta ** (1.0 - L / 2.0)
    return ConstructionScales(float(alpha), float(beta), float(gamma), r)


def optimal_factorization(W, X, Y, dims) -> list[np.ndarray]:
    """Factorization ``W = W_1 ... W_L`` whose regularizer equals the lower bound.

    Book: equation :eq:`con-factors` in :doc:`/chapters/construction`.

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
    d, U, s, Vt, r, X, Y = _whitened_svd(W, X, Y, dims)
    L = len(d) - 1
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


def balanced_factorization(W, X, Y, dims) -> list[np.ndarray]:
    """The balanced factorization of ``W`` in the whitened coordinates of ``X``, ``Y``.

    Book: equation :eq:`con-all` in :doc:`/chapters/construction`.

    With the compact SVD ``X W Y = U Sigma V^T`` of rank ``r`` and the
    selectors ``E_l = (I_r  0)`` of width ``d_l``,

    .. math::
        W_1 = X^{-1} U \\Sigma^{1/L} E_1, \\qquad
        W_l = E_{l-1}^\\top \\Sigma^{1/L} E_l, \\qquad
        W_L = E_{L-1}^\\top \\Sigma^{1/L} V^\\top Y^{-1},

    so that the whitened layers ``X W_1, W_2, ..., W_L Y`` are balanced,
    ``V_l^T V_l = V_{l+1} V_{l+1}^T``, each carrying ``Sigma^{1/L}``. With
    ``X = I``, ``Y = I`` this is the usual balanced factorization of deep
    linear networks. It attains :func:`dlnlib.bound.lower_bound` at ``L = 2``
    when ``||X||_F = ||Y||_F``, but for ``L >= 3`` only when all nonzero
    singular values of ``X W Y`` are equal and ``||X||_F^2 = ||Y||_F^2 = r``
    (book chapter *Construction*, section *The set of minimizers*).

    Parameters
    ----------
    W : array_like, shape (d_0, d_L)
    X : array_like, shape (d_0, d_0)
        Invertible, well conditioned.
    Y : array_like, shape (d_L, d_L)
        Invertible, well conditioned.
    dims : sequence of int
        ``(d_0, ..., d_L)``, ``L >= 2``, hidden widths at least ``rank W``.

    Returns
    -------
    list of ndarray

    Raises
    ------
    ValueError
        As :func:`optimal_factorization`.

    Examples
    --------
    >>> import numpy as np
    >>> ws = balanced_factorization(np.diag([8.0, 1.0]), np.eye(2), np.eye(2), (2, 2, 2, 2))
    >>> [np.round(np.diag(w), 6).tolist() for w in ws]
    [[2.0, 1.0], [2.0, 1.0], [2.0, 1.0]]
    """
    d, U, s, Vt, r, X, Y = _whitened_svd(W, X, Y, dims)
    L = len(d) - 1
    layers = [np.zeros((d[l], d[l + 1])) for l in range(L)]
    if r == 0:
        return layers
    root = s[:r] ** (1.0 / L)
    layers[0][:, :r] = np.linalg.solve(X, U[:, :r] * root)
    for l in range(1, L - 1):
        layers[l][np.arange(r), np.arange(r)] = root
    layers[-1][:r, :] = np.linalg.solve(Y.T, (root[:, None] * Vt[:r]).T).T
    return layers


def _whitened_svd(W, X, Y, dims):
    # validate (W, X, Y, dims) as optimal_factorization does and return the SVD of X W Y
    d = _checks.dims_tuple(dims)
    W = _checks.finite_array(W, "W", ndim=2)
    if W.shape != (d[0], d[-1]):
        raise ValueError(
            f"W has shape {W.shape} but dims asks for (d_0, d_L) = ({d[0]}, {d[-1]})"
        )
    X = _checks.invertible(X, "X", d[0])
    Y = _checks.invertible(Y, "Y", d[-1])
    U, s, Vt = np.linalg.svd(X @ W @ Y, full_matrices=False)
    r = _rank_of_product(s, X, W, Y)
    for i, di in enumerate(d[1:-1], start=1):
        if di < r:
            raise ValueError(
                f"hidden width d_{i} = {di} is below rank(W) = {r}: no depth-{len(d) - 1} factorization with "
                f"these widths can carry W (every d_i must be >= {r})"
            )
    return d, U, s, Vt, r, X, Y


def gauge_transform(weights, gauges) -> list[np.ndarray]:
    """Change the basis of every hidden layer: same product, other factors.

    Book: equation :eq:`con-all` in :doc:`/chapters/construction`.

    .. math:: W_l \\mapsto G_{l-1}^{-1} W_l \\, G_l, \\qquad G_0 = I, \\; G_L = I,

    so that ``W_1 ... W_L`` is unchanged. Orthogonal gauges also leave
    every partial-product norm, hence ``R``, unchanged.

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]`` (no batch axis).
    gauges : list of ndarray
        ``[G_1, ..., G_{L-1}]``, ``G_l`` invertible of shape ``(d_l, d_l)``.

    Returns
    -------
    list of ndarray

    Raises
    ------
    ValueError
        If the weights are invalid, the number or shapes of the gauges do not
        match the hidden widths, or a gauge is singular or badly conditioned.

    Examples
    --------
    >>> import numpy as np
    >>> ws = [np.eye(2), np.ones((2, 3))]
    >>> G = np.array([[2.0, 1.0], [0.0, 1.0]])
    >>> new = gauge_transform(ws, [G])
    >>> bool(np.allclose(new[0] @ new[1], ws[0] @ ws[1]))
    True
    """
    ws = _checks.weight_list(weights)
    if ws[0].ndim != 2:
        raise ValueError(
            "gauge_transform takes a single network: weights must be 2-dimensional matrices"
        )
    if len(gauges) != len(ws) - 1:
        raise ValueError(
            f"need one gauge per hidden layer: {len(ws) - 1} for depth {len(ws)}, got {len(gauges)}"
        )
    Gs = [
        _checks.invertible(G, f"gauges[{l}] (G_{l + 1})", w.shape[1])
        for l, (G, w) in enumerate(zip(gauges, ws))
    ]
    out = [ws[0] @ Gs[0]]
    for l in range(1, len(ws) - 1):
        out.append(np.linalg.solve(Gs[l - 1], ws[l] @ Gs[l]))
    out.append(np.linalg.solve(Gs[-1], ws[-1]))
    return out


def random_factorization(
    W, dims, rng: np.random.Generator, *, spread: float = 1.0
) -> list[np.ndarray]:
    """A random factorization ``W = W_1 ... W_L`` with the given widths.

    Book: used in :doc:`/chapters/construction`.

    The balanced factorization of ``W`` (with ``X = I``, ``Y = I``) is moved
    by a random gauge (:func:`gauge_transform`), ``G_l = s_l (I + Z_l / sqrt(d_l))``
    with Gaussian ``Z_l`` and log-normal scales ``s_l = exp(spread * N(0, 1))``,
    and the inert blocks that the widths allow (rows and columns that do
    not reach ``W``) are filled with Gaussian entries. Every such draw
    reproduces ``W`` exactly (to rounding).

    Parameters
    ----------
    W : array_like, shape (d_0, d_L)
    dims : sequence of int
        ``(d_0, ..., d_L)``, ``L >= 2``, hidden widths at least ``rank W``.
    rng : numpy.random.Generator
        The source of every random number.
    spread : float, optional
        Standard deviation of the log-scales of the gauges (``>= 0``).

    Returns
    -------
    list of ndarray

    Raises
    ------
    ValueError
        If the widths cannot carry ``W`` or an input is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.arange(6.0).reshape(2, 3)
    >>> ws = random_factorization(W, (2, 4, 3, 3), np.random.default_rng(0))
    >>> bool(np.allclose(ws[0] @ ws[1] @ ws[2], W))
    True
    """
    d = _checks.dims_tuple(dims)
    spread = _checks.finite_array(spread, "spread", ndim=0)
    if spread < 0:
        raise ValueError(f"spread must be nonnegative, got {float(spread)!r}")
    ws = balanced_factorization(W, np.eye(d[0]), np.eye(d[-1]), d)
    r = _checks.numerical_rank(
        np.linalg.svd(np.asarray(W, dtype=float), compute_uv=False),
        (d[0], d[-1]),
    )
    # inert blocks: the middle layers map the unused coordinates r.. among themselves
    for l in range(1, len(ws) - 1):
        ws[l][r:, r:] = rng.standard_normal(
            (d[l] - r, d[l + 1] - r)
        ) / np.sqrt(max(d[l] - r, 1))
    gauges = []
    for width in d[1:-1]:
        while True:
            G = np.eye(width) + rng.standard_normal((width, width)) / np.sqrt(
                width
            )
            s = np.linalg.svd(G, compute_uv=False)
            if s[-1] > 1e-3 * s[0]:
                break
        gauges.append(np.exp(spread * rng.standard_normal()) * G)
    return gauge_transform(ws, gauges)
