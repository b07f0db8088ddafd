"""Distance kernels against scipy's cdist and a plain numpy twin."""

import re

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from conftest import tolerance
from mlearn import paired_mahalanobis, pairwise_mahalanobis
from mlearn._kernels._distances import _point_mahalanobis


def random_metric(d, rank=None, seed=0):
    rs = np.random.RandomState(seed)
    A = rs.normal(size=(rank or d, d))
    return A.T @ A + (0 if rank else 0.1 * np.eye(d))


def numpy_pairwise(X, Y, M):
    """Twin: the definition, one difference at a time (no expansion)."""
    diff = X[:, None, :].astype(np.float64) - Y[None, :, :]
    return np.sqrt(np.einsum("ijk,kl,ijl->ij", diff, M, diff).clip(0))


@pytest.mark.parametrize("d", [1, 3, 17])
def test_pairwise_matches_cdist_and_numpy(d, dtype):
    rs = np.random.RandomState(d)
    X = rs.normal(size=(40, d)).astype(dtype)
    Y = rs.normal(size=(25, d)).astype(dtype)
    M = random_metric(d)
    D = pairwise_mahalanobis(X, Y, M=M)
    assert D.dtype == dtype
    ref = cdist(X.astype(np.float64), Y.astype(np.float64), "mahalanobis", VI=M)
    np.testing.assert_allclose(D, ref, rtol=tolerance(dtype), atol=tolerance(dtype))
    np.testing.assert_allclose(D, numpy_pairwise(X, Y, M), rtol=tolerance(dtype),
                               atol=tolerance(dtype))
    D2 = pairwise_mahalanobis(X, Y, M=M, squared=True)
    np.testing.assert_allclose(D2, ref**2, rtol=tolerance(dtype) * 10,
                               atol=tolerance(dtype))


def test_L_and_M_give_same_distances():
    rs = np.random.RandomState(1)
    L = rs.normal(size=(2, 5))  # low rank: M singular
    X, Y = rs.normal(size=(30, 5)), rs.normal(size=(20, 5))
    np.testing.assert_allclose(pairwise_mahalanobis(X, Y, L=L),
                               pairwise_mahalanobis(X, Y, M=L.T @ L), atol=1e-10)
    np.testing.assert_allclose(pairwise_mahalanobis(X, Y, L=L),
                               numpy_pairwise(X, Y, L.T @ L), atol=1e-10)


def test_self_distances_and_duplicates():
    rs = np.random.RandomState(2)
    X = rs.normal(size=(20, 4)) * 100.0
    X = np.vstack([X, X[:5]])  # exact duplicates
    M = random_metric(4)
    D = pairwise_mahalanobis(X, M=M)
    np.testing.assert_array_equal(np.diag(D), 0.0)
    np.testing.assert_allclose(D, D.T, atol=1e-9)
    # duplicates: zero up to the expansion's round-off relative to ‖Lx‖
    scale = np.sqrt(np.max(np.einsum("ij,jk,ik->i", X, M, X)))
    assert np.max(np.diag(D[20:, :5])) < 1e-6 * scale
    assert np.all(D >= 0)


def test_blocked_result_equals_single_block(monkeypatch):
    # float32 output goes through float64 row blocks (float64 output is one GEMM)
    import mlearn.pairwise as pw

    rs = np.random.RandomState(3)
    X, Y = rs.normal(size=(300, 6)), rs.normal(size=(50, 6))
    M = random_metric(6)
    full = pairwise_mahalanobis(X, Y, M=M)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    one_block = pairwise_mahalanobis(X32, Y32, M=M)
    monkeypatch.setattr(pw, "_BLOCK_BYTES", 8 * 50 * 7)  # 7 rows per block
    blocked = pairwise_mahalanobis(X32, Y32, M=M)
    assert blocked.dtype == np.float32
    # same values up to BLAS's blocking of the sums, then rounded to float32
    np.testing.assert_allclose(blocked, one_block, rtol=1e-6)
    np.testing.assert_allclose(blocked, full, rtol=1e-5)


def test_read_only_and_non_contiguous_inputs():
    rs = np.random.RandomState(4)
    X = np.asfortranarray(rs.normal(size=(30, 8)))[:, ::2]
    Y = rs.normal(size=(20, 4))
    M = random_metric(4)
    X.setflags(write=False)
    Y.setflags(write=False)
    M.setflags(write=False)
    np.testing.assert_allclose(pairwise_mahalanobis(X, Y, M=M),
                               cdist(X, Y, "mahalanobis", VI=M), atol=1e-10)
    np.testing.assert_allclose(paired_mahalanobis(X[:20], Y, M=M),
                               np.diag(cdist(X[:20], Y, "mahalanobis", VI=M)),
                               atol=1e-10)


