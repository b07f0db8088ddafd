"""SCML rows for bench_estimators.py (metric-learn 0.7's SCML_Supervised as
reference: same kNN triplets, same defaults, same seed)."""


def _mlearn_scml():
    from mlearn import SCML

    return SCML(random_state=0)


def _metric_learn_scml():
    from metric_learn import SCML_Supervised

    return SCML_Supervised(random_state=0)


LEARNERS = {
    "SCML": {"mlearn": _mlearn_scml, "metric-learn": _metric_learn_scml},
}
