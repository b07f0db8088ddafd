"""M ↔ L conversions and PSD projection."""

import re

import numpy as np
import pytest

from mlearn.utils import components_from_metric, metric_from_components, project_psd


@pytest.mark.parametrize("rank", [5, 3, 1])
def test_round_trip_M_to_L(rank, dtype):
    rs = np.random.RandomState(rank)
    A = rs.normal(size=(rank, 5))
    M = (A.T @ A).astype(dtype)
    L = components_from_metric(M)
    assert L.shape == (5, 5) and L.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(metric_from_components(L), M, atol=tol * np.abs(M).max())


def test_round_trip_L_to_M_to_L_preserves_distances():
    rs = np.random.RandomState(0)
    L = rs.normal(size=(3, 6))
    L2 = components_from_metric(L.T @ L)
    X = rs.normal(size=(10, 6))
    np.testing.assert_allclose(np.linalg.norm(X @ L.T, axis=1),
                               np.linalg.norm(X @ L2.T, axis=1), rtol=1e-9)


def test_low_rank_components_are_best_approximation():
    rs = np.random.RandomState(1)
    A = rs.normal(size=(6, 6))
    M = A.T @ A
    L = components_from_metric(M, n_components=2)
    assert L.shape == (2, 6)
    w, V = np.linalg.eigh(M)
    best = (V[:, -2:] * w[-2:]) @ V[:, -2:].T
    np.testing.assert_allclose(L.T @ L, best, atol=1e-9)


def test_tiny_negative_eigenvalues_are_clipped():
    v = np.array([1.0, 2.0, 3.0])
    M = np.outer(v, v) - 1e-15 * np.eye(3)
    L = components_from_metric(M)
    np.testing.assert_allclose(L.T @ L, np.outer(v, v), atol=1e-12)


def test_clearly_non_psd_raises_and_projection():
    M = np.diag([2.0, -1.0, 0.5])
    with pytest.raises(ValueError, match=re.escape(
            "The matrix is not positive semi-definite: its smallest eigenvalue is -1")):
        components_from_metric(M)
    np.testing.assert_allclose(project_psd(M), np.diag([2.0, 0.0, 0.5]))
    L = components_from_metric(M, strict=False)
    np.testing.assert_allclose(L.T @ L, np.diag([2.0, 0.0, 0.5]), atol=1e-12)


def test_projection_is_nearest_psd():
    rs = np.random.RandomState(2)
    S = rs.normal(size=(4, 4))
    S = S + S.T
    P = project_psd(S)
    assert np.linalg.eigvalsh(P).min() > -1e-12
    # any other PSD matrix is farther (spot check against random PSD matrices)
    for _ in range(20):
        B = rs.normal(size=(4, 4))
        Q = B @ B.T
        assert np.linalg.norm(S - P) <= np.linalg.norm(S - Q) + 1e-12


@pytest.mark.parametrize(
    "M, msg",
    [
        (np.ones((2, 3)), "M must be a square 2-D matrix, got shape (2, 3)"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "M contains NaN or infinity"),
        (np.array([[1.0, 2.0], [0.0, 1.0]]), "M must be symmetric"),
    ],
)
def test_bad_matrices(M, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        components_from_metric(M)


def test_bad_n_components():
    with pytest.raises(ValueError, match=re.escape(
            "n_components (4) must be between 1 and n_features (3)")):
        components_from_metric(np.eye(3), n_components=4)
