"""Speed of the exact checks and of the exact minimum of R (printed, never asserted).

Usage: python benchmarks/bench_symbolic.py
"""

import time

from dlnlib import certificates
from dlnlib.induced import min_regularizer
from dlnlib.problems import gaussian_sensing


def timed(label, fn):
    start = time.perf_counter()
    fn()
    print(f"{label:<48} {time.perf_counter() - start:8.3f} s")


def main():
    print("Hurwitz certificates of AM-GM, built and verified by sympy:")
    for n in range(2, 9):
        timed(
            f"  n = {n}",
            lambda n=n: certificates.verify_amgm_certificate(
                certificates.hurwitz_certificate(n)
            ),
        )
    print("min_regularizer (8 starts, sensing with n = 10 d, rank 2):")
    for d in (5, 10, 20, 40):
        pb = gaussian_sensing(10 * d, d, d, 2, seed=0)
        for L in (2, 3, 4, 6):
            timed(
                f"  d = {d}, L = {L}",
                lambda pb=pb, d=d, L=L: min_regularizer(
                    pb.W_star, pb.xs, pb.ys, (d,) * (L + 1), starts=8
                ),
            )


if __name__ == "__main__":
    main()
