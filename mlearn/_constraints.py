"""Weak supervision sampled from class labels: pairs, chunks and kNN triplets.

All sampling goes through ``random_state``; the same seed gives the same output.
"""

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state

from mlearn.utils._validation import check_classes, check_int

__all__ = ["Constraints", "pairs_from_labels", "positive_negative_pairs"]


def positive_negative_pairs(y, n_constraints, random_state=None, same_length=False):
    """Sample similar and dissimilar index pairs from class labels.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels; negative labels other than -1 are ordinary classes, and
        ``-1`` marks an unlabelled point (metric-learn's convention) that never
        enters a pair.
    n_constraints : int
        Number of pairs of each kind to draw (fewer if fewer distinct pairs exist).
    random_state : int, RandomState instance or None, default=None
    same_length : bool, default=False
        Truncate both kinds to the same length.

    Returns
    -------
    a, b, c, d : ndarrays of int
        ``(a[i], b[i])`` are similar pairs, ``(c[i], d[i])`` dissimilar ones; no
        pair repeats and no point is paired with itself.
    """
    n_constraints = check_int(n_constraints, "n_constraints")
    rng = check_random_state(random_state)
    y = np.asarray(y)
    labelled = np.flatnonzero(y != -1) if y.dtype.kind in "iuf" else np.arange(len(y))
    classes, inv, counts = np.unique(y[labelled], return_inverse=True,
                                     return_counts=True)
    if classes.shape[0] < 2:
        raise ValueError("at least 2 labelled classes are needed to sample pairs.")
    members = [labelled[inv == c] for c in range(classes.shape[0])]
    n_pos_avail = int(np.sum(counts * (counts - 1) // 2))
    n_neg_avail = int((counts.sum() ** 2 - np.sum(counts**2)) // 2)
    if n_pos_avail == 0:
        raise ValueError("no class has 2 labelled points: no similar pair exists.")
    a, b = _sample_unique(rng, n_constraints, n_pos_avail,
                          lambda k: _draw_positive(rng, k, members, counts))
    c, d = _sample_unique(rng, n_constraints, n_neg_avail,
                          lambda k: _draw_negative(rng, k, labelled, y))
    if same_length:
        m = min(a.shape[0], c.shape[0])
        a, b, c, d = a[:m], b[:m], c[:m], d[:m]
    return a, b, c, d


def _draw_positive(rng, k, members, counts):
    weights = counts * (counts - 1.0)
    cls = rng.choice(len(members), size=k, p=weights / weights.sum())
    i = np.empty(k, dtype=np.intp)
    j = np.empty(k, dtype=np.intp)
    for c in np.unique(cls):
        sel = cls == c
        m = members[c]
        u = rng.randint(0, m.shape[0], size=sel.sum())
        v = rng.randint(0, m.shape[0] - 1, size=sel.sum())
        v = v + (v >= u)
        i[sel], j[sel] = m[u], m[v]
    return i, j


def _draw_negative(rng, k, labelled, y):
    i = labelled[rng.randint(0, labelled.shape[0], size=4 * k)]
    j = labelled[rng.randint(0, labelled.shape[0], size=4 * k)]
    keep = y[i] != y[j]
    return i[keep][:k], j[keep][:k]


def _sample_unique(rng, n, n_avail, draw):
    """Draw until ``min(n, n_avail)`` distinct unordered pairs are collected."""
    target = min(n, n_avail)
    seen = {}
    for _ in range(1000):
        i, j = draw(max(2 * (target - len(seen)), 16))
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        for p, q, key in zip(i.tolist(), j.tolist(), zip(lo.tolist(), hi.tolist())):
            if key not in seen:
                seen[key] = (p, q)
                if len(seen) == target:
                    break
        if len(seen) >= target:
            break
    pairs = np.array(list(seen.values()), dtype=np.intp).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def pairs_from_labels(y, n_constraints, random_state=None, same_length=False):
    """Index pairs ``(n_pairs, 2)`` and labels in {−1, +1} sampled from ``y``.

    Similar pairs come first, then dissimilar ones (``n_constraints`` of each kind
    at most; as many of each with ``same_length=True``).

    Examples
    --------
    >>> pairs, pair_y = pairs_from_labels([0, 0, 1, 1], 2, random_state=0)
    >>> pairs.shape, sorted(set(pair_y.tolist()))
    ((4, 2), [-1, 1])
    """
    a, b, c, d = positive_negative_pairs(y, n_constraints, random_state,
                                         same_length)
    pairs = np.vstack([np.column_stack([a, b]), np.column_stack([c, d])])
    pair_y = np.r_[np.ones(a.shape[0], dtype=np.intp),
                   -np.ones(c.shape[0], dtype=np.intp)]
    return pairs, pair_y


class Constraints:
    """Constraints built from (partial) class labels, as in metric-learn.

    Parameters
    ----------
    partial_labels : array-like of shape (n_samples,)
        Class labels; ``-1`` marks an unlabelled point.

    Examples
    --------
    >>> c = Constraints([0, 0, 0, 1, 1, 1])
    >>> a, b, c_, d = c.positive_negative_pairs(3, random_state=0)
    >>> len(a), len(c_)
    (3, 3)
    """

    def __init__(self, partial_labels):
        self.partial_labels = np.asarray(partial_labels)

    def positive_negative_pairs(self, n_constraints, same_length=False,
                                random_state=None):
        """See :func:`positive_negative_pairs`."""
        return positive_negative_pairs(self.partial_labels, n_constraints,
                                       random_state, same_length)

    def chunks(self, n_chunks=100, chunk_size=2, random_state=None):
        """Disjoint chunks of same-class points; returns a chunk id per point
        (``-1`` for points in no chunk)."""
        n_chunks = check_int(n_chunks, "n_chunks")
        chunk_size = check_int(chunk_size, "chunk_size")
        rng = check_random_state(random_state)
        y = self.partial_labels
        chunk_ids = -np.ones(y.shape[0], dtype=np.intp)
        labelled = y != -1
        classes, counts = np.unique(y[labelled], return_counts=True)
        capacity = counts // chunk_size
        if capacity.sum() < n_chunks:
            raise ValueError(
                f"not enough labelled points for {n_chunks} chunks of size "
                f"{chunk_size}: at most {int(capacity.sum())} fit."
            )
        pools = {c: rng.permutation(np.flatnonzero(y == c)) for c in classes}
        used = dict.fromkeys(classes, 0)
        for cid in range(n_chunks):
            open_ = [c for c, cap in zip(classes, capacity) if used[c] < cap]
            c = open_[rng.randint(len(open_))]
            start = used[c] * chunk_size
            chunk_ids[pools[c][start:start + chunk_size]] = cid
            used[c] += 1
        return chunk_ids

    def generate_knntriplets(self, X, k_genuine, k_impostor):
        """Triplets ``(i, j, l)``: ``j`` one of ``i``'s ``k_genuine`` nearest
        same-class points, ``l`` one of its ``k_impostor`` nearest other-class
        points (Euclidean). Returns an array of shape (n_triplets, 3)."""
        X = np.asarray(X, dtype=np.float64)
        y = self.partial_labels
        check_int(k_genuine, "k_genuine")
        check_int(k_impostor, "k_impostor")
        classes, inv, counts = check_classes(y)
        if counts.min() <= k_genuine:
            raise ValueError(
                f"every class needs more than k_genuine={k_genuine} points; the "
                f"smallest has {counts.min()}."
            )
        triplets = []
        for c in range(classes.shape[0]):
            same = np.flatnonzero(inv == c)
            other = np.flatnonzero(inv != c)
            kg = NearestNeighbors(n_neighbors=k_genuine + 1).fit(X[same])
            gen = same[kg.kneighbors(X[same], return_distance=False)[:, 1:]]
            ki = min(k_impostor, other.shape[0])
            imp = other[NearestNeighbors(n_neighbors=ki).fit(X[other])
                        .kneighbors(X[same], return_distance=False)]
            i = np.repeat(same, k_genuine * ki)
            j = np.repeat(gen, ki, axis=1).ravel()
            l_ = np.tile(imp, (1, k_genuine)).ravel()
            triplets.append(np.column_stack([i, j, l_]))
        return np.vstack(triplets)
