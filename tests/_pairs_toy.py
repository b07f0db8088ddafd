"""A minimal pairs learner used to exercise PairsClassifierMixin on its own.

It whitens the differences of the similar pairs (M = Σ_S⁻¹), so it is a real,
if simple, metric learner whose result the tests can compute independently.
"""

import numpy as np
from sklearn.base import BaseEstimator

from mlearn.base import MahalanobisMixin, PairsClassifierMixin
from mlearn.utils._linalg import components_from_metric


class SimilarWhitening(PairsClassifierMixin, MahalanobisMixin, BaseEstimator):
    def __init__(self, ridge=1e-6, preprocessor=None):
        self.ridge = ridge
        self.preprocessor = preprocessor

    def fit(self, pairs, y):
        P, y = self._prepare_fit_pairs(pairs, y)
        diff = (P[y == 1, 0] - P[y == 1, 1]).astype(np.float64)
        cov = diff.T @ diff / max(diff.shape[0], 1)
        cov.flat[:: cov.shape[0] + 1] += self.ridge
        self.components_ = components_from_metric(np.linalg.inv(cov)).astype(P.dtype)
        self._fit_calibration(P, y)
        return self
