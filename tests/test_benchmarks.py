"""The benchmark scripts' ``--splits`` mode: means over splits, paired
differences (metric-learn is absent in the test environment: its rows say so)."""

import pathlib
import re
import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_wine
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.preprocessing import StandardScaler

BENCH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def bench_modules(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_estimators
    import bench_mlkr

    yield bench_estimators, bench_mlkr
    for name in ("bench_estimators", "bench_mlkr"):
        sys.modules.pop(name, None)


def _rows(text):
    return [[c.strip() for c in line.strip("|").split("|")]
            for line in text.splitlines() if re.match(r"\| \w", line)]


def test_bench_estimators_splits_mean(bench_modules, capsys):
    bench_estimators, _ = bench_modules
    assert bench_estimators.main(["--learners", "LFDA", "--datasets", "wine",
                                  "--splits", "3", "--impls", "mlearn"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert "3-NN acc (mean of 3)" in rows[0]
    euclid = next(r for r in rows if r[2] == "Euclidean")
    # the Euclidean mean, computed here independently over seeds 0, 1, 2
    X, y = load_wine(return_X_y=True)
    accs = []
    for seed in range(3):
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=seed)
        scaler = StandardScaler().fit(Xtr)
        accs.append(KNeighborsClassifier(n_neighbors=3)
                    .fit(scaler.transform(Xtr), ytr)
                    .score(scaler.transform(Xte), yte))
    assert float(euclid[5]) == pytest.approx(np.mean(accs), abs=5e-5)
    lfda = next(r for r in rows if r[2] == "LFDA")
    assert lfda[3] == "mlearn" and 0.9 < float(lfda[5]) <= 1.0
    assert lfda[7] == "-"  # no paired difference with itself


def test_bench_mlkr_splits_mean(bench_modules, capsys):
    _, bench_mlkr = bench_modules
    bench_mlkr.IMPLS.pop("metric-learn", None)
    assert bench_mlkr.main(["--datasets", "diabetes", "--splits", "2"]) == 0
    rows = _rows(capsys.readouterr().out)
    euclid = next(r for r in rows if r[2] == "Euclidean")
    X, y = load_diabetes(return_X_y=True)
    r2 = []
    for seed in range(2):
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed)
        scaler = StandardScaler().fit(Xtr)
        r2.append(KNeighborsRegressor(n_neighbors=5)
                  .fit(scaler.transform(Xtr), ytr)
                  .score(scaler.transform(Xte), yte))
    assert float(euclid[4]) == pytest.approx(np.mean(r2), abs=5e-5)
    assert np.isfinite(float(next(r for r in rows if r[2] == "mlearn")[4]))


def test_splits_must_be_positive(bench_modules):
    bench_estimators, bench_mlkr = bench_modules
    for main in (bench_estimators.main, bench_mlkr.main):
        with pytest.raises(SystemExit):
            main(["--splits", "0"])
