"""LFDA against a dense numpy formula of Sugiyama's paper (all pairs, n × n)."""

import re
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.datasets import load_iris, load_wine
from sklearn.metrics import pairwise_distances
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlearn import LFDA
from mlearn import _lfda as lfda_module
from mlearn._lfda import lfda_scatter, local_scatter


def dense_lfda_scatter(X, y, k):
    """``(S_b, S_w)`` with the paper's n × n weight matrices, pair by pair."""
    n, d = X.shape
    diff = X[:, None, :] - X[None, :, :]
    D = np.einsum("ijk,ijk->ij", diff, diff)
    A = np.zeros((n, n))
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        Dc = D[np.ix_(idx, idx)]
        kk = min(k, idx.shape[0] - 1)
        sigma = np.sqrt(np.sort(Dc, axis=1)[:, kk])  # column 0 is the point itself
        for a, i in enumerate(idx):
            for b, j in enumerate(idx):
                s = sigma[a] * sigma[b]
                A[i, j] = np.exp(-Dc[a, b] / s) if s > 0 else 0.0
    nc = np.array([np.sum(y == v) for v in y], dtype=float)
    same = y[:, None] == y[None, :]
    W_w = np.where(same, A / nc[:, None], 0.0)
    W_b = np.where(same, A * (1.0 / n - 1.0 / nc[:, None]), 1.0 / n)
    S_w = 0.5 * np.einsum("ij,ijk,ijl->kl", W_w, diff, diff)
    S_b = 0.5 * np.einsum("ij,ijk,ijl->kl", W_b, diff, diff)
    return S_b, S_w


def dense_lfda_components(X, y, k, n_components, embedding_type):
    """The paper's embedding: generalized eigenvectors (vᵀ S_w v = 1)."""
    from scipy.linalg import eigh

    S_b, S_w = dense_lfda_scatter(X, y, k)
    lam, V = eigh(S_b, S_w)
    lam, V = lam[::-1][:n_components], V[:, ::-1][:, :n_components]
    if embedding_type == "weighted":
        V = V * np.sqrt(np.clip(lam, 0, None))
    elif embedding_type == "orthonormalized":
        V = np.linalg.qr(V)[0]
    return V.T, lam


def _data(name):
    if name == "iris":
        return load_iris(return_X_y=True)
    if name == "wine":
        X, y = load_wine(return_X_y=True)
        return X[::2], y[::2]
    rs = np.random.RandomState(0)
    # two clusters per class: the multimodal case LFDA is made for
    centers = rs.normal(scale=4.0, size=(6, 5))
    X = np.vstack([c + rs.normal(size=(12, 5)) for c in centers])
    y = np.repeat([0, 1, 2, 0, 1, 2], 12)
    return X, y


@pytest.mark.parametrize("name", ["iris", "wine", "multimodal"])
def test_scatter_matches_dense_pairwise_formula(name):
    X, y = _data(name)
    _, codes = np.unique(y, return_inverse=True)
    for k in (1, 7):
        S_b, S_w = lfda_scatter(X.astype(float), codes, codes.max() + 1, k)
        ref_b, ref_w = dense_lfda_scatter(X, y, k)
        np.testing.assert_allclose(S_w, ref_w, rtol=1e-10,
                                   atol=1e-10 * abs(ref_w).max())
        np.testing.assert_allclose(S_b, ref_b, rtol=1e-10,
                                   atol=1e-10 * abs(ref_b).max())


@pytest.mark.parametrize("embedding_type", ["weighted", "plain", "orthonormalized"])
@pytest.mark.parametrize("name", ["iris", "wine", "multimodal"])
def test_distances_match_dense_solution(name, embedding_type):
    X, y = _data(name)
    d = X.shape[1]
    for m in (d, 2):
        L_ref, lam = dense_lfda_components(X, y, 7, m, embedding_type)
        est = LFDA(n_components=m, embedding_type=embedding_type).fit(X, y)
        assert est.components_.shape == (m, d)
        np.testing.assert_allclose(est.eigenvalues_, lam, rtol=1e-8)
        Z_ref, Z = X @ L_ref.T, est.transform(X)
        D_ref, D = cdist(Z_ref, Z_ref), cdist(Z, Z)  # exact zeros for duplicates
        np.testing.assert_allclose(D, D_ref, rtol=1e-6, atol=1e-9 * D_ref.max())


