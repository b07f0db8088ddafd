"""metric-learn 0.7's names on top of mlearn: change one import to migrate.

>>> from mlearn.compat.metric_learn import Covariance   # was: from metric_learn ...

Each class here is a thin subclass of its mlearn counterpart whose constructor
takes metric-learn 0.7's parameter names and defaults (plus mlearn's extra
parameters, with mlearn's defaults), and whose ``fit`` takes metric-learn's
extra fit arguments (``bounds`` for ITML, ``calibration_params`` for the pair
learners). Everything after ``fit`` is mlearn's own surface, which already
matches metric-learn's (``components_``, ``transform``, ``get_mahalanobis_matrix``,
``get_metric``, ``pair_distance``, ``pair_score``, ``predict``,
``decision_function``, ``calibrate_threshold``, ...).

================== ======================== ===================================
metric-learn 0.7   mlearn                   parameters translated
================== ======================== ===================================
Covariance         Covariance               ``preprocessor`` must be None
LMNN               LMNN                     ``convergence_tol`` -> ``tol``;
                                            ``learn_rate``, ``min_iter`` ignored
ITML               ITMLPairs                ``fit(bounds=, calibration_params=)``
ITML_Supervised    ITML                     ``fit(bounds=)``
MMC                MMCPairs                 ``fit(calibration_params=)``
MMC_Supervised     MMC                      default ``tol=1e-6`` as metric-learn
NCA                NCA                      default ``max_iter=100, tol=None``
MLKR               MLKR                     default ``max_iter=1000, tol=None``
Constraints        Constraints              same methods
================== ======================== ===================================

Classes whose mlearn counterpart is not available in this build raise an
informative ``AttributeError`` on access (the module itself always imports).
The classes are created on first access and cached, so they pickle and clone
like any estimator. metric-learn's learners that mlearn does not implement
(LFDA, RCA, LSML, SDML, SCML) raise an ``AttributeError`` naming an
alternative.
"""

import inspect
import warnings

import mlearn
from mlearn._constraints import Constraints

# name -> (mlearn target, metric-learn 0.7 parameters in order with defaults,
#          {metric-learn name: mlearn name}, {ignored name: why})
_SPECS = {
    "Covariance": ("Covariance", [("preprocessor", None)], {}, {}),
    "LMNN": (
        "LMNN",
        [("init", "auto"), ("n_neighbors", 3), ("min_iter", 50), ("max_iter", 1000),
         ("learn_rate", 1e-7), ("regularization", 0.5), ("convergence_tol", 0.001),
         ("verbose", False), ("preprocessor", None), ("n_components", None),
         ("random_state", None)],
        {"convergence_tol": "tol"},
        {"min_iter": "mlearn's L-BFGS solver stops on its own criteria",
         "learn_rate": "mlearn's L-BFGS solver chooses its own step sizes"},
    ),
    "ITML": (
        "ITMLPairs",
        [("gamma", 1.0), ("max_iter", 1000), ("tol", 1e-3), ("prior", "identity"),
         ("verbose", False), ("preprocessor", None), ("random_state", None)],
        {}, {},
    ),
    "ITML_Supervised": (
        "ITML",
        [("gamma", 1.0), ("max_iter", 1000), ("tol", 1e-3), ("n_constraints", None),
         ("prior", "identity"), ("verbose", False), ("preprocessor", None),
         ("random_state", None)],
        {}, {},
    ),
    "MMC": (
        "MMCPairs",
        [("max_iter", 100), ("max_proj", 10000), ("tol", 1e-3), ("init", "identity"),
         ("diagonal", False), ("diagonal_c", 1.0), ("verbose", False),
         ("preprocessor", None), ("random_state", None)],
        {}, {},
    ),
    "MMC_Supervised": (
        "MMC",
        [("max_iter", 100), ("max_proj", 10000), ("tol", 1e-6),
         ("n_constraints", None), ("init", "identity"), ("diagonal", False),
         ("diagonal_c", 1.0), ("verbose", False), ("preprocessor", None),
         ("random_state", None)],
        {}, {},
    ),
    "NCA": (
        "NCA",
        [("init", "auto"), ("n_components", None), ("max_iter", 100), ("tol", None),
         ("verbose", False), ("preprocessor", None), ("random_state", None)],
        {}, {},
    ),
    "MLKR": (
        "MLKR",
        [("n_components", None), ("init", "auto"), ("tol", None), ("max_iter", 1000),
         ("verbose", False), ("preprocessor", None), ("random_state", None)],
        {}, {},
    ),
}

# The classes are made on first access (module __getattr__), from _SPECS.
__all__ = ["Constraints", *sorted(_SPECS)]

_NOT_IN_MLEARN = {
    "LFDA": "mlearn.KISSME or sklearn's LinearDiscriminantAnalysis",
    "RCA": "mlearn.KISSME (also built from within-class scatter)",
    "RCA_Supervised": "mlearn.KISSME",
    "LSML": "mlearn.ITMLPairs or mlearn.MMCPairs",
    "LSML_Supervised": "mlearn.ITML",
    "SDML": "mlearn.ITMLPairs",
    "SDML_Supervised": "mlearn.ITML",
    "SCML": "mlearn.LMNN",
    "SCML_Supervised": "mlearn.LMNN",
}

