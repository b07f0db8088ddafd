"""LMNN kernels: the margin-bounded impostor screen of one distance tile, the
target-neighbour distances, the squared-hinge push term over candidate pairs
and the sparse weighted outer-product sum of the gradient.

Every kernel writes each output element from exactly one loop iteration, in a
fixed order, so results do not depend on the number of threads.
"""

import numba
import numpy as np

from mlearn._kernels._config import SERIAL


@numba.njit(**SERIAL)
def _round_down_f32(x):
    """A float32 no larger than the non-negative float64 ``x`` (``2¹²⁷``, exact
    in float32, caps it below float32's overflow; 0 where a subnormal would
    round up)."""
    r = np.float32(min(x * (1.0 - 2.0**-22), 2.0**127))
    return r if r <= x else np.float32(0.0)


@numba.njit(**SERIAL)
def _lmnn_impostor_tile(G, F, K, H, span, keep, emit, start, out_a, out_b, out_r):
    """Screen one tile of different-class pairs in both directions.

    Parameters
    ----------
    G : float32 or float64 array (b, m)
        ``Z_rows Z_colsᵀ`` for the tile.
    F : float64 array (3, n)
        Per sample (class-sorted): squared norm, squared screening radius as
        an anchor, and the bound on the float32 rounding error of a distance
        to it.
    K : intp array (2, n)
        Per sample: class code (pairs of one class are skipped) and sample
        index.
    H : uint64 array (2, n), values below ``2³²``
        Per-sample offsets ``u``, ``v`` of the fixed random subsample: the
        anchored pair ``(i, l)`` is kept when ``(u_i + v_l) mod 2³² < keep``.
    span : intp array (4,)
        ``i0, i1, j0, j1``: the tile's rows ``[i0, i1)`` and columns
        ``[j0, j1)``; ``i0 == j0`` is a diagonal tile, where only ``j > i`` is
        visited.
    keep : uint64
        Subsampling threshold; ``2³²`` keeps every pair.
    emit : bool
        Write the kept pairs to ``out_a``/``out_b``/``out_r`` from position
        ``start`` on (room for ``2 b m`` pairs needed), in row order: a row's own
        pairs, then the pairs it is the impostor of; otherwise only count them.
    start : int
    out_a, out_b : int32 arrays
        Anchors and impostors of the kept pairs (output).
    out_r : float32 array
        A lower bound of each kept pair's distance (not squared),
        ``√max(d − err_anchor, 0)``, rounded down (output).

    Returns
    -------
    count : int
        Number of kept pairs.

    Notes
    -----
    Each unordered pair's distance is computed once and tested against both
    anchors' radii:

    .. math:: d_{il} = ‖z_i‖² + ‖z_l‖² − 2 z_iᵀz_l < r_i \\;⇒\\; (i, l),\\quad
              d_{il} < r_l \\;⇒\\; (l, i)

    A first loop over a row builds a 2-bit mask and counts its hits without
    branches (it vectorises); rows without hits stop there. A second loop
    compacts the mask eight bytes at a time, skipping empty words and without a
    branch per pair inside a word: in high dimension a large share of the pairs
    can be hits, where a branch per pair mispredicts.
    """
    i0, i1, j0, j1 = span[0], span[1], span[2], span[3]
    diagonal = i0 == j0
    row_sq, row_rad, row_err = F[0, i0:i1], F[1, i0:i1], F[2, i0:i1]
    col_sq, col_rad, col_err = F[0, j0:j1], F[1, j0:j1], F[2, j0:j1]
    row_codes, row_ids = K[0, i0:i1], K[1, i0:i1]
    col_codes, col_ids = K[0, j0:j1], K[1, j0:j1]
    row_u, row_v = H[0, i0:i1], H[1, i0:i1]
    col_u, col_v = H[0, j0:j1], H[1, j0:j1]
    b, m = G.shape
    low = np.uint64(0xFFFFFFFF)
    mask = np.zeros(8 * ((m + 7) // 8), dtype=np.uint8)  # whole 8-byte words
    words = mask.view(np.uint64)
    dist = np.empty(m)
    own = np.empty(m + 1, dtype=np.intp)
    rev = np.empty(m + 1, dtype=np.intp)
    c = 0
    for i in range(b):
        ci = row_codes[i]
        ri = row_rad[i]
        si = row_sq[i]
        ui = row_u[i]
        vi = row_v[i]
        # on a diagonal tile only j > i; a mask, not a loop start, keeps the
        # loop vectorised (a variable start made it three times slower)
        lim = i if diagonal else -1
        hits = 0
        for j in range(m):
            dd = si + col_sq[j] - 2.0 * G[i, j]
            dist[j] = dd
            other = (col_codes[j] != ci) & (j > lim)
            k1 = other & (dd < ri) & (((ui + col_v[j]) & low) < keep)
            k2 = other & (dd < col_rad[j]) & (((col_u[j] + vi) & low) < keep)
            mask[j] = np.uint8(k1) | (np.uint8(k2) << np.uint8(1))
            hits += np.intp(k1) + np.intp(k2)
        if hits == 0:
            continue
        if not emit:
            c += hits
            continue
        # compaction, 8 mask bytes at a time: empty words are skipped
        n_own = 0
        n_rev = 0
        for w in range((m + 7) // 8):
            if words[w] == 0:
                continue
            for j in range(8 * w, min(8 * w + 8, m)):
                mk = mask[j]
                own[n_own] = j
                n_own += mk & 1
                rev[n_rev] = j
                n_rev += mk >> 1
        rid = row_ids[i]
        ei = row_err[i]
        o = start + c
        for q in range(n_own):
            j = own[q]
            out_a[o + q] = rid
            out_b[o + q] = col_ids[j]
            out_r[o + q] = _round_down_f32(np.sqrt(max(dist[j] - ei, 0.0)))
        o += n_own
        for q in range(n_rev):
            j = rev[q]
            out_a[o + q] = col_ids[j]
            out_b[o + q] = rid
            out_r[o + q] = _round_down_f32(np.sqrt(max(dist[j] - col_err[j], 0.0)))
        c += hits
    return c


@numba.njit(**SERIAL)
def _lmnn_target_sq_dist(Z, targets, d_t, radius):
    """Squared distances to the target neighbours and each anchor's margin radius.

    ``d_t[i, j] = ‖z_i − z_{t_{ij}}‖²`` (``−inf`` where ``t_{ij} < 0``, so the
    hinge of a missing target is never positive) and ``radius[i] = 1 +
    max_j d_t[i, j]`` (``−inf`` for an anchor without targets). Returns the sum
    of the valid ``d_t``, the pull term.

    .. math:: r_i = 1 + \\max_{j ∈ N(i)} ‖z_i − z_j‖²
    """
    n, k = targets.shape
    r = Z.shape[1]
    pull = 0.0
    for i in range(n):
        mx = -np.inf
        for j in range(k):
            t = targets[i, j]
            if t < 0:
                d_t[i, j] = -np.inf
                continue
            s = 0.0
            for q in range(r):
                u = Z[i, q] - Z[t, q]
                s += u * u
            d_t[i, j] = s
            pull += s
            if s > mx:
                mx = s
        radius[i] = 1.0 + mx
    return pull


@numba.njit(**SERIAL)
def _lmnn_impostor_hinge(Z, d_t, radius, cand_a, cand_b, cand_root, shift, w_t,
                         act_a, act_b, act_w):
    """Squared-hinge push term over candidate pairs, with its pair weights.

    For each candidate ``(a, l)`` inside ``a``'s radius (active),
    ``h_j = [1 + d_t[a, j] − d_{al}]_+``; ``w_t[a, j] += h_j`` (in place) and
    the active pair is appended to ``act_a``, ``act_b`` with
    ``act_w = Σ_j h_j``. Returns ``(Σ h², number of active pairs)``; serial, so
    the sums run in candidate order whatever the thread count.

    A candidate is skipped, its distance never computed, when the lower bound
    ``cand_root[p] − shift[a] − shift[l]`` of ``d_{al}^{1/2}`` (a distance at a
    reference map minus how far either point has moved since; zeros disable
    it) already clears the radius.

    .. math:: \\sum_{(a, l)} \\sum_{j ∈ N(a)} [1 + d_{aj} − d_{al}]_+^2
    """
    k = d_t.shape[1]
    r = Z.shape[1]
    total = 0.0
    n_act = 0
    for p in range(cand_a.shape[0]):
        a = cand_a[p]
        rad = radius[a]
        if rad == -np.inf:
            continue
        b = cand_b[p]
        lb = cand_root[p] - shift[a] - shift[b]
        if lb > 0.0 and lb * lb >= rad * (1.0 + 1e-12):
            continue
        s = 0.0
        for q in range(r):
            u = Z[a, q] - Z[b, q]
            s += u * u
        if s < rad:
            wsum = 0.0
            for j in range(k):
                h = 1.0 + d_t[a, j] - s
                if h > 0.0:
                    total += h * h
                    w_t[a, j] += h
                    wsum += h
            act_a[n_act] = a
            act_b[n_act] = b
            act_w[n_act] = wsum
            n_act += 1
    return total, n_act


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
