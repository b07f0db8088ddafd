"""SCML's stochastic steps: triplet hinge subgradients over a basis and
regularized dual averaging (Shi, Bellet & Sha, AAAI 2014).

A triplet ``t = (a, b, c)`` seen through a basis ``B`` (rows ``b_i``) has the
distance differences ``z_{t,i} = (b_iᵀ(x_a − x_b))² − (b_iᵀ(x_a − x_c))²``; with
``XB = X Bᵀ`` they are gathered from three rows of ``XB``, so nothing of size
``n_triplets × n_basis`` is ever stored.
"""

import numba
import numpy as np

from mlearn._kernels._config import SERIAL


@numba.njit(**SERIAL)
def _scml_batch_subgradient(XB, triplets, idx, w, grad, zbuf):
    """Hinge loss and subgradient of a batch of triplets, in ``w``.

    Parameters
    ----------
    XB : float64 array (n_points, n_basis)
        Points projected on the basis, ``X Bᵀ``.
    triplets : intp array (n_triplets, 3)
        Rows of ``XB``: anchor, closer, farther.
    idx : intp array (batch_size,)
        Triplets of the batch (repeats count as often as they appear).
    w : float64 array (n_basis,)
        Basis weights.
    grad : float64 array (n_basis,)
        Output: the mean subgradient over the batch.
    zbuf : float64 array (n_basis,)
        Workspace.

    Returns
    -------
    loss : float
        Mean hinge ``max(0, 1 + zᵀw)`` over the batch.

    Notes
    -----
    .. math::
        \\ell(w) = \\frac{1}{|I|}\\sum_{t∈I} [1 + z_tᵀ w]_+, \\qquad
        ∂\\ell = \\frac{1}{|I|}\\sum_{t∈I,\\,1 + z_tᵀw > 0} z_t
    """
    K = XB.shape[1]
    bs = idx.shape[0]
    grad[:] = 0.0
    loss = 0.0
    for s in range(bs):
        t = idx[s]
        a = triplets[t, 0]
        b = triplets[t, 1]
        c = triplets[t, 2]
        slack = 1.0
        for i in range(K):
            p = XB[a, i] - XB[b, i]
            q = XB[a, i] - XB[c, i]
            z = p * p - q * q
            zbuf[i] = z
            slack += w[i] * z
        if slack > 0.0:
            loss += slack
            for i in range(K):
                grad[i] += zbuf[i]
    for i in range(K):
        grad[i] /= bs
    return loss / bs


@numba.njit(**SERIAL)
def _scml_rda_steps(XB, triplets, batches, start, w, avg_grad, ada_grad, gamma,
                    beta, delta):
    """Regularized dual averaging steps with AdaGrad scaling, in place.

    Parameters
    ----------
    XB : float64 array (n_points, n_basis)
        Points projected on the basis.
    triplets : intp array (n_triplets, 3)
        Rows of ``XB``: anchor, closer, farther.
    batches : intp array (n_steps, batch_size)
        Triplets drawn for each step.
    start : int
        Number of steps already taken (``t`` of the first step here).
    w, avg_grad, ada_grad : float64 arrays (n_basis,)
        Weights, running mean of the subgradients and root of the running sum
        of their squares (all updated).
    gamma, beta, delta : float
        Step scale, ℓ1 weight and AdaGrad's guard against division by zero.

    Notes
    -----
    With ``ḡ_t`` the mean subgradient after ``t`` steps and ``h_t`` the root
    sum of squares, the step has the closed form (non-negative weights)

    .. math::
        w_{t,i} = \\frac{t}{γ(δ + h_{t,i})}\\,\\max(0, −ḡ_{t,i} − β)
    """
    K = XB.shape[1]
    grad = np.empty(K)
    zbuf = np.empty(K)
    for s in range(batches.shape[0]):
        _scml_batch_subgradient(XB, triplets, batches[s], w, grad, zbuf)
        t = start + s
        for i in range(K):
            g = grad[i]
            avg_grad[i] = (t * avg_grad[i] + g) / (t + 1)
            ada_grad[i] = np.sqrt(ada_grad[i] * ada_grad[i] + g * g)
            m = avg_grad[i] + beta
            if m < 0.0:
                w[i] = -(t + 1) / (gamma * (delta + ada_grad[i])) * m
            else:
                w[i] = 0.0


@numba.njit(**SERIAL)
def _triplet_hinge_sum(P, triplets):
    """Sum of ``max(0, 1 + d(a, b) − d(a, c))`` over triplets and the number of
    positive terms, with ``d`` the squared Euclidean distance between rows of
    ``P`` (points mapped by ``L``).

    Parameters
    ----------
    P : float64 array (n_points, r)
    triplets : intp array (n_triplets, 3)

    Returns
    -------
    total : float
    n_active : int

    Notes
    -----
    .. math::
        \\sum_t [1 + ‖P_a − P_b‖² − ‖P_a − P_c‖²]_+
    """
    r = P.shape[1]
    total = 0.0
    n_active = 0
    for t in range(triplets.shape[0]):
        a = triplets[t, 0]
        b = triplets[t, 1]
        c = triplets[t, 2]
        s = 1.0
        for k in range(r):
            p = P[a, k] - P[b, k]
            q = P[a, k] - P[c, k]
            s += p * p - q * q
        if s > 0.0:
            total += s
            n_active += 1
    return total, n_active
