"""Sparse Compositional Metric Learning (Shi, Bellet & Sha, AAAI 2014)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from mlearn._kernels._scml import (
    _scml_batch_subgradient,
    _scml_rda_steps,
    _triplet_hinge_sum,
)
from mlearn.base import (
    MahalanobisMixin,
    SupervisedTuplesMixin,
    TripletsClassifierMixin,
)
from mlearn.utils._linalg import components_from_metric
from mlearn.utils._progress import progress_bar
from mlearn.utils._scale import UNIT_BAND, scale_exponent, spread
from mlearn.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from mlearn.utils._validation import check_classes, check_finite_array

__all__ = ["SCML", "SCMLTriplets", "scml_batch_subgradient", "scml_objective"]

# AdaGrad's guard against division by zero (metric-learn's and the authors' value)
_DELTA = 1e-3


# -- the objective and its stochastic subgradient ---------------------------------

def scml_objective(w, X, basis, triplets, beta):
    """SCML's objective at basis weights ``w``.

    .. math::
        F(w) = \\frac{1}{|T|}\\sum_{(a,b,c)∈T}
        [1 + d_w(x_a, x_b) − d_w(x_a, x_c)]_+ + β\\,‖w‖_1,
        \\qquad d_w(u, v) = \\sum_i w_i\\,(b_iᵀ(u − v))²

    Parameters
    ----------
    w : ndarray of shape (n_basis,)
        Non-negative weights.
    X : ndarray of shape (n_points, n_features)
    basis : ndarray of shape (n_basis, n_features)
    triplets : ndarray of int, shape (n_triplets, 3)
        Rows of ``X``: anchor, closer, farther.
    beta : float

    Returns
    -------
    objective : float
    """
    X = np.asarray(X, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    basis = np.asarray(basis, dtype=np.float64)
    triplets = np.ascontiguousarray(triplets, dtype=np.intp)
    P = _mapped_points(X, basis, w)
    total, _ = _triplet_hinge_sum(P, triplets)
    return float(total / triplets.shape[0] + beta * np.sum(w))


def scml_batch_subgradient(w, X, basis, triplets, idx):
    """Mean triplet hinge and its subgradient in ``w`` over a batch.

    Parameters
    ----------
    w : ndarray of shape (n_basis,)
    X : ndarray of shape (n_points, n_features)
    basis : ndarray of shape (n_basis, n_features)
    triplets : ndarray of int, shape (n_triplets, 3)
    idx : ndarray of int, shape (batch_size,)
        The batch (indices into ``triplets``; repeats count twice).

    Returns
    -------
    loss : float
        ``mean_t max(0, 1 + z_tᵀw)`` with
        ``z_{t,i} = (b_iᵀ(x_a − x_b))² − (b_iᵀ(x_a − x_c))²``.
    grad : ndarray of shape (n_basis,)
        ``mean_t z_t·[1 + z_tᵀw > 0]`` (the ℓ1 term is not included).
    """
    XB = np.ascontiguousarray(np.asarray(X, dtype=np.float64)
                              @ np.asarray(basis, dtype=np.float64).T)
    w = np.ascontiguousarray(w, dtype=np.float64)
    grad = np.empty(XB.shape[1])
    loss = _scml_batch_subgradient(
        XB, np.ascontiguousarray(triplets, dtype=np.intp),
        np.ascontiguousarray(idx, dtype=np.intp), w, grad, np.empty(XB.shape[1]))
    return float(loss), grad


def _mapped_points(X, basis, w):
    """Points mapped by a factor ``L`` of ``M = Σ w_i b_i b_iᵀ`` with
    ``min(n_active, n_features)`` rows."""
    active = w > 0
    Ba = basis[active]
    if Ba.shape[0] <= X.shape[1]:
        L = np.sqrt(w[active])[:, None] * Ba
    else:
        M = (Ba.T * w[active]) @ Ba
        lam, V = np.linalg.eigh(M)
        L = (V * np.sqrt(np.clip(lam, 0.0, None))).T
    return np.ascontiguousarray(X @ L.T)


def _scml_rda(X, triplets, basis, beta, gamma, max_iter, output_iter, batch_size,
              rng, verbose):
    """Regularized dual averaging; keeps the weights with the best objective
    among those reached every ``output_iter`` steps.

    Returns ``(w, objective, n_iter)``.
    """
    XB = np.ascontiguousarray(X @ basis.T)
    K = basis.shape[0]
    n_t = triplets.shape[0]
    w = np.zeros(K)
    avg_grad = np.zeros(K)
    ada_grad = np.zeros(K)
    best_obj, best_w = np.inf, w.copy()
    # steps after the last check could never be returned: they are not run
    n_checks = max_iter // output_iter
    with progress_bar(n_checks * output_iter, "SCML", verbose) as bar:
        for check in range(n_checks):
            # metric-learn draws (max_iter, batch_size) at once; drawing by
            # blocks gives the same numbers
            batches = rng.randint(low=0, high=n_t, size=(output_iter, batch_size))
            _scml_rda_steps(XB, triplets, batches, check * output_iter, w,
                            avg_grad, ada_grad, float(gamma), float(beta), _DELTA)
            total, n_active = _triplet_hinge_sum(_mapped_points(X, basis, w),
                                                 triplets)
            obj = total / n_t + beta * float(np.sum(w))
            if obj < best_obj:
                best_obj, best_w = obj, w.copy()
            bar.update(output_iter)
            bar.set_postfix(obj=f"{obj:.4g}", violated=n_active)
    return best_w, float(best_obj), n_checks * output_iter


# -- bases --------------------------------------------------------------------------

def _basis_triplet_diffs(X, triplets, n_basis, rng):
    """Eigenvectors of ``Σ (x_a−x_b)(x_a−x_b)ᵀ − (x_a−x_c)(x_a−x_c)ᵀ`` over
    random sets of ``n_features`` triplets, until ``n_basis`` are collected."""
    n_t, d = triplets.shape[0], X.shape[1]
    if n_t < d:
        raise ValueError(
            f"basis='triplet_diffs' needs at least n_features ({d}) triplets, got "
            f"{n_t}; give more triplets or a basis array."
        )
    rows, count, empty = [], 0, 0
    while count < n_basis:
        sel = triplets[rng.choice(n_t, size=d, replace=False)]
        Dp = X[sel[:, 0]] - X[sel[:, 1]]
        Dn = X[sel[:, 0]] - X[sel[:, 2]]
        lam, V = np.linalg.eigh(Dp.T @ Dp - Dn.T @ Dn)
        mag = np.abs(lam)
        order = np.argsort(mag)[::-1]
        keep = order[mag[order] > d * np.finfo(np.float64).eps * max(mag.max(), 1e-300)]
        if keep.shape[0] == 0 or mag.max() == 0.0:
            empty += 1
            if empty >= 20:
                raise ValueError(
                    "basis='triplet_diffs' found no direction in 20 random sets of "
                    "triplets: the closer and farther pairs have identical "
                    "differences."
                )
            continue
        take = V[:, keep[:n_basis - count]].T
        rows.append(take)
        count += take.shape[0]
    return np.vstack(rows)


def _local_lda_directions(Xs, sizes, n_dirs, tol=1e-4):
    """Normalised LDA directions of many local sets at once.

    ``Xs`` is ``(n_sets, m, d)`` with the classes in consecutive blocks of
    ``sizes`` along ``m``, the same layout in every set. The directions are
    those of scikit-learn's ``LinearDiscriminantAnalysis(solver='svd')``
    (``scalings_``), computed for all sets in one stacked SVD.

    Returns ``(n_sets, n_dirs, d)``; a set with fewer discriminant directions
    gets zero rows.
    """
    G, m, d = Xs.shape
    C = sizes.shape[0]
    bounds = np.r_[0, np.cumsum(sizes)]
    means = np.stack([Xs[:, lo:hi].mean(axis=1)
                      for lo, hi in zip(bounds[:-1], bounds[1:])], axis=1)
    Xc = Xs - np.repeat(means, sizes, axis=1)
    std = Xc.std(axis=1)
    std[std == 0] = 1.0
    Xw = Xc / std[:, None, :] * np.sqrt(1.0 / max(m - C, 1))
    # right singular vectors and values of Xw from its Gram matrix: one stacked
    # d×d eigh instead of an m×d SVD per set (ranks are decided at S > 1e-4,
    # far above the Gram's round-off of ~1e-16·‖Xw‖²)
    lam, V = np.linalg.eigh(Xw.transpose(0, 2, 1) @ Xw)
    S = np.sqrt(np.clip(lam, 0.0, None))
    keep = S > tol
    S_inv = np.where(keep, 1.0 / np.where(keep, S, 1.0), 0.0)
    scal = V / std[:, :, None] * S_inv[:, None, :]
    priors = sizes / m
    xbar = np.einsum("c,gcd->gd", priors, means)
    weight = np.sqrt(m * priors / max(C - 1, 1))
    Xb = (weight[None, :, None] * (means - xbar[:, None, :])) @ scal
    _, S2, Vt2 = np.linalg.svd(Xb, full_matrices=False)
    keep2 = S2 > tol * S2[:, :1]
    dirs = (scal @ Vt2.transpose(0, 2, 1)) * keep2[:, None, :]
    dirs = dirs[:, :, :n_dirs].transpose(0, 2, 1)
    if dirs.shape[1] < n_dirs:
        dirs = np.concatenate(
            [dirs, np.zeros((G, n_dirs - dirs.shape[1], d))], axis=1)
    norms = np.linalg.norm(dirs, axis=2, keepdims=True)
    return dirs / np.where(norms > 0, norms, 1.0)


def _basis_lda(X, y, n_basis, rng):
    """metric-learn's 'lda' basis: LDA directions of neighbourhoods (at two
    scales) of k-means centres, each neighbourhood made of the centre's nearest
    points of every class."""
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    codes = codes.ravel()
    n, d = X.shape
    C = classes.shape[0]
    n_dirs = min(C - 1, d)
    if n_basis is None:
        n_basis = min(20 * d, 2 * n * n_dirs - 1)
    if n_basis >= 2 * n * n_dirs:
        raise ValueError(
            f"n_basis ({n_basis}) is too large for basis='lda': {n} samples and "
            f"{C} classes give fewer than {2 * n * n_dirs} LDA directions."
        )
    if n_basis < C:
        warnings.warn(
            f"n_basis ({n_basis}) is smaller than the number of classes ({C}); "
            "the metric may discriminate poorly.", UserWarning, stacklevel=3)
    n_clusters = int(np.ceil(n_basis / (2 * n_dirs)))
    seed = rng.randint(np.iinfo(np.int32).max)
    with warnings.catch_warnings():
        # duplicated points make fewer distinct centres; harmless here
        warnings.simplefilter("ignore")
        centres = KMeans(n_clusters=n_clusters, n_init=1,
                         random_state=seed).fit(X).cluster_centers_
    scales = (20, 50) if d > 50 else (10, 20)
    k = np.minimum(counts[None, :], np.array(scales)[:, None])  # (2, C)
    # nearest members of every class to every centre, at the larger scale
    nearest = []
    for c in range(C):
        members = np.flatnonzero(codes == c)
        Xm = X[members]
        D = (np.sum(centres**2, axis=1)[:, None] - 2.0 * centres @ Xm.T
             + np.sum(Xm**2, axis=1)[None, :])
        nearest.append(members[np.argsort(D, axis=1, kind="stable")[:, :k[1, c]]])
    blocks = []
    for s in range(2):
        idx = np.hstack([nearest[c][:, :k[s, c]] for c in range(C)])
        blocks.append(_local_lda_directions(X[idx], k[s], n_dirs)
                      .reshape(-1, d))
    return np.vstack(blocks)[:n_basis]


def _components_from_weights(basis, w, n_features):
    active = w > 0
    if not active.any():
        warnings.warn(
            "SCML kept no basis element (every weight is zero): the learned "
            "metric is zero. Standardize the features, lower beta, raise gamma "
            "(smaller steps) or max_iter, or use more triplets or another "
            "basis.", UserWarning, stacklevel=3)
        return np.zeros((1, n_features))
    Ba = basis[active]
    if Ba.shape[0] < n_features:
        return np.sqrt(w[active])[:, None] * Ba
    return components_from_metric((Ba.T * w[active]) @ Ba, strict=False)


def _indexed_points(T):
    """Triplets of points ``(n, 3, d)`` → distinct points and row indices."""
    d = T.shape[2]
    X, inverse = np.unique(T.reshape(-1, d), axis=0, return_inverse=True)
    return X, inverse.reshape(-1, 3).astype(np.intp)


class _BaseSCML(MahalanobisMixin, BaseEstimator):
    _tuple_size = 3

    _parameter_constraints: dict = {
        "beta": [Interval(Real, 0, None, closed="left")],
        "basis": [StrOptions({"triplet_diffs"}), np.ndarray],
        "n_basis": [None, Interval(Integral, 1, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "output_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def _fit_tuples(self, T, y, rng):
        """Fit on triplet arrays ``T`` (n, 3, d), closer pair first."""
        X, triplets = _indexed_points(T.astype(np.float64, copy=False))
        self._check_iterations()
        self._check_triplets(X, triplets)
        # many small BLAS/LAPACK calls: thread pools only add overhead
        with threadpool_limits(1):
            basis = self._basis(X, None, triplets, rng)
            self._solve(X, triplets, basis, rng, T.dtype)

    @staticmethod
    def _check_triplets(X, triplets):
        # by blocks: the first block almost always has an informative triplet
        for start in range(0, triplets.shape[0], 4096):
            t = triplets[start:start + 4096]
            if np.any(X[t[:, 1]] != X[t[:, 2]]):
                return
        raise ValueError(
            f"all {triplets.shape[0]} triplets have identical closer and "
            "farther points; they constrain nothing."
        )

    def _check_iterations(self):
        if self.output_iter > self.max_iter:
            raise ValueError(
                f"output_iter ({self.output_iter}) must not exceed max_iter "
                f"({self.max_iter})."
            )

    def _basis(self, X, y, triplets, rng):
        d = X.shape[1]
        if isinstance(self.basis, np.ndarray):
            basis = check_finite_array(self.basis, "basis").astype(np.float64)
            if basis.shape[1] != d:
                raise ValueError(
                    f"basis has {basis.shape[1]} features but the data have {d}; "
                    "it must have shape (n_basis, n_features)."
                )
            return np.ascontiguousarray(basis)
        if self.basis == "lda":
            return _basis_lda(X, y, self.n_basis, rng)
        n_basis = 80 * d if self.n_basis is None else self.n_basis
        return _basis_triplet_diffs(X, triplets, n_basis, rng)

    def _solve(self, X, triplets, basis, rng, dtype):
        # The hinge's margin of 1 ties SCML to the data's units: solve on the
        # points scaled by the power of two nearest their spread (exact, and
        # the identity for standardised data; far outside ordinary units by
        # the spread itself), then scale L back. On raw
        # features with a large-variance noise axis the steps are otherwise
        # out of proportion and every weight can end at zero.
        k = scale_exponent(X)
        s = 2.0**k if abs(k) <= UNIT_BAND else spread(X)
        w, obj, n_iter = _scml_rda(
            X / s if s != 1.0 else X, triplets, basis, self.beta, self.gamma,
            self.max_iter, self.output_iter, self.batch_size, rng, self.verbose)
        self.basis_ = basis
        self.weights_ = w
        self.objective_ = obj
        self.n_iter_ = n_iter
        L = _components_from_weights(basis, w, X.shape[1]) / s
        self.components_ = np.ascontiguousarray(L).astype(dtype, copy=False)


class SCML(SupervisedTuplesMixin, _BaseSCML):
    """Sparse Compositional Metric Learning from class labels.

    Builds triplets ``(x_i, x_j, x_l)`` from each point's ``k_genuine``
    nearest same-class and ``k_impostor`` nearest other-class neighbours and
    learns a Mahalanobis matrix ``M = Σ w_i b_i b_iᵀ``, a sparse non-negative
    combination of rank-one matrices over a basis of locally discriminative
    directions, by regularized dual averaging on the triplet hinge loss with an
    ℓ1 penalty on ``w``.

    Read more in the :ref:`User Guide <scml>`.

    Parameters
    ----------
    k_genuine : int, default=3
        Same-class neighbours of each point used as closer points.
    k_impostor : int, default=10
        Other-class neighbours of each point used as farther points.
    beta : float, default=1e-5
        Weight of the ℓ1 penalty on ``w``.
    basis : {'lda', 'triplet_diffs'} or ndarray of shape (n_basis, n_features), \
