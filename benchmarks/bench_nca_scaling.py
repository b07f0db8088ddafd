"""NCA fit time and peak memory as n grows, each size in a fresh process.

Data: ``make_classification(n, d, n_informative=10, n_redundant=0, n_classes=5,
class_sep=0.8, random_state=0)``, standardised. Each size is fitted in its own
Python process (so its peak resident memory, ``ru_maxrss``, is its own) after a
small warm-up fit (numba compilation). Prints time per objective evaluation too,
so a run capped by ``--max-iter`` extrapolates to longer ones.

    PYTHONPATH=. python benchmarks/bench_nca_scaling.py --sizes 5000 20000 50000
    PYTHONPATH=. python benchmarks/bench_nca_scaling.py --sizes 50000 --max-iter 5
"""

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings


def child(n, d, max_iter, n_jobs):
    import numpy as np
    from sklearn.datasets import make_classification

    from mlearn import NCA

    X, y = make_classification(n_samples=n, n_features=d, n_informative=10,
                               n_redundant=0, n_classes=5, class_sep=0.8,
                               random_state=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    NCA(max_iter=2).fit(X[:200], y[:200])  # numba compilation, imports
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    nca = NCA(max_iter=max_iter, random_state=0, n_jobs=n_jobs).fit(X, y)
    elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n": n, "d": d, "time": elapsed, "nit": nca.n_iter_,
                      "nfev": int(nca.opt_result_.nfev), "peak_mb": peak_mb,
                      "loss": float(nca.opt_result_.fun),
                      "finite": bool(np.all(np.isfinite(nca.components_)))}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000, 20000])
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--max-iter", type=int, default=50)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.sizes[0], args.d, args.max_iter, args.n_jobs)
        return 0
    print("| n | d | max_iter | iterations | evaluations | fit (s) | s / evaluation "
          "| peak RSS (MB) | finite |")
    print("|" + "---|" * 9)
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--child", "--sizes", str(n), "--d",
               str(args.d), "--max-iter", str(args.max_iter)]
        if args.n_jobs is not None:
            cmd += ["--n-jobs", str(args.n_jobs)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {r['n']} | {r['d']} | {args.max_iter} | {r['nit']} | {r['nfev']} "
              f"| {r['time']:.1f} | {r['time'] / r['nfev']:.2f} | "
              f"{r['peak_mb']:.0f} | {r['finite']} |")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
