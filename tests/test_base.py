"""The shared surface: get_metric in scikit-learn, feature names, threshold
calibration (checked optimal by brute force) and pair validation errors."""

import itertools
import re

import numpy as np
import pytest
from _pairs_toy import SimilarWhitening
from sklearn.cluster import DBSCAN

from conftest import make_blobs_data
from mlearn import Covariance
from mlearn.utils._calibration import best_threshold as _best_threshold


def brute_force(d, y, strategy, min_rate=None, beta=1.0):
    """Best value of the criterion over every threshold (all midpoints)."""
    cands = np.r_[d.min() - 1, (np.sort(d)[1:] + np.sort(d)[:-1]) / 2, d.max() + 1]
    best = -np.inf
    for t in cands:
        value = criterion(d, y, t, strategy, min_rate, beta)
        best = max(best, value)
    return best


def criterion(d, y, t, strategy, min_rate=None, beta=1.0):
    pred = np.where(d <= t, 1, -1)
    tp = np.sum((pred == 1) & (y == 1))
    fp = np.sum((pred == 1) & (y == -1))
    tn = np.sum((pred == -1) & (y == -1))
    fn = np.sum((pred == -1) & (y == 1))
    tpr, tnr = tp / max(tp + fn, 1), tn / max(tn + fp, 1)
    if strategy == "accuracy":
        return (tp + tn) / len(y)
    if strategy == "f_beta":
        den = (1 + beta**2) * tp + beta**2 * fn + fp
        return (1 + beta**2) * tp / den if den else 0.0
    if strategy == "max_tpr":
        return tpr if tnr >= min_rate else -np.inf
    return tnr if tpr >= min_rate else -np.inf


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "strategy, min_rate, beta",
    [("accuracy", None, 1.0), ("f_beta", None, 1.0), ("f_beta", None, 0.5),
     ("max_tpr", 0.7, 1.0), ("max_tnr", 0.6, 1.0)],
)
def test_threshold_is_optimal(seed, strategy, min_rate, beta):
    rs = np.random.RandomState(seed)
    y = np.where(rs.rand(25) < 0.5, 1, -1)
    d = np.round(np.abs(rs.normal(size=25) + (y == -1)), 1)  # ties included
    t = _best_threshold(d, y, strategy, min_rate, beta)
    assert criterion(d, y, t, strategy, min_rate, beta) == pytest.approx(
        brute_force(d, y, strategy, min_rate, beta))


def test_calibrate_threshold_on_estimator():
    X, yc = make_blobs_data(n_per_class=20)
    idx = np.array(list(itertools.combinations(range(0, 60, 3), 2)))
    y = np.where(yc[idx[:, 0]] == yc[idx[:, 1]], 1, -1)
    est = SimilarWhitening().fit(X[idx], y)
    d = est.pair_distance(X[idx])
    for strategy, min_rate in [("accuracy", None), ("f_beta", None),
                               ("max_tpr", 0.9), ("max_tnr", 0.9)]:
        est.calibrate_threshold(X[idx], y, strategy=strategy, min_rate=min_rate)
        assert criterion(d, y, est.threshold_, strategy, min_rate) == pytest.approx(
            brute_force(d, y, strategy, min_rate))
    est.set_threshold(1.5)
    np.testing.assert_array_equal(est.predict(X[idx]), np.where(d <= 1.5, 1, -1))


def test_calibration_errors():
    d, y = np.array([0.1, 0.2, 0.3]), np.array([1, -1, 1])
    with pytest.raises(ValueError, match=re.escape("strategy must be one of")):
        _best_threshold(d, y, "auc", None, 1.0)
    with pytest.raises(ValueError, match=re.escape(
            "strategy 'max_tpr' needs min_rate in [0, 1], got None")):
        _best_threshold(d, y, "max_tpr", None, 1.0)
    with pytest.raises(ValueError, match=re.escape("threshold must be finite")):
        SimilarWhitening().set_threshold(np.nan)


def test_get_metric_in_dbscan_matches_transform():
    X, _ = make_blobs_data(n_per_class=20)
    est = Covariance().fit(X)
    a = DBSCAN(eps=1.0, min_samples=3, metric=est.get_metric()).fit(X).labels_
    b = DBSCAN(eps=1.0, min_samples=3).fit(est.transform(X)).labels_
    np.testing.assert_array_equal(a, b)


def test_feature_names_out_and_pandas():
    pd = pytest.importorskip("pandas")
    X, y = make_blobs_data(n_per_class=10)
    df = pd.DataFrame(X, columns=list("abcd"))
    est = Covariance().set_output(transform="pandas").fit(df, y)
    out = est.transform(df)
    assert list(out.columns) == [f"covariance{i}" for i in range(4)]
    np.testing.assert_array_equal(est.feature_names_in_, list("abcd"))


def test_pair_distance_errors_on_supervised_learner():
    X, y = make_blobs_data(n_per_class=10)
    est = Covariance().fit(X, y)
    with pytest.raises(ValueError, match="need a preprocessor"):
        est.pair_distance(np.array([[0, 1], [2, 3]]))
    with pytest.raises(ValueError, match=re.escape(
            "pairs have 3 features, but the estimator was fitted with 4 features")):
        est.pair_distance(np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match=re.escape("pairs is empty")):
        est.pair_distance(np.zeros((0, 2, 4)))
    with pytest.raises(ValueError, match=re.escape("X has 3 features")):
        est.transform(X[:, :3])


def test_transform_float32_and_dask():
    X, y = make_blobs_data(n_per_class=10)
    est = Covariance().fit(X)
    T32 = est.transform(X.astype(np.float32))
    assert T32.dtype == np.float32
    np.testing.assert_allclose(T32, est.transform(X), rtol=1e-5, atol=1e-5)
    da = pytest.importorskip("dask.array")
    Td = est.transform(da.from_array(X, chunks=7))
    assert isinstance(Td, da.Array)
    np.testing.assert_allclose(Td.compute(), est.transform(X), rtol=1e-12)
    Xi = np.round(X * 10).astype(np.int64)
    Ti = est.transform(da.from_array(Xi, chunks=7))
    assert Ti.dtype == np.float64
    np.testing.assert_allclose(Ti.compute(), est.transform(Xi.astype(float)))
