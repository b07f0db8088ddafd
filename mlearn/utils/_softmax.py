"""The blocked gradient of a softmax-over-neighbours objective (NCA, MLKR).

Both objectives depend on ``L`` only through the squared distances
``d_ij = ‖z_i − z_j‖²`` (``Z = X Lᵀ``), and their gradients have one shape:

.. math:: ∇_L = c \\sum_{i, j} w_{ij} (z_i − z_j)(x_i − x_j)ᵀ = c\\,(A Z)ᵀ X,
          \\quad (A Z)_i = \\sum_j (w_{ij} + w_{ji}) (z_i − z_j)

:func:`softmax_pair_scatter` computes ``A Z`` one block of rows at a time: a GEMM
gives the block's inner products with every sample, a numba kernel turns them
into the weights ``w_ij`` in place, and two more GEMMs accumulate
``Σ_j w_ij [z_j, 1]`` (the block's rows) and ``Σ_i w_ij [z_i, 1]`` (every sample).
Memory is ``O(n · block + n r)``; the ``n × n`` matrix never exists.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.linalg.blas import dgemm
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from mlearn._kernels._softmax import _sparse_pair_scatter
from mlearn.utils._lbfgs import finish_lbfgs
from mlearn.utils._progress import progress_bar

__all__ = ["block_rows", "run_lbfgs", "softmax_pair_scatter"]

# elements of one block of the distance matrix (2 MB in float64): the block
# stays in cache between the GEMM that fills it, the kernel and the two GEMMs
# that read it; at least 64 rows so the per-block GEMMs over all n samples
# stay compute-bound
_BLOCK_ELEMENTS = 1 << 18
_MIN_ROWS = 64
# blocks are dealt to this many accumulators whatever the number of threads
_LANES = 4
# a block with at most this fraction of non-zero weights skips its two weight
# GEMMs for a numba loop over the non-zero entries (late in a fit the softmax
# is sharp and most weights are exactly 0)
_SPARSE = 0.05


_controller = []


def _single_threaded_blas():
    """A context with BLAS on one thread. Building a ``ThreadpoolController``
    inspects every loaded library (about 10 ms, more than a whole fit on a
    small set), so one is built per process and reused."""
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1, user_api="blas")


def block_rows(n_samples, block_elements=_BLOCK_ELEMENTS):
    """Rows per block so a block holds about ``block_elements`` distances."""
    return int(min(n_samples,
                   max(_MIN_ROWS, block_elements // max(n_samples, 1))))


def softmax_pair_scatter(Z, weights, block_size=None, n_threads=1):
    """``A Z`` of a softmax-over-neighbours gradient, block by block.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_components), float64, C-contiguous
        The samples in the current learned space.
    weights : callable
        ``weights(G, start, cols, counts)`` receives ``G = Z[start:start+b]
        Zᵀ`` (a ``(b, n_samples)`` float64 view) and overwrites it with the
        pair weights ``w_ij`` of rows ``start … start + b − 1`` (0 on the
        diagonal), lists each row's non-zero columns in ``cols`` (int32) and
        their number in ``counts``, and returns how many are non-zero; it
        keeps whatever per-row results it needs itself (it is called from
        ``n_threads`` threads at once, on disjoint rows).
    block_size : int, default=None
        Rows per block; ``None`` chooses about 2¹⁸ distances per block
        (at least 64 rows).
    n_threads : int, default=1
        Threads running blocks side by side (each with single-threaded BLAS
        calls of its own). The result does not depend on it.

    Returns
    -------
    AZ : ndarray of shape (n_samples, n_components)
        :math:`(A Z)_i = \\sum_j (w_{ij} + w_{ji})(z_i − z_j)`.

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
    # Σ_j w_ij [z_j, 1] for the block's rows: W Z and the row sums of W
    WZ1 = np.empty((n, r + 1))
    # Σ_i w_ij [z_i, 1] for every j, per lane: Wᵀ Z and the column sums of W
    WtZ1 = np.zeros((n_lanes, n, r + 1))

    def lane(k):
        G = np.empty((b, n))
        cols = np.empty((b, n), dtype=np.int32)
        counts = np.empty(b, dtype=np.intp)
        acc = WtZ1[k]
        for start in starts[k::n_lanes]:
            stop = min(start + b, n)
            Gb = G[: stop - start]
            np.matmul(Z[start:stop], Z.T, out=Gb)
            nnz = weights(Gb, start, cols, counts)
            if nnz <= _SPARSE * Gb.size:
                _sparse_pair_scatter(Gb, start, cols, counts, Z1, WZ1[start:stop],
                                     acc)
                continue
            np.matmul(Gb, Z1, out=WZ1[start:stop])
            # acc += Gbᵀ Z1[start:stop] in place (beta = 1): as Fortran arrays
            # accᵀ += Z1[start:stop]ᵀ Gb, no (n, r + 1) temporary per block
            dgemm(1.0, Z1[start:stop].T, Gb.T, beta=1.0, c=acc.T, trans_b=1,
                  overwrite_c=1)

    n_threads = max(1, min(int(n_threads), n_lanes))
    if n_threads == 1:
        for k in range(n_lanes):
            lane(k)
    else:
        with _single_threaded_blas(), ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(lane, range(n_lanes)))
    WtZ1 = WtZ1.sum(axis=0)
    # the rows of W sum to 0 in exact arithmetic for NCA and MLKR; the row
    # sums cost one GEMM column and keep A's rows summing to 0 as computed
    return (WZ1[:, r:] + WtZ1[:, r:]) * Z - WZ1[:, :r] - WtZ1[:, :r]


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
