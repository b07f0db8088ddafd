"""Information-Theoretic Metric Learning (Davis et al., ICML 2007)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator

from mlearn._kernels._itml import _itml_sweep
from mlearn.base import (
    MahalanobisMixin,
    PairsClassifierMixin,
    SupervisedTuplesMixin,
)
from mlearn.utils._init import initial_metric
from mlearn.utils._linalg import components_from_metric
from mlearn.utils._progress import progress_bar
from mlearn.utils._scale import scaled_differences
from mlearn.utils._sklearn_compat import (
    ConvergenceWarning,
    Interval,
    StrOptions,
)
from mlearn.utils._validation import check_n_components

__all__ = ["ITML", "ITMLPairs", "itml_objective"]


def itml_objective(A, xi, A0, xi0, gamma):
    """ITML's primal objective with slack, the quantity the projections minimise.

    .. math::
        D_{ld}(A, A_0) + γ\\, D_{ld}(\\mathrm{diag}(ξ), \\mathrm{diag}(ξ_0)),
        \\qquad D_{ld}(A, A_0) = \\mathrm{tr}(A A_0^{-1})
        − \\log\\det(A A_0^{-1}) − d

    (the slack term is dropped for ``gamma=inf``, where ``ξ = ξ_0``).
    """
    A0_inv = np.linalg.inv(A0)
    _, logdet = np.linalg.slogdet(A @ A0_inv)
    f = float(np.sum(A * A0_inv) - logdet - A.shape[0])
    if np.isfinite(gamma):
        r = np.asarray(xi) / np.asarray(xi0)
        f += gamma * float(np.sum(r - np.log(r) - 1.0))
    return f


def _default_bounds(V, A0):
    """``(u, l)``: 5th and 95th percentiles of the prior's squared distances
    over the sampled pairs."""
    sq = np.sum((V @ A0) * V, axis=1)  # BLAS; einsum's path here is ~20x slower
    sq = sq[sq > 0]
    if sq.shape[0] == 0:
        raise ValueError("every pair has two identical points; no bound exists.")
    u, l_ = np.percentile(sq, (5, 95))
    return float(u), float(l_)


def _metric_learn_bounds(P):
    """``(u, l)`` as metric-learn 0.7 sets them: the 5th and 95th percentiles of
    the *unsquared* Euclidean distances between all distinct points of the pairs
    (the zero self-distances included), whatever the prior. They are then used
    as bounds on *squared* distances. Costs ``O(m²)`` memory for ``m`` points."""
    from sklearn.metrics import pairwise_distances

    X = np.unique(P.reshape(-1, P.shape[2]), axis=0)
    u, l_ = np.percentile(pairwise_distances(X), (5, 95))
    return float(u), float(l_)


def _itml_bregman(V, sign, xi0, A0, gamma, max_iter, tol, verbose=False):
    """Cyclic Bregman projections until the change in λ falls below ``tol``.

    Returns ``(A, xi, lam, n_iter, converged)``.
    """
    A = np.array(A0, dtype=np.float64, order="C")
    V = np.ascontiguousarray(V, dtype=np.float64)
    sign = np.ascontiguousarray(sign, dtype=np.float64)
    xi = np.array(xi0, dtype=np.float64)
    lam = np.zeros(V.shape[0])
    lam_old = lam.copy()
    converged = False
    it = 0
    with progress_bar(max_iter, "ITML", verbose) as bar:
        for it in range(1, max_iter + 1):
            _itml_sweep(A, V, sign, xi, lam, float(gamma))
            norm = np.linalg.norm(lam) + np.linalg.norm(lam_old)
            conv = 0.0 if norm == 0 else np.abs(lam - lam_old).sum() / norm
            bar.update(1)
            bar.set_postfix(conv=f"{conv:.2e}")
            if conv < tol:
                converged = True
                break
            lam_old[:] = lam
    return (A + A.T) / 2.0, xi, lam, it, converged


def _itml_cvxpy(V, sign, xi0, A0, gamma):
    """The same problem solved exactly by cvxpy (small ``d`` only)."""
    import cvxpy as cp

    d = V.shape[1]
    A = cp.Variable((d, d), PSD=True)
    A0_inv = np.linalg.inv(A0)
    dist = cp.sum(cp.multiply(V @ A, V), axis=1)
    obj = cp.trace(A0_inv @ A) - cp.log_det(A)
    sim, dis = sign > 0, sign < 0
    if np.isfinite(gamma):
        xi = cp.Variable(V.shape[0])
        obj = obj + gamma * cp.sum(xi / xi0 - cp.log(xi))
        cons = []
        if sim.any():
            cons.append(dist[np.flatnonzero(sim)] <= xi[np.flatnonzero(sim)])
        if dis.any():
            cons.append(dist[np.flatnonzero(dis)] >= xi[np.flatnonzero(dis)])
    else:
        cons = []
        if sim.any():
            cons.append(dist[np.flatnonzero(sim)] <= xi0[sim])
        if dis.any():
            cons.append(dist[np.flatnonzero(dis)] >= xi0[dis])
    prob = cp.Problem(cp.Minimize(obj), cons)
    prob.solve(solver=cp.CLARABEL if "CLARABEL" in cp.installed_solvers()
               else cp.SCS)
    if A.value is None:
        raise ValueError(f"cvxpy could not solve the ITML problem ({prob.status}).")
    xi_val = xi.value if np.isfinite(gamma) else xi0
    return (A.value + A.value.T) / 2.0, np.asarray(xi_val, dtype=np.float64)


class _BaseITML(MahalanobisMixin, BaseEstimator):
    _tuple_size = 2

    _parameter_constraints: dict = {
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "prior": [StrOptions({"identity", "covariance", "random"}), np.ndarray],
        "bounds": [None, StrOptions({"squared_percentiles", "metric_learn"}),
                   "array-like"],
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"bregman", "cvxpy"})],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def _fit_tuples(self, P, y, rng):
        """Solve on pair arrays ``P`` (n, 2, d) with labels ``y`` in {−1, +1}."""
        d = P.shape[2]
        check_n_components(self.n_components, d)
        # The constraints d_A(v) ≤ u stay the same when v is scaled by 2⁻ᵏ and
        # the bounds by 2⁻²ᵏ, with the same A: solving on the scaled
        # differences gives the same A (bitwise, a power of two) without the
        # overflow or underflow of squared distances at extreme scales.
        k, V, P64 = scaled_differences(P)
        sign = np.where(y == 1, 1.0, -1.0)
        A0 = initial_metric(self.prior, np.ldexp(P64.reshape(-1, d), -k), rng,
                            strict_pd=True)
        if isinstance(self.prior, str) and self.prior == "covariance":
            A0 = np.ldexp(A0, -2 * k)  # the inverse covariance in the data's units
            if not np.all(np.isfinite(A0)) or np.min(np.diag(A0)) <= 0:
                raise ValueError(
                    "prior='covariance' is not representable at the scale of X "
                    f"(about 2^{k}); standardise X first."
                )
        if self.bounds is None or (isinstance(self.bounds, str)
                                   and self.bounds == "squared_percentiles"):
            u, l_ = _default_bounds(V, A0)
        elif isinstance(self.bounds, str):  # 'metric_learn'
            # lengths used as bounds on squared lengths (metric-learn's rule):
            # in the units of V (2⁻ᵏ) that is one more factor 2⁻ᵏ
            u, l_ = (float(np.ldexp(b, -k)) for b in
                     _metric_learn_bounds(np.ldexp(P64, -k)))
        else:
            b = np.asarray(self.bounds, dtype=np.float64).ravel()
            if b.shape[0] != 2 or not np.all(np.isfinite(b)) or np.any(b < 0):
                raise ValueError(
                    "bounds must be two finite non-negative numbers (u, l), got "
                    f"{self.bounds!r}."
                )
            u, l_ = float(np.ldexp(b[0], -2 * k)), float(np.ldexp(b[1], -2 * k))
        u, l_ = (u if u > 0 else 1e-9), (l_ if l_ > 0 else 1e-9)
        self.bounds_ = np.ldexp(np.array([u, l_]), 2 * k)
        xi0 = np.where(sign > 0, u, l_)
        if self.solver == "cvxpy":
            A, _ = _itml_cvxpy(V, sign, xi0, A0, self.gamma)
            self.n_iter_ = 1
        else:
            A, _, _, self.n_iter_, converged = _itml_bregman(
                V, sign, xi0, A0, self.gamma, self.max_iter, self.tol, self.verbose
            )
            if not converged:
                warnings.warn(
                    f"ITML did not converge in max_iter={self.max_iter} sweeps "
                    f"(tol={self.tol}); increase max_iter.", ConvergenceWarning
                )
        L = components_from_metric(A, self.n_components, strict=False)
        self.components_ = L.astype(P.dtype, copy=False)


class ITML(SupervisedTuplesMixin, _BaseITML):
    """Information-Theoretic Metric Learning from class labels.

    Samples similar and dissimilar pairs from the labels and learns the
    Mahalanobis matrix closest, in LogDet divergence, to a prior while keeping
    similar pairs close and dissimilar pairs far.

    Read more in the :ref:`User Guide <itml>`.

    Parameters
    ----------
    gamma : float, default=0.1
        Weight of the slack term: small values let constraints be violated
        cheaply; ``np.inf`` enforces them exactly (may be infeasible). The
        default is softer than the paper's and metric-learn's ``1.0`` (pairs
        sampled from overlapping classes are noisy constraints; the user guide
        compares the two); ``mlearn.compat.metric_learn`` keeps ``1.0``. The
        LogDet divergence to
        the prior is scale-dependent: standardise the features first; on raw
        features where large-magnitude noise dimensions must be switched off,
        a larger ``gamma`` (e.g. ``1.0``) enforces the constraints harder.
    max_iter : int, default=1000
        Maximum number of sweeps over the constraints.
    tol : float, default=1e-3
        Convergence threshold on the relative change of the dual variables λ
        between sweeps, ``Σ|λ − λ_old| / (‖λ‖ + ‖λ_old‖)`` (metric-learn's
        ``convergence_threshold``).
    n_constraints : int, default=None
        Number of pairs of each kind to sample; ``None``: ``20 · n_classes²``.
    prior : {'identity', 'covariance', 'random'} or ndarray, default='identity'
        The matrix ``A_0`` the LogDet divergence is measured from: the identity,
        the inverse covariance of the points in the pairs, a random SPD matrix
        (from ``random_state``), or a given strictly positive definite matrix.
    bounds : {'squared_percentiles', 'metric_learn'} or array-like of shape (2,), \
