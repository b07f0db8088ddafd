"""SCML and SCMLTriplets: subgradient and objective against naive loops, the
dual-averaging weights against a dense re-implementation of metric-learn's loop,
the 'lda' basis against scikit-learn's LDA, determinism and bad input."""

import re
import warnings

import numpy as np
import pytest
from scipy.optimize import check_grad
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.neighbors import KNeighborsClassifier

from conftest import make_blobs_data
from mlearn import SCML, Constraints, SCMLTriplets
from mlearn._scml import (
    _basis_triplet_diffs,
    _local_lda_directions,
    scml_batch_subgradient,
    scml_objective,
)


def _problem(n=30, d=4, n_t=60, K=7, seed=0):
    rs = np.random.RandomState(seed)
    X = rs.normal(size=(n, d))
    T = rs.randint(0, n, size=(n_t, 3))
    B = rs.normal(size=(K, d))
    B /= np.linalg.norm(B, axis=1, keepdims=True)
    return X, T, B, rs


def _z(X, T, B):
    """``z_{t,i} = (b_iᵀ(x_a − x_b))² − (b_iᵀ(x_a − x_c))²``, one triplet at a
    time."""
    Z = np.empty((T.shape[0], B.shape[0]))
    for t, (a, b, c) in enumerate(T):
        for i, bi in enumerate(B):
            Z[t, i] = (bi @ (X[a] - X[b])) ** 2 - (bi @ (X[a] - X[c])) ** 2
    return Z


def test_batch_subgradient_matches_naive_loop():
    X, T, B, rs = _problem()
    w = np.abs(rs.normal(size=B.shape[0])) * (rs.rand(B.shape[0]) > 0.3)
    idx = rs.randint(0, T.shape[0], size=12)
    idx[3] = idx[0]  # a repeat counts twice
    loss, grad = scml_batch_subgradient(w, X, B, T, idx)
    Z = _z(X, T, B)
    exp_loss, exp_grad = 0.0, np.zeros(B.shape[0])
    for t in idx:
        slack = 1.0 + Z[t] @ w
        if slack > 0:
            exp_loss += slack
            exp_grad += Z[t]
    assert 0 < np.sum([1.0 + Z[t] @ w > 0 for t in idx]) < idx.shape[0]
    np.testing.assert_allclose(loss, exp_loss / idx.shape[0], rtol=1e-12)
    np.testing.assert_allclose(grad, exp_grad / idx.shape[0], rtol=1e-12,
                               atol=1e-14)


def test_batch_subgradient_is_the_gradient_away_from_kinks():
    X, T, B, rs = _problem(seed=1)
    w = np.abs(rs.normal(size=B.shape[0]))
    idx = np.arange(T.shape[0])
    Z = _z(X, T, B)
    assert np.min(np.abs(1.0 + Z @ w)) > 1e-3  # no hinge kink within the step
    err = check_grad(lambda v: scml_batch_subgradient(v, X, B, T, idx)[0],
                     lambda v: scml_batch_subgradient(v, X, B, T, idx)[1], w,
                     epsilon=1e-7)
    assert err < 1e-5 * max(1.0, np.linalg.norm(Z.mean(axis=0)))


@pytest.mark.parametrize("K", [3, 9])  # fewer and more active elements than d
def test_objective_matches_dense_formula(K):
    X, T, B, rs = _problem(K=K, seed=2)
    w = np.abs(rs.normal(size=K))
    w[0] = 0.0
    M = B.T @ np.diag(w) @ B
    exp = 0.0
    for a, b, c in T:
        u, v = X[a] - X[b], X[a] - X[c]
        exp += max(0.0, 1.0 + u @ M @ u - v @ M @ v)
    exp = exp / T.shape[0] + 0.01 * w.sum()
    np.testing.assert_allclose(scml_objective(w, X, B, T, 0.01), exp, rtol=1e-10)


