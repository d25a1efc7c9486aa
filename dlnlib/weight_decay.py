"""Weight decay on a deep linear network, and the penalty it induces on the end-to-end matrix.

Gradient descent with weight decay ``lambda`` minimizes

.. math:: \\ell(W_1, \\dots, W_L) + \\frac{\\lambda}{2} \\sum_{l=1}^L \\|W_l\\|_F^2 ,

and over all factorizations of one end-to-end matrix ``W~`` the penalty
``sum_l ||W_l||_F^2`` is smallest at the balanced ones, where it equals
``L sum_i sigma_i(W~)^{2/L}`` (AM-GM on the singular values): a Schatten-``2/L``
quasi-norm, which depends on the depth. Book: :doc:`/chapters/contrast`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks
from ._chains import _resolve
from .descent import (
    _check_residuals,
    _explosion_threshold,
    _gradient_steps,
    _Network,
    _starting_weights,
)
from .network import end_to_end

#: How often (in steps) weight_decay_gd measures its last update against tol.
_CHECK_EVERY = 1000

__all__ = [
    "WeightDecayRun",
    "schatten_penalty",
    "weight_decay_gd",
    "weight_decay_penalty",
]


def weight_decay_penalty(weights) -> np.ndarray:
    """The weight-decay penalty ``sum_l ||W_l||_F^2`` of a network.

    Book: equation :eq:`ib-wd-objective` in :doc:`/chapters/contrast`.

    Parameters
    ----------
    weights : sequence of ndarray
        ``[W_1, ..., W_L]``, each of shape ``(d_{l-1}, d_l)`` or stacked
        ``(C, d_{l-1}, d_l)``.

    Returns
    -------
    float or ndarray of shape (C,)

    Raises
    ------
    ValueError
        If the layers do not chain or hold non-finite entries.

    Examples
    --------
    >>> import numpy as np
    >>> float(weight_decay_penalty([np.eye(2), 2 * np.eye(2)]))
    10.0
    """
    ws = _checks.weight_list(weights)
    end_to_end(ws)  # checks that the shapes chain
    return sum(np.sum(w**2, axis=(-2, -1)) for w in ws)


def schatten_penalty(W, depth: int) -> float:
    """The least weight-decay penalty over depth-``L`` factorizations of ``W``.

    Book: equation :eq:`ib-schatten` in :doc:`/chapters/contrast`.

    .. math:: \\min_{W_1 \\cdots W_L = W} \\sum_{l=1}^L \\|W_l\\|_F^2
              = L \\sum_i \\sigma_i(W)^{2/L},

    attained by the balanced factorizations (every layer carrying
    ``Sigma^{1/L}``) when every hidden width is at least ``rank W``.
    Singular values below the numerical-rank threshold (numpy's rule,
    ``max(shape) * eps * sigma_1``) count as zero.

    Parameters
    ----------
    W : array_like, shape (d_0, d_L)
    depth : int
        ``L >= 1``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``W`` is not a finite 2-d array or ``depth < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> round(schatten_penalty(np.diag([4.0, 1.0]), 2), 12)  # 2 ||W||_*
    10.0
    """
    W = _checks.finite_array(W, "W", ndim=2)
    L = _checks.integer(depth, "depth", 1)
    s = np.linalg.svd(W, compute_uv=False)
    # singular values at rounding level are zeros: their root s^(2/L) would not be small
    s = s[: _checks.numerical_rank(s, W.shape)]
    return float(L * np.sum(s ** (2.0 / L)))


@dataclass(frozen=True)
class WeightDecayRun:
    """Result of :func:`weight_decay_gd` (the chain axis ``C`` is absent for one seed).

    Attributes
    ----------
    weights : list of ndarray
        Final layers, ``weights[l-1]`` of shape ``(C, d_{l-1}, d_l)``.
    end_to_end : ndarray, shape (C, d_0, d_L)
    loss : ndarray, shape (C,)
        ``(1/(2n)) sum_i (P(x_i, y_i) - t_i)^2`` at the end.
    objective : ndarray, shape (C,)
        ``loss + (decay / 2) sum_l ||W_l||_F^2`` at the end.
    stationarity : ndarray, shape (C,)
        Relative size of the last update, ``||step|| / ||weights||``: how far
        from a stationary point of the objective the run stopped.
    steps : int
        Steps taken (fewer than asked when every chain reached ``tol``).
    """

    weights: list
    end_to_end: np.ndarray
    loss: np.ndarray
    objective: np.ndarray
    stationarity: np.ndarray
    steps: int


def weight_decay_gd(
    xs,
    ys,
    targets,
    dims,
    *,
    lr: float,
    decay: float,
    steps: int,
    init_scale: float = 1.0,
    seeds=0,
    initial_weights=None,
    tol: float = 0.0,
) -> WeightDecayRun:
    """Full-batch gradient descent with weight decay on a deep linear network.

    Book: equation :eq:`ib-wd-objective` in :doc:`/chapters/contrast`.

    Every step updates all layers at once,

    .. math:: W_l \\leftarrow W_l - \\eta \\big(\\nabla_{W_l} \\ell + \\lambda W_l\\big),
              \\qquad \\ell = \\frac{1}{2n} \\sum_{i=1}^n (x_i^\\top W_1 \\cdots W_L y_i - t_i)^2,

    with ``eta = lr`` and ``lambda = decay``: gradient descent on
    ``ell + (lambda / 2) sum_l ||W_l||_F^2``.  The initialization and the
    chains are those of :func:`dlnlib.training.label_noise_sgd` (same seeds,
    same starting weights).

    Parameters
    ----------
    xs, ys, targets, dims
        As in :func:`dlnlib.training.label_noise_sgd`.
    lr : float
        Step size ``eta > 0``.
    decay : float
        Weight decay ``lambda >= 0`` (0 is plain gradient descent).
    steps : int
        Number of steps (``>= 1``).
    init_scale : float, optional
        Scale of the random initialization (:func:`dlnlib.descent.init_weights`).
    seeds : int or sequence of int, optional
        One chain per seed, stacked and run together.
    initial_weights : list of ndarray, optional
        Start from these layers instead (with or without a chain axis).
    tol : float, optional
        Stop early once the relative size of the last update is below
        ``tol`` for every chain (checked every 1000 steps); ``0`` (default)
        runs all ``steps``.

    Returns
    -------
    WeightDecayRun

    Raises
    ------
    ValueError
        For bad shapes, widths below ``min(d_0, d_L)``, non-finite data, a
        non-positive ``lr``, a negative ``decay`` or ``steps < 1``.
    dlnlib.descent.DivergenceError
        If the residuals become non-finite or explode (too large a step size).

    Examples
    --------
    >>> import numpy as np
    >>> xs = ys = np.eye(2)
    >>> run = weight_decay_gd(xs, ys, [1.0, 1.0], (2, 2, 2), lr=0.5, decay=0.1, steps=2000)
    >>> bool(run.stationarity < 1e-8)
    True
    """
    decay = _checks.positive(decay, "decay", allow_zero=True)
    tol = _checks.positive(tol, "tol", allow_zero=True)
    cfg = _resolve(
        xs,
        ys,
        targets,
        dims,
        lr,
        0.0,
        steps,
        init_scale,
        seeds,
        None,
        1.0,
        0,
        None,
    )
    if cfg.steps < 1:
        raise ValueError(f"steps must be >= 1, got {cfg.steps}")
    ws = _starting_weights(cfg, init_scale, initial_weights)
    shrink = cfg.lrs[:, None, None] * decay
    net = _Network(cfg.xs, cfg.ys, cfg.targets, cfg.lrs)
    explode = _explosion_threshold(cfg)
    step = 0

    def check(r, k):
        _check_residuals(
            r, explode, k, cfg, "gradient steps", function="weight_decay_gd"
        )

    while step < cfg.steps:
        block = min(_CHECK_EVERY, cfg.steps - step)
        _gradient_steps(ws, net, cfg.targets, block - 1, shrink, check, step)
        before = [w.copy() for w in ws]  # the last step's size decides tol
        last = step + block - 1
        _gradient_steps(ws, net, cfg.targets, 1, shrink, check, last)
        step += block
        moved = np.sqrt(
            sum(np.sum((w - b) ** 2, axis=(1, 2)) for w, b in zip(ws, before))
        )
        size = np.sqrt(sum(np.sum(w**2, axis=(1, 2)) for w in ws))
        stationarity = moved / np.maximum(size, 1e-300)
        if np.all(stationarity < tol):
            break
    W = end_to_end(ws)
    P = net.predictions(W.reshape(W.shape[0], -1))
    loss = 0.5 * np.mean((P - cfg.targets) ** 2, axis=-1)
    objective = loss + 0.5 * decay * weight_decay_penalty(ws)
    if not cfg.batched:
        ws, W, loss, objective, stationarity = (
            [w[0] for w in ws],
            W[0],
            loss[0],
            objective[0],
            stationarity[0],
        )
    return WeightDecayRun(ws, W, loss, objective, stationarity, step)
