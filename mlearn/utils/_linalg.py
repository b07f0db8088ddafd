"""Conversions between a Mahalanobis matrix ``M`` and a linear map ``L`` (M = LᵀL)."""

import numpy as np

# numpy.linalg rather than scipy.linalg on purpose: scipy wheels bundle their own
# OpenBLAS whose spinning threads slow down numpy's BLAS calls made right after.


def _psd_tolerance(w, dtype):
    """Eigenvalues above ``-tol`` count as zero rather than as negative."""
    scale = max(float(np.max(np.abs(w))) if w.size else 0.0, 1.0e-300)
    return scale * w.shape[0] * np.finfo(dtype).eps * 100.0


def _check_square_symmetric(M, name="M"):
    M = np.asarray(M)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be a square 2-D matrix, got shape {M.shape}.")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinity.")
    dtype = M.dtype if M.dtype in (np.float32, np.float64) else np.float64
    M = M.astype(np.float64, copy=False)
    scale = max(float(np.max(np.abs(M))) if M.size else 0.0, 1.0e-300)
    asym = float(np.max(np.abs(M - M.T))) if M.size else 0.0
    if asym > 1.0e3 * np.finfo(dtype).eps * scale:
        raise ValueError(
            f"{name} must be symmetric; max |{name} - {name}ᵀ| is {asym:.3g}."
        )
    return (M + M.T) / 2.0, dtype


def components_from_metric(M, n_components=None, *, strict=True):
    """Return ``L`` with ``LᵀL = M`` for a positive semi-definite ``M``.

    Cholesky is tried first (exact and cheap for a positive definite ``M``); a
    singular ``M`` falls back to an eigendecomposition in which eigenvalues that are
    negative only by round-off are clipped to zero.

    Parameters
    ----------
    M : array-like of shape (n_features, n_features)
        Symmetric positive semi-definite matrix.
    n_components : int, default=None
        Keep the ``n_components`` largest eigen-directions: ``L`` then has shape
        ``(n_components, n_features)`` and ``LᵀL`` is the best rank-``n_components``
        approximation of ``M``. ``None`` keeps all ``n_features`` rows.
    strict : bool, default=True
        Raise on a clearly non-PSD ``M``. With ``False`` its negative part is
        dropped (projection onto the PSD cone).

    Returns
    -------
    L : ndarray of shape (n_components, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> L = components_from_metric(np.array([[4.0, 2.0], [2.0, 2.0]]))
    >>> np.allclose(L.T @ L, [[4.0, 2.0], [2.0, 2.0]])
    True
    """
    M, dtype = _check_square_symmetric(M)
    d = M.shape[0]
    if n_components is not None and not 1 <= n_components <= d:
        raise ValueError(
            f"n_components ({n_components}) must be between 1 and n_features ({d})."
        )
    if n_components is None or n_components == d:
        try:
            C = np.linalg.cholesky(M)
            return np.ascontiguousarray(C.T).astype(dtype, copy=False)
        except np.linalg.LinAlgError:
            pass
    w, V = np.linalg.eigh(M)
    tol = _psd_tolerance(w, dtype)
    if strict and w[0] < -tol:
        raise ValueError(
            f"The matrix is not positive semi-definite: its smallest eigenvalue is "
            f"{w[0]:.6g} (tolerance {tol:.3g})."
        )
    w = np.clip(w, 0.0, None)
    order = np.argsort(w)[::-1]
    if n_components is not None:
        order = order[:n_components]
    L = (V[:, order] * np.sqrt(w[order])).T
    return np.ascontiguousarray(L).astype(dtype, copy=False)


def metric_from_components(L):
    """Return ``M = LᵀL``."""
    L = np.asarray(L)
    return L.T @ L


def project_psd(M):
    """Nearest (Frobenius) positive semi-definite matrix: negative eigenvalues → 0.

    Examples
    --------
    >>> import numpy as np
    >>> project_psd(np.diag([1.0, -2.0]))
    array([[1., 0.],
           [0., 0.]])
    """
    M, dtype = _check_square_symmetric(M)
    w, V = np.linalg.eigh(M)
    w = np.clip(w, 0.0, None)
    P = (V * w) @ V.T
    return ((P + P.T) / 2.0).astype(dtype, copy=False)


def _eigh_cutoff(w, d):
    """Eigenvalues at or below this count as zero in pseudo-inverses."""
    return max(float(w[-1]), 0.0) * d * np.finfo(np.float64).eps * 10


def safe_inverse(S):
    """Inverse of a symmetric PSD matrix, or its pseudo-inverse when singular.

    Cholesky first (cheap and exact for a positive definite ``S``); otherwise an
    eigendecomposition whose eigenvalues at round-off level count as zero.

    Examples
    --------
    >>> import numpy as np
    >>> safe_inverse(np.diag([2.0, 0.0]))
    array([[0.5, 0. ],
           [0. , 0. ]])
    """
    S = np.asarray(S, dtype=np.float64)
    d = S.shape[0]
    try:  # positive definite: S⁻¹ = C⁻ᵀ C⁻¹, far cheaper than an eigh
        C_inv = np.linalg.inv(np.linalg.cholesky(S))
        # Cholesky also succeeds on matrices singular up to round-off, whose
        # "inverse" is noise; accept it only when a bound on the condition
        # number, tr(S)·‖C⁻¹‖²_F ≥ λ_max/λ_min, proves λ_min above the cutoff
        # that the eigendecomposition below applies.
        cond_bound = np.trace(S) * np.sum(C_inv * C_inv)
        if np.isfinite(cond_bound) and cond_bound * d * np.finfo(float).eps * 10 < 1:
            return C_inv.T @ C_inv
    except np.linalg.LinAlgError:
        pass
    w, V = np.linalg.eigh(S)
    keep = w > _eigh_cutoff(w, S.shape[0])
    inv = np.zeros_like(w)
    inv[keep] = 1.0 / w[keep]
    return (V * inv) @ V.T


def inverse_sqrt_components(S):
    """``L`` with ``LᵀL = S⁺`` (the inverse, or pseudo-inverse, of a PSD ``S``).

    The rows are ``S``'s eigen-directions scaled by ``1/√λ``, ordered by
    decreasing ``λ`` (as PCA orders them); directions with ``λ`` at round-off
    level are zero rows.

    Examples
    --------
    >>> import numpy as np
    >>> inverse_sqrt_components(np.diag([1.0, 4.0]))
    array([[0. , 0.5],
           [1. , 0. ]])
    """
    S = np.asarray(S, dtype=np.float64)
    w, V = np.linalg.eigh(S)
    keep = w > _eigh_cutoff(w, S.shape[0])
    inv_sqrt = np.zeros_like(w)
    inv_sqrt[keep] = 1.0 / np.sqrt(w[keep])
    return np.ascontiguousarray((V * inv_sqrt).T[::-1])


def sqrt_and_inverse_sqrt(S, floor=1e-10):
    """``(S^{-1/2}, S^{1/2})`` of a PSD ``S``, eigenvalues floored at
    ``floor · λ_max`` so that a singular ``S`` gives a finite whitener.

    Examples
    --------
    >>> import numpy as np
    >>> W, W_inv = sqrt_and_inverse_sqrt(np.diag([4.0, 1.0]))
    >>> np.diag(W), np.diag(W_inv)
    (array([0.5, 1. ]), array([2., 1.]))
    """
    s, U = np.linalg.eigh(np.asarray(S, dtype=np.float64))
    s = np.maximum(s, max(float(s[-1]), 1e-300) * floor)
    return (U / np.sqrt(s)) @ U.T, (U * np.sqrt(s)) @ U.T
