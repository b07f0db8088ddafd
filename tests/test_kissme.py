"""KISSME: the exact all-pairs form against brute-force enumeration, the pairs form,
streaming, PCA, shrinkage, errors and a face-verification style check on digits."""

import itertools
import re

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from conftest import make_blobs_data
from mlearn import KISSME, KISSMEPairs, pairwise_mahalanobis
from mlearn._kissme import kissme_covariances
from mlearn.utils._linalg import project_psd
from mlearn.utils._stats import class_statistics


def _uneven_data(dtype, random_state=0):
    rs = np.random.RandomState(random_state)
    sizes = [9, 4, 14, 1]  # uneven classes, one singleton (no similar pair)
    X = np.vstack([rs.normal(loc=3 * rs.normal(size=4), scale=1 + c, size=(s, 4))
                   for c, s in enumerate(sizes)])
    y = np.repeat([7, -2, 5, 11], sizes)
    order = rs.permutation(len(y))
    return X[order].astype(dtype), y[order]


def _brute_force_covariances(X, y, weights="pairs"):
    """Enumerate every unordered pair i < j (the definition)."""
    X = X.astype(np.float64)
    sim, dis = {}, {}
    for i, j in itertools.combinations(range(len(y)), 2):
        diff = X[i] - X[j]
        key = (y[i],) if y[i] == y[j] else tuple(sorted((y[i], y[j])))
        (sim if y[i] == y[j] else dis).setdefault(key, []).append(
            np.outer(diff, diff))
    if weights == "pairs":
        return (np.mean([o for v in sim.values() for o in v], axis=0),
                np.mean([o for v in dis.values() for o in v], axis=0))
    return (np.mean([np.mean(v, axis=0) for v in sim.values()], axis=0),
            np.mean([np.mean(v, axis=0) for v in dis.values()], axis=0))


def _kissme_reference(sigma_s, sigma_d):
    return project_psd(np.linalg.inv(sigma_s) - np.linalg.inv(sigma_d))


def _rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.mark.parametrize("weights", ["pairs", "classes"])
def test_exact_form_equals_brute_force(dtype, weights):
    X, y = _uneven_data(dtype)
    ref_s, ref_d = _brute_force_covariances(X, y, weights)
    classes, inverse = np.unique(y, return_inverse=True)
    stats = class_statistics(X, inverse, len(classes))
    sigma_s, sigma_d = kissme_covariances(stats, weights)
    assert _rel(sigma_s, ref_s) < 1e-10
    assert _rel(sigma_d, ref_d) < 1e-10
    est = KISSME(weights=weights).fit(X, y)
    assert est.components_.dtype == dtype
    M_ref = _kissme_reference(ref_s, ref_d)
    tol = 1e-10 if dtype == np.float64 else 1e-6  # L is stored in float32
    assert _rel(est.get_mahalanobis_matrix(), M_ref) < tol
    np.testing.assert_array_equal(est.classes_, [-2, 5, 7, 11])
    assert est.n_samples_seen_ == len(y)


