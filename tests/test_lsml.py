"""LSML: loss and gradient against check_grad and a naive loop, optimality
against metric-learn's gradient-descent scheme, weights, twins, bad input."""

import re
import warnings

import numpy as np
import pytest
from scipy.optimize import check_grad
from sklearn.preprocessing import StandardScaler

from conftest import make_blobs_data
from mlearn import LSML, LSMLQuadruplets
from mlearn._constraints import positive_negative_pairs
from mlearn._lsml import (
    _cholesky_factor,
    _lsml_solve,
    _theta_from_metric,
    lsml_loss,
    lsml_objective,
)
from mlearn.utils._sklearn_compat import ConvergenceWarning


def _problem(d=4, n=30, seed=0):
    rs = np.random.RandomState(seed)
    Vab = rs.normal(size=(n, d))
    Vcd = rs.normal(size=(n, d))
    w = rs.uniform(0.5, 1.5, size=n)
    A = rs.normal(size=(d, d))
    M0 = A @ A.T + d * np.eye(d)
    return Vab, Vcd, w / w.sum(), M0


def _naive(M, Vab, Vcd, w, M0_inv):
    """Loop over quadruplets: metric-learn's loss, and its gradient with the
    weights it leaves out restored."""
    loss = np.sum(M * M0_inv) - np.log(np.linalg.det(M))
    grad = M0_inv - np.linalg.inv(M)
    for vab, vcd, wq in zip(Vab, Vcd, w):
        dab, dcd = vab @ M @ vab, vcd @ M @ vcd
        if dab > dcd:
            loss += wq * (np.sqrt(dab) - np.sqrt(dcd)) ** 2
            grad += wq * ((1 - np.sqrt(dcd / dab)) * np.outer(vab, vab)
                          + (1 - np.sqrt(dab / dcd)) * np.outer(vcd, vcd))
    return loss, grad


def test_objective_matches_naive_loop_and_check_grad():
    Vab, Vcd, w, M0 = _problem()
    M0_inv = np.linalg.inv(M0)
    M = np.eye(4) + 0.3 * np.ones((4, 4))
    loss, grad = lsml_objective(M, Vab, Vcd, w, M0_inv)
    loss_ref, grad_ref = _naive(M, Vab, Vcd, w, M0_inv)
    assert 0 < np.sum(np.sum((Vab @ M) * Vab, 1) > np.sum((Vcd @ M) * Vcd, 1)) < 30
    np.testing.assert_allclose(loss, loss_ref, rtol=1e-12)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-10, atol=1e-12)

    def f(x):
        X = x.reshape(4, 4)
        return lsml_objective((X + X.T) / 2, Vab, Vcd, w, M0_inv)[0]

    def g(x):
        X = x.reshape(4, 4)
        return lsml_objective((X + X.T) / 2, Vab, Vcd, w, M0_inv)[1].ravel()

    x0 = M.ravel()
    assert check_grad(f, g, x0, epsilon=1e-7) < 1e-5 * np.linalg.norm(g(x0))


def test_cholesky_loss_matches_objective_and_check_grad():
    Vab, Vcd, w, M0 = _problem(d=5, n=40, seed=1)
    M0_inv = np.linalg.inv(M0)
    rs = np.random.RandomState(2)
    A = rs.normal(size=(5, 5))
    M = A @ A.T + np.eye(5)
    theta = _theta_from_metric(M)
    C, _ = _cholesky_factor(theta, 5)
    np.testing.assert_allclose(C @ C.T, M, rtol=1e-12)
    loss, grad = lsml_loss(theta, Vab, Vcd, w, M0_inv)
    np.testing.assert_allclose(loss, _naive(M, Vab, Vcd, w, M0_inv)[0], rtol=1e-10)
    err = check_grad(lambda t: lsml_loss(t, Vab, Vcd, w, M0_inv)[0],
                     lambda t: lsml_loss(t, Vab, Vcd, w, M0_inv)[1], theta,
                     epsilon=1e-7)
    assert err < 1e-5 * np.linalg.norm(grad)


