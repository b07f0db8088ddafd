"""RCA against the dense formula: the inverse (square root) of the mean
within-chunklet covariance, chunk by chunk in plain numpy."""

import re
import warnings

import numpy as np
import pytest
from scipy.linalg import eigh
from sklearn.datasets import load_iris
from sklearn.metrics import pairwise_distances
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlearn import RCA, Constraints, RCA_Supervised
from mlearn._rca import chunk_statistics, merge_chunk_statistics


def dense_chunk_covariance(X, chunks):
    """``Ĉ = 1/p Σ_j Σ_i (x_ji − m_j)(x_ji − m_j)ᵀ`` and the total covariance of
    the chunked points, by explicit loops over chunks."""
    d = X.shape[1]
    C = np.zeros((d, d))
    rows = []
    for j in np.unique(chunks[chunks != -1]):
        Xj = X[chunks == j]
        for x in Xj:
            C += np.outer(x - Xj.mean(axis=0), x - Xj.mean(axis=0))
        rows.append(Xj)
    P = np.vstack(rows)
    return C / P.shape[0], np.cov(P, rowvar=False, bias=True)


def _iris_chunks(n_chunks=30, chunk_size=3, seed=0):
    X, y = load_iris(return_X_y=True)
    return X, Constraints(y).chunks(n_chunks, chunk_size, random_state=seed)


def test_metric_is_inverse_chunklet_covariance():
    X, chunks = _iris_chunks()
    C, _ = dense_chunk_covariance(X, chunks)
    est = RCA().fit(X, chunks)
    np.testing.assert_allclose(est.get_mahalanobis_matrix(), np.linalg.inv(C),
                               rtol=1e-9)
    # transformed chunklets are white: their mean within covariance is I
    C_t, _ = dense_chunk_covariance(est.transform(X), chunks)
    np.testing.assert_allclose(C_t, np.eye(4), atol=1e-10)
    assert est.rank_ == 4 and est.n_chunks_ == 30 and est.n_samples_seen_ == 90


def test_n_components_is_constrained_fisher_discriminant():
    X, chunks = _iris_chunks()
    C, S_t = dense_chunk_covariance(X, chunks)
    for m in (1, 2, 3):
        # A: the m directions of largest total / within-chunklet variance
        _, V = eigh(S_t, C)
        A = V[:, ::-1][:, :m]
        M_ref = A @ np.linalg.inv(A.T @ C @ A) @ A.T
        est = RCA(n_components=m).fit(X, chunks)
        assert est.components_.shape == (m, 4)
        np.testing.assert_allclose(est.get_mahalanobis_matrix(), M_ref, rtol=1e-8,
                                   atol=1e-10 * abs(M_ref).max())


def test_unassigned_rows_are_ignored():
    X, chunks = _iris_chunks()
    a = RCA().fit(X, chunks)
    keep = chunks != -1
    b = RCA().fit(X[keep], chunks[keep])
    np.testing.assert_allclose(a.components_, b.components_, rtol=1e-12)
    # any labels work as chunk ids; -1 only means "no chunk" for numbers
    names = np.array([f"c{c}" for c in chunks[keep]])
    c = RCA().fit(X[keep], names)
    np.testing.assert_allclose(c.components_, b.components_, rtol=1e-12)


def test_rank_deficient_uses_pseudo_inverse_with_warning():
    rs = np.random.RandomState(0)
    X = rs.normal(size=(40, 6))
    chunks = np.full(40, -1)
    chunks[:8] = np.repeat(np.arange(4), 2)  # 4 chunks of 2: rank 4 < 6
    C, _ = dense_chunk_covariance(X, chunks)
    msg = ("the within-chunklet covariance has rank 4 < n_features (6) (4 chunks "
           "of 8 points in all); RCA whitens its 4-dimensional range")
    with pytest.warns(UserWarning, match=re.escape(msg)):
        est = RCA().fit(X, chunks)
    assert est.rank_ == 4
    assert np.all(np.isfinite(est.transform(X)))
    np.testing.assert_allclose(est.get_mahalanobis_matrix(), np.linalg.pinv(C),
                               rtol=1e-8, atol=1e-8)
    # asking for no more components than the rank: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RCA(n_components=3).fit(X, chunks)
    # constant features (digits' blank pixels): zero weight, finite
    Xc = np.hstack([X, np.zeros((40, 2))])
    chunks = np.repeat(np.arange(20), 2)
    with pytest.warns(UserWarning, match="rank 6 < n_features"):
        est = RCA().fit(Xc, chunks)
    np.testing.assert_allclose(est.components_[:, 6:], 0.0)
    C, _ = dense_chunk_covariance(X, chunks)
    np.testing.assert_allclose(est.get_mahalanobis_matrix()[:6, :6],
                               np.linalg.inv(C), rtol=1e-9)


def test_merge_is_exact_with_chunks_split_across_blocks():
    X, chunks = _iris_chunks()
    whole = chunk_statistics(X, chunks)
    a = chunk_statistics(X[:70], chunks[:70])
    b = chunk_statistics(X[70:], chunks[70:])
    merged = merge_chunk_statistics(a, b)
    np.testing.assert_array_equal(merged[0], whole[0])
    np.testing.assert_array_equal(merged[1], whole[1])
    np.testing.assert_allclose(merged[2], whole[2], rtol=1e-12)
    np.testing.assert_allclose(merged[3], whole[3], rtol=1e-10)


