"""Gradient descent on stacked chains of deep linear networks, shared by all the training runs.

Every chain of a run is a slice of stacked layers ``(C, d_{l-1}, d_l)``. This
module holds what label-noise SGD (:mod:`dlnlib.training`) and weight decay
(:mod:`dlnlib.weight_decay`) both do: where the chains start
(:func:`init_weights`), one gradient step for all chains at once (a few
stacked matrix products; the data enter through the precomputed rows
``vec(x_i y_i^T)``, book chapter *Why label noise follows R*, equation
``mech-step``), the loop of full-batch steps, and when a run has diverged
(:class:`DivergenceError`).
"""

from __future__ import annotations

import numpy as np

from . import _checks
from ._chains import _Config, _seed_list
from .regularizer import regularizer

__all__ = ["DivergenceError", "init_weights"]

#: A chain diverged once its squared residual exceeds this factor times that of the zero network.
_EXPLOSION = 1e12


class DivergenceError(FloatingPointError):
    """Training diverged: the weights or the residuals became non-finite or exploded."""


def _streams(
    seed: int,
) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent generators for the initialization, the label noise and the mini-batches."""
    init, noise, batch = np.random.SeedSequence(seed).spawn(3)
    return (
        np.random.default_rng(init),
        np.random.default_rng(noise),
        np.random.default_rng(batch),
    )


def init_weights(
    dims, init_scale: float = 1.0, seed: int = 0
) -> list[np.ndarray]:
    """The random initialization used by :func:`dlnlib.training.label_noise_sgd`.

    Book: used in :doc:`/chapters/experiments`.

    Layer ``W_l`` (shape ``(d_{l-1}, d_l)``) has i.i.d. entries

    .. math:: (W_l)_{jk} \\sim \\mathcal N\\Big(0, \\frac{s^{2/L}}{\\sqrt{d_{l-1} d_l}}\\Big),
              \\qquad s = \\text{init\\_scale},

    so that every entry of ``W~ = W_1 ... W_L`` has variance
    ``s^2 / sqrt(d_0 d_L)``: ``E ||W~||_F^2 = s^2 sqrt(d_0 d_L)``, and for a
    square network ``||W~||`` (operator norm) is of order ``2 s``. Every layer
    gets the same share ``s^{1/L}`` of the scale. ``init_scale = 1`` is the
    "large" initialization of the experiments; small values approach the
    regime of implicit low-rank bias from vanishing initialization.

    Parameters
    ----------
    dims : sequence of int
        ``(d_0, ..., d_L)``, ``L >= 2``.
    init_scale : float, optional
        ``s > 0`` above.
    seed : int, optional
        The chain's seed; the draws come from the first of three child
        streams of ``numpy.random.SeedSequence(seed)``.

    Returns
    -------
    list of ndarray
        ``[W_1, ..., W_L]``.

    Raises
    ------
    ValueError
        If ``dims`` is invalid or ``init_scale`` is not a positive finite number.
    """
    d = _checks.dims_tuple(dims)
    s = _checks.positive(init_scale, "init_scale")
    seeds, _ = _seed_list(seed)
    rng = _streams(seeds[0])[0]
    L = len(d) - 1
    return [
        rng.standard_normal((d[l], d[l + 1]))
        * (s ** (1.0 / L) / (d[l] * d[l + 1]) ** 0.25)
        for l in range(L)
    ]


def _diverged(
    step: int,
    chain_seeds,
    bad: np.ndarray,
    lrs: np.ndarray,
    phase: str,
    function: str = "label_noise_sgd",
) -> DivergenceError:
    chains = np.flatnonzero(bad)[:5]
    which = ", ".join(str(chain_seeds[c]) for c in chains)
    lr = float(np.max(lrs[chains])) if chains.size else float(np.max(lrs))
    return DivergenceError(
        f"{function} diverged at step {step} ({phase}) for seed(s) {which}: the residuals became "
        f"non-finite or exploded with lr = {lr:g}; try a smaller learning rate (e.g. lr = {lr / 4:g})"
    )


def _starting_weights(
    cfg: _Config, init_scale, initial_weights
) -> list[np.ndarray]:
    """The stacked layers ``(C, d_{l-1}, d_l)`` the chains start from."""
    d, C = cfg.dims, cfg.chains
    if initial_weights is None:
        return [
            np.stack(layer)
            for layer in zip(
                *(init_weights(d, init_scale, s) for s in cfg.seeds)
            )
        ]
    given = _checks.weight_list(initial_weights)
    if len(given) != len(d) - 1 or any(
        w.shape[-2:] != (d[l], d[l + 1]) for l, w in enumerate(given)
    ):
        raise ValueError(
            f"initial_weights have shapes {[w.shape for w in given]}, expected dims {d}"
        )
    if given[0].ndim == 2:
        return [np.repeat(w[None], C, axis=0) for w in given]
    if given[0].ndim == 3 and given[0].shape[0] == C:
        return [w.copy() for w in given]
    raise ValueError(
        f"initial_weights need no chain axis or a chain axis of length {C}"
    )


def _explosion_threshold(cfg: _Config) -> float:
    """Squared residual (summed over chains and samples) beyond which a run has diverged."""
    t, C = cfg.targets, cfg.chains
    return (
        _EXPLOSION * max(np.sum(t**2), 1e-300) * C
        + _EXPLOSION * float(np.max(cfg.sigmas) ** 2) * cfg.n * C
    )


def _check_residuals(
    r,
    explode: float,
    step: int,
    cfg: _Config,
    phase: str,
    active=None,
    function: str = "label_noise_sgd",
) -> None:
    """Raise :class:`DivergenceError` when the residuals ``r`` (C, b) are non-finite or exploded;
    its message names ``function``, the step, the phase and the seeds."""
    rr = r.ravel()
    if not (rr @ rr < explode):  # also catches NaN
        bad = ~(np.sum(r * r, axis=1) < explode / cfg.chains)
        if active is not None:
            bad = bad & active
        raise _diverged(step, cfg.seeds, bad, cfg.lrs, phase, function)


def _gradient_steps(
    ws, net, targets, count: int, shrink=None, check=None, first: int = 0
):
    """``count`` full-batch gradient steps on ``targets`` for all chains, in place.

    With ``shrink`` (``lr * decay`` per chain, shape (C, 1, 1)) each step also
    subtracts ``shrink * W_l`` from every layer, taken before the step: weight
    decay. ``check(r, k)`` sees the residuals ``r`` (C, n) of step ``k``,
    counted from ``first``.
    Returns the residuals of the last step (``None`` for ``count = 0``).
    """
    r = None
    for k in range(count):
        decayed = None if shrink is None else [w * shrink for w in ws]
        r = _step(ws, net, targets)
        if check is not None:
            check(r, first + k)
        if decayed is not None:
            for w, d in zip(ws, decayed):
                w -= d
    return r


class _Network:
    """Fast forward/backward for stacked chains; everything data-dependent is precomputed.

    The gradient is formed transposed, ``G^T = lr/n sum_i r_i y_i x_i^T`` of shape
    (C, d_L, d_0), so that every product in :func:`_step` is a plain
    (non-transposed) stacked matmul, the fast path of numpy's matmul.
    """

    def __init__(self, xs, ys, targets, lr):
        n, d0 = xs.shape
        dL = ys.shape[1]
        self.n, self.d0, self.dL = n, d0, dL
        self.targets = targets
        lr = np.asarray(lr, dtype=float)
        if lr.ndim and np.all(lr == lr.flat[0]):
            lr = lr.flat[0]
        # a common step size is folded into the data; per-chain step sizes scale each chain's gradient
        self.chain_lr = None if lr.ndim == 0 else lr[:, None]
        self.lr_over_n = (float(lr) if lr.ndim == 0 else 1.0) / n
        # rows vec(x_i y_i^T) (for predictions) and vec(y_i x_i^T) (for the transposed gradient)
        self.Z = (xs[:, :, None] * ys[:, None, :]).reshape(n, d0 * dL)
        self.Zt = (ys[:, :, None] * xs[:, None, :]).reshape(n, dL * d0)
        self.ZT = np.ascontiguousarray(self.Z.T)  # P = vec(W) @ Z^T
        self.Zt_lr = self.Zt * self.lr_over_n  # vec(lr * G^T) = r @ Zt_lr
        # Matrix completion: every x_i, y_i a standard unit vector, all entries distinct
        # -> a gather and a scatter instead of two matmuls.
        unit_x = np.all((xs == 0) | (xs == 1), axis=1) & (xs.sum(axis=1) == 1)
        unit_y = np.all((ys == 0) | (ys == 1), axis=1) & (ys.sum(axis=1) == 1)
        a, b = xs.argmax(axis=1), ys.argmax(axis=1)
        if unit_x.all() and unit_y.all() and len(np.unique(a * dL + b)) == n:
            self.entries, self.entries_t = a * dL + b, b * d0 + a
        else:
            self.entries = self.entries_t = None

    def predictions(self, Wflat):
        if self.entries is not None:
            return Wflat[:, self.entries]
        return Wflat @ self.ZT

    def scaled_gradient_t(self, r):
        """``lr * (1/n) sum_i r_i y_i x_i^T`` for every chain, shape (C, d_L, d_0)."""
        if self.entries is not None:
            Gt = np.zeros((r.shape[0], self.dL * self.d0))
            Gt[:, self.entries_t] = r * self.lr_over_n
        else:
            Gt = r @ self.Zt_lr
        if self.chain_lr is not None:
            Gt *= self.chain_lr
        return Gt.reshape(-1, self.dL, self.d0)


def _step(ws, net, labels, batch_rows=None, lr_over_b=None, scale=None):
    """One gradient step for all chains on the given labels; returns the residual before the step.

    ``ws`` is updated in place. With ``batch_rows`` (C, b) the loss uses those
    samples only (mean over the mini-batch). ``scale`` (a float) multiplies the
    step size of this step (the warm-up of :func:`dlnlib.training.label_noise_sgd`).

    With ``A_l = W_1 ... W_{l-1}``, ``B_l = W_{l+1} ... W_L`` and
    ``H_l = G^T A_l`` (so ``H_1 = G^T``, ``H_{l+1} = H_l W_l``), the scaled
    gradient of layer ``l`` is ``A_l^T G B_l^T = (B_l H_l)^T``, and ``H_L^T`` for
    the last layer: ``2L`` stacked matmuls per step, none transposed.
    """
    L = len(ws)
    suffix = [
        None
    ] * L  # suffix[l] = B_{l+1} = W_{l+2} ... W_L (0-based layers)
    suffix[L - 2] = ws[L - 1]
    for l in range(L - 3, -1, -1):
        suffix[l] = ws[l + 1] @ suffix[l + 1]
    W = ws[0] @ suffix[0]
    C = W.shape[0]
    Wflat = W.reshape(C, -1)
    if batch_rows is None:
        r = net.predictions(Wflat) - labels
        H = net.scaled_gradient_t(r)
    else:
        r = (net.Z[batch_rows] @ Wflat[:, :, None])[:, :, 0] - labels
        H = (
            (r[:, None, :] @ net.Zt[batch_rows])[:, 0, :] * lr_over_b
        ).reshape(C, net.dL, net.d0)
    if scale is not None:
        H = H * scale
    for l in range(L - 1):
        grad_t = suffix[l] @ H
        H = H @ ws[l]  # uses W_l before its update
        ws[l] -= np.swapaxes(grad_t, -1, -2)
    ws[L - 1] -= np.swapaxes(H, -1, -2)
    return r


def _measure(ws, net, xs, ys):
    """Loss on clean targets, end-to-end matrix, its singular values and R, for stacked chains."""
    W = ws[0]
    for w in ws[1:]:
        W = W @ w
    P = net.predictions(W.reshape(W.shape[0], -1))
    loss = 0.5 * np.mean((P - net.targets) ** 2, axis=-1)
    s = np.linalg.svd(W, compute_uv=False)
    return loss, W, s, regularizer(ws, xs, ys)
