"""Metric Learning for Kernel Regression (Weinberger & Tesauro, AISTATS 2007)."""

from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from mlearn._kernels._softmax import _mlkr_list_weights, _mlkr_weights
from mlearn.base import MahalanobisMixin
from mlearn.utils._init import starting_point
from mlearn.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from mlearn.utils._softmax import (
    ScreenChoice,
    centred,
    n_threads_for,
    run_lbfgs,
    softmax_gradient,
)
from mlearn.utils._validation import check_n_components

__all__ = ["MLKR", "mlkr_loss_grad"]


def mlkr_loss_grad(L, X, y, block_size=None, n_threads=1, screen="float64"):
    """MLKR's leave-one-out kernel regression error and its gradient with
    respect to ``L``.

    Parameters
    ----------
    L : ndarray of shape (n_components, n_features)
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Real targets.
    block_size : int, default=None
        Rows of the distance matrix held at once; ``None`` chooses about 2¹⁸
        distances per block
        (at least 128 rows).
    n_threads : int, default=1
        Threads computing blocks side by side; the result does not depend on
        it.
    screen : {'float64', 'float32'}, default='float64'
        'float32' finds the pairs that survive the softmax's cut with a
        float32 GEMM (see :func:`mlearn.utils._softmax.softmax_pair_scatter`);
        faster when few pairs survive. The loss and gradient are float64
        either way.

    Returns
    -------
    loss : float
        :math:`\\sum_i (ŷ_i − y_i)²` (metric-learn's objective).
    grad : ndarray of shape (n_components, n_features)

    Notes
    -----
    With :math:`z_i = L x_i`, :math:`d_{ij} = ‖z_i − z_j‖²`,

    .. math::
        ŷ_i = \\frac{\\sum_{j≠i} e^{−d_{ij}} y_j}{\\sum_{k≠i} e^{−d_{ik}}},\\quad
        ∇_L \\sum_i (ŷ_i − y_i)² = −4 \\sum_{i,j} w_{ij}
        (z_i − z_j)(x_i − x_j)ᵀ

    with :math:`w_{ij} = p_{ij} (ŷ_i − y_i)(y_j − ŷ_i)`, accumulated block of
    rows by block of rows (:func:`mlearn.utils._softmax.softmax_pair_scatter`).
    """
    return _mlkr_loss_grad(L, centred(X), y, block_size, n_threads, screen)[:2]


