"""Sparse Distance Metric Learning (Qi et al., ICML 2009)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.covariance import graphical_lasso

from mlearn.base import (
    MahalanobisMixin,
    PairsClassifierMixin,
    SupervisedTuplesMixin,
)
from mlearn.utils._init import initial_metric
from mlearn.utils._linalg import components_from_metric
from mlearn.utils._scale import working_scale
from mlearn.utils._sklearn_compat import Interval, StrOptions

__all__ = ["SDML", "SDMLPairs", "sdml_objective"]

# When M₀⁻¹ + β K is not comfortably positive definite, β is lowered until the
# eigenvalues of M₀^{1/2} (M₀⁻¹ + β K) M₀^{1/2} are at least this: the learned
# metric then stretches no direction more than 1/0.2 = 5 times the prior's (in
# squared distance). Chosen on benchmarks/bench_estimators.py (0.5 … 0.01 all
# run; 0.2 kept 3-NN accuracy within a point of Euclidean on every set).
_MIN_RELATIVE_EIGENVALUE = 0.2


def sdml_objective(M, P, alpha):
    """SDML's (graphical-lasso) objective at a positive definite ``M``.

    .. math::
        f(M) = \\mathrm{tr}(M P) - \\log\\det M
        + α \\sum_{i \\ne j} |M_{ij}|,
        \\qquad P = M_0^{-1} + β K^\\top \\mathrm{diag}(y) K

    Parameters
    ----------
    M : ndarray of shape (d, d)
    P : ndarray of shape (d, d)
        The balanced pair scatter.
    alpha : float
        ``sparsity_param``.

    Returns
    -------
    loss : float
    """
    sign, logdet = np.linalg.slogdet(M)
    if sign <= 0:
        return np.inf
    off = np.abs(M).sum() - np.abs(np.diag(M)).sum()
    return float(np.sum(M * P) - logdet + alpha * off)


def _sdml_scatter(V, y, M0, balance_param):
    """``(P, β, λ)``: the balanced pair scatter ``M₀⁻¹ + β Σ y_i v_i v_iᵀ``, with
    ``β`` lowered from ``balance_param`` where needed (see
    ``_MIN_RELATIVE_EIGENVALUE``) so that the problem has a solution, and
    ``λ`` the smallest eigenvalue of ``M₀^{1/2} P M₀^{1/2}`` at ``balance_param``."""
    K = (V.T * y) @ V
    R = np.linalg.cholesky(M0)  # M0 = R Rᵀ: spectrum of M0^{1/2} P M0^{1/2}
    k_min = float(np.linalg.eigvalsh(R.T @ K @ R)[0])
    beta = float(balance_param)
    if 1.0 + beta * k_min < _MIN_RELATIVE_EIGENVALUE:
        beta = (1.0 - _MIN_RELATIVE_EIGENVALUE) / -k_min
    P = np.linalg.inv(M0) + beta * K
    return (P + P.T) / 2.0, beta, 1.0 + float(balance_param) * k_min


def _sdml_solve(P, alpha, verbose=False):
    """The sparse inverse of ``P``: scikit-learn's graphical lasso."""
    if P.shape[0] == 1:  # no off-diagonal entry to penalise
        return 1.0 / P
    try:
        with warnings.catch_warnings():
            # scikit-learn < 1.7 warns from the inner coordinate-descent lasso
            # of each sweep; the outer loop's own non-convergence warning
            # ("graphical_lasso: did not converge ...") is kept
            warnings.filterwarnings("ignore", message="Objective did not converge")
            _, M = graphical_lasso(P, alpha=alpha, verbose=bool(verbose))
    except FloatingPointError as exc:
        raise ValueError(
            f"the graphical lasso failed on the balanced pair scatter ({exc}); "
            "try a larger sparsity_param or a smaller balance_param."
        ) from exc
    return (M + M.T) / 2.0


def _sdml_cvxpy(P, alpha):
    """The same problem solved by cvxpy (small ``d`` only; the tests' oracle)."""
    import cvxpy as cp

    d = P.shape[0]
    M = cp.Variable((d, d), PSD=True)
    off = np.ones((d, d)) - np.eye(d)
    obj = cp.trace(P @ M) - cp.log_det(M) + alpha * cp.sum(
        cp.abs(cp.multiply(off, M)))
    prob = cp.Problem(cp.Minimize(obj))
    prob.solve(solver=cp.CLARABEL if "CLARABEL" in cp.installed_solvers()
               else cp.SCS)
    if M.value is None:
        raise ValueError(f"cvxpy could not solve the SDML problem ({prob.status}).")
    return (M.value + M.value.T) / 2.0


# balance_param='auto': the largest β up to metric-learn's default 0.5 that
# keeps P safely positive definite, lowered without a warning.
_AUTO_BALANCE = 0.5


def _sdml_prior(prior, points, rng):
    """``M₀``; 'auto' is the inverse covariance of the points when it is well
    conditioned (a prior in the data's own units), else the identity."""
    if isinstance(prior, str) and prior == "auto":
        try:
            return initial_metric("covariance", points, rng, strict_pd=True)
        except ValueError:  # singular covariance (constant or collinear features)
            return initial_metric("identity", points, rng, strict_pd=True)
    return initial_metric(prior, points, rng, strict_pd=True)


