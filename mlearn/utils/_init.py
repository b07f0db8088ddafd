"""Every learner's starting point: ``init`` for a map ``L``, ``prior``/``init``
for a matrix ``M``.

``initial_components`` serves the learners that optimise ``L`` (LMNN, NCA,
MLKR); ``initial_metric`` those that optimise ``M`` (ITML, MMC, SDML, LSML).
"""

import warnings

import numpy as np
from sklearn.datasets import make_spd_matrix
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.utils import check_random_state

from mlearn.utils._scale import working_scale

__all__ = ["initial_components", "initial_metric", "starting_point"]


def initial_components(init, X, y, n_components, random_state=None):
    """The starting linear map ``L₀`` of shape ``(n_components, n_features)``.

    Parameters
    ----------
    init : {'auto', 'pca', 'lda', 'identity', 'random'} or ndarray
        'auto' follows scikit-learn's NCA: 'lda' when ``n_components <=
        min(n_features, n_classes - 1)``, else 'pca' when ``n_components <
        n_features``, else 'identity'. 'lda' needs class labels ``y``; when
        LDA finds fewer discriminant directions than asked (collinear
        features), the remaining rows are the leading principal directions
        orthogonal to them. An ndarray must have shape
        ``(n_components, n_features)``.
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or None
        Class labels (or codes); only 'lda' and 'auto' use them.
    n_components : int
    random_state : int, RandomState instance or None, default=None
        Seeds 'random' and PCA's solver.

    Returns
    -------
    L0 : ndarray of shape (n_components, n_features), float64

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).normal(size=(20, 3))
    >>> initial_components("identity", X, None, 2).shape
    (2, 3)
    """
    n, d = X.shape
    r = int(n_components)
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
    n_classes = 0 if y is None else np.unique(y).shape[0]
    if init == "auto":
        if y is not None and r <= min(d, n_classes - 1):
            init = "lda"
        elif r < min(d, n):
            init = "pca"
        else:
            init = "identity"
    if init == "identity":
        return np.eye(r, d)
    if init == "random":
        return check_random_state(random_state).standard_normal((r, d))
    if init == "pca":
        if r > min(n, d):
            raise ValueError(
                f"init='pca' needs n_components ({r}) <= min(n_samples, "
                f"n_features) ({min(n, d)})."
            )
        return PCA(n_components=r, random_state=check_random_state(random_state)
                   ).fit(X).components_.copy()
    if init != "lda":
        raise ValueError(f"unknown init {init!r}.")
    if y is None:
        raise ValueError("init='lda' needs class labels.")
    if r > min(d, n_classes - 1):
        raise ValueError(
            f"init='lda' needs n_components ({r}) <= min(n_features, "
            f"n_classes - 1) ({min(d, n_classes - 1)})."
        )
    lda = LinearDiscriminantAnalysis(n_components=r).fit(X, y)
    L0 = lda.scalings_.T[:r]
    if L0.shape[0] < r:
        L0 = _complete_rows(L0, X, r)
    return np.ascontiguousarray(L0, dtype=np.float64)


def _complete_rows(L0, X, r):
    """Append the leading principal directions of ``X`` orthogonal to the rows
    of ``L0`` until there are ``r`` rows (scaled like ``L0``'s rows)."""
    d = X.shape[1]
    Q = np.linalg.qr(L0.T)[0] if L0.shape[0] else np.zeros((d, 0))
    Xc = X - X.mean(axis=0)
    Xc = Xc - (Xc @ Q) @ Q.T
    V = np.linalg.svd(Xc, full_matrices=True)[2]
    extra = []
    for v in V:
        v = v - Q @ (Q.T @ v)
        if np.linalg.norm(v) > 1e-8:
            v = v / np.linalg.norm(v)
            extra.append(v)
            Q = np.column_stack([Q, v])
        if L0.shape[0] + len(extra) == r:
            break
    scale = np.linalg.norm(L0, axis=1).mean() if L0.shape[0] else 1.0
    return np.vstack([L0, scale * np.asarray(extra).reshape(-1, d)])


