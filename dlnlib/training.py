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

import dataclasses
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import _checks
from ._chains import _Config, _resolve, _seed_list
from .descent import (
    _check_residuals,
    _diverged,
    _explosion_threshold,
    _gradient_steps,
    _measure,
    _Network,
    _starting_weights,
    _step,
    _streams,
)

__all__ = [
    "History",
    "TrainingRun",
    "label_noise_sgd",
]

#: Label-noise entries drawn per block (the block length in steps adapts to chains x samples;
#: it does not change the numbers drawn, only the memory used).
_NOISE_ENTRIES = 1 << 19
#: A chain diverged once an entry of a layer exceeds this factor times the largest initial entry.
_WEIGHT_EXPLOSION = 1e8
#: The noise-free phase checks convergence every this many steps.
_FINAL_CHECK = 100
#: Largest number of Gauss-Newton steps that finish a chain gradient descent left short of final_tol.
_POLISH_STEPS = 20


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


# ---------------------------------------------------------------------------
# label_noise_sgd, in phases: resolve the arguments per chain, the noisy phase,
# the noise-free phase, and the packaging of the run
# ---------------------------------------------------------------------------


class _Record(NamedTuple):
    """One record of the noisy phase: the measurements of every chain at one step."""

    step: int
    loss: np.ndarray  # (C,)
    end_to_end: np.ndarray  # (C, d_0, d_L)
    singular_values: np.ndarray  # (C, min(d_0, d_L))
    R: np.ndarray  # (C,)
    weights: tuple  # copies of the layers, (C, d_{l-1}, d_l) each


class _Recorder:
    """Takes the records of the noisy phase, and stops a run whose layers explode."""

    def __init__(self, ws, net, cfg: _Config):
        self.ws, self.net, self.cfg = ws, net, cfg
        self.records: list[_Record] = []
        # weights exploding while the residuals stay moderate (growing imbalance between layers)
        self.weight_limit = _WEIGHT_EXPLOSION * max(
            1.0, max(float(np.max(np.abs(w))) for w in ws)
        )

    def __call__(self, step: int) -> None:
        ws = self.ws
        # not finite, or exploded: (max |entry| < limit) is False for NaN as well
        bad = ~np.all(
            [np.max(np.abs(w), axis=(-2, -1)) < self.weight_limit for w in ws],
            axis=0,
        )
        if bad.any():
            raise _diverged(
                step, self.cfg.seeds, bad, self.cfg.lrs, "noisy phase"
            )
        loss, W, s, R = _measure(ws, self.net, self.cfg.xs, self.cfg.ys)
        self.records.append(
            _Record(step, loss, W, s, R, tuple(w.copy() for w in ws))
        )


def _draw_labels(block: int, cfg: _Config, streams):
    """Noisy labels for the next ``block`` steps: (labels (block, C, n), None), or with
    mini-batches (labels (block, C, b), rows (block, C, b))."""
    t, n, b, sigmas = cfg.targets, cfg.n, cfg.batch_size, cfg.sigmas
    # antithetic pairs: chains 2k and 2k + 1 share a seed, so one draw of the first
    # serves both (the second's generators would repeat it), with opposite signs
    pairs = cfg.noise_signs is not None
    if pairs:
        sigmas, streams = sigmas * cfg.noise_signs, streams[::2]

    def per_chain(draws):  # (block, draws, ...) -> (block, C, ...)
        return np.repeat(draws, 2, axis=1) if pairs else draws

    if b is None:
        noise = np.stack(
            [g[1].standard_normal((block, n)) for g in streams], axis=1
        )
        return t + sigmas[:, None] * per_chain(noise), None
    rows = per_chain(
        np.stack(
            [
                np.argsort(g[2].random((block, n)), axis=1)[:, :b]
                for g in streams
            ],
            axis=1,
        )
    )
    noise = np.stack(
        [g[1].standard_normal((block, b)) for g in streams], axis=1
    )
    return t[rows] + sigmas[:, None] * per_chain(noise), rows


