"""Neighbourhood Components Analysis (Goldberger et al., NIPS 2004)."""

from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from mlearn._kernels._softmax import _nca_weights
from mlearn.base import MahalanobisMixin
from mlearn.utils._init import starting_point
from mlearn.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from mlearn.utils._softmax import run_lbfgs, softmax_pair_scatter
from mlearn.utils._validation import check_classes, check_n_components

__all__ = ["NCA", "nca_loss_grad"]


def nca_loss_grad(L, X, codes, block_size=None, n_threads=1):
    """NCA's loss (minus the expected number of correctly classified samples)
    and its gradient with respect to ``L``.

    Parameters
    ----------
    L : ndarray of shape (n_components, n_features)
    X : ndarray of shape (n_samples, n_features)
    codes : ndarray of shape (n_samples,)
        Integer class codes.
    block_size : int, default=None
        Rows of the distance matrix held at once; ``None`` chooses about 2¹⁸
        distances per block
        (at least 64 rows).
    n_threads : int, default=1
        Threads computing blocks side by side; the result does not depend on
        it.

    Returns
    -------
    loss : float
        :math:`−\\sum_i p_i`, scikit-learn's objective (not divided by ``n``).
    grad : ndarray of shape (n_components, n_features)

    Notes
    -----
    With :math:`z_i = L x_i`, :math:`d_{ij} = ‖z_i − z_j‖²`,

    .. math::
        p_{ij} = \\frac{e^{−d_{ij}}}{\\sum_{k≠i} e^{−d_{ik}}}\\;(p_{ii} = 0),
        \\quad p_i = \\sum_{j: y_j = y_i} p_{ij},\\quad
        ∇_L\\Big(−\\sum_i p_i\\Big) = 2 \\sum_{i,j} w_{ij}
        (z_i − z_j)(x_i − x_j)ᵀ

    with :math:`w_{ij} = p_{ij}([y_j = y_i] − p_i)`, accumulated block of rows
    by block of rows (:func:`mlearn.utils._softmax.softmax_pair_scatter`).
    """
    X = np.asarray(X, dtype=np.float64)
    # distances and the gradient are unchanged by centring; centred points
    # lose less to cancellation in ‖z_i‖² + ‖z_j‖² − 2 z_iᵀz_j
    X = X - X.mean(axis=0)
    L = np.asarray(L, dtype=np.float64)
    codes = np.ascontiguousarray(codes, dtype=np.intp)
    Z = np.ascontiguousarray(X @ L.T)
    sq = np.einsum("ij,ij->i", Z, Z)
    p_same = np.empty(X.shape[0])

    def weights(G, start, cols, counts):
        return _nca_weights(G, sq, start, codes, p_same[start:start + G.shape[0]],
                            cols, counts)

    AZ = softmax_pair_scatter(Z, weights, block_size, n_threads)
    return -float(p_same.sum()), 2.0 * (AZ.T @ X)


