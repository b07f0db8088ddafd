"""Mahalanobis Metric for Clustering (Xing, Ng, Jordan, Russell, NIPS 2002)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator

from mlearn.base import (
    MahalanobisMixin,
    PairsClassifierMixin,
    SupervisedTuplesMixin,
)
from mlearn.utils._init import initial_metric
from mlearn.utils._linalg import components_from_metric, sqrt_and_inverse_sqrt
from mlearn.utils._progress import progress_bar
from mlearn.utils._scale import scaled_differences
from mlearn.utils._sklearn_compat import (
    ConvergenceWarning,
    Interval,
    StrOptions,
)
from mlearn.utils._validation import check_n_components

__all__ = ["MMC", "MMCPairs", "mmc_diagonal_loss", "mmc_spread"]

# Squared distances below this (relative to their mean) count as zero in the
# square-root terms, whose gradient is otherwise unbounded there.
_TINY = 1e-12


def mmc_spread(N, Dt):
    """``(f, grad)`` of the dissimilar spread ``f(N) = Σ_k sqrt(d̃_kᵀ N d̃_k)``.

    .. math::
        ∇f(N) = \\tfrac12 D̃ᵀ \\mathrm{diag}(1/\\sqrt{d̃_kᵀ N d̃_k}) D̃

    Parameters
    ----------
    N : ndarray of shape (d, d)
    Dt : ndarray of shape (n_pairs, d)
        Rows ``d̃_k``; a weighted ``Dᵀ diag(w) D`` product, never an
        ``n_pairs × d × d`` array.
    """
    sq = np.einsum("ij,ij->i", Dt @ N, Dt)
    floor = _TINY * max(float(np.mean(np.abs(sq))), 1e-88)
    r = np.sqrt(np.maximum(sq, floor))
    w = 0.5 / r
    return float(np.sum(np.sqrt(np.maximum(sq, 0.0)))), (Dt.T * w) @ Dt


def mmc_diagonal_loss(w, s_sum, Q, c):
    """``(loss, grad, hess)`` of the diagonal MMC objective (to minimise).

    .. math::
        g(w) = \\sum_{(i,j)∈S} \\sum_f w_f (x_{if} − x_{jf})^2
        − c \\log \\sum_{(i,j)∈D} \\sqrt{\\textstyle\\sum_f w_f (x_{if} − x_{jf})^2}

    Parameters
    ----------
    w : ndarray of shape (d,)
        Diagonal of ``M`` (non-negative).
    s_sum : ndarray of shape (d,)
        Column sums of the squared similar differences.
    Q : ndarray of shape (n_dissimilar, d)
        Squared dissimilar differences.
    c : float
        ``diagonal_c``.
    """
    sq = Q @ w
    floor = _TINY * max(float(np.mean(np.abs(sq))), 1e-88)
    r = np.sqrt(np.maximum(sq, floor))
    F = float(np.sum(r))
    gF = Q.T @ (0.5 / r)
    HF = -(Q.T * (0.25 / r**3)) @ Q
    loss = float(s_sum @ w) - c * np.log(F)
    grad = s_sum - c * gF / F
    hess = -c * (HF / F - np.outer(gF, gF) / F**2)
    return loss, grad, hess


def _project_spectraplex(Y):
    """Frobenius projection onto ``{N ⪰ 0, tr N ≤ 1}``: eigenvalues onto
    ``{λ ≥ 0, Σλ ≤ 1}``."""
    lam, U = np.linalg.eigh((Y + Y.T) / 2.0)
    if np.sum(np.maximum(lam, 0.0)) <= 1.0:
        lam = np.maximum(lam, 0.0)
        keep = lam > 0
        return (U[:, keep] * lam[keep]) @ U[:, keep].T
    # sort-based simplex projection (Held, Wolfe, Crowder 1974)
    mu = lam[::-1]
    css = np.cumsum(mu) - 1.0
    k = np.arange(1, mu.shape[0] + 1)
    rho = np.flatnonzero(mu - css / k > 0)[-1]
    theta = css[rho] / (rho + 1.0)
    lam = np.maximum(lam - theta, 0.0)
    keep = lam > 0
    Uk = U[:, keep]
    return (Uk * lam[keep]) @ Uk.T


def _proximal_weight(regularization, G0, N0):
    """``μ = regularization · ‖∇f(N₀)‖ / ‖N₀‖``: scale-free proximal weight."""
    return regularization * np.linalg.norm(G0) / max(np.linalg.norm(N0), 1e-300)


def _mmc_full(Vs, Vd, M0, max_iter, max_proj, tol, verbose=False,
              regularization=0.0):
    """Maximise ``Σ_D sqrt(d_M)`` s.t. ``Σ_S d_M ≤ 1``, ``M ⪰ 0``.

    With ``S = Σ_S v vᵀ`` and ``M = S^{-1/2} N S^{-1/2}`` the feasible set
    becomes the spectraplex ``{N ⪰ 0, tr N = 1}`` (the constraint is active at
    the optimum since the objective is increasing in ``M``); the concave
    objective is maximised there by accelerated projected gradient (FISTA with
    backtracking and adaptive restart). The stopping rule is the Frank–Wolfe
    duality gap ``λ_max(∇f) − ⟨∇f, N⟩ ≥ f* − f(N)``, a certificate of relative
    optimality ``≤ tol``.

    Returns ``(M, f, n_iter, converged)``.
    """
    S = Vs.T @ Vs
    W, W_inv = sqrt_and_inverse_sqrt(S)
    Dt = Vd @ W
    N = W_inv @ M0 @ W_inv
    N = _project_spectraplex(N / max(np.trace(N), 1e-300))
    N0 = N
    f, G = mmc_spread(N, Dt)
    mu = _proximal_weight(regularization, G, N0)

    def objective(N):
        f, G = mmc_spread(N, Dt)
        if mu > 0:
            R = N - N0
            f, G = f - 0.5 * mu * np.sum(R * R), G - mu * R
        return f, G

    f, G = objective(N)
    Y, fY, GY = N, f, G
    t_k = 1.0
    step = 1.0 / max(np.linalg.norm(G), 1e-300)
    n_proj = 0
    converged = False
    it = 0
    with progress_bar(max_iter, "MMC", verbose) as bar:
        for it in range(1, max_iter + 1):
            gap = float(max(np.linalg.eigvalsh(G)[-1], 0.0) - np.sum(G * N))
            bar.update(1)
            bar.set_postfix(gap=f"{gap / max(f, 1e-300):.2e}")
            if gap <= tol * f:
                converged = True
                break
            # backtracking from the extrapolated point Y
            step *= 2.0
            while True:
                N_new = _project_spectraplex(Y + step * GY)
                n_proj += 1
                f_new, G_new = objective(N_new)
                diff = N_new - Y
                if (f_new >= fY + np.sum(GY * diff) - np.sum(diff * diff)
                        / (2.0 * step) - 1e-12 * abs(fY)) or n_proj >= max_proj:
                    break
                step /= 2.0
            if f_new < f:  # adaptive restart: drop the momentum
                t_k = 1.0
                Y, fY, GY = N, f, G
                if n_proj >= max_proj:
                    break
                continue
            t_next = (1.0 + np.sqrt(1.0 + 4.0 * t_k * t_k)) / 2.0
            Y = N_new + ((t_k - 1.0) / t_next) * (N_new - N)
            t_k = t_next
            N, f, G = N_new, f_new, G_new
            Y = _project_spectraplex(Y)
            fY, GY = objective(Y)
            if n_proj >= max_proj:
                break
    M = W @ N @ W
    return (M + M.T) / 2.0, f, it, converged


def _mmc_diagonal(Vs, Vd, w0, c, max_iter, tol, verbose=False):
    """Projected Newton (Bertsekas 1982) on :func:`mmc_diagonal_loss`, ``w ≥ 0``.

    Returns ``(w, loss, n_iter, converged)``.
    """
    s_sum = np.einsum("ij,ij->j", Vs, Vs)
    Q = Vd * Vd
    w = np.maximum(np.asarray(w0, dtype=np.float64), 0.0)
    # The loss along a ray t·w is t·(s·w) − (c/2)·log t + const: start at the
    # best scale, which Newton's method would otherwise overshoot.
    w *= c / (2.0 * max(float(s_sum @ w), 1e-300))
    loss, grad, hess = mmc_diagonal_loss(w, s_sum, Q, c)
    converged = False
    it = 0
    with progress_bar(max_iter, "MMC", verbose) as bar:
        for it in range(1, max_iter + 1):
            # coordinates at the bound pushed outwards stay fixed
            eps_b = min(1e-12 * max(float(w.max()), 1e-300), 1e-12)
            active = (w <= eps_b) & (grad > 0)
            free = ~active
            step = np.zeros_like(w)
            Hf = hess[np.ix_(free, free)]
            Hf = Hf + 1e-12 * max(np.trace(Hf) / max(Hf.shape[0], 1), 1e-300) \
                * np.eye(Hf.shape[0])
            try:
                step[free] = np.linalg.solve(Hf, grad[free])
            except np.linalg.LinAlgError:
                step[free] = grad[free]
            step[active] = grad[active]
            alpha = 1.0
            while True:
                w_new = np.maximum(w - alpha * step, 0.0)
                loss_new, grad_new, hess_new = mmc_diagonal_loss(w_new, s_sum, Q, c)
                dec = np.sum(grad[free] * (w[free] - w_new[free])) + np.sum(
                    grad[active] * (w[active] - w_new[active]))
                if np.isfinite(loss_new) and loss_new <= loss - 1e-4 * dec:
                    break
                alpha /= 2.0
                if alpha < 1e-12:  # no descent left: at the optimum to precision
                    w_new, loss_new, grad_new, hess_new = w, loss, grad, hess
                    break
            change = abs(loss - loss_new) / max(abs(loss_new), 1e-300)
            w, loss, grad, hess = w_new, loss_new, grad_new, hess_new
            bar.update(1)
            bar.set_postfix(change=f"{change:.2e}")
            pg = np.where((w <= 0) & (grad > 0), 0.0, grad)
            if change < tol * 1e-3 or np.max(np.abs(pg) * np.maximum(w, 1.0)) \
                    <= tol * 1e-3 * max(abs(loss), 1.0):
                converged = True
                break
    return w, loss, it, converged


def _mmc_cvxpy_full(Vs, Vd, M0, regularization=0.0):
    import cvxpy as cp

    d = Vs.shape[1]
    W, W_inv = sqrt_and_inverse_sqrt(Vs.T @ Vs)
    N0 = _project_spectraplex(W_inv @ M0 @ W_inv / np.trace(W_inv @ M0 @ W_inv))
    mu = _proximal_weight(regularization, mmc_spread(N0, Vd @ W)[1], N0)
    M = cp.Variable((d, d), PSD=True)
    dd = cp.sum(cp.multiply(Vd @ M, Vd), axis=1)
    ds = cp.sum(cp.multiply(Vs @ M, Vs))
    obj = cp.sum(cp.sqrt(dd))
    if mu > 0:
        obj = obj - 0.5 * mu * cp.sum_squares(W_inv @ M @ W_inv - N0)
    prob = cp.Problem(cp.Maximize(obj), [ds <= 1])
    prob.solve(solver=cp.CLARABEL if "CLARABEL" in cp.installed_solvers()
               else cp.SCS)
    if M.value is None:
        raise ValueError(f"cvxpy could not solve the MMC problem ({prob.status}).")
    return (M.value + M.value.T) / 2.0


def _mmc_cvxpy_diagonal(Vs, Vd, c):
    import cvxpy as cp

    s_sum = np.einsum("ij,ij->j", Vs, Vs)
    Q = Vd * Vd
    w = cp.Variable(Vs.shape[1], nonneg=True)
    obj = s_sum @ w - c * cp.log(cp.sum(cp.sqrt(Q @ w)))
    prob = cp.Problem(cp.Minimize(obj))
    prob.solve(solver=cp.CLARABEL if "CLARABEL" in cp.installed_solvers()
               else cp.SCS)
    if w.value is None:
        raise ValueError(f"cvxpy could not solve the MMC problem ({prob.status}).")
    return np.maximum(w.value, 0.0)


class _BaseMMC(MahalanobisMixin, BaseEstimator):
    _tuple_size = 2

    _parameter_constraints: dict = {
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_proj": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions({"identity", "covariance", "random"}), np.ndarray],
        "diagonal": ["boolean"],
        "diagonal_c": [Interval(Real, 0, None, closed="neither")],
        "regularization": [Interval(Real, 0, None, closed="left")],
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"auto", "cvxpy"})],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def _fit_tuples(self, P, y, rng):
        d = P.shape[2]
        check_n_components(self.n_components, d)
        # Solve on the differences scaled by 2⁻ᵏ (exact) and map back through
        # L: M itself (∝ 2⁻²ᵏ) can leave float64's range where L does not. The
        # solvers normalise the start (whitened, trace one), so init's scale
        # does not matter.
        k, V, P64 = scaled_differences(P)
        Vs, Vd = V[y == 1], V[y == -1]
        for kind, W in (("dissimilar", Vd), ("similar", Vs)):
            if not np.any(W != 0):
                raise ValueError(
                    f"MMC needs at least one {kind} pair of distinct points; got "
                    f"{W.shape[0]} {kind} pairs, all of identical points"
                    + (" (the problem is unbounded)." if kind == "similar" else ".")
                )
        M0 = initial_metric(self.init, np.ldexp(P64.reshape(-1, d), -k), rng,
                            strict_pd=False, name="init")
        converged = True
        if self.diagonal:
            if self.solver == "cvxpy":
                w = _mmc_cvxpy_diagonal(Vs, Vd, self.diagonal_c)
                self.n_iter_ = 1
            else:
                w, _, self.n_iter_, converged = _mmc_diagonal(
                    Vs, Vd, np.diag(M0), self.diagonal_c, self.max_iter, self.tol,
                    self.verbose)
            M = np.diag(w)
        elif self.solver == "cvxpy":
            M = _mmc_cvxpy_full(Vs, Vd, M0, self.regularization)
            self.n_iter_ = 1
        else:
            M, _, self.n_iter_, converged = _mmc_full(
                Vs, Vd, M0, self.max_iter, self.max_proj, self.tol, self.verbose,
                self.regularization)
        if not converged:
            warnings.warn(
                f"MMC did not converge in max_iter={self.max_iter} iterations "
                f"(tol={self.tol}); increase max_iter.", ConvergenceWarning
            )
        L = np.ldexp(components_from_metric(M, self.n_components, strict=False), -k)
        self.components_ = L.astype(P.dtype, copy=False)


class MMC(SupervisedTuplesMixin, _BaseMMC):
    """Mahalanobis Metric for Clustering from class labels.

    Samples similar and dissimilar pairs from the labels and learns the metric
    that spreads dissimilar pairs as far as possible while similar pairs stay
    within a fixed total squared distance.

    Read more in the :ref:`User Guide <mmc>`.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of (projected gradient or Newton) iterations.
    max_proj : int, default=10000
        Maximum number of projections onto the constraint set (line-search
        trials included) in the full solver. Each projection is exact here (one
        eigendecomposition), unlike metric-learn's alternating projections.
    tol : float, default=1e-3
        Full ``M``: stop when the Frank–Wolfe duality gap certifies the
        objective within ``tol`` (relative) of the optimum. Diagonal: stop when
        the relative decrease of the objective falls below ``tol · 1e-3``.
    init : {'identity', 'covariance', 'random'} or ndarray, default='identity'
        Starting matrix (the problem is convex, so it only affects speed).
    diagonal : bool, default=False
        Learn a diagonal ``M`` (feature weights) by Newton's method.
    diagonal_c : float, default=1.0
        Weight of the dissimilar term in the diagonal objective.
    regularization : float, default=3.0
        Weight of the proximal term keeping the full ``M`` near ``init`` (see
        Notes); ``0`` solves Xing et al.'s problem exactly. Not in metric-learn.
    n_constraints : int, default=None
        Number of pairs of each kind to sample; ``None``: ``20 · n_classes²``.
    n_components : int, default=None
        Keep the top ``n_components`` eigen-directions of the learned ``M``
        (low-rank ``L``); ``None`` keeps all.
    solver : {'auto', 'cvxpy'}, default='auto'
        'auto': projected gradient (full) or projected Newton (diagonal).
        'cvxpy': the same convex problem solved by cvxpy (small ``d`` only).
    verbose : bool, default=False
        Show a progress bar.
    random_state : int, RandomState instance or None, default=None
        Seeds the pair sampling and ``init='random'``.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``L`` with ``LᵀL = M``.
    n_iter_ : int
        Number of iterations run.
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    MMCPairs : the same learner fitted on given pairs.
    ITML : LogDet-regularised pair constraints.

    Notes
    -----
    Full ``M`` solves Xing et al.'s problem

    .. math::
        \\max_{M \\succeq 0} \\sum_{(i,j)∈D} \\lVert x_i − x_j \\rVert_M
        \\quad\\text{s.t.}\\quad \\sum_{(i,j)∈S} \\lVert x_i − x_j \\rVert_M^2 ≤ 1.

    Writing ``M = S^{-1/2} N S^{-1/2}`` with ``S = Σ_S (x_i−x_j)(x_i−x_j)ᵀ``
    turns the feasible set into ``{N ⪰ 0, tr N = 1}`` whose projection is exact
    (eigenvalues onto the simplex); accelerated projected gradient then runs
    until the Frank–Wolfe duality gap certifies ``tol``. The gradient is the
    weighted product ``D̃ᵀ diag(w) D̃`` of the dissimilar differences. A singular
    ``S`` (fewer similar pairs than features) makes the problem unbounded; its
    eigenvalues are floored at ``1e-10`` times the largest.

    ``diagonal=True`` minimises, over ``w ≥ 0``,

    .. math::
        \\sum_{S} \\sum_f w_f (x_{if}−x_{jf})^2 − c \\log \\sum_{D}
        \\sqrt{\\textstyle\\sum_f w_f (x_{if}−x_{jf})^2}

    by projected Newton with an Armijo line search.

    The default ``regularization=3`` adds a proximal term that keeps ``M``
    near ``init``: in the whitened space it maximises
    ``f(N) − (μ/2)‖N − N₀‖²_F`` over ``{N ⪰ 0, tr N ≤ 1}``, with ``N₀`` the
    whitened, trace-normalised ``init`` and ``μ = regularization ·
    ‖∇f(N₀)‖_F / ‖N₀‖_F`` (scale-free). ``regularization=0`` is Xing et al.'s
    problem, solved to a certified optimum.

    The exact optimum of the unregularised problem is low-rank and often
    below Euclidean kNN; the user guide explains why the proximal term is on
    by default. The scale of ``M`` (``Σ_S d_M ≤ 1``) differs from
    metric-learn's and does not matter for neighbours.

    References
    ----------
    .. [1] E. P. Xing, A. Y. Ng, M. I. Jordan, S. Russell. Distance metric
       learning, with application to clustering with side-information.
       NIPS 2002.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlearn import MMC
    >>> X, y = load_iris(return_X_y=True)
    >>> mmc = MMC(random_state=0).fit(X, y)
    >>> mmc.transform(X).shape
    (150, 4)
    """

    _parameter_constraints: dict = {
        **_BaseMMC._parameter_constraints,
        "n_constraints": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, max_iter=100, max_proj=10000, tol=1e-3, init="identity",
                 diagonal=False, diagonal_c=1.0, regularization=3.0,
                 n_constraints=None, n_components=None, solver="auto", verbose=False,
                 random_state=None):
        self.max_iter = max_iter
        self.max_proj = max_proj
        self.tol = tol
        self.init = init
        self.diagonal = diagonal
        self.diagonal_c = diagonal_c
        self.regularization = regularization
        self.n_constraints = n_constraints
        self.n_components = n_components
        self.solver = solver
        self.verbose = verbose
        self.random_state = random_state


class MMCPairs(PairsClassifierMixin, _BaseMMC):
    """Mahalanobis Metric for Clustering from labelled pairs.

    Learns the metric that spreads dissimilar pairs (``y=-1``) as far as
    possible while similar pairs (``y=+1``) stay within a fixed total squared
    distance; then classifies pairs by a distance threshold calibrated in
    ``fit``.

    Read more in the :ref:`User Guide <mmc>`.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of (projected gradient or Newton) iterations.
    max_proj : int, default=10000
        Maximum number of projections onto the constraint set (line-search
        trials included) in the full solver. Each projection is exact here (one
        eigendecomposition), unlike metric-learn's alternating projections.
    tol : float, default=1e-3
        Full ``M``: stop when the Frank–Wolfe duality gap certifies the
        objective within ``tol`` (relative) of the optimum. Diagonal: stop when
        the relative decrease of the objective falls below ``tol · 1e-3``.
    init : {'identity', 'covariance', 'random'} or ndarray, default='identity'
        Starting matrix (the problem is convex, so it only affects speed).
    diagonal : bool, default=False
        Learn a diagonal ``M`` (feature weights) by Newton's method.
    diagonal_c : float, default=1.0
        Weight of the dissimilar term in the diagonal objective.
    regularization : float, default=3.0
        Weight of the proximal term keeping the full ``M`` near ``init`` (see
        Notes); ``0`` solves Xing et al.'s problem exactly. Not in metric-learn.
    n_components : int, default=None
        Keep the top ``n_components`` eigen-directions of the learned ``M``
        (low-rank ``L``); ``None`` keeps all.
    solver : {'auto', 'cvxpy'}, default='auto'
        'auto': projected gradient (full) or projected Newton (diagonal).
        'cvxpy': the same convex problem solved by cvxpy (small ``d`` only).
    verbose : bool, default=False
        Show a progress bar.
    preprocessor : array-like of shape (n_samples, n_features) or callable, default=None
        Resolves index pairs of shape ``(n_pairs, 2)`` into points.
    random_state : int, RandomState instance or None, default=None
        Seeds the pair sampling and ``init='random'``.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``L`` with ``LᵀL = M``.
    n_iter_ : int
        Number of iterations run.
    n_features_in_ : int
        Number of features seen during ``fit``.
    threshold_ : float
        Distance threshold of :meth:`predict`.
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``.

    See Also
    --------
    MMC : the same learner with pairs sampled from class labels.

    Notes
    -----
    Full ``M`` solves Xing et al.'s problem

    .. math::
        \\max_{M \\succeq 0} \\sum_{(i,j)∈D} \\lVert x_i − x_j \\rVert_M
        \\quad\\text{s.t.}\\quad \\sum_{(i,j)∈S} \\lVert x_i − x_j \\rVert_M^2 ≤ 1.

    Writing ``M = S^{-1/2} N S^{-1/2}`` with ``S = Σ_S (x_i−x_j)(x_i−x_j)ᵀ``
    turns the feasible set into ``{N ⪰ 0, tr N = 1}`` whose projection is exact
    (eigenvalues onto the simplex); accelerated projected gradient then runs
    until the Frank–Wolfe duality gap certifies ``tol``. The gradient is the
    weighted product ``D̃ᵀ diag(w) D̃`` of the dissimilar differences. A singular
    ``S`` (fewer similar pairs than features) makes the problem unbounded; its
    eigenvalues are floored at ``1e-10`` times the largest.

    ``diagonal=True`` minimises, over ``w ≥ 0``,

    .. math::
        \\sum_{S} \\sum_f w_f (x_{if}−x_{jf})^2 − c \\log \\sum_{D}
        \\sqrt{\\textstyle\\sum_f w_f (x_{if}−x_{jf})^2}

    by projected Newton with an Armijo line search.

    The default ``regularization=3`` adds a proximal term that keeps ``M``
    near ``init``: in the whitened space it maximises
    ``f(N) − (μ/2)‖N − N₀‖²_F`` over ``{N ⪰ 0, tr N ≤ 1}``, with ``N₀`` the
    whitened, trace-normalised ``init`` and ``μ = regularization ·
    ‖∇f(N₀)‖_F / ‖N₀‖_F`` (scale-free). ``regularization=0`` is Xing et al.'s
    problem, solved to a certified optimum.

    The exact optimum of the unregularised problem is low-rank and often
    below Euclidean kNN; the user guide explains why the proximal term is on
    by default. The scale of ``M`` (``Σ_S d_M ≤ 1``) differs from
    metric-learn's and does not matter for neighbours.

    References
    ----------
    .. [1] E. P. Xing, A. Y. Ng, M. I. Jordan, S. Russell. Distance metric
       learning, with application to clustering with side-information.
       NIPS 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn import MMCPairs
    >>> pairs = np.array([[[1.2, 7.5], [1.3, 1.5]], [[6.4, 2.6], [6.2, 9.7]],
    ...                   [[1.3, 4.5], [3.2, 4.6]], [[6.2, 5.5], [5.4, 5.4]]])
    >>> mmc = MMCPairs(random_state=0).fit(pairs, [1, 1, -1, -1])
    >>> mmc.predict(pairs).shape
    (4,)
    """

    _parameter_constraints: dict = {
        **_BaseMMC._parameter_constraints,
        "preprocessor": [None, "array-like", callable],
    }

    def __init__(self, max_iter=100, max_proj=10000, tol=1e-3, init="identity",
                 diagonal=False, diagonal_c=1.0, regularization=3.0,
                 n_components=None, solver="auto", verbose=False,
                 preprocessor=None, random_state=None):
        self.max_iter = max_iter
        self.max_proj = max_proj
        self.tol = tol
        self.init = init
        self.diagonal = diagonal
        self.diagonal_c = diagonal_c
        self.regularization = regularization
        self.n_components = n_components
        self.solver = solver
        self.verbose = verbose
        self.preprocessor = preprocessor
        self.random_state = random_state