def test_blocked_affinity_equals_one_block(monkeypatch):
    rs = np.random.RandomState(1)
    Xc = rs.normal(size=(50, 4))
    Xc -= Xc.mean(axis=0)
    whole = local_scatter(Xc, 5)
    monkeypatch.setattr(lfda_module, "_BLOCK_FLOATS", 7 * 50)  # blocks of 7 rows
    np.testing.assert_allclose(local_scatter(Xc, 5), whole, rtol=1e-12, atol=1e-13)
    # naive: ½ Σ_ij A_ij (x_i − x_j)(x_i − x_j)ᵀ
    D = pairwise_distances(Xc, squared=True)
    sigma = np.sqrt(np.sort(D, axis=1)[:, 5])
    A = np.exp(-D / np.outer(sigma, sigma))
    naive = sum(A[i, j] * np.outer(Xc[i] - Xc[j], Xc[i] - Xc[j])
                for i in range(50) for j in range(50)) / 2
    np.testing.assert_allclose(whole, naive, rtol=1e-10, atol=1e-12)


def test_orthonormalized_rows_and_weighted_order():
    X, y = _data("multimodal")
    L = LFDA(n_components=3, embedding_type="orthonormalized").fit(X, y).components_
    np.testing.assert_allclose(L @ L.T, np.eye(3), atol=1e-12)
    est = LFDA().fit(X, y)
    assert np.all(np.diff(est.eigenvalues_) <= 0)


@pytest.mark.parametrize("c", [1e150, 1e-150, 3.0])
def test_scale_and_shift(c):
    X, y = _data("multimodal")
    ref = LFDA().fit(X, y)
    est = LFDA().fit(X * c + 7.0 * c, y)
    assert np.all(np.isfinite(est.components_))
    np.testing.assert_allclose(est.components_ * c, ref.components_, rtol=1e-8,
                               atol=1e-10 * abs(ref.components_).max())


def test_float32_keeps_dtype_and_agrees(dtype):
    X, y = _data("multimodal")
    est = LFDA().fit(X.astype(dtype), y)
    assert est.components_.dtype == dtype
    ref = LFDA().fit(X, y)
    rtol = 1e-3 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(
        pairwise_distances(est.transform(X.astype(dtype)).astype(float)),
        pairwise_distances(ref.transform(X)), rtol=rtol, atol=rtol)


