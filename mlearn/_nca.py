"""Neighbourhood Components Analysis (Goldberger et al., NIPS 2004)."""

import warnings
from functools import partial
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from mlearn._kernels._softmax import _nca_list_weights, _nca_weights
from mlearn.base import MahalanobisMixin
from mlearn.utils._init import starting_point
from mlearn.utils._sklearn_compat import (
    ConvergenceWarning,
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
from mlearn.utils._validation import check_classes, check_n_components

__all__ = ["NCA", "nca_loss_grad"]

# above this many samples, 'auto' starts from a fit on a subsample of
# max(_COARSE_SIZE, n / 8) of them
_COARSE_MIN = 30000
_COARSE_SIZE = 5000


def nca_loss_grad(L, X, codes, block_size=None, n_threads=1, screen="float64"):
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
    return _nca_loss_grad(L, centred(X), codes, block_size, n_threads, screen)[:2]


def _nca_loss_grad(L, X, codes, block_size, n_threads, screen, nearest=None):
    """:func:`nca_loss_grad` on :func:`~mlearn.utils._softmax.centred` ``X``,
    and the fraction of pairs screening listed."""
    codes = np.ascontiguousarray(codes, dtype=np.intp)
    p_same, AZtX, density = softmax_gradient(
        L, X, codes, _nca_weights, _nca_list_weights, block_size, n_threads,
        screen, nearest)
    return -float(p_same.sum()), 2.0 * AZtX, density


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
        (each with single-threaded BLAS): ``None`` uses as many as BLAS may
        (all cores, unless limited by ``threadpoolctl.threadpool_limits`` or
        ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``; scikit-learn's and
        metric-learn's full-matrix products use BLAS threads the same way),
        ``-1`` all cores. Results do not depend on it.
    coarse_start : 'auto' or bool, default='auto'
        Start from ``L`` fitted on a stratified random subsample of
        ``max(5000, n_samples / 8)`` samples (drawn with ``random_state``,
        from ``init``; recursively when that is large too), then fit on all
        samples from there. The first iterations, while the softmax is wide
        and nearly every pair carries weight, are the costly ones
        (``O(n²)`` pairs each); on the subsample they cost 1/64 of that.
        The objective, and the stopping rule, are those of all samples;
        ``callback``, ``n_iter_`` and ``opt_result_`` see only the fit on
        all samples (the stage may run up to ``max_iter`` iterations of its
        own). 'auto' does so for more than 30 000 samples; ``False`` runs every
        iteration on all samples (scikit-learn's and metric-learn's way).
        Ignored under ``warm_start`` with a previous fit, and for 5000
        samples or fewer.

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
    coarse_samples_ : int or None
        Size of the subsample the fit started from (``coarse_start``), or
        ``None``.

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
        "coarse_start": [StrOptions({"auto"}), "boolean"],
    }

    def __init__(self, n_components=None, *, init="auto", warm_start=False,
                 max_iter=200, tol=1e-5, callback=None, verbose=0,
                 random_state=None, n_jobs=None, coarse_start="auto"):
        self.n_components = n_components
        self.init = init
        self.warm_start = warm_start
        self.max_iter = max_iter
        self.tol = tol
        self.callback = callback
        self.verbose = verbose
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.coarse_start = coarse_start

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
        n_threads = n_threads_for(self.n_jobs)
        self.coarse_samples_ = None
        coarse = (self.coarse_start if self.coarse_start != "auto"
                  else n > _COARSE_MIN)
        # a subsample of max(_COARSE_SIZE, n / 8) must be smaller than the data
        coarse = coarse and n > _COARSE_SIZE
        if coarse and not (self.warm_start and getattr(self, "components_", None)
                           is not None):
            # screened from the start: as sharp as the subsample's end point
            L0, self.coarse_samples_, density = _coarse_fit(self, X64, codes, L0,
                                                            n_threads, rng)
        else:
            density = 1.0
        fun = ScreenChoice(n, density).objective(partial(
            _nca_loss_grad, X=centred(X64), codes=codes, block_size=None,
            n_threads=n_threads))
        L = run_lbfgs(self, fun, L0, "NCA", ftol=self.tol, gtol=self.tol, scale=s)
        self.components_ = (L / s).astype(X.dtype, copy=False)
        return self


def _stratified_subsample(codes, size, rng):
    """Indices of about ``size`` samples, each class in proportion (at least
    two of each, all of a class with fewer), in increasing order."""
    n = codes.shape[0]
    picked = []
    for c in np.unique(codes):
        members = np.flatnonzero(codes == c)
        take = min(members.size, max(2, int(round(members.size * size / n))))
        picked.append(rng.choice(members, take, replace=False))
    return np.sort(np.concatenate(picked))


def _coarse_fit(estimator, X, codes, L0, n_threads, rng):
    """``L`` fitted on a stratified subsample (recursively for a large one),
    to start the fit on all samples from: the early iterations, while the
    softmax is still wide and every pair carries weight, then cost
    ``(n / 8)²`` instead of ``n²`` per evaluation. (Stopping the stage as
    soon as the softmax is sharp made the fit on all samples longer: 229 s
    against 176 s at n = 50 000.) Returns ``(L, size,
    density)``, ``density`` the fraction of pairs with weight at the end."""
    size = max(_COARSE_SIZE, X.shape[0] // 8)
    idx = _stratified_subsample(codes, size, rng)
    Xs, cs = X[idx], codes[idx]
    if Xs.shape[0] > _COARSE_MIN:
        L0 = _coarse_fit(estimator, Xs, cs, L0, n_threads, rng)[0]
    screen = ScreenChoice(Xs.shape[0])
    fun = screen.objective(partial(_nca_loss_grad, X=centred(Xs), codes=cs,
                                   block_size=None, n_threads=n_threads))
    stage = SimpleNamespace(max_iter=estimator.max_iter, tol=estimator.tol,
                            callback=None, verbose=estimator.verbose)
    with warnings.catch_warnings():
        # a stage, not the fit: its own iteration cap is no news
        warnings.simplefilter("ignore", ConvergenceWarning)
        L = run_lbfgs(stage, fun, L0, f"NCA (start, {Xs.shape[0]} samples)",
                      ftol=estimator.tol, gtol=estimator.tol)
    return L, int(Xs.shape[0]), screen.density
