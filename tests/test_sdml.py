"""SDML: the graphical-lasso solution against cvxpy, the balanced scatter
against a loop, the lowered balance when the scatter is indefinite, twins and
bad input."""

import re
import warnings

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from conftest import make_blobs_data
from mlearn import SDML, SDMLPairs
from mlearn._constraints import positive_negative_pairs
from mlearn._sdml import (
    _MIN_RELATIVE_EIGENVALUE,
    _sdml_cvxpy,
    _sdml_scatter,
    _sdml_solve,
    sdml_objective,
)


def _pairs(n=12, d=4, seed=0):
    rs = np.random.RandomState(seed)
    P = rs.normal(size=(n, 2, d))
    y = np.where(np.arange(n) % 2 == 0, 1, -1)
    return P, y


def _scatter_loop(P, y, M0, beta):
    S = np.linalg.inv(M0).copy()
    for (a, b), yi in zip(P, y):
        S += beta * yi * np.outer(a - b, a - b)
    return S


@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.1])
def test_graphical_lasso_matches_cvxpy(alpha):
    P, y = _pairs()
    S, beta, _ = _sdml_scatter(P[:, 0] - P[:, 1], y.astype(float), np.eye(4), 0.02)
    assert beta == 0.02
    np.testing.assert_allclose(S, _scatter_loop(P, y, np.eye(4), 0.02), rtol=1e-12)
    M = _sdml_solve(S, alpha)
    Mc = _sdml_cvxpy(S, alpha)
    f, fc = sdml_objective(M, S, alpha), sdml_objective(Mc, S, alpha)
    assert abs(f - fc) <= 1e-5 * abs(fc)
    np.testing.assert_allclose(M, Mc, atol=2e-3 * np.abs(Mc).max())
    if alpha == 0.0:
        np.testing.assert_allclose(M, np.linalg.inv(S), rtol=1e-6)


