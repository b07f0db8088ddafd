"""Public Mahalanobis distance functions.

Both functions take the metric as ``M`` (Mahalanobis matrix) or ``L`` (linear map,
``M = LᵀL``); with ``M`` the map is found once by Cholesky (or ``eigh``).
"""

import contextlib
import threading

import numpy as np

from mlearn._kernels._distances import (
    TINY_SQ,
    _finish_sq_distances,
    _finish_sq_distances_inplace,
    _rescaled_pair_distances,
    _row_sq_norms,
)
from mlearn.utils._validation import (
    _is_dask,
    check_finite_array,
    check_finite_dask,
    check_metric_args,
)

__all__ = ["pairwise_mahalanobis", "paired_mahalanobis"]

# float64 output receives the GEMM directly (one call, no temporary); float32
# output goes through float64 row blocks of about this many bytes. Few large GEMMs,
# not many small ones: each BLAS call waits for all of BLAS's threads, which on a
# machine with a busy core costs a scheduler time slice per call (a 4 MiB block
# made pairwise 4-8x the single-GEMM floor there).
_BLOCK_BYTES = 64 * 2**20
_PAIRED_BLOCK_ROWS = 8192

# BLAS work below this many multiply-adds (a few ms on one core) runs on one
# thread: a multi-threaded call waits for every thread, and on a busy machine a
# thread waits for a time slice, which costs more than the call. Factorizing
# M (d = 128) took 0.2 ms idle and 0.45 s with the 2 cores oversubscribed.
_ONE_THREAD_WORK = 2**25
_CONTROLLER = None
_LIMITED = None
_DEPTH = 0
_LOCK = threading.Lock()

# Transformed coordinates whose largest magnitude lies in [SAFE_MIN, SAFE_MAX]
# square and sum without overflow, and without underflow for every row whose
# squared norm is at least TINY_SQ; outside it the points are rescaled first.
_SAFE_MAX = 2.0**450
_SAFE_MIN = 2.0**-450


@contextlib.contextmanager
def _one_blas_thread(work=0):
    """Limit BLAS to one thread while ``work`` (multiply-adds) is below
    ``_ONE_THREAD_WORK``; a no-op otherwise.

    The limit is process-wide, so nested and concurrent uses (dask's threads)
    share it: the first to enter sets it, the last to leave restores the
    original thread count.
    """
    global _CONTROLLER, _LIMITED, _DEPTH
    if work > _ONE_THREAD_WORK:
        yield
        return
    with _LOCK:
        if _DEPTH == 0:
            if _CONTROLLER is None:
                from threadpoolctl import ThreadpoolController

                _CONTROLLER = ThreadpoolController()
            _LIMITED = _CONTROLLER.limit(limits=1, user_api="blas")
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                _LIMITED.restore_original_limits()
                _LIMITED = None


def _metric_components(M, L, n_features):
    """:func:`check_metric_args` with the factorization of ``M`` (many small
    BLAS calls inside LAPACK) on one thread."""
    if M is None:
        return check_metric_args(M, L, n_features)
    with _one_blas_thread():
        return check_metric_args(M, L, n_features)


def _out_dtype(*arrays):
    return np.result_type(*[a.dtype for a in arrays], np.float32)


def _max_abs(A):
    return max(float(A.max()), -float(A.min())) if A.size else 0.0


def _augment(XL, left):
    """Rows ``[-2x, ‖x‖², 1]`` (left) or ``[y, 1, ‖y‖²]`` so that one GEMM of the
    two gives ``‖x‖² + ‖y‖² − 2 x·y`` directly."""
    n, k = XL.shape
    A = np.empty((n, k + 2), dtype=np.float64)
    sq = np.einsum("ij,ij->i", XL, XL)
    if left:
        np.multiply(XL, -2.0, out=A[:, :k])
        A[:, k] = sq
        A[:, k + 1] = 1.0
    else:
        A[:, :k] = XL
        A[:, k] = 1.0
        A[:, k + 1] = sq
    return A


