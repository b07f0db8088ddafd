"""Sufficient statistics of rows: ``(n, mean, scatter)`` per block, per class or
per chunk, merged exactly (Chan et al.'s parallel update) in memory, in a
stream (``partial_fit``) or as a dask tree reduction.

Covariance, KISSME, RCA and LFDA build their metrics from these; no learner
computes its own.
"""

import numpy as np

from mlearn.utils._validation import FLOAT_DTYPES, check_classes

__all__ = [
    "check_dask_X",
    "check_dask_labels",
    "class_statistics",
    "dask_scatter_statistics",
    "encode_labels",
    "labelled_statistics",
    "merge_labelled",
    "merge_statistics",
    "scatter_statistics",
    "tree_reduce",
]

def scatter_statistics(X, assume_centered=False):
    """``(n, mean, scatter)`` of a block of rows, accumulated in float64.

    ``scatter = Σᵢ (xᵢ − mean)(xᵢ − mean)ᵀ``; with ``assume_centered`` the mean is
    taken as 0. These merge exactly across blocks (:func:`merge_statistics`).
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if assume_centered:
        mean = np.zeros(X.shape[1])
        return n, mean, X.T @ X
    mean = X.mean(axis=0)
    Xc = X - mean
    return n, mean, Xc.T @ Xc


def merge_statistics(a, b):
    """Merge two ``(n, mean, scatter)`` triples (Chan et al.'s parallel update)."""
    n_a, mean_a, s_a = a
    n_b, mean_b, s_b = b
    n = n_a + n_b
    if n_a == 0:
        return b
    delta = mean_b - mean_a
    mean = mean_a + delta * (n_b / n)
    scatter = s_a + s_b + np.outer(delta, delta) * (n_a * n_b / n)
    return n, mean, scatter


def _finite_scatter_statistics(X, assume_centered=False):
    """:func:`scatter_statistics` of one dask block, refusing NaN/inf."""
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity.")
    return scatter_statistics(X, assume_centered)


def _merge_all(merge, parts):
    out = parts[0]
    for part in parts[1:]:
        out = merge(out, part)
    return out


def tree_reduce(parts, merge, split_every=8):
    """Reduce a list of dask-delayed statistics to one, ``split_every`` at a time.

    The tree keeps each step's input small and lets a cluster merge in parallel;
    only the statistics (d×d matrices) move between workers.
    """
    import dask

    while len(parts) > 1:
        parts = [dask.delayed(_merge_all)(merge, parts[i:i + split_every])
                 for i in range(0, len(parts), split_every)]
    return parts[0]


def check_dask_X(estimator, X):
    """2-D numeric dask array, rechunked to whole rows; sets ``n_features_in_``.

    The values (NaN/inf) are checked blockwise when the graph runs.
    """
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D array, got a {X.ndim}-D dask array of shape {X.shape}."
        )
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must be numeric, got dtype {X.dtype}.")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            "the dask array has unknown chunk sizes; call X.compute_chunk_sizes() "
            "first."
        )
    if X.shape[1] == 0:
        raise ValueError(f"X has 0 features (shape {X.shape}).")
    estimator.n_features_in_ = X.shape[1]
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    dtype = X.dtype if X.dtype in FLOAT_DTYPES else np.dtype(np.float64)
    return X.rechunk({1: -1}), dtype


def check_dask_labels(labels, X, name="y", what="label"):
    """A 1-D dask array with one ``what`` per row of the dask array ``X``,
    chunked as ``X``'s rows (the values are checked when the graph runs)."""
    import dask.array as da

    labels = da.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or labels.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} must be 1-D with one {what} per row of X; got shape "
            f"{labels.shape} for X of shape {X.shape}."
        )
    return labels.rechunk((X.chunks[0],))


def dask_scatter_statistics(X, assume_centered=False):
    """``(n, mean, scatter)`` of a dask array, computed blockwise and tree-merged."""
    import dask

    blocks = X.to_delayed().ravel()
    parts = [dask.delayed(_finite_scatter_statistics)(b, assume_centered)
             for b in blocks]
    (stats,) = dask.compute(tree_reduce(parts, merge_statistics))
    return stats


