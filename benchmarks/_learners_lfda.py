"""LFDA rows for bench_estimators.py (metric-learn's LFDA as reference).

Both with their defaults: all components, the 'weighted' embedding, and the
7th neighbour for the local scale (metric-learn's ``min(7, n_features − 1)`` is
7 on every benchmark set). A metric-learn fit whose ``components_`` are not
finite (NaN, complex) is reported as an error row instead of a 3-NN accuracy.
"""

import numpy as np


def _mlearn():
    from mlearn import LFDA

    return LFDA()


class _MetricLearn:
    def __init__(self):
        from metric_learn import LFDA

        self.est_ = LFDA()

    def fit(self, X, y):
        L = self.est_.fit(X, y).components_
        if np.iscomplexobj(L) or not np.all(np.isfinite(L)):
            raise ValueError("components_ not finite/real (NaN or complex)")
        return self

    def transform(self, X):
        return self.est_.transform(X)


LEARNERS = {"LFDA": {"mlearn": _mlearn, "metric-learn": _MetricLearn}}
