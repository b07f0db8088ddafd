"""Softmax-over-neighbours kernels shared by NCA and MLKR.

A block of rows of the distance matrix is turned into the gradient's pair
weights in one of two ways:

- *Dense* (:func:`_nca_weights`, :func:`_mlkr_weights`): row ``i`` holds
  ``z_iᵀz_j`` for every sample ``j`` (a float64 GEMM of the caller's); three
  passes turn it into squared distances and their minimum, the shifted
  exponentials and the row's sums (a numerically stable softmax over
  ``j ≠ i``), and the weight ``w_ij`` of every pair, in place. Early in a fit,
  when most pairs carry weight.
- *Screened* (:func:`_screen_tile_f32`, :func:`_listed_distances`, then
  :func:`_nca_list_weights`, :func:`_mlkr_list_weights`): the GEMM runs in
  float32, one cache-sized tile of columns at a time; the rows whose tile
  minimum (a vectorised NumPy reduction) reaches their threshold are scanned
  for the columns within ``CUT`` (widened by the float32 rounding bound) of
  the row's running minimum; their distances are recomputed in
  float64 from ``z_i − z_j`` and the softmax and the weights are computed on
  the list only. Late in a fit, when a few pairs per row survive the cut.

The weighted sums ``Σ_j w_ij [z_j, 1]`` and ``Σ_i w_ij [z_i, 1]`` are then two
GEMMs of the caller's or, for a block with few non-zero weights, a loop over
them (:func:`_list_pair_scatter`, after :func:`_compact_nonzero` packs a dense
block's weights). Every
full-row loop vectorises. Rows are independent and each writes only its own
outputs.
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
CUT = 60.0 * 0.6931471805599453
_CUT = -CUT


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
def _screen_tile_f32(T, rows, sq32, col0, start, thr_slack, m_run, cols, counts):
    """Add the columns of one float32 tile that may survive the cut to the
    lists of the given rows.

    Parameters
    ----------
    T : float32 array (b, w)
        ``‖z_j‖² − 2 z_iᵀz_j`` for the block's rows ``i`` and the tile's
        columns ``j``, in float32 (``Z32``, the rounding of ``Z``).
    rows : intp array
        The rows to scan: those whose tile minimum is below their threshold.
    sq32 : float32 array (n,)
        Squared norms of the rows of ``Z32``.
    col0, start : int
        Indices of the tile's first column and the block's first row.
    thr_slack : float32 array (b,)
        ``CUT`` plus a bound on twice the largest error of row ``r``'s float32
        distances.
    m_run : float32 array (b,)
        In/out: each row's smallest float32 distance so far, or an upper
        bound on its smallest distance.
    cols : int32 array (b, n)
        In/out: the listed columns of each row (the first ``counts[r]``).
    counts : intp array (b,)
        In/out: the number of listed columns of each row.

    Notes
    -----
    A column is listed when its float32 distance is below the running
    threshold ``m_run + thr_slack``. The running minimum never falls below
    the exact minimum minus the float32 error, so every column within
    ``CUT`` of the exact minimum is listed (with a few more, dropped by the
    weight kernels). The sample itself is never listed. Late in a fit the
    branch is rarely taken.
    """
    w = T.shape[1]
    for r in rows:
        row = T[r]
        sqi = sq32[start + r]
        own = start + r - col0
        m = m_run[r]
        slack = thr_slack[r]
        thr = m + slack
        k = counts[r]
        cr = cols[r]
        for j in range(w):
            v = sqi + row[j]
            if v < thr and j != own:
                cr[k] = col0 + j
                k += 1
                if v < m:
                    m = v
                    thr = m + slack
        m_run[r] = m
        counts[r] = k


@numba.njit(**SERIAL)
def _listed_distances(Z, start, cols, counts, G, nearest):
    """Exact squared distances ``‖z_i − z_j‖²`` of each row's listed columns,
    packed at the front of its row of ``G``, and the nearest listed column
    (``nearest``, for the next evaluation's first threshold)."""
    b = counts.shape[0]
    kdim = Z.shape[1]
    for r in range(b):
        zi = Z[start + r]
        cr = cols[r]
        out = G[r]
        best = np.inf
        arg = -1
        for t in range(counts[r]):
            zj = Z[cr[t]]
            acc = 0.0
            for c in range(kdim):
                diff = zi[c] - zj[c]
                acc += diff * diff
            out[t] = acc
            if acc < best:
                best = acc
                arg = cr[t]
        nearest[r] = arg


@numba.njit(inline="always", **SERIAL)
def _list_minimum(row, k):
    m = np.inf
    for t in range(k):
        m = min(m, row[t])
    return m


@numba.njit(**SERIAL)
def _nca_list_weights(G, cols, counts, codes, start, p_same):
    """NCA's pair weights of the listed columns, in place.

    Parameters
    ----------
    G : float64 array (b, n)
        In: the listed squared distances (row ``r``'s first ``counts[r]``).
        Out: their weights ``w_ij = p_ij (δ_ij − p_i)`` with
        ``δ_ij = [y_i = y_j]``.
    cols, counts : int32 array (b, n), intp array (b,)
        The listed columns (from screening).
    codes : intp array (n,)
        Class codes.
    start : int
        Index of the block's first row.
    p_same : float64 array (b,)
        Out: ``p_i``, the probability that ``i`` picks a neighbour of its class.

    Notes
    -----
    .. math:: p_{ij} = \\frac{e^{−d_{ij}}}{\\sum_{k≠i} e^{−d_{ik}}},\\quad
              p_i = \\sum_{j: y_j = y_i} p_{ij},\\quad
              \\frac{∂p_i}{∂d_{ij}} = −w_{ij}

    Terms more than ``CUT`` beyond the row's smallest distance are 0.
    """
    b = G.shape[0]
    for r in range(b):
        row = G[r]
        cr = cols[r]
        k = counts[r]
        ci = codes[start + r]
        m = _list_minimum(row, k)
        s = 0.0
        same = 0.0
        for t in range(k):
            v = m - row[t]
            e = _exp_nonpositive(v) if v > _CUT else 0.0
            row[t] = e
            s += e
            same += e if codes[cr[t]] == ci else 0.0
        p = same / s
        p_same[r] = p
        inv = 1.0 / s
        for t in range(k):
            row[t] = row[t] * inv * ((1.0 if codes[cr[t]] == ci else 0.0) - p)


@numba.njit(**SERIAL)
def _mlkr_list_weights(G, cols, counts, y, start, y_hat):
    """MLKR's pair weights of the listed columns, in place.

    Parameters
    ----------
    G : float64 array (b, n)
        In: the listed squared distances (row ``r``'s first ``counts[r]``).
        Out: their weights ``w_ij = p_ij (ŷ_i − y_i)(y_j − ŷ_i)``.
    cols, counts : int32 array (b, n), intp array (b,)
        The listed columns (from screening).
    y : float64 array (n,)
        Targets.
    start : int
        Index of the block's first row.
    y_hat : float64 array (b,)
        Out: the leave-one-out kernel regression estimate ``ŷ_i``.

    Notes
    -----
    .. math:: ŷ_i = \\sum_{j≠i} p_{ij} y_j,\\quad
              \\frac{∂(ŷ_i − y_i)^2}{∂d_{ij}} = −2 w_{ij}

    Terms more than ``CUT`` beyond the row's smallest distance are 0.
    """
    b = G.shape[0]
    for r in range(b):
        row = G[r]
        cr = cols[r]
        k = counts[r]
        m = _list_minimum(row, k)
        s = 0.0
        acc = 0.0
        for t in range(k):
            v = m - row[t]
            e = _exp_nonpositive(v) if v > _CUT else 0.0
            row[t] = e
            s += e
            acc += e * y[cr[t]]
        yh = acc / s
        y_hat[r] = yh
        c = (yh - y[start + r]) / s
        for t in range(k):
            row[t] = row[t] * c * (y[cr[t]] - yh)


@numba.njit(**SERIAL)
def _expand_rows(G, cols, counts):
    """Spread each row's packed weights back to their columns, zeros elsewhere
    (in place: ``cols[r][t] >= t``, so a descending pass never overwrites a
    packed entry it has yet to read)."""
    b, n = G.shape
    for r in range(b):
        row = G[r]
        cr = cols[r]
        t = counts[r] - 1
        for j in range(n - 1, -1, -1):
            if t >= 0 and cr[t] == j:
                row[j] = row[t]
                t -= 1
            else:
                row[j] = 0.0


@numba.njit(**SERIAL)
def _list_pair_scatter(G, start, cols, counts, Z1, WZ1, WtZ1):
    """The two weight products of a block, by a loop over its listed pairs.

    Parameters
    ----------
    G : float64 array (b, n)
        Row ``r``'s first ``counts[r]`` entries are the weights of its listed
        columns ``cols[r][:counts[r]]`` (every other weight is 0).
    start : int
        Index of the block's first row.
    cols, counts : int32 array (b, n), intp array (b,)
    Z1 : float64 array (n, r + 1)
        ``[Z, 1]``.
    WZ1 : float64 array (b, r + 1)
        Out: ``W Z1`` (the block's rows).
    WtZ1 : float64 array (n, r + 1)
        In/out: ``WᵀZ1[start:start+b]`` is added.

    Notes
    -----
    .. math:: (WZ_1)_i = \\sum_{j} w_{ij} [z_j, 1],\\quad
              (W^⊤Z_1)_j \\mathrel{+}= \\sum_{i} w_{ij} [z_i, 1]
    """
    b = G.shape[0]
    k = Z1.shape[1]
    for r in range(b):
        out = WZ1[r]
        for c in range(k):
            out[c] = 0.0
        zi = Z1[start + r]
        row = G[r]
        cr = cols[r]
        for t in range(counts[r]):
            w = row[t]
            if w == 0.0:
                continue
            j = cr[t]
            zj = Z1[j]
            acc = WtZ1[j]
            for c in range(k):
                out[c] += w * zj[c]
                acc[c] += w * zi[c]


@numba.njit(**SERIAL)
def _nca_weights(G, sq, start, codes, p_same):
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

    Returns
    -------
    nnz : int
        Number of pairs with a non-zero softmax term (every other weight is
        exactly 0; :func:`_compact_nonzero` lists them).

    Notes
    -----
    .. math:: p_{ij} = \\frac{e^{−d_{ij}}}{\\sum_{k≠i} e^{−d_{ik}}},\\quad
              p_i = \\sum_{j: y_j = y_i} p_{ij},\\quad
              \\frac{∂p_i}{∂d_{ij}} = −w_{ij}

    The three loops have no branches (selects only), so they vectorise.
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
        k = 0
        for j in range(n):
            v = m - row[j]
            e = _exp_nonpositive(v)
            e = e if v > _CUT else 0.0
            row[j] = e
            s += e
            same += e if codes[j] == ci else 0.0
            k += 1 if e > 0.0 else 0
        p = same / s
        p_same[r] = p
        inv = 1.0 / s
        for j in range(n):
            row[j] = row[j] * inv * ((1.0 if codes[j] == ci else 0.0) - p)
        nnz += k
    return nnz


@numba.njit(**SERIAL)
def _mlkr_weights(G, sq, start, y, y_hat):
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

    Returns
    -------
    nnz : int
        Number of pairs with a non-zero softmax term (every other weight is
        exactly 0; :func:`_compact_nonzero` lists them).

    Notes
    -----
    .. math:: ŷ_i = \\sum_{j≠i} p_{ij} y_j,\\quad
              \\frac{∂(ŷ_i − y_i)^2}{∂d_{ij}} = −2 w_{ij}

    The three loops have no branches (selects only), so they vectorise.
    """
    b, n = G.shape
    nnz = 0
    for r in range(b):
        i = start + r
        row = G[r]
        m = _distance_row(row, sq, i)
        s = 0.0
        acc = 0.0
        k = 0
        for j in range(n):
            v = m - row[j]
            e = _exp_nonpositive(v)
            e = e if v > _CUT else 0.0
            row[j] = e
            s += e
            acc += e * y[j]
            k += 1 if e > 0.0 else 0
        yh = acc / s
        y_hat[r] = yh
        c = (yh - y[i]) / s
        for j in range(n):
            row[j] = row[j] * c * (y[j] - yh)
        nnz += k
    return nnz


@numba.njit(**SERIAL)
def _compact_nonzero(W, cols, counts):
    """Pack each row's non-zero weights at its front (``W[r, :counts[r]]``,
    in place: ``k <= j``) with their columns (``cols[r, :counts[r]]``), for
    :func:`_list_pair_scatter`; a branch rarely taken in a sparse block."""
    b, n = W.shape
    for r in range(b):
        row = W[r]
        cr = cols[r]
        k = 0
        for j in range(n):
            w = row[j]
            if w != 0.0:
                row[k] = w
                cr[k] = j
                k += 1
        counts[r] = k
