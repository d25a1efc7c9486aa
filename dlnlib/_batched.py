"""The batched numerics of one gradient step (private to :mod:`dlnlib.training`).

Every chain of a run is a slice of stacked layers ``(C, d_{l-1}, d_l)``; the
data enter through the precomputed rows ``vec(x_i y_i^T)``, so that a step is
a few stacked matrix products for all chains at once (book chapter *Why label
noise follows R*, equation ``mech-step``).
"""

from __future__ import annotations

import numpy as np

from .regularizer import regularizer


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


def _step(ws, net, labels, batch_rows=None, lr_over_b=None):
    """One gradient step for all chains on the given labels; returns the residual before the step.

    ``ws`` is updated in place. With ``batch_rows`` (C, b) the loss uses those
    samples only (mean over the mini-batch).

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
