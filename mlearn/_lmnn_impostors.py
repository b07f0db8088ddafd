"""LMNN's impostor machinery: target-neighbour terms and the exact,
margin-bounded search for candidate impostor pairs, reused under a step bound.
"""

import numpy as np
from sklearn.utils import check_random_state

from mlearn._kernels._lmnn import _lmnn_impostor_tile, _lmnn_target_sq_dist

__all__ = ["ImpostorSearch", "target_terms"]

# The impostor screen works on square tiles of this many samples a side: one
# float32 tile of inner products (1 MiB) stays in a core's L2 cache.
_TILE = 512


def target_terms(Z, targets):
    """Pull sum, target distances ``(n, k)`` (``-inf`` where missing) and the
    margin radius ``1 + max_j d_ij`` of each anchor (``-inf`` without targets)."""
    n, k = targets.shape
    d_t = np.empty((n, k))
    radius = np.empty(n)
    pull = _lmnn_target_sq_dist(Z, targets, d_t, radius)
    return pull, d_t, radius


class ImpostorSearch:
    """Candidate impostor pairs for the current ``L``, exact by construction.

    A scan keeps every different-class pair within ``s²`` times the anchor's
    margin radius ``r_i`` (``1 +`` its farthest target's squared distance). It
    visits each unordered pair once, on tiles of the class-sorted samples whose
    inner products come from one float32 GEMM, thresholded in numba against both
    anchors' radii; with each kept pair it stores a lower bound of its distance.

    The cached set is reused for a new ``L = L₀ + Δ`` while no pair outside it
    can have become active. Every pair ``(i, l)`` outside it had
    ``‖L₀(x_i − x_l)‖ ≥ s √r_i(L₀)``. With ``p_i = Δ x_i``, ``c`` their mean and
    ``a_i = ‖p_i − c‖`` (``shift``), the triangle inequality gives

    ``‖L(x_i − x_l)‖ ≥ s √r_i(L₀) − ‖p_i − p_l‖ ≥ s √r_i(L₀) − a_i − max_l a_l``,

    and, for square invertible ``L₀`` with ``ε = ‖Δ L₀⁻¹‖₂``, also
    ``≥ (1 − ε) s √r_i(L₀)``. When the larger bound is at least ``√r_i(L)`` (the
    current radius, known exactly) for every anchor, no pair outside the set
    is active and the set is reused; otherwise the scan runs again at ``L``.
    The bound measures the step on the data, per anchor, so it holds for
    rectangular ``L`` and for steps that shrink noise directions to near zero
    (where ``ε`` alone is useless). The same ``a_i`` let the loss skip a
    candidate whose stored bound minus ``a_i + a_l`` already clears the radius.

    When a scan finds more than ``max_impostors`` candidates, every
    different-class pair is kept with probability ``rate ≈ 0.98 max_impostors
    / found``: ``(i, l)`` is kept when ``(u_i + v_l) mod 2³² < keep`` for random
    per-sample offsets ``u``, ``v`` drawn once, so each pair is kept with
    probability exactly ``keep / 2³²`` and the subset is the same at every
    scan, independent of ``L``: the objective stays one smooth function until
    a later scan exceeds the cap too, where the rate drops again (a nested
    subset) and the caller restarts its optimiser on the new objective. No
    scan ever holds more than ``max_impostors`` pairs.
    """

    _ALL = np.uint64(2**32)

    def __init__(self, X, codes, targets, max_impostors, random_state=None,
                 slack=1.02, tile=_TILE):
        n = X.shape[0]
        rng = check_random_state(random_state)
        self.X = X
        self.targets = targets
        self.max_impostors = max_impostors
        self.u = rng.randint(0, 2**32, size=n, dtype=np.uint64)
        self.v = rng.randint(0, 2**32, size=n, dtype=np.uint64)
        self.slack = slack
        self.tile = tile
        self.keep = None  # subsampling threshold, fixed at the first scan
        self.rate = 1.0
        # the scan visits the samples sorted by class
        self.order = np.argsort(codes, kind="stable").astype(np.intp)
        # class codes and sample ids, and the subsample offsets, class-sorted
        self._sorted_ids = np.ascontiguousarray(
            np.stack([codes[self.order], self.order]), dtype=np.intp)
        self._sorted_offsets = np.ascontiguousarray(
            np.stack([self.u[self.order], self.v[self.order]]))
        self.Z_ref = self.L_ref = self.L_ref_inv = self.outside = None
        self.cand = (np.empty(0, np.int32), np.empty(0, np.int32))
        self.root = np.empty(0, np.float32)
        self.shift = np.zeros(n)
        self.n_scans = 0
        self.peak_candidates = 0

    def __call__(self, L, Z=None, radius=None):
        """Candidate pairs ``(anchors, impostors)`` for ``L``, with ``Z = X Lᵀ``
        and the margin radii computed when not given. Afterwards ``root`` and
        ``shift`` hold the candidates' distance bounds at the reference map and
        how far each sample has moved since."""
        if Z is None:
            Z = self.X @ L.T
            radius = target_terms(Z, self.targets)[2]
        if not self._reusable(L, Z, radius):
            self._scan(L, Z, radius)
        return self.cand

    def _reusable(self, L, Z, radius):
        if self.Z_ref is None:
            return False
        P = Z - self.Z_ref
        P -= P.mean(axis=0)
        self.shift = np.sqrt(np.einsum("ij,ij->i", P, P))
        has = radius > -np.inf  # anchors without targets have no impostors
        need = np.sqrt(radius[has]) * (1.0 + 1e-9)
        outside = self.outside[has]
        # every sample, with targets or not, can be the impostor l: max over all
        lower = outside - self.shift[has] - self.shift.max()
        if np.all(lower >= need):
            return True
        if self.L_ref_inv is None:
            return False
        eps = np.linalg.norm((L - self.L_ref) @ self.L_ref_inv, 2)
        return bool(eps < 1.0 and np.all(np.maximum(lower, (1.0 - eps) * outside)
                                         >= need))

    def _scan(self, L, Z, radius):
        self.n_scans += 1
        sq = np.einsum("ij,ij->i", Z, Z)
        # The screen runs its GEMM in float32 (twice the speed). Rounding moves
        # ``‖z_i‖² + ‖z_l‖² − 2 z_iᵀz_l`` by at most ``2 r u ‖z_i‖‖z_l‖``
        # (r terms, unit roundoff u = 2⁻²⁴), so widening each radius by
        # ``err_i = 2 r u (‖z_i‖² + max‖z‖²)`` keeps the candidate set a superset:
        # every pair left out is at least ``s² r_i`` away. Outside float32's
        # range (overflow, or underflow past that bound) it runs in float64.
        in_range = 1e-30 < sq.max() < 1e30
        dtype, unit = (np.float32, 2.0**-24) if in_range else (np.float64, 2.0**-53)
        err = 2.0 * Z.shape[1] * unit * (sq + sq.max())
        screen = self.slack ** 2 * radius + err
        args = (np.ascontiguousarray(Z[self.order], dtype=dtype),
                np.ascontiguousarray(np.stack([sq, screen, err])[:, self.order]))
        keep = self._ALL if self.keep is None else self.keep
        found, cand = self._tiles(*args, keep, limit=self.max_impostors)
        while cand is None:
            # more than max_impostors at this rate, at the first scan or as L
            # moves: lower the rate (the kept set only shrinks) to about 98 %
            # of the cap, so that every scan holds at most max_impostors pairs
            keep = np.uint64(int(float(keep) * 0.98 * self.max_impostors / found))
            found, cand = self._tiles(*args, keep, limit=self.max_impostors)
        self.keep = keep
        self.rate = float(keep) / 2**32
        self.peak_candidates = max(self.peak_candidates, found)
        self.cand, self.root = cand[:2], cand[2]
        self.outside = self.slack * np.sqrt(np.maximum(radius, 0.0))
        self.shift = np.zeros(Z.shape[0])
        self.Z_ref = Z.copy()
        self.L_ref = L.copy()
        self.L_ref_inv = None
        if L.shape[0] == L.shape[1]:
            s = np.linalg.svd(L, compute_uv=False)
            if s[-1] > s[0] * 1e-8:
                self.L_ref_inv = np.linalg.inv(L)

    def _tiles(self, Zs, F, keep, limit=None):
        """Screen every different-class pair of the class-sorted samples;
        ``(found, (anchors, impostors, distance bounds))``, the pairs ``None``
        once more than ``limit`` were found (from then on only counted)."""
        n = Zs.shape[0]
        B = self.tile
        codes = self._sorted_ids[0]
        room = 2 * B * B  # most pairs one tile can add
        out = _PairBuffer(max(4 * room, len(self.cand[0]) + room))
        gbuf = np.empty(B * B, dtype=Zs.dtype)
        found, emit = 0, True
        for i0 in range(0, n, B):
            i1 = min(i0 + B, n)
            rows = slice(i0, i1)
            for j0 in range(i0, n, B):
                j1 = min(j0 + B, n)
                if codes[i0] == codes[i1 - 1] == codes[j0] == codes[j1 - 1]:
                    continue  # one class: no impostor pairs
                cols = slice(j0, j1)
                G = gbuf[:(i1 - i0) * (j1 - j0)].reshape(i1 - i0, j1 - j0)
                np.matmul(Zs[rows], Zs[cols].T, out=G)
                if emit:
                    out.reserve(found + room)
                found += _lmnn_impostor_tile(
                    G, F, self._sorted_ids, self._sorted_offsets,
                    np.array([i0, i1, j0, j1], dtype=np.intp), keep, emit, found,
                    out.a, out.b, out.r)
                if emit and limit is not None and found > limit:
                    emit = False
                    out = _PairBuffer(0)  # counting only from here on
        if not emit:
            return found, None
        return found, out.trim(found)


class _PairBuffer:
    """Growable (anchor, impostor, distance bound) arrays for the scan."""

    def __init__(self, size):
        self.a = np.empty(size, dtype=np.int32)
        self.b = np.empty(size, dtype=np.int32)
        self.r = np.empty(size, dtype=np.float32)

    def reserve(self, size):
        if size > self.a.shape[0]:
            size = max(size, 2 * self.a.shape[0])
            for name in ("a", "b", "r"):
                old = getattr(self, name)
                new = np.empty(size, dtype=old.dtype)
                new[:old.shape[0]] = old
                setattr(self, name, new)

    def trim(self, size):
        return self.a[:size].copy(), self.b[:size].copy(), self.r[:size].copy()
