"""``python -m mlearn``: the demo and the learner comparison.

``demo`` fits every supervised learner first on clustered classes hidden among
large-magnitude noise features (:func:`mlearn.datasets.make_clustered_noise`),
where a learned metric visibly helps, then on scikit-learn's digits; ``compare``
does the same on any bundled data set or a CSV file. Each prints a table of
3-NN held-out accuracy before (Euclidean) and after the learned metric, and the
fit time. Progress goes to stderr so the tables on stdout can be redirected.
"""

import argparse
import csv
import sys
import time
import warnings

import numpy as np

DATASETS = ("digits", "wine", "breast_cancer", "iris", "diabetes")


def available_learners(kind="supervised"):
    """``{name: class}`` of the learners of one kind exported by :mod:`mlearn`.

    From the registry (:func:`mlearn.utils.discovery.all_estimators`), so a
    learner joins the demo by being exported. This is the one list ``demo`` and
    ``compare`` iterate: the 'supervised' learners for class labels, the
    'regression' learners for a continuous target.
    """
    from mlearn.utils.discovery import all_estimators

    return dict(all_estimators(kind))


def is_regression(y):
    """A real-valued target: ``load_dataset`` returns class labels as integer
    codes and regression targets (diabetes; a CSV column of numbers that are
    not integers, or of more than 50 distinct values) as floats."""
    return np.asarray(y).dtype.kind == "f"


def make_learner(Estimator, random_state=0):
    """Default instance, with ``random_state`` fixed where the learner takes one."""
    est = Estimator()
    if "random_state" in est.get_params():
        est.set_params(random_state=random_state)
    return est


def load_dataset(name, target=None):
    """``(X, y, description)`` for a bundled data set name or a CSV path."""
    loaders = {
        "digits": "load_digits",
        "wine": "load_wine",
        "breast_cancer": "load_breast_cancer",
        "iris": "load_iris",
        "diabetes": "load_diabetes",
    }
    if name in loaders:
        if target is not None:
            raise ValueError(f"--target only applies to CSV files, not to {name!r}.")
        import sklearn.datasets

        X, y = getattr(sklearn.datasets, loaders[name])(return_X_y=True)
        return X.astype(np.float64), y, name  # diabetes: float y, regression
    if name.lower().endswith(".csv") or _is_file(name):
        return _load_csv(name, target)
    raise ValueError(
        f"unknown dataset {name!r}: use one of {', '.join(DATASETS)} or the path "
        f"of a CSV file."
    )


def _is_file(path):
    import os

    return os.path.isfile(path)


def _load_csv(path, target=None):
    """Numeric feature columns; the label is the last column or ``target``."""
    try:
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    except OSError as exc:
        raise ValueError(f"cannot read CSV file {path!r}: {exc.strerror}.") from None
    if len(rows) < 2:
        raise ValueError(f"CSV file {path!r} has fewer than two rows.")
    header = None
    if not all(_is_number(c) for c in rows[0][:-1]):
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"CSV file {path!r} has rows of different lengths "
                         f"{sorted(widths)}.")
    width = widths.pop()
    if width < 2:
        raise ValueError(f"CSV file {path!r} needs at least one feature column "
                         f"and a label column, got {width} column(s).")
    if target is None:
        t = width - 1
    elif header is None:
        raise ValueError(f"--target {target!r} needs a header row in {path!r}.")
    elif target not in header:
        raise ValueError(f"--target {target!r} is not a column of {path!r}; "
                         f"columns are {header}.")
    else:
        t = header.index(target)
    features = [j for j in range(width) if j != t]
    first_line = 1 if header is None else 2
    for i, r in enumerate(rows):
        for j in features:
            cell = r[j].strip()
            if not _is_number(cell):
                column = (f"column {header[j]!r}" if header is not None
                          else f"column {j + 1}")
                problem = ("missing value" if not cell
                           else f"{cell!r} is not a number")
                raise ValueError(
                    f"CSV file {path!r}, row {i + first_line}, {column}: "
                    f"{problem}; feature columns must be numeric and complete.")
    X = np.array([[float(r[j]) for j in features] for r in rows])
    labels = [r[t].strip() for r in rows]
    if all(_is_number(c) for c in labels):
        values = np.array([float(c) for c in labels])
        if np.any(values != np.round(values)) or np.unique(values).shape[0] > 50:
            return X, values, path  # a real-valued target: regression
    _, y = np.unique(labels, return_inverse=True)
    return X, y, path


def _is_number(s):
    try:
        float(s)
    except ValueError:
        return False
    return True


