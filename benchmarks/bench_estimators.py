"""Side-by-side fit time and 3-NN accuracy of the learners against reference
implementations (metric-learn 0.7.0, pyLMNN 1.6.4), one run, one table.

Protocol: 70/30 stratified split (seed 0), StandardScaler fitted on the training
part, the learner fitted on the training part, 3-NN accuracy on the test part in
the learned space. "Euclidean" is 3-NN on the scaled data.

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


def split(X, y):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y,
                                          random_state=0)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


def knn_accuracy(Xtr, Xte, ytr, yte):
    return KNeighborsClassifier(n_neighbors=3).fit(Xtr, ytr).score(Xte, yte)


def run_one(factory, Xtr, Xte, ytr, yte):
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
            for _ in range(_REPEATS - 1):
                again = factory()
                t0 = time.perf_counter()
                again.fit(Xtr, ytr)
                fit_time = min(fit_time, time.perf_counter() - t0)
        acc = knn_accuracy(est.transform(Xtr), est.transform(Xte), ytr, yte)
    return fit_time, acc, ""


_REPEATS = 5


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
    header = ("| dataset | n x d | algorithm | implementation | fit (s) | "
              "3-NN acc | time / mlearn | note |")
    print("# each implementation is fitted once on a small problem first, so JIT "
          "compilation (numba) and import costs are not in the timings")
    print()
    print(header)
    print("|" + "---|" * 8)
    warm_up({algo: learners[algo] for algo in algos}, args.impls)
    for ds in args.datasets or list(DATASETS):
        X, y = DATASETS[ds]()
        Xtr, Xte, ytr, yte = split(np.asarray(X, dtype=np.float64), np.asarray(y))
        shape = f"{X.shape[0]}x{X.shape[1]}"
        base = knn_accuracy(Xtr, Xte, ytr, yte)
        print(f"| {ds} | {shape} | Euclidean | - | - | {base:.4f} | - | |")
        for algo in algos:
            rows = []
            for impl, factory in learners[algo].items():
                if args.impls and impl not in args.impls:
                    continue
                rows.append((impl, *run_one(factory, Xtr, Xte, ytr, yte)))
            ref = next((r[1] for r in rows if r[0] == "mlearn" and r[1]), None)
            for impl, t, acc, note in rows:
                ratio = f"{t / ref:.1f}x" if (t and ref) else "-"
                ts = f"{t:.3g}" if t is not None else "-"
                accs = f"{acc:.4f}" if acc is not None else "-"
                print(f"| {ds} | {shape} | {algo} | {impl} | {ts} | {accs} | "
                      f"{ratio} | {note} |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
