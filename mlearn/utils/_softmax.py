"""The blocked gradient of a softmax-over-neighbours objective (NCA, MLKR).

Both objectives depend on ``L`` only through the squared distances
``d_ij = ‖z_i − z_j‖²`` (``Z = X Lᵀ``), and their gradients have one shape:

.. math:: ∇_L = c \\sum_{i, j} w_{ij} (z_i − z_j)(x_i − x_j)ᵀ = c\\,(A Z)ᵀ X,
          \\quad (A Z)_i = \\sum_j (w_{ij} + w_{ji}) (z_i − z_j)

:func:`softmax_pair_scatter` computes ``A Z`` one block of rows at a time: a GEMM
gives the block's inner products with every sample, a numba kernel lists the
pairs that survive the softmax's cut (2⁻⁶⁰ of a row's largest term) with their
distances, another turns those into the weights ``w_ij`` in place, and two
more GEMMs (or, for a sparse block, a loop over the list) accumulate
``Σ_j w_ij [z_j, 1]`` (the block's rows) and ``Σ_i w_ij [z_i, 1]`` (every sample).
Memory is ``O(n · block + n r)``; the ``n × n`` matrix never exists.

Late in a fit the softmax is sharp and a few pairs per row survive: the
screening GEMM then runs in float32 (:class:`ScreenChoice`), with a cut widened
by its rounding bound, and the surviving pairs' distances are recomputed in
float64, so the objective is the float64 one either way.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import effective_n_jobs
from scipy.linalg.blas import dgemm
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from mlearn._kernels._softmax import (
    CUT,
    _compact_nonzero,
    _expand_rows,
    _list_pair_scatter,
    _listed_distances,
    _screen_tile_f32,
)
from mlearn.utils._lbfgs import finish_lbfgs
from mlearn.utils._progress import progress_bar

__all__ = ["ScreenChoice", "block_rows", "centred", "n_threads_for", "run_lbfgs",
           "softmax_gradient", "softmax_pair_scatter"]

# elements of one block of the distance matrix (2 MB in float64): the block
# stays in cache between the GEMM that fills it, the kernel and the two GEMMs
# that read it; at least 128 rows so the per-block GEMMs over all n samples
# stay compute-bound
_BLOCK_ELEMENTS = 1 << 18
_MIN_ROWS = 128
# blocks are dealt to this many accumulators whatever the number of threads
_LANES = 4
# a block with at most this fraction of non-zero weights skips its two weight
# GEMMs for a numba loop over the non-zero entries (late in a fit the softmax
# is sharp and most weights are exactly 0)
_SPARSE = 0.05
# below this fraction of listed pairs the next evaluation screens in float32
# (from this many samples: below, the fixed costs of its tiles outweigh the
# halved GEMM)
_SCREEN32 = 0.02
_SCREEN32_MIN_SAMPLES = 4096
# squared norms up to this keep float32 distances finite
_FLOAT32_SAFE = 1e37
# float32 screening: columns per tile so a tile of a block is about 1 MB
_TILE_ELEMENTS = 1 << 18


def _round_up_f32(values):
    """``values`` (float64) rounded up to float32."""
    values = np.asarray(values, dtype=np.float64)
    out = values.astype(np.float32)
    low = out < values
    out[low] = np.nextafter(out[low], np.float32(np.inf))
    return out


_controller = []


def _threadpools():
    """This process's ``ThreadpoolController``. Building one inspects every
    loaded library (about 10 ms, more than a whole fit on a small set), so
    one is built per process and reused."""
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0]


def _single_threaded_blas():
    """A context with BLAS on one thread."""
    return _threadpools().limit(limits=1, user_api="blas")


def n_threads_for(n_jobs):
    """Threads for the blocked objective: ``n_jobs`` as joblib reads it, and
    for ``None`` as many as BLAS may use now (all cores unless limited, e.g.
    by ``threadpoolctl.threadpool_limits`` or ``OPENBLAS_NUM_THREADS``): the
    blocks replace BLAS-threaded full-matrix products, so by default they
    use the cores those would."""
    if n_jobs is not None:
        return effective_n_jobs(n_jobs)
    counts = [lib.num_threads for lib in _threadpools().lib_controllers
              if lib.user_api == "blas"]
    return max(1, min(counts)) if counts else 1


def block_rows(n_samples, block_elements=None):
    """Rows per block so a block holds about ``block_elements`` distances
    (``_BLOCK_ELEMENTS``), at least ``_MIN_ROWS``."""
    if block_elements is None:
        block_elements = _BLOCK_ELEMENTS
    return int(min(n_samples,
                   max(_MIN_ROWS, block_elements // max(n_samples, 1))))


def softmax_pair_scatter(Z, dense_weights, list_weights, block_size=None,
                         n_threads=1, screen="float64", nearest=None):
    """``A Z`` of a softmax-over-neighbours gradient, block by block.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_components), float64, C-contiguous
        The samples in the current learned space.
    dense_weights : callable
        ``dense_weights(G, sq, start)`` receives ``G = Z[start:start+b] Zᵀ``
        (a ``(b, n_samples)`` float64 view) and the squared norms ``sq`` of
        the rows of ``Z``, overwrites ``G`` with the pair weights ``w_ij`` of
        rows ``start … start + b − 1`` (0 on the diagonal) and returns how
        many softmax terms are non-zero (every other weight is exactly 0).
    list_weights : callable
        ``list_weights(G, cols, counts, start)`` receives a block's screened
        pairs: row ``r`` (sample ``start + r``) has ``counts[r]`` columns
        ``cols[r, :counts[r]]`` whose squared distances are
        ``G[r, :counts[r]]``; it overwrites those with the pair weights.
        Every unlisted pair lies more than ``CUT`` beyond its row's smallest
        distance: its softmax term is below ``2⁻⁶⁰`` of the row's largest
        and counts as 0, as in ``dense_weights``.
        Both callables keep whatever per-row results they need themselves
        (they are called from ``n_threads`` threads at once, on disjoint
        rows).
    block_size : int, default=None
        Rows per block; ``None`` chooses about 2¹⁸ distances per block
        (at least 128 rows).
    n_threads : int, default=1
        Threads running blocks side by side (each with single-threaded BLAS
        calls of its own). The result does not depend on it.
    screen : {'float64', 'float32'}, default='float64'
        'float64': the dense weights on float64 GEMMs. 'float32': a float32
        GEMM lists the pairs that survive the cut (every one the float64
        computation keeps: its rounding bound widens the cut), their
        distances are recomputed in float64 from ``z_i − z_j`` and the
        weights computed on the list; it pays when few pairs survive, late
        in a fit. It falls back to 'float64' when ``Z`` is too large for
        float32.
    nearest : ndarray of shape (n_samples,), dtype intp, default=None
        In/out for 'float32' screening: each sample's nearest neighbour at
        the previous evaluation (−1: none), whose distance starts the row's
        threshold; overwritten with the nearest listed neighbour now. The
        result does not depend on it, only the time.

    Returns
    -------
    AZ : ndarray of shape (n_samples, n_components)
        :math:`(A Z)_i = \\sum_j (w_{ij} + w_{ji})(z_i − z_j)`.
    density : float
        Fraction of the pairs with a non-zero weight ('float64') or listed
        ('float32').

    Notes
    -----
    The blocks are dealt round-robin to ``_LANES`` lanes, each with its own
    accumulator of ``Σ_i w_ij [z_i, 1]``, summed in lane order at the end; a
    thread runs whole lanes, so the order of every floating-point sum is the
    same for any number of threads.
    """
    n, r = Z.shape
    b = block_rows(n) if block_size is None else int(block_size)
    starts = list(range(0, n, b))
    n_lanes = min(_LANES, len(starts))
    Z1 = np.empty((n, r + 1))
    Z1[:, :r] = Z
    Z1[:, r] = 1.0
    sq = np.einsum("ij,ij->i", Z, Z)
    Z32 = None
    if screen == "float32" and sq.max() < _FLOAT32_SAFE:
        Z32 = Z.astype(np.float32)
        z32 = Z32.astype(np.float64)
        sq32 = np.einsum("ij,ij->i", z32, z32).astype(np.float32)
        # one GEMM gives ‖z_j‖² − 2 z_iᵀz_j: [z_i, 1] · [−2 z_j, ‖z_j‖²]
        # (−2 z_j is exact in float32)
        Z32a = np.empty((n, r + 1), dtype=np.float32)
        Z32a[:, :r] = Z32
        Z32a[:, r] = 1.0
        Z32b = np.empty((n, r + 1), dtype=np.float32)
        Z32b[:, :r] = -2.0 * Z32
        Z32b[:, r] = sq32
        # a float32 distance is off by at most (r + 10) u (‖z_i‖² + ‖z_j‖²),
        # u = 2⁻²⁴ (the rounding of Z, the GEMM's r + 1 terms, the norms and
        # the last sum); the cut widens by four times that, plus the
        # rounding of the threshold itself
        top = sq.max()
        thr_slack = _round_up_f32(CUT + 4.0 * (r + 10) * 2.0 ** -24 * (sq + top)
                                  + 2.0 ** -20 * (1.0 + top))
        # each row's first threshold: the distance to the previous nearest
        # neighbour (an upper bound on the smallest distance), else +inf
        m_first = np.full(n, np.inf, dtype=np.float32)
        if nearest is None:
            nearest = np.full(n, -1, dtype=np.intp)
        known = nearest >= 0
        diff = Z[known] - Z[nearest[known]]
        m_first[known] = _round_up_f32(np.einsum("ij,ij->i", diff, diff))
        width = int(min(n, max(1024, _TILE_ELEMENTS // b)))
    # Σ_j w_ij [z_j, 1] for the block's rows: W Z and the row sums of W
    WZ1 = np.empty((n, r + 1))
    # Σ_i w_ij [z_i, 1] for every j, per lane: Wᵀ Z and the column sums of W
    WtZ1 = np.zeros((n_lanes, n, r + 1))
    kept = np.zeros(n_lanes, dtype=np.int64)

    def lane(k):
        G = np.empty((b, n))
        cols = np.empty((b, n), dtype=np.int32)
        counts = np.empty(b, dtype=np.intp)
        if Z32 is not None:
            tile = np.empty(b * width, dtype=np.float32)
            tile_min = np.empty(b, dtype=np.float32)
        acc = WtZ1[k]
        for start in starts[k::n_lanes]:
            stop = min(start + b, n)
            Gb, cb, nb = G[: stop - start], cols[: stop - start], counts[: stop - start]
            if Z32 is None:
                np.matmul(Z[start:stop], Z.T, out=Gb)
                nnz = dense_weights(Gb, sq, start)
                packed = nnz <= _SPARSE * Gb.size
                if packed:
                    _compact_nonzero(Gb, cb, nb)
            else:
                nb[:] = 0
                m_run = m_first[start:stop].copy()
                sq_rows, slack_rows = sq32[start:stop], thr_slack[start:stop]
                low = tile_min[: stop - start]
                for col0 in range(0, n, width):
                    w = min(width, n - col0)
                    T = tile[: (stop - start) * w].reshape(stop - start, w)
                    # T = ‖z_j‖² − 2 z_iᵀz_j, its row minima, and a scan of
                    # the rows whose minimum reaches their threshold
                    np.matmul(Z32a[start:stop], Z32b[col0:col0 + w].T, out=T)
                    np.min(T, axis=1, out=low)
                    low += sq_rows
                    rows = np.flatnonzero(low < m_run + slack_rows)
                    if rows.size:
                        _screen_tile_f32(T, rows, sq32, col0, start, slack_rows,
                                         m_run, cb, nb)
                _listed_distances(Z, start, cb, nb, Gb, nearest[start:stop])
                nnz = int(nb.sum())
                list_weights(Gb, cb, nb, start)
                packed = nnz <= _SPARSE * Gb.size
                if not packed:
                    _expand_rows(Gb, cb, nb)
            kept[k] += nnz
            if packed:
                # few non-zero weights: a loop over them, not two GEMMs
                _list_pair_scatter(Gb, start, cb, nb, Z1, WZ1[start:stop], acc)
                continue
            np.matmul(Gb, Z1, out=WZ1[start:stop])
            # acc += Gbᵀ Z1[start:stop] in place (beta = 1): as Fortran arrays
            # accᵀ += Z1[start:stop]ᵀ Gb, no (n, r + 1) temporary per block
            dgemm(1.0, Z1[start:stop].T, Gb.T, beta=1.0, c=acc.T, trans_b=1,
                  overwrite_c=1)

    n_threads = max(1, min(int(n_threads), n_lanes))
    # the blocks' GEMMs are small: BLAS threads of their own would only
    # contend (a single-threaded call outside a fit ran 3-10x slower)
    with _single_threaded_blas():
        if n_threads == 1:
            for k in range(n_lanes):
                lane(k)
        else:
            with ThreadPoolExecutor(n_threads) as pool:
                list(pool.map(lane, range(n_lanes)))
    WtZ1 = WtZ1.sum(axis=0)
    # the rows of W sum to 0 in exact arithmetic for NCA and MLKR; the row
    # sums cost one GEMM column and keep A's rows summing to 0 as computed
    AZ = (WZ1[:, r:] + WtZ1[:, r:]) * Z - WZ1[:, :r] - WtZ1[:, :r]
    return AZ, float(kept.sum()) / (float(n) * n)


def softmax_gradient(L, X, targets, dense_kernel, list_kernel, block_size,
                     n_threads, screen, nearest=None):
    """One evaluation of a softmax-over-neighbours objective (NCA, MLKR).

    ``dense_kernel(G, sq, start, targets, out)`` and
    ``list_kernel(G, cols, counts, targets, start, out)`` are the objective's
    numba kernels (the weights of :func:`softmax_pair_scatter`'s
    ``dense_weights``/``list_weights``); each also writes one value per row of
    its block into ``out`` (NCA: ``p_i``, MLKR: ``ŷ_i``).

    Returns
    -------
    per_row : ndarray of shape (n_samples,)
        The kernels' per-row values, from which the loss follows.
    AZtX : ndarray of shape (n_components, n_features)
        ``(A Z)ᵀ X``: the gradient up to the objective's constant factor.
    density : float
        As :func:`softmax_pair_scatter`.
    """
    L = np.asarray(L, dtype=np.float64)
    Z = np.ascontiguousarray(X @ L.T)
    per_row = np.empty(X.shape[0])

    def dense(G, sq, start):
        return dense_kernel(G, sq, start, targets,
                            per_row[start:start + G.shape[0]])

    def listed(G, cols, counts, start):
        list_kernel(G, cols, counts, targets, start,
                    per_row[start:start + G.shape[0]])

    AZ, density = softmax_pair_scatter(Z, dense, listed, block_size, n_threads,
                                       screen, nearest)
    return per_row, AZ.T @ X, density


class ScreenChoice:
    """A fit's screening state across evaluations: float32 screening once
    fewer than ``_SCREEN32`` of the pairs carried weight at the last
    evaluation (late in a fit, when the softmax is sharp) and there are at
    least ``_SCREEN32_MIN_SAMPLES`` samples, and each sample's last nearest
    neighbour, which starts its threshold."""

    def __init__(self, n_samples, density=1.0):
        self.density = density
        self.nearest = np.full(n_samples, -1, dtype=np.intp)

    @property
    def precision(self):
        if (self.density < _SCREEN32
                and self.nearest.shape[0] >= _SCREEN32_MIN_SAMPLES):
            return "float32"
        return "float64"

    def objective(self, loss_grad):
        """``fun(L) -> (loss, grad)`` for :func:`run_lbfgs`, from
        ``loss_grad(L, screen=..., nearest=...) -> (loss, grad, density)``:
        each evaluation is screened as this state says and updates it."""

        def fun(L):
            loss, grad, self.density = loss_grad(L, screen=self.precision,
                                                 nearest=self.nearest)
            return loss, grad

        return fun


def centred(X):
    """``X`` in float64 minus its column means: distances and the softmax
    gradients do not change, and centred points lose less to cancellation in
    ``‖z_i‖² + ‖z_j‖² − 2 z_iᵀz_j``. A fit centres once, not per evaluation."""
    X = np.asarray(X, dtype=np.float64)
    return X - X.mean(axis=0)


def run_lbfgs(estimator, fun, L0, name, ftol, gtol, scale=1.0):
    """L-BFGS-B on ``fun(L) -> (loss, grad)`` from ``L0``, with the estimator's
    ``max_iter``, ``callback`` and ``verbose`` (BLAS on one thread: ``fun``
    runs its own threads);
    ``ftol``/``gtol`` ``None`` leave L-BFGS-B's defaults. ``L0`` and ``fun``
    work on the data divided by ``scale`` (see
    :func:`~mlearn.utils._init.starting_point`); the callback sees ``L`` in
    the data's units.

    Sets ``estimator.n_iter_`` and ``estimator.opt_result_`` (without ``x``,
    ``jac`` and the L-BFGS memory) and warns with ``ConvergenceWarning`` when
    the solver stops at ``max_iter``. Returns the final ``L`` (float64).
    """
    r, d = L0.shape
    state = {"loss": np.nan}

    def flat_fun(flat):
        loss, grad = fun(flat.reshape(r, d))
        state["loss"] = loss
        return loss, grad.ravel()

    estimator.n_iter_ = 0
    t0 = time.perf_counter()
    bar = progress_bar(estimator.max_iter, name, estimator.verbose)

    def on_iter(flat):
        estimator.n_iter_ += 1
        bar.update(1)
        bar.set_postfix(loss=f"{state['loss']:.6g}",
                        time=f"{time.perf_counter() - t0:.1f}s")
        if estimator.callback is not None:
            estimator.callback(flat.reshape(r, d) / scale, estimator.n_iter_)

    options = {"maxiter": estimator.max_iter}
    # None: L-BFGS-B's own defaults (what metric-learn's tol=None gives)
    options.update({k: v for k, v in (("ftol", ftol), ("gtol", gtol))
                    if v is not None})
    try:
        # the blocked loss runs its own threads (n_jobs), each on one BLAS thread
        with _single_threaded_blas():
            res = minimize(flat_fun, L0.ravel(), jac=True, method="L-BFGS-B",
                           callback=on_iter,
                           options=options)
    finally:
        bar.close()
    finish_lbfgs(estimator, res, name)
    return res.x.reshape(r, d)