def test_paired_matches_numpy(dtype):
    rs = np.random.RandomState(5)
    X = rs.normal(size=(50, 7)).astype(dtype)
    Y = rs.normal(size=(50, 7)).astype(dtype)
    M = random_metric(7)
    d = paired_mahalanobis(X, Y, M=M)
    assert d.dtype == dtype
    diff = X.astype(np.float64) - Y
    ref = np.sqrt(np.einsum("ij,jk,ik->i", diff, M, diff))
    np.testing.assert_allclose(d, ref, rtol=tolerance(dtype))
    np.testing.assert_allclose(paired_mahalanobis(X, Y, M=M, squared=True), ref**2,
                               rtol=tolerance(dtype) * 10)


def test_point_kernel():
    rs = np.random.RandomState(6)
    X = rs.normal(size=(40, 5))
    L = rs.normal(size=(3, 5))
    ia, ib = rs.randint(0, 40, size=100), rs.randint(0, 40, size=100)
    for a, b in zip(ia[:5], ib[:5]):
        assert _point_mahalanobis(L, False, X[a], X[b]) == pytest.approx(
            np.linalg.norm(L @ (X[a] - X[b])), rel=1e-12)


def test_results_do_not_depend_on_thread_count():
    from threadpoolctl import threadpool_info, threadpool_limits

    rs = np.random.RandomState(7)
    X, Y = rs.normal(size=(500, 16)), rs.normal(size=(300, 16))
    M = random_metric(16)
    with threadpool_limits(1):
        one = pairwise_mahalanobis(X, Y, M=M)
    before = [lib["num_threads"] for lib in threadpool_info()]
    many = pairwise_mahalanobis(X, Y, M=M)
    paired_mahalanobis(X[:300], Y, M=M)
    # the one-thread sections for small BLAS work restore the thread counts
    assert [lib["num_threads"] for lib in threadpool_info()] == before
    np.testing.assert_allclose(one, many, rtol=1e-12, atol=1e-12)


def test_dask_in_dask_out():
    da = pytest.importorskip("dask.array")
    rs = np.random.RandomState(8)
    X, Y = rs.normal(size=(60, 5)), rs.normal(size=(30, 5))
    M = random_metric(5)
    Dd = pairwise_mahalanobis(da.from_array(X, chunks=(25, 5)),
                              da.from_array(Y, chunks=(10, 5)), M=M)
    assert isinstance(Dd, da.Array)
    np.testing.assert_allclose(Dd.compute(), pairwise_mahalanobis(X, Y, M=M),
                               atol=1e-12)
    dd = paired_mahalanobis(da.from_array(X[:30], chunks=7), da.from_array(Y, chunks=7),
                            M=M)
    assert isinstance(dd, da.Array)
    np.testing.assert_allclose(dd.compute(), paired_mahalanobis(X[:30], Y, M=M),
                               atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, exc, msg",
    [
        (dict(X=[[np.nan, 1.0]], M=np.eye(2)), ValueError, "X contains NaN"),
        (dict(X=[[np.inf, 1.0]], M=np.eye(2)), ValueError, "X contains NaN or inf"),
        (dict(X=[1.0, 2.0], M=np.eye(2)), ValueError, "X must be a 2-D array"),
        (dict(X=np.zeros((0, 2)), M=np.eye(2)), ValueError, "X is empty"),
        (dict(X=np.ones((2, 2)), Y=np.ones((2, 3)), M=np.eye(2)), ValueError,
         "X and Y must have the same number of features; got 2 and 3"),
        (dict(X=np.ones((2, 2)), M=np.eye(3)), ValueError,
         "M has shape (3, 3) but the points have 2 features"),
        (dict(X=np.ones((2, 2)), L=np.eye(3)), ValueError,
         "L has shape (3, 3) but the points have 2 features"),
        (dict(X=np.ones((2, 2)), M=np.diag([1.0, -1.0])), ValueError,
         "not positive semi-definite"),
        (dict(X=np.ones((2, 2)), M=[[1.0, 0.5], [0.0, 1.0]]), ValueError,
         "M must be symmetric"),
        (dict(X=np.ones((2, 2))), TypeError, "pass exactly one of M"),
        (dict(X=np.ones((2, 2)), M=np.eye(2), L=np.eye(2)), TypeError,
         "pass exactly one of M"),
        (dict(X=[["a", "b"]], M=np.eye(2)), TypeError, "X must be numeric"),
    ],
)
def test_pairwise_errors(kwargs, exc, msg):
    with pytest.raises(exc, match=re.escape(msg)):
        pairwise_mahalanobis(**kwargs)


