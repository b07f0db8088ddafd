"""MLKR side by side: mlearn vs metric-learn 0.7.0, fit time and 5-NN regression R².

Protocol: 70/30 split (seed 0), StandardScaler fitted on the training part (X
only), each learner fitted on the training part with its defaults (metric-learn:
``tol=None, max_iter=1000``; mlearn: ``tol=1e-8, max_iter=1000``), then
``KNeighborsRegressor(n_neighbors=5)`` R² on the test part in the learned space.
"Euclidean" is 5-NN on the scaled data. ``--splits K`` reports R² as the mean
over K splits (seeds 0 … K − 1) with the mean paired difference to mlearn's and
its standard error (one diabetes split moves R² by several points between
equally good fits); times stay those of the seed-0 split. Both are fitted once
on a small problem
first (numba compilation, imports). metric-learn builds the full ``n × n``
matrices each iteration and is skipped above ``--ml-max-n`` samples.

metric-learn 0.7.0 needs scikit-learn < 1.8, e.g.::

    PYTHONPATH=. /work/venv-ml/bin/python benchmarks/bench_mlkr.py
    PYTHONPATH=. /work/venv-ml/bin/python benchmarks/bench_mlkr.py \
        --datasets synth_5000x20 --ml-max-n 10000
"""

import argparse
import sys
import time
import warnings

import numpy as np
from bench_estimators import add_splits_option, paired_difference
from sklearn.datasets import load_diabetes, make_friedman1, make_regression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsRegressor
from sklearn.preprocessing import StandardScaler

DATASETS = {
    "diabetes": lambda: load_diabetes(return_X_y=True),
    "regression_1000x20": lambda: make_regression(
        n_samples=1000, n_features=20, n_informative=5, noise=10.0,
        random_state=0),
    "friedman1_1000x10": lambda: make_friedman1(n_samples=1000, n_features=10,
                                                noise=1.0, random_state=0),
    "friedman1_2000x20": lambda: make_friedman1(n_samples=2000, n_features=20,
                                                noise=1.0, random_state=0),
    "friedman1_5000x20": lambda: make_friedman1(n_samples=7143, n_features=20,
                                            noise=1.0, random_state=0),
}


def _mlearn():
    from mlearn import MLKR

    return MLKR(random_state=0)


def _metric_learn():
    from metric_learn import MLKR

    return MLKR(random_state=0)


IMPLS = {"mlearn": _mlearn, "metric-learn": _metric_learn}


def r2_5nn(Ztr, Zte, ytr, yte):
    return KNeighborsRegressor(n_neighbors=5).fit(Ztr, ytr).score(Zte, yte)


def run_one(factory, Xtr, Xte, ytr, yte):
    try:
        est = factory()
    except ImportError as exc:
        return None, None, f"not installed ({exc.name})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        est.fit(Xtr, ytr)
        fit_time = time.perf_counter() - t0
        # (metric-learn's transform warns on scikit-learn 1.6+ too)
        r2 = r2_5nn(est.transform(Xtr), est.transform(Xte), ytr, yte)
    return fit_time, r2, ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", choices=sorted(DATASETS))
    parser.add_argument("--ml-max-n", type=int, default=2000,
                        help="skip metric-learn above this many training samples")
    add_splits_option(parser, "R²")
    args = parser.parse_args(argv)
    many = args.splits > 1
    rs = np.random.RandomState(0)
    Xw = rs.normal(size=(60, 4))
    for factory in IMPLS.values():
        run_one(factory, Xw[:45], Xw[45:], Xw[:45, 0], Xw[45:, 0])
    r2_head = f"5-NN R² (mean of {args.splits})" if many else "5-NN R²"
    extra = " Δ R² vs mlearn (± s.e.) |" if many else ""
    blank = " - |" if many else ""
    print(f"| dataset | n x d | implementation | fit (s) | {r2_head} | time / mlearn "
          f"|{extra} note |")
    print("|" + "---|" * (8 if many else 7))
    for ds in args.datasets or list(DATASETS):
        X, y = DATASETS[ds]()
        splits = []
        for seed in range(args.splits):
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3,
                                                  random_state=seed)
            scaler = StandardScaler().fit(Xtr)
            splits.append((scaler.transform(Xtr), scaler.transform(Xte), ytr, yte))
        shape = f"{splits[0][0].shape[0]}x{splits[0][0].shape[1]}"
        base = np.mean([r2_5nn(*parts) for parts in splits])
        print(f"| {ds} | {shape} | Euclidean | - | {base:.4f} | - |{blank} |")
        ref = ref_r2 = None
        for impl, factory in IMPLS.items():
            if impl != "mlearn" and splits[0][0].shape[0] > args.ml_max_n:
                print(f"| {ds} | {shape} | {impl} | - | - | - |{blank} skipped "
                      f"(n > {args.ml_max_n}) |")
                continue
            t, r2, note = run_one(factory, *splits[0])
            r2s = [r2] + [run_one(factory, *parts)[1] for parts in splits[1:]]
            if impl == "mlearn":
                ref, ref_r2 = t, r2s
            ratio = f"{t / ref:.1f}x" if (t and ref) else "-"
            ts = f"{t:.3g}" if t is not None else "-"
            mean = f"{np.mean(r2s):.4f}" if r2 is not None else "-"
            cell = blank
            if many and impl != "mlearn" and r2 is not None and ref_r2 is not None:
                cell = f" {paired_difference(r2s, ref_r2)} |"
            print(f"| {ds} | {shape} | {impl} | {ts} | {mean} | {ratio} |{cell} "
                  f"{note} |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
