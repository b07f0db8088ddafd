"""mlearn.compat.metric_learn: metric-learn 0.7 names, parameters and defaults."""

import inspect
import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris

import mlearn
from mlearn.compat import metric_learn as ml

# metric-learn 0.7.0's constructor signatures (deprecated aliases left out).
ML_SIGNATURES = {
    "Covariance": {"preprocessor": None},
    "LMNN": {"init": "auto", "n_neighbors": 3, "min_iter": 50, "max_iter": 1000,
             "learn_rate": 1e-7, "regularization": 0.5, "convergence_tol": 0.001,
             "verbose": False, "preprocessor": None, "n_components": None,
             "random_state": None},
    "ITML": {"gamma": 1.0, "max_iter": 1000, "tol": 1e-3, "prior": "identity",
             "verbose": False, "preprocessor": None, "random_state": None},
    "ITML_Supervised": {"gamma": 1.0, "max_iter": 1000, "tol": 1e-3,
                        "n_constraints": None, "prior": "identity",
                        "verbose": False, "preprocessor": None,
                        "random_state": None},
    "MMC": {"max_iter": 100, "max_proj": 10000, "tol": 1e-3, "init": "identity",
            "diagonal": False, "diagonal_c": 1.0, "verbose": False,
            "preprocessor": None, "random_state": None},
    "MMC_Supervised": {"max_iter": 100, "max_proj": 10000, "tol": 1e-6,
                       "n_constraints": None, "init": "identity",
                       "diagonal": False, "diagonal_c": 1.0, "verbose": False,
                       "preprocessor": None, "random_state": None},
    "SDML": {"balance_param": 0.5, "sparsity_param": 0.01, "prior": "identity",
             "verbose": False, "preprocessor": None, "random_state": None},
    "SDML_Supervised": {"balance_param": 0.5, "sparsity_param": 0.01,
                        "prior": "identity", "n_constraints": None,
                        "verbose": False, "preprocessor": None,
                        "random_state": None},
    "LSML": {"tol": 1e-3, "max_iter": 1000, "prior": "identity", "verbose": False,
             "preprocessor": None, "random_state": None},
    "LSML_Supervised": {"tol": 1e-3, "max_iter": 1000, "prior": "identity",
                        "n_constraints": None, "weights": None, "verbose": False,
                        "preprocessor": None, "random_state": None},
    "LFDA": {"n_components": None, "k": None, "embedding_type": "weighted",
             "preprocessor": None},
    "RCA": {"n_components": None, "preprocessor": None},
    "RCA_Supervised": {"n_components": None, "n_chunks": 100, "chunk_size": 2,
                       "preprocessor": None, "random_state": None},
    "SCML": {"beta": 1e-5, "basis": "triplet_diffs", "n_basis": None,
             "gamma": 5e-3, "max_iter": 10000, "output_iter": 500,
             "batch_size": 10, "verbose": False, "preprocessor": None,
             "random_state": None},
    "SCML_Supervised": {"k_genuine": 3, "k_impostor": 10, "beta": 1e-5,
                        "basis": "lda", "n_basis": None, "gamma": 5e-3,
                        "max_iter": 10000, "output_iter": 500, "batch_size": 10,
                        "verbose": False, "preprocessor": None,
                        "random_state": None},
    "NCA": {"init": "auto", "n_components": None, "max_iter": 100, "tol": None,
            "verbose": False, "preprocessor": None, "random_state": None},
    "MLKR": {"n_components": None, "init": "auto", "tol": None, "max_iter": 1000,
             "verbose": False, "preprocessor": None, "random_state": None},
}
TARGETS = {"Covariance": "Covariance", "LMNN": "LMNN", "ITML": "ITMLPairs",
           "ITML_Supervised": "ITML", "MMC": "MMCPairs",
           "MMC_Supervised": "MMC"}
TARGETS.update({"SDML": "SDMLPairs", "SDML_Supervised": "SDML",
                "LSML": "LSMLQuadruplets", "LSML_Supervised": "LSML"})
