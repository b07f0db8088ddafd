"""RCA rows for bench_estimators.py (metric-learn's RCA_Supervised as reference).

Both draw ``n_chunks`` chunklets of 2 points from the training labels:
metric-learn's default of 100, lowered to what the classes hold on small sets
(wine has room for 61). The draws differ between the libraries (different
samplers), so the two rows are the same method on different chunklets. A fit
whose ``components_`` are not finite is reported as an error row.
"""

import numpy as np


def _n_chunks(y):
    return int(min(100, sum(c // 2 for c in np.unique(y, return_counts=True)[1])))


class _Finite:
    def fit(self, X, y):
        L = self.make(_n_chunks(y)).fit(X, y).components_
        if np.iscomplexobj(L) or not np.all(np.isfinite(L)):
            raise ValueError("components_ not finite (NaN)")
        self.est_ = self._est
        return self

    def transform(self, X):
        return self.est_.transform(X)


class _MLearn(_Finite):
    def make(self, n_chunks):
        from mlearn import RCA_Supervised

        self._est = RCA_Supervised(n_chunks=n_chunks, random_state=0)
        return self._est


class _MetricLearn(_Finite):
    def __init__(self):
        import metric_learn  # noqa: F401  (ImportError -> "not installed")

    def make(self, n_chunks):
        from metric_learn import RCA_Supervised

        self._est = RCA_Supervised(n_chunks=n_chunks, random_state=0)
        return self._est


LEARNERS = {"RCA_Supervised": {"mlearn": _MLearn, "metric-learn": _MetricLearn}}
