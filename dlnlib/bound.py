"""The lower bound on the regularizer: a power of a weighted nuclear norm.

For every factorization ``W~ = W_1 ... W_L`` (``L >= 2``) and every pair of
matrices ``X``, ``Y``,

.. math:: \\sum_{l=1}^L \\|X W_1 \\cdots W_{l-1}\\|_F^2 \\, \\|W_{l+1} \\cdots W_L Y\\|_F^2
          \\;\\ge\\; L \\,(\\|X\\|_F \\|Y\\|_F)^{2/L} \\, \\|X \\tilde W Y\\|_*^{2 - 2/L},

by AM-GM over the ``L`` terms followed by ``||A||_F ||B||_F >= ||AB||_*``.
"""

from __future__ import annotations

import numpy as np

from . import _checks


def nuclear_norm(M) -> float:
    """Nuclear norm (trace norm, Schatten-1 norm) of a matrix.

    Book: equation :eq:`lb-frobnuc` in :doc:`/chapters/lower_bound`.

    .. math:: \\|M\\|_* = \\sum_k \\sigma_k(M)

    Parameters
    ----------
    M : array_like, shape (..., m, n)
        A matrix, or a stack of matrices.

    Returns
    -------
    float or ndarray, shape (...)

    Raises
    ------
    ValueError
        If ``M`` has fewer than 2 dimensions or non-finite entries.
    """
    M = _checks.finite_array(M, "M", min_ndim=2)
    s = np.linalg.svd(M, compute_uv=False).sum(axis=-1)
    return float(s) if s.ndim == 0 else s


def relative_distance(A, B) -> float:
    """Relative Frobenius distance of ``A`` (or of each matrix of a stack) to ``B``.

    Book: the distances of end points to references in
    :doc:`/chapters/experiments`, :doc:`/chapters/completion`,
    :doc:`/chapters/beyond` and :doc:`/chapters/contrast`.

    .. math:: \\frac{\\|A - B\\|_F}{\\|B\\|_F}

    Parameters
    ----------
    A : array_like, shape (..., m, n)
        A matrix, or a stack of matrices (one per chain).
    B : array_like, shape (m, n)
        The reference, nonzero.

    Returns
    -------
    float or ndarray, shape (...)

    Raises
    ------
    ValueError
        If an entry is not finite, the shapes do not match, or ``B = 0``.

    Examples
    --------
    >>> relative_distance(np.eye(2) * 1.5, np.eye(2))
    0.5
    >>> relative_distance(np.stack([np.eye(2), 2 * np.eye(2)]), np.eye(2))
    array([0., 1.])
    """
    A = _checks.finite_array(A, "A", min_ndim=2)
    B = _checks.finite_array(B, "B", ndim=2)
    if A.shape[-2:] != B.shape:
        raise ValueError(
            f"A has matrices of shape {A.shape[-2:]} but B has shape {B.shape}"
        )
    size = np.linalg.norm(B)
    if size == 0:
        raise ValueError("B is zero: a distance relative to it is undefined")
    d = np.linalg.norm(A - B, axis=(-2, -1)) / size
    return float(d) if d.ndim == 0 else d


def lower_bound(W, X, Y, depth: int) -> float:
    """Lower bound on the reduced regularizer over all depth-``L`` factorizations of ``W``.

    Book: equation :eq:`lb-bound` in :doc:`/chapters/lower_bound`.

    .. math:: L \\,(\\|X\\|_F \\|Y\\|_F)^{2/L} \\, \\|X W Y\\|_*^{2 - 2/L}

    Every factorization ``W = W_1 ... W_L`` has
    ``regularizer_kron(weights, X, Y) >= lower_bound(W, X, Y, L)``, for any
    ``X``, ``Y``. For invertible ``X``, ``Y`` and hidden widths at least
    ``rank W`` the bound is the minimum: it is attained by
    :func:`dlnlib.construction.optimal_factorization`.

    Parameters
    ----------
    W : array_like, shape (..., d_0, d_L)
        End-to-end matrix (a stack is allowed).
    X : array_like, shape (d_0, d_0)
    Y : array_like, shape (d_L, d_L)
    depth : int
        Number of layers ``L >= 2``.

    Returns
    -------
    float or ndarray, shape (...)

    Raises
    ------
    ValueError
        If ``depth < 2`` or is not an integer, if shapes do not match, or if an
        entry is not finite.
    """
    L = _checks.integer(depth, "depth L", 2)
    W = _checks.finite_array(W, "W", min_ndim=2)
    X = _checks.square_matrix(X, "X", W.shape[-2])
    Y = _checks.square_matrix(Y, "Y", W.shape[-1])
    scale = np.linalg.norm(X) * np.linalg.norm(Y)
    return L * scale ** (2.0 / L) * nuclear_norm(X @ W @ Y) ** (2.0 - 2.0 / L)