default=None
        ``(u, l)``: similar pairs should lie within squared distance ``u``,
        dissimilar pairs beyond ``l``. ``None`` or 'squared_percentiles': the
        5th and 95th percentiles of the squared prior distances of the training
        pairs. 'metric_learn': metric-learn 0.7's rule, the 5th and 95th
        percentiles of the unsquared Euclidean distances between all points of
        the pairs (what ``mlearn.compat.metric_learn`` uses, to reproduce
        metric-learn's metric; see the user guide for which to prefer).
    n_components : int, default=None
        Keep the top ``n_components`` eigen-directions of the learned ``M``
        (low-rank ``L``); ``None`` keeps all.
    solver : {'bregman', 'cvxpy'}, default='bregman'
        'bregman': cyclic Bregman projections (fast). 'cvxpy': the same convex
        problem solved by cvxpy (exact; for small ``n_features`` only).
    verbose : bool, default=False
        Show a progress bar over the sweeps.
    random_state : int, RandomState instance or None, default=None
        Seeds the pair sampling and ``prior='random'``.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``L`` with ``LᵀL = M``.
    bounds_ : ndarray of shape (2,)
        The ``(u, l)`` used.
    n_iter_ : int
        Number of sweeps run.
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    ITMLPairs : the same learner fitted on given pairs.
    MMC : maximise the spread of dissimilar pairs instead.

    Notes
    -----
    ITML solves

    .. math::
        \\min_{A \\succ 0,\\, ξ} D_{ld}(A, A_0) + γ\\, D_{ld}(\\mathrm{diag}\\,ξ,
        \\mathrm{diag}\\,ξ_0) \\quad\\text{s.t.}\\quad d_A(x_i, x_j) ≤ ξ_{ij}
        \\ (i,j) ∈ S,\\quad d_A(x_i, x_j) ≥ ξ_{ij}\\ (i,j) ∈ D

    with :math:`d_A` the *squared* distance and :math:`ξ_0 = u` on similar,
    :math:`l` on dissimilar pairs, by cyclic Bregman projections with dual
    corrections (Algorithm 1 of the paper, with the slack factor ``γ/(γ+1)``
    of the authors' code). Each projection is a rank-one update of ``A`` in a
    numba loop, ``O(d²)`` per constraint.

    Differences from metric-learn 0.7: the default bounds are percentiles of
    *squared* distances of the sampled pairs (as in the authors' MATLAB code),
    because the constraints bound squared distances; metric-learn takes the
    5th/95th percentiles of *unsquared* distances among all points in the pairs,
    which mixes units (on standardised 64-d data its ``u`` is ~6× below the
    typical similar squared distance and its ``l`` ~10× below the dissimilar
    one); ``bounds='metric_learn'`` reproduces metric-learn's rule. ``bounds``
    is a constructor parameter, not a ``fit`` argument.
    ``n_components`` truncates ``M`` to its top eigen-directions.

    References
    ----------
    .. [1] J. V. Davis, B. Kulis, P. Jain, S. Sra, I. S. Dhillon.
       Information-theoretic metric learning. ICML 2007.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlearn import ITML
    >>> X, y = load_iris(return_X_y=True)
    >>> itml = ITML(random_state=0).fit(X, y)
    >>> itml.transform(X).shape
    (150, 4)
    """

    _parameter_constraints: dict = {
        **_BaseITML._parameter_constraints,
        "n_constraints": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, gamma=0.1, max_iter=1000, tol=1e-3, n_constraints=None,
                 prior="identity", bounds=None, n_components=None,
                 solver="bregman", verbose=False, random_state=None):
        self.gamma = gamma
        self.max_iter = max_iter
        self.tol = tol
        self.n_constraints = n_constraints
        self.prior = prior
        self.bounds = bounds
        self.n_components = n_components
        self.solver = solver
        self.verbose = verbose
        self.random_state = random_state


class ITMLPairs(PairsClassifierMixin, _BaseITML):
    """Information-Theoretic Metric Learning from labelled pairs.

    Learns the Mahalanobis matrix closest, in LogDet divergence, to a prior
    while keeping similar pairs (``y=+1``) close and dissimilar pairs (``y=-1``)
    far; then classifies pairs by a distance threshold calibrated in ``fit``.

    Read more in the :ref:`User Guide <itml>`.

    Parameters
    ----------
    gamma : float, default=0.1
        Weight of the slack term: small values let constraints be violated
        cheaply; ``np.inf`` enforces them exactly (may be infeasible). The
        default is softer than the paper's and metric-learn's ``1.0`` (pairs
        sampled from overlapping classes are noisy constraints; the user guide
        compares the two); ``mlearn.compat.metric_learn`` keeps ``1.0``. The
        LogDet divergence to
        the prior is scale-dependent: standardise the features first; on raw
        features where large-magnitude noise dimensions must be switched off,
        a larger ``gamma`` (e.g. ``1.0``) enforces the constraints harder.
    max_iter : int, default=1000
        Maximum number of sweeps over the constraints.
    tol : float, default=1e-3
        Convergence threshold on the relative change of the dual variables λ
        between sweeps, ``Σ|λ − λ_old| / (‖λ‖ + ‖λ_old‖)`` (metric-learn's
        ``convergence_threshold``).
    prior : {'identity', 'covariance', 'random'} or ndarray, default='identity'
        The matrix ``A_0`` the LogDet divergence is measured from: the identity,
        the inverse covariance of the points in the pairs, a random SPD matrix
        (from ``random_state``), or a given strictly positive definite matrix.
    bounds : {'squared_percentiles', 'metric_learn'} or array-like of shape (2,), \
default=None
        ``(u, l)``: similar pairs should lie within squared distance ``u``,
        dissimilar pairs beyond ``l``. ``None`` or 'squared_percentiles': the
        5th and 95th percentiles of the squared prior distances of the training
        pairs. 'metric_learn': metric-learn 0.7's rule, the 5th and 95th
        percentiles of the unsquared Euclidean distances between all points of
        the pairs (what ``mlearn.compat.metric_learn`` uses, to reproduce
        metric-learn's metric; see the user guide for which to prefer).
    n_components : int, default=None
        Keep the top ``n_components`` eigen-directions of the learned ``M``
        (low-rank ``L``); ``None`` keeps all.
    solver : {'bregman', 'cvxpy'}, default='bregman'
        'bregman': cyclic Bregman projections (fast). 'cvxpy': the same convex
        problem solved by cvxpy (exact; for small ``n_features`` only).
    verbose : bool, default=False
        Show a progress bar over the sweeps.
    preprocessor : array-like of shape (n_samples, n_features) or callable, default=None
        Resolves index pairs of shape ``(n_pairs, 2)`` into points.
    random_state : int, RandomState instance or None, default=None
        Seeds the pair sampling and ``prior='random'``.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``L`` with ``LᵀL = M``.
    bounds_ : ndarray of shape (2,)
        The ``(u, l)`` used.
    n_iter_ : int
        Number of sweeps run.
    n_features_in_ : int
        Number of features seen during ``fit``.
    threshold_ : float
        Distance threshold of :meth:`predict`.
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``.

    See Also
    --------
    ITML : the same learner with pairs sampled from class labels.

    Notes
    -----
    ITML solves

    .. math::
        \\min_{A \\succ 0,\\, ξ} D_{ld}(A, A_0) + γ\\, D_{ld}(\\mathrm{diag}\\,ξ,
        \\mathrm{diag}\\,ξ_0) \\quad\\text{s.t.}\\quad d_A(x_i, x_j) ≤ ξ_{ij}
        \\ (i,j) ∈ S,\\quad d_A(x_i, x_j) ≥ ξ_{ij}\\ (i,j) ∈ D

    with :math:`d_A` the *squared* distance and :math:`ξ_0 = u` on similar,
    :math:`l` on dissimilar pairs, by cyclic Bregman projections with dual
    corrections (Algorithm 1 of the paper, with the slack factor ``γ/(γ+1)``
    of the authors' code). Each projection is a rank-one update of ``A`` in a
    numba loop, ``O(d²)`` per constraint.

    Differences from metric-learn 0.7: the default bounds are percentiles of
    *squared* distances of the sampled pairs (as in the authors' MATLAB code),
    because the constraints bound squared distances; metric-learn takes the
    5th/95th percentiles of *unsquared* distances among all points in the pairs,
    which mixes units (on standardised 64-d data its ``u`` is ~6× below the
    typical similar squared distance and its ``l`` ~10× below the dissimilar
    one); ``bounds='metric_learn'`` reproduces metric-learn's rule. ``bounds``
    is a constructor parameter, not a ``fit`` argument.
    ``n_components`` truncates ``M`` to its top eigen-directions.

    References
    ----------
    .. [1] J. V. Davis, B. Kulis, P. Jain, S. Sra, I. S. Dhillon.
       Information-theoretic metric learning. ICML 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn import ITMLPairs
    >>> pairs = np.array([[[1.2, 7.5], [1.3, 1.5]], [[6.4, 2.6], [6.2, 9.7]],
    ...                   [[1.3, 4.5], [3.2, 4.6]], [[6.2, 5.5], [5.4, 5.4]]])
    >>> itml = ITMLPairs(random_state=0).fit(pairs, [1, 1, -1, -1])
    >>> itml.predict(pairs).shape
    (4,)
    """

    _parameter_constraints: dict = {
        **_BaseITML._parameter_constraints,
        "preprocessor": [None, "array-like", callable],
    }

    def __init__(self, gamma=0.1, max_iter=1000, tol=1e-3, prior="identity",
                 bounds=None, n_components=None, solver="bregman", verbose=False,
                 preprocessor=None, random_state=None):
        self.gamma = gamma
        self.max_iter = max_iter
        self.tol = tol
        self.prior = prior
        self.bounds = bounds
        self.n_components = n_components
        self.solver = solver
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state
