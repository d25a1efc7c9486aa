"""Label-noise gradient descent on a deep linear network, one chain or many at once.

At every step the labels are perturbed with fresh Gaussian noise,
``t_i + noise_std * xi_i`` with ``xi_i ~ N(0, 1)``, and all layers take one
gradient step on the mean squared loss

.. math:: \\ell(W_1, \\dots, W_L) = \\frac{1}{2n} \\sum_{i=1}^n
          \\big(x_i^\\top W_1 \\cdots W_L \\, y_i - t_i - \\sigma \\xi_i\\big)^2 .

Near the set of interpolating solutions the noise drives the weights, on
average, down the label-noise regularizer ``R`` (:mod:`dlnlib.regularizer`);
``noise_std = 0`` is plain gradient descent, which stops wherever it first
interpolates.  After the noisy steps a noise-free phase brings the training
loss back to (near) zero, so the reported weights lie on the set of
interpolating solutions and can be compared with the convex optimum.

Several chains (seeds) run together: their weights are stacked on a leading
axis and every step is one set of numpy calls for all of them.  Each chain
draws its initialization, its label noise and its mini-batches from its own
generator, so a chain gives the same result alone or in a batch.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from . import _checks
from .regularizer import regularizer

__all__ = ["DivergenceError", "History", "TrainingRun", "init_weights", "label_noise_sgd"]

#: Label-noise entries drawn per block (the block length in steps adapts to chains x samples;
#: it does not change the numbers drawn, only the memory used).
_NOISE_ENTRIES = 1 << 19
#: A chain diverged once its squared residual exceeds this factor times that of the zero network.
_EXPLOSION = 1e12
#: A chain diverged once an entry of a layer exceeds this factor times the largest initial entry.
_WEIGHT_EXPLOSION = 1e8
#: The noise-free phase checks convergence every this many steps.
_FINAL_CHECK = 100


class DivergenceError(FloatingPointError):
    """Training diverged: the weights or the residuals became non-finite or exploded."""


@dataclass(frozen=True)
class History:
    """Quantities recorded during the noisy phase of a run.

    For a single chain the chain axis ``C`` is absent.

    Attributes
    ----------
    steps : ndarray of int, shape (T,)
        Step numbers of the records (0 is the initialization).
    loss : ndarray, shape (T, C)
        Training loss ``(1/(2n)) sum_i (P(x_i, y_i) - t_i)^2`` on the clean targets.
    nuclear_norm : ndarray, shape (T, C)
        ``||W~||_*`` of the end-to-end matrix.
    R : ndarray, shape (T, C)
        The label-noise regularizer :func:`dlnlib.regularizer` (no assumption on the data).
    singular_values : ndarray, shape (T, C, min(d_0, d_L))
        Singular values of ``W~`` in decreasing order.
    end_to_end : ndarray, shape (T, C, d_0, d_L)
        The end-to-end matrix itself, for any other measurement.
    weights : list of ndarray
        The layers at every record, ``weights[l-1]`` of shape ``(T, C, d_{l-1}, d_l)``.
    """

    steps: np.ndarray
    loss: np.ndarray
    nuclear_norm: np.ndarray
    R: np.ndarray
    singular_values: np.ndarray
    end_to_end: np.ndarray
    weights: list


@dataclass(frozen=True)
class TrainingRun:
    """Result of :func:`label_noise_sgd`.

    For a single chain (``seeds`` an integer) arrays carry no chain axis; for a
    sequence of ``C`` seeds every array below has a leading axis of length ``C``.

    Attributes
    ----------
    weights : list of ndarray
        Final ``[W_1, ..., W_L]``, after the noise-free phase; shapes ``(C, d_{l-1}, d_l)``.
    end_to_end : ndarray, shape (C, d_0, d_L)
        ``W_1 ... W_L`` of the final weights.
    loss : ndarray, shape (C,)
        Final training loss on the clean targets.
    nuclear_norm : ndarray, shape (C,)
        Final ``||W~||_*``.
    R : ndarray, shape (C,)
        Final value of the label-noise regularizer.
    converged : ndarray of bool, shape (C,)
        Whether the noise-free phase reached ``final_tol``.
    final_steps : ndarray of int, shape (C,)
        Noise-free steps each chain took.
    history : History
        Records of the noisy phase.
    seeds : int or tuple
        The seeds, as given.
    dims : tuple of int
        ``(d_0, ..., d_L)``.
    lr, noise_std : float or ndarray
        Step size and label-noise standard deviation (arrays of length ``C``
        when given per chain).
    steps : int
        Number of noisy steps.
    """

    weights: list
    end_to_end: np.ndarray
    loss: np.ndarray
    nuclear_norm: np.ndarray
    R: np.ndarray
    converged: np.ndarray
    final_steps: np.ndarray
    history: History
    seeds: object
    dims: tuple
    lr: object
    noise_std: object
    steps: int

    @property
    def batched(self) -> bool:
        """True when the run holds a chain axis (``seeds``, ``lr`` or ``noise_std`` was a sequence)."""
        return self.end_to_end.ndim == 3


def _seed_list(seeds) -> tuple[list[int], bool]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 0:
            raise ValueError(f"seeds must be nonnegative, got {seeds}")
        return [int(seeds)], False
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (Sequence, np.ndarray)):
        raise ValueError(f"seeds must be an integer or a sequence of integers, got {seeds!r}")
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"every seed must be a nonnegative integer, got {s!r}")
        out.append(int(s))
    if not out:
        raise ValueError("seeds is an empty sequence: no chain to run")
    return out, True


def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent generators for the initialization, the label noise and the mini-batches."""
    init, noise, batch = np.random.SeedSequence(seed).spawn(3)
    return np.random.default_rng(init), np.random.default_rng(noise), np.random.default_rng(batch)


