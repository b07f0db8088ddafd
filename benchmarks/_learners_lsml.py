"""LSML rows for bench_estimators.py (metric-learn 0.7's LSML_Supervised as
reference: same objective, same number of quadruplets, same seed).

mlearn and metric-learn draw different quadruplets from the same seed; the
row "mlearn (ml quads)" fits mlearn's solver on exactly the quadruplets
metric-learn draws, to separate the solver from the sample.
"""

import numpy as np


def _mlearn_lsml():
    from mlearn import LSML

    return LSML(random_state=0)


def _metric_learn_lsml():
    from metric_learn import LSML_Supervised

    return LSML_Supervised(random_state=0)


class _MlearnOnMetricLearnQuadruplets:
    """mlearn's LSMLQuadruplets on metric-learn's sampled quadruplets."""

    def __init__(self):
        from metric_learn.constraints import Constraints  # noqa: F401

    def fit(self, X, y):
        from metric_learn.constraints import Constraints

        from mlearn import LSMLQuadruplets

        n = 20 * np.unique(y).shape[0] ** 2
        a, b, c, d = Constraints(y).positive_negative_pairs(
            n, same_length=True, random_state=0)
        self.est_ = LSMLQuadruplets().fit(X[np.column_stack([a, b, c, d])])
        return self

    def transform(self, X):
        return self.est_.transform(X)


LEARNERS = {
    "LSML": {"mlearn": _mlearn_lsml, "metric-learn": _metric_learn_lsml,
             "mlearn (ml quads)": _MlearnOnMetricLearnQuadruplets},
}
