"""Plots for metric learning: embeddings, pair-distance histograms, the metric.

matplotlib is optional (``pip install "mlearn-metric[plot]"``) and imported only when a
function here is called. Every function draws on a given ``ax`` (or a new
figure) and returns the matplotlib ``Axes`` (or ``Figure`` for several panels),
so plots compose and can be checked in tests.
"""

import numpy as np

__all__ = [
    "plot_embedding",
    "plot_before_after",
    "plot_pair_distances",
    "plot_metric",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "mlearn.plotting needs matplotlib; install it with "
            "`pip install 'mlearn-metric[plot]'` (or `pip install matplotlib`)."
        ) from exc
    return plt


def _embed_2d(X, method, random_state):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got an array of shape {X.shape}.")
    if X.shape[1] == 1:
        return np.column_stack([X[:, 0], np.zeros(X.shape[0])])
    if X.shape[1] == 2 and method != "tsne":
        return X
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=random_state).fit_transform(X)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(1.0, (X.shape[0] - 1) / 3.0)))
        return TSNE(n_components=2, init="pca", perplexity=perplexity,
                    random_state=random_state).fit_transform(X)
    raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}.")


def plot_embedding(X, y=None, *, transformer=None, method="pca", ax=None,
                   title=None, random_state=0, **scatter_kws):
    """Scatter a 2-D embedding (PCA or t-SNE) of ``X``, coloured by ``y``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,), default=None
        Class labels; one scatter (and legend entry) per class.
    transformer : fitted estimator, default=None
        If given, ``transformer.transform(X)`` is embedded instead of ``X``
        (the "after" view of a learned metric).
    method : {'pca', 'tsne'}, default='pca'
        How the points are brought to two dimensions (2-D data is shown as is
        with 'pca').
    ax : matplotlib Axes, default=None
        Where to draw; a new figure is made if None.
    title : str, default=None
    random_state : int, default=0
        Seed of PCA / t-SNE.
    **scatter_kws
        Passed to ``Axes.scatter``.

    Returns
    -------
    ax : matplotlib Axes
        With one ``PathCollection`` per class (in ``ax.collections``).
    """
    plt = _pyplot()
    Z = transformer.transform(X) if transformer is not None else X
    E = _embed_2d(Z, method, random_state)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    scatter_kws.setdefault("s", 12)
    if y is None:
        ax.scatter(E[:, 0], E[:, 1], **scatter_kws)
    else:
        y = np.asarray(y)
        if y.shape[0] != E.shape[0]:
            raise ValueError(f"y has {y.shape[0]} labels for {E.shape[0]} points.")
        for label in np.unique(y):
            mask = y == label
            ax.scatter(E[mask, 0], E[mask, 1], label=str(label), **scatter_kws)
        if np.unique(y).shape[0] <= 12:
            ax.legend(fontsize="small", markerscale=1.5, frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax


def plot_before_after(X, y, estimators, *, method="tsne", random_state=0,
                      ncols=None, panel_size=3.5):
    """The data, then its embedding under each learned metric, side by side.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    estimators : dict of {name: fitted estimator} or list of fitted estimators
        Each is shown through its ``transform``.
    method : {'tsne', 'pca'}, default='tsne'
    random_state : int, default=0
    ncols : int, default=None
        Panels per row (all in one row by default).
    panel_size : float, default=3.5
        Width and height of a panel in inches.

    Returns
    -------
    fig : matplotlib Figure
        Its first axes shows the original data; one axes per estimator follows.
    """
    plt = _pyplot()
    if not isinstance(estimators, dict):
        named = {}
        for e in estimators:
            name, k = type(e).__name__, 2
            while name in named:
                name, k = f"{type(e).__name__} ({k})", k + 1
            named[name] = e
        estimators = named
    n = 1 + len(estimators)
    ncols = n if ncols is None else int(ncols)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(panel_size * ncols, panel_size * nrows))
    axes = axes.ravel()
    plot_embedding(X, y, method=method, ax=axes[0], title="original",
                   random_state=random_state)
    for ax, (name, est) in zip(axes[1:], estimators.items()):
        plot_embedding(X, y, transformer=est, method=method, ax=ax, title=name,
                       random_state=random_state)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_pair_distances(distances, y, *, ax=None, bins=40, density=True,
                        labels=("similar", "dissimilar"), title=None):
    """Histograms of the distances of similar and of dissimilar pairs.

    The picture of KISSME's figure 1 (Köstinger et al., 2012): a good metric
    separates the two histograms. Draw it for the Euclidean distances and for
    ``est.pair_distance(pairs)`` to see what learning changed.

    Parameters
    ----------
    distances : array-like of shape (n_pairs,)
        Distance of each pair (e.g. ``estimator.pair_distance(pairs)``).
    y : array-like of shape (n_pairs,)
        +1 for similar pairs, -1 for dissimilar ones.
    ax : matplotlib Axes, default=None
    bins : int or sequence, default=40
        Shared bin edges are used for both histograms.
    density : bool, default=True
        Normalise each histogram to unit area (the classes may differ in size).
    labels : tuple of str, default=('similar', 'dissimilar')
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
        ``ax.containers`` holds the two bar containers (similar first).
    """
    plt = _pyplot()
    d = np.asarray(distances, dtype=np.float64).ravel()
    y = np.asarray(y).ravel()
    if d.shape != y.shape:
        raise ValueError(f"distances has {d.shape[0]} values but y has "
                         f"{y.shape[0]} labels.")
    if not np.all(np.isin(y, (-1, 1))):
        raise ValueError(f"y must hold +1 (similar) and -1 (dissimilar), got "
                         f"{np.unique(y)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    edges = np.histogram_bin_edges(d, bins=bins)
    for sign, label, color in ((1, labels[0], "tab:blue"),
                               (-1, labels[1], "tab:red")):
        ax.hist(d[y == sign], bins=edges, density=density, alpha=0.55,
                label=f"{label} ({int(np.sum(y == sign))})", color=color)
    ax.set_xlabel("distance")
    ax.set_ylabel("density" if density else "pairs")
    ax.legend(frameon=False)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_metric(estimator_or_matrix, *, ax=None, feature_names=None,
                cmap="RdBu_r", colorbar=True, title=None):
    """The Mahalanobis matrix ``M`` as a heatmap with a symmetric colour scale.

    Parameters
    ----------
    estimator_or_matrix : fitted estimator or array-like of shape (d, d)
        An estimator with ``get_mahalanobis_matrix()``, or ``M`` itself.
    ax : matplotlib Axes, default=None
    feature_names : sequence of str, default=None
        Tick labels; taken from ``feature_names_in_`` of the estimator if it has
        them. Labels are drawn for at most 30 features.
    cmap : str, default='RdBu_r'
        A diverging colour map centred on 0.
    colorbar : bool, default=True
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
        ``ax.images[0]`` holds ``M``.
    """
    plt = _pyplot()
    if hasattr(estimator_or_matrix, "get_mahalanobis_matrix"):
        M = estimator_or_matrix.get_mahalanobis_matrix()
        if feature_names is None:
            feature_names = getattr(estimator_or_matrix, "feature_names_in_", None)
    else:
        M = np.asarray(estimator_or_matrix, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"M must be a square matrix, got shape {M.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    vmax = float(np.max(np.abs(M))) or 1.0
    image = ax.imshow(M, cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    d = M.shape[0]
    if feature_names is not None and d <= 30:
        names = [str(n) for n in feature_names]
        if len(names) != d:
            raise ValueError(f"{len(names)} feature names for a {d} x {d} matrix.")
        ax.set_xticks(range(d), names, rotation=90)
        ax.set_yticks(range(d), names)
    ax.set_title("M = LᵀL" if title is None else title)
    return ax
