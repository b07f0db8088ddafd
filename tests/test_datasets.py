"""mlearn.datasets: the generated data has the structure its docstring states."""

import numpy as np
import pytest

from mlearn import _cli
from mlearn.datasets import make_clustered_noise


def test_shapes_labels_and_seed():
    X, y = make_clustered_noise(n_samples=301, n_classes=4, n_clusters_per_class=3,
                                n_informative=2, n_noise=5, random_state=1)
    assert X.shape == (301, 7) and y.shape == (301,)
    # 12 clusters of 25 or 26 points, cluster c in class c % 4
    assert np.bincount(y).tolist() == [76, 75, 75, 75]
    X2, y2 = make_clustered_noise(n_samples=301, n_classes=4, n_clusters_per_class=3,
                                  n_informative=2, n_noise=5, random_state=1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make_clustered_noise(n_samples=301, n_classes=4, n_clusters_per_class=3,
                                 n_informative=2, n_noise=5, random_state=2)
    assert not np.allclose(X, X3)


def test_clusters_and_noise():
    n_per, k, scale = 2000, 6, 25.0
    X, y = make_clustered_noise(n_samples=n_per * k, noise_scale=scale,
                                shuffle=False, random_state=0)
    clusters = np.repeat(np.arange(k), n_per)
    np.testing.assert_array_equal(y, clusters % 3)
    for c in range(k):
        S = X[clusters == c, :3]
        # each cluster: unit-variance Gaussian around its own centre
        np.testing.assert_allclose(S.std(axis=0), 1.0, atol=0.06)
    # the two clusters of a class are separate draws, not one blob
    for label in range(3):
        a, b = (X[clusters == c, :3].mean(axis=0) for c in (label, label + 3))
        assert np.linalg.norm(a - b) > 1.0
    # noise: std noise_scale, the same law in every class
    np.testing.assert_allclose(X[:, 3:].std(axis=0), scale, rtol=0.03)
    means = np.array([X[y == c, 3:].mean(axis=0) for c in range(3)])
    assert np.abs(means).max() < 4 * scale / np.sqrt(4000)


def test_invalid_parameters():
    with pytest.raises(ValueError, match="n_classes"):
        make_clustered_noise(n_classes=1)
    with pytest.raises(ValueError, match="noise_scale"):
        make_clustered_noise(noise_scale=-1.0)


@pytest.mark.parametrize("seed", range(4))
def test_every_learner_beats_euclidean_on_held_out_points(seed):
    """The demo's first table: every learner at or above plain Euclidean 3-NN."""
    X, y = make_clustered_noise(random_state=seed)
    learners = _cli.available_learners()
    baseline, rows = _cli.run_comparison(X, y, learners, random_state=seed,
                                         scale=False)
    # the signal-only features (an oracle metric) score far above the baseline
    oracle, _ = _cli.run_comparison(X[:, :3], y, {}, random_state=seed,
                                    scale=False)
    assert oracle > baseline + 0.2
    for row in rows:
        assert row["note"] == "", row
        assert row["accuracy"] >= baseline, (row, baseline)
