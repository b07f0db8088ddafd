"""Softmax-over-neighbours kernels shared by NCA and MLKR: one row block of
squared distances turned into the gradient's pair weights in place.

Each row ``i`` of a block holds ``z_iᵀz_j`` for every sample ``j`` (a GEMM of
the caller's); the kernel turns it into squared distances and their minimum
(one pass), the shifted exponentials and the row's sums (a second pass: a
numerically stable softmax over ``j ≠ i``) and finally the weight ``w_ij`` of
pair ``(i, j)`` in the gradient (a third pass). Every loop vectorises. Rows are
independent and each writes only its own outputs.
"""

import numba
import numpy as np

from mlearn._kernels._config import SERIAL

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693145751953125
_LN2_LO = 1.42860682030941723212e-6
# terms below 2⁻⁶⁰ of the row's largest are set to 0 (they change the row's sums
# by less than n·2⁻⁶⁰ relative), so late in a fit most weights are exactly 0
# and the caller can skip them
_CUT = -60.0 * 0.6931471805599453


@numba.njit(inline="always", **SERIAL)
def _exp_nonpositive(v):
    """``exp(v)`` for ``v <= 0`` (0 below −708) in straight-line code, so the
    loops calling it vectorise (numba's ``np.exp`` is a scalar libm call).

    .. math:: e^v = 2^k e^f,\\quad k = ⌊v \\log_2 e⌉,\\; |f| ≤ \\ln 2 / 2

    with a degree-12 Taylor polynomial for :math:`e^f` (relative error below
    1e-15) and :math:`2^k` assembled from its exponent bits.
    """
    v = max(v, -708.0)
    k = np.floor(v * _LOG2E + 0.5)
    f = (v - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 / 479001600.0
    p = p * f + 1.0 / 39916800.0
    p = p * f + 1.0 / 3628800.0
    p = p * f + 1.0 / 362880.0
    p = p * f + 1.0 / 40320.0
    p = p * f + 1.0 / 5040.0
    p = p * f + 1.0 / 720.0
    p = p * f + 1.0 / 120.0
    p = p * f + 1.0 / 24.0
    p = p * f + 1.0 / 6.0
    p = p * f + 0.5
    p = p * f + 1.0
    p = p * f + 1.0
    return p * np.int64((np.int64(k) + 1023) << 52).view(np.float64)


@numba.njit(inline="always", **SERIAL)
def _distance_row(row, sq, i):
    """Turn ``row`` (``z_iᵀz_j``) into ``d_ij = ‖z_i − z_j‖²`` (clipped at 0,
    ``inf`` at ``j = i``) and return ``m_i = min_{j≠i} d_ij``."""
    sqi = sq[i]
    m = np.inf
    for j in range(row.shape[0]):
        dj = max(sqi + sq[j] - 2.0 * row[j], 0.0)
        row[j] = dj
        m = min(m, np.inf if j == i else dj)
    row[i] = np.inf
    return m


@numba.njit(**SERIAL)
def _nca_weights(G, sq, start, codes, p_same, cols, counts):
    """NCA's pair weights for rows ``start … start + b − 1``.

    Parameters
    ----------
    G : float64 array (b, n)
        In: ``Z[start:start+b] Zᵀ``. Out: ``w_ij = p_ij (δ_ij − p_i)`` with
        ``δ_ij = [y_i = y_j]``.
    sq : float64 array (n,)
        Squared norms of the rows of ``Z``.
    start : int
        Index of the block's first row.
    codes : intp array (n,)
        Class codes.
    p_same : float64 array (b,)
        Out: ``p_i``, the probability that ``i`` picks a neighbour of its class.
    cols : int32 array (b, n)
        Out: row ``r``'s first ``counts[r]`` entries are the columns of its
        non-zero weights (written without branches, in the weight pass).
    counts : intp array (b,)
        Out: number of non-zero weights of each row.

    Returns
    -------
    nnz : int
        Number of non-zero weights.

    Notes
    -----
    .. math:: p_{ij} = \\frac{e^{−d_{ij}}}{\\sum_{k≠i} e^{−d_{ik}}},\\quad
              p_i = \\sum_{j: y_j = y_i} p_{ij},\\quad
              \\frac{∂p_i}{∂d_{ij}} = −w_{ij}
    """
    b, n = G.shape
    nnz = 0
    for r in range(b):
        i = start + r
        row = G[r]
        m = _distance_row(row, sq, i)
        ci = codes[i]
        s = 0.0
        same = 0.0
        for j in range(n):
            v = m - row[j]
            e = _exp_nonpositive(v) if v > _CUT else 0.0
            row[j] = e
            s += e
            same += e if codes[j] == ci else 0.0
        p = same / s
        p_same[r] = p
        inv = 1.0 / s
        cr = cols[r]
        k = 0
        for j in range(n):
            w = row[j] * inv * ((1.0 if codes[j] == ci else 0.0) - p)
            row[j] = w
            cr[k] = j
            k += 1 if w != 0.0 else 0
        counts[r] = k
        nnz += k
    return nnz


@numba.njit(**SERIAL)
def _mlkr_weights(G, sq, start, y, y_hat, cols, counts):
    """MLKR's pair weights for rows ``start … start + b − 1``.

    Parameters
    ----------
    G : float64 array (b, n)
        In: ``Z[start:start+b] Zᵀ``. Out:
        ``w_ij = p_ij (ŷ_i − y_i)(y_j − ŷ_i)``.
    sq : float64 array (n,)
        Squared norms of the rows of ``Z``.
    start : int
        Index of the block's first row.
    y : float64 array (n,)
        Targets.
    y_hat : float64 array (b,)
        Out: the leave-one-out kernel regression estimate ``ŷ_i``.
    cols : int32 array (b, n)
        Out: row ``r``'s first ``counts[r]`` entries are the columns of its
        non-zero weights (written without branches, in the weight pass).
    counts : intp array (b,)
        Out: number of non-zero weights of each row.

    Returns
    -------
    nnz : int
        Number of non-zero weights.

    Notes
    -----
    .. math:: ŷ_i = \\sum_{j≠i} p_{ij} y_j,\\quad
              \\frac{∂(ŷ_i − y_i)^2}{∂d_{ij}} = −2 w_{ij}
    """
    b, n = G.shape
    nnz = 0
    for r in range(b):
        i = start + r
        row = G[r]
        m = _distance_row(row, sq, i)
        s = 0.0
        acc = 0.0
        for j in range(n):
            v = m - row[j]
            e = _exp_nonpositive(v) if v > _CUT else 0.0
            row[j] = e
            s += e
            acc += e * y[j]
        yh = acc / s
        y_hat[r] = yh
        c = (yh - y[i]) / s
        cr = cols[r]
        k = 0
        for j in range(n):
            w = row[j] * c * (y[j] - yh)
            row[j] = w
            cr[k] = j
            k += 1 if w != 0.0 else 0
        counts[r] = k
        nnz += k
    return nnz


@numba.njit(**SERIAL)
def _sparse_pair_scatter(W, start, cols, counts, Z1, WZ1, WtZ1):
    """The two weight products of a block whose weights are mostly 0.

    Parameters
    ----------
    W : float64 array (b, n)
        Pair weights of rows ``start … start + b − 1``.
    start : int
    cols, counts : int32 array (b, n), intp array (b,)
        The columns of each row's non-zero weights (from the weight kernel).
    Z1 : float64 array (n, r + 1)
        ``[Z, 1]``.
    WZ1 : float64 array (b, r + 1)
        Out: ``W Z1`` (the block's rows).
    WtZ1 : float64 array (n, r + 1)
        In/out: ``WᵀZ1[start:start+b]`` is added.

    Notes
    -----
    .. math:: (WZ_1)_i = \\sum_{j: w_{ij} ≠ 0} w_{ij} [z_j, 1],\\quad
              (W^⊤Z_1)_j \\mathrel{+}= \\sum_{i: w_{ij} ≠ 0} w_{ij} [z_i, 1]
    """
    b = W.shape[0]
    k = Z1.shape[1]
    for r in range(b):
        out = WZ1[r]
        for c in range(k):
            out[c] = 0.0
        zi = Z1[start + r]
        row = W[r]
        cr = cols[r]
        for t in range(counts[r]):
            j = cr[t]
            w = row[j]
            zj = Z1[j]
            acc = WtZ1[j]
            for c in range(k):
                out[c] += w * zj[c]
                acc[c] += w * zi[c]
