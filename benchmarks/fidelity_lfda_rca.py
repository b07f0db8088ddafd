"""mlearn's LFDA and RCA against metric-learn 0.7 and dense formulas of the papers.

Prints, per set, the largest difference of pairwise distances after
``transform`` (relative to the largest distance):

* LFDA: mlearn vs a dense numpy version of Sugiyama's formulas (n × n weights);
  metric-learn vs the same formulas, and vs the formulas with metric-learn's two
  deviations (its local scale read from column k of a partitioned distance
  matrix; ``S_b + 2 S_w`` in place of ``S_b``), which reproduce it to round-off.
  And mlearn's ``variant='metric_learn'`` (what ``mlearn.compat.metric_learn``
  uses) vs metric-learn.
* RCA: mlearn vs metric-learn on the same chunklets, all components and
  ``n_components=3`` (metric-learn's cFLD), where metric-learn's result is finite.

Run where metric-learn 0.7 works (scikit-learn 1.7)::

    PYTHONPATH=. /path/to/venv/bin/python benchmarks/fidelity_lfda_rca.py
"""

import sys
import warnings

import numpy as np
from bench_estimators import DATASETS, split
from scipy.linalg import eigh
from sklearn.datasets import load_iris, load_wine
from sklearn.metrics import pairwise_distances


def _rel(A, B):
    return float(np.abs(A - B).max() / B.max())


def dense_lfda(X, y, k, embedding_type, metric_learn_deviations=False):
    """The paper's embedding from explicit pair sums, class by class."""
    n, d = X.shape
    S_w, S_m = np.zeros((d, d)), np.zeros((d, d))
    for c in np.unique(y):
        Xc = X[y == c]
        D = pairwise_distances(Xc, squared=True)
        if metric_learn_deviations:
            sigma = np.sqrt(np.partition(D, k, axis=0)[:, k])
        else:
            sigma = np.sqrt(np.sort(D, axis=0)[k, :])
        scale = np.outer(sigma, sigma)
        with np.errstate(divide="ignore", invalid="ignore"):
            A = np.exp(-D / scale)
        A[scale == 0] = 0.0
        diff = Xc[:, None, :] - Xc[None, :, :]
        G = 0.5 * np.einsum("ij,ijk,ijl->kl", A, diff, diff)
        S_w += G / Xc.shape[0]
        S_m += G / n
    for i in range(n):
        diff = X[i] - X[y != y[i]]
        S_m += diff.T @ diff / (2 * n)
    S_b = S_m + S_w if metric_learn_deviations else S_m - S_w
    lam, V = eigh(S_b, S_w)
    lam, V = lam[::-1], V[:, ::-1]
    if embedding_type == "weighted":
        V = V * np.sqrt(np.clip(lam, 0.0, None))
    return V.T


def lfda_table():
    from metric_learn import LFDA as MLLFDA

    from mlearn import LFDA

    print("| set | embedding | mlearn vs paper | metric-learn vs paper | "
          "metric-learn vs paper with its 2 deviations | "
          "mlearn variant='metric_learn' vs metric-learn |")
    print("|---|---|---|---|---|---|")
    for name, load in (("iris", load_iris), ("wine", load_wine)):
        X, y = load(return_X_y=True)
        k = min(7, X.shape[1] - 1)
        for et in ("weighted", "plain"):
            D_ml = pairwise_distances(MLLFDA(embedding_type=et).fit(X, y).transform(X))
            D_me = pairwise_distances(
                LFDA(k=None, embedding_type=et).fit(X, y).transform(X))
            D_paper = pairwise_distances(X @ dense_lfda(X, y, k, et).T)
            D_dev = pairwise_distances(X @ dense_lfda(X, y, k, et, True).T)
            D_var = pairwise_distances(LFDA(k=None, embedding_type=et,
                                            variant="metric_learn")
                                       .fit(X, y).transform(X))
            print(f"| {name} | {et} | {_rel(D_me, D_paper):.1e} | "
                  f"{_rel(D_ml, D_paper):.2f} | {_rel(D_ml, D_dev):.1e} | "
                  f"{_rel(D_var, D_ml):.1e} |")


def rca_table():
    from metric_learn import RCA as MLRCA

    from mlearn import RCA, Constraints

    print("| set | n x d | rank | n_components | mlearn vs metric-learn |")
    print("|---|---|---|---|---|")
    sets = dict(DATASETS, iris=lambda: load_iris(return_X_y=True))
    for name, load in sets.items():
        X, y = load()
        Xtr, Xte, ytr, _ = split(np.asarray(X, dtype=float), np.asarray(y))
        n_chunks = int(min(100, sum(c // 2 for c in np.bincount(ytr))))
        chunks = Constraints(ytr).chunks(n_chunks, 2, random_state=0)
        for m in (None, 3):
            ours = RCA(n_components=m).fit(Xtr, chunks)
            theirs = MLRCA(n_components=m).fit(Xtr, chunks)
            if np.all(np.isfinite(theirs.components_)):
                err = _rel(pairwise_distances(ours.transform(Xte)),
                           pairwise_distances(theirs.transform(Xte)))
                cell = f"{err:.1e}"
            else:
                cell = "metric-learn NaN"
            print(f"| {name} | {X.shape[0]}x{X.shape[1]} | {ours.rank_} | {m} | "
                  f"{cell} |")


def main():
    warnings.simplefilter("ignore")
    lfda_table()
    print()
    rca_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
