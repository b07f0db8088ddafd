"""Checks every exported pairs learner passes (and the mixin on a toy learner).

Pairs learners take 3-D input, so scikit-learn's ``parametrize_with_checks``
(which feeds 2-D X) does not apply; the shape-independent sklearn checks run
here, plus round trips, index-vs-array pairs and the classifier surface.
"""

import pickle
import re

import numpy as np
import pytest
from _pairs_toy import SimilarWhitening
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import cross_val_score
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from conftest import fast_instance, make_blobs_data, pairs_estimators
from mlearn._constraints import pairs_from_labels

PAIRS = [SimilarWhitening] + pairs_estimators()


def make_pairs(n_per_class=25, noise_dims=2, n_constraints=60, random_state=0):
    X, y = make_blobs_data(n_per_class=n_per_class, noise_dims=noise_dims,
                           random_state=random_state)
    idx, pair_y = pairs_from_labels(y, n_constraints, random_state=random_state)
    return X, idx, pair_y


@pytest.fixture(params=PAIRS, ids=lambda E: E.__name__)
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


def test_index_pairs_match_array_pairs(Estimator):
    X, idx, pair_y = make_pairs()
    a = fast_instance(Estimator).fit(X[idx], pair_y)
    b = fast_instance(Estimator, preprocessor=X).fit(idx, pair_y)
    c = fast_instance(Estimator, preprocessor=lambda i: X[i]).fit(idx, pair_y)
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.components_, c.components_)
    assert a.threshold_ == b.threshold_
    np.testing.assert_array_equal(a.predict(X[idx]), b.predict(idx))


def test_classifier_surface(Estimator):
    X, idx, pair_y = make_pairs()
    pairs = X[idx]
    est = fast_instance(Estimator).fit(pairs, pair_y)
    np.testing.assert_array_equal(est.classes_, [-1, 1])
    pred = est.predict(pairs)
    assert set(np.unique(pred)) <= {-1, 1}
    d = est.pair_distance(pairs)
    np.testing.assert_array_equal(est.decision_function(pairs), -d)
    np.testing.assert_array_equal(pred, np.where(d <= est.threshold_, 1, -1))
    assert est.score(pairs, pair_y) > 0.8
    proba = est.predict_proba(pairs)
    assert proba.shape == (len(pairs), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # the sigmoid is decreasing in the distance: closer pairs are likelier similar
    order = np.argsort(d)
    assert np.all(np.diff(proba[order, 1]) <= 1e-12)


def test_round_trips(Estimator):
    X, idx, pair_y = make_pairs()
    pairs = X[idx]
    est = fast_instance(Estimator).fit(pairs, pair_y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(pairs), est.predict(pairs))
    np.testing.assert_array_equal(again.components_, est.components_)
    refit = clone(est).fit(pairs, pair_y)
    np.testing.assert_array_equal(refit.components_, est.components_)


def test_calibrated_classifier_cv_and_log_loss(Estimator):
    X, idx, pair_y = make_pairs(n_constraints=90)
    pairs = X[idx]
    cal = CalibratedClassifierCV(fast_instance(Estimator), cv=3).fit(pairs, pair_y)
    proba = cal.predict_proba(pairs)
    assert proba.shape == (len(pairs), 2)
    scores = cross_val_score(fast_instance(Estimator), pairs, pair_y, cv=3,
                             scoring="neg_log_loss")
    assert np.all(np.isfinite(scores))


def test_pair_input_errors(Estimator):
    X, idx, pair_y = make_pairs()
    est = fast_instance(Estimator)
    with pytest.raises(ValueError, match=re.escape("pair labels must be -1")):
        est.fit(X[idx], np.where(pair_y == 1, 1, 0))
    with pytest.raises(ValueError, match="need a preprocessor"):
        est.fit(idx, pair_y)
    with pytest.raises(ValueError, match=re.escape("tuples of size 3")):
        est.fit(np.stack([X[idx[:, 0]]] * 3, axis=1), pair_y)
    with pytest.raises(ValueError, match=re.escape("pair labels contain a single")):
        est.fit(X[idx], np.ones_like(pair_y))
    with pytest.raises(ValueError, match=re.escape("got 3 pair labels for")):
        est.fit(X[idx], pair_y[:3])
    bad = X[idx].copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(bad, pair_y)
    est.fit(X[idx], pair_y)
    with pytest.raises(ValueError, match=re.escape(f"was fitted with {X.shape[1]}")):
        est.predict(X[idx][:, :, :-1])
