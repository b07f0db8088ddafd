"""Side by side: mlearn.compat.metric_learn against metric-learn 0.7.0 on the
same data, constraints and parameters (issue 16), one run, one table.

Protocol as bench_estimators.py (70/30 stratified split, seed 0,
StandardScaler on the training part, 3-NN held-out accuracy in the learned
space). Columns:

- ``M diff``: ``‖M_compat − M_ml‖_F / ‖M_ml‖_F`` on the same training data
  (for the supervised twins the pairs are drawn by each library's own sampler
  with ``random_state=0``; compat's draws metric-learn's pairs).
- ``objective``: the learner's own objective of compat's solution over
  metric-learn's, on metric-learn's problem: MMC ``Σ_D d / √Σ_S d²``
  (higher is better); LMNN metric-learn's plain-hinge objective and mlearn's
  squared-hinge one, each as compat / metric-learn (lower is better).
- ``3-NN``: held-out accuracy, compat and metric-learn.

metric-learn 0.7.0 needs scikit-learn 1.7.x; run in such an environment::

    PYTHONPATH=. /work/venv-ml/bin/python benchmarks/compat_fidelity.py
    PYTHONPATH=. /work/venv-ml/bin/python benchmarks/compat_fidelity.py \
        --learners ITML_Supervised --datasets wine digits

metric-learn's full-matrix MMC takes minutes on breast_cancer (977 s
measured) and more on the larger sets, so MMC rows run on the small sets only
unless ``--datasets`` names others.
"""

import argparse
import pathlib
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_estimators import DATASETS, knn_accuracy, split  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402

DATASETS = {"iris": lambda: load_iris(return_X_y=True), **DATASETS}
DEFAULT_SETS = ["iris", "wine", "breast_cancer", "digits", "digits_pca30",
                "synth_1000x20", "synth_1000x100"]
SMALL_SETS = ["iris", "wine"]


def _m_diff(a, b):
    Ma, Mb = a.get_mahalanobis_matrix(), b.get_mahalanobis_matrix()
    return float(np.linalg.norm(Ma - Mb) / np.linalg.norm(Mb))


def _mmc_objective(M, X, a, b, c, d):
    def sq(i, j):
        V = X[i] - X[j]
        return np.clip(np.einsum("ij,jk,ik->i", V, M, V), 0, None)
    return np.sqrt(sq(c, d)).sum() / np.sqrt(sq(a, b).sum())


def _lmnn_objectives(L, X, y, k=3, mu=0.5):
    """(plain hinge, squared hinge) LMNN objectives of ``L`` with target
    neighbours found in the input space (both libraries' rule)."""
    from sklearn.neighbors import NearestNeighbors

    n = X.shape[0]
    targets = np.zeros((n, k), dtype=int)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        nn = NearestNeighbors(n_neighbors=k).fit(X[idx])
        targets[idx] = idx[nn.kneighbors(return_distance=False)]
    Z = X @ L.T
    sq = np.sum(Z * Z, axis=1)
    D = np.maximum(sq[:, None] + sq[None, :] - 2 * Z @ Z.T, 0)
    plain = squared = pull = 0.0
    for i in range(n):
        other = D[i, y != y[i]]
        for j in targets[i]:
            pull += D[i, j]
            h = np.maximum(1 + D[i, j] - other, 0)
            plain += h.sum()
            squared += (h * h).sum()
    return mu * pull + (1 - mu) * plain, mu * pull + (1 - mu) * squared


def _fit(est, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        est.fit(*args)
    return time.perf_counter() - t0


def run(ds, learner):
    import metric_learn

    from mlearn.compat import metric_learn as compat

    X, y = DATASETS[ds]()
    Xtr, Xte, ytr, yte = split(np.asarray(X, dtype=np.float64), np.asarray(y))
    ml_est = getattr(metric_learn, learner)(random_state=0) if learner != \
        "Covariance" else metric_learn.Covariance()
    c_est = getattr(compat, learner)(random_state=0) if learner != \
        "Covariance" else compat.Covariance()
    t_ml = _fit(ml_est, Xtr, ytr)
    t_c = _fit(c_est, Xtr, ytr)
    acc_ml = knn_accuracy(ml_est.transform(Xtr), ml_est.transform(Xte), ytr, yte)
    acc_c = knn_accuracy(c_est.transform(Xtr), c_est.transform(Xte), ytr, yte)
    objective = "-"
    if learner == "MMC_Supervised":
        n_con = 20 * np.unique(ytr).shape[0] ** 2
        abcd = metric_learn.Constraints(ytr).positive_negative_pairs(
            n_con, random_state=0)
        f_c = _mmc_objective(c_est.get_mahalanobis_matrix(), Xtr, *abcd)
        f_ml = _mmc_objective(ml_est.get_mahalanobis_matrix(), Xtr, *abcd)
        objective = f"{f_c / f_ml:.4f}"
    if learner == "LMNN":
        p_c, s_c = _lmnn_objectives(c_est.components_, Xtr, ytr)
        p_ml, s_ml = _lmnn_objectives(ml_est.components_, Xtr, ytr)
        objective = f"hinge {p_c / p_ml:.3f}, sq. hinge {s_c / s_ml:.3f}"
    return (_m_diff(c_est, ml_est), objective, acc_c, acc_ml, t_c, t_ml)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", nargs="*",
                        default=["Covariance", "ITML_Supervised",
                                 "MMC_Supervised", "LMNN"])
    parser.add_argument("--datasets", nargs="*", choices=sorted(DATASETS))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", FutureWarning)  # metric-learn on sklearn 1.7
    import metric_learn
    import sklearn

    print(f"# compat_fidelity: metric-learn {metric_learn.__version__}, "
          f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    print("| dataset | learner | M diff | objective compat/ml | 3-NN compat | "
          "3-NN metric-learn | Δ pt | fit compat (s) | fit ml (s) |")
    print("|" + "---|" * 9)
    for learner in args.learners:
        sets = args.datasets or (SMALL_SETS if learner.startswith("MMC")
                                 else DEFAULT_SETS)
        for ds in sets:
            m, obj, a_c, a_ml, t_c, t_ml = run(ds, learner)
            print(f"| {ds} | {learner} | {m:.2e} | {obj} | {a_c:.4f} | {a_ml:.4f} | "
                  f"{100 * (a_c - a_ml):+.1f} | {t_c:.2f} | {t_ml:.2f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
