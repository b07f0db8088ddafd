"""ITML and MMC rows for bench_estimators.py (metric-learn 0.7's supervised
learners as reference, same number of constraints and seed)."""


def _mlearn_itml():
    from mlearn import ITML

    return ITML(random_state=0)


def _metric_learn_itml():
    from metric_learn import ITML_Supervised

    return ITML_Supervised(random_state=0)


def _mlearn_mmc():
    from mlearn import MMC

    return MMC(random_state=0)


def _metric_learn_mmc():
    from metric_learn import MMC_Supervised

    return MMC_Supervised(random_state=0)


LEARNERS = {
    "ITML": {"mlearn": _mlearn_itml, "metric-learn": _metric_learn_itml},
    "MMC": {"mlearn": _mlearn_mmc, "metric-learn": _metric_learn_mmc},
}