def _dense_rda(X, T, B, beta, gamma, max_iter, output_iter, batch_size, seed):
    """metric-learn 0.7's loop, written densely: every z_t stored, batches drawn
    at once, the best weights among the checks kept."""
    Z = _z(X, T, B)
    rand = np.random.RandomState(seed).randint(0, T.shape[0],
                                               size=(max_iter, batch_size))
    w = np.zeros(B.shape[0])
    avg = np.zeros_like(w)
    ada = np.zeros_like(w)
    best, best_w = np.inf, None
    for it in range(max_iter):
        idx = rand[it]
        slack = 1.0 + Z[idx] @ w
        g = Z[idx[slack > 0]].sum(axis=0) / batch_size
        avg = (it * avg + g) / (it + 1)
        ada = np.sqrt(ada**2 + g**2)
        w = -(it + 1) / (gamma * (1e-3 + ada)) * np.minimum(avg + beta, 0.0)
        if (it + 1) % output_iter == 0:
            obj = beta * w.sum() + np.maximum(1.0 + Z @ w, 0.0).sum() / T.shape[0]
            if obj < best:
                best, best_w = obj, w
    return best_w, best


def _blob_triplets(seed=0, n_per_class=15, noise_dims=2):
    X, y = make_blobs_data(n_per_class=n_per_class, noise_dims=noise_dims,
                           random_state=seed)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idx = Constraints(y).generate_knntriplets(X, 3, 5)
    return X, y, idx


