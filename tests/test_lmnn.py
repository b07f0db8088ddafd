import pickle
import re
import warnings

import numpy as np
import pytest
from scipy.optimize import check_grad
from sklearn.datasets import load_iris
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

from conftest import make_blobs_data
from mlearn import LMNN
from mlearn._constraints import find_target_neighbors
from mlearn._lmnn import _loss_grad, lmnn_loss_grad
from mlearn._lmnn_impostors import ImpostorSearch, target_terms
from mlearn.utils._sklearn_compat import ConvergenceWarning


def _problem(n_per_class=8, n_classes=3, d=4, k=2, seed=0):
    rs = np.random.RandomState(seed)
    X = rs.normal(size=(n_per_class * n_classes, d))
    y = np.repeat(np.arange(n_classes), n_per_class)
    X += y[:, None] * 0.7
    targets = find_target_neighbors(X, y, k)
    a, b = np.nonzero(y[:, None] != y[None, :])  # every different-class pair
    return X, y, targets, a.astype(np.intp), b.astype(np.intp)


def _naive_loss(L, X, y, targets, mu):
    """The triple loop of Weinberger & Saul with the squared hinge."""
    n = X.shape[0]
    pull = push = 0.0
    for i in range(n):
        for j in targets[i]:
            if j < 0:
                continue
            dij = np.sum((L @ (X[i] - X[j])) ** 2)
            pull += dij
            for m in range(n):
                if y[m] != y[i]:
                    dim = np.sum((L @ (X[i] - X[m])) ** 2)
                    push += max(0.0, 1.0 + dij - dim) ** 2
    return mu * pull + (1 - mu) * push


@pytest.mark.parametrize("mu", [0.0, 0.3, 1.0])
def test_loss_equals_naive_triple_loop(mu):
    X, y, targets, a, b = _problem()
    L = np.random.RandomState(1).normal(size=(3, 4))
    loss, _, _ = lmnn_loss_grad(L, X, targets, a, b, mu)
    assert loss == pytest.approx(_naive_loss(L, X, y, targets, mu), rel=1e-12)


def test_gradient_check_grad():
    X, y, targets, a, b = _problem()
    L0 = np.random.RandomState(2).normal(size=(3, 4)) * 0.5

    def f(w):
        return lmnn_loss_grad(w.reshape(3, 4), X, targets, a, b, 0.4)[0]

    def g(w):
        return lmnn_loss_grad(w.reshape(3, 4), X, targets, a, b, 0.4)[1].ravel()

    err = check_grad(f, g, L0.ravel(), epsilon=1e-7)
    assert err < 1e-4 * max(1.0, np.linalg.norm(g(L0.ravel())))


def _searched_loss(search, L, X, targets, mu=0.5):
    """The loss as fit computes it: search, then prune with its bounds."""
    Z = X @ L.T
    pull, d_t, radius = target_terms(Z, targets)
    ca, cb = search(L, Z, radius)
    return _loss_grad(X, Z, targets, pull, d_t, radius, ca, cb, search.root,
                      search.shift, mu, 1.0)


def _brute_force_candidates(X, y, L, targets, search):
    """Every kept different-class pair within s² times its anchor's radius."""
    Z = X @ L.T
    D = np.sum((Z[:, None] - Z[None]) ** 2, axis=-1)
    radius = 1 + np.max(np.where(targets >= 0, D[np.arange(len(X))[:, None],
                                                   targets], -np.inf), axis=1)
    kept = (search.u[:, None] + search.v[None]) % 2**32 < search.keep
    inside = D < search.slack ** 2 * radius[:, None]
    return set(zip(*np.nonzero(inside & kept & (y[:, None] != y[None])))), D


@pytest.mark.parametrize("tile, scale", [(5, 1.0), (16, 1.0), (512, 1.0),
                                         (16, 1e20), (16, 1e-20)])
