"""Pairwise Mahalanobis distances: mlearn vs scipy, scikit-learn and the BLAS floor.

One run prints three tables, every figure measured side by side in this run:

1. ``pairwise_mahalanobis(X, Y, M=M)`` against ``scipy.spatial.distance.cdist(X, Y,
   'mahalanobis', VI=M)``, ``sklearn.metrics.pairwise_distances(X, Y,
   metric='mahalanobis', VI=M)`` and the BLAS floor ``X @ Y.T`` (one GEMM of the
   same shape, the least any dense method must do).
2. ``pairwise_mahalanobis`` against the same BLAS floor on an idle machine and
   while a background process (started and stopped by this script) keeps one
   core busy: many small GEMMs whose BLAS threads wait on the busy core fall far
   behind one large GEMM there. Medians of interleaved repetitions.
3. The per-call cost of ``est.get_metric()`` against metric-learn 0.7's
   ``get_metric`` closure (validate both vectors, ``(u - v) @ Lᵀ``, dot, sqrt) and
   a bare numpy closure, called in a Python loop and inside
   ``KNeighborsClassifier(metric=...)``.

Usage::

    python benchmarks/bench_pairwise.py            # full run (about 2 minutes)
    python benchmarks/bench_pairwise.py --quick    # scipy/sklearn on 10 % of rows,
                                                   # scaled up (marked "~")
    python benchmarks/bench_pairwise.py --only busy  # table 2 only
"""

import argparse
import os
import platform
import subprocess
import sys
import time

import numpy as np
import scipy
import sklearn
from scipy.spatial.distance import cdist
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import KNeighborsClassifier

from mlearn import Covariance, pairwise_mahalanobis

SHAPES = [(2000, 2000, 32), (4000, 4000, 64), (10000, 1000, 128)]


