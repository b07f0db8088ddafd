"""mlearn.compat.metric_learn learns metric-learn 0.7's metric and keeps its
behaviours (issue 16). metric-learn cannot be imported here: the references are
independent computations (scipy, cvxpy, brute force) or numbers recorded from
metric-learn 0.7.0 on small problems (benchmarks/compat_fidelity.py compares
the two live)."""

import pickle
import re
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.base import clone
from sklearn.datasets import load_iris

import mlearn
from mlearn.compat import metric_learn as ml

# Recorded from metric-learn 0.7.0 (sklearn 1.7.2):
#   Constraints(Y_SMALL).positive_negative_pairs(5, random_state=42)
#   Constraints(Y_SMALL).chunks(3, 2, random_state=7)
Y_SMALL = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, -1, 2, 0])
ML_PAIRS = [[11, 6, 4, 3, 7], [2, 5, 6, 5, 8], [11, 3, 7, 4, 7], [5, 1, 11, 8, 5]]
ML_CHUNKS = [-1, 2, 2, 1, 1, 0, 0, -1, -1, -1, -1, -1]
# iris, pairs = wrap_pairs(X, Constraints(y).positive_negative_pairs(15,
# random_state=0)); metric_learn.ITML(random_state=0).fit(pairs, y_pairs)
ML_ITML_BOUNDS = [0.346410161513782, 4.88651117327433]
ML_ITML_M = np.array([
    [0.6376742202582771, 0.20504535576640695, -0.5871700123629858,
     -0.30223327847889014],
    [0.20504535576640695, 0.5254313038559069, -0.34741815839212725,
     -0.29912143588292944],
    [-0.5871700123629858, -0.34741815839212725, 0.7729579727478636,
     0.27336971692147255],
    [-0.30223327847889014, -0.29912143588292944, 0.27336971692147255,
     1.0589167733688913]])
# metric_learn.RCA_Supervised(n_chunks=30, chunk_size=2, random_state=0) on
# iris, .get_mahalanobis_matrix(); then with every third label set to -1
ML_RCA_M = np.array([
    [25.30194590930634, -20.58126126297302, -24.178142306725547, 29.859374937984136],
    [-20.58126126297302, 42.993751422578605, 18.254432860161614, -53.53366171063249],
    [-24.178142306725547, 18.254432860161614, 57.02339879029853, -90.33008551128759],
    [29.859374937984136, -53.53366171063249, -90.33008551128759, 267.01446571834543]])
ML_RCA_M_UNLABELLED = np.array([
    [31.591515333481162, -5.376916376498838, -24.914245356110463, 9.033895001748858],
    [-5.376916376498838, 23.766714748211918, 1.744900282667147, -18.50792611629667],
    [-24.914245356110463, 1.744900282667147, 43.981440829026326, -43.47430274052892],
    [9.033895001748858, -18.50792611629667, -43.47430274052892, 167.44750792922542]])
# metric_learn.MMC(random_state=0).fit(pairs, y_pairs): Σ_D d / √Σ_S d²
ML_MMC_OBJECTIVE = 40.10553942071064


@pytest.fixture(scope="module")
def iris_pairs():
    X, y = load_iris(return_X_y=True)
    a, b, c, d = ml.Constraints(y).positive_negative_pairs(15, random_state=0)
    return ml.wrap_pairs(X, (a, b, c, d))


def _mmc_objective(M, P, y):
    V = P[:, 0] - P[:, 1]
    d2 = np.clip(np.einsum("ij,jk,ik->i", V, M, V), 0, None)
    return np.sqrt(d2[y == -1]).sum() / np.sqrt(d2[y == 1].sum())


def test_constraints_draw_metric_learns_pairs_and_chunks():
    c = ml.Constraints(Y_SMALL)
    got = c.positive_negative_pairs(5, random_state=42)
    assert [v.tolist() for v in got] == ML_PAIRS
    assert c.chunks(3, 2, random_state=7).tolist() == ML_CHUNKS
    with pytest.warns(UserWarning, match=re.escape(
            "Only generated 30 positive constraints (requested 40)")):
        a, b, c_, d = c.positive_negative_pairs(40, same_length=True,
                                                random_state=0)
    assert len(a) == len(c_)
    assert np.all(Y_SMALL[a] == Y_SMALL[b]) and np.all(Y_SMALL[c_] != Y_SMALL[d])
    assert np.all(Y_SMALL[np.r_[a, b, c_, d]] >= 0)