def test_scan_equals_brute_force(tile, scale):
    # scales far outside float32's range make the screen fall back to float64
    X, y, targets, a, b = _problem(n_per_class=11)
    L = np.random.RandomState(3).normal(size=(4, 4)) * scale
    search = ImpostorSearch(X, y, targets, max_impostors=10**9, random_state=0,
                             slack=1.1, tile=tile)
    ca, cb = search(L)
    got = list(zip(ca.tolist(), cb.tolist()))
    expected, D = _brute_force_candidates(X, y, L, targets, search)
    assert len(got) == len(set(got))  # each pair once
    # the float32 screen widens the radius by its rounding bound: nothing is
    # missed, and what it adds lies within that bound of the radius
    assert expected.issubset(got)
    assert len(got) - len(expected) <= 2
    # the stored bounds are lower bounds of the distances, tight up to the
    # float32 rounding allowance err_a = 2 r u (|z_a|² + max |z|²) they subtract
    true_sq = D[ca, cb]
    assert np.all(search.root <= np.sqrt(true_sq))
    sq = np.sum((X @ L.T) ** 2, axis=1)
    err = 2 * 4 * 2.0**-24 * (sq[ca] + sq.max())  # float32's, the larger
    assert np.all(search.root >= np.sqrt(np.maximum(true_sq - 2 * err, 0)))


def test_superset_of_candidates_gives_the_same_loss():
    X, y, targets, a, b = _problem()
    L = np.random.RandomState(3).normal(size=(4, 4))
    search = ImpostorSearch(X, y, targets, max_impostors=10**9, random_state=0)
    ca, cb = search(L)
    assert ca.shape[0] < a.shape[0]  # the scan prunes pairs outside the margin
    full = lmnn_loss_grad(L, X, targets, a, b, 0.5)
    pruned = lmnn_loss_grad(L, X, targets, ca, cb, 0.5)
    assert pruned[0] == pytest.approx(full[0], rel=1e-12)
    np.testing.assert_allclose(pruned[1], full[1], rtol=1e-10, atol=1e-12)
    assert pruned[2] == full[2]


@pytest.mark.parametrize("n_components", [4, 2])
def test_reused_candidates_stay_exact(n_components):
    # steps from tiny to large: the search reuses its set when the bound allows
    # and rescans otherwise; either way the loss, gradient and active count
    # equal those over every different-class pair
    X, y, targets, a, b = _problem(n_per_class=15)
    rs = np.random.RandomState(0)
    L = np.eye(4)[:n_components]
    search = ImpostorSearch(X, y, targets, max_impostors=10**9, random_state=0,
                             slack=1.2)
    n_calls = 0
    for scale in [1e-3, 1e-2, 0.05, 0.3, 1e-3, 1e-2, 0.1, 1.0] * 3:
        L = L + rs.normal(scale=scale, size=L.shape)
        got = _searched_loss(search, L, X, targets)
        n_calls += 1
        full = lmnn_loss_grad(L, X, targets, a, b, 0.5)
        assert got[0] == pytest.approx(full[0], rel=1e-12)
        np.testing.assert_allclose(got[1], full[1], rtol=1e-10, atol=1e-12)
        assert got[2] == full[2]
    assert 1 < search.n_scans < n_calls  # both paths ran


def test_reuse_bound_counts_samples_without_targets():
    # a singleton class has no targets but is an impostor of everyone: a step
    # that moves only it into another class's margin must trigger a rescan
    rs = np.random.RandomState(0)
    # (many samples, so the mean step that a_i is measured from stays small)
    X = np.vstack([rs.normal(size=(500, 3)) * [10, 10, 0],
                   rs.normal(size=(500, 3)) * [10, 10, 0] + [100, 0, 0],
                   [[0.0, 0.0, 30.0]]])
    y = np.repeat([0, 1, 2], [500, 500, 1])
    targets = find_target_neighbors(X, y, 2)
    a, b = np.nonzero(y[:, None] != y[None, :])
    search = ImpostorSearch(X, y, targets, max_impostors=10**9, random_state=0,
                             slack=1.2)
    for L in (np.eye(3), np.diag([1.0, 1.0, 0.01])):
        got = _searched_loss(search, L, X, targets)
        full = lmnn_loss_grad(L, X, targets, a, b, 0.5)
        assert got[0] == pytest.approx(full[0], rel=1e-12)
        assert got[2] == full[2]
    assert search.n_scans == 2


def test_small_steps_reuse_the_scan():
    X, y, targets, a, b = _problem(n_per_class=15)
    search = ImpostorSearch(X, y, targets, max_impostors=10**9, random_state=0,
                             slack=1.2)
    search(np.eye(4))
    rs = np.random.RandomState(0)
    for _ in range(20):
        search(np.eye(4) + rs.normal(scale=0.01, size=(4, 4)))
    assert search.n_scans == 1


