"""The shared surface of every Mahalanobis learner, and of the pair classifiers.

Every learner ends with ``components_ = L`` (shape ``(n_components, n_features)``);
everything else here follows from ``L``.
"""

import functools

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.metrics import roc_auc_score
from sklearn.utils import check_random_state

from mlearn._constraints import pairs_from_labels
from mlearn._kernels._distances import _point_mahalanobis
from mlearn.pairwise import paired_mahalanobis
from mlearn.utils._sklearn_compat import (
    _fit_context,
    check_is_fitted,
    validate_data,
)
from mlearn.utils._validation import (
    FLOAT_DTYPES,
    _is_dask,
    check_classes,
    check_pair_labels,
    check_pairs,
)

__all__ = [
    "MahalanobisMixin",
    "PairsClassifierMixin",
    "PairsFitMixin",
    "SupervisedPairsMixin",
]


class MahalanobisMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """Transform, distances and metric callables from a fitted ``components_``.

    A subclass's ``fit`` sets ``components_`` (``L``) and ``n_features_in_``.
    """

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def get_mahalanobis_matrix(self):
        """Return the learned Mahalanobis matrix ``M = LᵀL``.

        Returns
        -------
        M : ndarray of shape (n_features, n_features)
        """
        check_is_fitted(self, "components_")
        L = self.components_.astype(np.float64, copy=False)
        return L.T @ L

    def transform(self, X):
        """Map points into the learned space, ``X ↦ X Lᵀ``.

        Euclidean distances after ``transform`` are the learned Mahalanobis
        distances. float32 input stays float32. A dask array gives a lazy dask
        array.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self, "components_")
        if _is_dask(X):
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has shape {X.shape}, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
            from mlearn.utils._validation import check_finite_dask

            dtype = X.dtype if X.dtype in FLOAT_DTYPES else np.float64
            X = check_finite_dask(X, "X")  # NaN/inf raise when a block is computed
            return X.astype(dtype) @ self.components_.T.astype(dtype, copy=False)
        X = validate_data(self, X, reset=False, dtype=list(FLOAT_DTYPES))
        X_new = X.astype(np.float64, copy=False) @ self.components_.T
        return X_new.astype(X.dtype, copy=False)

    def _validate_pairs(self, pairs):
        check_is_fitted(self, "components_")
        return check_pairs(
            pairs, getattr(self, "preprocessor", None), self.n_features_in_
        )

    def pair_distance(self, pairs):
        """Learned distance between the two points of each pair.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features), or (n_pairs, 2)
            Pairs of points, or of indices into the estimator's ``preprocessor``.

        Returns
        -------
        distances : ndarray of shape (n_pairs,)
        """
        P = self._validate_pairs(pairs)
        return paired_mahalanobis(P[:, 0], P[:, 1], L=self.components_)

    def pair_score(self, pairs):
        """Similarity of each pair: the opposite of :meth:`pair_distance`.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features), or (n_pairs, 2)
            Pairs of points, or of indices into the estimator's ``preprocessor``.

        Returns
        -------
        scores : ndarray of shape (n_pairs,)
        """
        return -self.pair_distance(pairs)

    def get_metric(self, squared=False):
        """Return a callable ``metric(u, v)`` computing the learned distance.

        It is accepted wherever scikit-learn takes a callable metric
        (``KNeighborsClassifier(metric=...)``, ``DBSCAN(metric=...)``), is
        picklable, and is a numba kernel behind a C-level ``functools.partial``,
        so each call costs about a microsecond. For many points, transforming
        once and using the Euclidean metric is faster still.

        Parameters
        ----------
        squared : bool, default=False
            Return the squared distance.

        Returns
        -------
        metric : callable

        Examples
        --------
        >>> import numpy as np
        >>> from mlearn import Covariance
        >>> X = np.random.RandomState(0).normal(size=(50, 3))
        >>> metric = Covariance().fit(X).get_metric()
        >>> float(metric(X[0], X[1])) > 0
        True
        """
        check_is_fitted(self, "components_")
        L = np.ascontiguousarray(self.components_, dtype=np.float64)
        return functools.partial(_point_mahalanobis, L, bool(squared))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class SupervisedPairsMixin:
    """``fit(X, y)`` from class labels for a learner defined on pairs.

    ``n_constraints`` similar and as many dissimilar index pairs (default
    ``20·C²`` each for ``C`` classes, metric-learn's rule) are sampled from
    ``y`` with ``random_state`` and handed to the learner's
    ``_fit_pairs(pairs, pair_y, rng)``.
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit on points ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32],
                             ensure_min_samples=2)
        classes, _, _ = check_classes(y)
        rng = check_random_state(self.random_state)
        n_con = self.n_constraints
        if n_con is None:
            n_con = 20 * classes.shape[0] ** 2
        idx, pair_y = pairs_from_labels(y, n_con, rng, same_length=True)
        self._fit_pairs(X[idx], pair_y, rng)
        return self


