"""LMNN kernels: the margin-bounded impostor scan of one distance block, distances
of index pairs, and the sparse weighted outer-product sum of the gradient.

Every kernel writes each output element from exactly one loop iteration, in a
fixed order, so results do not depend on the number of threads.
"""

import numba
import numpy as np

from mlearn._kernels._config import SERIAL


@numba.njit(**SERIAL)
def _lmnn_pair_hash(a, b, seed):
    """A fixed pseudo-random 64-bit value per (a, b) pair (splitmix64 finaliser)."""
    z = (np.uint64(a) * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(b) ^ seed
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(**SERIAL)
def _lmnn_impostor_count(G, row_sq, col_sq, radius, row_ids, col_ids, seed, keep,
                         counts):
    """Count, per row of a block, the columns inside that row's radius.

    Parameters
    ----------
    G : float array (b, m)
        ``Z_rows Z_colsᵀ`` for the block.
    row_sq, col_sq : float64 arrays (b,), (m,)
        Squared norms of the block's rows and columns.
    radius : float64 array (b,)
        Squared radius per row.
    row_ids, col_ids : intp arrays (b,), (m,)
        Sample indices of the block's rows and columns.
    seed, keep : uint64
        A pair is kept when ``_lmnn_pair_hash(i, l, seed) <= keep`` (all pairs
        for ``keep = 2⁶⁴ − 1``): a fixed random subset, independent of ``L``.
    counts : int64 array (b,)
        Output.

    Notes
    -----
    .. math:: \\#\\{l : ‖z_i‖² + ‖z_l‖² − 2 z_iᵀz_l < r_i\\}
    """
    b, m = G.shape
    for i in range(b):
        c = 0
        ri = radius[i] - row_sq[i]
        for j in range(m):
            if col_sq[j] - 2.0 * G[i, j] < ri:
                if _lmnn_pair_hash(row_ids[i], col_ids[j], seed) <= keep:
                    c += 1
        counts[i] = c


@numba.njit(**SERIAL)
def _lmnn_impostor_fill(G, row_sq, col_sq, radius, row_ids, col_ids, seed, keep,
                        offsets, out_a, out_b):
    """Write the (row, column) index pairs counted by ``_lmnn_impostor_count``.

    ``offsets[i]`` is where row ``i`` starts in ``out_a``/``out_b``, which
    hold one spare slot at the end; ``row_ids``/``col_ids`` map block positions
    to sample indices. The write is unconditional and only the position
    advances on a hit (no data-dependent branch in the inner loop; the slot
    after the last hit is overwritten harmlessly).
    """
    b, m = G.shape
    for i in range(b):
        pos = offsets[i]
        ri = radius[i] - row_sq[i]
        rid = row_ids[i]
        for j in range(m):
            if col_sq[j] - 2.0 * G[i, j] < ri:
                hit = _lmnn_pair_hash(rid, col_ids[j], seed) <= keep
                out_a[pos] = rid
                out_b[pos] = col_ids[j]
                pos += np.int64(hit)


@numba.njit(**SERIAL)
def _lmnn_sq_dist_indexed(Z, a, b, out):
    """Squared Euclidean distances of rows ``Z[a[p]]`` and ``Z[b[p]]``.

    .. math:: out_p = ‖z_{a_p} − z_{b_p}‖²
    """
    n_pairs = a.shape[0]
    r = Z.shape[1]
    for p in range(n_pairs):
        s = 0.0
        ia = a[p]
        ib = b[p]
        for k in range(r):
            t = Z[ia, k] - Z[ib, k]
            s += t * t
        out[p] = s


@numba.njit(**SERIAL)
def _lmnn_weighted_scatter(X, a, b, w, out):
    """``out = A X`` for the Laplacian-like ``A = Σ_p w_p (e_a − e_b)(e_a − e_b)ᵀ``.

    Serial on purpose: rows receive contributions from many pairs, and a fixed
    accumulation order keeps the gradient bit-identical across thread counts.

    .. math:: (AX)_a \\mathrel{+}= w_p (x_a − x_b),\\quad
              (AX)_b \\mathrel{-}= w_p (x_a − x_b)
    """
    d = X.shape[1]
    for p in range(a.shape[0]):
        wp = w[p]
        if wp == 0.0:
            continue
        ia = a[p]
        ib = b[p]
        for k in range(d):
            t = wp * (X[ia, k] - X[ib, k])
            out[ia, k] += t
            out[ib, k] -= t