def test_impostor_subsample_is_fixed_and_scaled():
    X, y, targets, a, b = _problem(n_per_class=20)
    search = ImpostorSearch(X, y, targets, max_impostors=200, random_state=5,
                             tile=16)
    ca, cb = search(np.eye(4))
    rate0 = search.rate
    assert 0 < search.rate < 1
    assert search.rate == search.keep / 2**32  # the exact keep probability
    assert ca.shape[0] <= 200
    # one fixed subset of the pairs, whatever L is: each scan keeps the subset's
    # pairs within the margin, and the subset holds about rate * all pairs
    kept = (search.u[:, None] + search.v[None]) % 2**32 < search.keep
    kept &= y[:, None] != y[None]
    for L in (np.eye(4), np.diag([2.0, 1.0, 0.5, 0.1])):
        search._scan(L, X @ L.T, target_terms(X @ L.T, targets)[2])
        expected, _ = _brute_force_candidates(X, y, L, targets, search)
        got = set(zip(search.cand[0].tolist(), search.cand[1].tolist()))
        assert all(kept[i, j] for i, j in got)
        assert expected.issubset(got)
    assert kept.sum() == pytest.approx(rate0 * a.shape[0], rel=0.35)


def test_noise_dimension_is_switched_off():
    # two classes apart along feature 0; feature 1 is wide noise. The optimum
    # keeps feature 0 and (nearly) drops feature 1.
    rs = np.random.RandomState(0)
    y = np.repeat([0, 1], 100)
    X = np.column_stack([2.0 * y + rs.uniform(-0.5, 0.5, 200),
                         rs.normal(scale=10.0, size=200)])
    train, test = np.arange(200) % 2 == 0, np.arange(200) % 2 == 1
    lmnn = LMNN(n_neighbors=3, max_iter=200, random_state=0).fit(X[train], y[train])
    M = lmnn.get_mahalanobis_matrix()
    assert M[1, 1] < 0.05 * M[0, 0]
    knn = KNeighborsClassifier(3)
    euclid = knn.fit(X[train], y[train]).score(X[test], y[test])
    learned = knn.fit(lmnn.transform(X[train]), y[train]).score(
        lmnn.transform(X[test]), y[test])
    assert euclid < 0.95 and learned == 1.0


def test_iris_accuracy_and_attributes():
    X, y = load_iris(return_X_y=True)
    lmnn = LMNN(random_state=0).fit(X, y)
    assert lmnn.components_.shape == (4, 4)
    assert 1 <= lmnn.n_iter_ <= lmnn.max_iter
    assert lmnn.opt_result_.nit == lmnn.n_iter_
    assert len(pickle.dumps(lmnn)) < 20_000  # no L-BFGS memory kept
    assert lmnn.impostor_sampling_rate_ == 1.0
    knn = KNeighborsClassifier(3)
    acc = knn.fit(lmnn.transform(X), y).score(lmnn.transform(X), y)
    assert acc >= knn.fit(X, y).score(X, y)  # Euclidean: 0.96


