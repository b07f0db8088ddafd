"""Local Fisher Discriminant Analysis (Sugiyama, JMLR 2007)."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator

from mlearn.base import MahalanobisMixin
from mlearn.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from mlearn.utils._stats import class_statistics
from mlearn.utils._validation import FLOAT_DTYPES, check_classes, check_n_components

__all__ = ["LFDA", "lfda_scatter", "local_scatter"]

# Squared distances held at once per class: rows × class size ≤ this many floats
# (32 MiB), so memory stays O(block · n_c) however large a class is.
_BLOCK_FLOATS = 4 * 2**20

# Eigenvalues of the total scatter below this fraction of the largest are
# directions without variance: nothing can be learned along them.
_RANK_RTOL = 1e-10

# The local within-class scatter is regularized when its condition number in
# the data's span exceeds 1 / _SW_RCOND, by a ridge of _RIDGE · its mean
# eigenvalue.
_SW_RCOND = 1e-10
_RIDGE = 1e-3


def _sq_distances(A, B, nA, nB):
    """Squared Euclidean distances of the rows of ``A`` and ``B``, clipped at 0."""
    D = (-2.0 * A) @ B.T
    D += nA[:, None]
    D += nB[None, :]
    np.maximum(D, 0.0, out=D)
    return D


def local_scatter(Xc, k, variant="paper"):
    """Locally weighted scatter of one class, ``½ Σ_ij A_ij (x_i − x_j)(x_i − x_j)ᵀ``.

    The affinity is Zelnik-Manor and Perona's local scaling,
    ``A_ij = exp(−‖x_i − x_j‖² / (σ_i σ_j))`` with ``σ_i`` the distance from
    ``x_i`` to its ``k``-th nearest neighbour in the class (``A_ij = 0`` where
    ``σ_i σ_j = 0``). Rows are processed in blocks, so memory is
    ``O(block · n_c)``, never ``n_c × n_c`` for a large class.

    Parameters
    ----------
    Xc : ndarray of shape (n_c, n_features)
        The points of one class, float64 (best centred: the result does not
        depend on a shift, the round-off does).
    k : int
        Neighbour used for the local scale, ``1 ≤ k ≤ n_c − 1``.
    variant : {'paper', 'metric_learn'}, default='paper'
        'metric_learn': metric-learn 0.7's local scale, ``σ_i`` the ``i``-th
        entry of ``np.partition(D[:, k], k)`` (row ``i`` of column ``k`` of
        the column-partitioned distance matrix: the ``k``-th point's
        distances, partly ordered), not ``x_i``'s own ``k``-th neighbour.

    Returns
    -------
    G : ndarray of shape (n_features, n_features)
        ``Xcᵀ (diag(A 1) − A) Xc``.
    """
    n_c, d = Xc.shape
    G = np.zeros((d, d))
    if n_c < 2:
        return G
    norms = np.einsum("ij,ij->i", Xc, Xc)
    step = max(1, min(n_c, _BLOCK_FLOATS // n_c))
    blocks = range(0, n_c, step)
    paper = variant == "paper"
    sigma = np.empty(n_c)
    kept = None
    # metric-learn's scale needs one column, not the row blocks: they are
    # computed here only for one block (kept for the second pass)
    first_pass = blocks if paper or len(blocks) == 1 else ()
    for s in first_pass:
        D = _sq_distances(Xc[s:s + step], Xc, norms[s:s + step], norms)
        rows = np.arange(D.shape[0])
        D[rows, rows + s] = 0.0  # the point itself, exactly
        if len(blocks) == 1:
            kept = D  # one block: no second distance pass (partition copies)
        if paper:
            sigma[s:s + step] = np.sqrt(np.partition(D, k, axis=1)[:, k])
    if not paper:
        column = _sq_distances(Xc, Xc[k:k + 1], norms, norms[k:k + 1])[:, 0]
        column[k] = 0.0
        sigma = np.sqrt(np.partition(column, k))
    # D_ij / (σ_i σ_j) as two in-place scalings; a zero σ gets a zero row and
    # column of A afterwards (its 1/σ is left at 0 to keep 0 · ∞ out).
    inv = np.zeros(n_c)
    np.divide(1.0, sigma, out=inv, where=sigma > 0.0)
    zero = np.flatnonzero(sigma == 0.0)
    for s in blocks:
        D = kept if kept is not None else _sq_distances(
            Xc[s:s + step], Xc, norms[s:s + step], norms)
        D *= inv[s:s + step, None]
        D *= inv[None, :]
        np.negative(D, out=D)
        np.exp(D, out=D)
        D[:, zero] = 0.0
        D[zero[(zero >= s) & (zero < s + step)] - s] = 0.0
        XB = Xc[s:s + step]
        G += (XB * D.sum(axis=1)[:, None]).T @ XB
        G -= XB.T @ (D @ Xc)
    return (G + G.T) / 2.0


def lfda_scatter(X, codes, n_classes, k, variant="paper"):
    """Local between-class and within-class scatter ``(S_b, S_w)`` of LFDA.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        float64.
    codes : ndarray of shape (n_samples,)
        Class code of each row, in ``[0, n_classes)``.
    n_classes : int
    k : int
        Neighbour of the local scaling; a class with ``n_c ≤ k`` points uses its
        ``(n_c − 1)``-th neighbour.
    variant : {'paper', 'metric_learn'}, default='paper'
        'metric_learn': metric-learn 0.7's local scale (see
        :func:`local_scatter`), its between-class scatter ``S_b + 2 S_w``,
        and its ``k`` lowered for a small class and every class after it.

    Returns
    -------
    S_b, S_w : ndarray of shape (n_features, n_features)
        With ``W_ij`` the pair weights below,
        ``S = ½ Σ_ij W_ij (x_i − x_j)(x_i − x_j)ᵀ``.

    Notes
    -----
    Sugiyama's weights, with ``A`` the local-scaling affinity (zero across
    classes), ``n`` points and ``n_c`` in the class of ``i`` and ``j``:

    .. math::

        W^{(w)}_{ij} = \\begin{cases} A_{ij} / n_c & y_i = y_j \\\\ 0
        & y_i \\ne y_j \\end{cases}, \\qquad
        W^{(b)}_{ij} = \\begin{cases} A_{ij} (1/n - 1/n_c) & y_i = y_j \\\\ 1/n
        & y_i \\ne y_j. \\end{cases}

    With ``G_c = ½ Σ_{i,j∈c} A_ij (x_i − x_j)(x_i − x_j)ᵀ`` and the class
    counts, means ``μ_c`` and scatters ``S_c``, the all-pairs part of
    ``S_b`` needs no pair at all:

    .. math::

        S_w = \\sum_c \\frac{G_c}{n_c}, \\qquad
        S_b = \\sum_c \\left(\\frac1n - \\frac1{n_c}\\right) G_c
        + \\sum_c \\left(1 - \\frac{n_c}{n}\\right) S_c
        + \\sum_c n_c (\\mu_c - \\mu)(\\mu_c - \\mu)^\\top.
    """
    n, d = X.shape
    stats = class_statistics(X, codes, n_classes)
    order = np.argsort(codes, kind="stable")
    starts = np.r_[0, np.cumsum([st[0] for st in stats])]
    mu = sum(st[0] * st[1] for st in stats) / n
    S_w = np.zeros((d, d))
    S_b = np.zeros((d, d))
    for c, (n_c, mean_c, scatter_c) in enumerate(stats):
        Xc = X[order[starts[c]:starts[c + 1]]] - mean_c
        if variant == "metric_learn":
            k = min(k, n_c - 1)  # metric-learn keeps it lowered for later classes
        G = local_scatter(Xc, min(k, n_c - 1), variant)
        S_w += G / n_c
        dev = mean_c - mu
        S_b += (1.0 / n - 1.0 / n_c) * G + (1.0 - n_c / n) * scatter_c
        S_b += n_c * np.outer(dev, dev)
    if variant == "metric_learn":
        S_b += 2.0 * S_w
    return (S_b + S_b.T) / 2.0, S_w


def _lfda_components(S_b, S_w, S_t, n_components, embedding_type):
    """Generalized eigenvectors of ``(S_b, S_w)`` in the span of ``S_t``.

    Returns ``(L, eigenvalues, regularized)``; ``L`` has ``n_components`` rows,
    zero rows beyond the span of the data.
    """
    d = S_t.shape[0]
    w_t, V_t = np.linalg.eigh(S_t)
    span = V_t[:, w_t > _RANK_RTOL * max(w_t[-1], 0.0)]  # (d, r)
    r = span.shape[1]
    Sw = span.T @ S_w @ span
    Sb = span.T @ S_b @ span
    w, U = np.linalg.eigh((Sw + Sw.T) / 2.0)
    if w[-1] <= _RANK_RTOL * w_t[-1]:
        raise ValueError(
            "the local within-class scatter is zero: inside every class the "
            "points coincide (or have no affinity to each other), so there is no "
            "within-class spread to measure distances against."
        )
    regularized = 0.0
    if w[0] <= _SW_RCOND * w[-1]:
        regularized = _RIDGE * max(w.mean(), 0.0)
        w = w + regularized
    W = U / np.sqrt(w)  # Sw^{-1/2}: Wᵀ Sw W = I
    lam, Q = np.linalg.eigh(W.T @ Sb @ W)
    lam, Q = lam[::-1], Q[:, ::-1]
    V = span @ (W @ Q)  # (d, r), Vᵀ S_w V = I in the span
    m = min(n_components, r)
    V, lam = V[:, :m], lam[:m]
    if embedding_type == "weighted":
        V = V * np.sqrt(np.clip(lam, 0.0, None))
    elif embedding_type == "orthonormalized":
        V, R = np.linalg.qr(V)
        V = V * np.sign(np.diag(R))  # Gram–Schmidt's signs: the columns of V
    L = np.zeros((n_components, d))
    L[:m] = V.T
    return L, np.r_[lam, np.full(n_components - m, np.nan)], regularized


class LFDA(MahalanobisMixin, BaseEstimator):
    """Local Fisher Discriminant Analysis.

    A supervised linear embedding for labels whose classes are multimodal
    (several separate clusters per class). Like Fisher's LDA it maximizes
    between-class scatter relative to within-class scatter, but both scatters
    are weighted by a local affinity: pairs of the same class count in
    proportion to how close they are (local scaling), so the embedding keeps
    each cluster's structure instead of squeezing a class into one blob. The
    solution is a generalized eigenproblem in closed form; unlike LDA it is not
    limited to ``n_classes − 1`` components.

    Read more in the :ref:`User Guide <lfda>`.

    Parameters
    ----------
    n_components : int, default=None
        Dimension of the embedding; ``None`` keeps ``n_features``.
    k : int, default=7
        Neighbour whose distance sets each point's local scale ``σ_i``
        (Sugiyama's default 7). A class with ``n_c ≤ k`` points uses its
        ``(n_c − 1)``-th neighbour, with a warning. ``None`` is metric-learn's
        rule, ``min(7, n_features − 1)`` (at least 1).
    embedding_type : {'weighted', 'orthonormalized', 'plain'}, default='weighted'
        How the eigenvectors ``v`` (normalized so that ``vᵀ S_w v = 1``) become
        ``components_``: 'plain' uses them as they are; 'weighted' scales each
        by the square root of its eigenvalue (the paper's recommendation, so
        discriminative directions weigh more; negative eigenvalues count as 0);
        'orthonormalized' makes them orthonormal (Gram–Schmidt, in eigenvalue
        order), which keeps the input's distances within the subspace.
    variant : {'paper', 'metric_learn'}, default='paper'
        'paper' follows Sugiyama's formulas. 'metric_learn' reproduces
        metric-learn 0.7's LFDA, which departs from them twice: its local
        scale ``σ_i`` is the ``i``-th entry of the class's ``k``-th point's
        distances after ``np.partition`` (not ``x_i``'s own ``k``-th
        neighbour distance), and its between-class scatter is
        ``S_b + 2 S_w``; it also lowers an explicit ``k >= n_features`` to
        ``n_features − 1`` (with a warning). For code moving from metric-learn
        (:mod:`mlearn.compat.metric_learn` sets it); the singular-scatter
        ridge and the errors are the same in both.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``L``; rows by decreasing eigenvalue (dtype of ``X``).
    eigenvalues_ : ndarray of shape (n_components,)
        The generalized eigenvalues ``λ`` of ``S_b v = λ S_w v`` (NaN for the
        rows beyond the span of the data, which are zero).
    regularization_ : float
        Ridge added to ``S_w`` (in the span of the data) when it is singular;
        0.0 when it was not needed.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.

    See Also
    --------
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis : the global
        (non-local) Fisher discriminant.

    Notes
    -----
    With the local-scaling affinity
    ``A_ij = exp(−‖x_i − x_j‖² / (σ_i σ_j))`` within each class, LFDA solves

    .. math::

        T = \\operatorname*{argmax}_{T \\in \\mathbb{R}^{d \\times m}}
        \\operatorname{tr}\\left((T^\\top S_w T)^{-1} T^\\top S_b T\\right),
        \\qquad S = \\frac12 \\sum_{i, j} W_{ij} (x_i - x_j)(x_i - x_j)^\\top,

    with ``W^(w)_ij = A_ij / n_c`` and ``W^(b)_ij = A_ij (1/n − 1/n_c)`` for
    pairs of a class of ``n_c`` points, and ``W^(w)_ij = 0``,
    ``W^(b)_ij = 1/n`` across classes (see
    :func:`~mlearn._lfda.lfda_scatter`), by the generalized eigenvectors
    ``S_b v = λ S_w v`` of the ``m`` largest ``λ``.

    The affinity is needed only within classes; it is computed one class at a
    time in row blocks (memory ``O(block · n_c + d²)``), and the cross-class
    part of ``S_b`` comes from class counts, means and scatters. Cost:
    ``O(Σ_c n_c² d + n d² + d³)``.

    Directions in which the training data has no variance (constant
    features) carry no information: the problem is solved in the span of the
    data and they get zero weight. If ``S_w`` is still singular there (for
    example fewer points than features, or a feature constant within every
    class), a ridge of ``1e-3`` times its mean eigenvalue is added, with a
    warning, and stored in ``regularization_``. The input is centred and
    rescaled internally, so ``X · c`` gives ``components_ / c`` for any
    ``c > 0``.

    References
    ----------
    .. [1] M. Sugiyama. "Dimensionality Reduction of Multimodal Labeled Data by
       Local Fisher Discriminant Analysis". JMLR 8:1027–1061, 2007.
    .. [2] L. Zelnik-Manor, P. Perona. "Self-Tuning Spectral Clustering".
       NIPS 2004.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlearn import LFDA
    >>> X, y = load_iris(return_X_y=True)
    >>> lfda = LFDA(n_components=2).fit(X, y)
    >>> lfda.transform(X).shape
    (150, 2)
    """

    _kind = "supervised"

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "embedding_type": [StrOptions({"weighted", "orthonormalized", "plain"})],
        "variant": [StrOptions({"paper", "metric_learn"})],
    }

    def __init__(self, n_components=None, k=7, embedding_type="weighted",
                 variant="paper"):
        self.n_components = n_components
        self.k = k
        self.embedding_type = embedding_type
        self.variant = variant

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the local Fisher discriminant embedding.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The points.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=list(FLOAT_DTYPES),
                             ensure_min_samples=2)
        n, d = X.shape
        m = check_n_components(self.n_components, d)
        self.classes_, codes, counts = check_classes(y)
        k = max(1, min(7, d - 1)) if self.k is None else int(self.k)
        if self.variant == "metric_learn" and self.k is not None and k >= d:
            # metric-learn 0.7 caps an explicit k at n_features − 1
            warnings.warn(f"Chosen k ({k}) too large, using {max(1, d - 1)} "
                          "instead.", UserWarning, stacklevel=2)
            k = max(1, d - 1)
        small = counts <= k
        if small.any():
            listing = ", ".join(f"{c!r} ({s})" for c, s in
                                zip(self.classes_[small][:5].tolist(),
                                    counts[small][:5].tolist()))
            warnings.warn(
                f"k ({k}) needs classes of more than {k} samples; the local scale "
                f"of these classes uses their farthest neighbour: {listing}.",
                UserWarning, stacklevel=2,
            )
        if counts.max() < 2:
            raise ValueError(
                "every class has a single sample, so there is no within-class "
                "scatter; LFDA needs a class with at least 2 samples."
            )
        # Centre and rescale: the affinities are scale-free and the scatters
        # scale by c², so this only keeps squares away from overflow/underflow.
        Xs = X.astype(np.float64)
        Xs -= Xs.mean(axis=0)
        scale = float(np.max(np.abs(Xs)))
        if scale == 0.0:
            raise ValueError(
                "X has no variance (every row is the same point); there is no "
                "direction to learn."
            )
        Xs /= scale
        S_b, S_w = lfda_scatter(Xs, codes, self.classes_.shape[0], k,
                                self.variant)
        S_t = Xs.T @ Xs
        L, self.eigenvalues_, ridge = _lfda_components(
            S_b, S_w, S_t, m, self.embedding_type)
        self.regularization_ = float(ridge) * scale**2  # in X's units
        if ridge:
            warnings.warn(
                "the local within-class scatter is singular in the span of the "
                "data (fewer samples than features, or a direction with no "
                "within-class spread); it was regularized with a ridge of 1e-3 "
                "times its mean eigenvalue (regularization_). Such directions "
                "get a large weight.",
                UserWarning, stacklevel=2,
            )
        if self.embedding_type != "orthonormalized":  # orthonormal rows: no unit
            L /= scale
        self.components_ = L.astype(X.dtype, copy=False)
        return self
