"""Large Margin Nearest Neighbor (Weinberger & Saul, JMLR 2009)."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from mlearn._constraints import find_target_neighbors
from mlearn._kernels._lmnn import _lmnn_impostor_hinge, _lmnn_weighted_scatter
from mlearn._lmnn_impostors import ImpostorSearch, target_terms
from mlearn.base import MahalanobisMixin
from mlearn.utils._init import starting_point
from mlearn.utils._lbfgs import finish_lbfgs
from mlearn.utils._progress import progress_bar
from mlearn.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from mlearn.utils._validation import _plain, check_classes, check_n_components

__all__ = ["LMNN", "lmnn_loss_grad"]

def lmnn_loss_grad(L, X, targets, imp_a, imp_b, regularization, push_scale=1.0):
    """LMNN's smooth loss and its gradient with respect to ``L``.

    Parameters
    ----------
    L : ndarray of shape (n_components, n_features)
    X : ndarray of shape (n_samples, n_features)
    targets : ndarray of shape (n_samples, k)
        Target neighbours of each sample, ``-1`` where there are fewer.
    imp_a, imp_b : ndarray of shape (n_candidates,)
        Candidate impostor pairs: ``imp_a[p]`` an anchor, ``imp_b[p]`` a sample
        of another class. Any superset of the active pairs gives the same
        result; inactive candidates contribute nothing.
    regularization : float
        Weight ``μ`` of the pull term; the push term has weight ``1 − μ``.
    push_scale : float, default=1.0
        Multiplies the push term (``1 / sampling rate`` when the impostor pairs
        are a random subset, making the push term an unbiased estimate).

    Returns
    -------
    loss : float
    grad : ndarray of shape (n_components, n_features)
    n_active : int
        Number of active (anchor, impostor) pairs.

    Notes
    -----
    With :math:`d_{ab} = ‖L(x_a − x_b)‖²` and :math:`N(i)` the target
    neighbours of :math:`i`,

    .. math::
        ε(L) = μ \\sum_{i, j ∈ N(i)} d_{ij} + (1 − μ) \\sum_{i, j ∈ N(i)}
        \\sum_{l: y_l ≠ y_i} [1 + d_{ij} − d_{il}]_+^2

    and :math:`∇ε = 2 L \\sum_{(a,b)} w_{ab} (x_a − x_b)(x_a − x_b)ᵀ
    = 2 L Xᵀ A X`, with weights :math:`μ + 2(1 − μ)\\sum_l h_{ijl}` on target
    pairs and :math:`−2(1 − μ)\\sum_j h_{ijl}` on impostor pairs
    (:math:`h = [1 + d_{ij} − d_{il}]_+`); the hinge terms and ``A X`` are
    accumulated pair by pair in numba kernels, never as per-triplet outer
    products.
    """
    Z = X @ L.T
    pull, d_t, radius = target_terms(Z, targets)
    imp_a = np.ascontiguousarray(imp_a, dtype=np.int32)
    imp_b = np.ascontiguousarray(imp_b, dtype=np.int32)
    no_bound = np.zeros(imp_a.shape[0], np.float32), np.zeros(X.shape[0])
    return _loss_grad(X, Z, targets, pull, d_t, radius, imp_a, imp_b, *no_bound,
                      regularization, push_scale)


def _loss_grad(X, Z, targets, pull, d_t, radius, imp_a, imp_b, imp_root, shift,
               regularization, push_scale):
    """``lmnn_loss_grad`` from the current map's ``Z`` and target terms, with
    each candidate's distance lower bound ``imp_root − shift[a] − shift[b]``."""
    mu = float(regularization)
    nu = (1.0 - mu) * float(push_scale)
    n, k = targets.shape
    w_h = np.zeros((n, k))
    act_a = np.empty(imp_a.shape[0], dtype=np.int32)
    act_b = np.empty(imp_a.shape[0], dtype=np.int32)
    act_w = np.empty(imp_a.shape[0])
    push, n_act = _lmnn_impostor_hinge(Z, d_t, radius, imp_a, imp_b, imp_root,
                                       shift, w_h, act_a, act_b, act_w)
    valid = targets >= 0
    rows = np.repeat(np.arange(n, dtype=np.intp), k)[valid.ravel()]
    AX = np.zeros_like(X)
    _lmnn_weighted_scatter(X, np.concatenate([rows, act_a[:n_act]]),
                           np.concatenate([targets[valid], act_b[:n_act]]),
                           np.concatenate([mu + 2.0 * nu * w_h[valid],
                                           -2.0 * nu * act_w[:n_act]]), AX)
    loss = mu * pull + nu * push
    grad = 2.0 * (Z.T @ AX)
    return float(loss), grad, int(n_act)


