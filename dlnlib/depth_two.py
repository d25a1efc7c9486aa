"""Depth two: the exact minimum of ``R`` for any data, no Kronecker assumption.

For ``L = 2`` each term of the regularizer holds one layer only,

.. math::
    R(W_1, W_2) &= \\sum_i \\|y_i\\|^2 \\|x_i^\\top W_1\\|^2
    + \\sum_i \\|x_i\\|^2 \\|W_2 y_i\\|^2 \\\\
    &= \\|M_x^{1/2} W_1\\|_F^2 + \\|W_2 M_y^{1/2}\\|_F^2,

with the weighted second moments

.. math:: M_x = \\sum_i \\|y_i\\|^2 x_i x_i^\\top, \\qquad
          M_y = \\sum_i \\|x_i\\|^2 y_i y_i^\\top .

AM-GM and ``||A||_F ||B||_F >= ||AB||_*`` then give, over all
``W_1 W_2 = W``, the minimum ``2 ||M_x^{1/2} W M_y^{1/2}||_*`` (the
bilinear-sensing result of Ding et al.), attained by the balanced factors of
the SVD of ``M_x^{1/2} W M_y^{1/2}`` (book chapter *The Kronecker
assumption*, equations ``asm-depth2-R`` and ``asm-depth2-min``).
"""

from __future__ import annotations

import numpy as np

from . import _checks

__all__ = ["depth_two_minimum", "depth_two_factorization", "depth_two_moments"]


