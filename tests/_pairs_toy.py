"""A minimal pairs learner used to exercise PairsClassifierMixin on its own: all
it writes is ``_fit_tuples`` (the tuple learners' contract in mlearn.base).

It whitens the differences of the similar pairs (M = Σ_S⁻¹), so it is a real,
if simple, metric learner whose result the tests can compute independently.
"""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator

from mlearn.base import (
    MahalanobisMixin,
    PairsClassifierMixin,
    QuadrupletsClassifierMixin,
    TripletsClassifierMixin,
)
from mlearn.utils._linalg import components_from_metric
from mlearn.utils._sklearn_compat import Interval


class SimilarWhitening(PairsClassifierMixin, MahalanobisMixin, BaseEstimator):
    _parameter_constraints: dict = {
        "ridge": [Interval(Real, 0, None, closed="left")],
        "preprocessor": [None, "array-like", callable],
    }

    def __init__(self, ridge=1e-6, preprocessor=None):
        self.ridge = ridge
        self.preprocessor = preprocessor

    def _fit_tuples(self, P, y, rng):
        diff = (P[y == 1, 0] - P[y == 1, 1]).astype(np.float64)
        cov = diff.T @ diff / max(diff.shape[0], 1)
        cov.flat[:: cov.shape[0] + 1] += self.ridge
        self.components_ = components_from_metric(np.linalg.inv(cov)).astype(P.dtype)


class _CloserWhitening(MahalanobisMixin, BaseEstimator):
    """Whitens the differences of the closer compared pair of each tuple."""

    _parameter_constraints: dict = {
        "ridge": [Interval(Real, 0, None, closed="left")],
        "preprocessor": [None, "array-like", callable],
    }

    def __init__(self, ridge=1e-6, preprocessor=None):
        self.ridge = ridge
        self.preprocessor = preprocessor

    def _fit_tuples(self, T, y, rng):
        assert y is None  # oriented by the mixin
        (a, b), _ = self._compared
        diff = (T[:, a] - T[:, b]).astype(np.float64)
        cov = diff.T @ diff / diff.shape[0]
        cov.flat[:: cov.shape[0] + 1] += self.ridge
        self.components_ = components_from_metric(np.linalg.inv(cov)).astype(T.dtype)


class TripletWhitening(TripletsClassifierMixin, _CloserWhitening):
    pass


class QuadrupletWhitening(QuadrupletsClassifierMixin, _CloserWhitening):
    pass
