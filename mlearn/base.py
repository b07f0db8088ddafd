"""The shared surface of every Mahalanobis learner, and the tuple learners' skeleton.

Every learner ends with ``components_ = L`` (shape ``(n_components, n_features)``);
everything else here follows from ``L`` (:class:`MahalanobisMixin`).

A learner declares its kind of supervision in ``_kind`` (the registry in
:mod:`mlearn.utils.discovery` reads it):

============  ==================================  ==============================
kind          ``fit`` input                       base
============  ==================================  ==============================
supervised    ``X, y`` class labels               :class:`MahalanobisMixin`;
                                                  tuple learners' twins add
                                                  :class:`SupervisedTuplesMixin`
regression    ``X, y`` real targets               :class:`MahalanobisMixin`
pairs         ``(n, 2, d)`` + ``y ∈ {−1, +1}``    :class:`PairsClassifierMixin`
triplets      ``(n, 3, d)``, optional ``y``       :class:`TripletsClassifierMixin`
quadruplets   ``(n, 4, d)``, optional ``y``       :class:`QuadrupletsClassifierMixin`
chunks        ``X, chunks`` (chunk id per row)    :class:`MahalanobisMixin`
============  ==================================  ==============================

The contract of a tuple learner: it implements ``_fit_tuples(T, y, rng)``,
where ``T`` is a validated float array ``(n_tuples, k, n_features)`` (finite,
``k = _tuple_size``), ``y`` the pair labels (int, −1/+1, both present) for
pairs and ``None`` for triplets and quadruplets (whose tuples arrive oriented:
the first compared pair is the closer one), and ``rng`` a ``RandomState``.
It sets ``components_`` and its own fitted attributes. Both ``fit(tuples, y)``
(:class:`WeaklySupervisedMixin`) and, for the supervised twin, ``fit(X, y)``
(:class:`SupervisedTuplesMixin`, tuples sampled from labels by
``_sample_tuples``) end in that one call.
"""

import numpy as np
from numba.core.errors import TypingError as NumbaTypingError
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.metrics import roc_auc_score
from sklearn.utils import check_random_state

from mlearn._constraints import (
    Constraints,
    pairs_from_labels,
    positive_negative_pairs,
)
from mlearn._kernels._distances import _point_mahalanobis
from mlearn.pairwise import paired_mahalanobis
from mlearn.utils._calibration import best_threshold, fit_sigmoid
from mlearn.utils._repr import DocLinkMixin
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
    check_tuples,
)

__all__ = [
    "MahalanobisMixin",
    "PairsClassifierMixin",
    "QuadrupletsClassifierMixin",
    "SupervisedTuplesMixin",
    "TripletsClassifierMixin",
    "WeaklySupervisedMixin",
]

KINDS = ("supervised", "regression", "pairs", "triplets", "quadruplets", "chunks")


