"""The induced regularizer: the smallest ``R`` over all factorizations of ``W~``, for any data.

``R*(W~) = min { R(W_1, ..., W_L) : W_1 ... W_L = W~ }`` is what label noise
minimizes on the end-to-end matrix. Under the Kronecker assumption it is
:func:`dlnlib.bound.lower_bound`; at depth two it is
:func:`dlnlib.depth_two.depth_two_minimum`. For any other data and depth it
has no closed form, and :func:`min_regularizer` computes it by exact gauge
sweeps (book chapter *Beyond the assumption*):

- a factorization of a rank-``r`` matrix through hidden widths ``r`` has
  partial products ``F_k = W_1 ... W_k`` (``d_0 x r``) and
  ``H_k = W_{k+1} ... W_L`` (``r x d_L``) of full rank ``r``, and any other
  factorization with these widths is ``F_k G``, ``G^{-1} H_k``;
- the gauge ``G`` between layers ``k`` and ``k + 1`` changes only the terms
  ``k`` and ``k + 1`` of ``R``, which become ``tr(M P) + tr(N P^{-1})`` with
  ``P = G G^T`` and the positive definite ``r x r`` matrices

  .. math:: M = \\sum_i \\|H_{k+1} y_i\\|^2 F_k^\\top x_i x_i^\\top F_k, \\qquad
            N = \\sum_i \\|x_i^\\top F_{k-1}\\|^2 H_k y_i y_i^\\top H_k^\\top ;

- this is the depth-two problem: its minimum ``2 tr (M^{1/2} N M^{1/2})^{1/2}``
  is attained at the geometric mean ``P = M^{-1} # N``;
- sweeping ``k = 1, ..., L - 1`` and back never increases ``R``.

Extra hidden width beyond ``r`` never helps (:func:`compress`): projecting
every hidden layer onto the column space of ``H_k``, then onto the row space
of ``F_k``, then once more onto the column space of ``H_k``, keeps the
product, never increases a term of ``R``, and leaves ``r``-dimensional
layers. So the sweeps work on width ``r`` and pad with inert zero blocks.
"""

from __future__ import annotations

import warnings
from functools import reduce

import numpy as np

from . import _checks
from .construction import optimal_factorization
from .depth_two import depth_two_moments
from .kronecker import kronecker_factors

__all__ = [
    "RANK_RTOL",
    "compress",
    "fibre_minima",
    "gauge_sweep",
    "induced_gradient",
    "min_regularizer",
]