def test_itml_bounds_metric_learn_rule(iris_pairs):
    P, y = iris_pairs
    pts = np.unique(P.reshape(-1, 4), axis=0)
    expected = np.percentile(cdist(pts, pts), (5, 95))  # zeros included
    est = mlearn.ITMLPairs(gamma=1.0, bounds="metric_learn").fit(P, y)
    np.testing.assert_allclose(est.bounds_, expected, rtol=1e-12)
    np.testing.assert_allclose(est.bounds_, ML_ITML_BOUNDS, rtol=1e-12)
    # native default: percentiles of squared distances of the pairs
    V = P[:, 0] - P[:, 1]
    sq = np.sum(V * V, axis=1)
    native = mlearn.ITMLPairs().fit(P, y)
    np.testing.assert_allclose(native.bounds_,
                               np.percentile(sq[sq > 0], (5, 95)), rtol=1e-12)


def test_itml_compat_learns_metric_learns_matrix(iris_pairs):
    P, y = iris_pairs
    est = ml.ITML(random_state=0).fit(P, y)
    np.testing.assert_allclose(est.bounds_, ML_ITML_BOUNDS, rtol=1e-12)
    np.testing.assert_allclose(est.get_mahalanobis_matrix(), ML_ITML_M, rtol=1e-8,
                               atol=1e-10)
    # dissimilar pairs given first: metric-learn handles similar pairs first
    # (the projections' order moves M within the solver tolerance), so does compat
    perm = np.r_[np.flatnonzero(y == -1), np.flatnonzero(y == 1)]
    again = ml.ITML(random_state=0).fit(P[perm], y[perm])
    np.testing.assert_allclose(again.get_mahalanobis_matrix(), ML_ITML_M,
                               rtol=1e-8, atol=1e-10)
    # supervised twin: metric-learn's pairs, then the same problem
    X, Y = load_iris(return_X_y=True)
    sup = ml.ITML_Supervised(n_constraints=15, random_state=0).fit(X, Y)
    np.testing.assert_allclose(sup.get_mahalanobis_matrix(), ML_ITML_M,
                               rtol=1e-8, atol=1e-10)


def test_mmc_compat_reaches_metric_learns_objective(iris_pairs):
    cp = pytest.importorskip("cvxpy")
    P, y = iris_pairs
    V = P[:, 0] - P[:, 1]
    Vs, Vd = V[y == 1], V[y == -1]
    M = cp.Variable((4, 4), PSD=True)
    prob = cp.Problem(
        cp.Maximize(cp.sum(cp.sqrt(cp.sum(cp.multiply(Vd @ M, Vd), axis=1)))),
        [cp.sum(cp.multiply(Vs @ M, Vs)) <= 1])
    prob.solve()
    best = _mmc_objective(M.value, P, y)
    est = ml.MMC(random_state=0).fit(P, y)
    f = _mmc_objective(est.get_mahalanobis_matrix(), P, y)
    assert f >= ML_MMC_OBJECTIVE
    assert f >= best * (1 - 2e-3)
    # metric-learn's scale: Σ_S d² = Σ_S d²_identity / 100
    sim = np.sum(est.pair_distance(P[y == 1]) ** 2)
    np.testing.assert_allclose(sim, np.sum(Vs * Vs) / 100, rtol=1e-10)
    # the native default (proximal term) stops short of Xing et al.'s optimum
    native = mlearn.MMCPairs(random_state=0).fit(P, y)
    assert _mmc_objective(native.get_mahalanobis_matrix(), P, y) < 0.95 * f


