"""metric-learn 0.7's names on top of mlearn: change one import to migrate.

>>> from mlearn.compat.metric_learn import Covariance   # was: from metric_learn ...

Each class here is a thin subclass of its mlearn counterpart whose constructor
takes metric-learn 0.7's parameter names and defaults (plus mlearn's extra
parameters, with mlearn's defaults except where another default reproduces
metric-learn's metric), and whose ``fit`` takes metric-learn's extra fit
arguments (``bounds`` for ITML, ``calibration_params`` for the pair learners).
Everything after ``fit`` is mlearn's own surface, which already matches
metric-learn's (``components_``, ``transform``, ``get_mahalanobis_matrix``,
``get_metric``, ``pair_distance``, ``pair_score``, ``predict``,
``decision_function``, ``calibrate_threshold``, ...), plus metric-learn's
deprecated ``score_pairs`` and ``preprocessor`` support on every learner.

================== ======================== ===================================
metric-learn 0.7   mlearn                   parameters translated
================== ======================== ===================================
Covariance         Covariance               ``n - 1`` divisor (``np.cov``)
LMNN               LMNN                     ``convergence_tol``, ``learn_rate``,
                                            ``min_iter`` ignored
ITML               ITMLPairs                ``bounds='metric_learn'``;
                                            ``fit(bounds=, calibration_params=)``
ITML_Supervised    ITML                     ``bounds='metric_learn'``;
                                            ``fit(bounds=)``
MMC                MMCPairs                 ``regularization=0``;
                                            ``fit(calibration_params=)``
MMC_Supervised     MMC                      ``regularization=0``; ``tol=1e-6``
SDML               SDMLPairs                ``fit(calibration_params=)``
SDML_Supervised    SDML                     same names
LSML               LSMLQuadruplets          ``fit(quadruplets, weights=)``
LSML_Supervised    LSML                     same names
LFDA               LFDA                     default ``k=None`` (metric-learn's
                                            ``min(7, n_features - 1)``)
RCA                RCA                      ``fit(X, chunks)`` (positional)
RCA_Supervised     RCA_Supervised           same parameters
SCML               SCMLTriplets             same parameters
SCML_Supervised    SCML                     ``preprocessor`` must be None
NCA                NCA                      default ``max_iter=100, tol=None``
MLKR               MLKR                     default ``max_iter=1000, tol=None``
Constraints        Constraints              metric-learn's random streams
================== ======================== ===================================

The supervised pair learners draw metric-learn's pairs for the same
``random_state``. ``base_metric``, ``constraints``, ``_util`` and
``exceptions`` are importable as submodules, as in metric-learn.

Classes whose mlearn counterpart is not available in this build raise an
informative ``AttributeError`` on access (the module itself always imports).
The classes are created on first access and cached, so they pickle and clone
like any estimator. A metric-learn learner that this build does not map (see
``_NOT_IN_MLEARN``) raises an ``AttributeError`` naming an alternative.
"""

import inspect
import warnings

import numpy as np
from sklearn.utils import check_random_state