TARGETS.update({"LFDA": "LFDA", "RCA": "RCA", "RCA_Supervised": "RCA_Supervised"})
TARGETS.update({"SCML": "SCMLTriplets", "SCML_Supervised": "SCML"})
TARGETS.update({"NCA": "NCA", "MLKR": "MLKR"})


def _compat(name):
    if getattr(mlearn, TARGETS[name], None) is None:
        pytest.skip(f"mlearn.{TARGETS[name]} is not available yet")
    return getattr(ml, name)


def test_module_imports_and_lists_names():
    assert set(ml.__all__) == set(ML_SIGNATURES) | {"Constraints"}
    assert issubclass(ml.Constraints, mlearn.Constraints)
    assert set(ml.__all__) <= set(dir(ml))


@pytest.mark.parametrize("name", sorted(ML_SIGNATURES))
def test_signature_and_target(name):
    C = _compat(name)
    Target = getattr(mlearn, TARGETS[name])
    assert issubclass(C, Target)
    assert C.__name__ == name and C.__module__ == "mlearn.compat.metric_learn"
    params = C().get_params()
    for p, default in ML_SIGNATURES[name].items():
        assert params[p] == default, p
    # Parameters first in metric-learn's order (positional calls keep working).
    order = list(inspect.signature(C).parameters)
    assert order[:len(ML_SIGNATURES[name])] == list(ML_SIGNATURES[name])
    assert f"mlearn.{TARGETS[name]}" in C.__doc__


def test_missing_target_and_unsupported_names_raise_attribute_error(monkeypatch):
    # every metric-learn 0.7 learner is mapped now; the mechanism stays for
    # builds or future names without a counterpart
    monkeypatch.setitem(ml._NOT_IN_MLEARN, "OASIS", ("OASIS", "mlearn.LMNN"))
    with pytest.raises(AttributeError, match=re.escape(
            "metric-learn's OASIS has no counterpart in mlearn; consider "
            "mlearn.LMNN")):
        ml.OASIS
    with pytest.raises(AttributeError, match="has no attribute 'Foo'"):
        ml.Foo
    for name, target in TARGETS.items():
        if getattr(mlearn, target, None) is None:
            with pytest.raises(AttributeError, match=re.escape(
                    f"maps to mlearn.{target}, which is not available")):
                getattr(ml, name)


def test_covariance_same_result_clone_pickle():
    X, _ = load_iris(return_X_y=True)
    est = ml.Covariance().fit(X)
    # metric-learn inverts np.cov (divisor n - 1)
    np.testing.assert_allclose(est.get_mahalanobis_matrix(),
                               np.linalg.inv(np.cov(X, rowvar=False)), rtol=1e-10)
    assert clone(est).get_params() == est.get_params()
    again = pickle.loads(pickle.dumps(est))
    assert type(again) is ml.Covariance
    np.testing.assert_array_equal(again.transform(X), est.transform(X))
    with pytest.raises(TypeError, match="bounds"):
        ml.Covariance().fit(X, bounds=(1.0, 2.0))


def test_positional_arguments_follow_metric_learn_order():
    C = _compat("ITML_Supervised")
    assert C(0.5, 10).get_params()["max_iter"] == 10


