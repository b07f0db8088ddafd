"""Covariance against scikit-learn's covariance estimators and metric-learn."""

import re

import numpy as np
import pytest
from scipy.stats import chi2
from sklearn.covariance import OAS, EmpiricalCovariance, LedoitWolf, MinCovDet

from mlearn import Covariance


@pytest.fixture
def X():
    rs = np.random.RandomState(0)
    return rs.normal(size=(200, 4)) @ rs.normal(size=(4, 4)) + 3.0


@pytest.mark.parametrize(
    "estimator, reference",
    [("empirical", EmpiricalCovariance()), ("ledoit_wolf", LedoitWolf()),
     ("oas", OAS()), ("mcd", MinCovDet(random_state=0))],
)
def test_matches_sklearn_estimators(X, estimator, reference):
    cov = Covariance(estimator=estimator, random_state=0).fit(X)
    ref = reference.fit(X)
    np.testing.assert_allclose(cov.covariance_, ref.covariance_, rtol=1e-10)
    np.testing.assert_allclose(cov.location_, ref.location_, rtol=1e-10)
    np.testing.assert_allclose(cov.get_mahalanobis_matrix(), ref.get_precision(),
                               rtol=1e-8)
    np.testing.assert_allclose(cov.mahalanobis(X), ref.mahalanobis(X), rtol=1e-8)


def test_metric_learn_parity_formula(X):
    # metric-learn 0.7: M = pinvh(np.cov(X, rowvar=False)) -- ddof=1
    M_ml = np.linalg.pinv(np.cov(X, rowvar=False))
    M = Covariance().fit(X).get_mahalanobis_matrix()
    # same metric up to the n/(n-1) factor of the unbiased estimate
    n = X.shape[0]
    np.testing.assert_allclose(M, M_ml * n / (n - 1), rtol=1e-8)


def test_fixed_shrinkage(X):
    s = 0.3
    cov = Covariance(estimator="shrunk", shrinkage=s).fit(X)
    emp = np.cov(X, rowvar=False, bias=True)
    mu = np.trace(emp) / 4
    np.testing.assert_allclose(cov.covariance_, (1 - s) * emp + s * mu * np.eye(4),
                               rtol=1e-10)
    assert cov.shrinkage_ == s


def test_whitening(X):
    T = Covariance().fit(X).transform(X)
    np.testing.assert_allclose(np.cov(T, rowvar=False, bias=True), np.eye(4),
                               atol=1e-9)


def test_singular_covariance_uses_pseudo_inverse():
    rs = np.random.RandomState(1)
    Z = rs.normal(size=(50, 2))
    X = np.column_stack([Z, Z[:, 0] + Z[:, 1], np.ones(50)])  # rank 2 of 4
    cov = Covariance().fit(X)
    M = cov.get_mahalanobis_matrix()
    np.testing.assert_allclose(M, np.linalg.pinv(np.cov(X, rowvar=False, bias=True),
                                                 rcond=1e-10), atol=1e-8)
    assert np.all(np.isfinite(cov.transform(X)))
    # shrinkage keeps it positive definite instead
    M_lw = Covariance(estimator="ledoit_wolf").fit(X).get_mahalanobis_matrix()
    assert np.linalg.eigvalsh(M_lw).min() > 0


def test_more_features_than_samples():
    X = np.random.RandomState(2).normal(size=(5, 20))
    cov = Covariance().fit(X)
    assert np.all(np.isfinite(cov.components_))
    np.testing.assert_allclose(cov.get_mahalanobis_matrix(),
                               np.linalg.pinv(np.cov(X, rowvar=False, bias=True),
                                              rcond=1e-10), atol=1e-6)


@pytest.mark.parametrize("estimator", ["empirical", "oas", "shrunk"])
@pytest.mark.parametrize("assume_centered", [False, True])
def test_partial_fit_equals_fit(X, estimator, assume_centered, dtype):
    X = X.astype(dtype)
    full = Covariance(estimator=estimator, assume_centered=assume_centered).fit(X)
    stream = Covariance(estimator=estimator, assume_centered=assume_centered)
    for start in range(0, X.shape[0], 37):
        stream.partial_fit(X[start:start + 37])
    assert stream.n_samples_seen_ == X.shape[0]
    assert stream.components_.dtype == dtype
    np.testing.assert_allclose(stream.covariance_, full.covariance_, rtol=1e-10)
    np.testing.assert_allclose(stream.get_mahalanobis_matrix(),
                               full.get_mahalanobis_matrix(),
                               rtol=1e-4 if dtype == np.float32 else 1e-9)


def test_partial_fit_single_rows(X):
    stream = Covariance()
    for row in X[:30]:
        stream.partial_fit(row[None, :])
    np.testing.assert_allclose(stream.covariance_,
                               Covariance().fit(X[:30]).covariance_, rtol=1e-9)


def test_partial_fit_rejects_non_streamable_and_feature_change(X):
    with pytest.raises(ValueError, match=re.escape(
            "partial_fit supports estimator in ('empirical', 'oas', 'shrunk'); "
            "'mcd' needs all rows at once")):
        Covariance(estimator="mcd").partial_fit(X)
    est = Covariance().partial_fit(X)
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:, :3])


def test_mahalanobis_flags_outliers_chi2():
    rs = np.random.RandomState(3)
    X = rs.normal(size=(2000, 3))
    X[:20] += 8.0
    d2 = Covariance(estimator="mcd", random_state=0).fit(X).mahalanobis(X)
    cut = chi2.ppf(0.999, df=3)
    assert np.all(d2[:20] > cut)
    assert np.mean(d2[20:] > cut) < 0.01


def test_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        Covariance().fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="minimum of 2 is required"):
        Covariance().fit(np.ones((1, 3)))