import mlearn
from mlearn._constraints import Constraints as _Constraints

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
        {},
        {"min_iter": "mlearn's L-BFGS solver stops on its own criteria",
         "learn_rate": "mlearn's L-BFGS solver chooses its own step sizes",
         "convergence_tol": "a bound on the change of metric-learn's own "
                            "gradient-descent objective; mlearn's L-BFGS stops "
                            "on its relative decrease, ``tol``"},
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
    "SDML": (
        "SDMLPairs",
        [("balance_param", 0.5), ("sparsity_param", 0.01), ("prior", "identity"),
         ("verbose", False), ("preprocessor", None), ("random_state", None)],
        {}, {},
    ),
    "SDML_Supervised": (
        "SDML",
        [("balance_param", 0.5), ("sparsity_param", 0.01), ("prior", "identity"),
         ("n_constraints", None), ("verbose", False), ("preprocessor", None),
         ("random_state", None)],
        {}, {},
    ),
    "LSML": (
        "LSMLQuadruplets",
        [("tol", 1e-3), ("max_iter", 1000), ("prior", "identity"),
         ("verbose", False), ("preprocessor", None), ("random_state", None)],
        {}, {},
    ),
    "LSML_Supervised": (
        "LSML",
        [("tol", 1e-3), ("max_iter", 1000), ("prior", "identity"),
         ("n_constraints", None), ("weights", None), ("verbose", False),
         ("preprocessor", None), ("random_state", None)],
        {}, {},
    ),
    "LFDA": (
        "LFDA",
        [("n_components", None), ("k", None), ("embedding_type", "weighted"),
         ("preprocessor", None)],
        {}, {},
    ),
    "RCA": ("RCA", [("n_components", None), ("preprocessor", None)], {}, {}),
    "RCA_Supervised": (
        "RCA_Supervised",
        [("n_components", None), ("n_chunks", 100), ("chunk_size", 2),
         ("preprocessor", None), ("random_state", None)],
        {}, {},
    ),
    "SCML": (
        "SCMLTriplets",
        [("beta", 1e-5), ("basis", "triplet_diffs"), ("n_basis", None),
         ("gamma", 5e-3), ("max_iter", 10000), ("output_iter", 500),
         ("batch_size", 10), ("verbose", False), ("preprocessor", None),
         ("random_state", None)],
        {}, {},
    ),
    "SCML_Supervised": (
        "SCML",
        [("k_genuine", 3), ("k_impostor", 10), ("beta", 1e-5), ("basis", "lda"),
         ("n_basis", None), ("gamma", 5e-3), ("max_iter", 10000),
         ("output_iter", 500), ("batch_size", 10), ("verbose", False),
         ("preprocessor", None), ("random_state", None)],
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

# mlearn parameters that take another default under metric-learn's name, so
# that the same call learns metric-learn's metric (docs/migration.rst has the
# figures): ITML's bounds by metric-learn's rule, MMC without the proximal term,
# NCA without the subsample start, LFDA with metric-learn's formulas.
_EXTRA_DEFAULTS = {
    "ITML": {"bounds": "metric_learn"},
    "ITML_Supervised": {"bounds": "metric_learn"},
    "MMC": {"regularization": 0.0},
    "MMC_Supervised": {"regularization": 0.0},
    # every iteration on all samples, as metric-learn
    "NCA": {"coarse_start": False},
    # metric-learn's local scale and S_b + 2 S_w
    "LFDA": {"variant": "metric_learn"},
}

# metric-learn 0.7's deprecated aliases, still accepted there with a
# FutureWarning (last in its signatures, default 'deprecated').
_DEPRECATED = {
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

# The classes are made on first access (module __getattr__), from _SPECS.
__all__ = ["Constraints", *sorted(_SPECS)]

# metric-learn names without a counterpart yet: name -> (the mlearn class it
# will map to, per DESIGN.md's naming, and an alternative meanwhile). A test
# fails when mlearn exports the target but the name is still listed here.
_NOT_IN_MLEARN = {
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
            f"{_NOT_IN_MLEARN[name][1]}."
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
    extra = _EXTRA_DEFAULTS.get(name, {})
    params = list(ml_params) + [
        (p, extra.get(p, v.default)) for p, v in target_params.items()
        if p != "self" and p not in covered and p not in ml_names
    ]
    unsupported = {p: why for p, why in ignored.items()}
    for p in ml_names:
        target = renames.get(p, p)
        if target not in target_params and p not in unsupported:
            unsupported[p] = f"mlearn.{target_name} has no such parameter"
    aliases = _DEPRECATED.get(name, {})
    params += [(alias, "deprecated") for alias in aliases]
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
           for p, d in params]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = dict(list(bound.arguments.items())[1:])
        for alias, new in aliases.items():
            # as metric-learn 0.7: the alias sets the new name, then reads
            # 'deprecated' (so that get_params / clone stay consistent)
            if not (isinstance(values[alias], str)
                    and values[alias] == "deprecated"):
                warnings.warn(f'"{alias}" parameter has been renamed to "{new}". '
                              "It has been deprecated in version 0.6.3 and will "
                              "be removed in 0.7.0", FutureWarning, stacklevel=2)
                values[new] = values[alias]
                values[alias] = "deprecated"
        for p, value in values.items():
            setattr(self, p, value)

    __init__.__signature__ = signature

    constraints = dict(getattr(Target, "_parameter_constraints", {}))
    for ml_name, ml_target in renames.items():
        if ml_target in constraints:
            constraints[ml_name] = constraints.pop(ml_target)
    for p in list(unsupported) + list(aliases):
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
        "fit": _FIT.get(name, _fit),
        "transform": _transform,
        "score_pairs": _score_pairs,
    }
    if Target._kind == "supervised" and getattr(Target, "_tuple_size", 0) == 2:
        namespace["_sample_tuples"] = _sample_pairs_as_metric_learn
    if Target._kind == "pairs":
        namespace["_fit_tuples"] = _fit_similar_first
    if name in ("MMC", "MMC_Supervised"):
        namespace["_fit_tuples"] = _fit_mmc_at_metric_learn_scale
    if name == "Covariance":
        namespace["_set_metric"] = _set_metric_unbiased
    if name == "RCA_Supervised":
        namespace["_draw_chunks"] = _draw_chunks_as_metric_learn
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
        ITML only: the distance bounds (metric-learn's fit argument; used
        for this fit in place of the ``bounds`` parameter, which is left
        unchanged).
    calibration_params : dict, default=None
        Pair learners only: keyword arguments of ``calibrate_threshold``
        (``strategy``, ``min_rate``, ``beta``), validated before fitting and
        applied on the training pairs after it.

    Returns
    -------
    self
    """
    from mlearn.base import PairsClassifierMixin
    from mlearn.utils._calibration import check_calibration_params

    for p, why in self._ml_unsupported.items():
        value = getattr(self, p)
        if p != "preprocessor" and not _same(value, self._ml_defaults.get(p)):
            warnings.warn(f"{type(self).__name__}: metric-learn's parameter "
                          f"{p}={value!r} is ignored ({why}).", UserWarning,
                          stacklevel=2)
    if bounds is not None and "bounds" not in self.get_params():
        raise TypeError(f"{type(self).__name__}.fit() got an unexpected "
                        f"keyword argument 'bounds'")
    is_pairs = isinstance(self, PairsClassifierMixin)
    if calibration_params is not None:
        if not is_pairs:
            raise TypeError(f"{type(self).__name__}.fit() got an unexpected "
                            f"keyword argument 'calibration_params'")
        # validated before the fit runs, as metric-learn does
        if not isinstance(calibration_params, dict):
            raise TypeError("calibration_params must be a dict of "
                            "calibrate_threshold's keyword arguments, got "
                            f"{type(calibration_params).__name__}.")
        unknown = set(calibration_params) - {"strategy", "min_rate", "beta"}
        if unknown:
            raise TypeError(f"calibration_params has unknown keys {sorted(unknown)};"
                            " calibrate_threshold takes strategy, min_rate, beta.")
        check_calibration_params(**calibration_params)
    if not is_pairs:
        X = _resolve_points(self, X)
    saved = self.bounds if bounds is not None else None
    if bounds is not None:
        self.bounds = bounds  # for this fit only; get_params() is unchanged
    try:
        self._ml_target.fit(self, X, y)
    finally:
        if bounds is not None:
            self.bounds = saved
    if calibration_params:
        self.calibrate_threshold(X, y, **calibration_params)
    return self


def _resolve_points(est, X):
    """1-D identifiers resolved through the estimator's ``preprocessor`` (an
    array indexed by row, or a callable), as metric-learn does; points as they
    are."""
    preprocessor = getattr(est, "preprocessor", None)
    if preprocessor is None or not hasattr(X, "__len__") or np.ndim(X) != 1:
        return X
    if callable(preprocessor):
        points = np.asarray(preprocessor(np.asarray(X)))
        if points.ndim != 2 or points.shape[0] != len(X):
            raise ValueError(
                "the preprocessor must return a 2-D array with one row per "
                f"identifier; got shape {points.shape} for {len(X)} identifiers.")
        return points
    idx = np.asarray(X)
    if idx.dtype.kind not in "iu":
        raise ValueError(
            "indices must be integers when the preprocessor is an array, got "
            f"dtype {idx.dtype}; use a callable preprocessor for other "
            "identifiers.")
    data = getattr(preprocessor, "values", preprocessor)
    return np.asarray(data)[idx]


def _transform(self, X):
    """Map points into the learned space, ``X ↦ X Lᵀ``; 1-D identifiers are
    resolved through ``preprocessor`` first (metric-learn's behaviour).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples,)
        Points, or identifiers resolved by ``preprocessor``.

    Returns
    -------
    X_new : ndarray of shape (n_samples, n_components)
    """
    return self._ml_target.transform(self, _resolve_points(self, X))


def _score_pairs(self, pairs):
    """Deprecated in metric-learn 0.7: the learned distance of each pair.

    Use :meth:`pair_distance` (or :meth:`pair_score` for similarities).

    Parameters
    ----------
    pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
        Pairs of points, or of identifiers resolved by ``preprocessor``.

    Returns
    -------
    distances : ndarray of shape (n_pairs,)
    """
    warnings.warn("score_pairs will be deprecated in release 0.7.0. Use "
                  "pair_score to compute similarity scores, or pair_distances to "
                  "compute distances.", FutureWarning, stacklevel=2)
    return self.pair_distance(pairs)


def _fit_mmc_at_metric_learn_scale(self, T, y, rng):
    """MMC's metric at metric-learn's scale: its full-matrix problem bounds
    ``Σ_S d²`` by ``Σ_S d²_{M0} / 100`` (``M0`` the ``init``), mlearn's by 1;
    the maximiser is the same up to that factor."""
    from mlearn.utils._init import initial_metric

    order = np.argsort(-y, kind="stable")
    T, y = T[order], y[order]
    if self.diagonal:
        return self._ml_target._fit_tuples(self, T, y, rng)
    # metric-learn's tol bounds the relative step between iterates; mlearn's
    # bounds the duality gap. A gap within min(tol, 1e-5) reaches at least
    # metric-learn's objective on every set tried (docs/migration.rst).
    tol = self.tol
    self.tol = min(tol, 1e-5)
    try:
        self._ml_target._fit_tuples(self, T, y, rng)
    finally:
        self.tol = tol
    d = T.shape[2]
    Vs = (T[y == 1, 0] - T[y == 1, 1]).astype(np.float64)
    M0 = initial_metric(self.init, T.reshape(-1, d).astype(np.float64),
                        check_random_state(self.random_state), strict_pd=False,
                        name="init")
    L = self.components_.astype(np.float64)
    now = float(np.sum((Vs @ L.T) ** 2))
    target = float(np.sum((Vs @ M0) * Vs)) / 100.0
    if now > 0 and target > 0:
        self.components_ = (L * np.sqrt(target / now)).astype(
            self.components_.dtype, copy=False)


def _set_metric_unbiased(self, cov, location, dtype):
    # metric-learn inverts np.cov (divisor n - 1); mlearn's empirical estimate
    # divides by n
    n = self.n_samples_seen_
    if self.estimator == "empirical" and n > 1:
        cov = cov * (n / (n - 1.0))
    return self._ml_target._set_metric(self, cov, location, dtype)


def _sample_pairs_as_metric_learn(self, X, y, rng):
    """Pairs as metric-learn's supervised twins draw them: its sampler with the
    same random stream, similar pairs first, not truncated to equal counts.
    As in metric-learn, an integer ``random_state`` seeds the sampler and
    ``prior``/``init='random'`` separately (``rng`` is left for the latter)."""
    a, b, c, d = Constraints(y).positive_negative_pairs(
        self._n_constraints(y), random_state=check_random_state(self.random_state))
    pairs = np.vstack([np.column_stack([a, b]), np.column_stack([c, d])])
    return pairs, np.r_[np.ones(len(a), dtype=np.intp),
                        -np.ones(len(c), dtype=np.intp)]


def _draw_chunks_as_metric_learn(self, y, codes):
    """Chunklets as metric-learn's ``RCA_Supervised`` draws them: its sampler
    (:meth:`Constraints.chunks`) on the labels themselves, so negative integer
    labels mark unlabelled points, with ``random_state`` as it is given.
    Labels that are not integers (metric-learn casts them to ``int``) are
    drawn from their class codes, which sort the same way."""
    labels = np.asarray(y)
    integral = labels.dtype.kind in "iu" or (
        labels.dtype.kind == "f" and bool(np.all(labels == np.round(labels))))
    return Constraints(labels if integral else codes).chunks(
        self.n_chunks, self.chunk_size, random_state=self.random_state)


def _fit_similar_first(self, T, y, rng):
    # metric-learn processes similar pairs before dissimilar ones (ITML's
    # cyclic projections depend on the order up to the solver tolerance)
    order = np.argsort(-y, kind="stable")
    return self._ml_target._fit_tuples(self, T[order], y[order], rng)


class Constraints(_Constraints):
    """metric-learn 0.7's ``Constraints``: the same samplers and random streams.

    ``positive_negative_pairs`` and ``chunks`` draw exactly what metric-learn
    draws for the same ``random_state`` (negative labels mark unlabelled
    points); ``generate_knntriplets`` is mlearn's (deterministic, as
    metric-learn's).

    Parameters
    ----------
    partial_labels : array-like of shape (n_samples,)
        Integer class labels; negative values mark unlabelled points.

    Examples
    --------
    >>> from mlearn.compat.metric_learn import Constraints
    >>> a, b, c, d = Constraints([0, 0, 0, 1, 1, 1]).positive_negative_pairs(
    ...     3, random_state=0)
    >>> len(a), len(c)
    (3, 3)
    """

    def __init__(self, partial_labels):
        self.partial_labels = np.asanyarray(partial_labels, dtype=int)

    def positive_negative_pairs(self, n_constraints=None, same_length=False,
                                random_state=None, num_constraints="deprecated"):
        """Similar pairs ``(a, b)`` and dissimilar pairs ``(c, d)``.

        Parameters
        ----------
        n_constraints : int
            Number of pairs of each kind (fewer, with a warning, when that many
            distinct pairs are not found in 10 rounds of draws).
        same_length : bool, default=False
            Truncate both kinds to the same length.
        random_state : int, RandomState instance or None, default=None
        num_constraints : int
            Deprecated alias of ``n_constraints`` (``FutureWarning``).

        Returns
        -------
        a, b, c, d : ndarray of int
        """
        if not (isinstance(num_constraints, str) and num_constraints == "deprecated"):
            warnings.warn('"num_constraints" parameter has been renamed to '
                          '"n_constraints". It has been deprecated in version '
                          "0.6.3 and will be removed in 0.7.0", FutureWarning,
                          stacklevel=2)
            n_constraints = num_constraints
        if n_constraints is None:
            raise TypeError("positive_negative_pairs() missing the required "
                            "argument 'n_constraints'")
        self.n_constraints = n_constraints
        rng = check_random_state(random_state)
        a, b = self._pairs(n_constraints, True, rng)
        c, d = self._pairs(n_constraints, False, rng)
        if same_length and len(a) != len(c):
            n = min(len(a), len(c))
            return a[:n], b[:n], c[:n], d[:n]
        return a, b, c, d

    def _pairs(self, n_constraints, same_label, rng, max_rounds=10):
        # metric-learn's draw order, so the same seed gives the same pairs: an
        # anchor per missing pair, then a partner among the (other-)class points
        known = np.flatnonzero(self.partial_labels >= 0)
        labels = self.partial_labels[known]
        found = set()
        for _ in range(max_rounds):
            if len(found) >= n_constraints:
                break
            for i in rng.randint(len(labels), size=n_constraints - len(found)):
                mask = labels == labels[i] if same_label else labels != labels[i]
                if same_label:
                    mask[i] = False
                partners = np.flatnonzero(mask)
                if len(partners):
                    found.add((i, rng.choice(partners)))
        if len(found) < n_constraints:
            warnings.warn(f"Only generated {len(found)} "
                          f"{'positive' if same_label else 'negative'} constraints "
                          f"(requested {n_constraints})")
        ab = np.array(list(found)[:n_constraints], dtype=int).reshape(-1, 2)
        return known[ab[:, 0]], known[ab[:, 1]]

    def chunks(self, n_chunks=100, chunk_size=2, random_state=None,
               num_chunks="deprecated"):
        """Disjoint chunks of ``chunk_size`` same-class points, drawn as
        metric-learn draws them; a chunk id per point, ``-1`` for none.

        Parameters
        ----------
        n_chunks : int, default=100
        chunk_size : int, default=2
        random_state : int, RandomState instance or None, default=None
        num_chunks : int
            Deprecated alias of ``n_chunks`` (``FutureWarning``).

        Returns
        -------
        chunks : ndarray of shape (n_samples,)
        """
        if not (isinstance(num_chunks, str) and num_chunks == "deprecated"):
            warnings.warn('"num_chunks" parameter has been renamed to "n_chunks". '
                          "It has been deprecated in version 0.6.3 and will be "
                          "removed in 0.7.0", FutureWarning, stacklevel=2)
            n_chunks = num_chunks
        rng = check_random_state(random_state)
        y = self.partial_labels
        chunk_ids = -np.ones_like(y, dtype=int)
        uniq, lookup = np.unique(y, return_inverse=True)
        pools = [set(np.flatnonzero(lookup == c)) for c in range(len(uniq))
                 if uniq[c] >= 0]
        max_chunks = int(sum(len(p) // chunk_size for p in pools))
        if max_chunks < n_chunks:
            raise ValueError(
                f"Not enough possible chunks of {chunk_size} elements in each "
                f"class to form expected {n_chunks} chunks - maximum number of "
                f"chunks is {max_chunks}")
        idx = 0
        while idx < n_chunks and pools:
            # metric-learn draws the class with randint(0, len - 1)
            c = 0 if len(pools) == 1 else rng.randint(0, high=len(pools) - 1)
            if len(pools[c]) < chunk_size:
                del pools[c]
                continue
            members = rng.choice(list(pools[c]), chunk_size, replace=False)
            pools[c].difference_update(members)
            chunk_ids[members] = idx
            idx += 1
        return chunk_ids


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


def _fit_quadruplets(self, quadruplets, weights=None):
    """Fit on quadruplets as metric-learn's ``LSML.fit(quadruplets, weights)``.

    Parameters
    ----------
    quadruplets : array-like of shape (n_quadruplets, 4, n_features) or \
(n_quadruplets, 4)
        Quadruplets ``(a, b, c, d)`` with ``d(a, b) < d(c, d)`` wanted, or
        indices resolved by ``preprocessor``.
    weights : array-like of shape (n_quadruplets,), default=None
        Weight of each quadruplet (mlearn's ``weights`` parameter is set to it).

    Returns
    -------
    self
    """
    if weights is not None:
        self.weights = weights
    self._ml_target.fit(self, quadruplets)
    return self


# metric-learn names whose fit differs from ``_fit``'s signature
_FIT = {"LSML": _fit_quadruplets}


class NonPSDError(np.linalg.LinAlgError):
    """metric-learn's error for a matrix that is not positive semi-definite."""

    def __init__(self):
        super().__init__("Matrix is not positive semidefinite (PSD).")


class PreprocessorError(Exception):
    """metric-learn's error for a preprocessor that fails."""

    def __init__(self, original_error):
        super().__init__("An error occurred when trying to use the "
                         f"preprocessor: {original_error!r}")


def components_from_metric(metric, tol=None):
    """metric-learn's ``components_from_metric``: ``L`` with ``LᵀL = metric``.

    Cholesky when ``metric`` is positive definite, else an eigendecomposition
    with round-off negative eigenvalues clipped (mlearn's
    :func:`mlearn.utils._linalg.components_from_metric`).

    Parameters
    ----------
    metric : array-like of shape (n_features, n_features)
        Symmetric positive semi-definite matrix.
    tol : float, default=None
        Accepted for metric-learn's signature; mlearn's round-off rule is used.

    Returns
    -------
    L : ndarray of shape (n_features, n_features)

    Raises
    ------
    NonPSDError
        When ``metric`` has clearly negative eigenvalues.

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn.compat.metric_learn import components_from_metric
    >>> components_from_metric(np.diag([4.0, 1.0]))
    array([[2., 0.],
           [0., 1.]])
    """
    from mlearn.utils._linalg import components_from_metric as _from_metric

    metric = np.atleast_2d(np.asarray(metric, dtype=np.float64))
    if not np.allclose(metric, metric.T):
        raise ValueError("The input metric should be symmetric.")
    try:
        return _from_metric(metric)
    except ValueError as exc:
        if "symmetric" in str(exc):
            raise
        raise NonPSDError() from exc


def wrap_pairs(X, constraints):
    """metric-learn's ``wrap_pairs``: ``(pairs, y)`` from ``X`` and the
    ``(a, b, c, d)`` of ``Constraints.positive_negative_pairs``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    constraints : tuple of four index arrays

    Returns
    -------
    pairs : ndarray of shape (n_pairs, 2, n_features)
    y : ndarray of shape (n_pairs,)
        +1 for the similar pairs (first), -1 for the dissimilar ones.
    """
    a, b, c, d = (np.asarray(v) for v in constraints)
    idx = np.vstack((np.column_stack((a, b)), np.column_stack((c, d))))
    y = np.concatenate([np.ones_like(a), -np.ones_like(c)])
    return np.asarray(X)[idx], y


def _register_submodules():
    """``metric_learn.base_metric``, ``.constraints``, ``._util`` and
    ``.exceptions`` under this module, so that code importing from them runs
    after changing the package name only."""
    import sys
    import types

    from mlearn import base

    parts = {
        "base_metric": {
            "BaseMetricLearner": base.MahalanobisMixin,
            "MetricTransformer": base.MahalanobisMixin,
            "MahalanobisMixin": base.MahalanobisMixin,
            "_PairsClassifierMixin": base.PairsClassifierMixin,
            "_TripletsClassifierMixin": base.TripletsClassifierMixin,
            "_QuadrupletsClassifierMixin": base.QuadrupletsClassifierMixin,
        },
        "constraints": {"Constraints": Constraints, "wrap_pairs": wrap_pairs},
        "_util": {"components_from_metric": components_from_metric},
        "exceptions": {"NonPSDError": NonPSDError,
                       "PreprocessorError": PreprocessorError},
    }
    for sub, names in parts.items():
        mod = types.ModuleType(f"{__name__}.{sub}",
                               f"metric-learn's ``{sub}`` names, from mlearn.")
        mod.__dict__.update(names)
        sys.modules[mod.__name__] = mod
        globals()[sub] = mod


_register_submodules()