class PairsFitMixin:
    """``fit(pairs, y)`` for a pairs learner: validate the pairs, call the
    learner's ``_fit_pairs(pairs, pair_y, rng)``, then calibrate
    ``threshold_`` (see :class:`PairsClassifierMixin`)."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, pairs, y):
        """Fit on pairs and their labels.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            Pairs of points, or index pairs resolved by ``preprocessor``.
        y : array-like of shape (n_pairs,)
            +1 for similar, −1 for dissimilar pairs.

        Returns
        -------
        self
        """
        P, y = self._prepare_fit_pairs(pairs, y)
        rng = check_random_state(self.random_state)
        self._fit_pairs(P, y, rng)
        self._fit_calibration(P, y)
        return self


class PairsClassifierMixin:
    """Classify pairs as similar (+1) or dissimilar (-1) by a distance threshold.

    For the weakly-supervised learners, whose ``fit(pairs, y)`` takes pairs of
    shape ``(n_pairs, 2, n_features)`` (or ``(n_pairs, 2)`` indices with
    ``preprocessor=X``) and labels in {-1, +1}. A pair is predicted similar when
    its learned distance is at most ``threshold_``. Subclasses call
    :meth:`_fit_calibration` at the end of ``fit``.
    """

    _STRATEGIES = ("accuracy", "f_beta", "max_tpr", "max_tnr")

    def _prepare_fit_pairs(self, pairs, y):
        P = check_pairs(pairs, getattr(self, "preprocessor", None))
        y = check_pair_labels(y, P.shape[0])
        if np.unique(y).shape[0] < 2:
            raise ValueError(
                "pair labels contain a single class; fitting needs both similar "
                "(+1) and dissimilar (-1) pairs."
            )
        self.n_features_in_ = P.shape[2]
        self.classes_ = np.array([-1, 1])
        return P, y

    def decision_function(self, pairs):
        """Pair similarity score (−distance); higher means more similar.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features), or (n_pairs, 2)
            Pairs of points, or of indices into ``preprocessor``.

        Returns
        -------
        scores : ndarray of shape (n_pairs,)
        """
        return -self.pair_distance(pairs)

    def predict(self, pairs):
        """+1 for pairs at most ``threshold_`` apart, else −1.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features), or (n_pairs, 2)
            Pairs of points, or of indices into ``preprocessor``.

        Returns
        -------
        y_pred : ndarray of shape (n_pairs,)
            Labels in {−1, +1}.
        """
        check_is_fitted(self, "threshold_")
        d = self.pair_distance(pairs)
        return np.where(d <= self.threshold_, 1, -1)

    def predict_proba(self, pairs):
        """Probability of each class (column 0: −1, column 1: +1).

        A sigmoid of the distance (Platt scaling), fitted on the training pairs
        at the end of ``fit``; refit with :meth:`calibrate_threshold`, or wrap the
        estimator in ``CalibratedClassifierCV`` for held-out calibration.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features), or (n_pairs, 2)
            Pairs of points, or of indices into ``preprocessor``.

        Returns
        -------
        proba : ndarray of shape (n_pairs, 2)
        """
        check_is_fitted(self, "sigmoid_")
        d = self.pair_distance(pairs)
        a, b = self.sigmoid_
        p = 1.0 / (1.0 + np.exp(np.clip(a * d + b, -500.0, 500.0)))
        return np.column_stack([1.0 - p, p])

    def score(self, pairs, y):
        """ROC-AUC of :meth:`decision_function` for labels ``y`` in {−1, +1}.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features), or (n_pairs, 2)
            Pairs of points, or of indices into ``preprocessor``.
        y : array-like of shape (n_pairs,)
            Labels in {−1, +1}.

        Returns
        -------
        score : float
        """
        y = check_pair_labels(y, np.asarray(pairs).shape[0])
        return roc_auc_score(y, self.decision_function(pairs))

    def set_threshold(self, threshold):
        """Set the distance threshold used by :meth:`predict`.

        Parameters
        ----------
        threshold : float
            Pairs at most this distance apart are predicted similar (+1).

        Returns
        -------
        self
        """
        threshold = float(threshold)
        if not np.isfinite(threshold):
            raise ValueError(f"threshold must be finite, got {threshold}.")
        self.threshold_ = threshold
        return self

    def calibrate_threshold(
        self, pairs, y, strategy="accuracy", min_rate=None, beta=1.0
    ):
        """Choose ``threshold_`` that is optimal on ``(pairs, y)`` for a criterion.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
        y : array-like of shape (n_pairs,)
            Labels in {−1, +1}.
        strategy : {'accuracy', 'f_beta', 'max_tpr', 'max_tnr'}, default='accuracy'
            'accuracy' maximises accuracy; 'f_beta' the F-beta score; 'max_tpr'
            the true-positive rate subject to a true-negative rate of at least
            ``min_rate``; 'max_tnr' the true-negative rate subject to a
            true-positive rate of at least ``min_rate``.
        min_rate : float in [0, 1], default=None
            Required for 'max_tpr' and 'max_tnr'.
        beta : float, default=1.0
            Weight of recall in 'f_beta'.

        Returns
        -------
        self
        """
        d = self.pair_distance(pairs)
        y = check_pair_labels(y, d.shape[0])
        self.threshold_ = _best_threshold(d, y, strategy, min_rate, beta)
        self.sigmoid_ = _fit_sigmoid(d, y)
        return self

    def _fit_calibration(self, P, y):
        """Training-set threshold (accuracy) and sigmoid; called by ``fit``."""
        d = paired_mahalanobis(P[:, 0], P[:, 1], L=self.components_)
        self.threshold_ = _best_threshold(d, y, "accuracy", None, 1.0)
        self.sigmoid_ = _fit_sigmoid(d, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        return tags


def _best_threshold(d, y, strategy, min_rate, beta):
    """Threshold maximising a criterion over every distinct cut of ``d``.

    Cut ``k`` predicts the ``k`` smallest distances similar; the returned
    threshold lies midway between the distances on either side of the best cut.
    """
    if strategy not in PairsClassifierMixin._STRATEGIES:
        raise ValueError(
            f"strategy must be one of {PairsClassifierMixin._STRATEGIES}, "
            f"got {strategy!r}."
        )
    if strategy in ("max_tpr", "max_tnr"):
        if min_rate is None or not 0.0 <= float(min_rate) <= 1.0:
            raise ValueError(
                f"strategy {strategy!r} needs min_rate in [0, 1], got {min_rate!r}."
            )
    if strategy == "f_beta" and not beta > 0:
        raise ValueError(f"beta must be positive, got {beta!r}.")
    order = np.argsort(d, kind="stable")
    ds, ys = d[order], y[order]
    n_pos = int(np.sum(ys == 1))
    n_neg = ys.shape[0] - n_pos
    # Only cuts between distinct distances are realisable by a threshold.
    last_of_run = np.r_[ds[1:] != ds[:-1], True]
    tp = np.r_[0, np.cumsum(ys == 1)[last_of_run]]
    fp = np.r_[0, np.cumsum(ys == -1)[last_of_run]]
    cut_values = np.r_[-np.inf, ds[last_of_run]]
    tn, fn = n_neg - fp, n_pos - tp
    tpr = tp / max(n_pos, 1)
    tnr = tn / max(n_neg, 1)
    if strategy == "accuracy":
        crit = (tp + tn).astype(float)
    elif strategy == "f_beta":
        b2 = beta**2
        denom = (1 + b2) * tp + b2 * fn + fp
        crit = np.where(denom > 0, (1 + b2) * tp / np.maximum(denom, 1), 0.0)
    else:
        rate, other = (tpr, tnr) if strategy == "max_tpr" else (tnr, tpr)
        feasible = other >= float(min_rate)
        if not feasible.any():
            raise ValueError(
                f"no threshold reaches min_rate={min_rate} for strategy {strategy!r}."
            )
        crit = np.where(feasible, rate + 1e-9 * other, -np.inf)
    k = int(np.argmax(crit))
    lo = cut_values[k]
    hi = cut_values[k + 1] if k + 1 < cut_values.shape[0] else np.inf
    if np.isinf(lo):
        return float(ds[0] - 1.0) if ds[0] > 1.0 else float(ds[0] / 2.0 - 1.0)
    if np.isinf(hi):
        return float(lo + 1.0)
    return float((lo + hi) / 2.0)


def _fit_sigmoid(d, y):
    """Platt scaling ``P(similar | d) = 1 / (1 + exp(a d + b))`` by logistic
    regression on the distances (with Platt's smoothed targets)."""
    from scipy.optimize import minimize

    n_pos = np.sum(y == 1)
    n_neg = y.shape[0] - n_pos
    t = np.where(y == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    scale = float(np.std(d)) or 1.0
    z = d / scale

    def loss(ab):
        f = ab[0] * z + ab[1]
        # -log p = log(1+e^f), -log(1-p) = log(1+e^-f) with p = 1/(1+e^f)
        ll = t * np.logaddexp(0.0, f) + (1.0 - t) * np.logaddexp(0.0, -f)
        p = 1.0 / (1.0 + np.exp(np.clip(f, -500, 500)))
        g = t - p
        return ll.sum(), np.array([np.dot(g, z), g.sum()])

    res = minimize(loss, np.array([1.0, -float(np.median(z))]), jac=True,
                   method="L-BFGS-B")
    a, b = res.x
    return (float(a / scale), float(b))