class MahalanobisMixin(DocLinkMixin, ClassNamePrefixFeaturesOutMixin,
                       TransformerMixin):
    """Transform, distances and metric callables from a fitted ``components_``.

    A subclass's ``fit`` sets ``components_`` (``L``) and ``n_features_in_``,
    and the subclass declares its kind of supervision in ``_kind`` (one of
    ``KINDS``).
    """

    _kind = None

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
            The points.

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

    def _validate_tuples(self, tuples, tuple_size=2):
        check_is_fitted(self, "components_")
        return check_tuples(tuples, getattr(self, "preprocessor", None),
                            tuple_size, self.n_features_in_)

    def _tuple_distances(self, T, i, j):
        """Learned distances between points ``i`` and ``j`` of each tuple."""
        return paired_mahalanobis(T[:, i], T[:, j], L=self.components_)

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
        return self._tuple_distances(self._validate_tuples(pairs), 0, 1)

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
        picklable, and calls a numba kernel directly on 1-D float64 arrays
        (other array-likes are converted first), so each call costs about a
        microsecond. For many points, transforming
        once and using the Euclidean metric is faster still.

        Parameters
        ----------
        squared : bool, default=False
            Return the squared distance.

        Returns
        -------
        metric : callable
            ``metric(u, v, squared=None)``: ``u`` and ``v`` are 1-D array-likes
            (lists too, as in scipy and metric-learn); ``squared`` overrides the
            choice made here for one call (metric-learn's keyword).

        Examples
        --------
        >>> import numpy as np
        >>> from mlearn import Covariance
        >>> X = np.random.RandomState(0).normal(size=(50, 3))
        >>> metric = Covariance().fit(X).get_metric()
        >>> float(metric(X[0], X[1])) > 0
        True
        >>> float(metric([0, 0, 1], [0, 0, 1]))
        0.0
        """
        check_is_fitted(self, "components_")
        L = np.ascontiguousarray(self.components_, dtype=np.float64)
        return _LearnedMetric(L, bool(squared))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # fit(X, None) then gives scikit-learn's own "requires y" error
        tags.target_tags.required = self._kind in ("supervised", "regression",
                                                   "chunks")
        return tags


class _LearnedMetric:
    """The ``get_metric`` callable: a numba kernel, called directly on ndarrays
    (other array-likes are converted first); picklable, ``L`` is a copy."""

    __slots__ = ("L", "squared")

    def __init__(self, L, squared):
        self.L = L
        self.squared = squared

    def __call__(self, u, v, squared=None):
        sq = self.squared if squared is None else bool(squared)
        if type(u) is np.ndarray and type(v) is np.ndarray:
            try:
                return _point_mahalanobis(self.L, sq, u, v)
            except (NumbaTypingError, ValueError):
                pass  # e.g. shape (1, d) or an object array: convert below
        return _point_mahalanobis(self.L, sq, _as_vector(u), _as_vector(v))

    def __getstate__(self):
        return self.L, self.squared

    def __setstate__(self, state):
        self.L, self.squared = state


def _as_vector(u):
    """A 1-D float64 array from an array-like (scalars and ``[[...]]`` too, as
    scipy's ``_validate_vector`` reads them)."""
    u = np.atleast_1d(np.asarray(u, dtype=np.float64).squeeze())
    if u.ndim != 1:
        raise ValueError(f"metric(u, v): u and v must be 1-D, got shape {u.shape}.")
    return u


class SupervisedTuplesMixin:
    """``fit(X, y)`` from class labels for a learner defined on tuples.

    Tuples are sampled from ``y`` with ``random_state`` by the hook
    ``_sample_tuples(X, y, rng)`` and handed to the learner's
    ``_fit_tuples(T, tuple_y, rng)`` (see the module docstring). The default
    sampler follows metric-learn's supervised twins, by ``_tuple_size``:

    - 2: ``n_constraints`` similar and as many dissimilar pairs (default
      ``20·C²`` each for ``C`` classes);
    - 3: kNN triplets ``(i, j, l)``, ``j`` one of ``i``'s ``k_genuine`` nearest
      same-class points and ``l`` one of its ``k_impostor`` nearest other-class
      points;
    - 4: quadruplets ``(a, b, c, d)`` from a similar pair ``(a, b)`` and a
      dissimilar pair ``(c, d)`` (``n_constraints`` of them).
    """

    _kind = "supervised"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit on points ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training points.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32],
                             ensure_min_samples=2)
        check_classes(y)
        rng = check_random_state(getattr(self, "random_state", None))
        idx, tuple_y = self._sample_tuples(X, y, rng)
        self._fit_tuples(X[idx], tuple_y, rng)
        return self

    def _n_constraints(self, y):
        n_con = getattr(self, "n_constraints", None)
        return 20 * np.unique(y).shape[0] ** 2 if n_con is None else n_con

    def _sample_tuples(self, X, y, rng):
        """``(indices (n_tuples, k), tuple labels or None)`` drawn from ``y``."""
        k = self._tuple_size
        if k == 2:
            return pairs_from_labels(y, self._n_constraints(y), rng,
                                     same_length=True)
        if k == 3:
            T = Constraints(y).generate_knntriplets(X, self.k_genuine,
                                                    self.k_impostor)
            return T, None
        a, b, c, d = positive_negative_pairs(y, self._n_constraints(y), rng,
                                             same_length=True)
        return np.column_stack([a, b, c, d]), None