def _scaled_maps(X, Y, L):
    """``(XL, YL, e)`` with ``X Lᵀ = 2^e XL`` and ``Y Lᵀ = 2^e YL``, float64;
    ``e = None`` when every point maps to 0.

    ``e = 0`` (no copy, no scaling) unless the largest transformed magnitude lies
    outside ``[_SAFE_MIN, _SAFE_MAX]`` (or ``X Lᵀ`` overflowed, or underflowed to
    0); then ``X``, ``Y`` and ``L`` are divided by powers of two, which is exact,
    so the squares neither overflow nor underflow. ``Y is None`` gives
    ``YL = None``.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = None if Y is None else np.asarray(Y, dtype=np.float64)
    rows = X.shape[0] + (0 if Y is None else Y.shape[0])
    with np.errstate(over="ignore", invalid="ignore"), \
            _one_blas_thread(rows * L.size):  # overflow is handled below
        XL = X @ L.T
        YL = None if Y is None else Y @ L.T
    zmax = max(_max_abs(XL), 0.0 if YL is None else _max_abs(YL))
    if _SAFE_MIN <= zmax <= _SAFE_MAX:
        return XL, YL, 0
    xmax = max(_max_abs(X), 0.0 if Y is None else _max_abs(Y))
    if xmax == 0.0:
        return XL, YL, None
    ex = int(np.frexp(xmax)[1])
    eL = int(np.frexp(_max_abs(L))[1])
    Ls = np.ldexp(L, -eL)
    with _one_blas_thread(rows * L.size):
        XL = np.ldexp(X, -ex) @ Ls.T
        YL = None if Y is None else np.ldexp(Y, -ex) @ Ls.T
    zmax = max(_max_abs(XL), 0.0 if YL is None else _max_abs(YL))
    if zmax == 0.0:
        return XL, YL, None
    ez = int(np.frexp(zmax)[1])
    XL = np.ldexp(XL, -ez)
    YL = None if YL is None else np.ldexp(YL, -ez)
    return XL, YL, ex + eL + ez


def _pairwise_numpy(X, Y, L, squared, same):
    out = np.empty((X.shape[0], Y.shape[0]), dtype=_out_dtype(X, Y))
    XL, YL, exponent = _scaled_maps(X, None if same else Y, L)
    if exponent is None:  # every point maps to the origin
        out.fill(0.0)
        return out
    A = _augment(XL, left=True)
    B = _augment(XL if same else YL, left=False)
    k = XL.shape[1]
    n, m = out.shape
    if out.dtype == np.float64:
        np.matmul(A, B.T, out=out)
        _finish_sq_distances_inplace(out, squared, exponent)
    else:
        step = max(1, _BLOCK_BYTES // (8 * m))
        G = np.empty((min(step, n), m), dtype=np.float64)
        for start in range(0, n, step):
            stop = min(start + step, n)
            g = G[: stop - start]
            np.matmul(A[start:stop], B.T, out=g)
            _finish_sq_distances(g, out[start:stop], squared, exponent)
    # Rows far smaller than the largest (squared norm below TINY_SQ in the common
    # scale) lost digits to underflow: distances between two such rows are
    # recomputed on their own scale (which strictly shrinks the set each time).
    tiny_x = np.flatnonzero(A[:, k] < TINY_SQ)
    tiny_y = tiny_x if same else np.flatnonzero(B[:, k + 1] < TINY_SQ)
    if tiny_x.size and tiny_y.size and tiny_x.size + tiny_y.size < n + m:
        sub = _pairwise_numpy(X[tiny_x], Y[tiny_y], L, squared, same)
        out[np.ix_(tiny_x, tiny_y)] = sub
    if same:
        np.fill_diagonal(out, 0.0)
    return out


def _pairwise_block(X, Y, L, squared):
    return _pairwise_numpy(X, Y, L, squared, same=False)


def pairwise_mahalanobis(X, Y=None, *, M=None, L=None, squared=False):
    """Mahalanobis distances between the rows of ``X`` and the rows of ``Y``.

    Computed as Euclidean distances after the map ``x ↦ Lx``: one BLAS GEMM
    written straight into the float64 result, then a numba pass that clips
    round-off negatives and takes square roots, so no ``n × m`` temporary is
    needed. float32 input gives float32 output; the arithmetic is float64, through
    row blocks of at most 64 MiB. Dask arrays give a lazy dask array, whose
    blocks raise ``ValueError`` when computed on NaN or infinity.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
    Y : array-like of shape (n_samples_Y, n_features), default=None
        ``None`` means ``Y = X`` (the diagonal is then exactly 0).
    M : array-like of shape (n_features, n_features), default=None
        Positive semi-definite Mahalanobis matrix. Give ``M`` or ``L``.
    L : array-like of shape (n_components, n_features), default=None
        Linear map with ``M = LᵀL``.
    squared : bool, default=False
        Return squared distances.

    Returns
    -------
    D : ndarray of shape (n_samples_X, n_samples_Y)

    Notes
    -----
    .. math::

        D_{ij} = \\sqrt{(x_i - y_j)^\\top M (x_i - y_j)}
               = \\lVert L x_i - L y_j \\rVert_2

    Like every expansion ``‖a‖² + ‖b‖² − 2a·b`` this loses relative precision for
    points much closer to each other than to the origin (absolute error about
    ``1e-16 · ‖Lx‖²`` before the square root).

    Results do not depend on units: when the transformed points are too large or
    too small to square in float64 (beyond about ``1e±135``), they are divided by
    a power of two first (an exact operation) and the distances multiplied back,
    and distances among rows more than ``1e135`` times smaller than the largest
    are recomputed on their own scale. Only the squared distances can overflow
    to ``inf`` or underflow to 0, where the values themselves are not
    representable.

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn.pairwise import pairwise_mahalanobis
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> pairwise_mahalanobis(X, M=np.diag([4.0, 0.0]))
    array([[0., 2.],
           [2., 0.]])
    """
    same = Y is None
    if _is_dask(X) or (Y is not None and _is_dask(Y)):
        return _pairwise_dask(X, X if same else Y, M, L, squared)
    X = check_finite_array(X, "X")
    Y = X if same else check_finite_array(Y, "Y")
    if Y.shape[1] != X.shape[1]:
        raise ValueError(
            f"X and Y must have the same number of features; got {X.shape[1]} and "
            f"{Y.shape[1]}."
        )
    L = _metric_components(M, L, X.shape[1])
    return _pairwise_numpy(X, Y, L, squared, same)


def _pairwise_dask(X, Y, M, L, squared):
    import dask.array as da

    same = Y is X
    X = da.asarray(X)
    Y = X if same else da.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must be 2-D with the same number of features; got shapes "
            f"{X.shape} and {Y.shape}."
        )
    L = _metric_components(M, L, X.shape[1])
    X = check_finite_dask(X.rechunk({1: -1}), "X")
    Y = X if same else check_finite_dask(Y.rechunk({1: -1}), "Y")
    dtype = np.result_type(X.dtype, Y.dtype, np.float32)
    return da.blockwise(
        _pairwise_block, "ij", X, "ik", Y, "jk",
        L=L, squared=squared, dtype=dtype, concatenate=True,
    )


def paired_mahalanobis(X, Y, *, M=None, L=None, squared=False):
    """Mahalanobis distance between ``X[i]`` and ``Y[i]`` for every ``i``.

    Parameters
    ----------
    X, Y : array-like of shape (n_pairs, n_features)
    M : array-like of shape (n_features, n_features), default=None
    L : array-like of shape (n_components, n_features), default=None
        Give exactly one of ``M`` or ``L``.
    squared : bool, default=False

    Returns
    -------
    d : ndarray of shape (n_pairs,)

    Notes
    -----
    .. math:: d_i = \\lVert L (x_i - y_i) \\rVert_2

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn.pairwise import paired_mahalanobis
    >>> paired_mahalanobis([[0.0, 0.0]], [[3.0, 4.0]], M=np.eye(2))
    array([5.])
    """
    if _is_dask(X) or _is_dask(Y):
        import dask.array as da

        X, Y = da.asarray(X), da.asarray(Y)
        if X.shape != Y.shape or X.ndim != 2:
            raise ValueError(
                f"X and Y must be 2-D with the same shape; got {X.shape} and {Y.shape}."
            )
        L = _metric_components(M, L, X.shape[1])
        X = check_finite_dask(X.rechunk({1: -1}), "X")
        Y = check_finite_dask(Y.rechunk(X.chunks), "Y")
        return da.map_blocks(
            lambda a, b: _paired_numpy(a, b, L, squared), X, Y,
            drop_axis=1, dtype=np.result_type(X.dtype, Y.dtype, np.float32),
        )
    X = check_finite_array(X, "X")
    Y = check_finite_array(Y, "Y")
    if X.shape != Y.shape:
        raise ValueError(
            f"X and Y must have the same shape for paired distances; got {X.shape} "
            f"and {Y.shape}."
        )
    L = _metric_components(M, L, X.shape[1])
    return _paired_numpy(X, Y, L, squared)


def _paired_numpy(X, Y, L, squared):
    n = X.shape[0]
    out = np.empty(n, dtype=_out_dtype(X, Y))
    with _one_blas_thread(min(n, _PAIRED_BLOCK_ROWS) * L.size):
        for start in range(0, n, _PAIRED_BLOCK_ROWS):
            stop = min(start + _PAIRED_BLOCK_ROWS, n)
            diff = np.subtract(X[start:stop], Y[start:stop], dtype=np.float64)
            blk = out[start:stop]
            if _row_sq_norms(diff @ L.T, blk, squared):
                rows = np.flatnonzero(blk < 0) + start
                _rescale_rows(X, Y, rows, rows, L, squared, out, rows)
    return out


def _rescale_rows(X, Y, ia, ib, L, squared, out, rows):
    """``out[rows] = ‖L (X[ia] − Y[ib])‖`` for the pairs whose plain sum of
    squares overflowed or underflowed (see :func:`_rescaled_pair_distances`)."""
    d = np.empty(rows.shape[0], dtype=np.float64)
    _rescaled_pair_distances(X, Y, ia, ib, L, squared, d)
    out[rows] = d

