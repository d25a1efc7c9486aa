"""Speed of dlnlib.label_noise_sgd: one chain against 64 batched chains, and one flagship run.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_training.py``).
Prints chain-steps per second at d = 10, depth 3, n = 50 (Gaussian sensing),
the batched/single ratio (target: at least 20x), the batched trainer's rate
against the bare-numpy floor of its own step (the same matrix products written
out by hand, no checks: 1 would be no overhead), and the wall-clock time of
one flagship run (depth 3, d = 10, n = 50, 2e5 noisy steps, then the
noise-free phase). Figures are measured on the machine at hand and never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np

from dlnlib.problems import gaussian_sensing
from dlnlib.training import label_noise_sgd

D, DEPTH, N = 10, 3, 50
LR, NOISE = 0.1, 0.5  # the flagship run (seed 0)
#: Throughput runs use a smaller step: at lr = 0.1, 1 of the 64 random inits (seed 17) diverges at depth 3.
#: The cost of a step does not depend on lr.
LR_THROUGHPUT = 0.05


def chain_steps_per_second(
    pb, n_chains: int, steps: int, repeats: int
) -> float:
    """Best of ``repeats`` runs of ``steps`` noisy steps (no noise-free phase, no records to speak of)."""
    dims = (D,) * (DEPTH + 1)
    seeds = list(range(n_chains)) if n_chains > 1 else 0
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        with (
            warnings.catch_warnings()
        ):  # max_final_steps=0: the (skipped) noise-free phase warns by design
            warnings.simplefilter("ignore", RuntimeWarning)
            label_noise_sgd(
                pb.xs,
                pb.ys,
                pb.targets,
                dims,
                lr=LR_THROUGHPUT,
                noise_std=NOISE,
                steps=steps,
                seeds=seeds,
                record_every=steps,
                max_final_steps=0,
                progress=False,
            )
        best = min(best, time.perf_counter() - start)
    return n_chains * steps / best


def floor_chain_steps_per_second(
    pb, n_chains: int, steps: int, repeats: int, block: int = 256
) -> float:
    """The bare-numpy floor of the trainer's step: its matrix products by hand.

    The full-batch label-noise step of ``dlnlib.descent._step`` written out in
    plain numpy for ``n_chains`` stacked chains: the suffix products
    ``W_{l+1} ... W_L``, ``W~``, the residuals on noisy labels, the scaled
    transposed gradient ``H = lr/n sum_i r_i y_i x_i^T`` and the layer
    updates. Nothing else is timed: one block of ``block`` steps of noisy
    labels is drawn before the clock starts and used in turn (the trainer
    draws its noise in a background thread), and there are no checks, no
    divergence test and no records. Best of ``repeats``, in chain-steps per
    second.
    """
    rng = np.random.default_rng(0)
    n, d0 = pb.xs.shape
    dL = pb.ys.shape[1]
    ZT = np.ascontiguousarray(
        (pb.xs[:, :, None] * pb.ys[:, None, :]).reshape(n, d0 * dL).T
    )
    Zt_lr = (pb.ys[:, :, None] * pb.xs[:, None, :]).reshape(n, dL * d0) * (
        LR_THROUGHPUT / n
    )
    labels = pb.targets + NOISE * rng.standard_normal((block, n_chains, n))
    L = DEPTH
    best = float("inf")
    for _ in range(repeats):
        ws = [
            rng.standard_normal((n_chains, D, D)) / np.sqrt(D)
            for _ in range(L)
        ]
        start = time.perf_counter()
        for k in range(steps):
            suffix = [None] * L
            suffix[L - 2] = ws[L - 1]
            for l in range(L - 3, -1, -1):
                suffix[l] = ws[l + 1] @ suffix[l + 1]
            W = ws[0] @ suffix[0]
            r = W.reshape(n_chains, -1) @ ZT - labels[k % block]
            H = (r @ Zt_lr).reshape(n_chains, dL, d0)
            for l in range(L - 1):
                grad_t = suffix[l] @ H
                H = H @ ws[l]
                ws[l] -= np.swapaxes(grad_t, -1, -2)
            ws[L - 1] -= np.swapaxes(H, -1, -2)
        best = min(best, time.perf_counter() - start)
        if not all(np.isfinite(w).all() for w in ws):
            raise FloatingPointError("the bare-numpy floor's chains diverged")
    return n_chains * steps / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps",
        type=int,
        default=20_000,
        help="noisy steps per timing (default 20000)",
    )
    parser.add_argument(
        "--flagship-steps",
        type=int,
        default=200_000,
        help="noisy steps of the flagship run",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timings per configuration, best is kept",
    )
    args = parser.parse_args()

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, numpy {np.__version__}"
    )
    pb = gaussian_sensing(N, D, D, 1, seed=0)
    single = chain_steps_per_second(pb, 1, args.steps, args.repeats)
    batched = chain_steps_per_second(
        pb, 64, max(args.steps // 8, 100), args.repeats
    )
    print(
        f"d = {D}, depth = {DEPTH}, n = {N}, lr = {LR_THROUGHPUT}, noise_std = {NOISE}"
    )
    print(f"one chain:           {single:12,.0f} chain-steps/s")
    print(f"64 batched chains:   {batched:12,.0f} chain-steps/s")
    print(
        f"batched / single:    {batched / single:12.1f} x   (target >= 20 x)"
    )
    print(
        f"time per step:       one chain {1e6 / single:.1f} us, 64 chains {64e6 / batched:.1f} us "
        f"({1e6 / batched:.2f} us per chain-step)"
    )
    floor = floor_chain_steps_per_second(
        pb, 64, max(args.steps // 8, 100), args.repeats
    )
    print(
        f"bare-numpy floor:    {floor:12,.0f} chain-steps/s   (the same step's"
        " matrix products by hand, 64 chains, no checks)"
    )
    print(
        f"trainer / floor:     {batched / floor:12.2f}     at 64 chains (1 = no"
        " overhead over its own step)"
    )
    print(
        f"floor / one chain:   {floor / single:12.1f} x   (what bare numpy gains by"
        " batching the step's products over one trainer chain)"
    )

    start = time.perf_counter()
    run = label_noise_sgd(
        pb.xs,
        pb.ys,
        pb.targets,
        (D,) * (DEPTH + 1),
        lr=LR,
        noise_std=NOISE,
        steps=args.flagship_steps,
        seeds=0,
        progress=False,
    )
    elapsed = time.perf_counter() - start
    print(
        f"flagship run (depth {DEPTH}, d = {D}, n = {N}, {args.flagship_steps:.0e} noisy steps "
        f"+ {int(run.final_steps)} noise-free): {elapsed:.2f} s end to end, final ||W~||_* = {run.nuclear_norm:.4f}"
    )


if __name__ == "__main__":
    main()
