"""mlearn.plotting draws what it is given (checked on the Agg backend)."""

import numpy as np
import pytest

from mlearn import Covariance

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mlearn import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _data():
    rs = np.random.RandomState(0)
    X = np.vstack([rs.normal(size=(20, 4)) + c for c in (0.0, 4.0, 8.0)])
    return X, np.repeat([0, 1, 2], 20)


def test_plot_embedding_one_scatter_per_class_and_pca_coordinates():
    from sklearn.decomposition import PCA

    X, y = _data()
    ax = plotting.plot_embedding(X, y, method="pca", title="t")
    assert len(ax.collections) == 3
    assert ax.get_title() == "t"
    E = PCA(n_components=2, random_state=0).fit_transform(X)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), E[y == 0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2"]


def test_plot_embedding_uses_the_transformer():
    X, y = _data()
    cov = Covariance().fit(X)
    X2 = X[:, :2]
    ax = plotting.plot_embedding(X2, transformer=Covariance().fit(X2))
    np.testing.assert_allclose(ax.collections[0].get_offsets(),
                               Covariance().fit(X2).transform(X2))
    ax = plotting.plot_embedding(X, y, transformer=cov, method="tsne")
    assert sum(len(c.get_offsets()) for c in ax.collections) == X.shape[0]


def test_plot_before_after_panels():
    X, y = _data()
    fig = plotting.plot_before_after(X, y, {"cov": Covariance().fit(X)},
                                     method="pca")
    assert [ax.get_title() for ax in fig.axes] == ["original", "cov"]
    fig = plotting.plot_before_after(X, y, [Covariance().fit(X)] * 2,
                                     method="pca", ncols=2)
    assert len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == [
        "original", "Covariance", "Covariance (2)"]


def test_plot_pair_distances_histograms_hold_the_distances():
    rs = np.random.RandomState(0)
    d = np.r_[rs.gamma(2.0, size=70), rs.gamma(6.0, size=30)]
    y = np.r_[np.ones(70, int), -np.ones(30, int)]
    ax = plotting.plot_pair_distances(d, y, bins=15, density=False)
    assert len(ax.containers) == 2
    edges = np.histogram_bin_edges(d, bins=15)
    for container, sign in zip(ax.containers, (1, -1)):
        heights = [p.get_height() for p in container]
        np.testing.assert_array_equal(heights,
                                      np.histogram(d[y == sign], bins=edges)[0])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["similar (70)", "dissimilar (30)"]


def test_plot_pair_distances_errors():
    with pytest.raises(ValueError, match="distances has 3 values but y has 2"):
        plotting.plot_pair_distances([1.0, 2.0, 3.0], [1, -1])
    with pytest.raises(ValueError, match="y must hold"):
        plotting.plot_pair_distances([1.0, 2.0], [0, 1])


def test_plot_metric_shows_M():
    X, _ = _data()
    cov = Covariance().fit(X)
    ax = plotting.plot_metric(cov, feature_names=list("abcd"))
    np.testing.assert_allclose(ax.images[0].get_array(),
                               cov.get_mahalanobis_matrix())
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abcd")
    ax = plotting.plot_metric(np.eye(3), colorbar=False, title="I")
    assert ax.get_title() == "I" and len(ax.figure.axes) == 1
    with pytest.raises(ValueError, match="square"):
        plotting.plot_metric(np.ones((2, 3)))