def _sym_roots(M: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Square root and inverse square root of stacked symmetric positive definite matrices."""
    w, V = np.linalg.eigh((M + np.swapaxes(M, -1, -2)) / 2)
    top = w[..., -1:]
    if np.any(w[..., :1] <= top * 1e-14) or not np.all(np.isfinite(w)):
        raise ValueError(
            f"{what} is singular (or numerically so): the data do not measure every direction of the "
            "factorization, and the minimum of R is not attained"
        )
    root = np.sqrt(w)
    return (V * root[..., None, :]) @ np.swapaxes(V, -1, -2), (
        V / root[..., None, :]
    ) @ np.swapaxes(V, -1, -2)


def _chain(ws, start: int, stop: int, size: int, batch) -> np.ndarray:
    """Product W_{start+1} ... W_{stop} of 0-based layers start..stop-1 (identity of ``size`` if empty)."""
    out = np.broadcast_to(np.eye(size), batch + (size, size)).copy()
    for w in ws[start:stop]:
        out = out @ w
    return out


def _terms(ws, xs, ys) -> np.ndarray:
    """``R`` for stacked core factorizations, shape (S,)."""
    L = len(ws)
    batch = ws[0].shape[:-2]
    total = 0.0
    F = np.broadcast_to(np.eye(xs.shape[1]), batch + (xs.shape[1],) * 2)
    for l in range(L):
        H = _chain(
            ws, l + 1, L, ws[l].shape[-1], batch
        )  # W_{l+2} ... W_L (0-based l+1..L-1)
        a = np.sum((xs @ F) ** 2, axis=-1)
        b = np.sum((ys @ np.swapaxes(H, -1, -2)) ** 2, axis=-1)
        total = total + np.sum(a * b, axis=-1)
        F = F @ ws[l]
    return total


def _sweep(ws, xs, ys) -> tuple[list[np.ndarray], np.ndarray]:
    """One forward-and-back sweep of optimal gauges on stacked cores; returns (layers, healthy starts).

    With ``S`` the rows ``||H_{k+1} y_i|| x_i^T F_k`` and ``T`` the rows
    ``||x_i^T F_{k-1}|| (H_k y_i)^T`` (so ``M = S^T S``, ``N = T^T T``), QR
    factors ``S = Q_S R_S``, ``T = Q_T R_T`` and the SVD
    ``R_S R_T^T = U Sigma V^T``, the gauge ``G = R_S^{-1} U Sigma^{1/2}`` gives
    ``||R_S G||_F^2 = ||G^{-1} R_T^T||_F^2 = tr Sigma``, the minimum
    ``tr (M^{1/2} N M^{1/2})^{1/2}`` of each of the two terms. Working with the
    factors ``R_S``, ``R_T`` instead of ``M``, ``N`` halves the condition
    numbers involved. A start whose ``R_S`` or ``R_T`` is numerically singular
    is marked unhealthy and left unchanged.
    """
    L = len(ws)
    batch = ws[0].shape[:-2]
    d0 = xs.shape[1]
    healthy = np.ones(batch, dtype=bool)
    for k in [
        *range(1, L),
        *range(L - 2, 0, -1),
    ]:  # 1-based split after layer k
        F_prev = _chain(ws, 0, k - 1, d0, batch)  # F_{k-1}
        F = F_prev @ ws[k - 1]  # F_k
        H_next = _chain(ws, k + 1, L, ws[k].shape[-1], batch)  # H_{k+1}
        H = ws[k] @ H_next  # H_k
        b = np.sum(
            (ys @ np.swapaxes(H_next, -1, -2)) ** 2, axis=-1
        )  # ||H_{k+1} y_i||^2
        a = np.sum((xs @ F_prev) ** 2, axis=-1)  # ||x_i^T F_{k-1}||^2
        S = (xs @ F) * np.sqrt(b)[..., None]
        T = (ys @ np.swapaxes(H, -1, -2)) * np.sqrt(a)[..., None]
        R_S = np.linalg.qr(S, mode="r")
        R_T = np.linalg.qr(T, mode="r")
        diag = np.abs(
            np.concatenate(
                [
                    np.diagonal(R_S, axis1=-2, axis2=-1),
                    np.diagonal(R_T, axis1=-2, axis2=-1),
                ],
                -1,
            )
        )
        ok = np.all(
            diag > 1e-13 * diag.max(axis=-1, keepdims=True), axis=-1
        ) & np.all(np.isfinite(diag), axis=-1)
        healthy &= ok
        eye = np.eye(R_S.shape[-1])
        R_S = np.where(healthy[..., None, None], R_S, eye)
        R_T = np.where(healthy[..., None, None], R_T, eye)
        U, sigma, _ = np.linalg.svd(R_S @ np.swapaxes(R_T, -1, -2))
        root = np.sqrt(sigma)[..., None, :]
        G = np.linalg.solve(R_S, U * root)  # R_S^{-1} U Sigma^{1/2}
        G_inv = np.swapaxes(U / root, -1, -2) @ R_S  # Sigma^{-1/2} U^T R_S
        keep = ~healthy[..., None, None]
        ws[k - 1] = np.where(keep, ws[k - 1], ws[k - 1] @ G)
        ws[k] = np.where(keep, ws[k], G_inv @ ws[k])
    return ws, healthy


def gauge_sweep(weights, xs, ys) -> list[np.ndarray]:
    """One sweep of exact gauge steps ``k = 1, ..., L-1, ..., 1`` on core factorizations.

    Book: equation :eq:`bey-gauge` in :doc:`/chapters/beyond`.

    At each split the gauge ``G`` with ``G G^T = M^{-1} # N`` (the matrix
    geometric mean ``M^{-1/2} (M^{1/2} N M^{1/2})^{1/2} M^{-1/2}``) replaces
    ``W_k, W_{k+1}`` by ``W_k G, G^{-1} W_{k+1}``; it minimizes ``R`` over all
    gauges at that split, so ``R`` never increases (module docstring).

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]`` with every hidden width equal to the rank ``r`` of
        the product, shapes ``(..., d_{l-1}, d_l)`` (a leading batch axis
        holds several starts).
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    list of ndarray
        The factorization after the sweep (same product).

    Raises
    ------
    ValueError
        If a gauge problem is degenerate (``M`` or ``N`` numerically singular).
    """
    ws = [np.array(w, dtype=float) for w in _checks.weight_list(weights)]
    xs, ys = _checks.data_pair(xs, ys, ws[0].shape[-2], ws[-1].shape[-1])
    ws, healthy = _sweep(ws, xs, ys)
    if not np.all(healthy):
        raise ValueError(
            "a gauge problem is singular (or numerically so): the data do not measure every direction of the "
            "factorization, and the minimum of R is not attained"
        )
    return ws


#: Singular values below this fraction of the largest are rounding error in :func:`compress`
#: (products of gauged layers carry relative errors of about 1e-14 in directions of rank zero).
RANK_RTOL = 1e-10


def _rank(sv: np.ndarray) -> int:
    return (
        0
        if sv.size == 0 or sv[0] == 0
        else int(np.sum(sv > RANK_RTOL * sv[0]))
    )


def _range_projector(A: np.ndarray, columns: bool) -> np.ndarray:
    """Orthogonal projector onto the column space (or the row space) of ``A``."""
    U, sv, Vt = np.linalg.svd(A, full_matrices=False)
    k = _rank(sv)
    B = U[:, :k] if columns else Vt[:k].T
    return B @ B.T


def compress(weights) -> list[np.ndarray]:
    """A width-``r`` factorization of the same matrix with no larger ``R``, for any data.

    Book: used in :doc:`/chapters/beyond`.

    With ``F_k = W_1 ... W_k`` and ``H_k = W_{k+1} ... W_L``, ``W_k`` maps the
    column space of ``H_k`` onto that of ``H_{k-1}``, so with ``Pi_k`` the
    orthogonal projector onto it, ``W_k Pi_k = Pi_{k-1} W_k Pi_k``; replacing
    every ``W_k`` by ``W_k Pi_k`` leaves every ``H_k`` unchanged and turns
    ``F_k`` into ``F_k Pi_k``, so that every ``||x^T F_k||`` can only shrink:

    .. math:: R(W_1 \\Pi_1, \\dots, W_L) \\le R(W_1, \\dots, W_L) .

    The same step from the other side (row spaces of ``F_k``), and the first
    once more, leave every hidden layer acting on an ``r``-dimensional
    subspace, ``r = rank(W_1 ... W_L)`` (singular values below
    :data:`RANK_RTOL` times the largest count as zero); in orthonormal bases ``Q_k`` of
    those subspaces the layers are ``Q_{k-1}^T W_k Q_k``, of width ``r``.

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]`` (no batch axis).

    Returns
    -------
    list of ndarray
        ``[C_1, ..., C_L]`` with hidden widths ``r`` and
        ``C_1 ... C_L = W_1 ... W_L`` (to rounding), and no larger ``R``
        (for every data set: each term of ``R`` can only decrease).

    Raises
    ------
    ValueError
        If the weights are invalid or their product is zero.

    Examples
    --------
    >>> import numpy as np
    >>> ws = [np.ones((2, 3)), np.ones((3, 3)), np.ones((3, 2))]  # rank one
    >>> [c.shape for c in compress(ws)]
    [(2, 1), (1, 1), (1, 2)]
    """
    ws = [np.array(w, dtype=float) for w in _checks.weight_list(weights)]
    if ws[0].ndim != 2:
        raise ValueError(
            "compress takes a single network: weights must be 2-dimensional matrices"
        )
    L = len(ws)

    def column_step(ws):
        # W_k -> W_k Pi_k with Pi_k onto the column space of H_k (k = 1..L-1)
        H = ws[-1]
        out = list(ws)
        for k in range(L - 1, 0, -1):  # H is H_k = W_{k+1} ... W_L
            out[k - 1] = ws[k - 1] @ _range_projector(H, columns=True)
            H = ws[k - 1] @ H
        return out

    def row_step(ws):
        # W_{k+1} -> Pi'_k W_{k+1} with Pi'_k onto the row space of F_k
        F = ws[0]
        out = list(ws)
        for k in range(1, L):  # F is F_k = W_1 ... W_k
            out[k] = _range_projector(F, columns=False) @ ws[k]
            F = F @ ws[k]
        return out

    r = _rank(np.linalg.svd(reduce(np.matmul, ws), compute_uv=False))
    if r == 0:
        raise ValueError(
            "the product W_1 ... W_L is zero: nothing to compress"
        )
    ws = column_step(row_step(column_step(ws)))
    H = ws[-1]
    bases = [None] * (L - 1)
    for k in range(
        L - 1, 0, -1
    ):  # orthonormal bases of the column spaces of H_k
        bases[k - 1] = np.linalg.svd(H, full_matrices=False)[0][:, :r]
        H = ws[k - 1] @ H
    Q = [np.eye(ws[0].shape[0]), *bases, np.eye(ws[-1].shape[1])]
    return [Q[l].T @ ws[l] @ Q[l + 1] for l in range(L)]


def _core_starts(
    W, xs, ys, r: int, L: int, starts: int, rng
) -> list[np.ndarray]:
    """Stacked width-r factorizations of W: the nearest-Kronecker construction, then random gauges."""
    d0, dL = W.shape
    core = (d0, *[r] * (L - 1), dL)
    firsts = []
    kf = kronecker_factors(xs, ys)
    try:
        firsts.append(optimal_factorization(W, kf.X, kf.Y, core))
    except (
        ValueError
    ):  # singular or badly conditioned Kronecker factors: random starts only
        pass
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    root = s[:r] ** (1.0 / L)
    base = (
        [U[:, :r] * root]
        + [np.diag(root) for _ in range(L - 2)]
        + [root[:, None] * Vt[:r]]
    )
    out = [w[None] for w in firsts[0]] if firsts else None
    stack = []
    for _ in range(starts - len(firsts)):
        ws = [w.copy() for w in base]
        for k in range(L - 1):
            # a random gauge of condition number at most e^2: orthogonal x log-normal diagonal x orthogonal
            Q1, _ = np.linalg.qr(rng.standard_normal((r, r)))
            Q2, _ = np.linalg.qr(rng.standard_normal((r, r)))
            G = (
                np.exp(rng.standard_normal())
                * (Q1 * np.exp(np.clip(0.5 * rng.standard_normal(r), -1, 1)))
                @ Q2
            )
            ws[k] = ws[k] @ G
            ws[k + 1] = np.linalg.solve(G, ws[k + 1])
        stack.append(ws)
    layers = (
        [np.stack([ws[l] for ws in stack]) for l in range(L)]
        if stack
        else None
    )
    if out is None:
        return layers
    if layers is None:
        return out
    return [np.concatenate([a, b]) for a, b in zip(out, layers)]


def _validated(W, xs, ys, dims, starts, seed, tol, max_sweeps):
    d = _checks.dims_tuple(dims)
    W = _checks.finite_array(W, "W", ndim=2)
    if W.shape != (d[0], d[-1]):
        raise ValueError(
            f"W has shape {W.shape} but dims asks for (d_0, d_L) = ({d[0]}, {d[-1]})"
        )
    xs, ys = _checks.data_pair(xs, ys, d[0], d[-1])
    starts = _checks.integer(starts, "starts", 1)
    seed = _checks.integer(seed, "seed", 0)
    tol = _checks.positive(tol, "tol")
    max_sweeps = _checks.integer(max_sweeps, "max_sweeps", 1)
    M_x, M_y = depth_two_moments(xs, ys)
    for M, name in (
        (M_x, "M_x = sum_i ||y_i||^2 x_i x_i^T"),
        (M_y, "M_y = sum_i ||x_i||^2 y_i y_i^T"),
    ):
        _sym_roots(M, name)
    r = _checks.numerical_rank(np.linalg.svd(W, compute_uv=False), W.shape)
    for i, di in enumerate(d[1:-1], start=1):
        if di < r:
            raise ValueError(
                f"hidden width d_{i} = {di} is below rank(W) = {r}: no factorization with these widths exists"
            )
    return d, W, xs, ys, starts, seed, tol, max_sweeps, r


def _descend(W, xs, ys, r, L, starts, seed, tol, max_sweeps):
    """Sweep every start to convergence: (values per start, stacked core layers)."""
    ws = _core_starts(W, xs, ys, r, L, starts, np.random.default_rng(seed))
    values = _terms(ws, xs, ys)
    active = np.ones(values.shape[0], dtype=bool)
    for _ in range(max_sweeps):
        idx = np.flatnonzero(active)
        new, healthy = _sweep([w[idx] for w in ws], xs, ys)
        new_values = _terms(new, xs, ys)
        for l in range(L):
            ws[l][idx] = new[l]
        values[idx[~healthy]] = np.inf  # a degenerate start is dropped
        done = ~healthy | (values[idx] - new_values <= tol * values[idx])
        values[idx[healthy]] = new_values[healthy]
        active[idx[done]] = False
        if not active.any():
            break
    if not np.isfinite(values).any():
        raise ValueError(
            "every start met a singular gauge problem: the data do not measure every direction of the "
            "factorization (or W is numerically rank-deficient: round its rank first, dlnlib.convex.round_rank)"
        )
    active &= np.isfinite(values)
    if active.any():
        warnings.warn(
            f"min_regularizer: {int(active.sum())} of {values.size} starts did not converge to tol = {tol:g} "
            f"within {max_sweeps} sweeps; the returned value may be slightly too high",
            RuntimeWarning,
            stacklevel=3,
        )
    return values, ws


def fibre_minima(
    W,
    xs,
    ys,
    dims,
    *,
    starts: int = 8,
    seed: int = 0,
    tol: float = 1e-12,
    max_sweeps: int = 20_000,
) -> np.ndarray:
    """The end value of ``R`` from every start of :func:`min_regularizer`.

    Book: equation :eq:`bey-induced` in :doc:`/chapters/beyond`.

    The fibre of ``W`` is not convex, so different starts could end at
    different local minima; their spread says how far to trust the smallest.

    Parameters
    ----------
    W, xs, ys, dims, starts, seed, tol, max_sweeps
        As in :func:`min_regularizer`.

    Returns
    -------
    ndarray, shape (starts,)
        In the order of the starts (the first is the nearest-Kronecker
        construction when its factors are invertible). All zero for ``W = 0``.

    Raises
    ------
    ValueError
        As :func:`min_regularizer`.
    """
    d, W, xs, ys, starts, seed, tol, max_sweeps, r = _validated(
        W, xs, ys, dims, starts, seed, tol, max_sweeps
    )
    if r == 0:
        return np.zeros(starts)
    return _descend(W, xs, ys, r, len(d) - 1, starts, seed, tol, max_sweeps)[0]


def min_regularizer(
    W,
    xs,
    ys,
    dims,
    *,
    starts: int = 8,
    seed: int = 0,
    tol: float = 1e-12,
    max_sweeps: int = 20_000,
) -> tuple[float, list[np.ndarray]]:
    """The smallest ``R`` over all factorizations of ``W`` with widths ``dims``, for any data.

    Book: equation :eq:`bey-induced` in :doc:`/chapters/beyond`.

    .. math:: R^\\star(W) = \\min_{W_1 \\cdots W_L = W} \\sum_{i=1}^n \\sum_{l=1}^L
              \\|x_i^\\top W_1 \\cdots W_{l-1}\\|^2 \\, \\|W_{l+1} \\cdots W_L y_i\\|^2

    computed by exact gauge sweeps (:func:`gauge_sweep`, module docstring) on
    width-``r`` factorizations, ``r = rank W`` (wider layers never help,
    :func:`compress`), from ``starts`` starting
    points: the construction of :func:`dlnlib.construction.optimal_factorization`
    with the nearest Kronecker factors of the data (when they are invertible),
    and random gauges of the balanced factorization. Each start descends
    monotonically; the smallest end value is returned. The problem is not
    convex: the spread over starts is the measure of how global the answer is.
    Extra width ``d_l > r`` is padded with zero (inert) blocks.

    Parameters
    ----------
    W : array_like, shape (d_0, d_L)
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    dims : sequence of int
        ``(d_0, ..., d_L)``, ``L >= 2``, hidden widths at least ``rank W``.
    starts : int, optional
        Number of starting points (``>= 1``), run as one batch.
    seed : int, optional
        Seed of the random starts.
    tol : float, optional
        A start stops when a full sweep lowers its ``R`` by less than ``tol``
        relative.
    max_sweeps : int, optional
        Budget of sweeps; a start that has not met ``tol`` by then is reported
        with a :class:`RuntimeWarning`.

    Returns
    -------
    value : float
        ``R*(W)`` (the best start's value).
    weights : list of ndarray
        A factorization with widths ``dims`` attaining it:
        ``end_to_end(weights) == W`` to rounding.

    Raises
    ------
    ValueError
        If shapes disagree, an entry is not finite, a hidden width is below
        ``rank W``, or the data are degenerate: ``M_x = sum ||y_i||^2 x_i x_i^T``
        or ``M_y = sum ||x_i||^2 y_i y_i^T`` singular (a direction never
        measured), or a gauge problem singular.

    Examples
    --------
    >>> import numpy as np
    >>> from dlnlib.depth_two import depth_two_minimum
    >>> rng = np.random.default_rng(0)
    >>> xs, ys = rng.standard_normal((20, 3)), rng.standard_normal((20, 3))
    >>> W = rng.standard_normal((3, 2)) @ rng.standard_normal((2, 3))
    >>> value, ws = min_regularizer(W, xs, ys, (3, 4, 3))
    >>> bool(np.isclose(value, depth_two_minimum(W, xs, ys)))
    True
    """
    d, W, xs, ys, starts, seed, tol, max_sweeps, r = _validated(
        W, xs, ys, dims, starts, seed, tol, max_sweeps
    )
    L = len(d) - 1
    padded = [np.zeros((a, b)) for a, b in zip(d[:-1], d[1:])]
    if r == 0:
        return 0.0, padded
    values, ws = _descend(W, xs, ys, r, L, starts, seed, tol, max_sweeps)
    best = int(np.argmin(values))
    for l in range(L):
        core = ws[l][best]
        padded[l][: core.shape[0], : core.shape[1]] = core
    return float(values[best]), padded


def induced_gradient(W, xs, ys, dims, **kwargs) -> tuple[float, np.ndarray]:
    """Value and gradient of the induced regularizer ``R*(W)`` at a full-rank ``W``.

    Book: equation :eq:`bey-induced` in :doc:`/chapters/beyond`.

    By the envelope theorem the gradient of a minimum is the gradient of
    the minimized function at the minimizer, along any lift of the
    perturbation: with the optimal factorization ``W_1 ... W_L`` of
    :func:`min_regularizer` and ``H_1 = W_2 ... W_L`` (square and invertible
    when ``rank W = d_L``),

    .. math:: \\nabla_W R^\\star(W) = \\nabla_{W_1} R \\; H_1^{-\\top},

    since ``W + E = (W_1 + E H_1^{-1}) H_1``; when instead ``rank W = d_0``,
    ``F_{L-1} = W_1 ... W_{L-1}`` is invertible and the gradient is
    ``F_{L-1}^{-T} grad_{W_L} R``. At rank-deficient ``W`` the induced
    regularizer is not differentiable in the directions that raise the rank
    (as the nuclear norm is not), and no gradient is returned.

    Parameters
    ----------
    W : array_like, shape (d_0, d_L)
        Of full rank ``min(d_0, d_L)``.
    xs, ys, dims
        As in :func:`min_regularizer`.
    **kwargs
        Passed to :func:`min_regularizer` (``starts``, ``seed``, ``tol``, ...).

    Returns
    -------
    value : float
        ``R*(W)``.
    gradient : ndarray, shape (d_0, d_L)

    Raises
    ------
    ValueError
        As :func:`min_regularizer`, or if ``W`` is not of full rank.
    """
    from .regularizer import regularizer_gradient

    value, ws = min_regularizer(W, xs, ys, dims, **kwargs)
    W = np.asarray(W, dtype=float)
    d0, dL = W.shape
    r = _checks.numerical_rank(np.linalg.svd(W, compute_uv=False), W.shape)
    if r < min(d0, dL):
        raise ValueError(
            f"W has rank {r} < min(d_0, d_L) = {min(d0, dL)}: R* is not differentiable at rank-deficient matrices"
        )
    core = compress(ws)  # the width-r core: square invertible partial products
    grads = regularizer_gradient(core, xs, ys)
    if r == dL:
        H1 = reduce(np.matmul, core[1:])  # r x d_L = d_L x d_L
        return value, np.linalg.solve(H1, grads[0].T).T
    F = reduce(np.matmul, core[:-1])  # d_0 x r = d_0 x d_0
    return value, np.linalg.solve(F.T, grads[-1])
