"""Data generators for the demo, the examples and the tests."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from mlearn.utils._sklearn_compat import Interval, validate_params


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "n_clusters_per_class": [Interval(Integral, 1, None, closed="left")],
        "n_informative": [Interval(Integral, 1, None, closed="left")],
        "n_noise": [Interval(Integral, 0, None, closed="left")],
        "class_sep": [Interval(Real, 0, None, closed="neither")],
        "noise_scale": [Interval(Real, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_clustered_noise(n_samples=300, *, n_classes=3, n_clusters_per_class=2,
                         n_informative=3, n_noise=2, class_sep=4.0,
                         noise_scale=25.0, shuffle=True, random_state=None):
    """Classes made of several clusters, hidden among large-magnitude noise.

    Each class is the union of ``n_clusters_per_class`` Gaussian clusters (unit
    standard deviation) whose centres are drawn independently in the first
    ``n_informative`` features, so a class is not one blob and no single
    direction separates the classes. The last ``n_noise`` features are
    Gaussian noise with standard deviation ``noise_scale``, unrelated to the
    labels. The Euclidean distance is dominated by the noise features and
    nearest neighbours are mostly of other classes; a metric that down-weights
    the noise features makes the clusters, and the classes, reappear. With
    the defaults (3 classes of 2 clusters in 5 features, 2 of them noise) this
    is the classic illustration of what metric learning is for.

    Parameters
    ----------
    n_samples : int, default=300
        Number of points, split as evenly as possible between the
        ``n_classes * n_clusters_per_class`` clusters.

    n_classes : int, default=3
        Number of classes.

    n_clusters_per_class : int, default=2
        Number of clusters that make up each class.

    n_informative : int, default=3
        Number of features that carry the clusters (the first ones).

    n_noise : int, default=2
        Number of noise features (the last ones).

    class_sep : float, default=4.0
        Standard deviation of the cluster centres, in units of the clusters'
        own standard deviation (1): larger values separate the clusters more.

    noise_scale : float, default=25.0
        Standard deviation of the noise features.

    shuffle : bool, default=True
        Shuffle the points; otherwise they come cluster by cluster.

    random_state : int, RandomState instance or None, default=None
        Seed of the centres, the points and the shuffle.

    Returns
    -------
    X : ndarray of shape (n_samples, n_informative + n_noise)
        The points: informative features first, noise features last.

    y : ndarray of shape (n_samples,)
        Class labels, integers in ``[0, n_classes)``.

    See Also
    --------
    sklearn.datasets.make_classification : Clusters on the vertices of a
        hypercube, with informative, redundant and useless features.

    Examples
    --------
    >>> import numpy as np
    >>> from mlearn.datasets import make_clustered_noise
    >>> X, y = make_clustered_noise(random_state=0)
    >>> X.shape, np.bincount(y).tolist()
    ((300, 5), [100, 100, 100])
    >>> bool(X[:, 3:].std() > 3 * X[:, :3].std())  # noise dominates
    True
    """
    rng = check_random_state(random_state)
    n_clusters = n_classes * n_clusters_per_class
    sizes = np.full(n_clusters, n_samples // n_clusters)
    sizes[: n_samples % n_clusters] += 1
    centres = rng.normal(scale=class_sep, size=(n_clusters, n_informative))
    # cluster c belongs to class c % n_classes: the clusters of a class are
    # independent draws, not neighbours.
    cluster = np.repeat(np.arange(n_clusters), sizes)
    X_signal = centres[cluster] + rng.normal(size=(n_samples, n_informative))
    X_noise = rng.normal(scale=noise_scale, size=(n_samples, n_noise))
    X = np.hstack([X_signal, X_noise])
    y = cluster % n_classes
    if shuffle:
        order = rng.permutation(n_samples)
        X, y = X[order], y[order]
    return X, y