def test_identical_dissimilar_pair_has_finite_gradient():
    # c = d: d_cd = 0, the comparison is always violated with residual √d_ab
    Vab, Vcd, w, M0 = _problem(d=3, n=5)
    Vcd[0] = 0.0
    loss, grad = lsml_objective(np.eye(3), Vab, Vcd, w, np.eye(3))
    loss_ref, grad_ref = _naive(np.eye(3), Vab[1:], Vcd[1:], w[1:], np.eye(3))
    np.testing.assert_allclose(loss, loss_ref + w[0] * Vab[0] @ Vab[0])
    np.testing.assert_allclose(grad, grad_ref + w[0] * np.outer(Vab[0], Vab[0]))


def _metric_learn_descent(Vab, Vcd, w, M0, n_iter):
    """metric-learn's scheme (step-size grid, eigenvalue clipping), with the
    gradient of the weighted loss."""
    M0_inv = np.linalg.inv(M0)
    M = M0.copy()
    best = lsml_objective(M, Vab, Vcd, w, M0_inv)[0]
    for _ in range(n_iter):
        grad = lsml_objective(M, Vab, Vcd, w, M0_inv)[1]
        gn = np.linalg.norm(grad)
        M_best = None
        for step in np.logspace(-10, 0, 10) / gn:
            ev, V = np.linalg.eigh(M - step * grad)
            cand = (V * np.maximum(ev, 1e-8)) @ V.T
            val = lsml_objective(cand, Vab, Vcd, w, M0_inv)[0]
            if val < best:
                best, M_best = val, cand
        if M_best is None:
            break
        M = M_best
    return M, best


def test_solution_is_stationary_and_beats_gradient_descent():
    X, y = make_blobs_data(noise_dims=2)
    X = StandardScaler().fit_transform(X)
    a, b, c, d = positive_negative_pairs(y, 80, 0, same_length=True)
    Vab, Vcd = X[a] - X[b], X[c] - X[d]
    w = np.full(len(a), 1.0 / len(a))
    M, loss, _, converged = _lsml_solve(Vab, Vcd, w, np.eye(6), 1e-9, 10**4)
    assert converged
    f, grad = lsml_objective(M, Vab, Vcd, w, np.eye(6))
    np.testing.assert_allclose(loss, f, rtol=1e-12)
    # L-BFGS stops on the relative decrease of f (ftol ~ 2e-9) first
    assert np.abs(grad).max() < 1e-4
    _, f_gd = _metric_learn_descent(Vab, Vcd, w, np.eye(6), 300)
    assert f <= f_gd * (1 + 1e-8)  # both at the optimum up to ftol
    # the comparisons moved the metric away from the prior
    assert f < lsml_objective(np.eye(6), Vab, Vcd, w, np.eye(6))[0] - 1e-3


def _quadruplets(dtype=np.float64, n=60, seed=0):
    X, y = make_blobs_data(noise_dims=2, random_state=seed)
    X = StandardScaler().fit_transform(X).astype(dtype)
    a, b, c, d = positive_negative_pairs(y, n, seed, same_length=True)
    return X, y, np.stack([X[a], X[b], X[c], X[d]], axis=1)


def test_supervised_twin_equals_quadruplets_and_orders_them(dtype):
    X, y, _ = _quadruplets(dtype)
    sup = LSML(n_constraints=60, random_state=3).fit(X, y)
    a, b, c, d = positive_negative_pairs(y, 60, np.random.RandomState(3),
                                         same_length=True)
    Q = X[np.column_stack([a, b, c, d])]
    quad = LSMLQuadruplets().fit(Q)
    idx = LSMLQuadruplets(preprocessor=X).fit(np.column_stack([a, b, c, d]))
    assert sup.components_.dtype == dtype
    np.testing.assert_array_equal(sup.components_, quad.components_)
    np.testing.assert_array_equal(idx.components_, quad.components_)
    with pytest.warns(ConvergenceWarning):
        one_step = LSMLQuadruplets(max_iter=1).fit(Q)
    assert quad.score(Q) >= one_step.score(Q)
    assert quad.score(Q) >= 0.9
    np.testing.assert_array_equal(quad.predict(Q[:, [2, 3, 0, 1]]),
                                  -quad.predict(Q))