def _psd_root(M: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric square root of a positive definite matrix and of its inverse."""
    evals, evecs = np.linalg.eigh((M + M.T) / 2)
    top = evals[-1]
    if top <= 0 or evals[0] <= top / _checks.MAX_CONDITION:
        cond = np.inf if evals[0] <= 0 else top / evals[0]
        raise ValueError(
            f"{name} is singular or badly conditioned (condition number {cond:.3g} > "
            f"{_checks.MAX_CONDITION:.0e}): some direction is never measured, so R does not "
            "depend on it and its minimum over factorizations is not attained"
        )
    root = np.sqrt(evals)
    return (evecs * root) @ evecs.T, (evecs / root) @ evecs.T


def depth_two_moments(xs, ys) -> tuple[np.ndarray, np.ndarray]:
    """The weighted second moments of the depth-two regularizer.

    Book: equation :eq:`asm-depth2-moments` in :doc:`/chapters/assumption`.

    .. math:: M_x = \\sum_i \\|y_i\\|^2 x_i x_i^\\top, \\qquad
              M_y = \\sum_i \\|x_i\\|^2 y_i y_i^\\top

    so that ``R(W_1, W_2) = ||M_x^{1/2} W_1||_F^2 + ||W_2 M_y^{1/2}||_F^2``
    (equation ``asm-depth2-R``). For matrix completion they are the
    diagonal matrices of row and column counts.

    Parameters
    ----------
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    M_x : ndarray, shape (d_0, d_0)
    M_y : ndarray, shape (d_L, d_L)

    Raises
    ------
    ValueError
        If the data are not finite 2-d arrays with the same number of rows.

    Examples
    --------
    >>> import numpy as np
    >>> xs, ys = np.eye(2)[[0, 1, 1]], np.eye(2)[[1, 0, 1]]
    >>> M_x, M_y = depth_two_moments(xs, ys)
    >>> np.diag(M_x), np.diag(M_y)   # rows seen 1, 2 times; columns 1, 2
    (array([1., 2.]), array([1., 2.]))
    """
    xs, ys = _checks.data_pair(xs, ys)
    wx = np.sum(ys**2, axis=1)
    wy = np.sum(xs**2, axis=1)
    return (xs * wx[:, None]).T @ xs, (ys * wy[:, None]).T @ ys


def _weighted_svd(W, xs, ys):
    W = _checks.finite_array(W, "W", ndim=2)
    xs, ys = _checks.data_pair(xs, ys, W.shape[0], W.shape[1])
    M_x, M_y = depth_two_moments(xs, ys)
    Rx, Rx_inv = _psd_root(M_x, "M_x = sum_i ||y_i||^2 x_i x_i^T")
    Ry, Ry_inv = _psd_root(M_y, "M_y = sum_i ||x_i||^2 y_i y_i^T")
    U, s, Vt = np.linalg.svd(Rx @ W @ Ry, full_matrices=False)
    return U, s, Vt, Rx_inv, Ry_inv


def depth_two_minimum(W, xs, ys) -> float:
    """Smallest ``R`` over all depth-two factorizations ``W = W_1 W_2``.

    Book: equation :eq:`asm-depth2-min` in :doc:`/chapters/assumption`.

    .. math:: \\min_{W_1 W_2 = W} R(W_1, W_2)
              = 2 \\, \\|M_x^{1/2} W M_y^{1/2}\\|_*

    for any data with positive definite ``M_x``, ``M_y``
    (:func:`depth_two_moments`), and any hidden width ``d_1 >= rank W``
    (book equation ``asm-depth2-min``). Under the Kronecker assumption it
    equals ``lower_bound(W, X, Y, 2)``.

    Parameters
    ----------
    W : array_like, shape (d_0, d_L)
        End-to-end matrix.
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If shapes disagree, an entry is not finite, or ``M_x`` or ``M_y``
        is singular or badly conditioned (condition number above ``1e10``):
        then some direction is never measured and the minimum is not
        attained.

    Examples
    --------
    >>> import numpy as np
    >>> xs, ys = np.eye(2)[[0, 0, 1, 1]], np.eye(2)[[0, 1, 0, 1]]
    >>> round(depth_two_minimum(np.eye(2), xs, ys), 12)  # full completion
    8.0
    """
    _, s, _, _, _ = _weighted_svd(W, xs, ys)
    return float(2 * s.sum())


def depth_two_factorization(W, xs, ys, width: int) -> list[np.ndarray]:
    """A depth-two factorization ``W = W_1 W_2`` that attains the minimum of ``R``.

    Book: equation :eq:`asm-depth2-min` in :doc:`/chapters/assumption`.

    With the compact SVD ``M_x^{1/2} W M_y^{1/2} = U Sigma V^T`` of rank ``r``,

    .. math:: W_1 = M_x^{-1/2} U \\Sigma^{1/2}, \\qquad
              W_2 = \\Sigma^{1/2} V^\\top M_y^{-1/2},

    padded with zero columns / rows to the hidden width ``d_1``. Then
    ``||M_x^{1/2} W_1||_F^2 = ||W_2 M_y^{1/2}||_F^2 = tr Sigma`` and
    ``R(W_1, W_2) = depth_two_minimum(W, xs, ys)`` (proof of the theorem
    ``asm-thm-depth2`` of the book).

    Parameters
    ----------
    W : array_like, shape (d_0, d_L)
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    width : int
        Hidden width ``d_1``, at least ``rank W``.

    Returns
    -------
    list of ndarray
        ``[W_1, W_2]`` of shapes ``(d_0, d_1)`` and ``(d_1, d_L)``.

    Raises
    ------
    ValueError
        As :func:`depth_two_minimum`, or if ``width`` is not an integer of
        at least ``rank W``.

    Examples
    --------
    >>> import numpy as np
    >>> xs, ys = np.eye(2)[[0, 0, 1, 1]], np.eye(2)[[0, 1, 0, 1]]
    >>> W1, W2 = depth_two_factorization(np.diag([4.0, 1.0]), xs, ys, 3)
    >>> W1.shape, W2.shape, bool(np.allclose(W1 @ W2, np.diag([4.0, 1.0])))
    ((2, 3), (3, 2), True)
    """
    width = _checks.integer(width, "width d_1", 1)
    U, s, Vt, Rx_inv, Ry_inv = _weighted_svd(W, xs, ys)
    r = _checks.numerical_rank(s, (U.shape[0], Vt.shape[1]))
    if width < r:
        raise ValueError(
            f"hidden width d_1 = {width} is below rank(W) = {r}: no factorization "
            "W = W_1 W_2 with this width exists"
        )
    root = np.sqrt(s[:r])
    W1 = np.zeros((U.shape[0], width))
    W2 = np.zeros((width, Vt.shape[1]))
    W1[:, :r] = Rx_inv @ (U[:, :r] * root)
    W2[:r] = (root[:, None] * Vt[:r]) @ Ry_inv
    return [W1, W2]
