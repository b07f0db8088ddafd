"""A metric-learn 0.7 user's script, with only the import changed, runs to the
end on the current scikit-learn: every class of mlearn.compat.metric_learn, used
the way metric-learn's walkthrough and docs use it."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from mlearn.compat import metric_learn  # was: import metric_learn


def _data():
    X, y = load_iris(return_X_y=True)
    return X, y


def _pairs(y, random_state=0):
    c = metric_learn.Constraints(y)
    a, b, c_, d = c.positive_negative_pairs(40, same_length=True,
                                            random_state=random_state)
    pairs = np.vstack([np.column_stack([a, b]), np.column_stack([c_, d])])
    labels = np.r_[np.ones(len(a)), -np.ones(len(c_))]
    return pairs, labels


# (class name, constructor arguments, how it is fitted)
SCRIPT = [
    ("Covariance", {}, "unsupervised"),
    ("LMNN", {"n_neighbors": 5, "learn_rate": 1e-6}, "supervised"),
    ("ITML_Supervised", {}, "supervised"),
    ("MMC_Supervised", {}, "supervised"),
    ("SDML_Supervised", {"sparsity_param": 0.1, "balance_param": 0.0015,
                         "prior": "covariance"}, "supervised"),
    ("LSML_Supervised", {"tol": 0.0001, "max_iter": 10000, "prior": "covariance"},
     "supervised"),
    ("NCA", {"max_iter": 1000}, "supervised"),
    ("LFDA", {"k": 2, "n_components": 2}, "supervised"),
    ("RCA_Supervised", {"n_chunks": 30, "chunk_size": 2}, "supervised"),
    ("SCML_Supervised", {"random_state": 0}, "supervised"),
    ("MLKR", {}, "regression"),
    ("ITML", {}, "pairs"),
    ("MMC", {}, "pairs"),
    ("SDML", {"prior": "covariance", "balance_param": 1e-5}, "pairs"),
    ("LSML", {}, "quadruplets"),
    ("SCML", {"random_state": 0}, "triplets"),
    ("RCA", {}, "chunks"),
]


def test_script_covers_every_compat_class():
    # every metric-learn 0.7 learner: the mapped ones and any still missing
    names = set(metric_learn.__all__) - {"Constraints"}
    assert {name for name, _, _ in SCRIPT} == names | set(
        metric_learn._NOT_IN_MLEARN)


@pytest.mark.parametrize("name, params, how", SCRIPT, ids=[s[0] for s in SCRIPT])
def test_metric_learn_script(name, params, how):
    if name not in metric_learn.__all__:
        pytest.skip(f"metric-learn's {name} is not mapped by this build")
    Learner = getattr(metric_learn, name)
    X, y = _data()
    learner = Learner(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes are not the point
        if how == "unsupervised":
            Xt = learner.fit_transform(X)
        elif how == "supervised":
            Xt = learner.fit_transform(X, y)
            pipe = make_pipeline(Learner(**params), KNeighborsClassifier())
            assert cross_val_score(pipe, X, y, cv=3).mean() > 0.6
        elif how == "regression":
            Xr, yr = make_regression(n_samples=100, n_informative=3, n_features=5,
                                     random_state=0)
            Xt = learner.fit_transform(Xr, yr)
            X = Xr
        elif how == "pairs":
            pairs, labels = _pairs(y)
            learner = Learner(preprocessor=X, **params)
            learner.fit(pairs, labels)
            Xt = learner.transform(X)
            assert learner.predict(pairs).shape == (len(pairs),)
            assert 0.5 < learner.score(pairs, labels) <= 1.0
            learner.calibrate_threshold(pairs, labels, strategy="f_beta", beta=1)
            assert np.isfinite(learner.threshold_)
        elif how == "quadruplets":
            pairs, _ = _pairs(y)
            n = len(pairs) // 2
            quadruplets = np.column_stack([pairs[:n], pairs[n:2 * n]])
            learner = Learner(preprocessor=X, **params)
            learner.fit(quadruplets)
            Xt = learner.transform(X)
            assert learner.score(quadruplets) > 0.5
        elif how == "triplets":
            triplets = metric_learn.Constraints(y).generate_knntriplets(X, 2, 3)
            learner = Learner(preprocessor=X, **params)
            learner.fit(triplets)
            Xt = learner.transform(X)
            assert learner.score(triplets) > 0.5
        else:  # chunks
            chunks = metric_learn.Constraints(y).chunks(n_chunks=30, chunk_size=2,
                                                         random_state=0)
            Xt = learner.fit_transform(X, chunks)
    assert Xt.shape[0] == X.shape[0] and np.all(np.isfinite(Xt))
    M = learner.get_mahalanobis_matrix()
    assert M.shape == (X.shape[1], X.shape[1])
    metric = learner.get_metric()
    assert metric(X[0], X[1]) >= 0
    d = learner.pair_distance(np.stack([X[:5], X[5:10]], axis=1))
    np.testing.assert_allclose(d, np.linalg.norm(Xt[:5] - Xt[5:10], axis=1),
                               rtol=1e-6, atol=1e-9)