def test_class_statistics_match_numpy(dtype):
    X, y = _uneven_data(dtype)
    classes, inverse = np.unique(y, return_inverse=True)
    for c, (n, mean, scatter) in zip(classes, class_statistics(X, inverse, 4)):
        Xc = X[y == c].astype(np.float64)
        assert n == len(Xc)
        np.testing.assert_allclose(mean, Xc.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(scatter, (Xc - Xc.mean(0)).T @ (Xc - Xc.mean(0)),
                                   rtol=1e-10, atol=1e-12)


def test_class_statistics_many_blocks(monkeypatch):
    import mlearn.utils._stats as stats_module

    X, y = make_blobs_data(n_per_class=300, n_classes=3, n_features=5)
    inverse = np.unique(y, return_inverse=True)[1]
    whole = class_statistics(X, inverse, 3)
    monkeypatch.setattr(stats_module, "_BLOCK_BYTES", 64 * 5 * 8)  # 64-row blocks
    blocked = class_statistics(X, inverse, 3)
    for a, b in zip(whole, blocked):
        assert a[0] == b[0]
        np.testing.assert_allclose(a[1], b[1], rtol=1e-12)
        np.testing.assert_allclose(a[2], b[2], rtol=1e-10)


@pytest.mark.parametrize("n_components", [None, 2])
def test_pairs_form_on_all_pairs_equals_supervised(dtype, n_components):
    X, y = _uneven_data(dtype)
    idx = np.array(list(itertools.combinations(range(len(y)), 2)))
    pair_y = np.where(y[idx[:, 0]] == y[idx[:, 1]], 1, -1)
    sup = KISSME(n_components=n_components).fit(X, y)
    pairs = KISSMEPairs(n_components=n_components).fit(X[idx], pair_y)
    tol = 1e-9 if dtype == np.float64 else 1e-5
    assert _rel(pairs.get_mahalanobis_matrix(), sup.get_mahalanobis_matrix()) < tol
    assert pairs.components_.dtype == dtype
    indexed = KISSMEPairs(n_components=n_components, preprocessor=X).fit(idx, pair_y)
    np.testing.assert_array_equal(indexed.components_, pairs.components_)


def test_pca_reduction_is_kissme_in_pca_space():
    X, y = _uneven_data(np.float64)
    est = KISSME(n_components=2).fit(X, y)
    assert est.components_.shape == (2, 4)
    Xc = X - X.mean(axis=0)
    basis = np.linalg.eigh(Xc.T @ Xc)[1][:, ::-1][:, :2].T
    M_k = _kissme_reference(*_brute_force_covariances(X @ basis.T, y))
    assert _rel(est.get_mahalanobis_matrix(), basis.T @ M_k @ basis) < 1e-10
    # transform maps input space: distances equal those of the reduced metric
    Z = est.transform(X)
    Zk = (X @ basis.T) @ np.linalg.cholesky(M_k)
    np.testing.assert_allclose(pairwise_mahalanobis(Z, M=np.eye(2)),
                               pairwise_mahalanobis(Zk, M=np.eye(2)), rtol=1e-8)


def test_shrinkage_formula_and_singular_data():
    X, y = _uneven_data(np.float64)
    s = 0.3
    ref_s, ref_d = _brute_force_covariances(X, y)

    def shrink(S):
        return (1 - s) * S + s * np.trace(S) / 4 * np.eye(4)

    est = KISSME(shrinkage=s).fit(X, y)
    assert _rel(est.get_mahalanobis_matrix(),
                _kissme_reference(shrink(ref_s), shrink(ref_d))) < 1e-10
    # a constant feature makes both covariances singular: pseudo-inverse, finite
    Xs = np.hstack([X, np.ones((len(X), 1))])
    for est in (KISSME(), KISSME(shrinkage=0.1)):
        M = est.fit(Xs, y).get_mahalanobis_matrix()
        assert np.all(np.isfinite(M))
    np.testing.assert_allclose(KISSME().fit(Xs, y).get_mahalanobis_matrix()[-1], 0,
                               atol=1e-8)


def test_partial_fit_equals_fit_with_classes_appearing_late(dtype):
    X, y = make_blobs_data(n_per_class=40, n_classes=4, n_features=5, noise_dims=2)
    X = X.astype(dtype)
    y = np.array(["ant", "bee", "cat", "dog"])[y]  # sorted by class: new ones late
    full = KISSME(n_components=5).fit(X, y)
    stream = KISSME(n_components=5)
    for start in range(0, len(y), 23):
        stream.partial_fit(X[start:start + 23], y[start:start + 23])
    np.testing.assert_array_equal(stream.classes_, full.classes_)
    assert stream.n_samples_seen_ == len(y)
    tol = 1e-9 if dtype == np.float64 else 1e-5
    assert _rel(stream.get_mahalanobis_matrix(), full.get_mahalanobis_matrix()) < tol


def test_partial_fit_waits_for_a_similar_and_a_dissimilar_pair():
    X, y = make_blobs_data(n_per_class=10, n_classes=2, n_features=3)
    est = KISSME().partial_fit(X[:5], y[:5])  # one class only
    assert not hasattr(est, "components_")
    est.partial_fit(X[-5:], y[-5:])
    ref = KISSME().fit(np.vstack([X[:5], X[-5:]]), np.r_[y[:5], y[-5:]])
    assert _rel(est.get_mahalanobis_matrix(), ref.get_mahalanobis_matrix()) < 1e-10
    with pytest.raises(ValueError, match="X has 2 features"):
        est.partial_fit(X[:, :2], y)


def test_label_encodings_agree():
    X, y = _uneven_data(np.float64)
    ref = KISSME().fit(X, y).get_mahalanobis_matrix()
    for labels in (y * 10**12, y.astype(str), y.astype(np.uint8) + 3):
        M = KISSME().fit(X, labels).get_mahalanobis_matrix()
        np.testing.assert_allclose(M, ref, rtol=1e-12)


def test_errors():
    X, y = _uneven_data(np.float64)
    with pytest.raises(ValueError, match=re.escape(
            "n_components (5) cannot be greater than n_features (4).")):
        KISSME(n_components=5).fit(X, y)
    with pytest.raises(ValueError, match=re.escape("y has a single class")):
        KISSME().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match=re.escape(
            "every class has a single sample, so there are no similar pairs")):
        KISSME().fit(X[:5], np.arange(5))
    with pytest.raises(ValueError, match=re.escape(
            "n_components (5) cannot be greater than n_features (4).")):
        KISSMEPairs(n_components=5).fit(np.stack([X[:4], X[4:8]], axis=1),
                                        [1, -1, 1, -1])
    with pytest.raises(ValueError, match="shrinkage"):
        KISSME(shrinkage=1.0).fit(X, y)


def _verification(D, same):
    score = -D
    fpr, tpr, _ = roc_curve(same, score)
    k = np.argmin(np.abs(fpr - (1 - tpr)))
    return roc_auc_score(same, score), (tpr[k] + 1 - fpr[k]) / 2


def test_digits_verification_improves():
    # Face-verification protocol on digits: learn on one half, then judge every
    # pair of held-out points "same digit?" by distance. Measured here:
    # Euclidean AUC 0.865, TPR@EER 78.5 %; KISSME(n_components=30) 0.964, 90.1 %.
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, stratify=y,
                                          random_state=0)
    iu = np.triu_indices(len(yte), 1)
    same = (yte[:, None] == yte[None, :])[iu]
    auc0, tpr0 = _verification(pairwise_mahalanobis(Xte, M=np.eye(64))[iu], same)
    est = KISSME(n_components=30).fit(Xtr, ytr)
    Z = est.transform(Xte)
    auc1, tpr1 = _verification(pairwise_mahalanobis(Z, M=np.eye(30))[iu], same)
    assert auc0 < 0.9 and tpr0 < 0.82
    assert auc1 > 0.95 and tpr1 > 0.88