_cache = {}


def __getattr__(name):
    if name in _SPECS:
        if name not in _cache:
            _cache[name] = _make_class(name, *_SPECS[name])
        return _cache[name]
    if name in _NOT_IN_MLEARN:
        raise AttributeError(
            f"metric-learn's {name} has no counterpart in mlearn; consider "
            f"{_NOT_IN_MLEARN[name]}."
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


def _make_class(name, target_name, ml_params, renames, ignored):
    Target = getattr(mlearn, target_name, None)
    if Target is None:
        raise AttributeError(
            f"{__name__}.{name} maps to mlearn.{target_name}, which is not "
            f"available in this build of mlearn."
        )
    target_params = inspect.signature(Target.__init__).parameters
    ml_names = [p for p, _ in ml_params]
    covered = {renames.get(p, p) for p in ml_names}
    # metric-learn's parameters first (its defaults), then mlearn's extras.
    params = list(ml_params) + [
        (p, v.default) for p, v in target_params.items()
        if p != "self" and p not in covered and p not in ml_names
    ]
    unsupported = {p: why for p, why in ignored.items()}
    for p in ml_names:
        target = renames.get(p, p)
        if target not in target_params and p not in unsupported:
            unsupported[p] = f"mlearn.{target_name} has no such parameter"
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
           for p, d in params]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for p, value in list(bound.arguments.items())[1:]:
            setattr(self, p, value)

    __init__.__signature__ = signature

    constraints = dict(getattr(Target, "_parameter_constraints", {}))
    for ml_name, ml_target in renames.items():
        if ml_target in constraints:
            constraints[ml_name] = constraints.pop(ml_target)
    for p in unsupported:
        constraints[p] = "no_validation"

    namespace = {
        "__init__": __init__,
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": _docstring(name, target_name, params, renames, unsupported),
        "_parameter_constraints": constraints,
        "_ml_defaults": dict(ml_params),
        "_ml_unsupported": unsupported,
        "_ml_target": Target,
        "fit": _fit,
    }
    # mlearn's code reads mlearn's names; point them at metric-learn's.
    for ml_name, ml_target in renames.items():
        namespace[ml_target] = property(
            lambda self, _n=ml_name: getattr(self, _n),
            doc=f"Alias of ``{ml_name}`` (mlearn's name).")
    return type(name, (Target,), namespace)


def _fit(self, X, y=None, bounds=None, calibration_params=None):
    """Fit as mlearn does; ``bounds`` and ``calibration_params`` as metric-learn.

    Parameters
    ----------
    X : array-like
        Points ``(n_samples, n_features)`` for supervised learners; pairs
        ``(n_pairs, 2, n_features)`` or indices ``(n_pairs, 2)`` for pair
        learners.
    y : array-like
        Class labels, or pair labels in {-1, +1}.
    bounds : array-like of two floats, default=None
        ITML only: the distance bounds (metric-learn's fit argument; mlearn's
        ``bounds`` parameter is set to it).
    calibration_params : dict, default=None
        Pair learners only: keyword arguments of ``calibrate_threshold``
        (``strategy``, ``min_rate``, ``beta``), applied on the training pairs.

    Returns
    -------
    self
    """
    from mlearn.base import PairsClassifierMixin

    for p, why in self._ml_unsupported.items():
        value = getattr(self, p)
        if p == "preprocessor" and value is not None:
            raise ValueError(
                f"{type(self).__name__}: preprocessor is only supported by "
                f"mlearn's pair learners; pass the data itself.")
        if p != "preprocessor" and not _same(value, self._ml_defaults.get(p)):
            warnings.warn(f"{type(self).__name__}: metric-learn's parameter "
                          f"{p}={value!r} is ignored ({why}).", UserWarning,
                          stacklevel=2)
    if bounds is not None:
        if "bounds" not in self.get_params():
            raise TypeError(f"{type(self).__name__}.fit() got an unexpected "
                            f"keyword argument 'bounds'")
        self.bounds = bounds
    is_pairs = isinstance(self, PairsClassifierMixin)
    if calibration_params is not None and not is_pairs:
        raise TypeError(f"{type(self).__name__}.fit() got an unexpected keyword "
                        f"argument 'calibration_params'")
    self._ml_target.fit(self, X, y)
    if calibration_params:
        self.calibrate_threshold(X, y, **calibration_params)
    return self


def _same(a, b):
    try:
        return a is b or bool(a == b)
    except (TypeError, ValueError):
        return False


def _docstring(name, target_name, params, renames, unsupported):
    lines = [
        f"metric-learn 0.7's ``{name}``, implemented by :class:`mlearn.{target_name}`.",
        "",
        "Constructor parameters (metric-learn's names and defaults first, then "
        "mlearn's extra ones): "
        + ", ".join(f"``{p}={d!r}``" for p, d in params) + ".",
    ]
    if renames:
        lines += ["", "Renamed: " + ", ".join(
            f"``{a}`` is mlearn's ``{b}``" for a, b in renames.items()) + "."]
    if unsupported:
        lines += ["", "Accepted but not used: " + "; ".join(
            f"``{p}`` ({why})" for p, why in unsupported.items()) + "."]
    lines += ["", f"See :class:`mlearn.{target_name}` for the model itself."]
    return "\n".join(lines)
