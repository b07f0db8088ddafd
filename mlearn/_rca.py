"""Relevant Components Analysis (Bar-Hillel et al., JMLR 2005)."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from mlearn._constraints import Constraints
from mlearn.base import MahalanobisMixin
from mlearn.utils._sklearn_compat import (
    Interval,
    _fit_context,
    validate_data,
)
from mlearn.utils._stats import check_dask_labels, check_dask_X, tree_reduce
from mlearn.utils._validation import (
    FLOAT_DTYPES,
    _is_dask,
    check_classes,
    check_n_components,
)

__all__ = [
    "RCA",
    "RCA_Supervised",
    "chunk_statistics",
    "merge_chunk_statistics",
    "rca_components",
]

# Eigenvalues of the within-chunklet covariance at or below this fraction of the
# largest count as zero: whitening them would multiply noise by > 1e5.
_RANK_RTOL = 1e-10


def _assigned(chunks):
    """Mask of the rows that belong to a chunk (numeric id ``-1`` = none)."""
    if chunks.dtype.kind in "biuf":
        return chunks != -1
    return np.ones(chunks.shape[0], dtype=bool)


def chunk_statistics(X, chunks):
    """Sufficient statistics of the chunklets in a block of rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    chunks : ndarray of shape (n_samples,)
        Chunk id of each row; ``-1`` marks a row in no chunk.

    Returns
    -------
    stats : tuple ``(ids, counts, means, within)``
        The chunk ids (sorted), their sizes, their means ``(n_chunks,
        n_features)`` and the pooled within-chunk scatter
        ``Σ_j Σ_{i ∈ j} (x_i − μ_j)(x_i − μ_j)ᵀ`` (float64). Memory is
        ``O(n_chunks · d + d²)``: unlike per-class statistics no chunk keeps
        its own ``d × d`` scatter, so thousands of small chunks cost little.
    """
    X = np.asarray(X)
    chunks = np.asarray(chunks).ravel()
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity.")
    d = X.shape[1]
    mask = _assigned(chunks)
    ids, inverse = np.unique(chunks[mask], return_inverse=True)
    inverse = inverse.ravel()
    Xm = X[mask].astype(np.float64)
    counts = np.bincount(inverse, minlength=ids.shape[0])
    order = np.argsort(inverse, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.intp)
    if ids.shape[0]:
        means = np.add.reduceat(Xm[order], starts, axis=0) / counts[:, None]
        Xm -= means[inverse]
    else:
        means = np.zeros((0, d))
    return ids, counts, means, Xm.T @ Xm


def merge_chunk_statistics(a, b):
    """Merge two :func:`chunk_statistics` tuples exactly.

    A chunk present in both (its rows split across blocks or ``partial_fit``
    calls) is merged by Chan et al.'s update: the pooled scatter gains
    ``n_a n_b / (n_a + n_b) · δδᵀ``, ``δ`` the difference of its two means.
    """
    ids_a, n_a, mu_a, w_a = a
    ids_b, n_b, mu_b, w_b = b
    if ids_a.shape[0] == 0:
        return ids_b, n_b, mu_b, w_a + w_b
    if ids_b.shape[0] == 0:
        return ids_a, n_a, mu_a, w_a + w_b
    ids = np.union1d(ids_a, ids_b)
    ia = np.searchsorted(ids, ids_a)
    ib = np.searchsorted(ids, ids_b)
    counts = np.zeros(ids.shape[0], dtype=np.int64)
    sums = np.zeros((ids.shape[0], mu_a.shape[1]))
    counts[ia] += n_a
    counts[ib] += n_b
    sums[ia] += mu_a * n_a[:, None]
    sums[ib] += mu_b * n_b[:, None]
    within = w_a + w_b
    common, ca, cb = np.intersect1d(ids_a, ids_b, return_indices=True)
    if common.shape[0]:
        na, nb = n_a[ca].astype(np.float64), n_b[cb].astype(np.float64)
        delta = (mu_b[cb] - mu_a[ca]) * np.sqrt(na * nb / (na + nb))[:, None]
        within = within + delta.T @ delta
    return ids, counts, sums / counts[:, None], within


def rca_components(counts, means, within, n_components=None):
    """RCA's ``L`` from chunklet statistics, and the rank of the covariance.

    Parameters
    ----------
    counts : ndarray of shape (n_chunks,)
    means : ndarray of shape (n_chunks, n_features)
    within : ndarray of shape (n_features, n_features)
        Pooled within-chunk scatter (see :func:`chunk_statistics`).
    n_components : int, default=None
        ``None`` whitens in all dimensions. Fewer first projects on the
        ``n_components`` directions of largest total variance relative to the
        within-chunklet variance (the paper's constrained Fisher discriminant).

    Returns
    -------
    L : ndarray of shape (n_components, n_features)
        ``Ĉ^{-1/2}`` (restricted to the range of ``Ĉ``), rows by decreasing
        within-chunklet variance, or the cFLD rows; zero rows beyond the rank.
    rank : int
        Rank of ``Ĉ``.
    """
    d = within.shape[0]
    n = counts.sum()
    C = within / n
    w, V = np.linalg.eigh((C + C.T) / 2.0)
    keep = w > _RANK_RTOL * max(w[-1], 0.0)
    W = (V[:, keep] / np.sqrt(w[keep])).T[::-1]  # (r, d), W Ĉ Wᵀ = I
    r = W.shape[0]
    m = d if n_components is None else n_components
    L = np.zeros((m, d))
    if m >= r:
        L[:r] = W
        return L, r
    mu = counts @ means / n
    dev = (means - mu) * np.sqrt(counts)[:, None]
    T = W @ ((within + dev.T @ dev) / n) @ W.T  # total covariance, whitened
    lam, U = np.linalg.eigh((T + T.T) / 2.0)
    L[:] = U[:, ::-1][:, :m].T @ W
    return L, r


class _BaseRCA(MahalanobisMixin, BaseEstimator):
    """Finalize RCA from chunklet statistics (shared by RCA and RCA_Supervised)."""

    def _finalize(self, dtype, strict):
        ids, counts, means, within = self._chunk_stats
        single = counts < 2
        if strict and ids.shape[0] == 0:
            raise ValueError(
                "no chunk: every row has chunk id -1. RCA needs chunks of at "
                "least 2 points."
            )
        if strict and single.any():
            listing = ", ".join(repr(c) for c in ids[single][:5].tolist())
            raise ValueError(
                f"{int(single.sum())} chunk(s) have a single point, e.g. chunk id(s) "
                f"{listing}; every chunk needs at least 2 points (use -1 for rows "
                "in no chunk)."
            )
        if single.any():  # partial_fit: these chunks wait for more rows
            keep = ~single
            sub = (ids[keep], counts[keep], means[keep], within)
        else:
            sub = self._chunk_stats
        self.n_chunks_ = int(sub[0].shape[0])
        self.n_samples_seen_ = int(sub[1].sum())
        if self.n_chunks_ == 0:
            return self
        L, rank = rca_components(sub[1], sub[2], sub[3], self.n_components)
        if rank == 0:
            raise ValueError(
                "the within-chunklet covariance is zero: the points of every chunk "
                "coincide, so there is no within-chunk variation to whiten."
            )
        self.rank_ = int(rank)
        d = L.shape[1]
        if rank < L.shape[0]:
            warnings.warn(
                f"the within-chunklet covariance has rank {rank} < n_features "
                f"({d}) ({self.n_chunks_} chunks of {self.n_samples_seen_} points in "
                f"all); RCA whitens its {rank}-dimensional range and gives the "
                "other directions zero weight (pseudo-inverse). Use more or larger "
                "chunks, or n_components <= the rank.",
                UserWarning, stacklevel=3,
            )
        self.components_ = L.astype(dtype, copy=False)
        return self


class RCA(_BaseRCA):
    """Relevant Components Analysis from chunklets.

    ``fit(X, y)`` takes ``y`` = the chunks, a chunk id per row (``-1`` for
    none). A chunklet is a small group of points known to belong to the same (unknown)
    class. RCA whitens the data by the average within-chunklet covariance:
    directions in which points of one chunklet vary (irrelevant variability)
    shrink, the others grow. It is closed form; the statistics stream
    (``partial_fit``) and reduce over a :mod:`dask.array` blockwise (``fit``).

    Read more in the :ref:`User Guide <rca>`.

    Parameters
    ----------
    n_components : int, default=None
        ``None`` whitens in all ``n_features`` dimensions. Fewer first reduces
        to the ``n_components`` directions with the largest ratio of total to
        within-chunklet variance (the paper's constrained Fisher discriminant,
        as metric-learn does).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``L`` with ``LᵀL = Ĉ⁻¹`` (pseudo-inverse if ``Ĉ`` is singular; see
        Notes) (dtype of ``X``).
    rank_ : int
        Rank of the within-chunklet covariance ``Ĉ``.
    n_chunks_ : int
        Chunklets used.
    n_samples_seen_ : int
        Rows in those chunklets.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.

    See Also
    --------
    RCA_Supervised : RCA with chunklets drawn from class labels.

    Notes
    -----
    With chunklets ``j`` of points ``x_{ji}`` and means ``m_j``, ``p`` points
    in all,

    .. math::

        \\hat C = \\frac1p \\sum_j \\sum_i (x_{ji} - m_j)(x_{ji} - m_j)^\\top,
        \\qquad M = \\hat C^{-1}, \\quad L = \\hat C^{-1/2}.

    Rows with chunk id ``-1`` are in no chunklet and are ignored. Every
    chunklet needs at least 2 points (a single point has no within-chunklet
    variation), else ``fit`` raises.

    ``Ĉ`` has rank at most ``p − (number of chunklets)``: with few chunklets in
    many dimensions (or constant features) it is singular. Then RCA whitens
    ``Ĉ``'s range and gives the null directions zero weight (the Moore–Penrose
    pseudo-inverse), with a warning; ``rank_`` says how many directions are
    used. A ridge would instead give the directions where no chunklet varies —
    about which the chunklets say nothing — the largest weight.

    ``partial_fit`` keeps the chunk counts and means and one pooled ``d × d``
    scatter, and merges exactly (the rows of one chunk may arrive in different
    calls); a chunk that still has a single point is left out until more of
    its points arrive. ``fit`` on a dask array computes these per block and
    merges them in a tree.

    References
    ----------
    .. [1] A. Bar-Hillel, T. Hertz, N. Shental, D. Weinshall. "Learning a
       Mahalanobis Metric from Equivalence Constraints". JMLR 6:937–965, 2005.
    .. [2] N. Shental, T. Hertz, D. Weinshall, M. Pavel. "Adjustment Learning
       and Relevant Component Analysis". ECCV 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn import RCA
    >>> X = np.array([[-0.05, 3.0], [0.05, -3.0], [0.1, -3.55], [-0.1, 3.55],
    ...               [-0.95, -0.05], [0.95, 0.05], [0.4, 0.05], [-0.4, -0.05]])
    >>> chunks = [0, 0, 1, 1, 2, 2, 3, 3]
    >>> rca = RCA().fit(X, chunks)
    >>> rca.transform(X).shape
    (8, 2)
    """

    _kind = "chunks"

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, n_components=None):
        self.n_components = n_components

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the whitening of the within-chunklet covariance.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            The points.
        y : array-like or dask array of shape (n_samples,)
            The chunks: chunk id of each row, ``-1`` for rows in no chunk
            (metric-learn's ``chunks``; named ``y`` as scikit-learn requires of
            the second argument of ``fit``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if _is_dask(X):
            return self._fit_dask(X, y)
        X, chunks = validate_data(self, X, y, dtype=list(FLOAT_DTYPES),
                                  ensure_min_samples=2)
        check_n_components(self.n_components, X.shape[1])
        self._chunk_stats = chunk_statistics(X, chunks)
        return self._finalize(X.dtype, strict=True)

    def partial_fit(self, X, y):
        """Update the statistics with a block of rows (streaming).

        Chunk ids refer to the same chunk across calls. The metric is
        (re)computed from the chunks that have at least 2 points so far.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The points.
        y : array-like of shape (n_samples,)
            The chunks: chunk id of each row, ``-1`` for rows in no chunk.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        first = getattr(self, "_chunk_stats", None) is None
        if first:
            self._validate_params()
        X, chunks = validate_data(self, X, y, reset=first,
                                  dtype=list(FLOAT_DTYPES))
        check_n_components(self.n_components, X.shape[1])
        block = chunk_statistics(X, chunks)
        self._chunk_stats = (block if first
                             else merge_chunk_statistics(self._chunk_stats, block))
        return self._finalize(X.dtype, strict=False)

    def _fit_dask(self, X, chunks):
        import dask

        X, dtype = check_dask_X(self, X)
        check_n_components(self.n_components, X.shape[1])
        chunks = check_dask_labels(chunks, X, name="chunks", what="chunk id")
        parts = [dask.delayed(chunk_statistics)(xb, cb) for xb, cb in
                 zip(X.to_delayed().ravel(), chunks.to_delayed().ravel())]
        (self._chunk_stats,) = dask.compute(tree_reduce(parts,
                                                        merge_chunk_statistics))
        return self._finalize(dtype, strict=True)


