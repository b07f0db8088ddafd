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
    _lmnn_impostor_count,
    _lmnn_impostor_fill,
    _lmnn_sq_dist_indexed,
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

# Rows of one impostor-search block are sized so a block of distances stays
# around 32 MB whatever n is.
_BLOCK_ELEMENTS = 4_000_000


def _sq_dist_indexed(Z, a, b):
    out = np.empty(a.shape[0], dtype=np.float64)
    if a.shape[0]:
        _lmnn_sq_dist_indexed(Z, a, b, out)
    return out


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
    (:math:`h = [1 + d_{ij} − d_{il}]_+`); ``A X`` is accumulated pair by
    pair in a numba kernel, never as per-triplet outer products.
    """
    mu = float(regularization)
    nu = (1.0 - mu) * float(push_scale)
    n, k = targets.shape
    Z = X @ L.T
    valid = targets >= 0
    rows = np.repeat(np.arange(n, dtype=np.intp), k)[valid.ravel()]
    cols = targets[valid]
    d_t = np.zeros((n, k))
    d_t[valid] = _sq_dist_indexed(Z, rows, cols)
    # keep only the active impostor pairs: d_il < 1 + max_j d_ij
    radius = 1.0 + np.where(valid, d_t, -np.inf).max(axis=1)
    d_imp = _sq_dist_indexed(Z, imp_a, imp_b)
    act = d_imp < radius[imp_a]
    imp_a, imp_b, d_imp = imp_a[act], imp_b[act], d_imp[act]
    H = 1.0 + d_t[imp_a] - d_imp[:, None]
    H[~valid[imp_a]] = 0.0
    np.maximum(H, 0.0, out=H)
    loss = mu * d_t.sum() + nu * float(np.sum(H * H))
    w_t = np.empty((n, k))
    for j in range(k):  # bincount sums in a fixed order: deterministic
        w_t[:, j] = np.bincount(imp_a, weights=H[:, j], minlength=n)
    w_t = mu + 2.0 * nu * w_t
    w_i = -2.0 * nu * H.sum(axis=1)
    AX = np.zeros_like(X)
    _lmnn_weighted_scatter(X, np.concatenate([rows, imp_a]),
                           np.concatenate([cols, imp_b]),
                           np.concatenate([w_t[valid], w_i]), AX)
    grad = 2.0 * (Z.T @ AX)
    return float(loss), grad, int(imp_a.shape[0])


class _ImpostorSearch:
    """Candidate impostor pairs for the current ``L``, exact by construction.

    A full scan keeps every different-class pair within ``s²`` times the anchor's
    margin radius (``1 +`` its farthest target's squared distance), one class
    against the rest in GEMM blocks, thresholded in numba. For a square, invertible
    reference ``L₀`` and a new ``L``, ``ε = ‖(L − L₀)L₀⁻¹‖₂`` bounds how much any
    distance can shrink (factor ``1 − ε``) or grow (``1 + ε``), so a pair outside
    the candidate set cannot violate the margin while ``(1 + ε)/(1 − ε) ≤ s``: the
    cached set is reused and only rescanned when ``L`` has moved further.

    When the first scan finds more than ``max_impostors`` candidates, every
    different-class pair is kept with probability ``rate = max_impostors / found``
    by a fixed hash of the pair (the same subset at every scan, independent of
    ``L``), so the objective stays one smooth function.
    """

    _ALL = np.uint64(2**64 - 1)

    def __init__(self, X, codes, targets, max_impostors, seed, slack=1.2):
        self.X = X
        self.max_impostors = max_impostors
        self.seed = np.uint64(seed)
        self.keep = None  # hash threshold, fixed at the first scan
        self.rate = 1.0
        self.targets = targets
        self.valid = targets >= 0
        self.slack = slack
        n_classes = codes.max() + 1
        self.groups = [np.flatnonzero(codes == c) for c in range(n_classes)]
        self.others = [np.flatnonzero(codes != c) for c in range(n_classes)]
        self.L_ref = self.L_ref_inv = None
        self.cand = (np.empty(0, np.intp), np.empty(0, np.intp))
        self.n_scans = 0

    def __call__(self, L):
        if self.L_ref_inv is not None:
            eps = np.linalg.norm((L - self.L_ref) @ self.L_ref_inv, 2)
            if eps < 1.0 and (1.0 + eps) / (1.0 - eps) <= self.slack:
                return self.cand
        self._scan(L)
        return self.cand

    def _scan(self, L):
        self.n_scans += 1
        X, targets, valid = self.X, self.targets, self.valid
        Z = X @ L.T
        sq = np.einsum("ij,ij->i", Z, Z)
        n, k = targets.shape
        d_t = np.full((n, k), -np.inf)
        rows = np.repeat(np.arange(n, dtype=np.intp), k)[valid.ravel()]
        d_t[valid] = _sq_dist_indexed(Z, rows, targets[valid])
        radius = self.slack ** 2 * (1.0 + np.maximum(d_t.max(axis=1), 0.0))
        # The screen runs its GEMM in float32 (twice the speed). Rounding moves
        # ``‖z_i‖² + ‖z_l‖² − 2 z_iᵀz_l`` by at most ``2 r u ‖z_i‖‖z_l‖``
        # (r terms, unit roundoff u = 2⁻²⁴), so widening each radius by
        # ``2 r u (‖z_i‖² + max‖z‖²)`` keeps the candidate set a superset.
        radius = radius + 2.0 * Z.shape[1] * 2.0**-24 * (sq + sq.max())
        Z = Z.astype(np.float32)
        if self.keep is None:
            found = self._collect(Z, sq, radius, self._ALL, count_only=True)
            self.keep = self._ALL
            if found > self.max_impostors:
                self.rate = self.max_impostors / found
                self.keep = np.uint64(int(self.rate * float(2**64 - 1)))
        self.cand = self._collect(Z, sq, radius, self.keep)
        self.L_ref = L.copy()
        self.L_ref_inv = None
        if L.shape[0] == L.shape[1]:
            s = np.linalg.svd(L, compute_uv=False)
            if s[-1] > s[0] * 1e-8:
                self.L_ref_inv = np.linalg.inv(L)

    def _collect(self, Z, sq, radius, keep, count_only=False):
        found = 0
        out_a, out_b = [], []
        for idx, oth in zip(self.groups, self.others):
            if oth.shape[0] == 0:
                continue
            Zo = Z[oth]
            step = max(1, _BLOCK_ELEMENTS // oth.shape[0])
            for s in range(0, idx.shape[0], step):
                blk = idx[s:s + step]
                G = Z[blk] @ Zo.T
                counts = np.empty(blk.shape[0], dtype=np.int64)
                args = (G, sq[blk], sq[oth], radius[blk], blk, oth, self.seed, keep)
                _lmnn_impostor_count(*args, counts)
                total = int(counts.sum())
                found += total
                if total == 0 or count_only:
                    continue
                offsets = np.zeros(blk.shape[0], dtype=np.int64)
                np.cumsum(counts[:-1], out=offsets[1:])
                a = np.empty(total + 1, dtype=np.intp)  # + the kernel's spare slot
                b = np.empty(total + 1, dtype=np.intp)
                _lmnn_impostor_fill(*args, offsets, a, b)
                out_a.append(a[:total])
                out_b.append(b[:total])
        if count_only:
            return found
        if not out_a:
            return np.empty(0, np.intp), np.empty(0, np.intp)
        return np.concatenate(out_a), np.concatenate(out_b)


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
    max_iter : int, default=50
        Maximum number of L-BFGS iterations.
    tol : float, default=1e-5
        Stop when the relative decrease of the loss falls below ``tol``
        (L-BFGS-B's ``ftol``).
    regularization : float, default=0.5
        Weight ``μ`` of the pull term; the push term has weight ``1 − μ``
        (metric-learn's convention).
    max_impostors : int, default=500_000
        Bound on the candidate impostor pairs held in memory (pyLMNN's default).
        When the first scan finds more, each different-class pair is kept with
        probability ``max_impostors / found`` — a fixed random subset drawn from
        ``random_state`` — and the push term is scaled by the inverse rate, an
        unbiased estimate of the full objective (see
        ``impostor_sampling_rate_``).
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
    impostors exactly: a blocked scan keeps the pairs inside an enlarged margin,
    and the set is reused while a bound on how far ``L`` has moved proves no
    other pair can be active (square ``L`` only; with ``n_components <
    n_features`` every evaluation rescans). The gradient
    :math:`2 L Xᵀ A X` comes from a sparse pair-weight matrix :math:`A`.
    Cost per evaluation: :math:`O((nk + p)\\, d + n\\, r\\, d)` for :math:`p`
    active impostors, plus :math:`O(n² r)` when a scan runs; memory
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

    def __init__(self, n_neighbors=3, n_components=None, init="auto", max_iter=50,
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
        search = _ImpostorSearch(X64, codes, targets, self.max_impostors,
                                 rng.randint(2**63, dtype=np.int64))
        mu = self.regularization
        state = {"n_active": 0, "loss": np.nan}

        def fun(flat):
            L = flat.reshape(r, d)
            a, b = search(L)
            loss, grad, state["n_active"] = lmnn_loss_grad(
                L, X64, targets, a, b, mu, 1.0 / search.rate)
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
