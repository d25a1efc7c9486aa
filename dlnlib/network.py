"""The deep linear network and its bilinear prediction.

An ``L``-layer deep linear network with widths ``d_0, ..., d_L`` stores the
matrices ``W_l`` of shape ``(d_{l-1}, d_l)`` and represents the end-to-end
matrix

.. math:: \\tilde W = W_1 W_2 \\cdots W_L \\in \\mathbb{R}^{d_0 \\times d_L}.

For a pair of vectors ``x`` (length ``d_0``) and ``y`` (length ``d_L``) it
predicts the scalar ``P(x, y) = x^T W~ y``.  Matrix sensing uses general
``x, y``; matrix completion uses standard unit vectors.

All functions accept weights with a common leading batch shape
``(..., d_{l-1}, d_l)``, so that several networks (chains of a training run)
can be evaluated in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import numpy as np

from . import _checks


def end_to_end(weights: Sequence[np.ndarray]) -> np.ndarray:
    """End-to-end matrix of a deep linear network.

    .. math:: \\tilde W = W_1 W_2 \\cdots W_L

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]`` with ``W_l`` of shape ``(..., d_{l-1}, d_l)`` and
        depth ``L >= 2``. A common leading batch shape is allowed.

    Returns
    -------
    ndarray, shape (..., d_0, d_L)

    Raises
    ------
    ValueError
        If ``L < 2``, if consecutive shapes do not chain, or if an entry is
        not finite.
    """
    ws = _checks.weight_list(weights)
    return reduce(np.matmul, ws)


def partial_products(weights: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The products to the left and to the right of every layer.

    For ``l = 1, ..., L`` this returns

    .. math:: A_l = W_1 \\cdots W_{l-1}, \\qquad B_l = W_{l+1} \\cdots W_L,

    with ``A_1 = I_{d_0}`` and ``B_L = I_{d_L}``, so that
    ``A_l W_l B_l = W~`` for every ``l``.

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]``, shapes ``(..., d_{l-1}, d_l)``, ``L >= 2``.

    Returns
    -------
    lefts : list of ndarray
        ``lefts[l-1] = A_l`` of shape ``(..., d_0, d_{l-1})``.
    rights : list of ndarray
        ``rights[l-1] = B_l`` of shape ``(..., d_l, d_L)``.

    Raises
    ------
    ValueError
        As :func:`end_to_end`.
    """
    ws = _checks.weight_list(weights)
    batch = ws[0].shape[:-2]
    d0, dL = ws[0].shape[-2], ws[-1].shape[-1]
    lefts = [np.broadcast_to(np.eye(d0), batch + (d0, d0))]
    for w in ws[:-1]:
        lefts.append(lefts[-1] @ w)
    rights = [np.broadcast_to(np.eye(dL), batch + (dL, dL))]
    for w in reversed(ws[1:]):
        rights.append(w @ rights[-1])
    rights.reverse()
    return lefts, rights


def predict(weights: Sequence[np.ndarray], xs, ys) -> np.ndarray:
    """Bilinear predictions of the network on ``n`` input pairs.

    .. math:: P(x_i, y_i) = x_i^\\top W_1 \\cdots W_L \\, y_i, \\qquad i = 1, \\dots, n

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]``, shapes ``(..., d_{l-1}, d_l)``, ``L >= 2``.
    xs : array_like, shape (n, d_0)
        The left vectors ``x_i`` as rows.
    ys : array_like, shape (n, d_L)
        The right vectors ``y_i`` as rows.

    Returns
    -------
    ndarray, shape (..., n)

    Raises
    ------
    ValueError
        If the weights are invalid (see :func:`end_to_end`), if ``xs`` and
        ``ys`` disagree in ``n`` or do not match ``d_0`` / ``d_L``, or if an
        entry is not finite.
    """
    W = end_to_end(weights)
    xs, ys = _checks.data_pair(xs, ys, W.shape[-2], W.shape[-1])
    return np.einsum("ni,...ij,nj->...n", xs, W, ys)


def layer_gradients(weights: Sequence[np.ndarray], x, y) -> list[np.ndarray]:
    """Gradient of one prediction ``P(x, y)`` with respect to each layer.

    Since ``P = x^T A_l W_l B_l y`` is linear in ``W_l``, its gradient is
    the outer product

    .. math:: \\nabla_{W_l} P(x, y) = (A_l^\\top x)(B_l y)^\\top
              = (x^\\top W_1 \\cdots W_{l-1})^\\top (W_{l+1} \\cdots W_L y)^\\top,

    so that ``||grad_{W_l} P||_F = ||x^T W_1...W_{l-1}||_2 ||W_{l+1}...W_L y||_2``.

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]``, shapes ``(d_{l-1}, d_l)`` (no batch axis), ``L >= 2``.
    x : array_like, shape (d_0,)
    y : array_like, shape (d_L,)

    Returns
    -------
    list of ndarray
        ``grads[l-1]`` has the shape ``(d_{l-1}, d_l)`` of ``W_l``.

    Raises
    ------
    ValueError
        If the weights are invalid, carry a batch axis, or ``x``/``y`` have the
        wrong length or non-finite entries.
    """
    ws = _checks.weight_list(weights)
    if ws[0].ndim != 2:
        raise ValueError("layer_gradients takes a single network: weights must be 2-dimensional matrices")
    x = _checks.finite_array(x, "x", ndim=1)
    y = _checks.finite_array(y, "y", ndim=1)
    _checks.data_pair(x[None], y[None], ws[0].shape[0], ws[-1].shape[1])
    lefts, rights = partial_products(ws)
    return [np.outer(A.T @ x, B @ y) for A, B in zip(lefts, rights)]


def squared_loss(weights: Sequence[np.ndarray], xs, ys, targets) -> np.ndarray:
    """Half the summed squared error of the predictions.

    .. math:: \\ell(W_1, \\dots, W_L) = \\tfrac12 \\sum_{i=1}^n \\big(P(x_i, y_i) - t_i\\big)^2

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]``, shapes ``(..., d_{l-1}, d_l)``, ``L >= 2``.
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    targets : array_like, shape (n,)

    Returns
    -------
    ndarray, shape (...)
        A scalar (0-d array) for a single network.

    Raises
    ------
    ValueError
        As :func:`predict`, or if ``targets`` is not a finite vector of length ``n``.
    """
    P = predict(weights, xs, ys)
    t = _checks.finite_array(targets, "targets", ndim=1)
    if t.shape[0] != P.shape[-1]:
        raise ValueError(f"targets has length {t.shape[0]} but there are n = {P.shape[-1]} samples")
    return 0.5 * np.sum((P - t) ** 2, axis=-1)
