"""Least Squared-residual Metric Learning (Liu et al., ICDM 2012)."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_limits

from mlearn.base import (
    MahalanobisMixin,
    QuadrupletsClassifierMixin,
    SupervisedTuplesMixin,
)
from mlearn.utils._init import initial_metric
from mlearn.utils._linalg import components_from_metric
from mlearn.utils._progress import progress_bar
from mlearn.utils._scale import working_scale
from mlearn.utils._sklearn_compat import (
    ConvergenceWarning,
    Interval,
    StrOptions,
)

__all__ = ["LSML", "LSMLQuadruplets", "lsml_loss", "lsml_objective"]


def lsml_objective(M, Vab, Vcd, w, M0_inv):
    """LSML's objective at the Mahalanobis matrix ``M``, and its gradient in ``M``.

    .. math::
        f(M) = \\sum_q w_q \\big[\\sqrt{v_{ab}^\\top M v_{ab}}
        - \\sqrt{v_{cd}^\\top M v_{cd}}\\big]_+^2
        + \\mathrm{tr}(M M_0^{-1}) - \\log\\det M

    (the LogDet divergence to the prior ``M_0`` up to the constant
    ``log det M_0⁻¹ - d``).

    Parameters
    ----------
    M : ndarray of shape (d, d)
        Symmetric positive definite.
    Vab, Vcd : ndarray of shape (n_quadruplets, d)
        Differences ``a - b`` and ``c - d`` of each quadruplet.
    w : ndarray of shape (n_quadruplets,)
        Weights of the comparisons.
    M0_inv : ndarray of shape (d, d)
        Inverse of the prior.

    Returns
    -------
    loss : float
    grad : ndarray of shape (d, d)
        Symmetric gradient with respect to ``M``.
    """
    dab = np.sum((Vab @ M) * Vab, axis=1)
    dcd = np.sum((Vcd @ M) * Vcd, axis=1)
    viol = dab > dcd
    sab, scd, wv = np.sqrt(dab[viol]), np.sqrt(dcd[viol]), w[viol]
    sign, logdet = np.linalg.slogdet(M)
    if sign <= 0:
        raise ValueError("M must be positive definite.")
    loss = float(np.dot(wv, (sab - scd) ** 2) + np.sum(M * M0_inv) - logdet)
    cab, ccd = _residual_coefficients(sab, scd, wv)
    grad = (M0_inv - np.linalg.inv(M) + (Vab[viol].T * cab) @ Vab[viol]
            + (Vcd[viol].T * ccd) @ Vcd[viol])
    return loss, (grad + grad.T) / 2.0


def _residual_coefficients(sab, scd, wv):
    """``∂/∂d_ab`` and ``∂/∂d_cd`` of ``w (√d_ab − √d_cd)²`` (times 1, not 2:
    ``∂d/∂M = v vᵀ``); a zero ``d_cd`` (``c = d``) has no direction, so 0."""
    cab = wv * (1.0 - scd / sab)
    with np.errstate(divide="ignore", invalid="ignore"):
        ccd = np.where(scd > 0, wv * (1.0 - sab / scd), 0.0)
    return cab, ccd


def lsml_loss(theta, Vab, Vcd, w, M0_inv):
    """LSML's objective and gradient in the log-Cholesky parameters ``θ``.

    ``M = C Cᵀ`` with ``C`` lower triangular, ``C_ii = exp(θ_ii)`` and the
    strictly lower entries of ``C`` equal to ``θ``; every ``θ`` gives a
    positive definite ``M`` and ``log det M = 2 Σ θ_ii``, so the LogDet term
    needs no inverse and L-BFGS runs unconstrained.

    Parameters
    ----------
    theta : ndarray of shape (d (d + 1) / 2,)
        Lower triangle of ``C`` (row-major, ``np.tril_indices``), log on the
        diagonal.
    Vab, Vcd : ndarray of shape (n_quadruplets, d)
    w : ndarray of shape (n_quadruplets,)
    M0_inv : ndarray of shape (d, d)

    Returns
    -------
    loss : float
    grad : ndarray of shape (d (d + 1) / 2,)
    """
    d = Vab.shape[1]
    C, tril = _cholesky_factor(theta, d)
    diag = np.diag(C).copy()
    Zab, Zcd = Vab @ C, Vcd @ C
    dab = np.einsum("ij,ij->i", Zab, Zab)
    dcd = np.einsum("ij,ij->i", Zcd, Zcd)
    viol = dab > dcd
    sab, scd, wv = np.sqrt(dab[viol]), np.sqrt(dcd[viol]), w[viol]
    M0C = M0_inv @ C
    loss = float(np.dot(wv, (sab - scd) ** 2) + np.sum(M0C * C)
                 - 2.0 * np.sum(theta[_diag_positions(d)]))
    cab, ccd = _residual_coefficients(sab, scd, wv)
    # ∂f/∂C = 2 G C with G the gradient in M (the −M⁻¹ part is handled on θ_ii)
    GC = 2.0 * (M0C + Vab[viol].T @ (cab[:, None] * Zab[viol])
                + Vcd[viol].T @ (ccd[:, None] * Zcd[viol]))
    np.fill_diagonal(GC, np.diag(GC) * diag - 2.0)
    return loss, GC[tril]


def _diag_positions(d):
    """Positions of the diagonal entries in the ``np.tril_indices(d)`` order."""
    i = np.arange(d)
    return i * (i + 1) // 2 + i


def _cholesky_factor(theta, d):
    tril = np.tril_indices(d)
    C = np.zeros((d, d))
    C[tril] = theta
    np.fill_diagonal(C, np.exp(np.diag(C)))
    return C, tril


def _theta_from_metric(M):
    C = np.linalg.cholesky(M)
    np.fill_diagonal(C, np.log(np.diag(C)))
    return C[np.tril_indices(M.shape[0])]


def _check_quadruplet_weights(weights, n):
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(
            f"weights must have one value per quadruplet ({n}), got shape "
            f"{w.shape}."
        )
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(
            "weights must be finite, non-negative and not all zero; got min "
            f"{w.min():.3g}, max {w.max():.3g}, sum {w.sum():.3g}."
        )
    return w / w.sum()


def _lsml_solve(Vab, Vcd, w, M0, tol, max_iter, verbose=False):
    """L-BFGS on :func:`lsml_loss` from the prior. Returns
    ``(M, loss, n_iter, converged)``."""
    d = M0.shape[0]
    M0_inv = np.linalg.inv(M0)
    M0_inv = (M0_inv + M0_inv.T) / 2.0
    with progress_bar(max_iter, "LSML", verbose) as bar:

        def callback(intermediate_result):
            bar.update(1)
            bar.set_postfix(loss=f"{intermediate_result.fun:.6g}")

        # many small GEMMs: one BLAS thread is faster and does not fight the
        # caller's threads
        with threadpool_limits(1, user_api="blas"):
            res = minimize(lsml_loss, _theta_from_metric(M0), jac=True,
                           args=(Vab, Vcd, w, M0_inv), method="L-BFGS-B",
                           callback=callback,
                           options={"maxiter": max_iter, "gtol": tol})
    C, _ = _cholesky_factor(res.x, d)
    converged = res.status == 0
    return C @ C.T, float(res.fun), max(int(res.nit), 1), converged


class _BaseLSML(MahalanobisMixin, BaseEstimator):
    _tuple_size = 4

    _parameter_constraints: dict = {
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions({"identity", "covariance", "random"}), np.ndarray],
        "weights": [None, "array-like"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def _fit_tuples(self, Q, y, rng):
        """Solve on quadruplets ``Q`` (n, 4, d): ``d(a, b) < d(c, d)`` wanted."""
        n, _, d = Q.shape
        # solved in units of the data's spread far outside ordinary units
        # (the prior is in absolute units); L scaled back at the end
        s = working_scale(Q)
        Q64 = Q.astype(np.float64, copy=False) / s
        Vab = Q64[:, 0] - Q64[:, 1]
        Vcd = Q64[:, 2] - Q64[:, 3]
        same_ab = ~np.any(Vab != 0, axis=1)
        same_cd = ~np.any(Vcd != 0, axis=1)
        if np.all(same_ab | same_cd):
            raise ValueError(
                f"every one of the {n} quadruplets compares a pair of identical "
                "points (a = b or c = d); no comparison between two distances is "
                "left to learn from."
            )
        w = _check_quadruplet_weights(self.weights, n)
        M0 = initial_metric(self.prior, Q64.reshape(-1, d), rng, strict_pd=True)
        if isinstance(self.prior, np.ndarray):
            M0 = M0 * s**2  # a given prior is in the data's units
        M, self.loss_, self.n_iter_, converged = _lsml_solve(
            Vab, Vcd, w, M0, self.tol, self.max_iter, self.verbose)
        if not converged:
            warnings.warn(
                f"LSML did not converge in max_iter={self.max_iter} L-BFGS "
                f"iterations (tol={self.tol}); increase max_iter.",
                ConvergenceWarning,
            )
        self.components_ = (components_from_metric(M, strict=False) / s).astype(
            Q.dtype, copy=False)


class LSML(SupervisedTuplesMixin, _BaseLSML):
    """Least Squared-residual Metric Learning from class labels.

    Samples quadruplets ``(a, b, c, d)`` from the labels, ``(a, b)`` from one
    class and ``(c, d)`` from two different classes, and learns the
    Mahalanobis matrix that keeps each similar pair closer than its dissimilar
    pair, penalising the squared residual of every violated comparison, while
    staying close to a prior in LogDet divergence.

    Read more in the :ref:`User Guide <lsml>`.

    Parameters
    ----------
    tol : float, default=1e-3
        L-BFGS stops when every component of the gradient (in the log-Cholesky
        parameters of ``M``) is below ``tol`` in absolute value.
    max_iter : int, default=1000
        Maximum number of L-BFGS iterations.
    prior : {'identity', 'covariance', 'random'} or ndarray, default='identity'
        The matrix ``M_0`` of the LogDet term and the starting point: the
        identity, the inverse covariance of the points in the quadruplets, a
        random SPD matrix (from ``random_state``), or a given strictly positive
        definite matrix.
    n_constraints : int, default=None
        Number of quadruplets to sample; ``None``: ``20 · n_classes²``.
    weights : array-like of shape (n_constraints,), default=None
        Weight of each sampled quadruplet (normalised to sum to one);
        ``None``: uniform.
    verbose : bool, default=False
        Show a progress bar over the L-BFGS iterations.
    random_state : int, RandomState instance or None, default=None
        Seeds the quadruplet sampling and ``prior='random'``.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        ``L`` with ``LᵀL = M``.
    loss_ : float
        Objective at the solution.
    n_iter_ : int
        Number of L-BFGS iterations run (1 when the prior is already optimal).
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    LSMLQuadruplets : the same learner fitted on given quadruplets.
    ITML : LogDet-regularised learner on similar and dissimilar pairs.

    Notes
    -----
    LSML minimises

    .. math::
        \\sum_{q} w_q\\, \\big[d_M(x_a, x_b) - d_M(x_c, x_d)\\big]_+^2
        + D_{ld}(M, M_0)

    over positive definite ``M``, with :math:`d_M` the (unsquared)
    Mahalanobis distance, :math:`[\\cdot]_+` the positive part, weights
    summing to one and :math:`D_{ld}(M, M_0) = \\mathrm{tr}(M M_0^{-1}) -
    \\log\\det(M M_0^{-1}) - d`. mlearn runs L-BFGS on the log-Cholesky
    parameters of ``M`` (``M = C Cᵀ``, ``log C_ii`` free), which keeps ``M``
    positive definite without projections.

    References
    ----------
    .. [1] E. Y. Liu, Z. Guo, X. Zhang, V. Jojic, W. Wang. Metric learning
       from relative comparisons by minimizing squared residual. ICDM 2012.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlearn import LSML
    >>> X, y = load_iris(return_X_y=True)
    >>> lsml = LSML(random_state=0).fit(X, y)
    >>> lsml.transform(X).shape
    (150, 4)
    """

    _parameter_constraints: dict = {
        **_BaseLSML._parameter_constraints,
        "n_constraints": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, tol=1e-3, max_iter=1000, prior="identity",
                 n_constraints=None, weights=None, verbose=False,
                 random_state=None):
        self.tol = tol
        self.max_iter = max_iter
        self.prior = prior
        self.n_constraints = n_constraints
        self.weights = weights
        self.verbose = verbose
        self.random_state = random_state


class LSMLQuadruplets(QuadrupletsClassifierMixin, _BaseLSML):
    """Least Squared-residual Metric Learning from quadruplets.

    Learns the Mahalanobis matrix for which, in each quadruplet ``(a, b, c,
    d)``, the pair ``(a, b)`` is closer than the pair ``(c, d)``, penalising
    the squared residual of every violated comparison, while staying close to
    a prior in LogDet divergence; then orders quadruplets by the learned
    distances.

    Read more in the :ref:`User Guide <lsml>`.

    Parameters
    ----------
    tol : float, default=1e-3
        L-BFGS stops when every component of the gradient (in the log-Cholesky
        parameters of ``M``) is below ``tol`` in absolute value.
    max_iter : int, default=1000
        Maximum number of L-BFGS iterations.
    prior : {'identity', 'covariance', 'random'} or ndarray, default='identity'
        The matrix ``M_0`` of the LogDet term and the starting point: the
        identity, the inverse covariance of the points in the quadruplets, a
        random SPD matrix (from ``random_state``), or a given strictly positive
        definite matrix.
    weights : array-like of shape (n_quadruplets,), default=None
        Weight of each quadruplet (normalised to sum to one); ``None``:
        uniform.
    verbose : bool, default=False
        Show a progress bar over the L-BFGS iterations.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