def test_lmnn_compat_parameters_mean_what_they_meant():
    X, y = load_iris(return_X_y=True)
    a = ml.LMNN(random_state=0).fit(X, y)
    with pytest.warns(UserWarning, match="convergence_tol=0.1 is ignored"):
        b = ml.LMNN(convergence_tol=0.1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.components_, b.components_)
    # converged by L-BFGS's own criterion well before max_iter
    assert a.n_iter_ < a.max_iter == 1000
    early = mlearn.LMNN(tol=1e-3, max_iter=1000, random_state=0).fit(X, y)
    assert a.opt_result_.fun <= early.opt_result_.fun


def test_covariance_divisor_as_metric_learn():
    X = np.random.RandomState(0).normal(size=(30, 3))
    M = ml.Covariance().fit(X).get_mahalanobis_matrix()
    np.testing.assert_allclose(M, np.linalg.inv(np.cov(X, rowvar=False)),
                               rtol=1e-10)
    native = mlearn.Covariance().fit(X).get_mahalanobis_matrix()
    np.testing.assert_allclose(native, M * 30 / 29, rtol=1e-10)


def test_get_metric_accepts_array_likes_and_squared_keyword():
    X, y = load_iris(return_X_y=True)
    est = mlearn.Covariance().fit(X)
    M = est.get_mahalanobis_matrix()
    f = est.get_metric()
    u, v = [1, 2, 3, 4], (0.5, 0, 1, 2)
    diff = np.subtract(u, v)
    np.testing.assert_allclose(f(u, v), np.sqrt(diff @ M @ diff), rtol=1e-12)
    np.testing.assert_allclose(f(u, v, squared=True), diff @ M @ diff, rtol=1e-12)
    np.testing.assert_allclose(f(np.array(u), np.array([[0.5, 0, 1, 2]])),
                               f(u, v), rtol=1e-15)
    g = est.get_metric(squared=True)
    np.testing.assert_allclose(g(u, v), diff @ M @ diff, rtol=1e-12)
    np.testing.assert_allclose(g(u, v, squared=False), f(u, v), rtol=1e-15)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(f))(u, v), f(u, v))
    with pytest.raises(ValueError, match=re.escape("u and v must be 1-D")):
        f(np.ones((2, 4)), np.ones(4))


def test_f_beta_zero_is_precision():
    X, y = load_iris(return_X_y=True)
    a, b, c, d = ml.Constraints(y).positive_negative_pairs(60, random_state=1)
    P, py = ml.wrap_pairs(X, (a, b, c, d))
    est = ml.ITML(random_state=0).fit(P, py)
    Xt = X + np.random.RandomState(3).normal(scale=0.6, size=X.shape)
    Pt = Xt[np.vstack([np.c_[a, b], np.c_[c, d]])]
    est.calibrate_threshold(Pt, py, strategy="f_beta", beta=0)
    dist = est.pair_distance(Pt)
    pred = est.predict(Pt)
    got = np.mean(py[pred == 1] == 1)
    # brute force: the best precision over every threshold (some kept pair)
    best = max(np.mean(py[dist <= t] == 1) for t in dist)
    assert got == best
    with pytest.raises(ValueError, match=re.escape("beta must be a number >= 0")):
        est.calibrate_threshold(Pt, py, strategy="f_beta", beta=-1)


def test_calibration_params_checked_before_fit(monkeypatch, iris_pairs):
    P, y = iris_pairs

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran before calibration_params were checked")

    monkeypatch.setattr(mlearn.ITMLPairs, "_fit_tuples", no_fit)
    C = ml.ITML
    with pytest.raises(ValueError, match=re.escape(
            "strategy 'max_tpr' needs min_rate in [0, 1], got None.")):
        C().fit(P, y, calibration_params={"strategy": "max_tpr"})
    with pytest.raises(ValueError, match="strategy must be one of"):
        C().fit(P, y, calibration_params={"strategy": "best"})
    with pytest.raises(TypeError, match=re.escape("unknown keys ['rate']")):
        C().fit(P, y, calibration_params={"rate": 0.5})


