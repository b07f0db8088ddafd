"""ITML's cyclic Bregman (LogDet) projections, one sweep over the constraints.

Each projection is the rank-one update of Davis et al. (ICML 2007), Algorithm 1,
with the slack factor ``γ/(γ+1)`` of the authors' reference code (the paper's
listing misprints it).
"""

import numba
import numpy as np

from mlearn._kernels._config import SERIAL


@numba.njit(**SERIAL)
def _itml_sweep(A, V, sign, xi, lam, gamma):
    """One cyclic pass of Bregman projections, updating ``A``, ``xi``, ``lam``
    in place.

    Parameters
    ----------
    A : float64 array (d, d)
        Current Mahalanobis matrix (symmetric positive definite).
    V : float64 array (n, d)
        Pair differences ``v = x_i − x_j``.
    sign : float64 array (n,)
        ``+1`` for a similar pair (``vᵀAv ≤ ξ``), ``−1`` for a dissimilar pair
        (``vᵀAv ≥ ξ``).
    xi : float64 array (n,)
        Slack targets ``ξ`` (updated).
    lam : float64 array (n,)
        Dual variables ``λ ≥ 0`` (updated).
    gamma : float
        Slack weight; ``inf`` gives hard constraints.

    Notes
    -----
    For constraint ``k`` with ``p = vᵀAv`` and ``δ = sign[k]``:

    .. math::
        α = \\min(λ_k, δ\\,\\tfrac{γ}{γ+1}(1/p − 1/ξ_k)),\\quad
        A ← A + \\frac{δα}{1 − δαp} A v vᵀ A,\\quad
        1/ξ_k ← 1/ξ_k + δα/γ,\\quad λ_k ← λ_k − α
    """
    n, d = V.shape
    g = 1.0 if np.isinf(gamma) else gamma / (gamma + 1.0)
    inv_gamma = 0.0 if np.isinf(gamma) else 1.0 / gamma
    Av = np.empty(d)
    for k in range(n):
        p = 0.0
        for i in range(d):
            s = 0.0
            for j in range(d):
                s += A[i, j] * V[k, j]
            Av[i] = s
            p += s * V[k, i]
        if p <= 0.0:
            continue  # a zero difference carries no constraint
        delta = sign[k]
        alpha = min(lam[k], delta * g * (1.0 / p - 1.0 / xi[k]))
        lam[k] -= alpha
        beta = delta * alpha / (1.0 - delta * alpha * p)
        xi[k] = 1.0 / (1.0 / xi[k] + delta * alpha * inv_gamma)
        for i in range(d):
            bi = beta * Av[i]
            for j in range(d):
                A[i, j] += bi * Av[j]