def test_paired_shape_mismatch():
    with pytest.raises(ValueError, match=re.escape(
            "X and Y must have the same shape for paired distances; got (3, 2) "
            "and (2, 2)")):
        paired_mahalanobis(np.ones((3, 2)), np.ones((2, 2)), M=np.eye(2))


# Extreme scales: squares of coordinates near 1e160 overflow and near 1e-170
# underflow although the distances are representable. The references are exact:
# the distances of the unscaled points (scipy's cdist, or the definition) times
# the scale, which rounds once.
SCALES64 = [1e-300, 1e-170, 1e-160, 1e-150, 1e150, 1e160, 1e170, 1e300]
SCALES32 = [1e-35, 1e-30, 1e30, 1e35]  # what float32 inputs can hold


def _scale_cases():
    return ([(np.float64, s) for s in SCALES64]
            + [(np.float32, s) for s in SCALES32])


def _scaled_points(dtype, scale, seed=20):
    """Points ``P·scale`` stored in ``dtype`` and their exact float64 values
    divided by ``scale`` again (rounding of the scaled inputs included)."""
    rs = np.random.RandomState(seed)
    X = (rs.normal(size=(30, 4)) * scale).astype(dtype)
    Y = (rs.normal(size=(20, 4)) * scale).astype(dtype)
    return X, Y, X.astype(np.float64) / scale, Y.astype(np.float64) / scale


@pytest.mark.parametrize("dtype, scale", _scale_cases())
def test_pairwise_at_extreme_scales(dtype, scale):
    X, Y, X0, Y0 = _scaled_points(dtype, scale)
    M = random_metric(4)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    ref = cdist(X0, Y0, "mahalanobis", VI=M) * scale
    D = pairwise_mahalanobis(X, Y, M=M)
    assert D.dtype == dtype
    np.testing.assert_allclose(D, ref, rtol=rtol, atol=0)
    ref_self = cdist(X0, X0, "mahalanobis", VI=M) * scale
    D_self = pairwise_mahalanobis(X, M=M)
    np.testing.assert_array_equal(np.diag(D_self), 0.0)
    off = ~np.eye(len(X), dtype=bool)
    np.testing.assert_allclose(D_self[off], ref_self[off], rtol=rtol, atol=0)
    # the same scale carried by L instead of the points
    L = np.linalg.cholesky(M).T
    D_L = pairwise_mahalanobis(X0, Y0, L=L * scale)
    np.testing.assert_allclose(D_L, ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype, scale", [
    (np.float64, 1e-150), (np.float64, 1e150),  # squares still representable
    (np.float32, 1e-18), (np.float32, 1e18),
])
def test_pairwise_squared_at_extreme_scales(dtype, scale):
    X, Y, X0, Y0 = _scaled_points(dtype, scale)
    M = random_metric(4)
    ref = cdist(X0, Y0, "mahalanobis", VI=M) ** 2
    D2 = pairwise_mahalanobis(X, Y, M=M, squared=True)
    np.testing.assert_allclose(D2, ref * scale**2, rtol=tolerance(dtype) * 10, atol=0)


