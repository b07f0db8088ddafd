import re
import warnings

import numpy as np
import pytest
from scipy.optimize import check_grad
from scipy.special import logsumexp
from sklearn.datasets import load_iris, make_classification
from sklearn.neighbors import KNeighborsClassifier, NeighborhoodComponentsAnalysis
from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import make_blobs_data
from mlearn import NCA
from mlearn._kernels._softmax import _exp_nonpositive
from mlearn._nca import nca_loss_grad
from mlearn.utils._sklearn_compat import ConvergenceWarning


def _problem(n=30, d=4, r=3, n_classes=3, scale=0.7, seed=0):
    rs = np.random.RandomState(seed)
    X = rs.normal(size=(n, d))
    y = rs.randint(n_classes, size=n)
    X += y[:, None] * 0.5
    L = rs.normal(size=(r, d)) * scale
    return X, y, L


def _naive_loss_grad(L, X, y):
    """Goldberger et al.'s formulas, one pair at a time (paper's eq. 1 and 5,
    with the stable shift by the row's smallest distance)."""
    n = X.shape[0]
    loss = 0.0
    grad = np.zeros_like(L)
    for i in range(n):
        d = np.array([np.sum((L @ (X[i] - X[k])) ** 2) if k != i else np.inf
                      for k in range(n)])
        p = np.exp(-d - logsumexp(-d))
        p_i = sum(p[j] for j in range(n) if y[j] == y[i])
        loss -= p_i
        first = np.zeros((X.shape[1], X.shape[1]))
        second = np.zeros_like(first)
        for k in range(n):
            if k == i:
                continue
            outer = np.outer(X[i] - X[k], X[i] - X[k])
            first += p[k] * outer
            if y[k] == y[i]:
                second += p[k] * outer
        grad -= 2.0 * L @ (p_i * first - second)
    return loss, grad


@pytest.mark.parametrize("block_size", [None, 1, 7, 30])
def test_loss_and_gradient_equal_naive_loop(block_size):
    X, y, L = _problem()
    loss, grad = nca_loss_grad(L, X, y, block_size=block_size)
    ref_loss, ref_grad = _naive_loss_grad(L, X, y)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-12)


def test_gradient_check_grad():
    X, y, L = _problem(n=40, d=5, r=3)

    def f(w):
        return nca_loss_grad(w.reshape(L.shape), X, y, block_size=9)[0]

    def g(w):
        return nca_loss_grad(w.reshape(L.shape), X, y, block_size=9)[1].ravel()

    grad_norm = np.linalg.norm(g(L.ravel()))
    assert grad_norm > 1e-2
    assert check_grad(f, g, L.ravel()) < 1e-6 * max(grad_norm, 1.0)


def test_stable_when_every_distance_is_huge():
    # distances ~1e4: exp(−d) underflows to 0 for every pair without the shift
    X, y, L = _problem(n=20)
    L = L * 30
    loss, grad = nca_loss_grad(L, X, y)
    ref_loss, ref_grad = _naive_loss_grad(L, X, y)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    # the true gradient is ~1e-130: compare on the scale of its terms
    scale = X.shape[0] * np.abs(L).max() * np.abs(X).max() ** 2
    np.testing.assert_allclose(grad, ref_grad, rtol=0, atol=1e-13 * scale)


def test_vectorised_exponential_matches_numpy():
    v = -np.concatenate([np.linspace(0, 750, 20001), np.logspace(-12, 2, 500)])
    ours = np.array([_exp_nonpositive(x) for x in v])
    ref = np.exp(np.maximum(v, -708.0))
    # fastmath may reassociate the two-part reduction v − k·ln2, which costs up
    # to |v|·eps of relative accuracy (< 1e-13 for |v| <= 708)
    np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=0)
    small = np.abs(v) < 1
    np.testing.assert_allclose(ours[small], ref[small], rtol=4e-16, atol=0)


def test_fit_follows_scikit_learns_path():
    # same objective, same start, same L-BFGS-B settings: the same iterates
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = NCA(n_components=2, max_iter=15, random_state=0).fit(X, y)
        ref = NeighborhoodComponentsAnalysis(n_components=2, max_iter=15,
                                             random_state=0).fit(X, y)
    np.testing.assert_allclose(ours.components_, ref.components_, rtol=1e-6,
                               atol=1e-8 * np.abs(ref.components_).max())