def test_pairs_estimator_solves_the_problem_on_its_pairs():
    P, y = _pairs(n=20, d=3, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # balance small enough: no warning
        est = SDMLPairs(balance_param=0.01, sparsity_param=0.05,
                        prior="identity").fit(P, y)
    assert est.balance_param_ == 0.01
    Mc = _sdml_cvxpy(_scatter_loop(P, y, np.eye(3), 0.01), 0.05)
    np.testing.assert_allclose(est.get_mahalanobis_matrix(), Mc,
                               atol=2e-3 * np.abs(Mc).max())


def test_sparsity_param_zeroes_off_diagonal_entries():
    X, y = make_blobs_data(noise_dims=4)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Ms = [SDML(sparsity_param=a, random_state=0).fit(X, y)
              .get_mahalanobis_matrix() for a in (0.0, 0.05, 0.3)]
    off = ~np.eye(8, dtype=bool)
    zeros = [int(np.sum(np.abs(M[off]) < 1e-10)) for M in Ms]
    assert zeros[0] == 0 and zeros[0] < zeros[1] < zeros[2]


def test_indefinite_scatter_lowers_balance_with_a_warning():
    X, y = make_blobs_data(noise_dims=2)
    X = StandardScaler().fit_transform(X)
    rng = np.random.RandomState(0)
    M0 = np.diag(rng.uniform(0.5, 2.0, 6))
    with pytest.warns(UserWarning, match=re.escape(
            "SDML: with balance_param=0.5 the balanced pair scatter")):
        est = SDML(prior=M0, balance_param=0.5, random_state=0).fit(X, y)
    beta = est.balance_param_
    assert 0 < beta < 0.5
    # the scatter actually used has smallest eigenvalue 0.2 relative to M0
    a, b, c, d = positive_negative_pairs(y, 20 * 9, 0, same_length=True)
    idx = np.vstack([np.column_stack([a, b]), np.column_stack([c, d])])
    yy = np.r_[np.ones(len(a)), -np.ones(len(c))]
    S = _scatter_loop(X[idx], yy, M0, beta)
    R = np.linalg.cholesky(M0)
    np.testing.assert_allclose(np.linalg.eigvalsh(R.T @ S @ R)[0],
                               _MIN_RELATIVE_EIGENVALUE, rtol=1e-8)
    # the learned metric separates the classes at least as well as Euclidean
    from sklearn.neighbors import KNeighborsClassifier
    knn = KNeighborsClassifier(3)
    base = knn.fit(X[::2], y[::2]).score(X[1::2], y[1::2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Z = SDML(random_state=0).fit(X[::2], y[::2]).transform(X)
    assert knn.fit(Z[::2], y[::2]).score(Z[1::2], y[1::2]) >= base


def test_supervised_twin_equals_pairs_and_dtype(dtype):
    X, y = make_blobs_data(noise_dims=2)
    X = StandardScaler().fit_transform(X).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sup = SDML(n_constraints=30, random_state=3).fit(X, y)
        a, b, c, d = positive_negative_pairs(y, 30, np.random.RandomState(3),
                                             same_length=True)
        idx = np.vstack([np.column_stack([a, b]), np.column_stack([c, d])])
        py = np.r_[np.ones(len(a)), -np.ones(len(c))]
        twin = SDMLPairs(preprocessor=X).fit(idx, py)
    assert sup.components_.dtype == dtype
    np.testing.assert_array_equal(sup.components_, twin.components_)
    assert twin.score(X[idx], py) > 0.9


def test_one_feature_closed_form():
    rs = np.random.RandomState(0)
    P = rs.normal(size=(10, 2, 1))
    y = np.where(np.arange(10) < 5, 1, -1)
    est = SDMLPairs(balance_param=0.01, prior="identity").fit(P, y)
    S = _scatter_loop(P, y, np.eye(1), 0.01)
    np.testing.assert_allclose(est.get_mahalanobis_matrix(), 1.0 / S, rtol=1e-12)


@pytest.mark.parametrize("prior", ["identity", "covariance", "random"])
def test_priors_and_same_seed_same_result(prior):
    X, y = make_blobs_data(noise_dims=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = SDML(prior=prior, random_state=5).fit(X, y)
        b = SDML(prior=prior, random_state=5).fit(X, y)
    np.testing.assert_array_equal(a.components_, b.components_)
    assert np.all(np.isfinite(a.components_))


def test_bad_input():
    X, y = make_blobs_data()
    with pytest.raises(ValueError, match="single class"):
        SDML().fit(X, np.zeros(len(X)))
    Xn = X.copy()
    Xn[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SDML().fit(Xn, y)
    P, py = _pairs()
    with pytest.raises(ValueError):
        SDMLPairs().fit(np.concatenate([P, P[:, :1]], axis=1), py)
    with pytest.raises(ValueError, match="single class"):
        SDMLPairs().fit(P, np.ones(len(P)))
    est = SDMLPairs(balance_param=0.01).fit(P, py)
    with pytest.raises(ValueError):
        est.predict(P[:, :, :3])
    same = np.repeat(P[:, :1], 2, axis=1)
    msg = f"every one of the {len(P)} pairs has two identical points"
    with pytest.raises(ValueError, match=re.escape(msg)):
        SDMLPairs().fit(same, py)
    with pytest.raises(ValueError, match="prior must be strictly positive definite"):
        SDMLPairs(prior=np.diag([1.0, 1.0, 0.0, 1.0])).fit(P, py)


def test_compat_names():
    from mlearn.compat.metric_learn import SDML as ML_SDML
    from mlearn.compat.metric_learn import SDML_Supervised

    X, y = make_blobs_data(noise_dims=2)
    sup = SDML_Supervised(n_constraints=30, random_state=1)
    assert sup.get_params()["balance_param"] == 0.5
    assert sup.get_params()["sparsity_param"] == 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sup.fit(X, y)
        # compat draws metric-learn's pairs; on those pairs it is mlearn's SDML
        idx, pair_y = sup._sample_tuples(X, y, np.random.RandomState(1))
        ref = SDMLPairs(balance_param=0.5, prior="identity").fit(X[idx], pair_y)
    np.testing.assert_allclose(sup.components_, ref.components_, rtol=1e-10,
                               atol=1e-12)
    P, py = _pairs()
    ml = ML_SDML(balance_param=0.01).fit(P, py, calibration_params={
        "strategy": "max_tpr", "min_rate": 0.5})
    ref = SDMLPairs(balance_param=0.01, prior="identity").fit(
        P, py).calibrate_threshold(
        P, py, strategy="max_tpr", min_rate=0.5)
    # compat puts the similar pairs first (metric-learn's order): the sums run
    # in another order, equal to round-off
    np.testing.assert_allclose(ml.components_, ref.components_, rtol=1e-12,
                               atol=1e-15)
    assert ml.threshold_ == ref.threshold_


def test_auto_defaults():
    # 'auto' lowers balance_param silently; prior 'auto' is the inverse
    # covariance when it is well conditioned, else the identity
    X, y = make_blobs_data(noise_dims=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = SDML(random_state=0).fit(X, y)
    explicit = SDML(prior="covariance", balance_param=0.5, random_state=0)
    with pytest.warns(UserWarning, match="balance_param=0.5"):
        explicit.fit(X, y)
    np.testing.assert_allclose(auto.components_, explicit.components_)
    assert auto.balance_param_ == explicit.balance_param_ < 0.5
    singular = np.column_stack([X, X[:, :1]])  # a repeated feature
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = SDML(random_state=0).fit(singular, y)
        b = SDML(prior="identity", random_state=0).fit(singular, y)
    np.testing.assert_allclose(a.components_, b.components_)