def test_supervised_compat_resolve_identifiers_through_preprocessor():
    X, y = load_iris(return_X_y=True)
    ids = np.arange(X.shape[0])
    for name, kw in [("LMNN", {"max_iter": 5}), ("Covariance", {}),
                     ("ITML_Supervised", {"max_iter": 10})]:
        C = getattr(ml, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = C(preprocessor=X, random_state=0, **kw).fit(ids, y)
            b = C(random_state=0, **kw).fit(X, y)
        np.testing.assert_allclose(a.components_, b.components_)
        np.testing.assert_allclose(a.transform(ids[:7]), b.transform(X[:7]))
        np.testing.assert_allclose(a.transform(X[:7]), b.transform(X[:7]))
    names = np.array([f"flower-{i}" for i in ids])
    lookup = {n: X[i] for i, n in enumerate(names)}
    est = ml.Covariance(preprocessor=lambda keys: np.array([lookup[k] for k in keys]))
    est.fit(names)
    np.testing.assert_allclose(est.transform(names[:3]),
                               ml.Covariance().fit(X).transform(X[:3]))


def test_dataframe_preprocessor_names_the_features(iris_pairs):
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    idx = np.array([[0, 1], [50, 51], [0, 60], [1, 120], [2, 3], [100, 140]])
    py = np.array([1, 1, -1, -1, 1, 1])
    for C in (mlearn.ITMLPairs, ml.MMC):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            est = C(preprocessor=X).fit(idx, py)
            est.transform(X)
        assert list(est.feature_names_in_) == list(X.columns)
        est.set_params(preprocessor=X.to_numpy()).fit(idx, py)
        assert not hasattr(est, "feature_names_in_")
    assert isinstance(X, pd.DataFrame)


def test_metric_learn_module_layout_and_aliases(iris_pairs):
    from mlearn.compat.metric_learn._util import components_from_metric
    from mlearn.compat.metric_learn.base_metric import (
        MahalanobisMixin,
        _PairsClassifierMixin,
    )
    from mlearn.compat.metric_learn.constraints import Constraints, wrap_pairs
    from mlearn.compat.metric_learn.exceptions import NonPSDError

    P, y = iris_pairs
    est = ml.MMC(random_state=0).fit(P, y)
    assert isinstance(est, MahalanobisMixin) and isinstance(est, _PairsClassifierMixin)
    assert Constraints is ml.Constraints and wrap_pairs is ml.wrap_pairs
    with pytest.warns(FutureWarning, match="score_pairs will be deprecated"):
        s = est.score_pairs(P[:5])
    np.testing.assert_array_equal(s, est.pair_distance(P[:5]))
    M = est.get_mahalanobis_matrix()
    L = components_from_metric(M)
    np.testing.assert_allclose(L.T @ L, M, rtol=1e-8, atol=1e-12)
    with pytest.raises(NonPSDError, match="not positive semidefinite"):
        components_from_metric(np.diag([1.0, -1.0]))


def test_deprecated_aliases_as_metric_learn():
    from sklearn.base import clone

    X, y = load_iris(return_X_y=True)
    with pytest.warns(FutureWarning, match='"num_constraints" parameter has been'):
        est = ml.ITML_Supervised(num_constraints=30, random_state=0)
    assert est.n_constraints == 30 and est.num_constraints == "deprecated"
    assert clone(est).get_params() == est.get_params()
    with pytest.warns(FutureWarning, match='"k" parameter has been renamed'):
        assert ml.LMNN(k=4).n_neighbors == 4
    with pytest.warns(FutureWarning, match='"convergence_threshold"'):
        assert ml.MMC(convergence_threshold=0.1).tol == 0.1
    c = ml.Constraints(y)
    with pytest.warns(FutureWarning, match='"num_constraints"'):
        a = c.positive_negative_pairs(num_constraints=12, random_state=0)
    b = c.positive_negative_pairs(12, random_state=0)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    with pytest.warns(FutureWarning, match='"num_chunks"'):
        ch = c.chunks(num_chunks=5, chunk_size=3, random_state=0)
    np.testing.assert_array_equal(ch, c.chunks(5, 3, random_state=0))
    pairs = X[np.array([[0, 1], [0, 60]])]
    fitted = ml.ITML(max_iter=5).fit(np.r_[pairs, pairs], [1, -1, 1, -1])
    with pytest.raises(ValueError, match="threshold must be a real number"):
        fitted.set_threshold(None)


# every deprecated alias in metric-learn 0.7.0's constructors (its source:
# lmnn.py, itml.py, mmc.py, sdml.py, lsml.py, rca.py), with the new name
ML_DEPRECATED = {
    "LMNN": {"k": "n_neighbors"},
    "ITML": {"convergence_threshold": "tol"},
    "ITML_Supervised": {"num_constraints": "n_constraints",
                        "convergence_threshold": "tol"},
    "MMC": {"convergence_threshold": "tol"},
    "MMC_Supervised": {"num_constraints": "n_constraints",
                       "convergence_threshold": "tol"},
    "SDML_Supervised": {"num_constraints": "n_constraints"},
    "LSML_Supervised": {"num_constraints": "n_constraints"},
    "RCA_Supervised": {"num_chunks": "n_chunks"},
}


@pytest.mark.parametrize("name", sorted(ML_DEPRECATED))
def test_every_deprecated_alias_of_metric_learn_is_accepted(name):
    Est = getattr(ml, name)
    for alias, new in ML_DEPRECATED[name].items():
        assert Est().get_params()[alias] == "deprecated"
        with pytest.warns(FutureWarning, match=f'"{alias}" parameter has been '
                                               f'renamed to "{new}"'):
            est = Est(**{alias: 7})
        assert getattr(est, new) == 7 and getattr(est, alias) == "deprecated"
        assert clone(est).get_params() == est.get_params()


def test_rca_supervised_draws_metric_learns_chunks():
    X, y = load_iris(return_X_y=True)
    est = ml.RCA_Supervised(n_chunks=30, chunk_size=2, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.get_mahalanobis_matrix(), ML_RCA_M, rtol=1e-10)
    # negative labels mark unlabelled points, as in metric-learn; float labels
    # with integral values draw the same chunks
    y_part = y.copy()
    y_part[::3] = -1
    for labels in (y_part, y_part.astype(float)):
        est = ml.RCA_Supervised(n_chunks=30, chunk_size=2, random_state=0)
        np.testing.assert_allclose(est.fit(X, labels).get_mahalanobis_matrix(),
                                   ML_RCA_M_UNLABELLED, rtol=1e-10)
    # string labels (metric-learn cannot cast them) draw from their codes
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est = ml.RCA_Supervised(n_chunks=30, chunk_size=2, random_state=0)
    np.testing.assert_allclose(est.fit(X, names).get_mahalanobis_matrix(), ML_RCA_M,
                               rtol=1e-10)


def test_rca_supervised_num_chunks_fits_as_n_chunks():
    # metric-learn's older walkthrough: RCA_Supervised(num_chunks=30, chunk_size=2)
    X, y = load_iris(return_X_y=True)
    with pytest.warns(FutureWarning, match='"num_chunks"'):
        old = ml.RCA_Supervised(num_chunks=30, chunk_size=2, random_state=0)
    new = ml.RCA_Supervised(n_chunks=30, chunk_size=2, random_state=0)
    np.testing.assert_array_equal(old.fit(X, y).components_,
                                  new.fit(X, y).components_)


def test_itml_supervised_random_prior_as_metric_learn():
    # metric_learn.ITML_Supervised(prior='random', n_constraints=15,
    # random_state=3).fit(*load_iris(return_X_y=True)): the integer seed
    # drives the pair sampler and the prior separately
    expected = np.array([
        [0.23420868824026966, -0.01819264660894144, -0.34530680879494563,
         -0.12125684851856844],
        [-0.01819264660894144, 0.29816733003415846, -0.12774093826532762,
         -0.21975326922337413],
        [-0.34530680879494563, -0.12774093826532762, 0.8675887170439465,
         0.3116019031671149],
        [-0.12125684851856844, -0.21975326922337413, 0.3116019031671149,
         0.41941126386896915]])
    X, y = load_iris(return_X_y=True)
    est = ml.ITML_Supervised(prior="random", n_constraints=15, random_state=3)
    np.testing.assert_allclose(est.fit(X, y).get_mahalanobis_matrix(), expected,
                               rtol=1e-8, atol=1e-10)