def _mlkr_loss_grad(L, X, y, block_size, n_threads, screen, nearest=None):
    """:func:`mlkr_loss_grad` on :func:`~mlearn.utils._softmax.centred` ``X``,
    and the fraction of pairs screening listed."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    y_hat, AZtX, density = softmax_gradient(
        L, X, y, _mlkr_weights, _mlkr_list_weights, block_size, n_threads,
        screen, nearest)
    return float(np.sum((y_hat - y) ** 2)), -4.0 * AZtX, density


class MLKR(MahalanobisMixin, BaseEstimator):
    """Metric Learning for Kernel Regression.

    Learns a linear map ``L`` that minimises the leave-one-out error of
    Gaussian-kernel (Nadaraya–Watson) regression in the learned space: each
    sample's target is predicted by the average of the other samples' targets
    weighted by ``exp(−‖L(x_i − x_j)‖²)``. The objective and its gradient are
    computed a block of rows at a time, so memory grows linearly with the
    number of samples.

    Read more in the :ref:`User Guide <mlkr>`.

    Parameters
    ----------
    n_components : int, default=None
        Dimension of the learned space; ``None`` keeps ``n_features``.
    init : {'auto', 'pca', 'identity', 'random'} or ndarray, default='auto'
        Initial ``L``. 'auto' is 'pca' when ``n_components < min(n_features,
        n_samples)``, else 'identity' (metric-learn's choice for regression
        targets). An ndarray must have shape ``(n_components, n_features)``.
    tol : float or None, default=1e-8
        Convergence tolerance of L-BFGS-B: its relative loss decrease
        (``ftol``); the projected gradient tolerance (``gtol``) is ``tol``
        times the initial gradient's largest entry, so it does not depend on
        the scale of ``y``. ``None`` keeps L-BFGS-B's defaults
        (``ftol=2.2e-9``, ``gtol=1e-5``), as metric-learn does.
    max_iter : int, default=1000
        Maximum number of L-BFGS iterations.
    warm_start : bool, default=False
        Start from the previous ``components_`` when refitting on data with the
        same number of features.
    callback : callable, default=None
        Called as ``callback(L, n_iter)`` after every iteration, with ``L`` of
        shape ``(n_components, n_features)``.
    verbose : int, default=0
        Show a progress bar (iteration, loss, time).
    random_state : int, RandomState instance or None, default=None
        Seeds ``init='random'`` and PCA's solver for ``init='pca'``.
    n_jobs : int, default=None
        Threads computing blocks of the objective side by side during ``fit``
        (each with single-threaded BLAS): ``None`` uses as many as BLAS may
        (all cores, unless limited by ``threadpoolctl.threadpool_limits`` or
        ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``; scikit-learn's and
        metric-learn's full-matrix products use BLAS threads the same way),
        ``-1`` all cores. Results do not depend on it.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned ``L``.
    n_iter_ : int
        Number of L-BFGS iterations run.
    opt_result_ : scipy.optimize.OptimizeResult
        The optimiser's summary: ``fun`` (the final leave-one-out sum of
        squared errors), ``nit``, ``nfev``, ``status``, ``success``,
        ``message``.
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    NCA : the classification counterpart, a softmax nearest-neighbour rule.

    Notes
    -----
    With :math:`d_{ij} = ‖L(x_i − x_j)‖²`,

    .. math::
        \\min_L \\sum_i (ŷ_i − y_i)²,\\qquad
        ŷ_i = \\frac{\\sum_{j≠i} e^{−d_{ij}} y_j}{\\sum_{k≠i} e^{−d_{ik}}}

    solved with L-BFGS-B. Each evaluation costs :math:`O(n² r + n r d)` time
    for :math:`n` samples and :math:`r` components (three GEMMs per block of
    rows and one pass of a numba kernel with a numerically stable softmax per
    row) and :math:`O(n \\cdot b + n r + d r)` memory for blocks of :math:`b`
    rows.

    References
    ----------
    .. [1] K. Q. Weinberger, G. Tesauro. Metric Learning for Kernel Regression.
       AISTATS 2007.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from mlearn import MLKR
    >>> X, y = load_diabetes(return_X_y=True)
    >>> mlkr = MLKR(n_components=3, random_state=0).fit(X, y)
    >>> mlkr.transform(X).shape
    (442, 3)
    """

    _kind = "regression"

    _parameter_constraints: dict = {
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"auto", "pca", "identity", "random"}), np.ndarray],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "callback": [None, callable],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
    }

    def __init__(self, n_components=None, *, init="auto", tol=1e-8, max_iter=1000,
                 warm_start=False, callback=None, verbose=0, random_state=None,
                 n_jobs=None):
        self.n_components = n_components
        self.init = init
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.callback = callback
        self.verbose = verbose
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit on points ``X`` and real targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,)
            Real-valued targets.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32],
                             ensure_min_samples=2, y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        n, d = X.shape
        r = check_n_components(self.n_components, d)
        rng = check_random_state(self.random_state)
        # the softmax over squared distances ties the objective to the data's
        # units: far outside ordinary units it is solved in units of the
        # data's spread (see LMNN), and L scaled back
        X64, L0, s = starting_point(self, X, None, r, rng)

        n_threads = n_threads_for(self.n_jobs)
        evaluate = ScreenChoice(n).objective(partial(
            _mlkr_loss_grad, X=centred(X64), y=y, block_size=None,
            n_threads=n_threads))

        if self.tol is None:
            first, ftol, gtol = None, None, None
        else:
            first = evaluate(L0)
            ftol = self.tol
            gtol = self.tol * max(np.abs(first[1]).max(), np.finfo(np.float64).tiny)

        def fun(L):
            # the solver's first call is at L0, already evaluated for gtol
            if first is not None and np.array_equal(L, L0):
                return first
            return evaluate(L)

        L = run_lbfgs(self, fun, L0, "MLKR", ftol=ftol, gtol=gtol, scale=s)
        self.components_ = (L / s).astype(X.dtype, copy=False)
        return self
