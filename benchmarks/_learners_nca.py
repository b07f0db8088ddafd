"""NCA rows for bench_estimators.py: mlearn vs scikit-learn vs metric-learn 0.7.0.

All three run the same objective (minus the expected number of correctly
classified samples, not divided by n) from the same start (``init='auto'``)
with the same L-BFGS-B settings: ``max_iter=50`` and ``tol=1e-5`` (scikit-learn's
defaults; metric-learn's defaults are ``max_iter=100, tol=None``), so they take
the same iterates and the ratio of fit times is the ratio of the cost of one
evaluation. mlearn runs on one thread (its default ``n_jobs=None``); the other
two use whatever threads their BLAS takes.
"""


def _mlearn():
    from mlearn import NCA

    return NCA(max_iter=50, tol=1e-5, random_state=0)


def _sklearn():
    from sklearn.neighbors import NeighborhoodComponentsAnalysis

    return NeighborhoodComponentsAnalysis(max_iter=50, tol=1e-5, random_state=0)


def _metric_learn():
    from metric_learn import NCA

    return NCA(max_iter=50, tol=1e-5, random_state=0)


LEARNERS = {
    "NCA": {"mlearn": _mlearn, "scikit-learn": _sklearn,
            "metric-learn": _metric_learn},
}
