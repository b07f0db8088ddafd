"""Side-by-side fit time and 3-NN accuracy of the learners against reference
implementations (metric-learn 0.7.0, pyLMNN 1.6.4), one run, one table.

Protocol: 70/30 stratified split (seed 0), StandardScaler fitted on the training
part, the learner fitted on the training part, 3-NN accuracy on the test part in
the learned space. "Euclidean" is 3-NN on the scaled data.

One split's accuracy moves by a test sample or two between learners that are
equally good (one digits test sample is 0.19 pt). ``--splits K`` fits every
learner on K splits (seeds 0 … K − 1) and reports the mean accuracy and the
mean paired difference to mlearn's with its standard error; times stay those
of the seed-0 split.

Learners come from ``benchmarks/_learners_*.py``: each defines
``LEARNERS = {"ALGO": {"implementation": factory, ...}}`` where ``factory()``
returns an object with ``fit(X, y)`` and ``transform(X)``. Implementations whose
package is missing are reported as such.

metric-learn 0.7.0 does not run on scikit-learn >= 1.8 (``force_all_finite`` was
removed), so run this in an environment with scikit-learn 1.7.x, e.g.::

    PYTHONPATH=. /path/to/venv-sklearn-1.7/bin/python benchmarks/bench_estimators.py
    PYTHONPATH=. python benchmarks/bench_estimators.py --learners LMNN \
        --datasets wine digits
"""

import argparse
import importlib.metadata
import importlib.util
import pathlib
import platform
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_wine,
    make_classification,
)
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

HERE = pathlib.Path(__file__).resolve().parent


def _synthetic(n, d):
    def load():
        return make_classification(n_samples=n, n_features=d, n_informative=10,
                                   n_redundant=0, n_classes=5, class_sep=0.8,
                                   random_state=0)
    return load


def _digits_pca30():
    X, y = load_digits(return_X_y=True)
    return PCA(n_components=30, random_state=0).fit_transform(X), y


DATASETS = {
    "wine": lambda: load_wine(return_X_y=True),
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "digits_pca30": _digits_pca30,
    "synth_1000x20": _synthetic(1000, 20),
    "synth_1000x100": _synthetic(1000, 100),
    "synth_5000x20": _synthetic(5000, 20),
    "synth_5000x100": _synthetic(5000, 100),
}


