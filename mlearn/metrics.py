"""Retrieval metrics for learned embeddings (Musgrave et al., 2020).

"A Metric Learning Reality Check" (ECCV 2020) argues for judging a metric by
retrieval quality over *all* the relevant neighbours of each query rather than
by the nearest one alone:

* ``precision_at_1`` — the fraction of queries whose nearest reference has the
  query's label;
* ``r_precision`` — with ``R`` the number of references sharing the query's
  label, the fraction of the ``R`` nearest references that do;
* ``mean_average_precision_at_r`` (MAP@R) — like R-precision, but each correct
  neighbour at rank ``i ≤ R`` counts with the precision at ``i``, rewarding
  correct neighbours that come first.

Each takes embeddings, so it works with any transformer
(``metric(est.transform(X), y)``); ``retrieval_scorer`` wraps one for
``GridSearchCV`` / ``cross_val_score``. Without reference points the query set
is its own reference set and each query is left out of its own neighbours
(the "same source" protocol of the paper). Queries whose label has no
reference (``R = 0``, e.g. a class with a single sample in the same-source
protocol) are left out of the average, as in pytorch-metric-learning's
``AccuracyCalculator``.
"""

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_array, check_consistent_length

__all__ = [
    "mean_average_precision_at_r",
    "precision_at_1",
    "r_precision",
    "retrieval_scorer",
]


def _check(X, y, name):
    X = check_array(X, dtype=[np.float64, np.float32], input_name=name)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"labels for {name} must be 1-D, got shape {y.shape}.")
    check_consistent_length(X, y)
    if y.dtype.kind in "fc":
        missing = ~np.isfinite(y)
    elif y.dtype.kind == "O":
        missing = np.array([v is None or (isinstance(v, (float, np.floating))
                                           and not np.isfinite(v)) for v in y],
                           dtype=bool)
    else:
        missing = np.zeros(0, dtype=bool)
    if missing.any():
        raise ValueError(
            f"labels for {name} contain {int(missing.sum())} missing or non-finite "
            f"values (NaN, inf or None), first at index {int(np.argmax(missing))}; "
            "every point needs a label."
        )
    return X, y


def _retrieval(X, y, X_ref, y_ref, metric, max_rank):
    """Per query: R, and the match indicators of its ``k`` nearest references."""
    X, y = _check(X, y, "X")
    same_source = X_ref is None
    if same_source:
        if y_ref is not None:
            raise ValueError("y_ref is given without X_ref.")
        X_ref, y_ref = X, y
    else:
        if y_ref is None:
            raise ValueError("X_ref is given without y_ref.")
        X_ref, y_ref = _check(X_ref, y_ref, "X_ref")
        if X_ref.shape[1] != X.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} features but X_ref has {X_ref.shape[1]}.")
    ref_labels, ref_counts = np.unique(y_ref, return_counts=True)
    pos = np.searchsorted(ref_labels, y)
    pos = np.clip(pos, 0, ref_labels.shape[0] - 1)
    R = np.where(ref_labels[pos] == y, ref_counts[pos], 0)
    if same_source:
        R = R - 1  # the query itself is not among its references
    keep = R > 0
    if not keep.any():
        raise ValueError(
            "no query has a reference with the same label (every class has a "
            "single sample); retrieval metrics are undefined."
        )
    X, y, R = X[keep], y[keep], R[keep]
    k = int(R.max()) if max_rank is None else max_rank
    k = min(k, X_ref.shape[0] - int(same_source))
    nn = NearestNeighbors(n_neighbors=k, metric=metric).fit(X_ref)
    if same_source:
        # kneighbors(None) leaves each point out of its own neighbours
        full = nn.kneighbors(return_distance=False)
        idx = full[np.flatnonzero(keep)]
    else:
        idx = nn.kneighbors(X, return_distance=False)
    return R, y_ref[idx] == y[:, None]


