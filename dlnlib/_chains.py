"""Resolve the arguments of a training run to one entry per chain.

:func:`dlnlib.training.label_noise_sgd` and
:func:`dlnlib.weight_decay.weight_decay_gd` run several chains at once (one per
seed, learning rate or noise level). This private module checks their
arguments, in the order of the signature, and spreads every per-chain setting
over the chains, so that a bad argument is reported with its name before any
training starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _checks


def _seed_list(seeds) -> tuple[list[int], bool]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 0:
            raise ValueError(f"seeds must be nonnegative, got {seeds}")
        return [int(seeds)], False
    if isinstance(seeds, (str, bytes)) or not isinstance(
        seeds, (Sequence, np.ndarray)
    ):
        raise ValueError(
            f"seeds must be an integer or a sequence of integers, got {seeds!r}"
        )
    out = []
    for s in seeds:
        if (
            isinstance(s, bool)
            or not isinstance(s, (int, np.integer))
            or s < 0
        ):
            raise ValueError(
                f"every seed must be a nonnegative integer, got {s!r}"
            )
        out.append(int(s))
    if not out:
        raise ValueError("seeds is an empty sequence: no chain to run")
    return out, True


def _per_chain(value, name: str, allow_zero: bool) -> tuple[list[float], bool]:
    """A hyperparameter given once or per chain: (values, given as a sequence?)."""
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(
        value, (str, bytes)
    ):
        values = [
            _checks.positive(v, f"{name}[{i}]", allow_zero)
            for i, v in enumerate(np.ravel(value))
        ]
        if not values:
            raise ValueError(f"{name} is an empty sequence")
        return values, True
    return [_checks.positive(value, name, allow_zero)], False


@dataclass(frozen=True)
class _Config:
    """The checked arguments of one :func:`label_noise_sgd` call, resolved to one entry per chain."""

    dims: tuple
    xs: np.ndarray  # (n, d_0)
    ys: np.ndarray  # (n, d_L)
    targets: np.ndarray  # (n,)
    steps: int
    every: int  # record interval of the noisy phase
    batch_size: int | None  # None: full batch
    final_tol: float
    max_final_steps: int
    seeds: list  # one seed per chain
    lrs: np.ndarray  # (C,)
    sigmas: np.ndarray  # (C,)
    seed_seq: bool  # seeds, lr, noise_std given as sequences?
    lr_seq: bool
    sigma_seq: bool
    # the sign each chain's label noise is drawn with: +1 everywhere, or +1, -1, +1, ... for
    # antithetic pairs (chains 2k and 2k + 1 share a seed)
    noise_signs: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.xs.shape[0]

    @property
    def chains(self) -> int:
        return len(self.seeds)

    @property
    def batched(self) -> bool:
        """The run reports a chain axis."""
        return self.seed_seq or self.lr_seq or self.sigma_seq


def _resolve(
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
) -> _Config:
    """Validate every argument of :func:`label_noise_sgd` (in this order) and spread them over the chains."""
    d = _checks.dims_tuple(dims)
    d = _checks.dims_tuple(
        d,
        min_width=min(d[0], d[-1]),
        what=" = min(d_0, d_L): the network could not represent "
        "every end-to-end matrix",
    )
    xs, ys = _checks.data_pair(xs, ys, d[0], d[-1])
    t = _checks.finite_array(targets, "targets", ndim=1)
    n = xs.shape[0]
    if t.shape[0] != n:
        raise ValueError(
            f"targets has length {t.shape[0]} but there are n = {n} samples"
        )
    lr_list, lr_seq = _per_chain(lr, "lr", allow_zero=False)
    sigma_list, sigma_seq = _per_chain(noise_std, "noise_std", allow_zero=True)
    steps = _checks.integer(steps, "steps", 0)
    _checks.positive(init_scale, "init_scale")
    max_final_steps = _checks.integer(max_final_steps, "max_final_steps", 0)
    final_tol = _checks.positive(final_tol, "final_tol")
    every = (
        max(1, steps // 200)
        if record_every is None
        else _checks.integer(record_every, "record_every", 1)
    )
    if batch_size is not None:
        batch_size = _checks.integer(batch_size, "batch_size", 1)
        if batch_size > n:
            raise ValueError(
                f"batch_size = {batch_size} exceeds the number of samples n = {n}"
            )
        if batch_size == n:
            batch_size = None
    chain_seeds, seed_seq = _seed_list(seeds)
    lengths = {
        len(v)
        for v, is_seq in (
            (chain_seeds, seed_seq),
            (lr_list, lr_seq),
            (sigma_list, sigma_seq),
        )
        if is_seq
    }
    if len(lengths) > 1:
        raise ValueError(
            f"seeds, lr and noise_std given as sequences must have one length, got lengths {sorted(lengths)}"
        )
    C = lengths.pop() if lengths else 1
    return _Config(
        dims=d,
        xs=xs,
        ys=ys,
        targets=t,
        steps=steps,
        every=every,
        batch_size=batch_size,
        final_tol=final_tol,
        max_final_steps=max_final_steps,
        seeds=chain_seeds * C if not seed_seq else chain_seeds,
        lrs=np.array(lr_list * C if not lr_seq else lr_list),
        sigmas=np.array(sigma_list * C if not sigma_seq else sigma_list),
        seed_seq=seed_seq,
        lr_seq=lr_seq,
        sigma_seq=sigma_seq,
    )
