"""Retrieval metrics: hand-computed cases, a brute-force twin, errors."""

import re

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlearn import Covariance
from mlearn.metrics import (
    mean_average_precision_at_r,
    precision_at_1,
    r_precision,
    retrieval_scorer,
)


def _brute(X, y, X_ref=None, y_ref=None):
    """Every query ranked against every reference with a full sort."""
    same = X_ref is None
    if same:
        X_ref, y_ref = X, y
    p1, rp, ap = [], [], []
    for i in range(X.shape[0]):
        d = np.sqrt(((X_ref - X[i]) ** 2).sum(axis=1))
        order = [j for j in np.argsort(d, kind="stable") if not (same and j == i)]
        correct = [y_ref[j] == y[i] for j in order]
        R = sum(y_ref[j] == y[i] for j in range(len(y_ref))) - int(same)
        if R == 0:
            continue
        p1.append(float(correct[0]))
        rp.append(sum(correct[:R]) / R)
        hits, total = 0, 0.0
        for rank in range(1, R + 1):
            if correct[rank - 1]:
                hits += 1
                total += hits / rank
        ap.append(total / R)
    return np.mean(p1), np.mean(rp), np.mean(ap)


def test_hand_computed_case():
    # query at 0 (label a); references a@1, b@2, a@3, a@4, b@5: R = 3, top three
    # are a, b, a -> P@1 = 1, R-precision = 2/3, AP@R = (1/1 + 2/3) / 3 = 5/9.
    X = [[0.0]]
    X_ref = [[1.0], [2.0], [3.0], [4.0], [5.0]]
    y, y_ref = ["a"], ["a", "b", "a", "a", "b"]
    assert precision_at_1(X, y, X_ref, y_ref) == 1.0
    assert r_precision(X, y, X_ref, y_ref) == pytest.approx(2 / 3)
    assert mean_average_precision_at_r(X, y, X_ref, y_ref) == pytest.approx(5 / 9)


def test_hand_computed_same_source():
    # 0.0 a, 0.1 a, 0.5 b, 1.0 b: the query 0.5 has 0.1 nearer than 1.0.
    X, y = [[0.0], [0.1], [0.5], [1.0]], [0, 0, 1, 1]
    assert precision_at_1(X, y) == 0.75
    assert r_precision(X, y) == 0.75
    assert mean_average_precision_at_r(X, y) == 0.75


def test_perfect_and_worst_separation():
    X = np.array([[0.0], [0.01], [0.02], [5.0], [5.01], [5.02]])
    y = np.array([0, 0, 0, 1, 1, 1])
    for f in (precision_at_1, r_precision, mean_average_precision_at_r):
        assert f(X, y) == 1.0
    # alternating labels along a line: every nearest neighbour is wrong
    X = np.arange(6.0)[:, None] ** 1.5
    y = np.array([0, 1, 0, 1, 0, 1])
    assert precision_at_1(X, y) == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    y = rng.integers(0, 4, size=40)
    got = (precision_at_1(X, y), r_precision(X, y), mean_average_precision_at_r(X, y))
    np.testing.assert_allclose(got, _brute(X, y), rtol=1e-12)
    X_ref = rng.normal(size=(30, 3))
    y_ref = rng.integers(0, 4, size=30)
    got = (precision_at_1(X, y, X_ref, y_ref), r_precision(X, y, X_ref, y_ref),
           mean_average_precision_at_r(X, y, X_ref, y_ref))
    np.testing.assert_allclose(got, _brute(X, y, X_ref, y_ref), rtol=1e-12)


def test_singleton_queries_are_left_out():
    # label 2 has one sample: it has no reference in the same-source protocol
    X = np.array([[0.0], [0.1], [3.0], [3.1], [1.5]])
    y = np.array([0, 0, 1, 1, 2])
    assert precision_at_1(X, y) == 1.0
    np.testing.assert_allclose(mean_average_precision_at_r(X, y), _brute(X, y)[2])


def test_map_at_r_at_most_r_precision():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(60, 4)), rng.integers(0, 3, size=60)
    assert mean_average_precision_at_r(X, y) <= r_precision(X, y) + 1e-12


def test_errors():
    with pytest.raises(ValueError, match="single sample"):
        precision_at_1([[0.0], [1.0]], [0, 1])
    with pytest.raises(ValueError, match="features"):
        precision_at_1([[0.0]], [0], [[0.0, 1.0]], [0])
    with pytest.raises(ValueError, match="without y_ref"):
        r_precision([[0.0], [1.0]], [0, 0], X_ref=[[0.0]])
    with pytest.raises(ValueError, match="NaN|infinity"):
        mean_average_precision_at_r([[np.nan], [1.0]], [0, 0])
    with pytest.raises(ValueError, match="inconsistent"):
        precision_at_1([[0.0], [1.0]], [0, 0, 1])
    with pytest.raises(ValueError, match="metric must be one of"):
        retrieval_scorer("accuracy")


def test_scorer_in_cross_val_score():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), Covariance())
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, X, y, cv=cv, scoring=retrieval_scorer("map_at_r"))
    manual = []
    for train, test in cv.split(X, y):
        Z = pipe.fit(X[train], y[train]).transform(X[test])
        manual.append(mean_average_precision_at_r(Z, y[test]))
    np.testing.assert_allclose(scores, manual)
    assert 0.3 < scores.min() < 1.0  # a real, non-trivial score


@pytest.mark.parametrize("func", [precision_at_1, r_precision,
                                  mean_average_precision_at_r])
def test_missing_labels_and_non_finite_embeddings_raise(func):
    rng = np.random.default_rng(4)
    X, X_ref = rng.normal(size=(8, 2)), rng.normal(size=(6, 2))
    y = np.array([0.0, 1.0, 0.0, 1.0, np.nan, 0.0, 1.0, 0.0])
    y_ref = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    msg = ("labels for X contain 1 missing or non-finite values (NaN, inf or None), "
           "first at index 4")
    with pytest.raises(ValueError, match=re.escape(msg)):
        func(X, y)
    with pytest.raises(ValueError, match=re.escape(msg)):
        func(X, y, X_ref, y_ref)
    y_ref_bad = y_ref.copy()
    y_ref_bad[[2, 5]] = [np.inf, np.nan]
    with pytest.raises(ValueError, match=re.escape(
            "labels for X_ref contain 2 missing or non-finite values")):
        func(X, np.nan_to_num(y), X_ref, y_ref_bad)
    labels = np.array(["a", "b", "a", None, "b", "a", "b", "a"], dtype=object)
    with pytest.raises(ValueError, match=re.escape("first at index 3")):
        func(X, labels)
    labels[3] = float("nan")
    with pytest.raises(ValueError, match=re.escape("first at index 3")):
        func(X, labels)
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb[2, 1] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            func(Xb, np.nan_to_num(y))
        with pytest.raises(ValueError, match="NaN|infinity"):
            func(X, np.nan_to_num(y), np.where(X_ref == X_ref[0, 0], bad, X_ref),
                 y_ref)
    # string and object labels without missing values still work
    labels[3] = "b"
    assert func(X, labels) == func(X, (labels == "a").astype(int))