def _noisy_phase(
    ws,
    net,
    cfg: _Config,
    explode: float,
    record: _Recorder,
    bar,
    warmup: int = 0,
) -> None:
    """The ``cfg.steps`` noisy steps, updating ``ws`` in place and recording every ``cfg.every`` steps.

    Step ``k`` (0-based) of the first ``warmup`` steps takes ``(k + 1) / warmup`` of the step size.

    The label noise of the next block is drawn in a background thread while this one trains
    (numpy releases the GIL while it fills the arrays); each chain's stream is consumed in
    order, so the numbers are those of a sequential draw.
    """
    steps = cfg.steps
    streams = [_streams(s) for s in cfg.seeds]
    lr_over_b = (
        None if cfg.batch_size is None else cfg.lrs[:, None] / cfg.batch_size
    )
    block_len = max(
        16, _NOISE_ENTRIES // (cfg.chains * (cfg.batch_size or cfg.n))
    )
    step = 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = (
            pool.submit(_draw_labels, min(block_len, steps), cfg, streams)
            if steps
            else None
        )
        while step < steps:
            block = min(block_len, steps - step)
            labels, rows = pending.result()
            if step + block < steps:
                pending = pool.submit(
                    _draw_labels,
                    min(block_len, steps - step - block),
                    cfg,
                    streams,
                )
            for k in range(block):
                scale = (step + k + 1) / warmup if step + k < warmup else None
                if rows is None:
                    r = _step(ws, net, labels[k], scale=scale)
                else:
                    r = _step(
                        ws, net, labels[k], rows[k], lr_over_b, scale=scale
                    )
                _check_residuals(r, explode, step + k, cfg, "noisy phase")
                if (step + k + 1) % cfg.every == 0 or step + k + 1 == steps:
                    record(step + k + 1)
            step += block
            if bar is not None:
                bar.update(block)


def _noise_free_phase(
    ws, net, cfg: _Config, explode: float, zero_loss: float
) -> np.ndarray:
    """Full-batch gradient descent until each chain's loss is back to ~0; returns the steps per chain.

    Convergence is checked every ``_FINAL_CHECK`` steps; a converged chain keeps its weights.
    """
    C, n = cfg.chains, cfg.n
    active = np.ones(C, dtype=bool)
    final_steps = np.zeros(C, dtype=int)
    clean = np.broadcast_to(cfg.targets, (C, n))
    done = 0
    while active.any() and done < cfg.max_final_steps:
        saved = [w[~active].copy() for w in ws]
        chunk = min(_FINAL_CHECK, cfg.max_final_steps - done)
        r = _gradient_steps(ws, net, clean, chunk)
        for w, s in zip(ws, saved):  # converged chains stay where they were
            w[~active] = s
        _check_residuals(
            r,
            explode,
            cfg.steps + done + chunk,
            cfg,
            "noise-free phase",
            active,
        )
        done += chunk
        final_steps[active] += chunk
        loss = _measure(ws, net, cfg.xs, cfg.ys)[0]
        active &= ~(loss <= cfg.final_tol * zero_loss)
    return final_steps


def _polish(ws, cfg: _Config, zero_loss: float, loss: np.ndarray) -> None:
    """Gauss-Newton steps ``theta -= J^T (J J^T)^+ r`` for the chains gradient descent left short of ``final_tol``.

    Each step is the smallest parameter change that fits the linearized
    predictions exactly, so a chain lands on the interpolating set next to
    where gradient descent left it (a few steps; the loss falls quadratically).
    ``ws`` is updated in place.
    """
    from .network import flatten, jacobian, predict, unflatten

    for c in np.flatnonzero(loss > cfg.final_tol * zero_loss):
        layers = [w[c] for w in ws]
        for _ in range(_POLISH_STEPS):
            r = predict(layers, cfg.xs, cfg.ys) - cfg.targets
            if 0.5 * np.mean(r**2) <= cfg.final_tol * zero_loss:
                break
            J = jacobian(layers, cfg.xs, cfg.ys)
            step = J.T @ np.linalg.lstsq(J @ J.T, r, rcond=None)[0]
            layers = unflatten(flatten(layers) - step, cfg.dims)
        for w, layer in zip(ws, layers):
            w[c] = layer


