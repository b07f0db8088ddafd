"""Sampling of pairs, chunks and triplets from labels."""

import re

import numpy as np
import pytest

from mlearn import Constraints
from mlearn._constraints import pairs_from_labels, positive_negative_pairs


def test_pairs_are_valid_unique_and_seeded():
    y = np.repeat(np.arange(4), 6)
    a, b, c, d = positive_negative_pairs(y, 40, random_state=0)
    assert len(a) == 40 and len(c) == 40
    assert np.all(y[a] == y[b]) and np.all(y[c] != y[d]) and np.all(a != b)
    keys = set(zip(np.minimum(a, b), np.maximum(a, b)))
    assert len(keys) == 40
    again = positive_negative_pairs(y, 40, random_state=0)
    for u, v in zip((a, b, c, d), again):
        np.testing.assert_array_equal(u, v)


def test_pairs_capped_at_available_and_unlabelled_ignored():
    y = np.array([0, 0, 0, 1, 1, -1, -1])
    a, b, c, d = positive_negative_pairs(y, 100, random_state=0)
    assert len(a) == 3 + 1  # C(3,2) + C(2,2)
    assert len(c) == 3 * 2
    assert not np.isin(np.r_[a, b, c, d], [5, 6]).any()


def test_pairs_from_labels():
    y = np.repeat([0, 1, 2], 5)
    idx, py = pairs_from_labels(y, 7, random_state=1)
    same = y[idx[:, 0]] == y[idx[:, 1]]
    np.testing.assert_array_equal(py, np.where(same, 1, -1))


def test_pair_errors():
    with pytest.raises(ValueError, match=re.escape("at least 2 labelled classes")):
        positive_negative_pairs([0, 0, 0], 5)
    with pytest.raises(ValueError, match=re.escape("no class has 2 labelled points")):
        positive_negative_pairs([0, 1, 2], 5)
    with pytest.raises(ValueError, match=re.escape("n_constraints must be an integer")):
        positive_negative_pairs([0, 0, 1, 1], 0)


def test_chunks():
    y = np.repeat([0, 1, 2], 6)
    ids = Constraints(y).chunks(n_chunks=6, chunk_size=3, random_state=0)
    assert set(ids) == set(range(6))
    for cid in range(6):
        members = np.flatnonzero(ids == cid)
        assert len(members) == 3 and len(set(y[members])) == 1
    with pytest.raises(ValueError, match=re.escape("not enough labelled points")):
        Constraints(y).chunks(n_chunks=7, chunk_size=3)


def test_knn_triplets_match_brute_force():
    rs = np.random.RandomState(0)
    X = rs.normal(size=(12, 2))
    y = np.repeat([0, 1], 6)
    T = Constraints(y).generate_knntriplets(X, k_genuine=2, k_impostor=1)
    D = np.linalg.norm(X[:, None] - X[None], axis=2)
    for i, j, imp in T:
        same = np.flatnonzero((y == y[i]) & (np.arange(12) != i))
        other = np.flatnonzero(y != y[i])
        assert j in same[np.argsort(D[i, same])[:2]]
        assert imp == other[np.argmin(D[i, other])]
    assert len(T) == 12 * 2 * 1