default=None
        Resolves index quadruplets of shape ``(n_quadruplets, 4)`` into points.
    random_state : int, RandomState instance or None, default=None
        Seeds ``prior='random'``.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        ``L`` with ``LᵀL = M``.
    loss_ : float
        Objective at the solution.
    n_iter_ : int
        Number of L-BFGS iterations run (1 when the prior is already optimal).
    n_features_in_ : int
        Number of features seen during ``fit``.
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``.

    See Also
    --------
    LSML : the same learner with quadruplets sampled from class labels.

    Notes
    -----
    LSML minimises

    .. math::
        \\sum_{q} w_q\\, \\big[d_M(x_a, x_b) - d_M(x_c, x_d)\\big]_+^2
        + D_{ld}(M, M_0)

    over positive definite ``M``, with :math:`d_M` the (unsquared)
    Mahalanobis distance, :math:`[\\cdot]_+` the positive part, weights
    summing to one and :math:`D_{ld}(M, M_0) = \\mathrm{tr}(M M_0^{-1}) -
    \\log\\det(M M_0^{-1}) - d`. mlearn runs L-BFGS on the log-Cholesky
    parameters of ``M`` (``M = C Cᵀ``, ``log C_ii`` free), which keeps ``M``
    positive definite without projections. ``weights`` is a constructor
    parameter (metric-learn takes it in ``fit``). Quadruplets labelled ``-1``
    in ``fit`` are read in the opposite order.

    References
    ----------
    .. [1] E. Y. Liu, Z. Guo, X. Zhang, V. Jojic, W. Wang. Metric learning
       from relative comparisons by minimizing squared residual. ICDM 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn import LSMLQuadruplets
    >>> quadruplets = np.array([[[1.2, 7.5], [1.3, 1.5], [6.4, 2.6], [6.2, 9.7]],
    ...                         [[1.3, 4.5], [3.2, 4.6], [6.2, 5.5], [5.4, 5.4]],
    ...                         [[3.2, 7.5], [3.3, 1.5], [8.4, 2.6], [8.2, 9.7]],
    ...                         [[3.3, 4.5], [5.2, 4.6], [8.2, 5.5], [7.4, 5.4]]])
    >>> lsml = LSMLQuadruplets().fit(quadruplets)
    >>> lsml.predict(quadruplets).shape
    (4,)
    """

    _parameter_constraints: dict = {
        **_BaseLSML._parameter_constraints,
        "preprocessor": [None, "array-like", callable],
    }

    def __init__(self, tol=1e-3, max_iter=1000, prior="identity", weights=None,
                 verbose=False, preprocessor=None, random_state=None):
        self.tol = tol
        self.max_iter = max_iter
        self.prior = prior
        self.weights = weights
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state
