"""Distance kernels: the finishing pass of blocked pairwise distances, indexed
paired differences and the single-pair metric used by ``get_metric``."""

import numba
import numpy as np

from mlearn._kernels._config import SERIAL


@numba.njit(**SERIAL)
def _finish_sq_distances(G, out, squared):
    """Clip round-off negatives and optionally take square roots.

    ``G`` (n, m) float64 holds ``‖xᵢ‖² + ‖yⱼ‖² − 2 xᵢ·yⱼ`` computed by one GEMM;
    ``out`` (n, m) (float32 or float64) receives the distances.

    .. math:: D_{ij} = \\max(G_{ij}, 0)^{1/2 \\text{ unless squared}}
    """
    n, m = G.shape
    for i in range(n):
        for j in range(m):
            g = G[i, j]
            if g < 0.0:
                g = 0.0
            if not squared:
                g = np.sqrt(g)
            out[i, j] = g


@numba.njit(**SERIAL)
def _gather_differences(X, ia, ib, out):
    """``out[t] = X[ia[t]] − X[ib[t]]`` in float64, for index pairs.

    Shapes: X (n, d), ia/ib (p,), out (p, d).
    """
    p = ia.shape[0]
    d = X.shape[1]
    for t in range(p):
        a = ia[t]
        b = ib[t]
        for k in range(d):
            out[t, k] = np.float64(X[a, k]) - np.float64(X[b, k])


@numba.njit(**SERIAL)
def _row_sq_norms(Z, out, squared):
    """``out[t] = ‖Z[t]‖²`` (or its square root) accumulated in float64."""
    p, k = Z.shape
    for t in range(p):
        s = 0.0
        for j in range(k):
            z = np.float64(Z[t, j])
            s += z * z
        out[t] = s if squared else np.sqrt(s)


@numba.njit(**SERIAL)
def _point_mahalanobis(L, squared, u, v):
    """Distance between two points under ``L`` (the ``get_metric`` callable).

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
    if squared:
        return s
    return np.sqrt(s)
