"""Checks every exported triplet and quadruplet learner passes (and the mixins
on toy learners): the shape-free sklearn checks, round trips, identifier tuples
against array tuples, label orientation and the comparison-classifier surface.
"""

import pickle
import re

import numpy as np
import pytest
from _pairs_toy import QuadrupletWhitening, TripletWhitening
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from conftest import all_estimators, fast_instance, make_blobs_data
from mlearn import Constraints
from mlearn._constraints import positive_negative_pairs

TUPLE_LEARNERS = [TripletWhitening, QuadrupletWhitening] + all_estimators(
    ("triplets", "quadruplets"))


def make_tuples(Estimator, n_per_class=20, random_state=0):
    """``(X, identifier tuples)`` from blobs with a large noise axis: kNN
    triplets, or (similar pair, dissimilar pair) quadruplets."""
    X, y = make_blobs_data(n_per_class=n_per_class, noise_dims=2,
                           random_state=random_state)
    if Estimator._tuple_size == 3:
        idx = Constraints(y).generate_knntriplets(X, 2, 3)
    else:
        idx = np.column_stack(positive_negative_pairs(y, 150, random_state,
                                                      same_length=True))
    return X, idx


@pytest.fixture(params=TUPLE_LEARNERS, ids=lambda E: E.__name__)
def Estimator(request):
    return request.param


@pytest.mark.parametrize(
    "check",
    [check_get_params_invariance, check_set_params, check_no_attributes_set_in_init],
    ids=lambda c: c.__name__,
)
def test_sklearn_shape_free_checks(Estimator, check):
    check(Estimator.__name__, fast_instance(Estimator))


def test_default_constructible(Estimator):
    check_parameters_default_constructible(Estimator.__name__, Estimator())


def test_identifier_tuples_match_array_tuples(Estimator):
    X, idx = make_tuples(Estimator)
    a = fast_instance(Estimator).fit(X[idx])
    b = fast_instance(Estimator, preprocessor=X).fit(idx)
    names = np.array([f"point-{i}" for i in range(len(X))])
    lookup = {name: i for i, name in enumerate(names)}
    c = fast_instance(Estimator, preprocessor=lambda ids: X[[lookup[i] for i in ids]])
    c.fit(names[idx])
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.components_, c.components_)
    np.testing.assert_array_equal(a.predict(X[idx]), b.predict(idx))
    np.testing.assert_array_equal(a.predict(X[idx]), c.predict(names[idx]))


def test_negative_labels_reverse_the_order(Estimator):
    X, idx = make_tuples(Estimator)
    T = X[idx]
    flip = np.arange(len(T)) % 3 == 0
    order = [0, 2, 1] if Estimator._tuple_size == 3 else [2, 3, 0, 1]
    mixed = np.where(flip[:, None, None], T[:, order], T)
    y = np.where(flip, -1, 1)
    before = mixed.copy()
    a = fast_instance(Estimator).fit(T)
    b = fast_instance(Estimator).fit(mixed, y)
    np.testing.assert_array_equal(mixed, before)  # the caller's array is untouched
    np.testing.assert_allclose(a.components_, b.components_, rtol=1e-10)
    assert b.score(mixed, y) == pytest.approx(a.score(T))


def test_comparison_surface(Estimator):
    X, idx = make_tuples(Estimator)
    T = X[idx]
    est = fast_instance(Estimator).fit(T)
    np.testing.assert_array_equal(est.classes_, [-1, 1])
    (a, b), (c, d) = est._compared
    dist = est.pair_distance
    margin = dist(T[:, [c, d]]) - dist(T[:, [a, b]])
    np.testing.assert_allclose(est.decision_function(T), margin, rtol=1e-10,
                               atol=1e-12)
    pred = est.predict(T)
    np.testing.assert_array_equal(pred, np.where(margin > 0, 1, -1))
    assert est.score(T) == pytest.approx(np.mean(pred == 1))
    assert est.score(T, -np.ones(len(T))) == pytest.approx(np.mean(pred == -1))
    assert est.score(T) > 0.8


def test_round_trips_and_cross_validation(Estimator):
    X, idx = make_tuples(Estimator)
    T = X[idx]
    est = fast_instance(Estimator).fit(T)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.components_, est.components_)
    np.testing.assert_array_equal(again.predict(T), est.predict(T))
    refit = clone(est).fit(T)
    np.testing.assert_array_equal(refit.components_, est.components_)
    scores = cross_val_score(fast_instance(Estimator), T, cv=3)
    assert np.all((scores >= 0) & (scores <= 1))


def test_tuple_input_errors(Estimator):
    X, idx = make_tuples(Estimator)
    T = X[idx]
    k = Estimator._tuple_size
    est = fast_instance(Estimator)
    with pytest.raises(ValueError, match=re.escape(f"tuples of {k} points; got "
                                                   f"tuples of size {k - 1}")):
        est.fit(T[:, :-1])
    with pytest.raises(ValueError, match="need a preprocessor"):
        est.fit(idx)
    with pytest.raises(ValueError, match=re.escape("labels must be -1 or +1")):
        est.fit(T, np.zeros(len(T)))
    bad = T.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(bad)
    with pytest.raises(TypeError, match="sparse input is not supported"):
        import scipy.sparse

        est.fit(scipy.sparse.csr_matrix(idx), None)
    est.fit(T)
    with pytest.raises(ValueError, match=re.escape(f"was fitted with {X.shape[1]}")):
        est.predict(T[:, :, :-1])
