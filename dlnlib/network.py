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

    Book: equation :eq:`setup-dln` in :doc:`/chapters/setup`.

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


def partial_products(
    weights: Sequence[np.ndarray],
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The products to the left and to the right of every layer.

    Book: equation :eq:`setup-grad` in :doc:`/chapters/setup`.

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

    Book: equation :eq:`setup-P` in :doc:`/chapters/setup`.

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

    Book: equation :eq:`setup-grad` in :doc:`/chapters/setup`.

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
        raise ValueError(
            "layer_gradients takes a single network: weights must be 2-dimensional matrices"
        )
    x = _checks.finite_array(x, "x", ndim=1)
    y = _checks.finite_array(y, "y", ndim=1)
    _checks.data_pair(x[None], y[None], ws[0].shape[0], ws[-1].shape[1])
    lefts, rights = partial_products(ws)
    return [np.outer(A.T @ x, B @ y) for A, B in zip(lefts, rights)]


def squared_loss(weights: Sequence[np.ndarray], xs, ys, targets) -> np.ndarray:
    """Half the summed squared error of the predictions.

    Book: equation :eq:`setup-hess` in :doc:`/chapters/setup`.

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
        raise ValueError(
            f"targets has length {t.shape[0]} but there are n = {P.shape[-1]} samples"
        )
    return 0.5 * np.sum((P - t) ** 2, axis=-1)


def flatten(weights: Sequence[np.ndarray]) -> np.ndarray:
    """All parameters ``theta`` of a network as one vector.

    Book: equation :eq:`mech-step` in :doc:`/chapters/mechanism`.

    The layers are concatenated in order, each flattened row-major:
    ``theta = (vec W_1, ..., vec W_L)``. :func:`unflatten` inverts it.

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]``, shapes ``(d_{l-1}, d_l)`` (no batch axis).

    Returns
    -------
    ndarray, shape (p,)
        ``p = sum_l d_{l-1} d_l``.

    Raises
    ------
    ValueError
        If the weights are invalid or carry a batch axis.
    """
    ws = _single(weights, "flatten")
    return np.concatenate([w.ravel() for w in ws])


def unflatten(theta, dims) -> list[np.ndarray]:
    """The layers ``[W_1, ..., W_L]`` of a parameter vector (inverse of :func:`flatten`).

    Book: equation :eq:`mech-step` in :doc:`/chapters/mechanism`.

    Parameters
    ----------
    theta : array_like, shape (p,) or (C, p)
        One parameter vector, or ``C`` of them stacked (a chain axis, as the
        stacked networks of :func:`predict` and :func:`squared_loss` take).
    dims : sequence of int
        ``(d_0, ..., d_L)``, ``L >= 2``, with ``p = sum_l d_{l-1} d_l``.

    Returns
    -------
    list of ndarray
        ``W_l`` of shape ``(d_{l-1}, d_l)``, or ``(C, d_{l-1}, d_l)``.

    Raises
    ------
    ValueError
        If ``dims`` is invalid or ``theta`` is not 1- or 2-dimensional, has
        the wrong length or non-finite entries.

    Examples
    --------
    >>> [w.shape for w in unflatten(np.zeros((5, 18)), (2, 3, 4))]
    [(5, 2, 3), (5, 3, 4)]
    """
    d = _checks.dims_tuple(dims)
    theta = _checks.finite_array(theta, "theta", min_ndim=1)
    if theta.ndim > 2:
        raise ValueError(
            f"theta must be a vector (p,) or a stack of them (C, p), got shape {theta.shape}"
        )
    sizes = [a * b for a, b in zip(d[:-1], d[1:])]
    if theta.shape[-1] != sum(sizes):
        raise ValueError(
            f"theta has {theta.shape[-1]} entries but dims {d} need {sum(sizes)}"
        )
    cuts = np.cumsum(sizes)[:-1]
    lead = theta.shape[:-1]
    return [
        part.reshape(*lead, a, b)
        for part, a, b in zip(np.split(theta, cuts, axis=-1), d[:-1], d[1:])
    ]


def _single(weights, what: str) -> list[np.ndarray]:
    ws = _checks.weight_list(weights)
    if ws[0].ndim != 2:
        raise ValueError(
            f"{what} takes a single network: weights must be 2-dimensional matrices"
        )
    return ws


def jacobian(weights: Sequence[np.ndarray], xs, ys) -> np.ndarray:
    """Jacobian of the predictions with respect to all parameters.

    Book: equation :eq:`mech-hessian` in :doc:`/chapters/mechanism`.

    Row ``i`` is ``grad_theta P(x_i, y_i)``, the layer gradients
    (:func:`layer_gradients`, equation ``setup-grad``) flattened as in
    :func:`flatten`:

    .. math:: J_{i\\cdot} = \\big(\\operatorname{vec}((A_1^\\top x_i)(B_1 y_i)^\\top), \\dots,
              \\operatorname{vec}((A_L^\\top x_i)(B_L y_i)^\\top)\\big).

    The Hessian of the mean squared loss at an interpolating point is
    ``J^T J / n`` (chapter *Why label noise follows R*).

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]``, shapes ``(d_{l-1}, d_l)`` (no batch axis).
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    ndarray, shape (n, p)

    Raises
    ------
    ValueError
        If the weights or the data are invalid.

    Examples
    --------
    >>> import numpy as np
    >>> ws = [np.eye(2), 2 * np.eye(2)]
    >>> jacobian(ws, np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    array([[0., 2., 0., 0., 0., 1., 0., 0.]])
    """
    ws = _single(weights, "jacobian")
    xs, ys = _checks.data_pair(xs, ys, ws[0].shape[0], ws[-1].shape[1])
    lefts, rights = partial_products(ws)
    blocks = [
        ((xs @ A)[:, :, None] * (ys @ B.T)[:, None, :]).reshape(
            xs.shape[0], -1
        )
        for A, B in zip(lefts, rights)
    ]
    return np.concatenate(blocks, axis=1)


def jacobian_derivative(
    weights: Sequence[np.ndarray], xs, ys, direction, coefficients
) -> np.ndarray:
    """Derivative of ``J^T c`` along a direction: ``sum_i c_i (Hessian of P_i) v``.

    Book: equation :eq:`mech-third` in :doc:`/chapters/mechanism`.

    With ``theta(s) = theta + s v``,

    .. math:: \\frac{d}{ds} \\sum_{i=1}^n c_i \\nabla_\\theta P_i(\\theta(s)) \\Big|_{s=0}
              = \\sum_{i=1}^n c_i \\, \\nabla^2_\\theta P_i \\, v .

    Computed exactly by carrying the derivative through the partial products
    (``dA_{l+1} = dA_l W_l + A_l V_l``, and likewise from the right).

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]`` (no batch axis).
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    direction : array_like, shape (p,)
        ``v``, flattened as in :func:`flatten`.
    coefficients : array_like, shape (n,)
        ``c``.

    Returns
    -------
    ndarray, shape (p,)

    Raises
    ------
    ValueError
        If any input has the wrong shape or non-finite entries.
    """
    ws = _single(weights, "jacobian_derivative")
    d = (ws[0].shape[0], *[w.shape[1] for w in ws])
    vs = unflatten(direction, d)
    xs, ys = _checks.data_pair(xs, ys, d[0], d[-1])
    c = _checks.finite_array(coefficients, "coefficients", ndim=1)
    if c.shape[0] != xs.shape[0]:
        raise ValueError(
            f"coefficients has length {c.shape[0]} but there are n = {xs.shape[0]} samples"
        )
    L = len(ws)
    lefts, rights = partial_products(ws)
    d_lefts = [np.zeros_like(lefts[0])]
    for l in range(L - 1):
        d_lefts.append(d_lefts[-1] @ ws[l] + lefts[l] @ vs[l])
    d_rights = [np.zeros_like(rights[-1])]
    for l in range(L - 1, 0, -1):
        d_rights.append(ws[l] @ d_rights[-1] + vs[l] @ rights[l])
    d_rights.reverse()
    K = (xs * c[:, None]).T @ ys  # sum_i c_i x_i y_i^T
    out = [
        dA.T @ K @ B.T + A.T @ K @ dB.T
        for A, B, dA, dB in zip(lefts, rights, d_lefts, d_rights)
    ]
    return np.concatenate([o.ravel() for o in out])


def random_weights(
    dims, rng: np.random.Generator, *, spread: float = 0.0
) -> list[np.ndarray]:
    """A random network: Gaussian layers with random overall scales.

    Book: used in :doc:`/chapters/construction`.

    .. math:: W_l = e^{\\,\\text{spread} \\cdot g_l} \\, Z_l / \\sqrt{d_{l-1}},
              \\qquad (Z_l)_{jk}, \\, g_l \\sim \\mathcal N(0, 1),

    so that products of layers stay of order one for ``spread = 0``, and
    ``spread > 0`` makes the layers unbalanced (one layer large, another
    small). For a random factorization of a *given* matrix use
    :func:`dlnlib.construction.random_factorization`.

    Parameters
    ----------
    dims : sequence of int
        ``(d_0, ..., d_L)``, ``L >= 2``.
    rng : numpy.random.Generator
    spread : float, optional
        Standard deviation of the log-scales (``>= 0``).

    Returns
    -------
    list of ndarray

    Raises
    ------
    ValueError
        If ``dims`` is invalid or ``spread`` is negative or not finite.

    Examples
    --------
    >>> import numpy as np
    >>> [w.shape for w in random_weights((3, 4, 2), np.random.default_rng(0))]
    [(3, 4), (4, 2)]
    """
    d = _checks.dims_tuple(dims)
    spread = float(_checks.finite_array(spread, "spread", ndim=0))
    if spread < 0:
        raise ValueError(f"spread must be nonnegative, got {spread!r}")
    return [
        np.exp(spread * rng.standard_normal())
        * rng.standard_normal((a, b))
        / np.sqrt(a)
        for a, b in zip(d[:-1], d[1:])
    ]
