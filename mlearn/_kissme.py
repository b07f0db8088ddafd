"""KISSME: ``M = Σ_S⁻¹ − Σ_D⁻¹`` from sufficient statistics (Köstinger et al. 2012)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator

from mlearn.base import MahalanobisMixin, PairsClassifierMixin
from mlearn.utils._linalg import safe_inverse
from mlearn.utils._scale import scale_exponent
from mlearn.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from mlearn.utils._stats import (
    check_dask_labels,
    check_dask_X,
    class_statistics,
    encode_labels,
    labelled_statistics,
    merge_labelled,
    merge_statistics,
    scatter_statistics,
    tree_reduce,
)
from mlearn.utils._validation import (
    FLOAT_DTYPES,
    _is_dask,
    check_classes,
    check_n_components,
)

__all__ = ["KISSME", "KISSMEPairs", "kissme_covariances"]

def kissme_covariances(stats, weights="pairs"):
    """``(Σ_S, Σ_D)`` over all same-class and all different-class pairs, exactly.

    Parameters
    ----------
    stats : list of (n_c, mean_c, scatter_c)
        One triple per class (see :func:`class_statistics`).
    weights : {'pairs', 'classes'}, default='pairs'
        'pairs': every unordered pair ``i < j`` counts once. 'classes': each class
        counts equally in ``Σ_S`` (the mean of its pairs' outer products) and each
        pair of classes equally in ``Σ_D``.

    Returns
    -------
    sigma_s, sigma_d : ndarray of shape (n_features, n_features)
        Mean of ``(x_i − x_j)(x_i − x_j)ᵀ`` over the similar and the dissimilar
        pairs.

    Notes
    -----
    For ordered pairs within a class ``c`` of ``n_c`` points with centred
    scatter ``S_c``, and for two classes ``a ≠ b`` with means ``μ_a, μ_b``,

    .. math::

        \\sum_{i, j \\in c} (x_i - x_j)(x_i - x_j)^\\top = 2 n_c S_c, \\qquad
        \\sum_{i \\in a, j \\in b} (x_i - x_j)(x_i - x_j)^\\top
        = n_b S_a + n_a S_b + n_a n_b (\\mu_a - \\mu_b)(\\mu_a - \\mu_b)^\\top.

    Summed over all unordered dissimilar pairs the second gives
    ``Σ_c (n − n_c) S_c + n Σ_c n_c (μ_c − μ)(μ_c − μ)ᵀ`` (all pairs, ``n S``,
    minus the similar ones, written without the cancelling subtraction).
    """
    ns = np.array([st[0] for st in stats], dtype=np.float64)
    means = np.array([st[1] for st in stats])
    scatters = np.array([st[2] for st in stats])
    n = ns.sum()
    if weights == "pairs":
        n_sim = float(np.sum(ns * (ns - 1.0)) / 2.0)
        n_dis = float((n * n - np.sum(ns * ns)) / 2.0)
        mu = ns @ means / n
        dev = (means - mu) * np.sqrt(ns)[:, None]
        sigma_s = np.einsum("c,cij->ij", ns, scatters) / n_sim
        sigma_d = (np.einsum("c,cij->ij", n - ns, scatters) + n * dev.T @ dev) / n_dis
    else:
        k = ns.shape[0]
        covs = scatters / ns[:, None, None]
        has_pairs = ns > 1
        # mean over the class's n_c (n_c − 1) / 2 pairs: n_c S_c / that
        sigma_s = np.einsum("c,cij->ij", 2.0 / (ns[has_pairs] - 1.0),
                            scatters[has_pairs]) / has_pairs.sum()
        dev = means - means.mean(axis=0)
        # Σ_{a<b} (cov_a + cov_b + δδᵀ) = (k−1) Σ cov_a + k Σ (μ_a − μ̄)(μ_a − μ̄)ᵀ
        sigma_d = ((k - 1) * covs.sum(axis=0) + k * dev.T @ dev) / (k * (k - 1) / 2)
    return sigma_s, sigma_d


def _shrunk_inverse(sigma, shrinkage):
    """Inverse (pseudo-inverse if singular) of ``(1 − s) Σ + s (tr Σ / d) I``."""
    if shrinkage:
        d = sigma.shape[0]
        mu = np.trace(sigma) / d
        sigma = (1.0 - shrinkage) * sigma
        sigma.flat[:: d + 1] += shrinkage * mu
    return safe_inverse(sigma)


def _scaled(X, k):
    """``X · 2⁻ᵏ`` (exact), without a copy when ``k == 0``."""
    return X if k == 0 else np.ldexp(X, -k).astype(X.dtype, copy=False)


def _pca_basis(scatter, n_components):
    """Rows: the ``n_components`` leading principal directions of a scatter."""
    w, V = np.linalg.eigh(scatter)
    return np.ascontiguousarray(V[:, ::-1][:, :n_components].T)


def _kissme_components(sigma_s, sigma_d, shrinkage, basis):
    """``L`` with ``LᵀL = Bᵀ P₊(Σ_S⁻¹ − Σ_D⁻¹) B`` (``B`` the PCA basis or I).

    One ``eigh`` gives both the PSD projection (negative eigenvalues → 0) and
    ``L``, whose rows are the eigen-directions by decreasing eigenvalue.
    """
    for sigma, kind in ((sigma_s, "similar"), (sigma_d, "dissimilar")):
        if not np.any(sigma):
            raise ValueError(
                f"every {kind} pair joins two identical points, so Σ of the "
                f"{kind} differences is zero and KISSME's metric is undefined."
            )
    M = _shrunk_inverse(sigma_s, shrinkage) - _shrunk_inverse(sigma_d, shrinkage)
    w, V = np.linalg.eigh((M + M.T) / 2.0)
    w, V = w[::-1], V[:, ::-1]
    L = np.ascontiguousarray((V * np.sqrt(np.clip(w, 0.0, None))).T)
    return L if basis is None else L @ basis


class KISSME(MahalanobisMixin, BaseEstimator):
    """KISSME metric from class labels, over all pairs, in closed form.

    Keep It Simple and Straightforward MEtric: the Mahalanobis matrix is the
    difference of the inverse covariances of the differences of dissimilar and
    similar pairs. This supervised form uses **every** same-class and every
    different-class pair exactly, computed from class counts, means and
    scatters in ``O(n d² + d³)`` time and ``O(k d²)`` memory (``k`` classes) —
    no pair is enumerated or sampled. The statistics stream (``partial_fit``)
    and reduce over a :mod:`dask.array` blockwise (``fit``).

    Read more in the :ref:`User Guide <kissme>`.

    Parameters
    ----------
    n_components : int, default=None
        Reduce to this many principal components before estimating the
        covariances (the paper's PCA step); ``components_`` then has shape
        ``(n_components, n_features)``. ``None`` keeps all features.
    shrinkage : float in [0, 1), default=0.0
        Shrink both covariances towards a scaled identity before inverting:
        ``Σ ← (1 − s) Σ + s (tr Σ / d) I`` (a ridge scaled to the data).
    weights : {'pairs', 'classes'}, default='pairs'
        How pairs are averaged. 'pairs': every pair counts once (the paper's
        definition, over all pairs). 'classes': every class counts once in
        ``Σ_S`` and every pair of classes once in ``Σ_D``, so large classes do
        not dominate imbalanced data. See Notes on the paper's sampling.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``L`` with ``LᵀL = M`` (dtype of the input).
    classes_ : ndarray of shape (n_classes,)
        Labels seen (sorted).
    n_samples_seen_ : int
        Rows the statistics are built on.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.

    See Also
    --------
    KISSMEPairs : the same metric from labelled pairs.
    Covariance : ``M = Σ⁻¹`` of the points themselves.

    Notes
    -----
    For ordered pairs within class ``c`` (``n_c`` points, centred scatter
    ``S_c``) and for all ordered pairs (``n`` points, scatter ``S``):

    .. math::

        \\sum_{i, j \\in c} (x_i - x_j)(x_i - x_j)^\\top = 2 n_c S_c, \\qquad
        \\sum_{i, j} (x_i - x_j)(x_i - x_j)^\\top = 2 n S,

    and dissimilar = all − similar. With ``|S| = Σ_c n_c (n_c − 1) / 2`` and
    ``|D| = n (n − 1) / 2 − |S|`` unordered pairs this gives ``Σ_S`` and ``Σ_D``
    exactly (see :func:`~mlearn._kissme.kissme_covariances`).

    ``M`` is the log-likelihood ratio test of a pair difference
    ``δ = x_i − x_j`` under two zero-mean Gaussians, one fitted to similar and
    one to dissimilar pairs; keeping the quadratic term and projecting onto the
    positive semi-definite cone (negative eigenvalues → 0) gives

    .. math::

        M = P_{+}\\left(\\Sigma_S^{-1} - \\Sigma_D^{-1}\\right), \\qquad
        \\Sigma_S = \\frac{1}{|S|} \\sum_{(i, j) \\in S} \\delta_{ij}
        \\delta_{ij}^\\top, \\quad
        \\Sigma_D = \\frac{1}{|D|} \\sum_{(i, j) \\in D} \\delta_{ij}
        \\delta_{ij}^\\top.

    A singular ``Σ`` (fewer pairs than features, constant features) is
    inverted by the pseudo-inverse: directions without variance then add
    nothing. ``shrinkage`` (towards ``tr(Σ)/d · I``) or ``n_components`` (PCA
    first, as the paper does) keep both covariances well conditioned; this is
    usually what makes KISSME work on raw high-dimensional features.

    With ``n_components=k`` the covariances are those of the PCA-projected
    differences and ``components_ = L_k B`` with ``B`` the ``(k, n_features)``
    PCA basis, so ``transform`` maps input space directly. The basis comes from
    the same statistics (no second pass over the data).

    **The paper's sampling.** On labelled data the paper draws as many
    dissimilar pairs as there are similar ones, uniformly at random. Because
    ``Σ_S`` and ``Σ_D`` are *means* over their pairs, the number of pairs drawn
    is only a scale of the sums and cancels: the sample's expected ``Σ_D`` is
    exactly the all-pairs ``Σ_D`` computed here. What sampling changes is only
    noise (a different metric for every seed), so no "balance" option is
    offered — this estimator is the zero-variance limit of the paper's. What does
    change the metric is how the average spreads over classes, hence
    ``weights``.

    ``partial_fit`` keeps ``(n_c, mean_c, scatter_c)`` per class and merges
    chunks exactly (classes may first appear in any chunk), so streaming equals
    one ``fit`` up to round-off. ``fit`` on a dask array (``y`` a dask or numpy
    array) computes these per block where the block lives and merges them in a
    tree; only ``k`` matrices of ``d × d`` travel. Under an active
    :class:`dask.distributed.Client` this runs on its cluster::

        from dask.distributed import Client
        client = Client("scheduler-address:8786")
        kissme = KISSME(n_components=64).fit(X_dask, y_dask)
        Z = kissme.transform(X_dask)            # lazy dask array

    References
    ----------
    .. [1] M. Köstinger, M. Hirzer, P. Wohlhart, P. M. Roth, H. Bischof. "Large
       Scale Metric Learning from Equivalence Constraints". CVPR 2012.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlearn import KISSME
    >>> X, y = load_iris(return_X_y=True)
    >>> kissme = KISSME().fit(X, y)
    >>> kissme.transform(X).shape
    (150, 4)
    >>> KISSME(n_components=2).fit(X, y).components_.shape
    (2, 4)
    """

    _kind = "supervised"

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "shrinkage": [Interval(Real, 0, 1, closed="left")],
        "weights": [StrOptions({"pairs", "classes"})],
    }

    def __init__(self, n_components=None, shrinkage=0.0, weights="pairs"):
        self.n_components = n_components
        self.shrinkage = shrinkage
        self.weights = weights

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the metric from all same-class and different-class pairs.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            The points.
        y : array-like or dask array of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : KISSME
        """
        if _is_dask(X):
            return self._fit_dask(X, y)
        X, y = validate_data(self, X, y, dtype=list(FLOAT_DTYPES),
                             ensure_min_samples=2)
        check_n_components(self.n_components, X.shape[1])
        classes, inverse = encode_labels(y)
        self._scale_exp = scale_exponent(X)
        stats = class_statistics(_scaled(X, self._scale_exp), inverse,
                                 classes.shape[0])
        self._class_stats = dict(zip(classes.tolist(), stats))
        return self._finalize(X.dtype, strict=True)

    def partial_fit(self, X, y):
        """Update the statistics with a chunk of labelled rows (streaming).

        Classes may appear for the first time in any chunk. The metric is
        (re)computed once there are two classes and a class with two rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The points.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : KISSME
        """
        first = getattr(self, "_class_stats", None) is None
        if first:
            self._validate_params()
        X, y = validate_data(self, X, y, reset=first, dtype=list(FLOAT_DTYPES))
        check_n_components(self.n_components, X.shape[1])
        if first:  # later chunks are scaled as the first one
            self._scale_exp = scale_exponent(X)
        chunk = labelled_statistics(_scaled(X, self._scale_exp), y)
        self._class_stats = chunk if first else merge_labelled(self._class_stats,
                                                                 chunk)
        return self._finalize(X.dtype, strict=False)

    def _fit_dask(self, X, y):
        import dask

        X, dtype = check_dask_X(self, X)
        check_n_components(self.n_components, X.shape[1])
        y = check_dask_labels(y, X)
        parts = [dask.delayed(labelled_statistics)(xb, yb)
                 for xb, yb in zip(X.to_delayed().ravel(), y.to_delayed().ravel())]
        (self._class_stats,) = dask.compute(tree_reduce(parts, merge_labelled))
        self._scale_exp = 0
        return self._finalize(dtype, strict=True)

    def _finalize(self, dtype, strict):
        labels = sorted(self._class_stats)
        stats = [self._class_stats[c] for c in labels]
        counts = np.array([st[0] for st in stats])
        self.classes_ = np.array(labels)
        self.n_samples_seen_ = int(counts.sum())
        if len(labels) < 2 or counts.max() < 2:
            if not strict:
                return self  # partial_fit: wait for more data
            if len(labels) < 2:
                check_classes(self.classes_)  # raises the single-class error
            raise ValueError(
                "every class has a single sample, so there are no similar pairs; "
                "KISSME needs a class with at least 2 samples."
            )
        basis = None
        if self.n_components is not None:
            total = stats[0]
            for st in stats[1:]:
                total = merge_statistics(total, st)
            basis = _pca_basis(total[2], self.n_components)
            stats = [(n, basis @ m, basis @ S @ basis.T) for n, m, S in stats]
        sigma_s, sigma_d = kissme_covariances(stats, self.weights)
        L = _kissme_components(sigma_s, sigma_d, self.shrinkage, basis)
        self.components_ = np.ldexp(L, -self._scale_exp).astype(dtype, copy=False)
        return self




class KISSMEPairs(PairsClassifierMixin, MahalanobisMixin, BaseEstimator):
    """KISSME metric from similar (+1) and dissimilar (−1) pairs.

    The weakly-supervised form of :class:`KISSME`, as in the paper's face
    verification experiments: ``Σ_S`` and ``Σ_D`` are the mean outer products
    of the differences of the given similar and dissimilar pairs. A classifier
    on pairs: a pair is similar when its learned distance is at most
    ``threshold_`` (chosen for accuracy on the training pairs).

    Read more in the :ref:`User Guide <kissme>`.

    Parameters
    ----------
    n_components : int, default=None
        Reduce to this many principal components of the pairs' points first
        (the paper's PCA step); ``components_`` then has shape
        ``(n_components, n_features)``.
    shrinkage : float in [0, 1), default=0.0
        Shrink both covariances towards ``tr(Σ)/d · I`` before inverting.
    preprocessor : array-like or callable, default=None
        Resolves pairs of indices ``(n_pairs, 2)`` into points.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    threshold_ : float
    sigmoid_ : tuple of float
        Platt scaling used by ``predict_proba``.
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``.
    n_features_in_ : int

    See Also
    --------
    KISSME : the same metric from class labels, over all pairs.

    Notes
    -----

    ``M`` is the log-likelihood ratio test of a pair difference
    ``δ = x_i − x_j`` under two zero-mean Gaussians, one fitted to similar and
    one to dissimilar pairs; keeping the quadratic term and projecting onto the
    positive semi-definite cone (negative eigenvalues → 0) gives

    .. math::

        M = P_{+}\\left(\\Sigma_S^{-1} - \\Sigma_D^{-1}\\right), \\qquad
        \\Sigma_S = \\frac{1}{|S|} \\sum_{(i, j) \\in S} \\delta_{ij}
        \\delta_{ij}^\\top, \\quad
        \\Sigma_D = \\frac{1}{|D|} \\sum_{(i, j) \\in D} \\delta_{ij}
        \\delta_{ij}^\\top.

    A singular ``Σ`` (fewer pairs than features, constant features) is
    inverted by the pseudo-inverse: directions without variance then add
    nothing. ``shrinkage`` (towards ``tr(Σ)/d · I``) or ``n_components`` (PCA
    first, as the paper does) keep both covariances well conditioned; this is
    usually what makes KISSME work on raw high-dimensional features.

    With ``n_components=k`` the covariances are those of the PCA-projected
    differences and ``components_ = L_k B`` with ``B`` the ``(k, n_features)``
    PCA basis, so ``transform`` maps input space directly. The basis comes from
    the same statistics (no second pass over the data).

    The PCA basis is that of the pairs' points stacked (a point in several
    pairs counts once per pair). With the pairs of *all* ``i < j`` built from
    labels, each point appears ``n − 1`` times, so the basis and the metric are
    exactly :class:`KISSME`'s.

    References
    ----------
    .. [1] M. Köstinger, M. Hirzer, P. Wohlhart, P. M. Roth, H. Bischof. "Large
       Scale Metric Learning from Equivalence Constraints". CVPR 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn import KISSMEPairs
    >>> rng = np.random.RandomState(0)
    >>> a = rng.normal(size=(100, 3))
    >>> similar = np.stack([a, a + 0.1 * rng.normal(size=a.shape)], axis=1)
    >>> dissimilar = np.stack([a, rng.normal(size=a.shape)], axis=1)
    >>> pairs = np.concatenate([similar, dissimilar])
    >>> y = np.r_[np.ones(100), -np.ones(100)]
    >>> KISSMEPairs().fit(pairs, y).score(pairs, y) > 0.95
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "shrinkage": [Interval(Real, 0, 1, closed="left")],
        "preprocessor": ["array-like", callable, None],
    }

    def __init__(self, n_components=None, shrinkage=0.0, preprocessor=None):
        self.n_components = n_components
        self.shrinkage = shrinkage
        self.preprocessor = preprocessor

    def _fit_tuples(self, P, y, rng):
        d = P.shape[2]
        check_n_components(self.n_components, d)
        k = scale_exponent(P)
        P = _scaled(P, k)
        basis = None
        if self.n_components is not None:
            _, _, scatter = scatter_statistics(P.reshape(-1, d))
            basis = _pca_basis(scatter, self.n_components)
        sigmas = []
        for label in (1, -1):
            sel = P[y == label]
            diff = np.subtract(sel[:, 0], sel[:, 1], dtype=np.float64)
            if basis is not None:
                diff = diff @ basis.T
            sigmas.append(diff.T @ diff / diff.shape[0])
        L = _kissme_components(sigmas[0], sigmas[1], self.shrinkage, basis)
        self.components_ = np.ldexp(L, -k).astype(P.dtype, copy=False)

