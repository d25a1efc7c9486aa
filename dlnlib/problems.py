"""Seeded test problems for the training runs: Gaussian sensing and matrix completion.

Both generators return a :class:`Problem`: the measurement vectors ``x_i``
(rows of ``xs``), ``y_i`` (rows of ``ys``), the targets

.. math:: t_i = x_i^\\top W_\\star \\, y_i, \\qquad i = 1, \\dots, n,

and the low-rank ground truth ``W_star`` that produced them.  The targets are
noise free, so ``W_star`` interpolates the data; whether it is the
minimum-nuclear-norm interpolant depends on the problem (for enough Gaussian
measurements it is, with high probability).

Every random draw goes through ``numpy.random.default_rng(seed)``: the same
arguments give the same problem, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks

__all__ = [
    "Problem",
    "completion_from_pattern",
    "gaussian_sensing",
    "matrix_completion",
]


@dataclass(frozen=True)
class Problem:
    """A bilinear regression problem ``t_i = x_i^T W_star y_i``.

    Attributes
    ----------
    xs : ndarray, shape (n, d_0)
        Left measurement vectors as rows.
    ys : ndarray, shape (n, d_L)
        Right measurement vectors as rows.
    targets : ndarray, shape (n,)
        ``targets[i] = xs[i] @ W_star @ ys[i]`` (no noise).
    W_star : ndarray, shape (d_0, d_L)
        The ground truth, of rank ``rank``.
    rank : int
        Rank of ``W_star``.
    kind : str
        ``"sensing"`` or ``"completion"``.
    seed : object
        The seed the problem was generated from.
    rows, cols : ndarray of int, shape (n,), or None
        For completion: the observed entry ``(rows[i], cols[i])`` of sample
        ``i`` (``xs[i] = e_rows[i]``, ``ys[i] = e_cols[i]``). ``None`` for sensing.
    counts : ndarray, shape (d_0, d_L), or None
        For completion: how many times each entry is observed (0 or 1 unless
        sampled with replacement); ``sum_i (x_i x_i^T) kron (y_i y_i^T) =
        diag(vec(counts))``. ``None`` for sensing.
    row_probs, col_probs : ndarray, or None
        For completion: the normalized sampling weights ``p`` (length
        ``d_0``) and ``q`` (length ``d_L``) of the product law
        ``P(a, b) proportional to p_a q_b`` (uniform when no weights were given).
        ``None`` for sensing.
    """

    xs: np.ndarray
    ys: np.ndarray
    targets: np.ndarray
    W_star: np.ndarray
    rank: int
    kind: str
    seed: object
    rows: np.ndarray | None = None
    cols: np.ndarray | None = None
    counts: np.ndarray | None = None
    row_probs: np.ndarray | None = None
    col_probs: np.ndarray | None = None

    def __post_init__(self):
        # frozen all the way down: the arrays of a problem are read-only
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def n(self) -> int:
        """Number of measurements."""
        return self.xs.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        """``(d_0, d_L)``, the shape of ``W_star``."""
        return self.W_star.shape


def _low_rank(
    rng: np.random.Generator, d0: int, dL: int, rank: int
) -> np.ndarray:
    U = rng.standard_normal((d0, rank))
    V = rng.standard_normal((dL, rank))
    return U @ V.T


def _sizes(n, d0, dL, rank) -> tuple[int, int, int, int]:
    n = _checks.integer(n, "n", 1)
    d0 = _checks.integer(d0, "d0", 1)
    dL = _checks.integer(dL, "dL", 1)
    rank = _checks.integer(rank, "rank", 1)
    if rank > min(d0, dL):
        raise ValueError(f"rank = {rank} exceeds min(d0, dL) = {min(d0, dL)}")
    return n, d0, dL, rank


def gaussian_sensing(
    n: int, d0: int, dL: int, rank: int, *, seed, scale: float = 1.0
) -> Problem:
    """Low-rank matrix sensing with Gaussian measurement vectors.

    Book: equation :eq:`setup-P` in :doc:`/chapters/setup`.

    Draws ``x_i ~ N(0, I_{d_0})``, ``y_i ~ N(0, I_{d_L})`` independently and a
    rank-``r`` ground truth ``W_star = U V^T`` (Gaussian ``U``, ``V``) rescaled
    so that ``||W_star||_* = scale``; the targets are

    .. math:: t_i = x_i^\\top W_\\star \\, y_i .

    Parameters
    ----------
    n : int
        Number of measurements, ``n >= 1``.
    d0, dL : int
        Shape of ``W_star`` (the network's input and output dimensions).
    rank : int
        Rank of ``W_star``, ``1 <= rank <= min(d0, dL)``.
    seed : int or numpy.random.SeedSequence
        Seed for ``numpy.random.default_rng``.
    scale : float, optional
        Nuclear norm of ``W_star`` (default 1).

    Returns
    -------
    Problem
        ``xs`` (n, d0), ``ys`` (n, dL), ``targets`` (n,), ``W_star`` (d0, dL),
        with ``kind="sensing"``.

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``rank > min(d0, dL)``, or
        ``scale`` is not a positive finite number.

    Examples
    --------
    >>> pb = gaussian_sensing(20, 4, 3, 1, seed=0)
    >>> pb.xs.shape, pb.ys.shape, pb.targets.shape, pb.W_star.shape
    ((20, 4), (20, 3), (20,), (4, 3))
    >>> fitted = np.einsum("ni,ij,nj->n", pb.xs, pb.W_star, pb.ys)
    >>> bool(np.allclose(fitted, pb.targets))
    True
    >>> round(float(np.linalg.svd(pb.W_star, compute_uv=False).sum()), 12)
    1.0
    """
    n, d0, dL, rank = _sizes(n, d0, dL, rank)
    scale = _scale(scale)
    rng = np.random.default_rng(seed)
    W = _low_rank(rng, d0, dL, rank)
    W *= scale / np.linalg.svd(W, compute_uv=False).sum()
    xs = rng.standard_normal((n, d0))
    ys = rng.standard_normal((n, dL))
    targets = np.einsum("ni,ij,nj->n", xs, W, ys)
    return Problem(
        xs=xs,
        ys=ys,
        targets=targets,
        W_star=W,
        rank=rank,
        kind="sensing",
        seed=seed,
    )


def _weights(w, size: int, name: str) -> np.ndarray:
    if w is None:
        return np.full(size, 1.0 / size)
    w = _checks.finite_array(w, name, ndim=1)
    if w.shape[0] != size:
        raise ValueError(f"{name} must have length {size}, got {w.shape[0]}")
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"{name} must be nonnegative with a positive sum")
    return w / w.sum()


def matrix_completion(
    n: int,
    d0: int,
    dL: int,
    rank: int,
    *,
    seed,
    row_weights=None,
    col_weights=None,
    replace: bool = False,
    scale: float = 1.0,
    cover: bool = False,
    connected: bool = False,
) -> Problem:
    """Low-rank matrix completion: observe ``n`` entries of a rank-``r`` matrix.

    Book: equation :eq:`setup-P` in :doc:`/chapters/setup`.

    The ground truth ``W_star = U V^T`` (Gaussian ``U``, ``V``) is rescaled so
    that its root-mean-square entry is ``scale``.  Sample ``i`` observes entry
    ``(a_i, b_i)``: ``x_i = e_{a_i}``, ``y_i = e_{b_i}`` and

    .. math:: t_i = e_{a_i}^\\top W_\\star e_{b_i} = (W_\\star)_{a_i b_i}.

    Entries are drawn with probability proportional to ``p_a q_b`` (the
    product law of ``row_weights`` and ``col_weights``; uniform when both are
    omitted). By default the ``n`` entries are distinct (drawn without
    replacement, successively with those probabilities); with
    ``replace=True`` they are i.i.d. draws and may repeat.  The data moment is
    ``sum_i (x_i x_i^T) kron (y_i y_i^T) = diag(vec(counts))``.

    With ``cover=True`` the sample is drawn again (the next draws of the same
    generator, so still deterministic in ``seed``) until every row and every
    column is observed at least once: a row or column without observations
    leaves the interpolating set unbounded in that direction, and the
    row/column moments singular. With ``connected=True`` (which implies
    ``cover``) it is drawn again until the observed entries also connect
    every row with every column (the bipartite graph with an edge ``a - b``
    per observed entry ``(a, b)`` is connected): then the matrix of counts is
    irreducible, its top singular vectors are positive (Perron-Frobenius), and
    the nearest Kronecker factors of the data moment
    (:func:`dlnlib.kronecker.kronecker_factors`) are invertible. A pattern
    that falls apart into blocks has singular nearest factors.

    Parameters
    ----------
    n : int
        Number of observations; at most the number of entries with positive
        probability when ``replace=False``.
    d0, dL : int
        Shape of the matrix.
    rank : int
        Rank of ``W_star``, ``1 <= rank <= min(d0, dL)``.
    seed : int or numpy.random.SeedSequence
        Seed for ``numpy.random.default_rng``.
    row_weights : array_like, shape (d0,), optional
        Nonnegative row weights ``p`` (normalized internally).
    col_weights : array_like, shape (dL,), optional
        Nonnegative column weights ``q`` (normalized internally).
    replace : bool, optional
        Sample with replacement (i.i.d. from the product law). Default False.
    scale : float, optional
        Root-mean-square entry of ``W_star`` (default 1).
    cover : bool, optional
        Redraw until every row and column is observed (default False).
    connected : bool, optional
        Redraw until the observed entries connect all rows and columns
        (default False); implies ``cover``.

    Returns
    -------
    Problem
        With ``kind="completion"``, ``rows``, ``cols``, ``counts`` (d0, dL),
        ``row_probs`` and ``col_probs`` filled in.

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``rank > min(d0, dL)``, the
        weights have the wrong length, negative entries or zero sum, ``n`` is
        larger than the number of entries that can be drawn without
        replacement, or ``scale`` is not a positive finite number; with
        ``cover=True``, if ``n < max(d0, dL)``, a row or column has weight
        zero, or 100 draws all leave a row or column unobserved; with
        ``connected=True``, if ``n < d0 + dL - 1`` or 100 draws all leave the
        pattern disconnected.

    Examples
    --------
    >>> pb = matrix_completion(12, 4, 4, 1, seed=0, cover=True)
    >>> int(pb.counts.sum()), bool(pb.counts.max() <= 1)
    (12, True)
    >>> seen_rows, seen_cols = pb.counts.sum(axis=1), pb.counts.sum(axis=0)
    >>> bool(seen_rows.min() > 0 and seen_cols.min() > 0)  # cover=True
    True
    >>> bool(np.allclose(pb.targets, pb.W_star[pb.rows, pb.cols]))
    True
    """
    n, d0, dL, rank = _sizes(n, d0, dL, rank)
    scale = _scale(scale)
    if connected and n < d0 + dL - 1:
        raise ValueError(
            f"connected=True needs n >= d0 + dL - 1 = {d0 + dL - 1} observations "
            f"to connect every row and column, got n = {n}"
        )
    cover = cover or connected
    p = _weights(row_weights, d0, "row_weights")
    q = _weights(col_weights, dL, "col_weights")
    probs = np.outer(p, q).ravel()
    available = int(np.count_nonzero(probs))
    if not replace and n > available:
        raise ValueError(
            f"cannot observe n = {n} distinct entries: only {available} of the {d0} x {dL} entries "
            "have positive sampling probability (use replace=True or a smaller n)"
        )
    if cover and n < max(d0, dL):
        raise ValueError(
            f"cover=True needs n >= max(d0, dL) = {max(d0, dL)} observations "
            f"to see every row and column, got n = {n}"
        )
    if cover and (np.any(p == 0) or np.any(q == 0)):
        raise ValueError(
            "cover=True needs a positive weight on every row and column"
        )
    rng = np.random.default_rng(seed)
    W = _completion_truth(rng, d0, dL, rank, scale)
    for _ in range(100 if cover else 1):
        flat = rng.choice(d0 * dL, size=n, replace=bool(replace), p=probs)
        rows, cols = np.divmod(flat, dL)
        seen = len(np.unique(rows)) == d0 and len(np.unique(cols)) == dL
        if not cover or (seen and not connected):
            return _observe(W, rows, cols, rank, seed, p, q)
        if seen and _pattern_connected(rows, cols, d0, dL):
            return _observe(W, rows, cols, rank, seed, p, q)
    if connected:
        raise ValueError(
            f"connected=True: 100 draws of n = {n} entries each left the rows and columns "
            "in more than one connected block; use more observations or flatter weights"
        )
    raise ValueError(
        f"cover=True: 100 draws of n = {n} entries each left a row or column "
        "of the matrix unobserved; use more observations or flatter weights"
    )


def _pattern_connected(rows, cols, d0: int, dL: int) -> bool:
    """Whether the bipartite graph of rows and columns, an edge per observed entry, is connected."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = np.ones(len(rows))
    graph = coo_matrix(
        (edges, (rows, d0 + np.asarray(cols))), shape=(d0 + dL,) * 2
    )
    return connected_components(graph, directed=False)[0] == 1


def completion_from_pattern(
    pattern, rank: int, *, seed, scale: float = 1.0
) -> Problem:
    """Matrix completion observing exactly the entries of a given pattern.

    Book: equation :eq:`setup-P` in :doc:`/chapters/setup`.

    For sampling patterns that are not drawn from a product law (a triangle,
    blocks, a band): the data moment ``diag(vec(pattern))`` is then far from a
    Kronecker product. The ground truth is drawn as in :func:`matrix_completion`
    (same seed, same shape and rank give the same ``W_star``); the samples are
    the nonzero entries of ``pattern`` in row-major order.

    Parameters
    ----------
    pattern : array_like of bool, shape (d0, dL)
        True where the entry is observed.
    rank : int
        Rank of ``W_star``, ``1 <= rank <= min(d0, dL)``.
    seed : int or numpy.random.SeedSequence
        Seed for ``numpy.random.default_rng``.
    scale : float, optional
        Root-mean-square entry of ``W_star`` (default 1).

    Returns
    -------
    Problem
        With ``kind="completion"``, ``counts = pattern`` as floats, and
        ``row_probs``/``col_probs`` the observed fraction per row and column
        (normalized).

    Raises
    ------
    ValueError
        If ``pattern`` is not a 2-d array of booleans (or 0/1), observes no
        entry, or ``rank`` is out of range.
    """
    mask = np.asarray(pattern)
    if mask.ndim != 2 or 0 in mask.shape:
        raise ValueError(
            f"pattern must be a nonempty 2-d boolean array, got shape {mask.shape}"
        )
    if mask.dtype != bool:
        if not np.all((mask == 0) | (mask == 1)):
            raise ValueError("pattern must hold booleans or 0/1 entries")
        mask = mask.astype(bool)
    if not mask.any():
        raise ValueError("pattern observes no entry")
    d0, dL = mask.shape
    _, d0, dL, rank = _sizes(1, d0, dL, rank)
    scale = _scale(scale)
    W = _completion_truth(np.random.default_rng(seed), d0, dL, rank, scale)
    rows, cols = np.nonzero(mask)
    return _observe(
        W,
        rows,
        cols,
        rank,
        seed,
        mask.sum(axis=1) / mask.sum(),
        mask.sum(axis=0) / mask.sum(),
    )


def _scale(scale) -> float:
    return _checks.positive(scale, "scale")


def _completion_truth(rng, d0, dL, rank, scale) -> np.ndarray:
    W = _low_rank(rng, d0, dL, rank)
    return W * (scale * np.sqrt(d0 * dL) / np.linalg.norm(W))


def _observe(W, rows, cols, rank, seed, p, q) -> Problem:
    d0, dL = W.shape
    xs = np.eye(d0)[rows]
    ys = np.eye(dL)[cols]
    counts = np.zeros((d0, dL))
    np.add.at(counts, (rows, cols), 1.0)
    return Problem(
        xs=xs,
        ys=ys,
        targets=W[rows, cols].copy(),
        W_star=W,
        rank=rank,
        kind="completion",
        seed=seed,
        rows=rows,
        cols=cols,
        counts=counts,
        row_probs=p,
        col_probs=q,
    )
