"""ITML: optimum of the slack formulation against cvxpy, kernel vs numpy loop,
twins, index pairs, priors and bounds."""

import re

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from conftest import make_blobs_data
from mlearn import ITML, ITMLPairs
from mlearn._constraints import positive_negative_pairs
from mlearn._itml import (
    _default_bounds,
    _itml_bregman,
    _itml_cvxpy,
    itml_objective,
)
from mlearn._kernels._itml import _itml_sweep


def _problem(d=5, n=50, seed=0):
    rs = np.random.RandomState(seed)
    V = rs.normal(size=(n, d))
    sign = np.where(rs.rand(n) < 0.5, 1.0, -1.0)
    return V, sign


@pytest.mark.parametrize("gamma", [0.1, 1.0, 10.0])
def test_bregman_matches_cvxpy_with_slack(gamma):
    # The cyclic projections with the γ/(γ+1) factor minimise
    # D_ld(A, A0) + γ D_ld(diag ξ, diag ξ0) s.t. the slack constraints.
    V, sign = _problem()
    A0 = np.eye(5)
    u, l_ = _default_bounds(V, A0)
    xi0 = np.where(sign > 0, u, l_)
    A, xi, lam, _, converged = _itml_bregman(V, sign, xi0, A0, gamma, 10**5, 1e-10)
    Ac, xic = _itml_cvxpy(V, sign, xi0, A0, gamma)
    assert converged and np.all(lam >= 0)
    f = itml_objective(A, xi, A0, xi0, gamma)
    fc = itml_objective(Ac, xic, A0, xi0, gamma)
    assert abs(f - fc) <= 1e-4 * abs(fc)
    dist = np.einsum("ij,jk,ik->i", V, A, V)
    viol = np.where(sign > 0, dist - xi, xi - dist) / xi
    assert viol.max() <= 1e-6


def test_hard_constraints_with_infinite_gamma():
    V, sign = _problem(d=4, n=4, seed=2)
    A0 = np.eye(4)
    xi0 = np.where(sign > 0, 1.0, 8.0)  # 4 independent v: feasible
    A, _, _, _, converged = _itml_bregman(V, sign, xi0, A0, np.inf, 10**5, 1e-10)
    Ac, _ = _itml_cvxpy(V, sign, xi0, A0, np.inf)
    assert converged
    dist = np.einsum("ij,jk,ik->i", V, A, V)
    assert np.all(np.where(sign > 0, dist <= 1.0 + 1e-6, dist >= 8.0 - 1e-5))
    f = itml_objective(A, xi0, A0, xi0, np.inf)
    fc = itml_objective(Ac, xi0, A0, xi0, np.inf)
    assert abs(f - fc) <= 1e-4 * abs(fc)


def test_sweep_matches_numpy_loop():
    V, sign = _problem(d=4, n=20, seed=1)
    A = np.eye(4) * 2.0
    xi = np.where(sign > 0, 1.0, 6.0)
    lam = np.zeros(20)
    A_ref, xi_ref, lam_ref = A.copy(), xi.copy(), lam.copy()
    gamma = 2.0
    _itml_sweep(A, V, sign, xi, lam, gamma)
    g = gamma / (gamma + 1.0)
    for k, v in enumerate(V):
        p = v @ A_ref @ v
        alpha = min(lam_ref[k], sign[k] * g * (1 / p - 1 / xi_ref[k]))
        lam_ref[k] -= alpha
        beta = sign[k] * alpha / (1 - sign[k] * alpha * p)
        xi_ref[k] = 1 / (1 / xi_ref[k] + sign[k] * alpha / gamma)
        Av = A_ref @ v
        A_ref += beta * np.outer(Av, Av)
    np.testing.assert_allclose(A, A_ref, rtol=1e-12)
    np.testing.assert_allclose(xi, xi_ref, rtol=1e-12)
    np.testing.assert_allclose(lam, lam_ref, atol=1e-14)


