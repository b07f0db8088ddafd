"""The softmax kernels of NCA and MLKR against plain numpy twins (the
end-to-end checks against the naive loops are in test_nca.py / test_mlkr.py)."""

import numpy as np
import pytest

from mlearn._kernels._softmax import (
    CUT,
    _compact_nonzero,
    _expand_rows,
    _list_pair_scatter,
    _listed_distances,
    _mlkr_list_weights,
    _nca_list_weights,
    _screen_tile_f32,
)


def _distances(Z):
    D = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(D, np.inf)
    return D


def _lists(D, extra=0.0):
    """Each row's columns within CUT (+ extra) of its minimum, packed."""
    n = D.shape[0]
    cols = np.zeros((n, n), dtype=np.int32)
    counts = np.zeros(n, dtype=np.intp)
    for i in range(n):
        keep = np.flatnonzero(D[i] - D[i].min() < CUT + extra)
        cols[i, :keep.size] = keep
        counts[i] = keep.size
    return cols, counts


@pytest.fixture
def problem():
    rs = np.random.RandomState(0)
    Z = rs.normal(size=(40, 3)) * 3.0
    return Z, _distances(Z)


def test_compact_and_expand(problem):
    _, D = problem
    W = np.where(np.exp(-D) > 1e-3, np.exp(-D), 0.0)
    packed = W.copy()
    cols = np.empty(W.shape, dtype=np.int32)
    counts = np.empty(W.shape[0], dtype=np.intp)
    _compact_nonzero(packed, cols, counts)
    for i in range(W.shape[0]):
        np.testing.assert_array_equal(cols[i, :counts[i]], np.flatnonzero(W[i]))
        np.testing.assert_array_equal(packed[i, :counts[i]], W[i][W[i] != 0])
        packed[i, counts[i]:] = 7.0  # garbage beyond the list
    _expand_rows(packed, cols, counts)
    np.testing.assert_array_equal(packed, W)


def test_listed_distances_and_nearest(problem):
    Z, D = problem
    cols, counts = _lists(D, extra=50.0)
    G = np.empty(D.shape)
    nearest = np.empty(D.shape[0], dtype=np.intp)
    _listed_distances(Z, 0, cols, counts, G, nearest)
    for i in range(D.shape[0]):
        np.testing.assert_allclose(G[i, :counts[i]], D[i, cols[i, :counts[i]]],
                                   rtol=1e-14)
    np.testing.assert_array_equal(nearest, D.argmin(axis=1))


def test_list_weights_equal_the_dense_softmax(problem):
    Z, D = problem
    n = D.shape[0]
    # every column listed, some beyond the cut: those must weigh 0
    cols = np.tile(np.arange(n, dtype=np.int32), (n, 1))
    counts = np.full(n, n, dtype=np.intp)
    for i in range(n):
        cols[i, i:-1] = cols[i, i + 1:]
    counts -= 1
    packed = np.zeros((n, n))
    for i in range(n):
        packed[i, :counts[i]] = D[i, cols[i, :counts[i]]]
    shifted = D - D.min(axis=1, keepdims=True)
    E = np.where(shifted < CUT, np.exp(-shifted), 0.0)
    P = E / E.sum(axis=1, keepdims=True)
    codes = np.arange(n) % 3
    same = codes[:, None] == codes[None, :]
    p = (P * same).sum(axis=1)
    W_nca = P * (same - p[:, None])
    y = np.sin(np.arange(n, dtype=float))
    y_hat = P @ y
    W_mlkr = P * (y_hat - y)[:, None] * (y[None, :] - y_hat[:, None])
    for kernel, args, W, out_ref in (
            (_nca_list_weights, (codes.astype(np.intp),), W_nca, p),
            (_mlkr_list_weights, (y,), W_mlkr, y_hat)):
        G = packed.copy()
        out = np.empty(n)
        kernel(G, cols, counts, *args, 0, out)
        np.testing.assert_allclose(out, out_ref, rtol=1e-13)
        for i in range(n):
            # (δ_ij − p_i), (y_j − ŷ_i): cancellation, hence an absolute part
            np.testing.assert_allclose(G[i, :counts[i]], W[i, cols[i, :counts[i]]],
                                       rtol=1e-10, atol=1e-14 * np.abs(W).max())


def test_list_pair_scatter_equals_two_products(problem):
    Z, D = problem
    n = D.shape[0]
    rs = np.random.RandomState(1)
    W = np.where(rs.rand(n, n) < 0.2, rs.normal(size=(n, n)), 0.0)
    np.fill_diagonal(W, 0.0)
    cols = np.empty((n, n), dtype=np.int32)
    counts = np.empty(n, dtype=np.intp)
    packed = W.copy()
    _compact_nonzero(packed, cols, counts)
    Z1 = np.hstack([Z, np.ones((n, 1))])
    WZ1 = np.empty((n - 10, 4))
    WtZ1 = np.zeros((n, 4))
    # rows 10 … n − 1 as one block
    _list_pair_scatter(packed[10:], 10, cols[10:], counts[10:], Z1, WZ1, WtZ1)
    np.testing.assert_allclose(WZ1, W[10:] @ Z1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(WtZ1, W[10:].T @ Z1[10:], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scale", [0.3, 3.0, 300.0])
def test_screen_tile_lists_every_pair_within_the_cut(scale):
    rs = np.random.RandomState(2)
    n, r = 300, 4
    Z = rs.normal(size=(n, r)) * scale
    Z32 = Z.astype(np.float32)
    sq32 = (Z32.astype(np.float64) ** 2).sum(1).astype(np.float32)
    D = _distances(Z)
    sq = (Z * Z).sum(1)
    slack = (CUT + 4.0 * (r + 10) * 2.0 ** -24 * (sq + sq.max())
             + 2.0 ** -20 * (1.0 + sq.max())).astype(np.float32)
    b, start, width = 50, 100, 64
    m_run = np.full(b, np.inf, dtype=np.float32)
    cols = np.empty((b, n), dtype=np.int32)
    counts = np.zeros(b, dtype=np.intp)
    rows = np.arange(b)
    tiles = []
    for col0 in range(0, n, width):
        w = min(width, n - col0)
        T = np.ascontiguousarray(
            sq32[col0:col0 + w][None, :]
            - np.float32(2.0) * (Z32[start:start + b] @ Z32[col0:col0 + w].T),
            dtype=np.float32)
        tiles.append(T)
        _screen_tile_f32(T, rows, sq32, col0, start, slack[start:start + b], m_run,
                         cols, counts)
    V = np.hstack(tiles) + sq32[start:start + b, None]  # float32 distances
    for k in range(b):
        i = start + k
        listed = cols[k, :counts[k]]
        needed = np.flatnonzero(D[i] - D[i].min() < CUT)
        assert set(needed.tolist()) <= set(listed.tolist())
        # the twin: column j is listed when its float32 distance is below the
        # running minimum of the columns before it (not the sample) + slack
        v = V[k].copy()
        v[i] = np.inf
        before = np.minimum.accumulate(np.r_[np.float32(np.inf), v[:-1]])
        twin = np.flatnonzero(v < before + slack[i])
        np.testing.assert_array_equal(listed, twin)
        assert m_run[k] == v.min()