class WeaklySupervisedMixin:
    """``fit(tuples, y)`` for a learner on pairs, triplets or quadruplets.

    ``_tuple_size`` (2, 3, 4) drives validation: tuples are arrays of shape
    ``(n_tuples, k, n_features)``, or ``(n_tuples, k)`` identifiers resolved by
    the estimator's ``preprocessor`` (an array of points indexed by row, or a
    callable). Pairs need labels in {−1, +1}; for triplets and quadruplets the
    labels are optional (all +1: the first compared pair is the closer one),
    and a tuple labelled −1 is read in the opposite order. Then the learner's
    ``_fit_tuples(T, y, rng)`` runs (see the module docstring) and, for pairs,
    the threshold is calibrated.
    """

    _tuple_size = 2

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, tuples, y=None):
        """Fit on tuples (and their labels).

        Parameters
        ----------
        tuples : array-like of shape (n_tuples, k, n_features) or (n_tuples, k)
            Tuples of points, or of identifiers resolved by ``preprocessor``
            (``k`` is 2 for pairs, 3 for triplets, 4 for quadruplets).
        y : array-like of shape (n_tuples,), default=None
            Pairs: +1 for similar, −1 for dissimilar (required). Triplets and
            quadruplets: +1 (default) when the first compared pair is closer,
            −1 when it is farther.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        T, y = self._prepare_fit_tuples(tuples, y)
        rng = check_random_state(getattr(self, "random_state", None))
        self._fit_tuples(T, y, rng)
        self._after_fit_tuples(T, y)
        return self

    def _prepare_fit_tuples(self, tuples, y):
        preprocessor = getattr(self, "preprocessor", None)
        T = check_tuples(tuples, preprocessor, self._tuple_size)
        self.n_features_in_ = T.shape[2]
        # a DataFrame of points names the features, as fit(DataFrame) would
        columns = getattr(preprocessor, "columns", None)
        if columns is not None and all(isinstance(c, str) for c in columns):
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.classes_ = np.array([-1, 1])
        return self._prepare_tuple_labels(T, y)

    def _prepare_tuple_labels(self, T, y):
        """``(T, y)`` as ``_fit_tuples`` takes them (see the subclasses)."""
        return T, y

    def _after_fit_tuples(self, T, y):
        pass

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        return tags


class _OrderedTuplesMixin(WeaklySupervisedMixin):
    """Triplets and quadruplets: is the first compared pair the closer one?

    ``_compared`` names the two pairs of tuple positions, closer pair first.
    """

    _compared = ((0, 1), (0, 2))

    def _prepare_tuple_labels(self, T, y):
        if y is None:
            return T, None
        name = "triplet" if self._tuple_size == 3 else "quadruplet"
        y = check_pair_labels(y, T.shape[0], name=name)
        flip = y == -1
        if flip.any():
            (a, b), (c, d) = self._compared
            order = np.arange(self._tuple_size)
            # swap the compared pairs: (a, b, c) -> (a, c, b); (a, b, c, d) ->
            # (c, d, a, b). T may be the caller's array: reorder into a copy.
            order[[a, b]], order[[c, d]] = (c, d), (a, b)
            T = np.where(flip[:, None, None], T[:, order], T)
        return T, None

    def decision_function(self, tuples):
        """Margin of each comparison, positive when the first pair is closer.

        The distance of the second compared pair minus that of the first.

        Parameters
        ----------
        tuples : array-like of shape (n_tuples, k, n_features) or (n_tuples, k)
            Tuples of points, or of identifiers resolved by ``preprocessor``.

        Returns
        -------
        margins : ndarray of shape (n_tuples,)
        """
        T = self._validate_tuples(tuples, self._tuple_size)
        (a, b), (c, d) = self._compared
        return self._tuple_distances(T, c, d) - self._tuple_distances(T, a, b)

    def predict(self, tuples):
        """+1 where the first compared pair is strictly closer, else −1.

        Parameters
        ----------
        tuples : array-like of shape (n_tuples, k, n_features) or (n_tuples, k)
            Tuples of points, or of identifiers resolved by ``preprocessor``.

        Returns
        -------
        y_pred : ndarray of shape (n_tuples,)
            Labels in {−1, +1}.
        """
        return np.where(self.decision_function(tuples) > 0, 1, -1)

    def score(self, tuples, y=None):
        """Fraction of tuples whose order the metric predicts correctly.

        Parameters
        ----------
        tuples : array-like of shape (n_tuples, k, n_features) or (n_tuples, k)
            Tuples of points, or of identifiers resolved by ``preprocessor``.
        y : array-like of shape (n_tuples,), default=None
            True orders in {−1, +1}; ``None`` means all +1.

        Returns
        -------
        score : float
        """
        pred = self.predict(tuples)
        if y is None:
            return float(np.mean(pred == 1))
        name = "triplet" if self._tuple_size == 3 else "quadruplet"
        y = check_pair_labels(y, pred.shape[0], name=name)
        return float(np.mean(pred == y))


class TripletsClassifierMixin(_OrderedTuplesMixin):
    """Learner on triplets ``(anchor, closer, farther)``: ``d(a, b) < d(a, c)``.

    ``predict`` gives +1 where the learned metric orders a triplet as given,
    ``decision_function`` the margin ``d(a, c) − d(a, b)`` and ``score`` the
    fraction ordered correctly.
    """

    _kind = "triplets"
    _tuple_size = 3
    _compared = ((0, 1), (0, 2))


class QuadrupletsClassifierMixin(_OrderedTuplesMixin):
    """Learner on quadruplets ``(a, b, c, d)``: ``d(a, b) < d(c, d)``.

    ``predict`` gives +1 where the learned metric orders a quadruplet as
    given, ``decision_function`` the margin ``d(c, d) − d(a, b)`` and ``score``
    the fraction ordered correctly.
    """

    _kind = "quadruplets"
    _tuple_size = 4
    _compared = ((0, 1), (2, 3))


class PairsClassifierMixin(WeaklySupervisedMixin):
    """Classify pairs as similar (+1) or dissimilar (-1) by a distance threshold.

    For the weakly-supervised learners, whose ``fit(pairs, y)`` takes pairs of
    shape ``(n_pairs, 2, n_features)`` (or ``(n_pairs, 2)`` indices with
    ``preprocessor=X``) and labels in {-1, +1}. A pair is predicted similar when
    its learned distance is at most ``threshold_``, calibrated for accuracy on
    the training pairs at the end of ``fit``.
    """

    _kind = "pairs"
    _tuple_size = 2

    def _prepare_tuple_labels(self, T, y):
        y = check_pair_labels(y, T.shape[0])
        if np.unique(y).shape[0] < 2:
            raise ValueError(
                "pair labels contain a single class; fitting needs both similar "
                "(+1) and dissimilar (-1) pairs."
            )
        return T, y

    def _after_fit_tuples(self, T, y):
        """Training-set threshold (accuracy) and sigmoid."""
        d = self._tuple_distances(T, 0, 1)
        self.threshold_ = best_threshold(d, y, "accuracy", None, 1.0)
        self.sigmoid_ = fit_sigmoid(d, y)

    decision_function = MahalanobisMixin.pair_score

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
        try:
            threshold = float(threshold)
        except (TypeError, ValueError):
            raise ValueError(
                f"threshold must be a real number, got {threshold!r}.") from None
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
            Pairs of points, or of identifiers resolved by ``preprocessor``.
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
            Weight of recall in 'f_beta' (``beta >= 0``; 0 gives the precision).

        Returns
        -------
        self
        """
        d = self.pair_distance(pairs)
        y = check_pair_labels(y, d.shape[0])
        self.threshold_ = best_threshold(d, y, strategy, min_rate, beta)
        self.sigmoid_ = fit_sigmoid(d, y)
        return self
