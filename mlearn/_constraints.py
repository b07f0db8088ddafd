"""Weak supervision sampled from class labels: pairs, chunks and kNN triplets.

All sampling goes through ``random_state``; the same seed gives the same output.
"""

import warnings

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state

from mlearn.utils._scale import scale_exponent
from mlearn.utils._validation import check_classes, check_finite_array, check_int

__all__ = [
    "Constraints",
    "find_target_neighbors",
    "pairs_from_labels",
    "positive_negative_pairs",
]


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
    labelled = _labelled(y)
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


def _labelled(y):
    """Indices of the labelled points (label ``-1`` marks an unlabelled one)."""
    return np.flatnonzero(y != -1) if y.dtype.kind in "iuf" else np.arange(len(y))


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


def find_target_neighbors(X, codes, n_neighbors):
    """Same-class nearest neighbours in the input space, ``(n, k)``, ``-1``
    where a class has fewer than ``k + 1`` members."""
    n = X.shape[0]
    targets = np.full((n, n_neighbors), -1, dtype=np.intp)
    for c in range(codes.max() + 1):
        idx = np.flatnonzero(codes == c)
        kc = min(n_neighbors, idx.shape[0] - 1)
        if kc < 1:
            continue  # a singleton class has no target neighbours
        nn = NearestNeighbors(n_neighbors=kc).fit(X[idx])
        targets[idx, :kc] = idx[nn.kneighbors(return_distance=False)]
    return targets


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
        points (Euclidean); unlabelled points (``-1``) take no part.

        A class too small for ``k_genuine`` neighbours (or with too few points
        outside it for ``k_impostor``) gets as many as it has, with a warning,
        as in metric-learn.

        Returns
        -------
        triplets : ndarray of shape (n_triplets, 3)
            Row indices into ``X``; for each anchor, its genuine neighbours in
            order, each paired with every impostor.
        """
        X = check_finite_array(X, "X")
        y = self.partial_labels
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows but there are {y.shape[0]} labels."
            )
        check_int(k_genuine, "k_genuine")
        check_int(k_impostor, "k_impostor")
        labelled = _labelled(y)
        classes, codes, counts = check_classes(y[labelled])
        n = labelled.shape[0]
        kg = np.minimum(k_genuine, counts - 1)
        ki = np.minimum(k_impostor, n - counts)
        for c in np.flatnonzero((kg < k_genuine) | (ki < k_impostor)):
            warnings.warn(
                f"class {classes[c]!r} has {counts[c]} points: it gets {kg[c]} "
                f"genuine (k_genuine={k_genuine}) and {ki[c]} impostor "
                f"(k_impostor={k_impostor}) neighbours per point.", UserWarning,
                stacklevel=2)
        # neighbours do not depend on units; a power of two keeps the
        # neighbour search's squared distances in range at any scale
        Xl = X[labelled]
        Xl = np.ldexp(Xl, -scale_exponent(Xl))
        genuine = find_target_neighbors(Xl, codes, int(kg.max()))
        triplets = []
        for c in range(classes.shape[0]):
            if kg[c] < 1:
                continue
            same = np.flatnonzero(codes == c)
            other = np.flatnonzero(codes != c)
            imp = other[NearestNeighbors(n_neighbors=int(ki[c])).fit(Xl[other])
                        .kneighbors(Xl[same], return_distance=False)]
            gen = genuine[same, :kg[c]]
            i = np.repeat(same, kg[c] * ki[c])
            j = np.repeat(gen, ki[c], axis=1).ravel()
            l_ = np.tile(imp, (1, kg[c])).ravel()
            triplets.append(labelled[np.column_stack([i, j, l_])])
        if not triplets:
            raise ValueError("no class has 2 labelled points: no triplet exists.")
        return np.vstack(triplets)
