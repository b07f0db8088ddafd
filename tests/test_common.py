"""Checks every exported estimator passes: scikit-learn's estimator checks,
round trips (clone, pickle, set_params), Pipeline + kNN and M ↔ L consistency."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import (
    all_estimators,
    fast_instance,
    make_blobs_data,
    pairs_estimators,
    supervised_estimators,
)

SUPERVISED = supervised_estimators()
# learners fitted as fit(X, y) on points: sklearn's checks apply to all of them
# (for chunk learners the labels serve as chunk ids)
POINT_LEARNERS = all_estimators(("supervised", "regression", "chunks"))
REGRESSION = all_estimators("regression")


def test_estimators_are_discovered():
    names = {E.__name__ for E in SUPERVISED}
    assert "Covariance" in names


@parametrize_with_checks([fast_instance(E) for E in POINT_LEARNERS])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(params=POINT_LEARNERS, ids=lambda E: E.__name__)
def fitted(request):
    X, y = make_blobs_data(n_per_class=15, noise_dims=1)
    if request.param._kind == "regression":
        y = X[:, 0] + 0.5 * X[:, 1]
    return fast_instance(request.param).fit(X, y), X, y


@pytest.mark.parametrize("Estimator", POINT_LEARNERS, ids=lambda E: E.__name__)
def test_fit_without_y_gives_sklearns_error(Estimator):
    X, _ = make_blobs_data(n_per_class=15)
    est = fast_instance(Estimator)
    if not est.__sklearn_tags__().target_tags.required:
        pytest.skip(f"{Estimator.__name__} does not need y")
    with pytest.raises(ValueError, match="requires y to be passed"):
        est.fit(X, None)


@pytest.mark.parametrize("Estimator", REGRESSION, ids=lambda E: E.__name__)
def test_regression_pipeline_knn(Estimator):
    from sklearn.datasets import make_friedman1
    from sklearn.neighbors import KNeighborsRegressor

    X, y = make_friedman1(n_samples=200, n_features=6, random_state=0)
    pipe = make_pipeline(StandardScaler(), fast_instance(Estimator),
                         KNeighborsRegressor(n_neighbors=5))
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.3


def test_every_learner_declares_a_kind():
    from sklearn.base import BaseEstimator

    import mlearn
    from mlearn.base import KINDS

    for name in mlearn.__all__:
        obj = getattr(mlearn, name)
        if isinstance(obj, type) and issubclass(obj, BaseEstimator):
            assert getattr(obj, "_kind", None) in KINDS, name


def test_pickle_round_trip(fitted):
    est, X, _ = fitted
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.transform(X), est.transform(X))
    np.testing.assert_array_equal(again.components_, est.components_)


def test_clone_and_set_params(fitted):
    est, X, y = fitted
    cloned = clone(est)
    assert not hasattr(cloned, "components_")
    assert cloned.get_params() == est.get_params()
    refit = cloned.set_params(**cloned.get_params()).fit(X, y)
    np.testing.assert_allclose(refit.components_, est.components_, rtol=1e-7,
                               atol=1e-9)


def test_same_seed_same_result(fitted):
    est, X, y = fitted
    again = clone(est).fit(X, y)
    np.testing.assert_array_equal(again.components_, est.components_)


def test_metric_matrix_and_components_agree(fitted):
    est, X, _ = fitted
    L = est.components_
    M = est.get_mahalanobis_matrix()
    np.testing.assert_allclose(M, L.T @ L, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(M, M.T, atol=1e-12)
    assert np.linalg.eigvalsh(M).min() > -1e-8 * np.abs(M).max()
    diff = X[:10] - X[10:20]
    expected = np.sqrt(np.einsum("ij,jk,ik->i", diff, M, diff).clip(0))
    pairs = np.stack([X[:10], X[10:20]], axis=1)
    np.testing.assert_allclose(est.pair_distance(pairs), expected, rtol=1e-7,
                               atol=1e-9)
    np.testing.assert_allclose(est.pair_score(pairs), -expected, rtol=1e-7,
                               atol=1e-9)
    T = est.transform(X)
    np.testing.assert_allclose(np.linalg.norm(T[:10] - T[10:20], axis=1), expected,
                               rtol=1e-7, atol=1e-9)


def test_get_metric_agrees_with_transform(fitted):
    est, X, _ = fitted
    metric = est.get_metric()
    sq = est.get_metric(squared=True)
    T = est.transform(X)
    for i, j in [(0, 1), (3, 40), (7, 7)]:
        expected = np.linalg.norm(T[i] - T[j])
        assert metric(X[i], X[j]) == pytest.approx(expected, rel=1e-10, abs=1e-12)
        assert sq(X[i], X[j]) == pytest.approx(expected**2, rel=1e-10, abs=1e-12)
    assert pickle.loads(pickle.dumps(metric))(X[0], X[1]) == metric(X[0], X[1])
    with pytest.raises(ValueError, match="u and v must be 1-D with n_features"):
        metric(X[0], X[1, :-1])


@pytest.mark.parametrize("Estimator", SUPERVISED, ids=lambda E: E.__name__)
def test_pipeline_knn_and_model_selection(Estimator):
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), fast_instance(Estimator),
                         KNeighborsClassifier(n_neighbors=3))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.8
    name = pipe.steps[1][0]
    grid = GridSearchCV(pipe, {"kneighborsclassifier__n_neighbors": [1, 3]}, cv=3)
    grid.fit(X, y)
    assert grid.best_score_ > 0.8
    assert name in grid.best_estimator_.named_steps


@pytest.mark.parametrize("Estimator", SUPERVISED, ids=lambda E: E.__name__)
def test_get_metric_in_knn_matches_transform_route(Estimator):
    X, y = make_blobs_data(n_per_class=15)
    est = fast_instance(Estimator).fit(X, y)
    knn_metric = KNeighborsClassifier(n_neighbors=3, metric=est.get_metric())
    knn_metric.fit(X, y)
    knn_transform = KNeighborsClassifier(n_neighbors=3).fit(est.transform(X), y)
    d1, i1 = knn_metric.kneighbors(X[:10])
    d2, i2 = knn_transform.kneighbors(est.transform(X[:10]))
    np.testing.assert_allclose(d1, d2, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(knn_metric.predict(X), knn_transform.predict(
        est.transform(X)))


def test_pairs_estimators_listed():
    # pairs learners are covered by tests/test_pairs_common.py
    for E in pairs_estimators():
        assert hasattr(E, "calibrate_threshold")