# Rows gathered per GEMM: a float64 block of about 4 MiB stays in cache while it is
# centred and multiplied, so the data is read from memory once; blocks this large
# keep the number of (thread-synchronising) BLAS calls small.
_BLOCK_BYTES = 4 * 2**20


def _centred_block_statistics(B):
    """``(n, mean, scatter)`` of a float64 block that may be overwritten."""
    mean = B.mean(axis=0)
    B -= mean
    return B.shape[0], mean, B.T @ B


def class_statistics(X, inverse, n_classes):
    """Per-class ``(n_c, mean_c, scatter_c)`` of ``X``, accumulated in float64.

    Rows are grouped by class once (a stable radix sort of the class codes), then
    each class is read in cache-sized blocks that are centred and multiplied
    (one GEMM over all rows in total) and merged exactly
    (:func:`merge_statistics`).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    inverse : ndarray of shape (n_samples,)
        Class code of each row, in ``[0, n_classes)``.
    n_classes : int

    Returns
    -------
    stats : list of ``n_classes`` tuples ``(n_c, mean_c, scatter_c)``
        ``scatter_c = Σ_{i ∈ c} (x_i − mean_c)(x_i − mean_c)ᵀ``.
    """
    d = X.shape[1]
    codes = inverse.astype(np.min_scalar_type(max(n_classes - 1, 0)), copy=False)
    order = np.argsort(codes, kind="stable")  # radix sort for small codes
    starts = np.r_[0, np.cumsum(np.bincount(codes, minlength=n_classes))]
    step = max(64, _BLOCK_BYTES // (8 * max(d, 1)))
    buf = np.empty((min(step, X.shape[0]), d), dtype=X.dtype)
    buf64 = buf if X.dtype == np.float64 else np.empty(buf.shape)
    stats = []
    for c in range(n_classes):
        idx = order[starts[c]:starts[c + 1]]
        st = (0, np.zeros(d), np.zeros((d, d)))
        for s in range(0, idx.shape[0], step):
            rows = idx[s:s + step]
            B = np.take(X, rows, axis=0, out=buf[:rows.shape[0]])
            if B.dtype != np.float64:
                B = np.copyto(buf64[:rows.shape[0]], B) or buf64[:rows.shape[0]]
            st = merge_statistics(st, _centred_block_statistics(B))
        stats.append(st)
    return stats


def encode_labels(y):
    """``(classes, inverse)`` as :func:`check_classes`, in O(n) for small integers."""
    if y.dtype.kind in "iu" and y.shape[0] > 0:
        lo, hi = int(y.min()), int(y.max())
        if hi - lo < 2 * y.shape[0] + 1024:
            counts = np.bincount((y - lo).astype(np.intp, copy=False))
            present = np.flatnonzero(counts)
            lookup = np.zeros(counts.shape[0], dtype=np.intp)
            lookup[present] = np.arange(present.shape[0])
            classes = (present + lo).astype(y.dtype)
            if classes.shape[0] < 2:
                check_classes(classes)  # raises the single-class error
            return classes, lookup[y - lo]
    classes, inverse, _ = check_classes(y)
    return classes, inverse


def labelled_statistics(X, y):
    """``{label: (n, mean, scatter)}`` of one block (numpy) of rows."""
    X = np.asarray(X)
    y = np.asarray(y).ravel()
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity.")
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity; class labels must be finite.")
    labels, inverse = np.unique(y, return_inverse=True)
    stats = class_statistics(X, inverse.ravel(), labels.shape[0])
    return dict(zip(labels.tolist(), stats))


def merge_labelled(a, b):
    """Merge two ``{label: (n, mean, scatter)}`` dicts (new labels are added)."""
    out = dict(a)
    for label, st in b.items():
        out[label] = merge_statistics(out[label], st) if label in out else st
    return out