default='lda'
        'lda': normalised LDA directions of the neighbourhoods (10 and 20
        nearest points of each class, or 20 and 50 above 50 features) of
        k-means centres. 'triplet_diffs': eigenvectors of sums of the
        triplets' closer minus farther difference outer products. An array:
        its rows are the basis.
    n_basis : int, default=None
        Number of basis elements to build; ``None``:
        ``min(20·n_features, 2·n_samples·min(n_classes − 1, n_features) − 1)``
        for 'lda', ``80·n_features`` for 'triplet_diffs'. Ignored for an array.
    gamma : float, default=5e-3
        Step scale of the dual averaging: larger values take smaller steps.
    max_iter : int, default=10000
        Number of stochastic steps.
    output_iter : int, default=500
        The objective is evaluated every ``output_iter`` steps and the best
        weights seen are kept; at most ``max_iter``.
    batch_size : int, default=10
        Triplets per stochastic step, drawn with replacement.
    verbose : bool, default=False
        Show a progress bar with the objective.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means of the 'lda' basis, the triplet sets of
        'triplet_diffs' and the batches.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``L`` with ``LᵀL = M``; ``n_components`` is the number of basis
        elements with a positive weight when that is below ``n_features``,
        else ``n_features``.
    basis_ : ndarray of shape (n_basis, n_features)
        The basis ``b_i`` (rows).
    weights_ : ndarray of shape (n_basis,)
        The learned sparse weights ``w``.
    objective_ : float
        The objective at ``weights_`` (both in units of the points scaled by
        the power of two nearest their spread; ``components_`` is in the
        data's units).
    n_iter_ : int
        Number of stochastic steps run.
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    SCMLTriplets : the same learner fitted on given triplets.
    LMNN : large-margin nearest neighbours, on the same kind of triplets.

    Notes
    -----
    SCML minimises, over ``w ≥ 0``,

    .. math::
        \\frac{1}{|T|}\\sum_{(a,b,c)∈T}
        [1 + d_w(x_a, x_b) − d_w(x_a, x_c)]_+ + β\\,‖w‖_1,
        \\qquad d_w(u, v) = \\sum_i w_i\\,(b_iᵀ(u − v))²

    by regularized dual averaging with AdaGrad step sizes: each step averages
    the subgradients seen so far and sets ``w`` in closed form. A step costs
    ``O(batch_size · n_basis)``; the objective check every ``output_iter``
    steps costs ``O(n_triplets · min(n_active, n_features))``.

    References
    ----------
    .. [1] Y. Shi, A. Bellet, F. Sha. Sparse Compositional Metric Learning.
       AAAI 2014.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlearn import SCML
    >>> X, y = load_iris(return_X_y=True)
    >>> scml = SCML(max_iter=1000, output_iter=100, random_state=0).fit(X, y)
    >>> scml.transform(X).shape[0]
    150
    """

    _parameter_constraints: dict = {
        **_BaseSCML._parameter_constraints,
        "basis": [StrOptions({"lda", "triplet_diffs"}), np.ndarray],
        "k_genuine": [Interval(Integral, 1, None, closed="left")],
        "k_impostor": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, k_genuine=3, k_impostor=10, beta=1e-5, basis="lda",
                 n_basis=None, gamma=5e-3, max_iter=10000, output_iter=500,
                 batch_size=10, verbose=False, random_state=None):
        self.k_genuine = k_genuine
        self.k_impostor = k_impostor
        self.beta = beta
        self.basis = basis
        self.n_basis = n_basis
        self.gamma = gamma
        self.max_iter = max_iter
        self.output_iter = output_iter
        self.batch_size = batch_size
        self.verbose = verbose
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Sample kNN triplets from the labels and learn the metric.

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
        self._check_iterations()
        rng = check_random_state(self.random_state)
        X64 = X.astype(np.float64, copy=False)
        # one thread for BLAS and OpenMP (neighbour search, k-means): the work
        # is many small calls, where thread pools only add overhead (the kNN
        # triplets of digits took 0.7 s on one thread, 7-12 s with the pools,
        # on a busy 2-core machine)
        with threadpool_limits(1):
            triplets, _ = self._sample_tuples(X64, y, rng)
            triplets = np.ascontiguousarray(triplets, dtype=np.intp)
            self._check_triplets(X64, triplets)
            basis = self._basis(X64, y, triplets, rng)
            self._solve(X64, triplets, basis, rng, X.dtype)
        return self


class SCMLTriplets(TripletsClassifierMixin, _BaseSCML):
    """Sparse Compositional Metric Learning from triplets.

    Learns a Mahalanobis matrix ``M = Σ w_i b_i b_iᵀ``, a sparse non-negative
    combination of rank-one matrices over a basis, so that in each triplet
    ``(a, b, c)`` the point ``b`` is closer to ``a`` than ``c`` is, by
    regularized dual averaging on the triplet hinge loss with an ℓ1 penalty
    on ``w``; then predicts whether new triplets are so ordered.

    Read more in the :ref:`User Guide <scml>`.

    Parameters
    ----------
    beta : float, default=1e-5
        Weight of the ℓ1 penalty on ``w``.
    basis : 'triplet_diffs' or ndarray of shape (n_basis, n_features), \
default='triplet_diffs'
        'triplet_diffs': eigenvectors of sums, over random sets of
        ``n_features`` triplets, of the closer minus farther difference outer
        products (needs at least ``n_features`` triplets). An array: its rows
        are the basis.
    n_basis : int, default=None
        Number of basis elements to build; ``None``: ``80·n_features``.
        Ignored for an array.
    gamma : float, default=5e-3
        Step scale of the dual averaging: larger values take smaller steps.
    max_iter : int, default=10000
        Number of stochastic steps.
    output_iter : int, default=500
        The objective is evaluated every ``output_iter`` steps and the best
        weights seen are kept; at most ``max_iter``.
    batch_size : int, default=10
        Triplets per stochastic step, drawn with replacement.
    verbose : bool, default=False
        Show a progress bar with the objective.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
default=None
        Resolves index triplets of shape ``(n_triplets, 3)`` into points.
    random_state : int, RandomState instance or None, default=None
        Seeds the triplet sets of 'triplet_diffs' and the batches.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``L`` with ``LᵀL = M``; ``n_components`` is the number of basis
        elements with a positive weight when that is below ``n_features``,
        else ``n_features``.
    basis_ : ndarray of shape (n_basis, n_features)
        The basis ``b_i`` (rows).
    weights_ : ndarray of shape (n_basis,)
        The learned sparse weights ``w``.
    objective_ : float
        The objective at ``weights_`` (both in units of the points scaled by
        the power of two nearest their spread; ``components_`` is in the
        data's units).
    n_iter_ : int
        Number of stochastic steps run.
    n_features_in_ : int
        Number of features seen during ``fit``.
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``.

    See Also
    --------
    SCML : the same learner with kNN triplets sampled from class labels.

    Notes
    -----
    SCML minimises, over ``w ≥ 0``,

    .. math::
        \\frac{1}{|T|}\\sum_{(a,b,c)∈T}
        [1 + d_w(x_a, x_b) − d_w(x_a, x_c)]_+ + β\\,‖w‖_1,
        \\qquad d_w(u, v) = \\sum_i w_i\\,(b_iᵀ(u − v))²

    by regularized dual averaging with AdaGrad step sizes. The triplets'
    points are deduplicated and projected on the basis once; a step costs
    ``O(batch_size · n_basis)``.

    References
    ----------
    .. [1] Y. Shi, A. Bellet, F. Sha. Sparse Compositional Metric Learning.
       AAAI 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn import SCMLTriplets
    >>> triplets = np.array([[[1.2, 7.5], [1.3, 1.5], [6.2, 9.7]],
    ...                      [[1.3, 4.5], [3.2, 4.6], [5.4, 5.4]],
    ...                      [[3.2, 7.5], [3.3, 1.5], [8.2, 9.7]],
    ...                      [[3.3, 4.5], [5.2, 4.6], [7.4, 5.4]]])
    >>> scml = SCMLTriplets(n_basis=8, max_iter=200, output_iter=50,
    ...                     random_state=0).fit(triplets)
    >>> scml.predict(triplets).shape
    (4,)
    """

    _parameter_constraints: dict = {
        **_BaseSCML._parameter_constraints,
        "preprocessor": [None, "array-like", callable],
    }

    def __init__(self, beta=1e-5, basis="triplet_diffs", n_basis=None, gamma=5e-3,
                 max_iter=10000, output_iter=500, batch_size=10, verbose=False,
                 preprocessor=None, random_state=None):
        self.beta = beta
        self.basis = basis
        self.n_basis = n_basis
        self.gamma = gamma
        self.max_iter = max_iter
        self.output_iter = output_iter
        self.batch_size = batch_size
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state