def run_comparison(X, y, learners, *, n_neighbors=3, test_size=0.3,
                   random_state=0, scale=True, progress=None):
    """Fit each learner and measure kNN test accuracy (R² for a continuous
    target) before/after.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    learners : dict of {name: estimator class}
    n_neighbors : int, default=3
    test_size : float, default=0.3
        Stratified hold-out fraction.
    random_state : int, default=0
    scale : bool, default=True
        Standardize the features (a StandardScaler fitted on the training part)
        before the baseline and the learners see them.
    progress : file-like or None
        Where progress lines go (``sys.stderr`` from the command line).

    Returns
    -------
    baseline : float
        kNN test accuracy with the Euclidean metric (on the standardized
        features when ``scale``).
    rows : list of dict
        One per learner: ``name``, ``accuracy`` (float or None), ``fit_time``
        (seconds or None), ``note`` (warnings raised, or the error message).
    """
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.preprocessing import StandardScaler

    regression = is_regression(y)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, stratify=None if regression else y,
        random_state=random_state)
    if scale:
        scaler = StandardScaler().fit(X_tr)
        X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    KNN = KNeighborsRegressor if regression else KNeighborsClassifier

    def knn_accuracy(A, B):
        knn = KNN(n_neighbors=n_neighbors).fit(A, y_tr)
        return float(knn.score(B, y_te))  # accuracy, or R² for regression

    baseline = knn_accuracy(X_tr, X_te)
    _warm_up(learners, X_tr, y_tr, random_state)
    rows = []
    for i, (name, Estimator) in enumerate(learners.items(), 1):
        if progress is not None:
            print(f"[{i}/{len(learners)}] {name}: fitting on {X_tr.shape[0]} x "
                  f"{X_tr.shape[1]} ...", file=progress, flush=True)
        row = {"name": name, "accuracy": None, "fit_time": None, "note": ""}
        try:
            est = make_learner(Estimator, random_state)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                t0 = time.perf_counter()
                est.fit(X_tr, y_tr)
                row["fit_time"] = time.perf_counter() - t0
            row["accuracy"] = knn_accuracy(est.transform(X_tr), est.transform(X_te))
            kinds = sorted({w.category.__name__ for w in caught})
            row["note"] = ", ".join(kinds)
        except Exception as exc:  # a broken learner must not stop the table
            row["note"] = f"error: {type(exc).__name__}: {exc}".splitlines()[0]
        if progress is not None:
            done = ("failed" if row["accuracy"] is None
                    else f"{row['accuracy']:.3f} in {row['fit_time']:.2f} s")
            print(f"[{i}/{len(learners)}] {name}: {done}", file=progress, flush=True)
        rows.append(row)
    return baseline, rows


def _clustered_noise(random_state):
    """``(X, y, label)`` of the demo's first data set."""
    from mlearn.datasets import make_clustered_noise

    X, y = make_clustered_noise(random_state=random_state)
    label = (f"make_clustered_noise(random_state={random_state}) (2 clusters per "
             f"class; the last 2 features are noise of std 25)")
    return X, y, label


def _warm_up(learners, X, y, random_state):
    """Fit every learner once, untimed, on a few points of each class.

    The first call of a numba kernel loads (or compiles) it; without this the
    first learner's fit time would include that once-per-process cost.
    """
    if is_regression(y):
        idx = np.arange(min(30, y.shape[0]))
    else:
        idx = np.concatenate([np.flatnonzero(y == c)[:6] for c in np.unique(y)])
    for Estimator in learners.values():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                make_learner(Estimator, random_state).fit(X[idx], y[idx])
        except Exception:  # the timed fit reports errors in the table
            pass


def format_table(baseline, rows, n_neighbors=3, score="acc."):
    """The result table as aligned plain text (``score``: its column name)."""
    head = ["learner", f"{n_neighbors}-NN {score} before", "after", "fit time (s)",
            "note"]
    body = [["Euclidean (baseline)", f"{baseline:.3f}", "-", "-", ""]]
    for r in rows:
        body.append([
            r["name"],
            f"{baseline:.3f}",
            "-" if r["accuracy"] is None else f"{r['accuracy']:.3f}",
            "-" if r["fit_time"] is None else f"{r['fit_time']:.3f}",
            r["note"],
        ])
    widths = [max(len(line[j]) for line in [head] + body) for j in range(len(head))]

    def fmt(line):
        cells = [c.ljust(w) if j in (0, 4) else c.rjust(w)
                 for j, (c, w) in enumerate(zip(line, widths))]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(head), rule] + [fmt(line) for line in body])


