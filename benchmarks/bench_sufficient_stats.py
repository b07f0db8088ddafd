"""Fit time of the sufficient-statistic learners (KISSME, Covariance) against the
BLAS floor: one ``XᵀX`` of the same data, measured in the same run.

Both learners need at least that product (KISSME as per-class scatters, grouped
by class, one GEMM over all rows in total), so ``fit / floor`` is the overhead of
everything else: validation, grouping rows by class, centring, merging.
Target: at most 3x the floor. Best of ``--repeats`` runs for every timing::

    NUMBA_CACHE_DIR=/tmp/numba_cache PYTHONPATH=. python \
        benchmarks/bench_sufficient_stats.py --n 10000 100000 1000000 --threads 1
"""

import argparse
import os
import platform
import time

import numpy as np

from mlearn import KISSME, Covariance


def best_time(func, repeats):
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10**4, 10**5, 10**6])
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: the library's own choice)")
    args = parser.parse_args()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    print(f"numpy {np.__version__}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs; d={args.d}, {args.classes} classes, float64, "
          f"best of {args.repeats}, BLAS threads: {args.threads or 'default'}")
    header = (f"{'n':>9} {'floor XᵀX':>11} {'KISSME':>9} {'ratio':>6} "
              f"{'Covariance':>11} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    rng = np.random.RandomState(0)
    for n in args.n:
        X = rng.normal(size=(n, args.d))
        y = rng.randint(0, args.classes, size=n)
        floor = best_time(lambda: X.T @ X, args.repeats)
        t_kissme = best_time(lambda: KISSME().fit(X, y), args.repeats)
        t_cov = best_time(lambda: Covariance().fit(X), args.repeats)
        print(f"{n:>9} {floor * 1e3:>9.2f}ms {t_kissme * 1e3:>7.2f}ms "
              f"{t_kissme / floor:>5.2f}x {t_cov * 1e3:>9.2f}ms {t_cov / floor:>5.2f}x")


if __name__ == "__main__":
    main()
