"""MMC: certified optimum against cvxpy, gradients, twins, index pairs."""

import re

import numpy as np
import pytest
from scipy.optimize import check_grad

from conftest import make_blobs_data
from mlearn import MMC, MMCPairs
from mlearn._constraints import positive_negative_pairs
from mlearn._mmc import (
    _mmc_cvxpy_diagonal,
    _mmc_cvxpy_full,
    _mmc_diagonal,
    _mmc_full,
    _project_spectraplex,
    mmc_diagonal_loss,
    mmc_spread,
)


def _problem(d=5, n=30, seed=0):
    rs = np.random.RandomState(seed)
    Vs = rs.normal(size=(n, d)) * rs.uniform(0.3, 2.0, size=d)
    Vd = rs.normal(size=(n, d)) * rs.uniform(0.2, 2.0, size=d)
    return Vs, Vd


def _spread(M, Vd):
    return np.sum(np.sqrt(np.einsum("ij,jk,ik->i", Vd, M, Vd)))


@pytest.mark.parametrize("seed", [0, 1])
def test_full_matches_cvxpy(seed):
    Vs, Vd = _problem(d=3 + 3 * seed, seed=seed)
    M, f, _, converged = _mmc_full(Vs, Vd, np.eye(Vs.shape[1]), 5000, 10**6, 1e-7)
    Mc = _mmc_cvxpy_full(Vs, Vd, np.eye(Vs.shape[1]))
    assert converged
    assert np.linalg.eigvalsh(M)[0] > -1e-10
    assert np.sum(Vs @ M * Vs) <= 1 + 1e-8
    assert _spread(M, Vd) >= _spread(Mc, Vd) * (1 - 1e-4)


def test_regularized_full_matches_cvxpy():
    Vs, Vd = _problem()
    d = Vs.shape[1]
    est = MMCPairs(regularization=1.0, tol=1e-6, max_iter=5000)
    P = np.stack([np.vstack([Vs, Vd]), np.zeros((60, d))], axis=1)
    y = np.r_[np.ones(30), -np.ones(30)]
    Mf = est.fit(P, y).get_mahalanobis_matrix()
    Mc = est.set_params(solver="cvxpy").fit(P, y).get_mahalanobis_matrix()
    np.testing.assert_allclose(Mf, Mc, atol=1e-3 * np.abs(Mc).max())


@pytest.mark.parametrize("c", [0.1, 1.0, 10.0])
def test_diagonal_matches_cvxpy(c):
    Vs, Vd = _problem()
    s_sum, Q = np.sum(Vs**2, 0), Vd**2
    w, loss, _, converged = _mmc_diagonal(Vs, Vd, np.ones(5), c, 1000, 1e-6)
    wc = _mmc_cvxpy_diagonal(Vs, Vd, c)
    lc = mmc_diagonal_loss(wc, s_sum, Q, c)[0]
    assert converged and np.all(w >= 0)
    assert loss <= lc + 1e-4 * abs(lc)


def test_spread_gradient_and_naive_loop():
    rs = np.random.RandomState(0)
    Dt = rs.normal(size=(20, 4))
    B = rs.normal(size=(4, 4))
    N = B @ B.T

    def f(x):
        return mmc_spread(x.reshape(4, 4), Dt)[0]

    def g(x):
        return mmc_spread(x.reshape(4, 4), Dt)[1].ravel()

    assert check_grad(f, g, N.ravel()) < 1e-6 * np.linalg.norm(g(N.ravel()))
    naive = sum(np.sqrt(v @ N @ v) for v in Dt)
    assert f(N.ravel()) == pytest.approx(naive, rel=1e-12)