def _history(records: list[_Record], batched: bool) -> History:
    """The records stacked on a leading time axis (the chain axis dropped for a single chain)."""

    def stack(values):
        a = np.stack(values)
        return a if batched else a[:, 0]

    if batched:
        nuclear = np.stack([r.singular_values.sum(axis=-1) for r in records])
    else:
        nuclear = np.array([r.singular_values[0].sum() for r in records])
    return History(
        steps=np.array([r.step for r in records]),
        loss=stack([r.loss for r in records]),
        nuclear_norm=nuclear,
        R=stack([r.R for r in records]),
        singular_values=stack([r.singular_values for r in records]),
        end_to_end=stack([r.end_to_end for r in records]),
        weights=[
            stack([r.weights[l] for r in records])
            for l in range(len(records[0].weights))
        ],
    )


def _package(
    ws,
    net,
    cfg: _Config,
    records: list[_Record],
    final_steps: np.ndarray,
    zero_loss: float,
) -> TrainingRun:
    """Measure the final weights, warn about chains that did not converge, and build the :class:`TrainingRun`."""
    loss, W, s, R = _measure(ws, net, cfg.xs, cfg.ys)
    converged = loss <= cfg.final_tol * zero_loss
    # max_final_steps = 0 asks for no noise-free phase: the caller knows the chains may not interpolate
    if not np.all(converged) and cfg.max_final_steps > 0:
        late = [cfg.seeds[c] for c in np.flatnonzero(~converged)]
        listed = ", ".join(map(str, late[:10])) + (
            f" and {len(late) - 10} more" if len(late) > 10 else ""
        )
        warnings.warn(
            f"the noise-free phase did not reach final_tol = {cfg.final_tol:g} within {cfg.max_final_steps} steps "
            f"for seed(s) [{listed}]; relative loss {np.max(loss) / zero_loss:.3g}",
            RuntimeWarning,
            stacklevel=3,  # the caller of label_noise_sgd
        )

    def unbatch(a):
        return a if cfg.batched else a[0]

    return TrainingRun(
        weights=[unbatch(w) for w in ws],
        end_to_end=unbatch(W),
        loss=unbatch(loss),
        nuclear_norm=unbatch(s.sum(axis=-1)),
        R=unbatch(R),
        converged=unbatch(converged),
        final_steps=unbatch(final_steps),
        history=_history(records, cfg.batched),
        seeds=tuple(cfg.seeds) if cfg.seed_seq else cfg.seeds[0],
        dims=cfg.dims,
        lr=cfg.lrs if cfg.lr_seq else cfg.lrs[0],
        noise_std=cfg.sigmas if cfg.sigma_seq else cfg.sigmas[0],
        steps=cfg.steps,
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
    polish: bool = False,
    warmup: int = 0,
    antithetic: bool = False,
) -> TrainingRun:
    """Gradient descent with fresh Gaussian label noise on a deep linear network.

    Book: equation :eq:`mech-step` in :doc:`/chapters/mechanism`.

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
        Scale of the random initialization, see :func:`dlnlib.descent.init_weights`.
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
        :class:`RuntimeWarning` (no warning for ``max_final_steps = 0``,
        which asks for no noise-free phase at all).
    batch_size : int, optional
        If given, each noisy step uses a fresh uniform mini-batch of this many
        distinct samples per chain (mean loss over the mini-batch) instead of
        the full batch. The noise-free phase always uses the full batch.
    initial_weights : list of ndarray, optional
        Start from these ``[W_1, ..., W_L]`` (with a leading chain axis of
        length ``C`` for several seeds, or without one to start every chain
        there) instead of :func:`dlnlib.descent.init_weights`.
    progress : bool, optional
        Show a tqdm progress bar on stderr (default True).
    polish : bool, optional
        Finish every chain that the noise-free phase leaves above
        ``final_tol`` with up to 20 Gauss-Newton steps
        ``theta -= J^T (J J^T)^+ r`` (:func:`dlnlib.network.jacobian`), the
        smallest change that fits the linearized predictions: deep networks
        that the noise has pushed along nearly flat directions converge
        slowly under gradient descent, and a polished chain reaches a far
        smaller residual without moving along the interpolating set
        (default False: plain gradient descent only).
    warmup : int, optional
        Number of warm-up steps ``K`` (default 0, none): the first ``K`` noisy
        steps take a step size rising linearly, ``eta (k + 1) / K`` at step
        ``k = 0, ..., K - 1``, and every later step takes ``eta``. A large
        initialization can sit where the loss is too sharp for ``eta`` (the
        first steps then diverge); the smaller first steps reach flatter ground.
        At most ``steps``.
    antithetic : bool, optional
        Run every seed as a pair of chains (antithetic variates; default
        False): chains ``2k`` and ``2k + 1`` both come from ``seeds[k]``
        (same initialization, same mini-batches) and the second takes the
        label noise of the first with the opposite sign, ``xi -> -xi``. The run
        then has ``C = 2 len(seeds)`` chains and always a chain axis, its
        ``seeds`` lists each seed twice, and ``lr`` or ``noise_std`` given
        as sequences need ``C`` entries. Each chain is still an exact
        label-noise chain, so means over chains are unbiased; a pair's mean
        cancels whatever is odd in the noise (the first-order fluctuation
        of a smooth measurement), which can shrink the spread of a mean
        over chains many times (:doc:`/chapters/mechanism`).

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
    dlnlib.descent.DivergenceError
        (a :class:`FloatingPointError`) if the residuals or weights become
        non-finite or explode; the message names the step and the seed and
        suggests a smaller learning rate.
    """
    if not isinstance(antithetic, (bool, np.bool_)):
        raise ValueError(
            f"antithetic must be True or False, got {antithetic!r}"
        )
    if antithetic:
        seeds = [s for s in _seed_list(seeds)[0] for _ in (0, 1)]
    cfg = _resolve(
        xs,
        ys,
        targets,
        dims,
        lr,
        noise_std,
        steps,
        init_scale,
        seeds,
        record_every,
        final_tol,
        max_final_steps,
        batch_size,
    )
    if antithetic:
        signs = np.tile([1.0, -1.0], cfg.chains // 2)
        cfg = dataclasses.replace(cfg, noise_signs=signs)
    # the warm-up is the first steps of the noisy phase
    warmup = _checks.integer(warmup, "warmup", 0, cfg.steps)
    ws = _starting_weights(cfg, init_scale, initial_weights)
    net = _Network(cfg.xs, cfg.ys, cfg.targets, cfg.lrs)
    zero_loss = 0.5 * np.mean(cfg.targets**2)
    explode = _explosion_threshold(cfg)
    record = _Recorder(ws, net, cfg)
    bar = None
    if progress:
        from tqdm import (
            tqdm,  # plain text on stderr: no widget dependency, removed from the rendered book
        )

        C = cfg.chains
        bar = tqdm(
            total=cfg.steps,
            desc=f"label-noise SGD ({C} chain{'s' if C > 1 else ''})",
            leave=False,
        )
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            record(0)
            _noisy_phase(ws, net, cfg, explode, record, bar, warmup)
        finally:
            if bar is not None:
                bar.close()
        final_steps = _noise_free_phase(ws, net, cfg, explode, zero_loss)
        if polish:
            _polish(ws, cfg, zero_loss, _measure(ws, net, cfg.xs, cfg.ys)[0])
    return _package(ws, net, cfg, record.records, final_steps, zero_loss)