def test_weights_match_dense_reference_with_same_basis_and_batches():
    X, y, idx = _blob_triplets()
    rs = np.random.RandomState(3)
    B = rs.normal(size=(12, X.shape[1]))
    B /= np.linalg.norm(B, axis=1, keepdims=True)
    kw = dict(beta=1e-3, gamma=5e-3, max_iter=400, output_iter=50, batch_size=10)
    exp_w, exp_obj = _dense_rda(X, idx, B, seed=7, **kw)
    est = SCMLTriplets(basis=B, random_state=7, **kw).fit(X[idx])
    assert np.count_nonzero(exp_w) > 0
    np.testing.assert_allclose(est.weights_, exp_w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(est.objective_, exp_obj, rtol=1e-10)
    M = B.T @ np.diag(exp_w) @ B
    np.testing.assert_allclose(est.get_mahalanobis_matrix(), M, rtol=1e-8,
                               atol=1e-10)
    # the supervised twin on the same kNN triplets is the same computation
    sup = SCML(k_genuine=3, k_impostor=5, basis=B, random_state=7, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sup.fit(X, y)
    np.testing.assert_allclose(sup.weights_, exp_w, rtol=1e-9, atol=1e-12)


def test_local_lda_directions_match_sklearn():
    rs = np.random.RandomState(0)
    sizes = np.array([6, 9, 7])
    G, d = 4, 5
    Xs = rs.normal(size=(G, sizes.sum(), d)) * rs.uniform(0.5, 3.0, size=d)
    Xs[:, :6] += 1.5
    Xs[:, 6:15, 0] -= 2.0
    Xs[1, :, 2] = 0.7  # a constant feature: LDA's std guard
    labels = np.repeat(np.arange(3), sizes)
    dirs = _local_lda_directions(Xs, sizes, n_dirs=2)
    for g in range(G):
        S = LinearDiscriminantAnalysis().fit(Xs[g], labels).scalings_.T
        S /= np.linalg.norm(S, axis=1, keepdims=True)
        assert S.shape == (2, d)
        cos = np.abs(np.sum(S * dirs[g], axis=1))
        np.testing.assert_allclose(cos, 1.0, atol=1e-8)


def test_triplet_diffs_basis_are_eigenvectors_of_the_difference_scatter():
    X, _, idx = _blob_triplets(noise_dims=0)
    d = X.shape[1]
    basis = _basis_triplet_diffs(X, idx, 3 * d, np.random.RandomState(0))
    assert basis.shape == (3 * d, d)
    sel = idx[np.random.RandomState(0).choice(idx.shape[0], size=d, replace=False)]
    Dp, Dn = X[sel[:, 0]] - X[sel[:, 1]], X[sel[:, 0]] - X[sel[:, 2]]
    S = Dp.T @ Dp - Dn.T @ Dn
    V = basis[:d]
    lam = np.sum((V @ S) * V, axis=1)
    np.testing.assert_allclose(V @ S, lam[:, None] * V, atol=1e-9 * np.abs(S).max())
    np.testing.assert_allclose(V @ V.T, np.eye(d), atol=1e-10)
    assert np.all(np.diff(np.abs(lam)) <= 1e-12)  # largest |λ| first


def _knn_acc(est, X, y, Xte, yte):
    Z, Zte = (X, Xte) if est is None else (est.transform(X), est.transform(Xte))
    return KNeighborsClassifier(3).fit(Z, y).score(Zte, yte)


def test_scml_learns_to_ignore_noise_features():
    X, y = make_blobs_data(n_per_class=40, noise_dims=3, random_state=1)
    rs = np.random.RandomState(0)
    perm = rs.permutation(X.shape[0])
    tr, te = perm[:80], perm[80:]
    est = SCML(max_iter=3000, output_iter=300, random_state=0).fit(X[tr], y[tr])
    assert _knn_acc(est, X[tr], y[tr], X[te], y[te]) > \
        _knn_acc(None, X[tr], y[tr], X[te], y[te]) + 0.1
    # the noise features (4 and up) end up with little weight
    M = est.get_mahalanobis_matrix()
    assert np.trace(M[4:, 4:]) < 0.1 * np.trace(M[:4, :4])


def test_triplets_surface_on_held_out_triplets():
    X, y = make_blobs_data(n_per_class=40, noise_dims=3, random_state=1)
    tr, te = np.arange(0, 120, 2), np.arange(1, 120, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        T_tr = X[tr][Constraints(y[tr]).generate_knntriplets(X[tr], 3, 5)]
        T_te = X[te][Constraints(y[te]).generate_knntriplets(X[te], 3, 5)]
    est = SCMLTriplets(n_basis=40, max_iter=2000, output_iter=200,
                       random_state=0).fit(T_tr)
    d_ab = np.sum((T_te[:, 0] - T_te[:, 1]) ** 2, axis=1)
    d_ac = np.sum((T_te[:, 0] - T_te[:, 2]) ** 2, axis=1)
    euclid = np.mean(d_ab < d_ac)
    assert est.score(T_te) > euclid + 0.05
    margins = est.decision_function(T_te)
    L = est.components_
    exp = (np.sum(((T_te[:, 0] - T_te[:, 2]) @ L.T) ** 2, axis=1) ** 0.5
           - np.sum(((T_te[:, 0] - T_te[:, 1]) @ L.T) ** 2, axis=1) ** 0.5)
    np.testing.assert_allclose(margins, exp, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(est.predict(T_te), np.where(exp > 0, 1, -1))
    # index triplets through a preprocessor give the same model
    idx = Constraints(y[tr]).generate_knntriplets(X[tr], 3, 5)
    est2 = SCMLTriplets(n_basis=40, max_iter=2000, output_iter=200,
                        preprocessor=X[tr], random_state=0).fit(idx)
    np.testing.assert_allclose(est2.components_, est.components_, rtol=1e-10)


def test_same_seed_same_result_other_seed_other_batches():
    X, y, idx = _blob_triplets()
    kw = dict(max_iter=300, output_iter=100)
    a = SCML(random_state=0, **kw).fit(X, y)
    b = SCML(random_state=0, **kw).fit(X, y)
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    c = SCML(random_state=1, **kw).fit(X, y)
    assert not np.array_equal(a.weights_, c.weights_)
    t1 = SCMLTriplets(n_basis=20, random_state=0, **kw).fit(X[idx])
    t2 = SCMLTriplets(n_basis=20, random_state=0, **kw).fit(X[idx])
    np.testing.assert_array_equal(t1.components_, t2.components_)


def test_float32_in_float32_out():
    X, y, _ = _blob_triplets()
    est = SCML(max_iter=200, output_iter=100, random_state=0).fit(
        X.astype(np.float32), y)
    assert est.components_.dtype == np.float32
    assert est.transform(X.astype(np.float32)).dtype == np.float32


def test_n_iter_counts_the_steps_that_can_be_returned():
    X, y, _ = _blob_triplets()
    est = SCML(max_iter=250, output_iter=100, random_state=0).fit(X, y)
    assert est.n_iter_ == 200
    assert est.basis_.shape[0] == est.weights_.shape[0]


# -- bad input ----------------------------------------------------------------------

def test_triplets_of_wrong_size_or_features_or_nan():
    X, _, idx = _blob_triplets()
    T = X[idx]
    with pytest.raises(ValueError, match=re.escape(
            "triplets must be tuples of 3 points; got tuples of size 2")):
        SCMLTriplets().fit(T[:, :2])
    est = SCMLTriplets(n_basis=10, max_iter=100, output_iter=50,
                       random_state=0).fit(T)
    with pytest.raises(ValueError, match=re.escape(
            "triplets have 5 features, but the estimator was fitted with 6 "
            "features.")):
        est.predict(T[:, :, :5])
    bad = T.copy()
    bad[3, 1, 2] = np.nan
    with pytest.raises(ValueError, match=re.escape("triplets contains NaN or "
                                                   "infinity.")):
        SCMLTriplets().fit(bad)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SCML().fit(Xn, np.arange(X.shape[0]) % 3)


def test_single_class():
    X, _, _ = _blob_triplets()
    with pytest.raises(ValueError, match=re.escape(
            "y has a single class")):
        SCML().fit(X, np.zeros(X.shape[0], dtype=int))


@pytest.mark.parametrize("basis", ["triplet_diffs", "array"])
def test_degenerate_triplets(basis):
    X, _, idx = _blob_triplets()
    T = X[idx].copy()
    T[:, 2] = T[:, 1]  # closer and farther points identical
    B = np.eye(X.shape[1]) if basis == "array" else basis
    msg = (f"all {T.shape[0]} triplets have identical closer and farther points; "
           "they constrain nothing.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        SCMLTriplets(basis=B).fit(T)
    T[:, 0] = T[:, 1]  # all three identical
    with pytest.raises(ValueError, match=re.escape(msg)):
        SCMLTriplets(basis=B).fit(T)


def test_parameter_errors():
    X, y, idx = _blob_triplets()
    with pytest.raises(ValueError, match=re.escape(
            "output_iter (600) must not exceed max_iter (500).")):
        SCML(max_iter=500, output_iter=600).fit(X, y)
    with pytest.raises(ValueError, match=re.escape(
            "basis has 3 features but the data have 6")):
        SCML(basis=np.eye(3)).fit(X, y)
    with pytest.raises(ValueError, match=re.escape(
            "basis='triplet_diffs' needs at least n_features (6) triplets, got 4")):
        SCMLTriplets().fit(X[idx[:4]])
    n = X.shape[0]
    with pytest.raises(ValueError, match=re.escape(
            f"n_basis ({4 * n}) is too large for basis='lda'")):
        SCML(n_basis=4 * n).fit(X, y)
    with pytest.raises(ValueError, match="gamma"):
        SCML(gamma=0.0).fit(X, y)


def test_warnings_no_basis_kept_and_few_basis_elements():
    X, y, idx = _blob_triplets()
    with pytest.warns(UserWarning, match=re.escape(
            "SCML kept no basis element (every weight is zero)")):
        est = SCMLTriplets(n_basis=12, beta=1e3, max_iter=100, output_iter=50,
                           random_state=0).fit(X[idx])
    assert np.all(est.weights_ == 0) and np.all(est.components_ == 0)
    with pytest.warns(UserWarning, match=re.escape(
            "n_basis (2) is smaller than the number of classes (3)")):
        SCML(n_basis=2, max_iter=100, output_iter=50, random_state=0).fit(X, y)


def test_supervised_twin_with_triplet_diffs_basis():
    X, y, idx = _blob_triplets()
    kw = dict(n_basis=20, max_iter=300, output_iter=100, random_state=0)
    sup = SCML(basis="triplet_diffs", k_genuine=3, k_impostor=5, **kw).fit(X, y)
    trip = SCMLTriplets(**kw).fit(X[idx])
    np.testing.assert_allclose(np.linalg.norm(sup.basis_, axis=1), 1.0)
    # same triplets, same seed: the same basis up to sign, the same weights
    np.testing.assert_allclose(np.abs(np.sum(sup.basis_ * trip.basis_, axis=1)),
                               1.0, atol=1e-8)
    np.testing.assert_allclose(sup.weights_, trip.weights_, rtol=1e-7,
                               atol=1e-10)