def initial_metric(init, X, random_state=None, strict_pd=True, name="prior"):
    """The starting (or prior) Mahalanobis matrix ``M₀``.

    Parameters
    ----------
    init : {'identity', 'covariance', 'random'} or ndarray
        The identity, the inverse covariance of ``X``, a random SPD matrix
        (from ``random_state``), or a given symmetric matrix.
    X : ndarray of shape (n_samples, n_features)
        The points (e.g. every point of the training tuples).
    random_state : int, RandomState instance or None, default=None
    strict_pd : bool, default=True
        ``True``: ``M₀`` must be strictly positive definite (a LogDet prior);
        a singular covariance or a singular given matrix raises. ``False``:
        positive semi-definite suffices, and a singular covariance is
        pseudo-inverted with a warning.
    name : str, default='prior'
        The parameter's name in messages.

    Returns
    -------
    M0 : ndarray of shape (n_features, n_features), float64

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).normal(size=(50, 2))
    >>> initial_metric("identity", X)
    array([[1., 0.],
           [0., 1.]])
    """
    d = X.shape[1]
    eps = d * np.finfo(np.float64).eps * 10
    if isinstance(init, str):
        if init == "identity":
            return np.eye(d)
        if init == "random":
            return make_spd_matrix(d, random_state=check_random_state(random_state))
        if init != "covariance":
            raise ValueError(f"unknown {name} {init!r}.")
        pts = np.unique(X, axis=0)
        cov = np.atleast_2d(np.cov(pts, rowvar=False))
        w = np.linalg.eigvalsh(cov)
        if w[0] <= w[-1] * eps:
            if strict_pd:
                raise ValueError(
                    f"{name}='covariance' needs a non-singular covariance of the "
                    f"points; its smallest eigenvalue is {w[0]:.3g} (largest "
                    f"{w[-1]:.3g}). Use {name}='identity' or pass a matrix."
                )
            warnings.warn(
                f"{name}='covariance': the covariance of the points is singular "
                f"(smallest eigenvalue {w[0]:.3g}, largest {w[-1]:.3g}); its "
                "pseudo-inverse is used.", UserWarning, stacklevel=3)
            return np.linalg.pinv(cov, hermitian=True)
        return np.linalg.inv(cov)
    M0 = np.asarray(init, dtype=np.float64)
    if M0.shape != (d, d):
        raise ValueError(
            f"{name} must have shape ({d}, {d}) for {d} features, got {M0.shape}."
        )
    if not np.all(np.isfinite(M0)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if np.max(np.abs(M0 - M0.T)) > 1e-10 * max(np.max(np.abs(M0)), 1e-300):
        raise ValueError(f"{name} must be symmetric.")
    M0 = (M0 + M0.T) / 2.0
    w = np.linalg.eigvalsh(M0)
    if strict_pd and w[0] <= max(w[-1], 0.0) * eps:
        raise ValueError(
            f"{name} must be strictly positive definite; its smallest eigenvalue "
            f"is {w[0]:.6g} (largest {w[-1]:.6g})."
        )
    if not strict_pd and w[0] < -1e-10 * max(abs(w[-1]), 1e-300):
        raise ValueError(
            f"{name} must be positive semi-definite; its smallest eigenvalue is "
            f"{w[0]:.6g}."
        )
    return M0


def starting_point(estimator, X, y, n_components, random_state=None):
    """``(X_work, L0, s)`` for a learner that optimises ``L`` in working units.

    ``s`` is :func:`~mlearn.utils._scale.working_scale` of ``X`` (1 for data
    of ordinary spread), ``X_work = X / s`` in float64, and ``L0`` the start
    for ``X_work``: the previous ``components_`` under ``warm_start`` (same
    shape), else :func:`initial_components` of ``estimator.init``; a given
    ``L`` (the previous one, or an ndarray ``init``) is in the data's units
    and is multiplied by ``s``. The learner divides its result by ``s``.
    """
    s = working_scale(X)
    X_work = np.ascontiguousarray(X, dtype=np.float64) / s
    previous = getattr(estimator, "components_", None)
    if (estimator.warm_start and previous is not None
            and previous.shape == (n_components, X.shape[1])):
        return X_work, np.array(previous, dtype=np.float64) * s, s
    L0 = initial_components(estimator.init, X_work, y, n_components, random_state)
    if isinstance(estimator.init, np.ndarray):
        L0 = L0 * s
    return X_work, L0, s