class NCA(MahalanobisMixin, BaseEstimator):
    """Neighbourhood Components Analysis.

    Learns a linear map ``L`` that maximises the expected number of samples
    classified correctly by a stochastic nearest-neighbour rule: each sample
    picks a neighbour with probability decreasing exponentially with the
    learned squared distance. The objective and its gradient are computed a
    block of rows at a time, so memory grows linearly with the number of
    samples.

    Read more in the :ref:`User Guide <nca>`.

    Parameters
    ----------
    n_components : int, default=None
        Dimension of the learned space; ``None`` keeps ``n_features``.
    init : {'auto', 'pca', 'lda', 'identity', 'random'} or ndarray, \
default='auto'
        Initial ``L``. 'auto' follows scikit-learn's NCA: 'lda' when
        ``n_components <= min(n_features, n_classes - 1)``, else 'pca' when
        ``n_components < min(n_features, n_samples)``, else 'identity'. An
        ndarray must have shape ``(n_components, n_features)``.
    warm_start : bool, default=False
        Start from the previous ``components_`` when refitting on data with the
        same number of features.
    max_iter : int, default=200
        Maximum number of L-BFGS iterations (scikit-learn's NCA stops at 50;
        the demo's clustered-noise data needs up to 110).
    tol : float or None, default=1e-5
        Convergence tolerance of L-BFGS-B, used as both its relative loss
        decrease (``ftol``) and its projected gradient (``gtol``) tolerance,
        as in scikit-learn. ``None`` keeps L-BFGS-B's defaults
        (``ftol=2.2e-9``, ``gtol=1e-5``), as metric-learn does.
    callback : callable, default=None
        Called as ``callback(L, n_iter)`` after every iteration, with ``L`` of
        shape ``(n_components, n_features)``.
    verbose : int, default=0
        Show a progress bar (iteration, loss, time).
    random_state : int, RandomState instance or None, default=None
        Seeds ``init='random'`` and PCA's solver for ``init='pca'``.
    n_jobs : int, default=None
        Threads computing blocks of the objective side by side during ``fit``
        (each with single-threaded BLAS): ``None`` means 1 (scikit-learn's
        convention), ``-1`` all cores. Results do not depend on it.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned ``L``.
    n_iter_ : int
        Number of L-BFGS iterations run.
    opt_result_ : scipy.optimize.OptimizeResult
        The optimiser's summary: ``fun`` (the final loss, minus the expected
        number of correctly classified training samples), ``nit``, ``nfev``,
        ``status``, ``success``, ``message``.
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    LMNN : large-margin target neighbours and impostors.
    sklearn.neighbors.NeighborhoodComponentsAnalysis : the same objective,
        with the full ``n × n`` matrix in memory.

    Notes
    -----
    With :math:`d_{ij} = ‖L(x_i − x_j)‖²`,

    .. math::
        \\max_L \\sum_i \\sum_{j: y_j = y_i} p_{ij},\\qquad
        p_{ij} = \\frac{e^{−d_{ij}}}{\\sum_{k≠i} e^{−d_{ik}}},\\; p_{ii} = 0

    solved with L-BFGS-B on :math:`−\\sum_i p_i`. Each evaluation costs
    :math:`O(n² r + n r d)` time for :math:`n` samples and :math:`r`
    components (three GEMMs per block of rows and one pass of a numba kernel
    with a numerically stable softmax per row) and :math:`O(n \\cdot b + n r +
    d r)` memory for blocks of :math:`b` rows.

    References
    ----------
    .. [1] J. Goldberger, S. Roweis, G. Hinton, R. Salakhutdinov. Neighbourhood
       Components Analysis. NIPS 17, 2004.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlearn import NCA
    >>> X, y = load_iris(return_X_y=True)
    >>> nca = NCA(n_components=2, random_state=0).fit(X, y)
    >>> nca.transform(X).shape
    (150, 2)
    """

    _kind = "supervised"

    _parameter_constraints: dict = {
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"auto", "pca", "lda", "identity", "random"}),
                 np.ndarray],
        "warm_start": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "callback": [None, callable],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
    }

    def __init__(self, n_components=None, *, init="auto", warm_start=False,
                 max_iter=200, tol=1e-5, callback=None, verbose=0,
                 random_state=None, n_jobs=None):
        self.n_components = n_components
        self.init = init
        self.warm_start = warm_start
        self.max_iter = max_iter
        self.tol = tol
        self.callback = callback
        self.verbose = verbose
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit on points ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32],
                             ensure_min_samples=2)
        check_classification_targets(y)
        _, codes, _ = check_classes(y)
        n, d = X.shape
        r = check_n_components(self.n_components, d)
        rng = check_random_state(self.random_state)
        # the softmax over squared distances ties the objective to the data's
        # units: far outside ordinary units it is solved in units of the
        # data's spread (see LMNN), and L scaled back
        X64, L0, s = starting_point(self, X, codes, r, rng)
        n_threads = effective_n_jobs(self.n_jobs)
        L = run_lbfgs(self, lambda L: nca_loss_grad(L, X64, codes, None, n_threads),
                      L0, "NCA",
                      ftol=self.tol, gtol=self.tol, scale=s)
        self.components_ = (L / s).astype(X.dtype, copy=False)
        return self