def test_labels_minus_one_read_quadruplets_reversed():
    _, _, Q = _quadruplets()
    y = np.where(np.arange(len(Q)) % 2 == 0, 1, -1)
    Qf = np.where((y == -1)[:, None, None], Q[:, [2, 3, 0, 1]], Q)
    a = LSMLQuadruplets().fit(Qf, y)
    b = LSMLQuadruplets().fit(Q)
    np.testing.assert_allclose(a.components_, b.components_, rtol=1e-12)
    assert a.score(Qf, y) == b.score(Q)


def test_zero_weight_drops_a_quadruplet():
    _, _, Q = _quadruplets()
    w = np.ones(len(Q))
    w[:10] = 0.0
    a = LSMLQuadruplets(weights=w, tol=1e-8).fit(Q)
    b = LSMLQuadruplets(tol=1e-8).fit(Q[10:])
    np.testing.assert_allclose(a.get_mahalanobis_matrix(),
                               b.get_mahalanobis_matrix(), rtol=1e-8, atol=1e-10)
    # uniform weights of any scale are the default
    c = LSMLQuadruplets(weights=np.full(len(Q), 7.0)).fit(Q)
    np.testing.assert_allclose(c.components_, LSMLQuadruplets().fit(Q).components_,
                               rtol=1e-10)


@pytest.mark.parametrize("prior", ["identity", "covariance", "random"])
def test_priors_and_same_seed_same_result(prior):
    X, y, _ = _quadruplets()
    a = LSML(prior=prior, random_state=5).fit(X, y)
    b = LSML(prior=prior, random_state=5).fit(X, y)
    np.testing.assert_array_equal(a.components_, b.components_)
    assert np.isfinite(a.loss_) and a.n_iter_ >= 1


def test_convergence_warning():
    _, _, Q = _quadruplets()
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        est = LSMLQuadruplets(max_iter=1, tol=0.0).fit(Q)
    assert est.n_iter_ == 1


def test_bad_input():
    X, y, Q = _quadruplets()
    with pytest.raises(ValueError, match="single class"):
        LSML().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError):
        LSMLQuadruplets().fit(Q[:, :3])
    Qn = Q.copy()
    Qn[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LSMLQuadruplets().fit(Qn)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LSML().fit(Xn, y)
    est = LSMLQuadruplets().fit(Q)
    with pytest.raises(ValueError):
        est.predict(Q[:, :, :3])
    same = np.repeat(Q[:, :1], 4, axis=1)
    msg = (f"every one of the {len(Q)} quadruplets compares a pair of identical "
           "points (a = b or c = d)")
    with pytest.raises(ValueError, match=re.escape(msg)):
        LSMLQuadruplets().fit(same)
    msg = f"weights must have one value per quadruplet ({len(Q)}), got shape (3,)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        LSMLQuadruplets(weights=[1.0, 2.0, 3.0]).fit(Q)
    with pytest.raises(ValueError, match="weights must be finite, non-negative"):
        LSMLQuadruplets(weights=-np.ones(len(Q))).fit(Q)
    with pytest.raises(ValueError, match="prior must be strictly positive definite"):
        LSMLQuadruplets(prior=np.diag([1.0, 0.0, 1.0, 1.0, 1.0, 1.0])).fit(Q)


def test_compat_names_and_fit_weights():
    from mlearn.compat.metric_learn import LSML as ML_LSML
    from mlearn.compat.metric_learn import LSML_Supervised

    X, y, Q = _quadruplets()
    w = np.linspace(1.0, 2.0, len(Q))
    ml = ML_LSML().fit(Q, w)  # metric-learn's fit(quadruplets, weights)
    np.testing.assert_array_equal(
        ml.components_, LSMLQuadruplets(weights=w).fit(Q).components_)
    sup = LSML_Supervised(n_constraints=60, random_state=1)
    assert sup.get_params()["tol"] == 1e-3 and sup.get_params()["max_iter"] == 1000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sup.fit(X, y)
    np.testing.assert_array_equal(
        sup.components_,
        LSML(n_constraints=60, random_state=1).fit(X, y).components_)
