"""LMNN fit time, peak memory and peak impostor candidates as n grows.

Each size runs in a fresh subprocess, so the peak resident memory reported
(``ru_maxrss`` of the child) is that fit's own, data included; an untimed
warm-up fit compiles the numba kernels first. Target of the LMNN issue:
n = 50 000 under 3 minutes and 2 GB on a 2-core machine; and no scan holds
more than ``max_impostors`` candidate pairs (the memory contract), e.g.

    PYTHONPATH=. python benchmarks/bench_lmnn_scaling.py [--sizes 1000 5000 ...]
    PYTHONPATH=. python benchmarks/bench_lmnn_scaling.py --sizes 100000 --d 20 \
        --classes 5
"""

import argparse
import json
import os
import platform
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np
from sklearn.datasets import make_classification
from mlearn import LMNN
n, d, c = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
X, y = make_classification(n_samples=n, n_features=d, n_informative=10,
                           n_redundant=min(10, d - 10), n_classes=c,
                           class_sep=1.0, random_state=0)
X = (X - X.mean(0)) / X.std(0)
LMNN(max_iter=2).fit(X[:300], y[:300])  # untimed: JIT compilation
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    est = LMNN(random_state=0).fit(X, y)
    seconds = time.perf_counter() - t0
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"n": n, "d": d, "seconds": seconds, "peak_rss_mb": rss_mb,
                  "n_iter": est.n_iter_, "nfev": int(est.opt_result_.nfev),
                  "rate": est.impostor_sampling_rate_,
                  "peak": est.n_impostor_candidates_}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*",
                        default=[1000, 5000, 20000, 50000])
    parser.add_argument("--d", type=int, default=50)
    parser.add_argument("--classes", type=int, default=10)
    args = parser.parse_args()
    print(f"# bench_lmnn_scaling: python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} cores; make_classification "
          f"(d={args.d}, 10 informative, {args.classes} classes), LMNN defaults "
          "(k=3, max_iter=50, max_impostors=500000, one BLAS thread)")
    print("# each size in a fresh process; peak RSS = the child's maximum "
          "resident memory (data, fit and interpreter)")
    print()
    print("| n | d | fit (s) | peak RSS (MB) | iterations | impostor sampling rate "
          "| peak candidates |")
    print("|---|---|---|---|---|---|---|")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
         env.get("PYTHONPATH", "")])
    for n in args.sizes:
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(args.d),
                              str(args.classes)],
                             capture_output=True, text=True, env=env, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {r['n']} | {r['d']} | {r['seconds']:.2f} | {r['peak_rss_mb']:.0f} "
              f"| {r['n_iter']} | {r['rate']:.3f} | {r['peak']} |", flush=True)


if __name__ == "__main__":
    main()