def test_single_constraint_known_answer():
    # One similar pair with hard bound u: the LogDet projection of I gives
    # A = I + β v vᵀ with vᵀAv = u exactly.
    v = np.array([[3.0, 4.0]])
    A, _, _, _, _ = _itml_bregman(v, np.array([1.0]), np.array([1.0]), np.eye(2),
                                  np.inf, 100, 1e-12)
    beta = (1.0 / 25.0 - 1.0) / 25.0
    np.testing.assert_allclose(A, np.eye(2) + beta * v.T @ v, atol=1e-12)


def test_default_bounds_are_squared_distance_percentiles():
    V, _ = _problem()
    u, l_ = _default_bounds(V, np.eye(5))
    sq = np.sum(V**2, axis=1)
    assert (u, l_) == tuple(np.percentile(sq, (5, 95)))


@pytest.mark.parametrize("prior", ["identity", "covariance", "random"])
def test_pairs_twin_agrees_with_supervised(prior, dtype):
    X, y = make_blobs_data(noise_dims=2)
    # standardised, as ITML's LogDet divergence to the prior is scale-dependent
    X = StandardScaler().fit_transform(X).astype(dtype)
    sup = ITML(prior=prior, n_constraints=40, random_state=3).fit(X, y)
    rng = np.random.RandomState(3)
    a, b, c, d = positive_negative_pairs(y, 40, rng, same_length=True)
    idx = np.vstack([np.column_stack([a, b]), np.column_stack([c, d])])
    py = np.r_[np.ones(len(a)), -np.ones(len(c))]
    # the supervised learner draws prior='random' after sampling: same stream
    twin = ITMLPairs(prior=prior, preprocessor=X, random_state=rng).fit(idx, py)
    rng = np.random.RandomState(3)
    positive_negative_pairs(y, 40, rng, same_length=True)
    arr = ITMLPairs(prior=prior, random_state=rng).fit(X[idx], py)
    assert sup.components_.dtype == dtype
    np.testing.assert_array_equal(twin.components_, sup.components_)
    np.testing.assert_array_equal(twin.components_, arr.components_)
    assert twin.score(X[idx], py) > 0.9


def test_cvxpy_solver_option_agrees():
    X, y = make_blobs_data(n_per_class=10, n_features=3)
    a = ITML(n_constraints=15, tol=1e-9, max_iter=10**5, random_state=0).fit(X, y)
    b = ITML(n_constraints=15, solver="cvxpy", random_state=0).fit(X, y)
    Ma, Mb = a.get_mahalanobis_matrix(), b.get_mahalanobis_matrix()
    np.testing.assert_allclose(Ma, Mb, atol=1e-3 * np.abs(Mb).max())


def test_n_components_and_bounds():
    X, y = make_blobs_data(noise_dims=2)
    est = ITML(n_components=2, bounds=(1.0, 50.0), random_state=0).fit(X, y)
    assert est.components_.shape == (2, 6)
    np.testing.assert_array_equal(est.bounds_, [1.0, 50.0])
    msg = "bounds must be two finite non-negative numbers (u, l), got (1.0,)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        ITML(bounds=(1.0,)).fit(X, y)


def test_non_pd_prior_raises():
    X, y = make_blobs_data(n_features=2)
    with pytest.raises(ValueError, match="prior must be strictly positive definite"):
        ITML(prior=np.diag([1.0, 0.0])).fit(X, y)
    with pytest.raises(ValueError, match=re.escape("prior must have shape (2, 2)")):
        ITML(prior=np.eye(3)).fit(X, y)


def test_convergence_warning_and_n_iter():
    X, y = make_blobs_data(noise_dims=2)
    with pytest.warns(Warning, match="did not converge"):
        est = ITML(max_iter=2, tol=0.0, random_state=0).fit(X, y)
    assert est.n_iter_ == 2
