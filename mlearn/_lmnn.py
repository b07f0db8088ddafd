"""Large Margin Nearest Neighbor (Weinberger & Saul, JMLR 2009)."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from mlearn._kernels._lmnn import (
    _lmnn_impostor_hinge,
    _lmnn_impostor_tile,
    _lmnn_target_sq_dist,
    _lmnn_weighted_scatter,
)
from mlearn.base import MahalanobisMixin
from mlearn.utils._sklearn_compat import (
    ConvergenceWarning,
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from mlearn.utils._validation import check_classes

__all__ = ["LMNN", "lmnn_loss_grad"]

# The impostor screen works on square tiles of this many samples a side: one
# float32 tile of inner products (1 MiB) stays in a core's L2 cache.
_TILE = 512


def find_target_neighbors(X, codes, n_neighbors):
    """Same-class nearest neighbours in the input space, ``(n, k)``, ``-1``
    where a class has fewer than ``k + 1`` members."""
    n = X.shape[0]
    targets = np.full((n, n_neighbors), -1, dtype=np.intp)
    for c in range(codes.max() + 1):
        idx = np.flatnonzero(codes == c)
        kc = min(n_neighbors, idx.shape[0] - 1)
        if kc < 1:
            continue  # a singleton class has no target neighbours
        nn = NearestNeighbors(n_neighbors=kc).fit(X[idx])
        targets[idx, :kc] = idx[nn.kneighbors(return_distance=False)]
    return targets


def _target_terms(Z, targets):
    """Pull sum, target distances ``(n, k)`` (``-inf`` where missing) and the
    margin radius ``1 + max_j d_ij`` of each anchor (``-inf`` without targets)."""
    n, k = targets.shape
    d_t = np.empty((n, k))
    radius = np.empty(n)
    pull = _lmnn_target_sq_dist(Z, targets, d_t, radius)
    return pull, d_t, radius


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
    pull, d_t, radius = _target_terms(Z, targets)
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


class _ImpostorSearch:
    """Candidate impostor pairs for the current ``L``, exact by construction.

    A scan keeps every different-class pair within ``s²`` times the anchor's
    margin radius ``r_i`` (``1 +`` its farthest target's squared distance). It
    visits each unordered pair once, on tiles of the class-sorted samples whose
    inner products come from one float32 GEMM, thresholded in numba against both
    anchors' radii; with each kept pair it stores a lower bound of its distance.

    The cached set is reused for a new ``L = L₀ + Δ`` while no pair outside it
    can have become active. Every pair ``(i, l)`` outside it had
    ``‖L₀(x_i − x_l)‖ ≥ s √r_i(L₀)``. With ``p_i = Δ x_i``, ``c`` their mean and
    ``a_i = ‖p_i − c‖`` (``shift``), the triangle inequality gives

    ``‖L(x_i − x_l)‖ ≥ s √r_i(L₀) − ‖p_i − p_l‖ ≥ s √r_i(L₀) − a_i − max_l a_l``,

    and, for square invertible ``L₀`` with ``ε = ‖Δ L₀⁻¹‖₂``, also
    ``≥ (1 − ε) s √r_i(L₀)``. When the larger bound is at least ``√r_i(L)`` (the
    current radius, known exactly) for every anchor, no pair outside the set
    is active and the set is reused; otherwise the scan runs again at ``L``.
    The bound measures the step on the data, per anchor, so it holds for
    rectangular ``L`` and for steps that shrink noise directions to near zero
    (where ``ε`` alone is useless). The same ``a_i`` let the loss skip a
    candidate whose stored bound minus ``a_i + a_l`` already clears the radius.

    When the first scan finds more than ``max_impostors`` candidates, every
    different-class pair is kept with probability ``rate ≈ max_impostors /
    found``: ``(i, l)`` is kept when ``(u_i + v_l) mod 2³² < keep`` for random
    per-sample offsets ``u``, ``v`` drawn once, so each pair is kept with
    probability exactly ``keep / 2³²`` and the subset is the same at every
    scan, independent of ``L``: the objective stays one smooth function.
    """

    _ALL = np.uint64(2**32)

    def __init__(self, X, codes, targets, max_impostors, random_state=None,
                 slack=1.02, tile=_TILE):
        n = X.shape[0]
        rng = check_random_state(random_state)
        self.X = X
        self.targets = targets
        self.max_impostors = max_impostors
        self.u = rng.randint(0, 2**32, size=n, dtype=np.uint64)
        self.v = rng.randint(0, 2**32, size=n, dtype=np.uint64)
        self.slack = slack
        self.tile = tile
        self.keep = None  # subsampling threshold, fixed at the first scan
        self.rate = 1.0
        # the scan visits the samples sorted by class
        self.order = np.argsort(codes, kind="stable").astype(np.intp)
        self._sorted = (np.ascontiguousarray(codes[self.order], dtype=np.intp),
                        self.order.astype(np.int32), self.u[self.order],
                        self.v[self.order])
        self.Z_ref = self.L_ref = self.L_ref_inv = self.outside = None
        self.cand = (np.empty(0, np.int32), np.empty(0, np.int32))
        self.root = np.empty(0, np.float32)
        self.shift = np.zeros(n)
        self.n_scans = 0

    def __call__(self, L, Z=None, radius=None):
        """Candidate pairs ``(anchors, impostors)`` for ``L``, with ``Z = X Lᵀ``
        and the margin radii computed when not given. Afterwards ``root`` and
        ``shift`` hold the candidates' distance bounds at the reference map and
        how far each sample has moved since."""
        if Z is None:
            Z = self.X @ L.T
            radius = _target_terms(Z, self.targets)[2]
        if not self._reusable(L, Z, radius):
            self._scan(L, Z, radius)
        return self.cand

    def _reusable(self, L, Z, radius):
        if self.Z_ref is None:
            return False
        P = Z - self.Z_ref
        P -= P.mean(axis=0)
        self.shift = np.sqrt(np.einsum("ij,ij->i", P, P))
        has = radius > -np.inf  # anchors without targets have no impostors
        need = np.sqrt(radius[has]) * (1.0 + 1e-9)
        outside = self.outside[has]
        # every sample, with targets or not, can be the impostor l: max over all
        lower = outside - self.shift[has] - self.shift.max()
        if np.all(lower >= need):
            return True
        if self.L_ref_inv is None:
            return False
        eps = np.linalg.norm((L - self.L_ref) @ self.L_ref_inv, 2)
        return bool(eps < 1.0 and np.all(np.maximum(lower, (1.0 - eps) * outside)
                                         >= need))

    def _scan(self, L, Z, radius):
        self.n_scans += 1
        sq = np.einsum("ij,ij->i", Z, Z)
        # The screen runs its GEMM in float32 (twice the speed). Rounding moves
        # ``‖z_i‖² + ‖z_l‖² − 2 z_iᵀz_l`` by at most ``2 r u ‖z_i‖‖z_l‖``
        # (r terms, unit roundoff u = 2⁻²⁴), so widening each radius by
        # ``err_i = 2 r u (‖z_i‖² + max‖z‖²)`` keeps the candidate set a superset:
        # every pair left out is at least ``s² r_i`` away. Outside float32's
        # range (overflow, or underflow past that bound) it runs in float64.
        in_range = 1e-30 < sq.max() < 1e30
        dtype, unit = (np.float32, 2.0**-24) if in_range else (np.float64, 2.0**-53)
        err = 2.0 * Z.shape[1] * unit * (sq + sq.max())
        screen = self.slack ** 2 * radius + err
        args = (np.ascontiguousarray(Z[self.order], dtype=dtype),
                *(np.ascontiguousarray(v[self.order]) for v in (sq, screen, err)))
        if self.keep is None:
            found, cand = self._tiles(*args, self._ALL, limit=self.max_impostors)
            self.keep = self._ALL
            if cand is None:
                self.keep = np.uint64(int(2**32 * self.max_impostors / found))
                self.rate = float(self.keep) / 2**32
                cand = self._tiles(*args, self.keep)[1]
        else:
            cand = self._tiles(*args, self.keep)[1]
        self.cand, self.root = cand[:2], cand[2]
        self.outside = self.slack * np.sqrt(np.maximum(radius, 0.0))
        self.shift = np.zeros(Z.shape[0])
        self.Z_ref = Z.copy()
        self.L_ref = L.copy()
        self.L_ref_inv = None
        if L.shape[0] == L.shape[1]:
            s = np.linalg.svd(L, compute_uv=False)
            if s[-1] > s[0] * 1e-8:
                self.L_ref_inv = np.linalg.inv(L)

    def _tiles(self, Zs, sq, screen, err, keep, limit=None):
        """Screen every different-class pair of the class-sorted samples;
        ``(found, (anchors, impostors, distance bounds))``, the pairs ``None``
        once more than ``limit`` were found (from then on only counted)."""
        n = Zs.shape[0]
        B = self.tile
        codes, ids, u, v = self._sorted
        room = 2 * B * B  # most pairs one tile can add
        out = _PairBuffer(max(4 * room, len(self.cand[0]) + room))
        gbuf = np.empty(B * B, dtype=Zs.dtype)
        found, emit = 0, True
        for i0 in range(0, n, B):
            i1 = min(i0 + B, n)
            rows = slice(i0, i1)
            for j0 in range(i0, n, B):
                j1 = min(j0 + B, n)
                if codes[i0] == codes[i1 - 1] == codes[j0] == codes[j1 - 1]:
                    continue  # one class: no impostor pairs
                cols = slice(j0, j1)
                G = gbuf[:(i1 - i0) * (j1 - j0)].reshape(i1 - i0, j1 - j0)
                np.matmul(Zs[rows], Zs[cols].T, out=G)
                if emit:
                    out.reserve(found + room)
                found += _lmnn_impostor_tile(
                    G, sq[rows], sq[cols], screen[rows], screen[cols], err[rows],
                    err[cols], codes[rows], codes[cols], ids[rows], ids[cols],
                    u[rows], v[rows], u[cols], v[cols], i0 == j0, keep, emit,
                    found, out.a, out.b, out.r)
                if emit and limit is not None and found > limit:
                    emit = False
                    out = _PairBuffer(0)  # counting only from here on
        if not emit:
            return found, None
        return found, out.trim(found)


class _PairBuffer:
    """Growable (anchor, impostor, distance bound) arrays for the scan."""

    def __init__(self, size):
        self.a = np.empty(size, dtype=np.int32)
        self.b = np.empty(size, dtype=np.int32)
        self.r = np.empty(size, dtype=np.float32)

    def reserve(self, size):
        if size > self.a.shape[0]:
            size = max(size, 2 * self.a.shape[0])
            for name in ("a", "b", "r"):
                old = getattr(self, name)
                new = np.empty(size, dtype=old.dtype)
                new[:old.shape[0]] = old
                setattr(self, name, new)

    def trim(self, size):
        return self.a[:size].copy(), self.b[:size].copy(), self.r[:size].copy()


class LMNN(MahalanobisMixin, BaseEstimator):
    """Large Margin Nearest Neighbor metric learning.

    Learns a linear map ``L`` that pulls each sample's ``n_neighbors``
    same-class target neighbours close while pushing samples of other classes
    (impostors) at least a unit margin farther away, the objective behind
    k-NN classification.

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
    max_iter : int, default=100
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
        the first scan finds more, each different-class pair is kept with
        probability ``max_impostors / found`` — a fixed random subset drawn
        from ``random_state``, the same at every scan — and the push term is
        scaled by the inverse rate, an unbiased estimate of the full objective
        (see ``impostor_sampling_rate_``). At or below the bound the objective
        is exact and ``random_state`` does not affect it.
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
        The optimiser's result.
    impostor_sampling_rate_ : float
        Fraction of impostor pairs kept (1.0: all, the exact objective).
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

    _test_params = {"max_iter": 5}

    def __init__(self, n_neighbors=3, n_components=None, init="auto", max_iter=100,
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
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        from tqdm.auto import tqdm

        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32],
                             ensure_min_samples=2)
        classes, codes, counts = check_classes(y)
        if counts.max() < 2:
            raise ValueError(
                "LMNN needs a class with at least 2 samples to have target "
                f"neighbours; every one of the {classes.shape[0]} classes has 1."
            )
        n, d = X.shape
        r = d if self.n_components is None else self.n_components
        if r > d:
            raise ValueError(
                f"n_components ({r}) cannot be greater than n_features ({d})."
            )
        rng = check_random_state(self.random_state)
        X64 = np.ascontiguousarray(X, dtype=np.float64)
        L0 = self._initial_components(X64, codes, classes.shape[0], r, rng)
        targets = find_target_neighbors(X64, codes, self.n_neighbors)
        search = _ImpostorSearch(X64, codes, targets, self.max_impostors, rng)
        mu = self.regularization
        state = {"n_active": 0, "loss": np.nan}

        def fun(flat):
            L = flat.reshape(r, d)
            Z = X64 @ L.T
            pull, d_t, radius = _target_terms(Z, targets)
            a, b = search(L, Z, radius)
            loss, grad, state["n_active"] = _loss_grad(
                X64, Z, targets, pull, d_t, radius, a, b, search.root,
                search.shift, mu, 1.0 / search.rate)
            state["loss"] = loss
            return loss / n, grad.ravel() / n

        self.n_iter_ = 0
        t0 = time.perf_counter()
        bar = tqdm(total=self.max_iter, disable=not self.verbose, desc="LMNN")

        def on_iter(flat):
            self.n_iter_ += 1
            bar.update(1)
            bar.set_postfix(loss=f"{state['loss']:.4g}", active=state["n_active"],
                            time=f"{time.perf_counter() - t0:.1f}s")
            if self.callback is not None:
                self.callback(flat.reshape(r, d), self.n_iter_)

        try:
            with threadpool_limits(effective_n_jobs(self.n_jobs), user_api="blas"):
                res = minimize(fun, L0.ravel(), jac=True, method="L-BFGS-B",
                               callback=on_iter,
                               options={"maxiter": self.max_iter, "ftol": self.tol,
                                        "gtol": 1e-8})
        finally:
            bar.close()
        if not res.success and self.n_iter_ >= self.max_iter:
            warnings.warn(
                f"LMNN did not converge in max_iter={self.max_iter} iterations "
                f"(tol={self.tol}); increase max_iter.", ConvergenceWarning
            )
        self.n_iter_ = int(res.nit)
        self.opt_result_ = res
        self.impostor_sampling_rate_ = search.rate
        self.components_ = res.x.reshape(r, d).astype(X.dtype, copy=False)
        return self

    def _initial_components(self, X, codes, n_classes, r, rng):
        d = X.shape[1]
        if self.warm_start and hasattr(self, "components_"):
            if self.components_.shape == (r, d):
                return np.array(self.components_, dtype=np.float64)
        init = self.init
        if isinstance(init, np.ndarray):
            L0 = np.asarray(init, dtype=np.float64)
            if L0.shape != (r, d):
                raise ValueError(
                    f"init must have shape ({r}, {d}) (n_components, n_features), "
                    f"got {L0.shape}."
                )
            if not np.all(np.isfinite(L0)):
                raise ValueError("init contains NaN or infinity.")
            return L0.copy()
        if init == "auto":
            if r <= min(d, n_classes - 1):
                init = "lda"
            elif r < min(d, X.shape[0]):
                init = "pca"
            else:
                init = "identity"
        if init == "identity":
            return np.eye(r, d)
        if init == "random":
            return rng.standard_normal((r, d))
        if init == "pca":
            if r > min(X.shape):
                raise ValueError(
                    f"init='pca' needs n_components ({r}) <= min(n_samples, "
                    f"n_features) ({min(X.shape)})."
                )
            pca = PCA(n_components=r, random_state=rng).fit(X)
            return pca.components_.copy()
        # 'lda'
        if r > min(d, n_classes - 1):
            raise ValueError(
                f"init='lda' needs n_components ({r}) <= min(n_features, "
                f"n_classes - 1) ({min(d, n_classes - 1)})."
            )
        lda = LinearDiscriminantAnalysis(n_components=r).fit(X, codes)
        return lda.scalings_.T[:r].copy()