def _select_learners(requested, parser, kind="supervised"):
    available = available_learners(kind)
    if not requested:
        return available
    names = [n for item in requested for n in item.split(",") if n]
    lower = {k.lower(): k for k in available}
    chosen = {}
    for n in names:
        key = lower.get(n.lower())
        if key is None:
            other = "regression" if kind == "supervised" else "supervised"
            if n.lower() in {k.lower() for k in available_learners(other)}:
                target = ("a continuous target" if other == "regression"
                          else "class labels")
                here = ("class labels" if kind == "supervised"
                        else "a continuous target")
                parser.error(f"learner {n!r} learns from {target}, and this "
                             f"dataset has {here}; learners for it: "
                             f"{', '.join(available) or 'none'}.")
            parser.error(f"unknown learner {n!r}; available: "
                         f"{', '.join(available) or 'none'}.")
        chosen[key] = available[key]
    return chosen


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m mlearn",
        description="Fit mlearn's metric learners and compare k-NN accuracy "
                    "before and after the learned metric.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    demo = sub.add_parser(
        "demo", help="every learner on clustered noise, then on digits",
        description="Fit every available supervised learner on classes made of "
                    "clusters hidden among large-magnitude noise features "
                    "(mlearn.datasets.make_clustered_noise, raw features), then "
                    "on scikit-learn's digits (standardized); 70/30 stratified "
                    "split; print 3-NN held-out accuracy before/after and fit "
                    "time.")
    demo.add_argument("--learners", nargs="+", metavar="NAME",
                      help="only these learners (default: all available)")
    compare = sub.add_parser(
        "compare", help="learners on a bundled data set or a CSV file",
        description="Compare learners by k-NN test accuracy and fit time.")
    compare.add_argument(
        "--dataset", required=True, metavar="NAME|CSV",
        help=f"one of {', '.join(DATASETS)}, or a CSV path (numeric features; "
             "the label is the last column unless --target is given)")
    compare.add_argument("--target", metavar="COLUMN",
                         help="label column of a CSV file with a header row")
    compare.add_argument("--learners", nargs="+", metavar="NAME",
                         help="learners to compare, space or comma separated "
                              "(default: all available)")
    for p in (demo, compare):
        p.add_argument("--n-neighbors", type=int, default=3, metavar="K",
                       help="k of the k-NN classifier (default: 3)")
        p.add_argument("--test-size", type=float, default=0.3,
                       help="held-out fraction (default: 0.3)")
        p.add_argument("--random-state", type=int, default=0,
                       help="seed of the split and of the learners (default: 0)")
        p.add_argument("--quiet", action="store_true",
                       help="no progress on stderr")
        p.set_defaults(subparser=p)
    return parser


def main(argv=None):
    """Entry point of ``python -m mlearn``; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    parser = args.subparser  # errors then show the sub-command's usage
    if args.n_neighbors < 1:
        parser.error(f"--n-neighbors must be at least 1, got {args.n_neighbors}.")
    if not 0.0 < args.test_size < 1.0:
        parser.error(f"--test-size must be in (0, 1), got {args.test_size}.")
    progress = None if args.quiet else sys.stderr
    if args.command == "demo":
        tables = [(_clustered_noise(args.random_state), "raw features"),
                  ("digits", "standardized")]
    else:
        tables = [(args.dataset, "standardized")]
    for k, (dataset, how) in enumerate(tables):
        if isinstance(dataset, str):
            try:
                X, y, label = load_dataset(dataset, getattr(args, "target", None))
            except ValueError as exc:
                parser.error(str(exc))
        else:
            X, y, label = dataset
        regression = is_regression(y)
        learners = _select_learners(args.learners, parser,
                                    "regression" if regression else "supervised")
        target = ("a continuous target" if regression
                  else f"{len(np.unique(y))} classes")
        score = "R²" if regression else "acc."
        title = (f"{label}: {X.shape[0]} samples x {X.shape[1]} features, "
                 f"{target}; {how}; {args.n_neighbors}-NN "
                 f"{'R²' if regression else 'accuracy'} on a held-out "
                 f"{args.test_size:.0%}")
        if progress is not None:
            print(f"mlearn {args.command}: {title}; {len(learners)} learner(s)",
                  file=progress, flush=True)
        baseline, rows = run_comparison(
            X, y, learners, n_neighbors=args.n_neighbors,
            test_size=args.test_size, random_state=args.random_state,
            scale=how == "standardized", progress=progress)
        if k:
            print()
        print(title)
        print(format_table(baseline, rows, args.n_neighbors, score), flush=True)
    return 0
