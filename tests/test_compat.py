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
    "NCA": {"init": "auto", "n_components": None, "max_iter": 100, "tol": None,
            "verbose": False, "preprocessor": None, "random_state": None},
    "MLKR": {"n_components": None, "init": "auto", "tol": None, "max_iter": 1000,
             "verbose": False, "preprocessor": None, "random_state": None},
}
TARGETS = {"Covariance": "Covariance", "LMNN": "LMNN", "ITML": "ITMLPairs",
           "ITML_Supervised": "ITML", "MMC": "MMCPairs",
           "MMC_Supervised": "MMC", "NCA": "NCA", "MLKR": "MLKR"}


def _compat(name):
    if getattr(mlearn, TARGETS[name], None) is None:
        pytest.skip(f"mlearn.{TARGETS[name]} is not available yet")
    return getattr(ml, name)


def test_module_imports_and_lists_names():
    assert set(ml.__all__) == set(ML_SIGNATURES) | {"Constraints"}
    assert ml.Constraints is mlearn.Constraints
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


def test_missing_target_and_unsupported_names_raise_attribute_error():
    with pytest.raises(AttributeError, match=re.escape(
            "metric-learn's SDML has no counterpart in mlearn; consider "
            "mlearn.ITMLPairs")):
        ml.SDML
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
    np.testing.assert_allclose(est.components_,
                               mlearn.Covariance().fit(X).components_)
    assert clone(est).get_params() == est.get_params()
    again = pickle.loads(pickle.dumps(est))
    assert type(again) is ml.Covariance
    np.testing.assert_array_equal(again.transform(X), est.transform(X))
    with pytest.raises(ValueError, match=re.escape(
            "Covariance: preprocessor is only supported by mlearn's pair "
            "learners")):
        ml.Covariance(preprocessor=X).fit(X)
    with pytest.raises(TypeError, match="bounds"):
        ml.Covariance().fit(X, bounds=(1.0, 2.0))


def test_positional_arguments_follow_metric_learn_order():
    C = _compat("ITML_Supervised")
    assert C(0.5, 10).get_params()["max_iter"] == 10


@pytest.mark.parametrize("name", ["ITML_Supervised", "MMC_Supervised", "LMNN",
                                  "NCA", "MLKR"])
def test_supervised_equals_mlearn(name):
    C = _compat(name)
    Target = getattr(mlearn, TARGETS[name])
    X, y = load_iris(return_X_y=True)
    renamed = {"convergence_tol": "tol"}  # metric-learn name -> mlearn name
    common = {renamed.get(p, p): v for p, v in C().get_params().items()
              if renamed.get(p, p) in Target().get_params()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = C(random_state=0).fit(X, y)
        b = Target(**{**common, "random_state": 0}).fit(X, y)
    np.testing.assert_allclose(a.components_, b.components_)


def test_lmnn_renamed_and_ignored_parameters():
    C = _compat("LMNN")
    est = C(convergence_tol=1e-4)
    assert est.tol == 1e-4
    if "learn_rate" in est._ml_unsupported:
        X, y = load_iris(return_X_y=True)
        with pytest.warns(UserWarning, match="learn_rate=0.01 is ignored"):
            C(learn_rate=0.01, max_iter=5, random_state=0).fit(X, y)


@pytest.mark.parametrize("name", ["ITML", "MMC"])
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
    assert tuple(est.bounds) == (0.5, 5.0)