@pytest.mark.filterwarnings("ignore:the within-chunklet covariance has rank")
def test_partial_fit_equals_fit():
    X, chunks = _iris_chunks()
    order = np.random.RandomState(3).permutation(150)
    X, chunks = X[order], chunks[order]
    ref = RCA().fit(X, chunks)
    est = RCA()
    for s in range(0, 150, 25):
        est.partial_fit(X[s:s + 25], chunks[s:s + 25])
    np.testing.assert_allclose(est.components_, ref.components_, rtol=1e-9,
                               atol=1e-12)
    assert est.n_chunks_ == 30
    # a chunk with one point so far waits for its second point
    est = RCA().partial_fit(X[:2], [0, 1])
    assert est.n_chunks_ == 0 and not hasattr(est, "components_")
    est = RCA().partial_fit(X[:4], [0, 0, 1, -1])
    assert est.n_chunks_ == 1 and est.n_samples_seen_ == 2


def test_dask_fit_equals_fit():
    da = pytest.importorskip("dask.array")
    X, chunks = _iris_chunks()
    ref = RCA().fit(X, chunks)
    est = RCA().fit(da.from_array(X, chunks=(40, 4)), da.from_array(chunks, 40))
    np.testing.assert_allclose(est.components_, ref.components_, rtol=1e-9,
                               atol=1e-12)
    Z = est.transform(da.from_array(X, chunks=(40, 4)))
    np.testing.assert_allclose(Z.compute(), ref.transform(X), rtol=1e-9, atol=1e-12)


def test_supervised_draws_chunks_and_fits_rca():
    X, y = load_iris(return_X_y=True)
    est = RCA_Supervised(n_chunks=20, chunk_size=3, random_state=5).fit(X, y)
    chunks = Constraints(y).chunks(20, 3, random_state=5)
    ref = RCA().fit(X, chunks)
    np.testing.assert_allclose(est.components_, ref.components_, rtol=1e-12)
    again = RCA_Supervised(n_chunks=20, chunk_size=3, random_state=5).fit(X, y)
    np.testing.assert_array_equal(again.components_, est.components_)
    other = RCA_Supervised(n_chunks=20, chunk_size=3, random_state=6).fit(X, y)
    assert not np.allclose(other.components_, est.components_)
    assert est.n_samples_seen_ == 60
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])


def test_float32(dtype):
    X, chunks = _iris_chunks()
    est = RCA().fit(X.astype(dtype), chunks)
    assert est.components_.dtype == dtype
    ref = RCA().fit(X, chunks)
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(
        pairwise_distances(est.transform(X.astype(dtype)).astype(float)),
        pairwise_distances(ref.transform(X)), rtol=rtol, atol=rtol)


def test_bad_input():
    X, chunks = _iris_chunks()
    bad = X.copy()
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        RCA().fit(bad, chunks)
    with pytest.raises(ValueError, match=re.escape(
            "no chunk: every row has chunk id -1")):
        RCA().fit(X, np.full(150, -1))
    one = chunks.copy()
    one[np.flatnonzero(chunks == 4)[1:]] = -1
    with pytest.raises(ValueError, match=re.escape(
            "1 chunk(s) have a single point, e.g. chunk id(s) 4; every chunk needs "
            "at least 2 points")):
        RCA().fit(X, one)
    with pytest.raises(ValueError, match=re.escape(
            "n_components (5) cannot be greater than n_features (4).")):
        RCA(n_components=5).fit(X, chunks)
    with pytest.raises(ValueError, match=re.escape(
            "the within-chunklet covariance is zero: the points of every chunk "
            "coincide")):
        RCA().fit([[1.0, 2], [1, 2], [3, 4], [3, 4], [5, 5]], [0, 0, 1, 1, -1])
    y = load_iris().target
    with pytest.raises(ValueError, match=re.escape(
            "chunk_size (51) is larger than every class; the largest, 0, has 50 "
            "samples.")):
        RCA_Supervised(chunk_size=51).fit(X, y)
    with pytest.raises(ValueError, match=re.escape(
            "not enough labelled points for 100 chunks of size 2: at most 75 fit.")):
        RCA_Supervised().fit(X, y)
    with pytest.raises(ValueError, match="y has a single class"):
        RCA_Supervised(n_chunks=3).fit(X, np.zeros(150))
    with pytest.raises(ValueError, match="chunk_size"):
        RCA_Supervised(chunk_size=1).fit(X, y)
    with pytest.raises(ValueError, match=re.escape(
            "n_components (5) cannot be greater than n_features (4).")):
        RCA_Supervised(n_components=5, n_chunks=3).fit(X, y)


@parametrize_with_checks([RCA(), RCA_Supervised(n_chunks=3, random_state=0)])
def test_sklearn_compatible(estimator, check):
    # RCA receives the checks' class labels as chunk ids
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # rank warnings on tiny data
        check(estimator)