def _hits_within_r(X, y, X_ref, y_ref, metric):
    """``R`` per query, which of its first ``R`` neighbours match, the ranks."""
    R, match = _retrieval(X, y, X_ref, y_ref, metric, max_rank=None)
    ranks = np.arange(1, match.shape[1] + 1)
    return R, match & (ranks[None, :] <= R[:, None]), ranks


def precision_at_1(X, y, X_ref=None, y_ref=None, *, metric="euclidean"):
    """Fraction of queries whose nearest reference shares their label.

    Parameters
    ----------
    X : array-like of shape (n_queries, n_features)
        Query embeddings.
    y : array-like of shape (n_queries,)
        Query labels.
    X_ref, y_ref : array-like, optional
        Reference embeddings and labels. When omitted, ``X`` is its own
        reference set and each query is left out of its own neighbours.
    metric : str or callable, default='euclidean'
        Any metric ``sklearn.neighbors.NearestNeighbors`` accepts.

    Returns
    -------
    float

    Examples
    --------
    >>> precision_at_1([[0.0], [0.1], [1.0], [1.2]], [0, 0, 1, 1])
    1.0
    """
    _, match = _retrieval(X, y, X_ref, y_ref, metric, max_rank=1)
    return float(match[:, 0].mean())


def r_precision(X, y, X_ref=None, y_ref=None, *, metric="euclidean"):
    """Mean over queries of the fraction of its ``R`` nearest references that
    share its label, ``R`` the number of references with that label.

    Parameters are those of :func:`precision_at_1`.

    Returns
    -------
    float

    Examples
    --------
    >>> r_precision([[0.0], [0.1], [0.5], [1.0]], [0, 0, 1, 1])
    0.75
    """
    R, correct, _ = _hits_within_r(X, y, X_ref, y_ref, metric)
    return float(np.mean(correct.sum(axis=1) / R))


def mean_average_precision_at_r(X, y, X_ref=None, y_ref=None, *,
                                metric="euclidean"):
    r"""MAP@R (Musgrave et al., 2020).

    For a query with ``R`` references of its label,

    .. math::
        \mathrm{AP@R} = \frac{1}{R} \sum_{i=1}^{R} P(i)\,[\text{rank } i
        \text{ is correct}], \qquad P(i) = \frac{\#\text{correct in the top } i}{i},

    averaged over queries. It is 1 only when the ``R`` nearest references all
    share the query's label.

    Parameters are those of :func:`precision_at_1`.

    Returns
    -------
    float

    Examples
    --------
    >>> mean_average_precision_at_r([[0.0], [0.1], [0.5], [1.0]], [0, 0, 1, 1])
    0.75
    """
    R, correct, ranks = _hits_within_r(X, y, X_ref, y_ref, metric)
    precision = np.cumsum(correct, axis=1) / ranks[None, :]
    return float(np.mean((precision * correct).sum(axis=1) / R))


_METRICS = {
    "precision_at_1": precision_at_1,
    "r_precision": r_precision,
    "map_at_r": mean_average_precision_at_r,
    "mean_average_precision_at_r": mean_average_precision_at_r,
}


def retrieval_scorer(metric="map_at_r"):
    """A scorer ``scorer(estimator, X, y)`` for ``GridSearchCV`` and
    ``cross_val_score``: the retrieval metric of ``estimator.transform(X)``
    with the scored set as its own reference set.

    Parameters
    ----------
    metric : {'precision_at_1', 'r_precision', 'map_at_r'}, default='map_at_r'

    Returns
    -------
    callable

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import cross_val_score
    >>> from mlearn import Covariance
    >>> X, y = load_iris(return_X_y=True)
    >>> scores = cross_val_score(Covariance(), X, y, cv=3,
    ...                          scoring=retrieval_scorer("precision_at_1"))
    >>> bool(scores.min() > 0.8)
    True
    """
    if metric not in _METRICS:
        raise ValueError(
            f"metric must be one of {sorted(_METRICS)}, got {metric!r}.")
    func = _METRICS[metric]

    def scorer(estimator, X, y):
        return func(estimator.transform(X), y)

    scorer.__name__ = f"retrieval_scorer_{metric}"
    return scorer