class LMNN(MahalanobisMixin, BaseEstimator):
    """Large Margin Nearest Neighbor metric learning.

    Learns a linear map ``L`` that pulls each sample's ``n_neighbors``
    same-class target neighbours close while pushing samples of other classes
    (impostors) at least a unit margin farther away, the objective behind
    k-NN classification.

    Read more in the :ref:`User Guide <lmnn>`.

    Parameters
    ----------
    n_neighbors : int, default=3
        Number of target neighbours per sample. A class with fewer than
        ``n_neighbors + 1`` samples uses all its other members as targets;
        singleton classes have none (they still act as impostors).
    n_components : int, default=None
        Dimension of the learned space; ``None`` keeps ``n_features``.
    init : {'auto', 'pca', 'lda', 'identity', 'random'} or ndarray, \
default='auto'
        Initial ``L``. 'auto' follows scikit-learn's NCA: 'lda' when
        ``n_components <= min(n_features, n_classes - 1)``, else 'pca' when
        ``n_components < n_features``, else 'identity'. An ndarray must have
        shape ``(n_components, n_features)``.
    max_iter : int, default=200
        Maximum number of L-BFGS iterations.
    tol : float, default=1e-5
        Stop when the relative decrease of the loss falls below ``tol``
        (L-BFGS-B's ``ftol``).
    regularization : float, default=0.5
        Weight ``μ`` of the pull term; the push term has weight ``1 − μ``
        (metric-learn's convention).
    max_impostors : int, default=500_000
        Bound on the candidate impostor pairs held in memory (pyLMNN's
        default; 12 bytes each, twice that while a rescan replaces them). When
        a scan finds more, each different-class pair is kept with probability
        about ``0.98 max_impostors / found`` — a fixed random subset drawn from
        ``random_state``, the same at every scan — and the push term is scaled
        by the inverse rate, an unbiased estimate of the full objective (see
        ``impostor_sampling_rate_``). A later scan that finds more again lowers
        the rate (a subset of the subset) and L-BFGS restarts on the new
        objective, so no scan holds more than ``max_impostors`` pairs. At or
        below the bound the objective is exact and ``random_state`` does not
        affect it.
    warm_start : bool, default=False
        Start from the previous ``components_`` when refitting.
    callback : callable, default=None
        Called as ``callback(L, n_iter)`` after every iteration.
    verbose : int, default=0
        Show a progress bar (iteration, loss, active impostors, time).
    random_state : int, RandomState instance or None, default=None
        Seeds ``init='random'`` and the impostor subsample.
    n_jobs : int, default=None
        BLAS threads used during ``fit``: ``None`` means 1 (scikit-learn's
        convention), ``-1`` all cores. One thread is fastest up to a few thousand
        samples (threaded BLAS on small blocks costs more than it saves); the
        numba kernels are serial. Results do not depend on it.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned ``L``.
    n_iter_ : int
        Number of L-BFGS iterations run.
    opt_result_ : scipy.optimize.OptimizeResult
        The optimiser's summary: ``fun``, ``nit``, ``nfev``, ``status``,
        ``success``, ``message`` (the final ``L`` is ``components_``).
    impostor_sampling_rate_ : float
        Fraction of impostor pairs kept (1.0: all, the exact objective).
    n_impostor_candidates_ : int
        The most candidate impostor pairs any scan held (at most
        ``max_impostors``).
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    ITML : metric from pair constraints and a LogDet prior.
    sklearn.neighbors.NeighborhoodComponentsAnalysis : a softmax k-NN objective.

    Notes
    -----
    With :math:`d_{ab} = ‖L(x_a − x_b)‖²`, target neighbours :math:`N(i)`
    found once per class in the input space, and :math:`μ` = ``regularization``,

    .. math::
        \\min_L\\; μ \\sum_{i, j ∈ N(i)} d_{ij} + (1 − μ) \\sum_{i, j ∈ N(i)}
        \\sum_{l: y_l ≠ y_i} [1 + d_{ij} − d_{il}]_+^2

    The squared hinge makes the loss smooth, so L-BFGS applies (metric-learn
    uses the plain hinge and gradient steps). Each evaluation finds the active
    impostors exactly: a scan visits every different-class pair once, in
    float32 GEMM tiles thresholded in numba, and keeps those inside a margin
    widened by 2 %; the set is reused while a per-anchor bound on how far the
    points have moved since proves no other pair can be active. The gradient
    :math:`2 L Xᵀ A X` comes from a sparse pair-weight matrix :math:`A`.
    Cost per evaluation: :math:`O((nk + p)\\, d + n\\, r\\, d)` for :math:`p`
    candidate impostors, plus :math:`O(n² r)` when a scan runs; memory
    :math:`O(nk + p)`, never :math:`O(n²)`.

    References
    ----------
    .. [1] K. Q. Weinberger, L. K. Saul. Distance metric learning for large
       margin nearest neighbor classification. JMLR 10, 2009.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlearn import LMNN
    >>> X, y = load_iris(return_X_y=True)
    >>> lmnn = LMNN(random_state=0).fit(X, y)
    >>> lmnn.transform(X).shape
    (150, 4)
    """

    _kind = "supervised"

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"auto", "pca", "lda", "identity", "random"}),
                 np.ndarray],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "regularization": [Interval(Real, 0, 1, closed="both")],
        "max_impostors": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "callback": [None, callable],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
    }

    def __init__(self, n_neighbors=3, n_components=None, init="auto", max_iter=200,
                 tol=1e-5, regularization=0.5, max_impostors=500_000,
                 warm_start=False, callback=None, verbose=0, random_state=None,
                 n_jobs=None):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.regularization = regularization
        self.max_impostors = max_impostors
        self.warm_start = warm_start
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
            The points.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32],
                             ensure_min_samples=2)
        classes, codes, counts = check_classes(y)
        if counts.max() < 2:
            raise ValueError(
                "LMNN needs a class with at least 2 samples to have target "
                f"neighbours; every one of the {classes.shape[0]} classes has 1."
            )
        if counts.min() < self.n_neighbors + 1:
            small = [f"{_plain(c)!r} ({m})"
                     for c, m in zip(classes, counts) if m < self.n_neighbors + 1]
            warnings.warn(
                f"n_neighbors={self.n_neighbors} needs {self.n_neighbors + 1} samples "
                f"per class; these classes use all their other members as targets "
                f"(a singleton none): {', '.join(small[:5])}"
                + (" ..." if len(small) > 5 else "") + ".", UserWarning,
                stacklevel=2)
        n, d = X.shape
        r = check_n_components(self.n_components, d)
        rng = check_random_state(self.random_state)
        # The margin of 1 ties LMNN to the data's units; far outside ordinary
        # units the squared distances overflow or L-BFGS's tolerances stop it
        # at the start, so there the problem is solved in units of the data's
        # spread (X / s) and L scaled back.
        X64, L0, s = starting_point(self, X, codes, r, rng)
        targets = find_target_neighbors(X64, codes, self.n_neighbors)
        search = ImpostorSearch(X64, codes, targets, self.max_impostors, rng)
        mu = self.regularization
        state = {"n_active": 0, "loss": np.nan, "rate": None}

        def fun(flat):
            L = flat.reshape(r, d)
            Z = X64 @ L.T
            pull, d_t, radius = target_terms(Z, targets)
            a, b = search(L, Z, radius)
            if state["rate"] is None:
                state["rate"] = search.rate
            elif search.rate != state["rate"]:
                raise _RateChanged(flat.copy())
            loss, grad, state["n_active"] = _loss_grad(
                X64, Z, targets, pull, d_t, radius, a, b, search.root,
                search.shift, mu, 1.0 / search.rate)
            state["loss"] = loss
            return loss / n, grad.ravel() / n

        self.n_iter_ = 0
        t0 = time.perf_counter()
        bar = progress_bar(self.max_iter, "LMNN", self.verbose)

        def on_iter(flat):
            self.n_iter_ += 1
            bar.update(1)
            bar.set_postfix(loss=f"{state['loss']:.4g}", active=state["n_active"],
                            time=f"{time.perf_counter() - t0:.1f}s")
            if self.callback is not None:
                self.callback(flat.reshape(r, d) / s, self.n_iter_)

        x0 = L0.ravel()
        try:
            with threadpool_limits(effective_n_jobs(self.n_jobs), user_api="blas"):
                while True:
                    try:
                        left = max(self.max_iter - self.n_iter_, 1)
                        res = minimize(fun, x0, jac=True, method="L-BFGS-B",
                                       callback=on_iter,
                                       options={"maxiter": left, "ftol": self.tol,
                                                "gtol": 1e-8})
                        break
                    except _RateChanged as change:
                        # a scan lowered the impostor sampling rate: the push
                        # term changed, so L-BFGS restarts on the new objective
                        x0, state["rate"] = change.x, None
        finally:
            bar.close()
        res.nit = self.n_iter_  # iterations over all restarts
        finish_lbfgs(self, res, "LMNN")
        self.impostor_sampling_rate_ = search.rate
        self.n_impostor_candidates_ = int(search.peak_candidates)
        self.components_ = (res.x.reshape(r, d) / s).astype(X.dtype, copy=False)
        return self


class _RateChanged(Exception):
    """Raised inside the objective when the impostor sampling rate drops."""

    def __init__(self, x):
        super().__init__("impostor sampling rate changed")
        self.x = x
