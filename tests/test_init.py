"""The shared starting points: initial_components (L₀) and initial_metric (M₀)."""

import re
import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from mlearn import LMNN
from mlearn.utils._init import initial_components, initial_metric


def _collinear_classes(n_per_class=30, seed=0):
    """4 classes whose means lie on one line: LDA finds a single direction."""
    rs = np.random.RandomState(seed)
    y = np.repeat(np.arange(4), n_per_class)
    X = rs.normal(size=(y.shape[0], 3))
    for c in range(4):  # exactly collinear class means
        X[y == c] -= X[y == c].mean(axis=0)
    X[:, 0] += 4.0 * y
    return X, y


def test_lda_with_fewer_directions_than_asked_is_completed():
    X, y = _collinear_classes()
    lda = LinearDiscriminantAnalysis(n_components=3).fit(X, y)
    assert lda.scalings_.shape[1] < 3  # the case that used to crash
    L0 = initial_components("lda", X, y, 3)
    assert L0.shape == (3, 3)
    assert np.linalg.matrix_rank(L0) == 3
    k = lda.scalings_.shape[1]
    np.testing.assert_allclose(L0[:k], lda.scalings_.T, rtol=1e-12)
    # the added rows are orthogonal to LDA's and to each other
    extra = L0[k:] / np.linalg.norm(L0[k:], axis=1, keepdims=True)
    Q = np.linalg.qr(lda.scalings_)[0]
    np.testing.assert_allclose(extra @ Q, 0, atol=1e-10)
    np.testing.assert_allclose(extra @ extra.T, np.eye(3 - k), atol=1e-10)


@pytest.mark.parametrize("init", ["lda", "auto"])
def test_lmnn_fits_with_rank_deficient_lda(init):
    X, y = _collinear_classes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lmnn = LMNN(init=init, n_components=3, max_iter=5, random_state=0).fit(X, y)
    assert lmnn.components_.shape == (3, 3)
    assert np.all(np.isfinite(lmnn.components_))


def test_auto_and_named_inits():
    X, y = _collinear_classes()
    np.testing.assert_array_equal(initial_components("identity", X, y, 2),
                                  np.eye(2, 3))
    pca = PCA(n_components=2).fit(X).components_
    np.testing.assert_allclose(np.abs(initial_components("pca", X, None, 2)),
                               np.abs(pca), rtol=1e-8)
    assert initial_components("auto", X, None, 3).shape == (3, 3)  # identity
    a = initial_components("random", X, y, 2, random_state=3)
    np.testing.assert_array_equal(a, initial_components("random", X, y, 2, 3))
    with pytest.raises(ValueError, match=re.escape(
            "init must have shape (2, 3) (n_components, n_features), got (3, 3)")):
        initial_components(np.eye(3), X, y, 2)
    with pytest.raises(ValueError, match=re.escape(
            "init='lda' needs n_components (3) <= min(n_features, n_classes - 1) (1)")):
        initial_components("lda", X[y < 2], y[y < 2], 3)


def test_initial_metric():
    rs = np.random.RandomState(0)
    X = rs.normal(size=(100, 3))
    np.testing.assert_allclose(initial_metric("covariance", X),
                               np.linalg.inv(np.cov(X, rowvar=False)), rtol=1e-10)
    R = initial_metric("random", X, random_state=0)
    assert np.linalg.eigvalsh(R).min() > 0
    singular = np.column_stack([X[:, 0], X[:, 0], X[:, 1]])
    with pytest.raises(ValueError, match="needs a non-singular covariance"):
        initial_metric("covariance", singular)
    with pytest.warns(UserWarning, match="pseudo-inverse is used"):
        M = initial_metric("covariance", singular, strict_pd=False, name="init")
    np.testing.assert_allclose(M, np.linalg.pinv(np.cov(singular, rowvar=False)),
                               rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match="prior must be strictly positive definite"):
        initial_metric(np.diag([1.0, 1.0, 0.0]), X)
    assert initial_metric(np.diag([1.0, 1.0, 0.0]), X, strict_pd=False).shape == (3, 3)
    with pytest.raises(ValueError, match="init must be positive semi-definite"):
        initial_metric(np.diag([1.0, 1.0, -1.0]), X, strict_pd=False, name="init")
    with pytest.raises(ValueError, match="prior must be symmetric"):
        initial_metric(np.triu(np.ones((3, 3))), X)
