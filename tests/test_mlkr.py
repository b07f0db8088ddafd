import re
import warnings

import numpy as np
import pytest
from scipy.optimize import check_grad
from sklearn.base import clone
from sklearn.neighbors import KNeighborsRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlearn import MLKR
from mlearn._mlkr import mlkr_loss_grad
from mlearn.utils._sklearn_compat import ConvergenceWarning


def _problem(n=30, d=4, r=3, scale=0.6, seed=0):
    rs = np.random.RandomState(seed)
    X = rs.normal(size=(n, d))
    y = 2.0 * X[:, 0] + np.sin(2.0 * X[:, 1]) + 0.1 * rs.normal(size=n)
    L = rs.normal(size=(r, d)) * scale
    return X, y, L


def _naive_loss_grad(L, X, y):
    """Weinberger & Tesauro's leave-one-out error and its gradient, one pair at
    a time (eq. 6 of the paper), with the softmax shifted by the row minimum."""
    n = X.shape[0]
    loss = 0.0
    grad = np.zeros_like(L)
    for i in range(n):
        d = np.array([np.sum((L @ (X[i] - X[j])) ** 2) if j != i else np.inf
                      for j in range(n)])
        k = np.exp(-(d - d.min()))
        p = k / k.sum()
        y_hat = p @ y
        loss += (y_hat - y[i]) ** 2
        for j in range(n):
            if j == i:
                continue
            xij = X[i] - X[j]
            # ∂ŷ_i/∂L = −2 L Σ_j p_ij (y_j − ŷ_i) x_ij x_ijᵀ
            grad += 2.0 * (y_hat - y[i]) * (-2.0) * p[j] * (y[j] - y_hat) * (
                L @ np.outer(xij, xij))
    return loss, grad


@pytest.mark.parametrize("block_size", [None, 1, 8, 30])
def test_loss_and_gradient_equal_naive_loop(block_size):
    X, y, L = _problem()
    loss, grad = mlkr_loss_grad(L, X, y, block_size=block_size)
    ref_loss, ref_grad = _naive_loss_grad(L, X, y)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10,
                               atol=1e-12 * np.abs(ref_grad).max())


@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0, 30.0])
def test_float32_screening_gives_the_float64_objective(scale):
    X, y, L = _problem(n=500, d=5, r=4, scale=scale)
    ref = mlkr_loss_grad(L, X, y, block_size=64)
    got = mlkr_loss_grad(L, X, y, block_size=64, n_threads=2, screen="float32")
    assert got[0] == pytest.approx(ref[0], rel=1e-13)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-10,
                               atol=1e-12 * np.abs(ref[1]).max())
    if scale == 0.3:
        naive = _naive_loss_grad(L, X[:60], y[:60])
        small = mlkr_loss_grad(L, X[:60], y[:60], screen="float32")
        assert small[0] == pytest.approx(naive[0], rel=1e-12)
        np.testing.assert_allclose(small[1], naive[1], rtol=1e-9, atol=1e-12)


def test_gradient_check_grad():
    X, y, L = _problem(n=50, d=5, r=3)

    def f(w):
        return mlkr_loss_grad(w.reshape(L.shape), X, y, block_size=16)[0]

    def g(w):
        return mlkr_loss_grad(w.reshape(L.shape), X, y, block_size=16)[1].ravel()

    grad_norm = np.linalg.norm(g(L.ravel()))
    assert grad_norm > 1e-2
    assert check_grad(f, g, L.ravel()) < 1e-6 * max(grad_norm, 1.0)


def test_stable_when_every_distance_is_huge():
    X, y, L = _problem(n=20)
    loss, _ = mlkr_loss_grad(L * 40, X, y)
    ref_loss, _ = _naive_loss_grad(L * 40, X, y)
    assert np.isfinite(loss)
    assert loss == pytest.approx(ref_loss, rel=1e-12)


def test_learns_to_ignore_noise_features():
    # the target depends on the first two features only
    rs = np.random.RandomState(0)
    X = rs.normal(size=(300, 6))
    y = X[:, 0] + np.sin(2 * X[:, 1]) + 0.05 * rs.normal(size=300)
    tr, te = slice(0, 200), slice(200, None)
    knn = KNeighborsRegressor(n_neighbors=5)
    base = knn.fit(X[tr], y[tr]).score(X[te], y[te])
    mlkr = MLKR(random_state=0).fit(X[tr], y[tr])
    Ztr, Zte = mlkr.transform(X[tr]), mlkr.transform(X[te])
    learned = knn.fit(Ztr, y[tr]).score(Zte, y[te])
    assert learned > base + 0.2
    assert learned > 0.9
    # the noise columns of L are small next to the informative ones
    col_norms = np.linalg.norm(mlkr.components_, axis=0)
    assert col_norms[2:].max() < 0.3 * col_norms[:2].min()
    # the fit lowered the training objective below the starting map's
    assert mlkr.opt_result_.fun < mlkr_loss_grad(np.eye(6), X[tr], y[tr])[0]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_result_does_not_depend_on_the_scale_of_y():
    X, y, _ = _problem(n=60)
    a = MLKR(max_iter=30, tol=1e-6).fit(X, y)
    b = MLKR(max_iter=30, tol=1e-6).fit(X, 1e3 * y)
    np.testing.assert_allclose(a.components_, b.components_, rtol=1e-5, atol=1e-7)


def test_tol_none_runs_l_bfgs_defaults_and_converges():
    X, y, _ = _problem(n=60)
    mlkr = MLKR(tol=None).fit(X, y)
    assert mlkr.opt_result_.success


def test_float32_keeps_dtype(dtype):
    X, y, _ = _problem()
    mlkr = MLKR(max_iter=5).fit(X.astype(dtype), y)
    assert mlkr.components_.dtype == dtype
    assert mlkr.transform(X.astype(dtype)).dtype == dtype


def test_n_components_and_same_seed():
    X, y, _ = _problem(n=40, d=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLKR(n_components=2, init="random", max_iter=5, random_state=1).fit(X, y)
        b = clone(a).fit(X, y)
    assert a.components_.shape == (2, 5)
    np.testing.assert_array_equal(a.components_, b.components_)


def test_convergence_warning_at_max_iter():
    X, y, _ = _problem(n=60)
    with pytest.warns(ConvergenceWarning, match=re.escape("max_iter=2")):
        MLKR(max_iter=2).fit(X, y)


def test_bad_input():
    X, y, _ = _problem()
    for bad in (np.nan, np.inf):
        yb = y.copy()
        yb[3] = bad
        with pytest.raises(ValueError, match="Input y contains"):
            MLKR().fit(X, yb)
    Xb = X.copy()
    Xb[0, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        MLKR().fit(Xb, y)
    msg = "n_components (5) cannot be greater than n_features (4)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        MLKR(n_components=5).fit(X, y)
    with pytest.raises(ValueError, match="could not convert"):
        MLKR().fit(X, np.array(["a", "b"] * 15))


@parametrize_with_checks([MLKR(max_iter=5, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
