"""Mahalanobis metric from a covariance estimate: ``M = Σ⁻¹``."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.covariance import MinCovDet, ledoit_wolf

from mlearn.base import MahalanobisMixin
from mlearn.utils._linalg import inverse_sqrt_components
from mlearn.utils._scale import scale_exponent
from mlearn.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from mlearn.utils._stats import (
    check_dask_X,
    dask_scatter_statistics,
    merge_statistics,
    scatter_statistics,
)
from mlearn.utils._validation import FLOAT_DTYPES, _is_dask

_STREAMABLE = ("empirical", "oas", "shrunk")


class Covariance(MahalanobisMixin, BaseEstimator):
    """Mahalanobis metric from a covariance estimate, ``M = Σ⁻¹``.

    The baseline metric: distances are measured in units of the data's own
    spread, so correlated and differently scaled features count fairly. Several
    estimates of ``Σ`` are offered, from the plain empirical covariance
    (metric-learn parity) to shrunk and robust ones built on
    :mod:`sklearn.covariance`. The class labels are ignored.

    Read more in the :ref:`User Guide <covariance>`.

    Parameters
    ----------
    estimator : {'empirical', 'ledoit_wolf', 'oas', 'shrunk', 'mcd'}, \
            default='empirical'
        How ``Σ`` is estimated: the maximum-likelihood (empirical) covariance;
        Ledoit–Wolf or OAS shrinkage towards a scaled identity with the shrinkage
        chosen from the data; a fixed shrinkage (``shrinkage``); or the robust
        Minimum Covariance Determinant, which ignores outliers.
    shrinkage : float in [0, 1], default=0.1
        Shrinkage coefficient for ``estimator='shrunk'``:
        ``Σ = (1 − s) Σ_emp + s (tr Σ_emp / d) I``.
    assume_centered : bool, default=False
        Take the location as 0 instead of estimating it.
    support_fraction : float in (0, 1], default=None
        Fraction of points in the MCD support (``estimator='mcd'``).
    random_state : int, RandomState instance or None, default=None
        Used by ``estimator='mcd'``.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        ``L`` with ``LᵀL = Σ⁻¹`` (pseudo-inverse when ``Σ`` is singular).
    covariance_ : ndarray of shape (n_features, n_features)
        The covariance estimate.
    location_ : ndarray of shape (n_features,)
        The estimated mean (robust for 'mcd').
    shrinkage_ : float
        The shrinkage used ('ledoit_wolf', 'oas', 'shrunk'; 0 otherwise).
    n_samples_seen_ : int
        Number of samples the statistics are built on (for ``partial_fit``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.

    See Also
    --------
    sklearn.covariance.EmpiricalCovariance, sklearn.covariance.LedoitWolf,
    sklearn.covariance.OAS, sklearn.covariance.MinCovDet

    Notes
    -----
    .. math:: d_M(x, x') = \\sqrt{(x - x')^\\top \\Sigma^{-1} (x - x')}

    A singular ``Σ`` (fewer samples than features, constant or collinear
    features) is inverted by the Moore–Penrose pseudo-inverse: directions with
    no variance then contribute nothing to distances. Any shrinkage estimator
    keeps ``Σ`` positive definite instead.

    ``partial_fit`` keeps the count, mean and centred scatter matrix and merges
    chunks exactly (Chan et al.), so for 'empirical', 'oas' and 'shrunk' the
    streamed result equals a single ``fit`` on all rows up to round-off.
    'ledoit_wolf' and 'mcd' need all rows at once.

    The same statistics make ``fit`` work on a :mod:`dask.array` (for
    'empirical', 'oas' and 'shrunk'): each block's ``(n, mean, scatter)`` is
    computed where the block lives and the triples are merged in a tree, so
    only ``d × d`` matrices travel and the data may be larger than any one
    machine. With a :class:`dask.distributed.Client` active the graph runs on its
    cluster::

        from dask.distributed import Client
        import dask.array as da
        client = Client("scheduler-address:8786")
        X = da.from_zarr("features.zarr")          # (n_samples, n_features)
        Covariance().fit(X).transform(X)           # transform stays lazy

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn import Covariance
    >>> X = np.random.RandomState(0).normal(size=(200, 3)) * [1.0, 10.0, 0.1]
    >>> cov = Covariance().fit(X)
    >>> cov.transform(X).std(axis=0).round(1)
    array([1., 1., 1.])
    """

    _kind = "supervised"

    _parameter_constraints: dict = {
        "estimator": [StrOptions({"empirical", "ledoit_wolf", "oas", "shrunk",
                                  "mcd"})],
        "shrinkage": [Interval(Real, 0, 1, closed="both")],
        "assume_centered": ["boolean"],
        "support_fraction": [Interval(Real, 0, 1, closed="right"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator="empirical", shrinkage=0.1, assume_centered=False,
                 support_fraction=None, random_state=None):
        self.estimator = estimator
        self.shrinkage = shrinkage
        self.assume_centered = assume_centered
        self.support_fraction = support_fraction
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Estimate the covariance of ``X`` and its inverse as the metric.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            A dask array is reduced blockwise (see Notes).
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : Covariance
        """
        if _is_dask(X):
            return self._fit_dask(X)
        X = validate_data(self, X, dtype=list(FLOAT_DTYPES), ensure_min_samples=2)
        # statistics of X · 2⁻ᵏ: exact, and no overflow of squares at any scale
        self._scale_exp = k = scale_exponent(X)
        Xs = np.ldexp(X.astype(np.float64), -k) if k else X
        if self.estimator == "ledoit_wolf":
            cov, self.shrinkage_ = ledoit_wolf(Xs, assume_centered=self.assume_centered)
            location = (np.zeros(X.shape[1]) if self.assume_centered
                        else Xs.mean(axis=0))
        elif self.estimator == "mcd":
            mcd = MinCovDet(assume_centered=self.assume_centered,
                            support_fraction=self.support_fraction,
                            random_state=self.random_state).fit(Xs)
            cov, location, self.shrinkage_ = mcd.covariance_, mcd.location_, 0.0
        else:
            self._stats = scatter_statistics(Xs, self.assume_centered)
            self.n_samples_seen_ = X.shape[0]
            return self._finalize(X.dtype)
        self.n_samples_seen_ = X.shape[0]
        self._stats = None
        return self._set_metric(cov, location, X.dtype)

    def _fit_dask(self, X):
        if self.estimator not in _STREAMABLE:
            raise ValueError(
                f"dask arrays are supported for estimator in {_STREAMABLE}; "
                f"{self.estimator!r} needs all rows at once (compute X first)."
            )
        X, dtype = check_dask_X(self, X)
        self._scale_exp = 0
        self._stats = dask_scatter_statistics(X, self.assume_centered)
        self.n_samples_seen_ = self._stats[0]
        if self.n_samples_seen_ < 2:
            raise ValueError(
                f"Found array with {self.n_samples_seen_} sample(s) while a minimum "
                "of 2 is required."
            )
        return self._finalize(dtype)

    def partial_fit(self, X, y=None):
        """Update the estimate with a chunk of rows (streaming).

        Only for ``estimator`` in {'empirical', 'oas', 'shrunk'}. The first call
        may hold a single row; the metric is defined once two rows are seen.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The points.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : Covariance
        """
        first = not hasattr(self, "_stats") or self._stats is None
        if first:
            self._validate_params()
            if self.estimator not in _STREAMABLE:
                raise ValueError(
                    f"partial_fit supports estimator in {_STREAMABLE}; "
                    f"{self.estimator!r} needs all rows at once (use fit)."
                )
        X = validate_data(self, X, reset=first, dtype=list(FLOAT_DTYPES))
        if first:  # later chunks are scaled as the first one
            self._scale_exp = scale_exponent(X)
        k = self._scale_exp
        stats = scatter_statistics(np.ldexp(X.astype(np.float64), -k) if k else X,
                                   self.assume_centered)
        self._stats = stats if first else merge_statistics(self._stats, stats)
        self.n_samples_seen_ = self._stats[0]
        if self.n_samples_seen_ >= 2:
            self._finalize(X.dtype)
        return self

    def mahalanobis(self, X):
        """Squared Mahalanobis distance of each row to ``location_``.

        The usual outlier score: under a Gaussian model it follows a χ² law with
        ``n_features`` degrees of freedom.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The points.

        Returns
        -------
        dist : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "components_")
        X = validate_data(self, X, reset=False, dtype=list(FLOAT_DTYPES))
        Z = (X.astype(np.float64) - self.location_) @ self.components_.T
        return np.einsum("ij,ij->i", Z, Z)

    def _finalize(self, dtype):
        n, mean, scatter = self._stats
        emp = scatter / n
        d = emp.shape[0]
        if self.estimator == "empirical":
            cov, shrink = emp, 0.0
        else:
            mu = np.trace(emp) / d
            if self.estimator == "oas":
                # Chen et al. (2010), as in sklearn.covariance.oas (>= 1.3).
                alpha = np.mean(emp**2)
                num = alpha + mu**2
                den = (n + 1.0) * (alpha - mu**2 / d)
                shrink = 1.0 if den == 0 else min(num / den, 1.0)
            else:
                shrink = float(self.shrinkage)
            cov = (1.0 - shrink) * emp
            cov.flat[:: d + 1] += shrink * mu
        self.shrinkage_ = float(shrink)
        return self._set_metric(cov, mean, dtype)

    def _set_metric(self, cov, location, dtype):
        """Attributes in the data's units from the estimate in scaled units."""
        k = self._scale_exp
        self.location_ = np.ldexp(location, k)
        self.covariance_ = np.ldexp(cov, 2 * k)
        L = np.ldexp(inverse_sqrt_components(cov), -k)
        self.components_ = L.astype(dtype, copy=False)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
