"""The label-noise regularizer ``R`` and its form under the Kronecker assumption.

Label-noise gradient descent on the squared loss is driven, near the set of
interpolating solutions, towards small values of

.. math:: R(W_1, \\dots, W_L) = \\sum_{i=1}^n \\sum_{l=1}^L
          \\|\\nabla_{W_l} P(x_i, y_i)\\|_F^2
          = \\sum_{i=1}^n \\sum_{l=1}^L \\|x_i^\\top A_l\\|_2^2 \\, \\|B_l y_i\\|_2^2,

with ``A_l = W_1...W_{l-1}`` and ``B_l = W_{l+1}...W_L``
(see :func:`dlnlib.network.partial_products`).  When the data satisfy
``sum_i (x_i x_i^T) kron (y_i y_i^T) = (X^T X) kron (Y Y^T)`` the sum over
samples collapses to Frobenius norms, :func:`regularizer_kron`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _checks
from .network import partial_products


def regularizer_terms(weights: Sequence[np.ndarray], xs, ys) -> np.ndarray:
    """The ``L`` per-layer terms of :func:`regularizer`.

    Book: equation :eq:`setup-Rsplit` in :doc:`/chapters/setup`.

    .. math:: R_l = \\sum_{i=1}^n \\|x_i^\\top W_1 \\cdots W_{l-1}\\|_2^2 \\,
                   \\|W_{l+1} \\cdots W_L y_i\\|_2^2

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]``, shapes ``(..., d_{l-1}, d_l)``, ``L >= 2``.
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    ndarray, shape (..., L)

    Raises
    ------
    ValueError
        If the weights or data are invalid (shapes, depth, non-finite entries).
    """
    lefts, rights = partial_products(weights)
    xs, ys = _checks.data_pair(xs, ys, lefts[0].shape[-1], rights[0].shape[-1])
    terms = []
    for A, B in zip(lefts, rights):
        left_sq = np.sum(
            (xs @ A) ** 2, axis=-1
        )  # ||x_i^T A_l||^2, shape (..., n)
        right_sq = np.sum(
            (ys @ np.swapaxes(B, -1, -2)) ** 2, axis=-1
        )  # ||B_l y_i||^2
        terms.append(np.sum(left_sq * right_sq, axis=-1))
    return np.stack(terms, axis=-1)


def regularizer(weights: Sequence[np.ndarray], xs, ys) -> np.ndarray:
    """Label-noise regularizer computed from the data, with no assumption.

    Book: equation :eq:`setup-R` in :doc:`/chapters/setup`.

    .. math:: R(W_1, \\dots, W_L) = \\sum_{i=1}^n \\sum_{l=1}^L
              \\|\\nabla_{W_l} P(x_i, y_i)\\|_F^2

    Vectorized over the samples (no Python loop over ``i``).

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]``, shapes ``(..., d_{l-1}, d_l)``, ``L >= 2``.
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    ndarray, shape (...)
        A scalar (0-d array) for a single network.

    Raises
    ------
    ValueError
        If the weights or data are invalid (shapes, depth, non-finite entries).

    See Also
    --------
    regularizer_kron : the same quantity under the Kronecker assumption.
    """
    return regularizer_terms(weights, xs, ys).sum(axis=-1)


def regularizer_kron_terms(weights: Sequence[np.ndarray], X, Y) -> np.ndarray:
    """The ``L`` per-layer terms of :func:`regularizer_kron`.

    Book: equation :eq:`lb-terms` in :doc:`/chapters/lower_bound`.

    .. math:: \\|X W_1 \\cdots W_{l-1}\\|_F^2 \\, \\|W_{l+1} \\cdots W_L Y\\|_F^2,
              \\qquad l = 1, \\dots, L

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]``, shapes ``(..., d_{l-1}, d_l)``, ``L >= 2``.
    X : array_like, shape (d_0, d_0)
    Y : array_like, shape (d_L, d_L)

    Returns
    -------
    ndarray, shape (..., L)

    Raises
    ------
    ValueError
        If the weights are invalid, or ``X``/``Y`` are not finite square
        matrices matching ``d_0``/``d_L``.
    """
    lefts, rights = partial_products(weights)
    X = _checks.square_matrix(X, "X", lefts[0].shape[-1])
    Y = _checks.square_matrix(Y, "Y", rights[0].shape[-1])
    return np.stack(
        [
            np.sum((X @ A) ** 2, axis=(-2, -1))
            * np.sum((B @ Y) ** 2, axis=(-2, -1))
            for A, B in zip(lefts, rights)
        ],
        axis=-1,
    )


def regularizer_kron(weights: Sequence[np.ndarray], X, Y) -> np.ndarray:
    """Label-noise regularizer under the Kronecker assumption.

    Book: equation :eq:`asm-reduced` in :doc:`/chapters/assumption`.

    If ``sum_i (x_i x_i^T) kron (y_i y_i^T) = (X^T X) kron (Y Y^T)``, then

    .. math:: R(W_1, \\dots, W_L) = \\sum_{l=1}^L \\|X W_1 \\cdots W_{l-1}\\|_F^2
              \\, \\|W_{l+1} \\cdots W_L Y\\|_F^2 .

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]``, shapes ``(..., d_{l-1}, d_l)``, ``L >= 2``.
    X : array_like, shape (d_0, d_0)
    Y : array_like, shape (d_L, d_L)

    Returns
    -------
    ndarray, shape (...)

    Raises
    ------
    ValueError
        As :func:`regularizer_kron_terms`.
    """
    return regularizer_kron_terms(weights, X, Y).sum(axis=-1)


def regularizer_gradient(
    weights: Sequence[np.ndarray], xs, ys
) -> list[np.ndarray]:
    """Gradient of :func:`regularizer` with respect to every layer.

    Book: equation :eq:`drift-rate` in :doc:`/chapters/mechanism`.

    With ``a_{il} = ||x_i^T A_l||^2`` and ``b_{il} = ||B_l y_i||^2`` (so that
    ``R = sum_{i,l} a_{il} b_{il}``, equation ``setup-Rsplit``) and the
    products ``W_{k+1:m} = W_{k+1} ... W_m``,

    .. math:: \\nabla_{W_k} R = 2 \\sum_{l > k} A_k^\\top X^\\top D(b_l) X A_l \\,
              W_{k+1:l-1}^\\top + 2 \\sum_{l < k} W_{l+1:k-1}^\\top B_l Y^\\top D(a_l) Y B_k^\\top,

    where ``X``, ``Y`` hold the samples as rows and ``D(.)`` is diagonal.

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]``, shapes ``(d_{l-1}, d_l)`` (no batch axis).
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    list of ndarray
        ``grads[k-1]`` has the shape of ``W_k``.

    Raises
    ------
    ValueError
        If the weights carry a batch axis or the inputs are invalid.

    Examples
    --------
    >>> import numpy as np
    >>> xs, ys = np.array([[1.0]]), np.array([[1.0]])
    >>> # R(a, b) = b^2 + a^2 for the scalar network a * b
    >>> [g.item() for g in regularizer_gradient([np.array([[2.0]]), np.array([[3.0]])], xs, ys)]
    [4.0, 6.0]
    """
    ws = _checks.weight_list(weights)
    if ws[0].ndim != 2:
        raise ValueError(
            "regularizer_gradient takes a single network: weights must be 2-dimensional matrices"
        )
    lefts, rights = partial_products(ws)
    xs, ys = _checks.data_pair(xs, ys, lefts[0].shape[-1], rights[0].shape[-1])
    L = len(ws)
    xa = [xs @ A for A in lefts]  # rows x_i^T A_l
    yb = [ys @ B.T for B in rights]  # rows (B_l y_i)^T
    a = [np.sum(v**2, axis=1) for v in xa]
    b = [np.sum(v**2, axis=1) for v in yb]

    def between(k: int, m: int) -> np.ndarray:
        # W_{k+1} ... W_m in 0-based layer indices k+1..m-1 (identity when empty)
        out = np.eye(ws[k].shape[1])
        for w in ws[k + 1 : m]:
            out = out @ w
        return out

    grads = []
    for k in range(L):
        g = np.zeros_like(ws[k])
        for l in range(
            k + 1, L
        ):  # term l contains W_k inside A_l = A_k W_k W_{k+1:l-1}
            g += 2 * (xa[k] * b[l][:, None]).T @ xa[l] @ between(k, l).T
        for l in range(
            k
        ):  # term l contains W_k inside B_l = W_{l+1:k-1} W_k B_k
            g += 2 * between(l, k).T @ (yb[l] * a[l][:, None]).T @ yb[k]
        grads.append(g)
    return grads
