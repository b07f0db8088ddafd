"""Dask arrays: Covariance and KISSME fit blockwise and equal the numpy path;
transform and pairwise distances stay lazy; the same on a process-based
``dask.distributed.LocalCluster``."""

import re

import numpy as np
import pytest

from conftest import make_blobs_data
from mlearn import KISSME, Covariance, paired_mahalanobis, pairwise_mahalanobis

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs_data(n_per_class=60, n_classes=4, n_features=5, noise_dims=2)
    return X, y


def _rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.mark.parametrize("estimator", ["empirical", "oas", "shrunk"])
def test_covariance_dask_equals_numpy(data, estimator, dtype):
    X = data[0].astype(dtype)
    ref = Covariance(estimator=estimator).fit(X)
    est = Covariance(estimator=estimator).fit(da.from_array(X, chunks=(37, 3)))
    assert est.components_.dtype == dtype
    assert est.n_features_in_ == X.shape[1] and est.n_samples_seen_ == len(X)
    assert est.shrinkage_ == pytest.approx(ref.shrinkage_, rel=1e-10)
    np.testing.assert_allclose(est.location_, ref.location_, rtol=1e-10)
    np.testing.assert_allclose(est.covariance_, ref.covariance_, rtol=1e-10)
    tol = 1e-9 if dtype == np.float64 else 1e-5
    assert _rel(est.get_mahalanobis_matrix(), ref.get_mahalanobis_matrix()) < tol


def test_covariance_dask_errors(data):
    X = data[0].copy()
    with pytest.raises(ValueError, match=re.escape(
            "dask arrays are supported for estimator in ('empirical', 'oas', "
            "'shrunk'); 'mcd' needs all rows at once")):
        Covariance(estimator="mcd").fit(da.from_array(X))
    X[100, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        Covariance().fit(da.from_array(X, chunks=50))
    with pytest.raises(ValueError, match="minimum of 2"):
        Covariance().fit(da.from_array(X[:1]))
    with pytest.raises(ValueError, match="Expected a 2-D array"):
        Covariance().fit(da.from_array(X[:, 0]))


@pytest.mark.parametrize("n_components", [None, 4])
def test_kissme_dask_equals_numpy(data, dtype, n_components):
    X, y = data
    X = X.astype(dtype)
    perm = np.random.RandomState(0).permutation(len(y))  # classes spread over blocks
    X, y = X[perm], y[perm]
    ref = KISSME(n_components=n_components).fit(X, y)
    tol = 1e-9 if dtype == np.float64 else 1e-5
    for y_in in (y, da.from_array(y, chunks=70)):
        est = KISSME(n_components=n_components).fit(
            da.from_array(X, chunks=(41, 7)), y_in)
        assert est.components_.dtype == dtype
        np.testing.assert_array_equal(est.classes_, ref.classes_)
        assert _rel(est.get_mahalanobis_matrix(), ref.get_mahalanobis_matrix()) < tol


def test_kissme_dask_errors(data):
    X, y = data
    with pytest.raises(ValueError, match=re.escape("y must be 1-D with one label")):
        KISSME().fit(da.from_array(X), y[:-1])
    with pytest.raises(ValueError, match=re.escape("y has a single class")):
        KISSME().fit(da.from_array(X), np.zeros(len(y)))
    bad = X.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        KISSME().fit(da.from_array(bad, chunks=50), y)


def test_transform_and_pairwise_stay_lazy(data):
    X, y = data
    est = KISSME(n_components=3).fit(X, y)
    Xd = da.from_array(X, chunks=(50, 7))
    Z = est.transform(Xd)
    assert isinstance(Z, da.Array)
    np.testing.assert_allclose(Z.compute(), est.transform(X), rtol=1e-12)
    M = est.get_mahalanobis_matrix()
    D = pairwise_mahalanobis(Xd[:70], Xd, M=M)
    assert isinstance(D, da.Array)
    np.testing.assert_allclose(D.compute(), pairwise_mahalanobis(X[:70], X, M=M),
                               rtol=1e-8, atol=1e-8)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def test_distributed_cluster_equals_numpy(client, data):
    X, y = data
    Xd = client.persist(da.from_array(X, chunks=(40, 7)))  # blocks live on workers
    cov = Covariance(estimator="oas").fit(Xd)
    ref = Covariance(estimator="oas").fit(X)
    assert _rel(cov.get_mahalanobis_matrix(), ref.get_mahalanobis_matrix()) < 1e-9
    kissme = KISSME(n_components=4).fit(Xd, da.from_array(y, chunks=40))
    ref = KISSME(n_components=4).fit(X, y)
    assert _rel(kissme.get_mahalanobis_matrix(), ref.get_mahalanobis_matrix()) < 1e-9
    np.testing.assert_allclose(kissme.transform(Xd).compute(), ref.transform(X),
                               rtol=1e-8, atol=1e-10)


@pytest.fixture
def nan_data(data):
    X, y = data
    bad = X.copy()
    bad[77, 1] = np.nan  # in the second of three row blocks
    return X, y, da.from_array(bad, chunks=(50, 7))


def test_lazy_results_on_nan_raise_when_computed(nan_data):
    # transform and distances stay lazy (no compute at call time) but computing a
    # block built on a NaN raises, instead of returning NaN blocks
    X, y, Xd = nan_data
    ok = da.from_array(X, chunks=(50, 7))
    M = Covariance().fit(X).get_mahalanobis_matrix()
    with dask.config.set(scheduler="sync"):
        lazy = {
            "Covariance.transform": Covariance().fit(X).transform(Xd),
            "KISSME.transform": KISSME().fit(X, y).transform(Xd),
            "pairwise X": pairwise_mahalanobis(Xd, ok, M=M),
            "pairwise Y": pairwise_mahalanobis(ok[:40], Xd, M=M),
            "pairwise X, X": pairwise_mahalanobis(Xd, M=M),
            "paired X": paired_mahalanobis(Xd, ok, M=M),
            "paired Y": paired_mahalanobis(ok, Xd, M=M),
        }
        for name, result in lazy.items():
            assert isinstance(result, da.Array), name
            which = "Y" if name.endswith("Y") else "X"
            with pytest.raises(ValueError,
                               match=re.escape(f"{which} contains NaN or infinity")):
                result.compute()
        # blocks without the NaN still compute, and clean input is unchanged
        np.testing.assert_allclose(lazy["Covariance.transform"][:50].compute(),
                                   Covariance().fit(X).transform(X[:50]), rtol=1e-12)
        np.testing.assert_allclose(paired_mahalanobis(ok, ok[::-1], M=M).compute(),
                                   paired_mahalanobis(X, X[::-1], M=M), rtol=1e-12)


def test_kissme_dask_nan_labels_raise(data):
    X, y = data
    y_bad = y.astype(np.float64)
    y_bad[130] = np.nan
    with dask.config.set(scheduler="sync"):
        for y_in in (y_bad, da.from_array(y_bad, chunks=70)):
            with pytest.raises(ValueError, match=re.escape(
                    "y contains NaN or infinity; class labels must be finite")):
                KISSME().fit(da.from_array(X, chunks=(50, 7)), y_in)