class RCA_Supervised(_BaseRCA):
    """Relevant Components Analysis with chunklets drawn from class labels.

    ``n_chunks`` chunklets of ``chunk_size`` points of one class each are drawn
    at random (every point in at most one chunklet), and :class:`RCA` is fitted
    on them: the metric whitens the average within-chunklet covariance.

    Read more in the :ref:`User Guide <rca>`.

    Parameters
    ----------
    n_components : int, default=None
        ``None`` whitens in all ``n_features`` dimensions; fewer first reduces
        by the constrained Fisher discriminant (see :class:`RCA`).
    n_chunks : int, default=100
        Number of chunklets to draw.
    chunk_size : int, default=2
        Points per chunklet (at least 2).
    random_state : int, RandomState instance or None, default=None
        Seeds the draw of the chunklets.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``L`` with ``LᵀL = Ĉ⁻¹`` (pseudo-inverse if singular) (dtype of ``X``).
    rank_ : int
        Rank of the within-chunklet covariance ``Ĉ``.
    n_chunks_ : int
    n_samples_seen_ : int
        Rows in the chunklets.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.

    See Also
    --------
    RCA : RCA from given chunklets (streaming and dask).
    Constraints.chunks : how the chunklets are drawn.

    Notes
    -----
    .. math::

        \\hat C = \\frac1p \\sum_j \\sum_i (x_{ji} - m_j)(x_{ji} - m_j)^\\top,
        \\qquad L = \\hat C^{-1/2},

    over the ``p = n_chunks · chunk_size`` drawn points. ``Ĉ`` has rank at
    most ``n_chunks · (chunk_size − 1)``: below ``n_features`` it is singular,
    and the null directions get zero weight, with a warning (see
    :class:`RCA`). Classes smaller than ``chunk_size`` give no chunklet;
    ``fit`` raises when no class is large enough or when fewer than
    ``n_chunks`` chunklets fit.

    References
    ----------
    .. [1] A. Bar-Hillel, T. Hertz, N. Shental, D. Weinshall. "Learning a
       Mahalanobis Metric from Equivalence Constraints". JMLR 6:937–965, 2005.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlearn import RCA_Supervised
    >>> X, y = load_iris(return_X_y=True)
    >>> rca = RCA_Supervised(n_chunks=30, chunk_size=2, random_state=0).fit(X, y)
    >>> rca.transform(X).shape
    (150, 4)
    """

    _kind = "supervised"

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "n_chunks": [Interval(Integral, 1, None, closed="left")],
        "chunk_size": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components=None, n_chunks=100, chunk_size=2,
                 random_state=None):
        self.n_components = n_components
        self.n_chunks = n_chunks
        self.chunk_size = chunk_size
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Draw chunklets from the labels and fit RCA on them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The points.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=list(FLOAT_DTYPES),
                             ensure_min_samples=2)
        check_n_components(self.n_components, X.shape[1])
        self.classes_, codes, counts = check_classes(y)
        if counts.max() < self.chunk_size:
            largest = int(np.argmax(counts))
            label = self.classes_[largest:largest + 1].tolist()[0]
            raise ValueError(
                f"chunk_size ({self.chunk_size}) is larger than every class; the "
                f"largest, {label!r}, has {counts[largest]} samples."
            )
        self._chunk_stats = chunk_statistics(X, self._draw_chunks(y, codes))
        return self._finalize(X.dtype, strict=True)

    def _draw_chunks(self, y, codes):
        """Chunk id of each row (``-1``: in none), drawn by
        :meth:`Constraints.chunks` with ``random_state`` from the class codes
        (``mlearn.compat.metric_learn`` draws as metric-learn does)."""
        return Constraints(codes).chunks(
            self.n_chunks, self.chunk_size,
            random_state=check_random_state(self.random_state))