def best_of(f, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def table_pairwise(quick):
    rng = np.random.default_rng(0)
    print("| n x m x d | mlearn (s) | BLAS floor X@Y.T (s) | mlearn / floor | "
          "scipy cdist (s) | scipy / mlearn | sklearn (s) | sklearn / mlearn |")
    print("|---|---|---|---|---|---|---|---|")
    for n, m, d in SHAPES:
        X = rng.normal(size=(n, d))
        Y = rng.normal(size=(m, d))
        A = rng.normal(size=(d, d))
        M = A @ A.T / d + np.eye(d)
        pairwise_mahalanobis(X[:8], Y[:8], M=M)  # compile / warm up
        t_ml = best_of(lambda: pairwise_mahalanobis(X, Y, M=M), 5)
        t_floor = best_of(lambda: X @ Y.T, 5)
        rows = max(1, n // 10) if quick else n
        scale = n / rows
        mark = "~" if quick else ""
        t_sp = best_of(lambda: cdist(X[:rows], Y, "mahalanobis", VI=M), 1) * scale
        t_sk = best_of(lambda: pairwise_distances(X[:rows], Y, metric="mahalanobis",
                                                  VI=M), 1) * scale
        print(f"| {n} x {m} x {d} | {t_ml:.4f} | {t_floor:.4f} | "
              f"{t_ml / t_floor:.2f}x | {mark}{t_sp:.2f} | {mark}{t_sp / t_ml:.0f}x | "
              f"{mark}{t_sk:.2f} | {mark}{t_sk / t_ml:.0f}x |")
        sys.stdout.flush()


SPIN = "while True:\n    pass\n"


def median_pair(f, g, repeat):
    """Medians of ``f`` and ``g`` timed alternately, so both see the same load."""
    tf, tg = [], []
    for _ in range(repeat):
        for fun, times in ((f, tf), (g, tg)):
            t0 = time.perf_counter()
            fun()
            times.append(time.perf_counter() - t0)
    return float(np.median(tf)), float(np.median(tg))


def table_busy(repeat):
    rng = np.random.default_rng(2)
    print(f"{os.cpu_count()} cores; 'load' is the 1-minute load average after the "
          "row (the spinner counts 1; other processes the rest)")
    print("| n x m x d | machine | mlearn (s) | BLAS floor X@Y.T (s) | "
          "mlearn / floor | load |")
    print("|---|---|---|---|---|---|")
    for n, m, d in SHAPES:
        X = rng.normal(size=(n, d))
        Y = rng.normal(size=(m, d))
        A = rng.normal(size=(d, d))
        M = A @ A.T / d + np.eye(d)
        pairwise_mahalanobis(X[:8], Y[:8], M=M)  # compile / warm up
        for machine in ("no extra load", "one core busy"):
            spinner = None
            if machine == "one core busy":
                spinner = subprocess.Popen([sys.executable, "-c", SPIN])
                time.sleep(0.5)
            try:
                t_ml, t_floor = median_pair(
                    lambda: pairwise_mahalanobis(X, Y, M=M), lambda: X @ Y.T, repeat)
            finally:
                if spinner is not None:
                    spinner.kill()
                    spinner.wait()
            print(f"| {n} x {m} x {d} | {machine} | {t_ml:.4f} | {t_floor:.4f} | "
                  f"{t_ml / t_floor:.2f}x | {os.getloadavg()[0]:.1f} |")
            sys.stdout.flush()


def validate_vector(u, dtype=None):
    """metric-learn 0.7's ``_util.validate_vector`` (a replica of scipy's)."""
    u = np.asarray(u, dtype=dtype, order="c").squeeze()
    u = np.atleast_1d(u)
    if u.ndim > 1:
        raise ValueError("Input vector should be 1-D.")
    return u


def metric_learn_closure(L):
    """metric-learn 0.7's ``MahalanobisMixin.get_metric`` closure, verbatim."""
    components_T = L.T

    def metric_fun(u, v, squared=False):
        u = validate_vector(u)
        v = validate_vector(v)
        transformed_diff = (u - v).dot(components_T)
        dist = np.dot(transformed_diff, transformed_diff.T)
        if not squared:
            dist = np.sqrt(dist)
        return dist

    return metric_fun


def numpy_closure(M):
    def metric_fun(u, v):
        diff = u - v
        return np.sqrt(diff @ M @ diff)

    return metric_fun


def table_metric():
    rng = np.random.default_rng(1)
    d = 16
    X = rng.normal(size=(400, d))
    y = rng.integers(0, 4, size=400)
    est = Covariance().fit(X)
    L = est.components_
    M = est.get_mahalanobis_matrix()
    callables = {
        "mlearn get_metric()": est.get_metric(),
        "metric-learn closure": metric_learn_closure(L),
        "numpy closure": numpy_closure(M),
    }
    U = rng.normal(size=(20000, d))
    V = rng.normal(size=(20000, d))
    for f in callables.values():
        f(U[0], V[0])
    print("| callable | loop, per call (us) | loop / mlearn | KNN fit+predict (s) | "
          "KNN / mlearn |")
    print("|---|---|---|---|---|")
    results = {}
    for name, f in callables.items():
        t_loop = best_of(lambda: [f(u, v) for u, v in zip(U, V)], 3) / len(U)

        def knn():
            KNeighborsClassifier(n_neighbors=3, metric=f, algorithm="ball_tree").fit(
                X[:300], y[:300]).predict(X[300:])

        t_knn = best_of(knn, 2)
        results[name] = (t_loop, t_knn)
    ref_loop, ref_knn = results["mlearn get_metric()"]
    for name, (t_loop, t_knn) in results.items():
        print(f"| {name} | {t_loop * 1e6:.2f} | {t_loop / ref_loop:.1f}x | "
              f"{t_knn:.3f} | {t_knn / ref_knn:.1f}x |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="time scipy/sklearn on 10%% of the rows and scale up")
    parser.add_argument("--only", choices=["pairwise", "busy", "metric"],
                        help="print one table only")
    parser.add_argument("--repeat", type=int, default=9,
                        help="repetitions (medians) of the busy-machine table")
    args = parser.parse_args(argv)
    print(f"# bench_pairwise: python {platform.python_version()}, numpy "
          f"{np.__version__}, scipy {scipy.__version__}, scikit-learn "
          f"{sklearn.__version__}; best of 5 (mlearn, floor), 1 (scipy, sklearn); "
          f"busy-machine table: median of {args.repeat}")
    tables = {"pairwise": lambda: table_pairwise(args.quick),
              "busy": lambda: table_busy(args.repeat),
              "metric": table_metric}
    for name, table in tables.items():
        if args.only in (None, name):
            print()
            table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