@pytest.mark.parametrize("init", ["auto", "pca", "lda", "identity", "random"])
def test_inits_and_n_components(init):
    X, y = load_iris(return_X_y=True)
    r = 2
    lmnn = LMNN(n_components=r, init=init, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lmnn.fit(X, y)
    assert lmnn.components_.shape == (r, 4)
    assert lmnn.transform(X).shape == (150, r)


def test_array_init_and_errors():
    X, y = load_iris(return_X_y=True)
    L0 = np.eye(4)[:2]
    lmnn = LMNN(n_components=2, init=L0, max_iter=1).fit(X, y)
    assert lmnn.components_.shape == (2, 4)
    msg = "init must have shape (3, 4) (n_components, n_features), got (2, 4)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        LMNN(n_components=3, init=L0).fit(X, y)
    msg = "n_components (5) cannot be greater than n_features (4)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        LMNN(n_components=5).fit(X, y)
    msg = "init='lda' needs n_components (3) <= min(n_features, n_classes - 1) (2)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        LMNN(n_components=3, init="lda").fit(X, y)


def test_small_and_singleton_classes():
    X, y = load_iris(return_X_y=True)
    X, y = X[:103], y[:103]  # class 2 has 3 samples: 2 target neighbours each
    y = y.copy()
    y[-1] = 7  # a singleton class: no target neighbours, still an impostor
    targets = find_target_neighbors(X, np.unique(y, return_inverse=True)[1], 3)
    assert np.all(targets[-1] == -1)
    assert np.all(targets[100:102, 2] == -1) and np.all(targets[100:102, :1] >= 0)
    with pytest.warns(UserWarning, match=re.escape(
            "n_neighbors=3 needs 4 samples per class; these classes use all their "
            "other members as targets (a singleton none): 2 (2), 7 (1).")):
        lmnn = LMNN(max_iter=10).fit(X, y)
    assert np.all(np.isfinite(lmnn.components_))
    msg = ("LMNN needs a class with at least 2 samples to have target neighbours; "
           "every one of the 3 classes has 1.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        LMNN().fit(load_iris().data[[0, 60, 120]], [0, 1, 2])


def test_single_class_raises():
    X, _ = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="class"):
        LMNN().fit(X[:20], np.zeros(20))


def test_convergence_warning_and_callback():
    X, y = load_iris(return_X_y=True)
    seen = []
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        LMNN(max_iter=2, callback=lambda L, it: seen.append((L.shape, it))).fit(X, y)
    assert seen == [((4, 4), 1), ((4, 4), 2)]


def test_same_seed_same_result_and_thread_independence():
    X, y = make_blobs_data(n_per_class=30, n_classes=4, n_features=5,
                           noise_dims=1, random_state=1)
    kw = dict(max_iter=15, init="random", max_impostors=300, random_state=3)
    with threadpool_limits(1, "blas"):
        a = LMNN(**kw, n_jobs=1).fit(X, y).components_
    b = LMNN(**kw, n_jobs=2).fit(X, y).components_
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    c = LMNN(**kw, n_jobs=1).fit(X, y).components_
    np.testing.assert_array_equal(a, c)


def test_warm_start_continues_from_previous_solution():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = LMNN(max_iter=3, warm_start=True).fit(X, y)
        L1 = first.components_.copy()
        seen = []
        first.set_params(callback=lambda L, it: seen.append(L.copy()), max_iter=1)
        first.fit(X, y)
    # the first iterate of the second fit starts from L1, not from 'auto'
    cold = LMNN(max_iter=1).fit(X, y).components_
    assert not np.allclose(first.components_, cold)
    assert np.linalg.norm(seen[0] - L1) < np.linalg.norm(seen[0] - np.eye(4))


def test_float32_kept():
    X, y = load_iris(return_X_y=True)
    lmnn = LMNN(max_iter=5).fit(X.astype(np.float32), y)
    assert lmnn.components_.dtype == np.float32
    assert lmnn.transform(X.astype(np.float32)).dtype == np.float32


def test_float32_bounds_round_down():
    from mlearn._kernels._lmnn import _round_down_f32

    x = np.concatenate([np.random.RandomState(0).lognormal(0, 20, 10_000),
                        [0.0, 1e-45, 3.40282345e38, 1e300]])
    r = np.array([_round_down_f32(v) for v in x], dtype=np.float64)
    assert np.all(r.astype(np.float32) == r)  # float32 values
    assert np.all(np.isfinite(r))
    assert np.all(r.astype(np.float64) <= x)
    normal = (x > 1e-37) & (x < 2.0**127)
    np.testing.assert_allclose(r[normal], x[normal], rtol=3e-7)


def test_every_scan_holds_the_cap():
    X, y, targets, a, b = _problem(n_per_class=20)
    first = ImpostorSearch(X, y, targets, max_impostors=10**9, tile=16)
    cap = first(np.eye(4))[0].shape[0] + 5
    assert cap < a.shape[0] / 2
    search = ImpostorSearch(X, y, targets, max_impostors=cap, random_state=0,
                            tile=16)
    search(np.eye(4))  # under the cap: exact
    assert search.rate == 1.0
    L = 0.05 * np.eye(4)  # collapsed: every pair is inside the margin
    search._scan(L, X @ L.T, target_terms(X @ L.T, targets)[2])
    assert 0 < search.rate < 1
    assert search.cand[0].shape[0] <= cap
    assert search.peak_candidates <= cap
    expected, _ = _brute_force_candidates(X, y, L, targets, search)
    got = set(zip(search.cand[0].tolist(), search.cand[1].tolist()))
    assert expected.issubset(got)


def test_fit_restarts_when_the_rate_drops():
    X, y = make_blobs_data(n_per_class=40, n_classes=3, noise_dims=2)
    lmnn = LMNN(init=np.diag([0.3, 0.3, 0.3, 0.3, 3.0, 3.0]), max_impostors=300,
                max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lmnn.fit(X, y)
    assert lmnn.n_impostor_candidates_ <= 300
    assert lmnn.impostor_sampling_rate_ < 1
    assert np.all(np.isfinite(lmnn.components_)) and lmnn.n_iter_ > 0
