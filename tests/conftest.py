"""Shared fixtures: seeds, dtypes, small datasets and the list of estimators."""

import os

import numpy as np
import pytest

from mlearn.utils import discovery

# numba's on-disk cache must be writable (CI sets NUMBA_CACHE_DIR; default here).
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__),
                                                      "..", ".numba_cache"))


def all_estimators(kind=None):
    """Every learner class exported by ``mlearn`` (new learners join by export)."""
    return [E for _, E in discovery.all_estimators(kind)]


def supervised_estimators():
    """Learners that take ``fit(X, y)`` with points and class labels."""
    return all_estimators("supervised")


def pairs_estimators():
    return all_estimators("pairs")


# Small settings so a fit takes milliseconds (test-only; learners' defaults are
# for real data).
TEST_PARAMS = {
    "LMNN": {"max_iter": 5},
    "ITML": {"max_iter": 20},
    "ITMLPairs": {"max_iter": 20},
    "MMC": {"max_iter": 20},
    "MMCPairs": {"max_iter": 20},
    # the toy pairs have large-variance noise axes, which the identity prior
    # keeps (SDML then lowers balance_param to ~1e-4 and learns little)
    "SDMLPairs": {"prior": "covariance"},
    "RCA_Supervised": {"n_chunks": 3},
    "SCML": {"max_iter": 100, "output_iter": 50},
    "SCMLTriplets": {"max_iter": 100, "output_iter": 50},
    "NCA": {"max_iter": 10},
    "MLKR": {"max_iter": 10},
}


def fast_instance(Estimator, **params):
    """An instance with the small settings of ``TEST_PARAMS`` (and
    ``random_state=0`` where the learner takes one)."""
    kw = dict(TEST_PARAMS.get(Estimator.__name__, {}))
    kw.update(params)
    est = Estimator()
    valid = est.get_params()
    if "random_state" in valid:
        kw.setdefault("random_state", 0)
    return est.set_params(**{k: v for k, v in kw.items() if k in valid})


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.RandomState(0)


def make_blobs_data(n_per_class=20, n_classes=3, n_features=4, noise_dims=0,
                    random_state=0):
    """Classes separated along the first axes plus optional large noise axes."""
    rs = np.random.RandomState(random_state)
    centers = rs.normal(scale=3.0, size=(n_classes, n_features))
    X = np.vstack([c + rs.normal(size=(n_per_class, n_features)) for c in centers])
    y = np.repeat(np.arange(n_classes), n_per_class)
    if noise_dims:
        X = np.hstack([X, rs.normal(scale=20.0, size=(X.shape[0], noise_dims))])
    return X, y


def tolerance(dtype):
    return {np.float32: 1e-4, np.float64: 1e-10}[np.dtype(dtype).type]


# -- CI guard: the optional torch tests must run in CI --------------------------
# Without torch every tests/test_deep_*.py module skips; on a developer machine
# that is fine, but in CI (CI=true) it would hide the whole deep head, so the
# session fails when no torch test ran.
_TORCH_TESTS = {"ran": 0, "skipped": 0}


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.skipped):
        if os.path.basename(report.fspath).startswith("test_deep_"):
            _TORCH_TESTS["skipped" if report.skipped else "ran"] += 1


def pytest_collectreport(report):
    if report.skipped and os.path.basename(str(report.fspath)).startswith("test_deep_"):
        _TORCH_TESTS["skipped"] += 1


def pytest_sessionfinish(session, exitstatus):
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    if in_ci and session.testscollected and _TORCH_TESTS["ran"] == 0:
        import sys

        print("\nCI guard: no torch test ran (torch missing?); install "
              "torch==2.13.0 as README's test command does.", file=sys.stderr)
        session.exitstatus = 1