@pytest.mark.parametrize("name", ["LMNN", "LSML_Supervised", "NCA", "MLKR"])
def test_supervised_equals_mlearn(name):
    # the compat learners whose problem and sampling are mlearn's own
    C = _compat(name)
    Target = getattr(mlearn, TARGETS[name])
    X, y = load_iris(return_X_y=True)
    common = {p: v for p, v in C().get_params().items()
              if p in Target().get_params()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = C(random_state=0).fit(X, y)
        b = Target(**{**common, "random_state": 0}).fit(X, y)
    np.testing.assert_allclose(a.components_, b.components_)


def test_lmnn_renamed_and_ignored_parameters():
    C = _compat("LMNN")
    est = C(convergence_tol=1e-4)
    # metric-learn's convergence_tol is on its own objective: not L-BFGS's ftol
    assert est.tol == mlearn.LMNN().tol and est.max_iter == 1000
    X, y = load_iris(return_X_y=True)
    with pytest.warns(UserWarning, match="convergence_tol=0.0001 is ignored"):
        est.set_params(max_iter=5, random_state=0).fit(X, y)
    if "learn_rate" in est._ml_unsupported:
        X, y = load_iris(return_X_y=True)
        with pytest.warns(UserWarning, match="learn_rate=0.01 is ignored"):
            C(learn_rate=0.01, max_iter=5, random_state=0).fit(X, y)


@pytest.mark.parametrize("name", ["ITML", "MMC", "SDML"])
def test_pairs_fit_calibration_params_and_preprocessor(name):
    C = _compat(name)
    from mlearn._constraints import pairs_from_labels

    X, y = load_iris(return_X_y=True)
    idx, pair_y = pairs_from_labels(y, 80, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = C(preprocessor=X, random_state=0).fit(
            idx, pair_y, calibration_params={"strategy": "max_tpr",
                                             "min_rate": 0.9})
    ref = clone(est).set_params(preprocessor=X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(idx, pair_y)
    ref.calibrate_threshold(idx, pair_y, strategy="max_tpr", min_rate=0.9)
    assert est.threshold_ == ref.threshold_
    assert set(np.unique(est.predict(idx))) <= {-1, 1}


def test_itml_supervised_fit_bounds():
    C = _compat("ITML_Supervised")
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = C(max_iter=20, random_state=0).fit(X, y, bounds=(0.5, 5.0))
    np.testing.assert_array_equal(est.bounds_, [0.5, 5.0])
    # a fit argument, as in metric-learn: the parameters are unchanged
    assert est.get_params()["bounds"] == "metric_learn"


def test_missing_list_is_current():
    # a metric-learn name listed as missing whose mlearn target now exists
    for name, (target, _) in ml._NOT_IN_MLEARN.items():
        assert getattr(mlearn, target, None) is None, (
            f"mlearn exports {target}: map metric-learn's {name} in compat._SPECS")
        with pytest.raises(AttributeError, match="has no counterpart in mlearn"):
            getattr(ml, name)


def test_every_learner_is_reachable_from_compat():
    # iterated from the registry: a new learner joins compat, or is mlearn-only
    from mlearn.utils.discovery import all_estimators

    mlearn_only = {"KISSME", "KISSMEPairs"}
    targets = {spec[0] for spec in ml._SPECS.values()}
    for name, _ in all_estimators():
        assert name in targets | mlearn_only, (
            f"mlearn.{name} has no metric-learn name in compat._SPECS")
def test_lfda_rca_compat_equal_mlearn():
    X, y = load_iris(return_X_y=True)
    a = _compat("LFDA")(n_components=2).fit(X, y)
    # min(7, n_features - 1), and metric-learn's formulas
    b = mlearn.LFDA(n_components=2, k=3, variant="metric_learn").fit(X, y)
    np.testing.assert_allclose(a.components_, b.components_)
    chunks = ml.Constraints(y).chunks(n_chunks=20, chunk_size=2, random_state=0)
    a = _compat("RCA")().fit(X, chunks)
    np.testing.assert_allclose(a.components_, mlearn.RCA().fit(X, chunks).components_)
    # compat's RCA_Supervised draws with metric-learn's sampler: RCA on its chunks
    a = _compat("RCA_Supervised")(n_chunks=20, random_state=0).fit(X, y)
    np.testing.assert_allclose(a.components_, mlearn.RCA().fit(X, chunks).components_)
    # identifiers resolved through the preprocessor, as metric-learn does
    a = _compat("RCA")(preprocessor=X).fit(np.arange(len(X)), chunks)
    np.testing.assert_allclose(a.components_, mlearn.RCA().fit(X, chunks).components_)
