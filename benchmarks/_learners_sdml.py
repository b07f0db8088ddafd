"""SDML rows for bench_estimators.py (metric-learn 0.7's SDML_Supervised as
reference, same parameters and seed; it passes ``cov_init`` to scikit-learn's
``graphical_lasso``, which no longer takes it, so it is expected to fail)."""


def _mlearn_sdml():
    from mlearn import SDML

    return SDML(random_state=0)


def _metric_learn_sdml():
    from metric_learn import SDML_Supervised

    return SDML_Supervised(random_state=0)


LEARNERS = {
    "SDML": {"mlearn": _mlearn_sdml, "metric-learn": _metric_learn_sdml},
}