def test_improves_knn_over_noise_dimensions():
    # 4 informative features among 20
    X, y = make_classification(n_samples=400, n_features=20, n_informative=4,
                               n_redundant=0, n_classes=3, random_state=1)
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # NCA's softmax is scale-sensitive
    test = np.random.RandomState(0).rand(X.shape[0]) < 0.3
    knn = KNeighborsClassifier(n_neighbors=3)
    base = knn.fit(X[~test], y[~test]).score(X[test], y[test])
    nca = NCA(random_state=0).fit(X[~test], y[~test])
    Ztr, Zte = nca.transform(X[~test]), nca.transform(X[test])
    learned = knn.fit(Ztr, y[~test]).score(Zte, y[test])
    assert learned > base + 0.08


def test_float32_keeps_dtype_and_result(dtype):
    X, y = make_blobs_data(n_per_class=10)
    nca = NCA(max_iter=10, random_state=0).fit(X.astype(dtype), y)
    assert nca.components_.dtype == dtype
    assert nca.transform(X.astype(dtype)).dtype == dtype


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_seed_same_result_random_init():
    X, y = make_blobs_data(n_per_class=10)
    a = NCA(init="random", max_iter=5, random_state=3).fit(X, y).components_
    b = NCA(init="random", max_iter=5, random_state=3).fit(X, y).components_
    c = NCA(init="random", max_iter=5, random_state=4).fit(X, y).components_
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_warm_start_and_callback():
    X, y, _ = _problem(n=60, d=4)
    seen = []
    nca = NCA(max_iter=3, warm_start=True, random_state=0,
              callback=lambda L, it: seen.append((L.shape, it)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        nca.fit(X, y)
        first = nca.components_.copy()
        assert nca.n_iter_ == 3
        assert seen == [((4, 4), 1), ((4, 4), 2), ((4, 4), 3)]
        loss_first = nca.opt_result_.fun
        nca.fit(X, y)
    # the second fit starts where the first stopped, so its loss is lower still
    assert nca.opt_result_.fun <= loss_first
    assert not np.array_equal(nca.components_, first)


def test_convergence_warning_at_max_iter():
    X, y = make_blobs_data(n_per_class=15, noise_dims=2)
    with pytest.warns(ConvergenceWarning, match=re.escape("max_iter=2")):
        NCA(max_iter=2, random_state=0).fit(X, y)


def test_bad_input():
    X, y = make_blobs_data(n_per_class=5)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        NCA().fit(Xn, y)
    with pytest.raises(ValueError, match="y has a single class"):
        NCA().fit(X, np.zeros(X.shape[0], dtype=int))
    msg = "n_components (5) cannot be greater than n_features (4)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        NCA(n_components=5).fit(X, y)
    msg = "init must have shape (2, 4) (n_components, n_features), got (3, 4)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        NCA(n_components=2, init=np.eye(3, 4)).fit(X, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        NCA().fit(X, np.linspace(0, 1, X.shape[0]))


@parametrize_with_checks([NCA(max_iter=5, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_threads_do_not_change_the_result():
    X, y, _ = _problem(n=300, d=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = NCA(max_iter=5, random_state=0).fit(X, y)
        two = NCA(max_iter=5, random_state=0, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(one.components_, two.components_)
    # blocks of 64 rows: 5 blocks over 4 lanes
    L = np.random.RandomState(0).normal(size=(3, 5))
    loss1, grad1 = nca_loss_grad(L, X, y, block_size=64, n_threads=1)
    loss3, grad3 = nca_loss_grad(L, X, y, block_size=64, n_threads=3)
    assert loss1 == loss3
    np.testing.assert_array_equal(grad1, grad3)


@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_sparse_and_dense_weight_products_agree(monkeypatch, scale):
    # scale 3: most weights are exactly 0 (the sparse path's regime)
    import mlearn.utils._softmax as softmax

    X, y, L = _problem(n=200, d=5, r=4, scale=scale)
    monkeypatch.setattr(softmax, "_SPARSE", 0.0)
    dense = nca_loss_grad(L, X, y, block_size=64)
    monkeypatch.setattr(softmax, "_SPARSE", 1.0)
    sparse = nca_loss_grad(L, X, y, block_size=64)
    assert sparse[0] == dense[0]
    np.testing.assert_allclose(sparse[1], dense[1], rtol=1e-12,
                               atol=1e-14 * np.abs(dense[1]).max())
    ref = _naive_loss_grad(L, X, y)
    assert dense[0] == pytest.approx(ref[0], rel=1e-12)


@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0, 30.0])
@pytest.mark.parametrize("block_size,n_threads", [(None, 1), (64, 3)])
def test_float32_screening_gives_the_float64_objective(scale, block_size, n_threads):
    # float32 screening lists every pair the float64 softmax keeps and
    # recomputes their distances in float64: the same loss and gradient
    X, y, L = _problem(n=700, d=6, r=4, scale=scale)
    ref = nca_loss_grad(L, X, y, block_size=block_size)
    got = nca_loss_grad(L, X, y, block_size=block_size, n_threads=n_threads,
                        screen="float32")
    assert got[0] == pytest.approx(ref[0], rel=1e-13)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-10,
                               atol=1e-12 * np.abs(ref[1]).max())


def test_float32_screening_any_nearest_hint_and_huge_values(monkeypatch):
    import mlearn.utils._softmax as softmax
    from mlearn._nca import _nca_loss_grad
    from mlearn.utils._softmax import centred

    X, y, L = _problem(n=300, d=5, r=5, scale=4.0)
    ref = nca_loss_grad(L, X, y)
    rs = np.random.RandomState(1)
    # the hint only seeds each row's threshold (any neighbour's distance is an
    # upper bound on the smallest): a wrong one changes nothing
    for hint in (np.full(300, -1), rs.randint(300, size=300),
                 (np.arange(300) + 1) % 300):
        nearest = hint.astype(np.intp)
        loss, grad, density = _nca_loss_grad(L, centred(X), y, 64, 1, "float32",
                                             nearest)
        assert loss == pytest.approx(ref[0], rel=1e-13)
        np.testing.assert_allclose(grad, ref[1], rtol=1e-10,
                                   atol=1e-12 * np.abs(ref[1]).max())
        assert 0 < density < 1
    # the returned hint is each sample's nearest neighbour
    Z = (X - X.mean(axis=0)) @ L.T
    D = ((Z[:, None] - Z[None]) ** 2).sum(-1)
    np.fill_diagonal(D, np.inf)
    np.testing.assert_array_equal(nearest, D.argmin(axis=1))
    # squared norms beyond float32's range: the float64 path, same result
    monkeypatch.setattr(softmax, "_FLOAT32_SAFE", 1e-3)
    loss, grad, _ = _nca_loss_grad(L, centred(X), y, 64, 1, "float32", None)
    ref = nca_loss_grad(L, X, y, block_size=64)
    assert loss == ref[0]
    np.testing.assert_array_equal(grad, ref[1])


def test_coarse_start(monkeypatch):
    import mlearn._nca as nca_module

    X, y = make_classification(n_samples=1200, n_features=8, n_informative=4,
                               n_classes=3, random_state=0)
    monkeypatch.setattr(nca_module, "_COARSE_MIN", 1000)
    monkeypatch.setattr(nca_module, "_COARSE_SIZE", 400)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        full = NCA(coarse_start=False, random_state=0).fit(X, y)
        coarse = NCA(random_state=0).fit(X, y)
        again = NCA(random_state=0).fit(X, y)
    assert full.coarse_samples_ is None
    # no smaller subsample to start from: a plain fit
    small = NCA(coarse_start=True, max_iter=3).fit(X[:300], y[:300])
    assert small.coarse_samples_ is None
    # 'auto' above _COARSE_MIN: a subsample of max(_COARSE_SIZE, n / 8)
    assert coarse.coarse_samples_ == pytest.approx(400, abs=3)
    np.testing.assert_array_equal(coarse.components_, again.components_)
    # the same objective on all samples, at a point close to the plain fit's
    # (another local optimum: 1082 against 1106 expected correct here)
    assert coarse.opt_result_.fun <= full.opt_result_.fun + 0.05 * X.shape[0]
    assert coarse.opt_result_.fun < NCA(max_iter=1, coarse_start=False).fit(
        X, y).opt_result_.fun
    loss, grad = nca_loss_grad(coarse.components_, X, y)
    assert loss == pytest.approx(coarse.opt_result_.fun, rel=1e-9)
    # every class is in the subsample, in proportion
    codes = np.repeat([0, 1, 2], [500, 95, 5])
    idx = nca_module._stratified_subsample(codes, 60, np.random.RandomState(0))
    assert np.bincount(codes[idx]).tolist() == [50, 10, 2]
    assert np.unique(idx).size == idx.size
    # recursive: a subsample above _COARSE_MIN starts from a smaller one
    monkeypatch.setattr(nca_module, "_COARSE_MIN", 100)
    monkeypatch.setattr(nca_module, "_COARSE_SIZE", 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        nested = NCA(random_state=0, max_iter=30).fit(X, y)
    assert nested.coarse_samples_ == pytest.approx(150, abs=3)