def test_constant_feature_gets_zero_weight_without_warning():
    X, y = _data("multimodal")
    Xc = np.hstack([X, np.full((X.shape[0], 1), 3.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = LFDA().fit(Xc, y)
    assert est.regularization_ == 0.0
    np.testing.assert_allclose(est.components_[:, -1], 0.0, atol=1e-12)
    # the rest is the solution without the feature; the extra row is zero
    ref = LFDA().fit(X, y)
    np.testing.assert_allclose(pairwise_distances(est.transform(Xc)),
                               pairwise_distances(ref.transform(X)), rtol=1e-8)
    assert np.isnan(est.eigenvalues_[-1])
    np.testing.assert_array_equal(est.components_[-1], 0.0)


def test_singular_within_scatter_is_regularized_with_warning():
    # feature 5 is constant within each class but differs between classes
    X, y = _data("multimodal")
    X = np.hstack([X, y[:, None] * 1.0])
    with pytest.warns(UserWarning, match="regularized with a ridge"):
        est = LFDA().fit(X, y)
    assert est.regularization_ > 0
    assert np.all(np.isfinite(est.components_))
    # the perfectly separating direction dominates the embedding
    v = est.components_[0] / np.linalg.norm(est.components_[0])
    assert abs(v[-1]) > 0.99
    # more features than samples
    rs = np.random.RandomState(0)
    Xw, yw = rs.normal(size=(12, 30)), np.repeat([0, 1, 2], 4)
    with pytest.warns(UserWarning, match="regularized"):
        est = LFDA(k=2).fit(Xw, yw)
    assert np.all(np.isfinite(est.transform(Xw)))


def test_small_class_warns_and_uses_its_farthest_neighbour():
    X, y = _data("multimodal")
    X, y = np.vstack([X, [[0.0, 1, 2, 3, 4], [1.0, 1, 2, 3, 4]]]), np.r_[y, 9, 9]
    msg = ("k (7) needs classes of more than 7 samples; the local scale of these "
           "classes uses their farthest neighbour: 9 (2).")
    with pytest.warns(UserWarning, match=re.escape(msg)):
        est = LFDA().fit(X, y)
    L_ref, _ = dense_lfda_components(X, y, 7, 5, "weighted")
    np.testing.assert_allclose(pairwise_distances(est.transform(X)),
                               pairwise_distances(X @ L_ref.T), rtol=1e-6)


def test_k_none_is_metric_learn_rule():
    X, y = _data("iris")
    a = LFDA(k=None).fit(X, y)
    b = LFDA(k=3).fit(X, y)  # min(7, 4 − 1)
    np.testing.assert_array_equal(a.components_, b.components_)


def test_metric_learn_variant_caps_k_at_n_features_minus_one():
    # metric-learn 0.7 lowers an explicit k >= n_features to n_features − 1;
    # the paper variant uses k as given
    X, y = _data("iris")
    with pytest.warns(UserWarning, match=r"Chosen k \(10\) too large, using 3"):
        a = LFDA(k=10, variant="metric_learn").fit(X, y)
    b = LFDA(k=3, variant="metric_learn").fit(X, y)
    np.testing.assert_array_equal(a.components_, b.components_)
    c = LFDA(k=10).fit(X, y)
    assert not np.allclose(c.components_, LFDA(k=3).fit(X, y).components_)


def test_bad_input():
    X, y = _data("iris")
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LFDA().fit(bad, y)
    with pytest.raises(ValueError, match=re.escape("y has a single class")):
        LFDA().fit(X, np.zeros(150, dtype=int))
    with pytest.raises(ValueError, match=re.escape(
            "n_components (5) cannot be greater than n_features (4).")):
        LFDA(n_components=5).fit(X, y)
    with pytest.raises(ValueError, match=re.escape(
            "every class has a single sample, so there is no within-class "
            "scatter")):
        LFDA().fit(X[:3], [0, 1, 2])
    with pytest.raises(ValueError, match=re.escape("X has no variance")):
        LFDA().fit(np.ones((6, 2)), [0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match=re.escape(
            "the local within-class scatter is zero: inside every class the points "
            "coincide")), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        LFDA().fit([[0.0, 1], [0, 1], [1, 0], [1, 0], [2, 2]], [0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match="embedding_type"):
        LFDA(embedding_type="nope").fit(X, y)


@parametrize_with_checks([LFDA()])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tiny classes, ridge
        check(estimator)


def test_duplicates_with_zero_local_scale_get_zero_affinity():
    X, y = _data("multimodal")
    X = np.vstack([X, np.repeat(X[:1], 3, axis=0)])  # σ = 0 for k ≤ 3
    y = np.r_[y, [0, 0, 0]]
    _, codes = np.unique(y, return_inverse=True)
    S_b, S_w = lfda_scatter(X, codes, 3, 2)
    ref_b, ref_w = dense_lfda_scatter(X, y, 2)
    np.testing.assert_allclose(S_w, ref_w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(S_b, ref_b, rtol=1e-10, atol=1e-12)


def metric_learn_lfda_scatter(X, y, k):
    """metric-learn 0.7's scatter, written out: the local scale of row i is
    entry i of column k of the class's column-partitioned distance matrix,
    and its between-class matrix is ``S_m + S_w`` (the paper's
    ``S_b = S_m − S_w``, with ``S_m`` the mixture scatter)."""
    n, d = X.shape
    S_w, S_m = np.zeros((d, d)), np.zeros((d, d))
    for c in np.unique(y):
        Xc = X[y == c]
        D = pairwise_distances(Xc, squared=True)
        kk = min(k, Xc.shape[0] - 1)
        sigma = np.sqrt(np.partition(D, kk, axis=0)[:, kk])
        scale = np.outer(sigma, sigma)
        with np.errstate(divide="ignore", invalid="ignore"):
            A = np.where(scale > 0, np.exp(-D / scale), 0.0)
        diff = Xc[:, None, :] - Xc[None, :, :]
        G = 0.5 * np.einsum("ij,ijk,ijl->kl", A, diff, diff)
        S_w += G / Xc.shape[0]
        S_m += G / n
    for i in range(n):
        diff = X[i] - X[y != y[i]]
        S_m += diff.T @ diff / (2 * n)
    return S_m + S_w, S_w


@pytest.mark.parametrize("embedding_type", ["weighted", "plain"])
@pytest.mark.parametrize("name", ["iris", "wine", "multimodal"])
def test_metric_learn_variant_matches_its_formulas(name, embedding_type):
    from scipy.linalg import eigh

    from mlearn.compat.metric_learn import LFDA as CompatLFDA

    X, y = _data(name)
    k = min(7, X.shape[1] - 1)
    S_b, S_w = metric_learn_lfda_scatter(X, y, k)
    lam, V = eigh(S_b, S_w)
    lam, V = lam[::-1], V[:, ::-1]
    if embedding_type == "weighted":
        V = V * np.sqrt(np.clip(lam, 0, None))
    D_ref = cdist(X @ V, X @ V)
    for est in (LFDA(k=None, embedding_type=embedding_type, variant="metric_learn"),
                CompatLFDA(embedding_type=embedding_type)):
        Z = est.fit(X, y).transform(X)
        np.testing.assert_allclose(cdist(Z, Z), D_ref, rtol=1e-6,
                                   atol=1e-9 * D_ref.max())
    # and it is not the paper's embedding
    Z = LFDA(k=None, embedding_type=embedding_type).fit(X, y).transform(X)
    assert np.abs(cdist(Z, Z) - D_ref).max() > 1e-3 * D_ref.max()
