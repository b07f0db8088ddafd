"""Distance kernels: the finishing pass of blocked pairwise distances, indexed
paired differences and the single-pair metric used by ``get_metric``.

Sums of squares overflow past about 1e154 and lose digits to underflow below
about 1e-154 although the distances themselves are representable. The fast
paths below sum plainly and check the sum; only a sum outside
``[TINY_SQ, inf)`` takes the rescaled path (powers of two, which scale exactly,
and the running scaled sum of LAPACK's ``dnrm2``).
"""

import math

import numba
import numpy as np

from mlearn._kernels._config import SERIAL

# A sum of squares at least this large kept every digit that matters: its terms
# are normal numbers far above the subnormal range's absolute spacing (2^-1074).
TINY_SQ = 2.0**-900


@numba.njit(**SERIAL)
def _finish_sq_distances(G, out, squared, exponent):
    """Clip round-off negatives, optionally take square roots, undo a scaling.

    ``G`` (n, m) float64 holds ``‖xᵢ‖² + ‖yⱼ‖² − 2 xᵢ·yⱼ`` computed by one GEMM
    on points divided by ``2^exponent``; ``out`` (n, m), float32 (a distinct
    array: use :func:`_finish_sq_distances_inplace` for ``out = G``), receives
    the distances.

    .. math:: D_{ij} = 2^{e} \\max(G_{ij}, 0)^{1/2}
              \\quad\\text{or}\\quad 2^{2e} \\max(G_{ij}, 0)
    """
    n, m = G.shape
    e = exponent if not squared else 2 * exponent
    for i in range(n):
        for j in range(m):
            g = max(G[i, j], 0.0)
            if not squared:
                g = np.sqrt(g)
            if e != 0:
                g = math.ldexp(g, e)
            out[i, j] = g


@numba.njit(**SERIAL)
def _finish_sq_distances_inplace(G, squared, exponent):
    """:func:`_finish_sq_distances` writing into ``G`` itself (float64).

    A separate kernel because LLVM does not vectorize the two-array loop when
    both arrays are the same (twice slower).
    """
    n, m = G.shape
    if exponent == 0:
        if squared:
            for i in range(n):
                for j in range(m):
                    G[i, j] = max(G[i, j], 0.0)
        else:
            for i in range(n):
                for j in range(m):
                    G[i, j] = np.sqrt(max(G[i, j], 0.0))
        return
    e = exponent if not squared else 2 * exponent
    for i in range(n):
        for j in range(m):
            g = max(G[i, j], 0.0)
            if not squared:
                g = np.sqrt(g)
            G[i, j] = math.ldexp(g, e)


@numba.njit(**SERIAL)
def _row_sq_norms(Z, out, squared):
    """``out[t] = ‖Z[t]‖²`` (or its square root) accumulated in float64.

    A row whose sum of squares overflowed or fell below ``TINY_SQ`` gets
    ``out[t] = -1`` instead, for the caller to recompute with
    :func:`_rescaled_pair_distances`; returns the number of such rows.
    """
    p, k = Z.shape
    flagged = 0
    for t in range(p):
        s = 0.0
        for j in range(k):
            z = np.float64(Z[t, j])
            s += z * z
        if not (s >= TINY_SQ and s < np.inf):
            out[t] = -1.0
            flagged += 1
        else:
            out[t] = s if squared else np.sqrt(s)
    return flagged


@numba.njit(**SERIAL)
def _rescaled_pair_distance(L, u, v, squared):
    """``‖L (u − v)‖`` (or its square) at any scale the result can represent.

    ``u``, ``v`` and ``L`` are divided by powers of two (exact) so that their
    largest entries lie in ``[1/2, 1)``; the squares of ``L (u − v)`` are then
    summed with a running scale (LAPACK ``dnrm2``), and the powers of two are
    put back by ``ldexp``. Shapes: L (k, d), u and v (d,).

    .. math:: d(u, v) = 2^{e_u + e_L}
              \\lVert 2^{-e_L} L \\, (2^{-e_u} u - 2^{-e_u} v) \\rVert_2
    """
    k, d = L.shape
    mu = 0.0
    md = 0.0
    for c in range(d):
        a = np.float64(u[c])
        b = np.float64(v[c])
        mu = max(mu, abs(a), abs(b))
        md = max(md, abs(a - b))
    if md == 0.0:  # identical points (the common reason to get here)
        return 0.0
    mL = 0.0
    for r in range(k):
        for c in range(d):
            mL = max(mL, abs(L[r, c]))
    if mL == 0.0:
        return 0.0
    eu = math.frexp(mu)[1]
    eL = math.frexp(mL)[1]
    diff = np.empty(d)
    for c in range(d):
        diff[c] = (math.ldexp(np.float64(u[c]), -eu)
                   - math.ldexp(np.float64(v[c]), -eu))
    scale = 0.0
    ssq = 1.0
    for r in range(k):
        z = 0.0
        for c in range(d):
            z += math.ldexp(L[r, c], -eL) * diff[c]
        a = abs(z)
        if a > 0.0:
            if scale < a:
                ssq = 1.0 + ssq * (scale / a) * (scale / a)
                scale = a
            else:
                ssq += (a / scale) * (a / scale)
    if scale == 0.0:
        return 0.0
    fs, es = math.frexp(scale)
    if squared:
        return math.ldexp(fs * fs * ssq, 2 * (es + eu + eL))
    return math.ldexp(fs * np.sqrt(ssq), es + eu + eL)


@numba.njit(**SERIAL)
def _rescaled_pair_distances(X, Y, ia, ib, L, squared, out):
    """``out[t] = ‖L (X[ia[t]] − Y[ib[t]])‖`` by :func:`_rescaled_pair_distance`.

    Shapes: X (n, d), Y (m, d), ia/ib (p,), L (k, d), out (p,).
    """
    for t in range(ia.shape[0]):
        out[t] = _rescaled_pair_distance(L, X[ia[t]], Y[ib[t]], squared)


@numba.njit(**SERIAL)
def _point_mahalanobis(L, squared, u, v):
    """Distance between two points under ``L`` (the ``get_metric`` callable).

    A sum of squares that overflowed or fell below ``TINY_SQ`` is recomputed
    by :func:`_rescaled_pair_distance`.

    .. math:: d(u, v) = \\lVert L (u - v) \\rVert_2
    """
    k, d = L.shape
    if u.ndim != 1 or v.ndim != 1 or u.shape[0] != d or v.shape[0] != d:
        raise ValueError("metric(u, v): u and v must be 1-D with n_features entries")
    s = 0.0
    for r in range(k):
        z = 0.0
        for c in range(d):
            z += L[r, c] * (np.float64(u[c]) - np.float64(v[c]))
        s += z * z
    if not (s >= TINY_SQ and s < np.inf):
        return _rescaled_pair_distance(L, u, v, squared)
    if squared:
        return s
    return np.sqrt(s)