def discover_learners():
    learners = {}
    for path in sorted(HERE.glob("_learners_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for algo, impls in module.LEARNERS.items():
            learners.setdefault(algo, {}).update(impls)
    return learners


def split(X, y, seed=0):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y,
                                          random_state=seed)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


def knn_accuracy(Xtr, Xte, ytr, yte):
    return KNeighborsClassifier(n_neighbors=3).fit(Xtr, ytr).score(Xte, yte)


def run_one(factory, Xtr, Xte, ytr, yte, repeats=None):
    """Fit time (best of ``repeats``, default ``_REPEATS``, fresh fits when one
    takes under a second), 3-NN accuracy and a note."""
    repeats = _REPEATS if repeats is None else repeats
    try:
        est = factory()
    except ImportError as exc:
        return None, None, f"not installed ({exc.name})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        try:
            est.fit(Xtr, ytr)
        except Exception as exc:  # report, don't stop the table
            return None, None, f"error: {type(exc).__name__}: {str(exc)[:60]}"
        fit_time = time.perf_counter() - t0
        # a fit under a second is noisy: best of _REPEATS fresh fits (timeit's
        # rule), for every implementation alike
        if fit_time < 1.0:
            for _ in range(repeats - 1):
                again = factory()
                t0 = time.perf_counter()
                again.fit(Xtr, ytr)
                fit_time = min(fit_time, time.perf_counter() - t0)
        acc = knn_accuracy(est.transform(Xtr), est.transform(Xte), ytr, yte)
    return fit_time, acc, ""


_REPEATS = 5


def add_splits_option(parser, score):
    """``--splits K`` (at least 1): ``score`` as the mean over K splits."""
    def at_least_one(text):
        value = int(text)
        if value < 1:
            raise argparse.ArgumentTypeError("--splits must be at least 1")
        return value

    parser.add_argument("--splits", type=at_least_one, default=1,
                        help=f"{score} as the mean over this many splits "
                             "(default: 1, seed 0)")


def paired_difference(scores, reference):
    """``mean ± standard error`` of ``scores − reference`` over the splits."""
    diff = np.subtract(scores, reference)
    se = diff.std(ddof=1) / np.sqrt(diff.size)
    return f"{diff.mean():+.4f} ± {se:.4f}"


def warm_up(learners, impls=None):
    """Fit every implementation once on a small problem (untimed)."""
    X, y = make_classification(n_samples=120, n_features=6, n_informative=4,
                               n_redundant=0, n_classes=3, random_state=0)
    for algo_impls in learners.values():
        for impl, factory in algo_impls.items():
            if impls and impl not in impls:
                continue
            run_one(factory, X[:90], X[90:], y[:90], y[90:])


def versions():
    out = [f"python {platform.python_version()}", f"numpy {np.__version__}",
           f"scikit-learn {sklearn.__version__}"]
    for name in ("metric-learn", "pylmnn"):
        try:
            out.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name} missing")
    import mlearn

    out.append(f"mlearn {mlearn.__version__}")
    return ", ".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", nargs="*", help="algorithms (default: all)")
    parser.add_argument("--datasets", nargs="*", choices=sorted(DATASETS),
                        help="datasets (default: all)")
    parser.add_argument("--impls", nargs="*",
                        help="implementations to run (default: all)")
    add_splits_option(parser, "accuracy")
    args = parser.parse_args(argv)
    learners = discover_learners()
    algos = args.learners or sorted(learners)
    unknown = set(algos) - set(learners)
    if unknown:
        parser.error(f"unknown learners {sorted(unknown)}; have {sorted(learners)}")
    print(f"# bench_estimators: {versions()}")
    print(f"# machine: {platform.machine()}, {platform.system()}; times are one fit "
          f"(best of {_REPEATS} for fits under 1 s), wall clock, measured side by "
          "side in this run")
    print()
    many = args.splits > 1
    acc_head = f"3-NN acc (mean of {args.splits})" if many else "3-NN acc"
    extra = " Δ acc vs mlearn (± s.e.) |" if many else ""
    header = (f"| dataset | n x d | algorithm | implementation | fit (s) | "
              f"{acc_head} | time / mlearn |{extra} note |")
    print("# each implementation is fitted once on a small problem first, so JIT "
          "compilation (numba) and import costs are not in the timings")
    print()
    print(header)
    print("|" + "---|" * (9 if many else 8))
    warm_up({algo: learners[algo] for algo in algos}, args.impls)
    for ds in args.datasets or list(DATASETS):
        X, y = DATASETS[ds]()
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        splits = [split(X, y, seed) for seed in range(args.splits)]
        shape = f"{X.shape[0]}x{X.shape[1]}"
        base = np.mean([knn_accuracy(*parts) for parts in splits])
        blank = " - |" if many else ""
        print(f"| {ds} | {shape} | Euclidean | - | - | {base:.4f} | - |{blank} |")
        for algo in algos:
            rows = []
            for impl, factory in learners[algo].items():
                if args.impls and impl not in args.impls:
                    continue
                t, acc, note = run_one(factory, *splits[0])
                accs = [acc]
                for parts in splits[1:]:
                    if acc is None:
                        break
                    accs.append(run_one(factory, *parts, repeats=1)[1])
                if any(a is None for a in accs):
                    accs = [None] * len(splits)
                rows.append((impl, t, accs, note))
            ref = next((r for r in rows if r[0] == "mlearn" and r[1]), None)
            for impl, t, accs, note in rows:
                ratio = f"{t / ref[1]:.1f}x" if (t and ref) else "-"
                ts = f"{t:.3g}" if t is not None else "-"
                ok = accs[0] is not None
                mean = f"{np.mean(accs):.4f}" if ok else "-"
                cell = ""
                if many:
                    cell = " - |"
                    if (ok and impl != "mlearn" and ref is not None
                            and ref[2][0] is not None):
                        cell = f" {paired_difference(accs, ref[2])} |"
                print(f"| {ds} | {shape} | {algo} | {impl} | {ts} | {mean} | "
                      f"{ratio} |{cell} {note} |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