def test_diagonal_loss_gradient_hessian():
    Vs, Vd = _problem()
    s_sum, Q = np.sum(Vs**2, 0), Vd**2
    w = np.random.RandomState(1).uniform(0.5, 2.0, 5)
    g = mmc_diagonal_loss(w, s_sum, Q, 2.0)[1]
    assert check_grad(lambda x: mmc_diagonal_loss(x, s_sum, Q, 2.0)[0],
                      lambda x: mmc_diagonal_loss(x, s_sum, Q, 2.0)[1],
                      w) < 1e-6 * np.linalg.norm(g)
    H = mmc_diagonal_loss(w, s_sum, Q, 2.0)[2]
    eps = 1e-6
    Hn = np.column_stack([(mmc_diagonal_loss(w + eps * e, s_sum, Q, 2.0)[1]
                           - mmc_diagonal_loss(w - eps * e, s_sum, Q, 2.0)[1])
                          / (2 * eps) for e in np.eye(5)])
    np.testing.assert_allclose(H, Hn, rtol=1e-5, atol=1e-8)


def test_projection_onto_trace_ball():
    rs = np.random.RandomState(0)
    Y = rs.normal(size=(5, 5))
    N = _project_spectraplex(Y + Y.T)
    assert np.linalg.eigvalsh(N)[0] > -1e-12 and np.trace(N) <= 1 + 1e-12
    small = np.diag([0.1, 0.2, 0.0])
    np.testing.assert_allclose(_project_spectraplex(small), small)


def test_toy_ignores_noise_dimension():
    # similar pairs differ only along axis 1, dissimilar ones along axis 0
    X, y = make_blobs_data(n_per_class=20, n_classes=2, n_features=1,
                           noise_dims=1, random_state=0)
    M = MMC(diagonal=True, random_state=0).fit(X, y).get_mahalanobis_matrix()
    assert M[0, 0] > 50 * M[1, 1]
    M = MMC(regularization=0.0, random_state=0).fit(X, y).get_mahalanobis_matrix()
    assert M[0, 0] > 50 * M[1, 1]


@pytest.mark.parametrize("diagonal", [False, True])
def test_pairs_twin_agrees_with_supervised(diagonal, dtype):
    X, y = make_blobs_data(noise_dims=2)
    X = X.astype(dtype)
    sup = MMC(diagonal=diagonal, n_constraints=40, random_state=3).fit(X, y)
    a, b, c, d = positive_negative_pairs(y, 40, np.random.RandomState(3),
                                         same_length=True)
    idx = np.vstack([np.column_stack([a, b]), np.column_stack([c, d])])
    py = np.r_[np.ones(len(a)), -np.ones(len(c))]
    twin = MMCPairs(diagonal=diagonal, preprocessor=X).fit(idx, py)
    arr = MMCPairs(diagonal=diagonal).fit(X[idx], py)
    assert sup.components_.dtype == dtype
    np.testing.assert_array_equal(twin.components_, sup.components_)
    np.testing.assert_array_equal(twin.components_, arr.components_)
    assert twin.score(X[idx], py) > 0.8


def test_n_components_low_rank():
    X, y = make_blobs_data(noise_dims=2)
    est = MMC(n_components=2, random_state=0).fit(X, y)
    assert est.components_.shape == (2, 6)
    msg = "n_components (7) cannot be greater than n_features (6)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        MMC(n_components=7).fit(X, y)


def test_convergence_warning_and_n_iter():
    X, y = make_blobs_data(noise_dims=2)
    with pytest.warns(Warning, match="did not converge"):
        est = MMC(max_iter=1, tol=0.0, random_state=0).fit(X, y)
    assert est.n_iter_ == 1


def test_bad_init_raises():
    X, y = make_blobs_data(n_features=2)
    with pytest.raises(ValueError, match="init must be positive semi-definite"):
        MMC(init=np.diag([1.0, -1.0])).fit(X, y)


def test_accuracy_not_below_euclidean_on_digits_subset():
    from sklearn.datasets import load_digits
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X[:900])
    y = y[:900]
    tr, te = np.arange(600), np.arange(600, 900)
    Z = MMC(random_state=0).fit(X[tr], y[tr]).transform(X)
    acc = KNeighborsClassifier(3).fit(Z[tr], y[tr]).score(Z[te], y[te])
    base = KNeighborsClassifier(3).fit(X[tr], y[tr]).score(X[te], y[te])
    assert acc >= base - 0.02