def init_weights(dims, init_scale: float = 1.0, seed: int = 0) -> list[np.ndarray]:
    """The random initialization used by :func:`label_noise_sgd`.

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
        rng.standard_normal((d[l], d[l + 1])) * (s ** (1.0 / L) / (d[l] * d[l + 1]) ** 0.25) for l in range(L)
    ]


def _per_chain(value, name: str, allow_zero: bool) -> tuple[list[float], bool]:
    """A hyperparameter given once or per chain: (values, given as a sequence?)."""
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes)):
        values = [_checks.positive(v, f"{name}[{i}]", allow_zero) for i, v in enumerate(np.ravel(value))]
        if not values:
            raise ValueError(f"{name} is an empty sequence")
        return values, True
    return [_checks.positive(value, name, allow_zero)], False


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
    suffix = [None] * L  # suffix[l] = B_{l+1} = W_{l+2} ... W_L (0-based layers)
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
        H = ((r[:, None, :] @ net.Zt[batch_rows])[:, 0, :] * lr_over_b).reshape(C, net.dL, net.d0)
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


def _diverged(step: int, chain_seeds, bad: np.ndarray, lrs: np.ndarray, phase: str) -> DivergenceError:
    chains = np.flatnonzero(bad)[:5]
    which = ", ".join(str(chain_seeds[c]) for c in chains)
    lr = float(np.max(lrs[chains])) if chains.size else float(np.max(lrs))
    return DivergenceError(
        f"label_noise_sgd diverged at step {step} ({phase}) for seed(s) {which}: the residuals became "
        f"non-finite or exploded with lr = {lr:g}; try a smaller learning rate (e.g. lr = {lr / 4:g})"
    )


def label_noise_sgd(
    xs,
    ys,
    targets,
    dims,
    *,
    lr: float,
    noise_std: float,
    steps: int,
    init_scale: float = 1.0,
    seeds=0,
    record_every: int | None = None,
    final_tol: float = 1e-6,
    max_final_steps: int = 50_000,
    batch_size: int | None = None,
    initial_weights=None,
    progress: bool = True,
) -> TrainingRun:
    """Gradient descent with fresh Gaussian label noise on a deep linear network.

    Each of the ``steps`` noisy steps updates every layer by

    .. math:: W_l \\leftarrow W_l - \\eta \\, \\nabla_{W_l} \\frac{1}{2n} \\sum_{i=1}^n
              \\big(P(x_i, y_i) - t_i - \\sigma \\xi_i\\big)^2, \\\\
              \\xi_i \\sim \\mathcal N(0, 1) \\text{ fresh at every step},

    with ``eta = lr``, ``sigma = noise_std`` and ``P(x, y) = x^T W_1 ... W_L y``;
    the gradient of layer ``l`` is ``(1/n) A_l^T (sum_i r_i x_i y_i^T) B_l^T``
    with ``A_l = W_1...W_{l-1}``, ``B_l = W_{l+1}...W_L``.  Then a noise-free
    phase (plain gradient descent, same ``lr``) runs until the training loss is
    at most ``final_tol`` times the loss of the zero network, checked every 100
    steps, for at most ``max_final_steps`` steps.

    Parameters
    ----------
    xs : array_like, shape (n, d_0)
        Left measurement vectors as rows.
    ys : array_like, shape (n, d_L)
        Right measurement vectors as rows.
    targets : array_like, shape (n,)
        Clean targets ``t_i``.
    dims : sequence of int
        ``(d_0, ..., d_L)``, ``L >= 2``; every hidden width must be at least
        ``min(d_0, d_L)`` so that the network can represent any end-to-end
        matrix (a narrower network constrains the rank, which is a different problem).
    lr : float or sequence of float
        Step size ``eta > 0``, common or one per chain.
    noise_std : float or sequence of float
        Label-noise standard deviation ``sigma >= 0``, common or one per
        chain; 0 is plain gradient descent.
    steps : int
        Number of noisy steps (``>= 0``).
    init_scale : float, optional
        Scale of the random initialization, see :func:`init_weights`.
    seeds : int or sequence of int, optional
        One seed runs one chain; a sequence of ``C`` seeds runs ``C`` chains
        together, stacked on a leading axis (one numpy call per step and
        operation for all of them). Chain ``c`` draws its initialization,
        noise and mini-batches from ``SeedSequence(seeds[c])`` only, so it
        gives the same result alone or in any batch. When ``lr`` or
        ``noise_std`` is a sequence, the chains are its entries (a sequence of
        seeds must then have the same length; a single seed is shared, so the
        settings are compared on the same initialization and noise draws).
    record_every : int, optional
        Interval of the history records (default ``max(1, steps // 200)``).
        Records are taken at step 0, every ``record_every`` steps and at ``steps``.
    final_tol : float, optional
        Relative loss at which the noise-free phase stops (default ``1e-6``, a residual of about 0.1% of the targets).
    max_final_steps : int, optional
        Cap on the noise-free phase (default 50 000). A chain that does not
        reach ``final_tol`` is reported with ``converged = False`` and a
        :class:`RuntimeWarning`.
    batch_size : int, optional
        If given, each noisy step uses a fresh uniform mini-batch of this many
        distinct samples per chain (mean loss over the mini-batch) instead of
        the full batch. The noise-free phase always uses the full batch.
    initial_weights : list of ndarray, optional
        Start from these ``[W_1, ..., W_L]`` (with a leading chain axis of
        length ``C`` for several seeds, or without one to start every chain
        there) instead of :func:`init_weights`.
    progress : bool, optional
        Show a tqdm progress bar on stderr (default True).

    Returns
    -------
    TrainingRun
        Final weights and measurements, and the :class:`History` of the noisy phase.

    Raises
    ------
    ValueError
        If the data do not match ``dims`` (shapes, ``n``), contain non-finite
        entries, if a hidden width is below ``min(d_0, d_L)``, or if a
        hyperparameter is out of range.
    DivergenceError
        (a :class:`FloatingPointError`) if the residuals or weights become
        non-finite or explode; the message names the step and the seed and
        suggests a smaller learning rate.
    """
    d = _checks.dims_tuple(dims)
    d = _checks.dims_tuple(d, min_width=min(d[0], d[-1]), what=" = min(d_0, d_L): the network could not represent "
                           "every end-to-end matrix")
    xs, ys = _checks.data_pair(xs, ys, d[0], d[-1])
    t = _checks.finite_array(targets, "targets", ndim=1)
    n = xs.shape[0]
    if t.shape[0] != n:
        raise ValueError(f"targets has length {t.shape[0]} but there are n = {n} samples")
    lr_list, lr_seq = _per_chain(lr, "lr", allow_zero=False)
    sigma_list, sigma_seq = _per_chain(noise_std, "noise_std", allow_zero=True)
    steps = _checks.integer(steps, "steps", 0)
    _checks.positive(init_scale, "init_scale")
    max_final_steps = _checks.integer(max_final_steps, "max_final_steps", 0)
    final_tol = _checks.positive(final_tol, "final_tol")
    every = max(1, steps // 200) if record_every is None else _checks.integer(record_every, "record_every", 1)
    if batch_size is not None:
        batch_size = _checks.integer(batch_size, "batch_size", 1)
        if batch_size > n:
            raise ValueError(f"batch_size = {batch_size} exceeds the number of samples n = {n}")
        if batch_size == n:
            batch_size = None
    chain_seeds, seed_seq = _seed_list(seeds)
    lengths = {len(v) for v, is_seq in ((chain_seeds, seed_seq), (lr_list, lr_seq), (sigma_list, sigma_seq)) if is_seq}
    if len(lengths) > 1:
        raise ValueError(f"seeds, lr and noise_std given as sequences must have one length, got lengths {sorted(lengths)}")
    C = lengths.pop() if lengths else 1
    batched = seed_seq or lr_seq or sigma_seq
    chain_seeds = chain_seeds * C if not seed_seq else chain_seeds
    lrs = np.array(lr_list * C if not lr_seq else lr_list)
    sigmas = np.array(sigma_list * C if not sigma_seq else sigma_list)
    lr, sigma = (lrs if lr_seq else lrs[0]), (sigmas if sigma_seq else sigmas[0])
    L = len(d) - 1

    streams = [_streams(s) for s in chain_seeds]
    if initial_weights is None:
        ws = [np.stack(layer) for layer in zip(*(init_weights(d, init_scale, s) for s in chain_seeds))]
    else:
        given = _checks.weight_list(initial_weights)
        if len(given) != L or any(w.shape[-2:] != (d[l], d[l + 1]) for l, w in enumerate(given)):
            raise ValueError(f"initial_weights have shapes {[w.shape for w in given]}, expected dims {d}")
        if given[0].ndim == 2:
            ws = [np.repeat(w[None], C, axis=0) for w in given]
        elif given[0].ndim == 3 and given[0].shape[0] == C:
            ws = [w.copy() for w in given]
        else:
            raise ValueError(f"initial_weights need no chain axis or a chain axis of length {C}")

    net = _Network(xs, ys, t, lrs)
    zero_loss = 0.5 * np.mean(t**2)
    explode = _EXPLOSION * max(np.sum(t**2), 1e-300) * C + _EXPLOSION * float(np.max(sigmas) ** 2) * n * C

    rec_steps, rec = [], []

    # weights exploding while the residuals stay moderate (growing imbalance between layers)
    weight_limit = _WEIGHT_EXPLOSION * max(1.0, max(float(np.max(np.abs(w))) for w in ws))

    def record(step):
        # not finite, or exploded: (max |entry| < limit) is False for NaN as well
        bad = ~np.all([np.max(np.abs(w), axis=(-2, -1)) < weight_limit for w in ws], axis=0)
        if bad.any():
            raise _diverged(step, chain_seeds, bad, lrs, "noisy phase")
        rec_steps.append(step)
        rec.append(_measure(ws, net, xs, ys) + tuple(w.copy() for w in ws))

    bar = None
    if progress:
        from tqdm import tqdm  # plain text on stderr: no widget dependency, removed from the rendered book

        bar = tqdm(total=steps, desc=f"label-noise SGD ({C} chain{'s' if C > 1 else ''})", leave=False)

    with np.errstate(over="ignore", invalid="ignore"):
        record(0)
        def draw(block):
            """Labels (block, C, n) for the next ``block`` steps, or (labels, rows) with mini-batches."""
            if batch_size is None:
                noise = np.stack([g[1].standard_normal((block, n)) for g in streams], axis=1)
                return t + sigmas[:, None] * noise, None
            rows = np.stack([np.argsort(g[2].random((block, n)), axis=1)[:, :batch_size] for g in streams], axis=1)
            noise = np.stack([g[1].standard_normal((block, batch_size)) for g in streams], axis=1)
            return t[rows] + sigmas[:, None] * noise, rows

        # The label noise of the next block is drawn in a background thread while this one trains
        # (numpy releases the GIL while it fills the arrays); each chain's stream is consumed in
        # order, so the numbers are those of a sequential draw.
        lr_over_b = None if batch_size is None else lrs[:, None] / batch_size
        block_len = max(16, _NOISE_ENTRIES // (C * (batch_size or n)))
        step = 0
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                pending = pool.submit(draw, min(block_len, steps)) if steps else None
                while step < steps:
                    block = min(block_len, steps - step)
                    labels, rows = pending.result()
                    if step + block < steps:
                        pending = pool.submit(draw, min(block_len, steps - step - block))
                    for k in range(block):
                        if rows is None:
                            r = _step(ws, net, labels[k])
                        else:
                            r = _step(ws, net, labels[k], rows[k], lr_over_b)
                        rr = r.ravel()
                        if not (rr @ rr < explode):  # also catches NaN
                            bad = ~(np.sum(r * r, axis=1) < explode / C)
                            raise _diverged(step + k, chain_seeds, bad, lrs, "noisy phase")
                        if (step + k + 1) % every == 0 or step + k + 1 == steps:
                            record(step + k + 1)
                    step += block
                    if bar is not None:
                        bar.update(block)
        finally:
            if bar is not None:
                bar.close()

        # noise-free phase: full-batch gradient descent until the loss is back to ~0
        active = np.ones(C, dtype=bool)
        final_steps = np.zeros(C, dtype=int)
        clean = np.broadcast_to(t, (C, n))
        done = 0
        while active.any() and done < max_final_steps:
            saved = [w[~active].copy() for w in ws]
            chunk = min(_FINAL_CHECK, max_final_steps - done)
            for k in range(chunk):
                r = _step(ws, net, clean)
            for w, s in zip(ws, saved):  # converged chains stay where they were
                w[~active] = s
            rr = r.ravel()
            if not (rr @ rr < explode):
                bad = ~(np.sum(r * r, axis=1) < explode / C)
                raise _diverged(steps + done + chunk, chain_seeds, bad & active, lrs, "noise-free phase")
            done += chunk
            final_steps[active] += chunk
            loss = _measure(ws, net, xs, ys)[0]
            active &= ~(loss <= final_tol * zero_loss)

    loss, W, s, R = _measure(ws, net, xs, ys)
    converged = loss <= final_tol * zero_loss
    if not np.all(converged):
        warnings.warn(
            f"the noise-free phase did not reach final_tol = {final_tol:g} within {max_final_steps} steps for "
            f"seed(s) {[chain_seeds[c] for c in np.flatnonzero(~converged)]}; relative loss "
            f"{np.max(loss) / zero_loss:.3g}",
            RuntimeWarning,
            stacklevel=2,
        )

    def unbatch(a):
        return a if batched else a[0]

    def hist(i):
        a = np.stack([r[i] for r in rec])
        return a if batched else a[:, 0]

    history = History(
        steps=np.array(rec_steps),
        loss=hist(0),
        nuclear_norm=np.stack([r[2].sum(axis=-1) for r in rec]) if batched else np.array([r[2][0].sum() for r in rec]),
        R=hist(3),
        singular_values=hist(2),
        end_to_end=hist(1),
        weights=[hist(4 + l) for l in range(L)],
    )
    return TrainingRun(
        weights=[unbatch(w) for w in ws],
        end_to_end=unbatch(W),
        loss=unbatch(loss),
        nuclear_norm=unbatch(s.sum(axis=-1)),
        R=unbatch(R),
        converged=unbatch(converged),
        final_steps=unbatch(final_steps),
        history=history,
        seeds=tuple(chain_seeds) if seed_seq else chain_seeds[0],
        dims=d,
        lr=lr,
        noise_std=sigma,
        steps=steps,
    )
