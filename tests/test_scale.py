"""Results must not depend on units: every scale-equivariant learner gives the
same metric (up to the scale) on X·10^±150 and beyond as on X, and degenerate
constraints are refused by name rather than answered with a silent zero."""

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from conftest import fast_instance
from mlearn import (
    ITML,
    KISSME,
    LMNN,
    MMC,
    Covariance,
    ITMLPairs,
    KISSMEPairs,
    MMCPairs,
)
from mlearn._constraints import pairs_from_labels
from mlearn.utils._scale import scale_exponent, spread

SCALES = [1e-170, 1e-150, 1e150, 1e160]
EQUIVARIANT = [Covariance, KISSME, ITML, MMC, KISSMEPairs, ITMLPairs, MMCPairs]


def _data():
    X, y = make_classification(200, 6, n_informative=3, n_redundant=1,
                               n_classes=3, random_state=0)
    return StandardScaler().fit_transform(X), y


def _fit(Estimator, X, y, idx, pair_y):
    est = fast_instance(Estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if Estimator._kind == "pairs":
            return est.fit(X[idx], pair_y)
        return est.fit(X, y)


def _relative_distances(est, X):
    """Distances of 100 fixed pairs, divided by their largest (unit-free)."""
    T = est.transform(X)
    T = T / np.max(np.abs(T))
    d = np.linalg.norm(T[:100] - T[100:], axis=1)
    return d / d.max()


@pytest.mark.parametrize("Estimator", EQUIVARIANT, ids=lambda E: E.__name__)
@pytest.mark.parametrize("scale", SCALES)
def test_equivariant_learners_ignore_units(Estimator, scale):
    X, y = _data()
    idx, pair_y = pairs_from_labels(y, 150, random_state=0)
    ref = _relative_distances(_fit(Estimator, X, y, idx, pair_y), X)
    est = _fit(Estimator, X * scale, y, idx, pair_y)
    assert np.all(np.isfinite(est.components_))
    np.testing.assert_allclose(_relative_distances(est, X * scale), ref,
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-150, 1e150, 1e160])
def test_lmnn_at_extreme_scales(scale):
    X, y = make_classification(300, 8, n_informative=3, n_redundant=0,
                               n_classes=3, class_sep=0.8, random_state=0)
    X = StandardScaler().fit_transform(X)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y,
                                          random_state=0)

    def held_out(c):
        est = LMNN(max_iter=30, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(Xtr * c, ytr)
        knn = KNeighborsClassifier(3).fit(est.transform(Xtr * c), ytr)
        return est, knn.score(est.transform(Xte * c), yte)

    _, acc1 = held_out(1.0)
    s1 = spread(Xtr)
    unit, _ = held_out(1.0 / s1)  # the same data in units of its spread
    est, acc = held_out(scale)
    assert est.n_iter_ > 0 and np.all(np.isfinite(est.components_))
    # far outside ordinary units LMNN solves in units of the data's spread:
    # the map is the unit-spread one divided by the spread
    s = spread(Xtr * scale)
    np.testing.assert_allclose(est.components_ * s, unit.components_,
                               rtol=1e-6, atol=1e-9)
    assert acc == acc1  # standardised data: its own units are nearly those


def test_scale_exponent():
    X = np.random.RandomState(0).normal(size=(50, 3))
    assert scale_exponent(X) == 0
    assert scale_exponent(X * 2.0**-600) == -600
    assert scale_exponent(np.zeros((4, 2))) == 0
    assert scale_exponent(np.full((1, 3), 2.0**100)) == 101  # one row: magnitude


def test_identical_similar_pairs_are_refused():
    rs = np.random.RandomState(0)
    a = rs.normal(size=(30, 3))
    pairs = np.concatenate([np.stack([a, a], axis=1),
                            np.stack([a, rs.normal(size=a.shape)], axis=1)])
    y = np.r_[np.ones(30), -np.ones(30)]
    with pytest.raises(ValueError, match=re.escape(
            "MMC needs at least one similar pair of distinct points; got 30 "
            "similar pairs, all of identical points (the problem is unbounded).")):
        MMCPairs().fit(pairs, y)
    with pytest.raises(ValueError, match=re.escape(
            "every similar pair joins two identical points, so Σ of the similar "
            "differences is zero and KISSME's metric is undefined.")):
        KISSMEPairs().fit(pairs, y)
    dup = np.repeat(a[:10], 2, axis=0)  # classes made of duplicated points only
    with pytest.raises(ValueError, match="every similar pair joins two identical"):
        KISSME().fit(dup[[0, 1, 4, 5]], [0, 0, 1, 1])


def test_nearly_singular_scatter_gives_the_pseudo_inverse():
    # a redundant feature: Cholesky "succeeds" on the round-off, but the metric
    # must be the pseudo-inverse's, the same at every scale
    X, y = make_classification(300, 10, n_informative=4, n_redundant=2,
                               n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    ref = KISSME().fit(X, y).get_mahalanobis_matrix()
    for c in (1e-3, 1e20):
        M = KISSME().fit(X * c, y).get_mahalanobis_matrix() * c * c
        np.testing.assert_allclose(M, ref, rtol=1e-6, atol=1e-8 * np.abs(ref).max())


# SCML's stochastic steps follow the data's spread to the last bit: solved in
# units of the spread far from ordinary units, and of the nearest power of two
# within them, its held-out accuracy can move by a few test points between
# the two (its metric stays finite and fitted; see test_scml.py).
NOT_UNIT_FREE = {"SCML"}


def _sweep_learners():
    from mlearn.utils.discovery import all_estimators

    return [E for name, E in all_estimators(("supervised", "chunks"))
            if name not in NOT_UNIT_FREE]


@pytest.mark.parametrize("Estimator", _sweep_learners(), ids=lambda E: E.__name__)
def test_held_out_accuracy_does_not_depend_on_units(Estimator):
    X, y = make_classification(300, 8, n_informative=4, n_redundant=0,
                               n_classes=3, class_sep=1.0, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y,
                                          random_state=0)
    # standardised on the training points: their spread is 1, so the learners
    # tied to units solve the same problem at every scale
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)

    def held_out(c):
        est = fast_instance(Estimator)
        if Estimator.__name__ == "RCA_Supervised":
            est.set_params(n_chunks=50)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(Xtr * c, ytr)
        T, Te = est.transform(Xtr * c), est.transform(Xte * c)
        assert np.all(np.isfinite(T))
        # kNN on the transformed points, brought to unit size first (the
        # distances of a metric that keeps the data's units overflow in
        # scikit-learn's kNN beyond 1e154, whatever the learner)
        scale = np.max(np.abs(T))
        return KNeighborsClassifier(3).fit(T / scale, ytr).score(Te / scale, yte)

    ref = held_out(1.0)
    for c in (1e-150, 1e150):
        assert held_out(c) == ref, c


@pytest.mark.parametrize("name", ["LMNN", "NCA", "MLKR"])
def test_callback_sees_the_map_in_the_data_units(name):
    # solved in working units at this scale; the callback and components_
    # must both be in the data's units
    import mlearn

    X, y = make_classification(120, 5, n_informative=3, n_redundant=0,
                               n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X) * 1e150
    if name == "MLKR":
        y = X[:, 0] / 1e150 + X[:, 1] / 1e150
    seen = []
    est = getattr(mlearn, name)(max_iter=5, random_state=0,
                                callback=lambda L, it: seen.append(L.copy()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    assert seen
    np.testing.assert_allclose(seen[-1], est.components_, rtol=1e-12)