def test_pairwise_rows_of_very_different_magnitudes():
    # rows 1e-200 next to rows of size 1: distances among the tiny rows are
    # recomputed on their own scale instead of underflowing to 0
    rs = np.random.RandomState(21)
    P = rs.normal(size=(12, 3))
    X = P.copy()
    X[:5] *= 1e-200
    M = random_metric(3)
    D = pairwise_mahalanobis(X, M=M)
    tiny = cdist(P[:5], P[:5], "mahalanobis", VI=M) * 1e-200
    np.testing.assert_allclose(D[:5, :5], tiny, rtol=1e-12, atol=0)
    np.testing.assert_allclose(D[5:, 5:], cdist(X[5:], X[5:], "mahalanobis", VI=M),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(D[:5, 5:], cdist(X[:5], X[5:], "mahalanobis", VI=M),
                               rtol=1e-12)
    D_XY = pairwise_mahalanobis(X[:8], X[3:], M=M)
    # X[3:5] meet themselves here: 0 up to the expansion's round-off, about
    # sqrt(eps)·|x| = 1e-208 (the diagonal of the one-set call is exactly 0)
    np.testing.assert_allclose(D_XY, D[:8, 3:], rtol=1e-12, atol=1e-206)


def test_pairwise_when_the_transform_overflows():
    # points near 1e306 map to coordinates beyond the float64 range, but they are
    # close to each other: the distances (about 1e305) are representable
    rs = np.random.RandomState(22)
    N = rs.normal(size=(10, 3))
    c = np.array([1.0, -1.0, 0.5])
    L0 = 50.0 * random_metric(3)
    X = (c + 0.05 * N) * 1e306
    ref = cdist(c + 0.05 * N, c + 0.05 * N, "mahalanobis", VI=L0.T @ L0) * 1e306
    D = pairwise_mahalanobis(X, L=L0)
    assert np.all(np.isfinite(D))
    off = ~np.eye(10, dtype=bool)
    # the expansion's error grows with (|x| / distance)^2, here about 1e3 eps
    np.testing.assert_allclose(D[off], ref[off], rtol=1e-9)


@pytest.mark.parametrize("dtype, scale", _scale_cases())
def test_paired_and_metric_at_extreme_scales(dtype, scale):
    X, Y, X0, Y0 = _scaled_points(dtype, scale)
    Y, Y0 = Y[:20], Y0[:20]
    X, X0 = X[:20], X0[:20]
    M = random_metric(4)
    L = np.linalg.cholesky(M).T
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    ref = np.linalg.norm((X0 - Y0) @ L.T, axis=1) * scale
    d = paired_mahalanobis(X, Y, M=M)
    assert d.dtype == dtype
    np.testing.assert_allclose(d, ref, rtol=rtol, atol=0)
    got = [_point_mahalanobis(L, False, X[i], Y[i]) for i in range(20)]
    np.testing.assert_allclose(got, ref.astype(np.float64), rtol=1e-12, atol=0)
    if dtype == np.float64 and 1e-150 <= scale <= 1e150:  # squares representable
        got2 = [_point_mahalanobis(L, True, X[i], Y[i]) for i in range(20)]
        np.testing.assert_allclose(got2, np.asarray(got) ** 2, rtol=1e-12, atol=0)
        np.testing.assert_allclose(paired_mahalanobis(X, Y, M=M, squared=True),
                                   ref.astype(np.float64) ** 2, rtol=rtol * 10, atol=0)
    np.testing.assert_array_equal(paired_mahalanobis(X, X, M=M), 0.0)
    assert _point_mahalanobis(L, False, X[0], X[0]) == 0.0


def test_get_metric_at_extreme_scales():
    from mlearn import Covariance

    rs = np.random.RandomState(23)
    P = rs.normal(size=(40, 3)) @ np.diag([1.0, 3.0, 0.2])
    est = Covariance().fit(P)
    metric = est.get_metric()
    L = est.components_
    for scale in (1e-170, 1e170):
        for i in range(0, 40, 2):
            u, v = P[i] * scale, P[i + 1] * scale
            ref = np.linalg.norm(L @ (P[i] - P[i + 1])) * scale
            assert metric(u, v) == pytest.approx(ref, rel=1e-12)


def test_pairwise_points_mapped_to_the_origin():
    # points in the null space of L, and all-zero points: distances exactly 0
    rs = np.random.RandomState(24)
    L0 = rs.normal(size=(2, 3))
    L0[:, 2] = 0.0
    X = np.outer([1.0, -2.0, 3e-200], [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(pairwise_mahalanobis(X, L=L0), 0.0)
    np.testing.assert_array_equal(pairwise_mahalanobis(X, X[:2] * 1e300, L=L0), 0.0)
    np.testing.assert_array_equal(pairwise_mahalanobis(np.zeros((3, 3)), L=L0), 0.0)


def test_concurrent_calls_restore_blas_threads():
    # the one-thread limit for small BLAS work is process-wide: calls from many
    # threads at once share it and the last one out restores the thread count
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    rs = np.random.RandomState(25)
    X, Y = rs.normal(size=(60, 8)), rs.normal(size=(40, 8))
    M = random_metric(8)
    ref = cdist(X, Y, "mahalanobis", VI=M)
    before = [lib["num_threads"] for lib in threadpool_info()]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: pairwise_mahalanobis(X, Y, M=M), range(40)))
    assert [lib["num_threads"] for lib in threadpool_info()] == before
    for D in results:
        np.testing.assert_allclose(D, ref, rtol=1e-10)
