"""Covariance rows for bench_estimators.py (metric-learn's Covariance as reference)."""


def _mlearn():
    from mlearn import Covariance

    return Covariance()


def _metric_learn():
    from metric_learn import Covariance

    return Covariance()


LEARNERS = {"Covariance": {"mlearn": _mlearn, "metric-learn": _metric_learn}}