class _BaseSDML(MahalanobisMixin, BaseEstimator):
    _tuple_size = 2

    _parameter_constraints: dict = {
        "balance_param": [StrOptions({"auto"}), Interval(Real, 0, None,
                                                          closed="left")],
        "sparsity_param": [Interval(Real, 0, None, closed="left")],
        "prior": [StrOptions({"auto", "identity", "covariance", "random"}),
                  np.ndarray],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def _fit_tuples(self, P, y, rng):
        """Solve on pair arrays ``P`` (n, 2, d) with labels ``y`` in {−1, +1}."""
        d = P.shape[2]
        # solved in units of the data's spread far outside ordinary units
        # (the prior is in absolute units); L scaled back at the end
        s = working_scale(P)
        P64 = P.astype(np.float64, copy=False) / s
        V = P64[:, 0] - P64[:, 1]
        if not np.any(V != 0):
            raise ValueError(
                f"every one of the {V.shape[0]} pairs has two identical points; "
                "there is no pair scatter to learn from."
            )
        M0 = _sdml_prior(self.prior, P64.reshape(-1, d), rng)
        if isinstance(self.prior, np.ndarray):
            M0 = M0 * s**2  # a given prior is in the data's units
        auto = isinstance(self.balance_param, str)
        requested = _AUTO_BALANCE if auto else self.balance_param
        S, beta, rel_min = _sdml_scatter(
            V, np.where(y == 1, 1.0, -1.0), M0, requested)
        if beta < requested and not auto:
            warnings.warn(
                f"SDML: with balance_param={self.balance_param} the balanced pair "
                "scatter P = M0^-1 + balance_param * K has smallest eigenvalue "
                f"{rel_min:.4g} relative to the prior (at or below 0 the log-det "
                "problem has no minimum; below "
                f"{_MIN_RELATIVE_EIGENVALUE} it is ill-conditioned); "
                f"balance_param={beta:.4g} is used instead, the largest value "
                f"giving at least {_MIN_RELATIVE_EIGENVALUE}. Pass a smaller "
                "balance_param to silence this warning.",
                UserWarning, stacklevel=3,
            )
        self.balance_param_ = beta
        M = _sdml_solve(S, self.sparsity_param, self.verbose)
        self.components_ = (components_from_metric(M, strict=False) / s).astype(
            P.dtype, copy=False)


class SDML(SupervisedTuplesMixin, _BaseSDML):
    """Sparse Distance Metric Learning from class labels.

    Samples similar and dissimilar pairs from the labels and learns a sparse
    Mahalanobis matrix: the graphical-lasso (L1-penalised) inverse of the
    prior's inverse plus the balanced scatter of the pairs, similar pairs
    counted positively and dissimilar pairs negatively.

    Read more in the :ref:`User Guide <sdml>`.

    Parameters
    ----------
    balance_param : 'auto' or float, default='auto'
        Weight ``β`` of the pair scatter against the prior. When it makes the
        balanced scatter indefinite (the usual case with many pairs), the
        largest value that keeps it safely positive definite is used instead,
        with a warning; see ``balance_param_``. 'auto' starts from
        metric-learn's 0.5 and lowers it the same way without a warning.
    sparsity_param : float, default=0.01
        Weight ``α`` of the L1 penalty on the off-diagonal entries of ``M``
        (scikit-learn's ``graphical_lasso`` ``alpha``).
    prior : {'auto', 'identity', 'covariance', 'random'} or ndarray, \
default='auto'
        The matrix ``M_0``: the identity, the inverse covariance of the points
        in the pairs, a random SPD matrix (from ``random_state``), or a given
        strictly positive definite matrix. 'auto' takes the inverse covariance
        when it is well conditioned (the prior then follows the features'
        units; the identity weighs a large-variance noise feature as much as
        the pairs say), else the identity. metric-learn's default is
        'identity', which ``mlearn.compat.metric_learn`` keeps.
    n_constraints : int, default=None
        Number of pairs of each kind to sample; ``None``: ``20 · n_classes²``.
    verbose : bool, default=False
        Print the graphical lasso's progress.
    random_state : int, RandomState instance or None, default=None
        Seeds the pair sampling and ``prior='random'``.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        ``L`` with ``LᵀL = M``.
    balance_param_ : float
        The ``β`` used: ``balance_param``, or the lowered value.
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    SDMLPairs : the same learner fitted on given pairs.
    ITML : LogDet-regularised learner with distance bounds on the pairs.

    Notes
    -----
    SDML solves

    .. math::
        \\min_{M \\succ 0}\\ \\mathrm{tr}(M P) - \\log\\det M
        + α \\sum_{i \\ne j} |M_{ij}|, \\qquad
        P = M_0^{-1} + β \\sum_{(i, j)} y_{ij} (x_i - x_j)(x_i - x_j)^\\top

    with ``y = +1`` for similar and ``−1`` for dissimilar pairs, by
    scikit-learn's ``graphical_lasso``. The problem is bounded only when
    ``P`` is positive definite; mlearn lowers ``β`` until the eigenvalues of
    :math:`M_0^{1/2} P M_0^{1/2}` are at least 0.2, and warns.

    References
    ----------
    .. [1] G.-J. Qi, J. Tang, Z.-J. Zha, T.-S. Chua, H.-J. Zhang. An efficient
       sparse metric learning in high-dimensional space via L1-penalized
       log-determinant regularization. ICML 2009.

    Examples
    --------
    >>> import warnings
    >>> from sklearn.datasets import load_iris
    >>> from mlearn import SDML
    >>> X, y = load_iris(return_X_y=True)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     sdml = SDML(random_state=0).fit(X, y)
    >>> sdml.transform(X).shape
    (150, 4)
    """

    _parameter_constraints: dict = {
        **_BaseSDML._parameter_constraints,
        "n_constraints": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, balance_param="auto", sparsity_param=0.01, prior="auto",
                 n_constraints=None, verbose=False, random_state=None):
        self.balance_param = balance_param
        self.sparsity_param = sparsity_param
        self.prior = prior
        self.n_constraints = n_constraints
        self.verbose = verbose
        self.random_state = random_state


class SDMLPairs(PairsClassifierMixin, _BaseSDML):
    """Sparse Distance Metric Learning from labelled pairs.

    Learns a sparse Mahalanobis matrix, the graphical-lasso (L1-penalised)
    inverse of the prior's inverse plus the balanced scatter of the pairs
    (similar pairs, ``y=+1``, counted positively, dissimilar pairs, ``y=-1``,
    negatively); then classifies pairs by a distance threshold calibrated in
    ``fit``.

    Read more in the :ref:`User Guide <sdml>`.

    Parameters
    ----------
    balance_param : 'auto' or float, default='auto'
        Weight ``β`` of the pair scatter against the prior. When it makes the
        balanced scatter indefinite (the usual case with many pairs), the
        largest value that keeps it safely positive definite is used instead,
        with a warning; see ``balance_param_``. 'auto' starts from
        metric-learn's 0.5 and lowers it the same way without a warning.
    sparsity_param : float, default=0.01
        Weight ``α`` of the L1 penalty on the off-diagonal entries of ``M``
        (scikit-learn's ``graphical_lasso`` ``alpha``).
    prior : {'auto', 'identity', 'covariance', 'random'} or ndarray, \
default='auto'
        The matrix ``M_0``: the identity, the inverse covariance of the points
        in the pairs, a random SPD matrix (from ``random_state``), or a given
        strictly positive definite matrix. 'auto' takes the inverse covariance
        when it is well conditioned (the prior then follows the features'
        units; the identity weighs a large-variance noise feature as much as
        the pairs say), else the identity. metric-learn's default is
        'identity', which ``mlearn.compat.metric_learn`` keeps.
    verbose : bool, default=False
        Print the graphical lasso's progress.
    preprocessor : array-like of shape (n_samples, n_features) or callable, \
default=None
        Resolves index pairs of shape ``(n_pairs, 2)`` into points.
    random_state : int, RandomState instance or None, default=None
        Seeds ``prior='random'``.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_features)
        ``L`` with ``LᵀL = M``.
    balance_param_ : float
        The ``β`` used: ``balance_param``, or the lowered value.
    threshold_ : float
        Distance threshold of :meth:`predict`.
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``.
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    SDML : the same learner with pairs sampled from class labels.

    Notes
    -----
    SDML solves

    .. math::
        \\min_{M \\succ 0}\\ \\mathrm{tr}(M P) - \\log\\det M
        + α \\sum_{i \\ne j} |M_{ij}|, \\qquad
        P = M_0^{-1} + β \\sum_{(i, j)} y_{ij} (x_i - x_j)(x_i - x_j)^\\top

    by scikit-learn's ``graphical_lasso``. The problem is bounded only when
    ``P`` is positive definite; mlearn lowers ``β`` until the eigenvalues of
    :math:`M_0^{1/2} P M_0^{1/2}` are at least 0.2, and warns.

    References
    ----------
    .. [1] G.-J. Qi, J. Tang, Z.-J. Zha, T.-S. Chua, H.-J. Zhang. An efficient
       sparse metric learning in high-dimensional space via L1-penalized
       log-determinant regularization. ICML 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn import SDMLPairs
    >>> pairs = np.array([[[1.2, 7.5], [1.3, 1.5]], [[6.4, 2.6], [6.2, 9.7]],
    ...                   [[1.3, 4.5], [3.2, 4.6]], [[6.2, 5.5], [5.4, 5.4]]])
    >>> sdml = SDMLPairs(balance_param=0.01).fit(pairs, [1, 1, -1, -1])
    >>> sdml.predict(pairs).shape
    (4,)
    """

    _parameter_constraints: dict = {
        **_BaseSDML._parameter_constraints,
        "preprocessor": [None, "array-like", callable],
    }

    def __init__(self, balance_param="auto", sparsity_param=0.01, prior="auto",
                 verbose=False, preprocessor=None, random_state=None):
        self.balance_param = balance_param
        self.sparsity_param = sparsity_param
        self.prior = prior
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state
