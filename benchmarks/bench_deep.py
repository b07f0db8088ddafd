"""Deep head on digits: retrieval quality and fit time per loss.

Protocol of the deep-head issue: scikit-learn's digits (8x8), stratified 70/30
split, StandardScaler fitted on the training part, the default MLP (64-256-32)
trained by ``DeepMetricEmbedding`` for ``--epochs`` epochs on the CPU with one
thread; test-set precision@1 and MAP@R (Musgrave et al. 2020, test set as its
own reference set), beside the raw-pixel and standardised-pixel baselines and
the linear learners measured in the same run.

    PYTHONPATH=. python benchmarks/bench_deep.py [--epochs 20] [--losses ...]
"""

import argparse
import platform
import time

import torch
from sklearn import __version__ as sk_version
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mlearn import KISSME, LMNN, MMC
from mlearn.deep import LOSSES, DeepMetricEmbedding
from mlearn.metrics import mean_average_precision_at_r, precision_at_1

# class-vector losses train their proxies/weights faster (ProxyAnchor's paper: 100x)
LOSS_LR_MULTIPLIER = {"proxy_anchor": 100.0, "proxy_nca": 10.0, "soft_triple": 10.0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--losses", nargs="*", default=sorted(LOSSES))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=0)
    scaler = StandardScaler().fit(X_tr)
    S_tr, S_te = scaler.transform(X_tr), scaler.transform(X_te)

    print(f"# bench_deep: python {platform.python_version()}, "
          f"torch {torch.__version__},"
          f" scikit-learn {sk_version}, {platform.machine()}, 1 torch thread")
    print(f"# digits 70/30 (train {len(y_tr)}, test {len(y_te)}), default MLP "
          f"64-256-32, {args.epochs} epochs, batch 128 (m=4 per class), Adam lr 1e-3,"
          f" seed {args.seed}")
    print()
    print("| embedding | loss | fit (s) | test P@1 | test MAP@R |")
    print("|---|---|---|---|---|")

    def row(name, loss, seconds, Z):
        t = "-" if seconds is None else f"{seconds:.2f}"
        print(f"| {name} | {loss} | {t} | {precision_at_1(Z, y_te):.4f} | "
              f"{mean_average_precision_at_r(Z, y_te):.4f} |", flush=True)

    # untimed warm-up: torch's first-call costs are not in the timings
    DeepMetricEmbedding(max_epochs=1, random_state=0).fit(S_tr[:200], y_tr[:200])
    LMNN(max_iter=2).fit(S_tr[:200], y_tr[:200])
    row("raw pixels", "-", None, X_te)
    row("standardised pixels", "-", None, S_te)
    for Est in (KISSME, MMC, LMNN):
        t0 = time.perf_counter()
        est = Est().fit(S_tr, y_tr) if Est is not LMNN else Est(max_iter=200).fit(
            S_tr, y_tr)
        row(f"linear: {Est.__name__}", "-", time.perf_counter() - t0,
            est.transform(S_te))
    for loss in args.losses:
        est = DeepMetricEmbedding(loss=loss, max_epochs=args.epochs,
                                  loss_lr_multiplier=LOSS_LR_MULTIPLIER.get(loss, 1.0),
                                  random_state=args.seed)
        t0 = time.perf_counter()
        est.fit(S_tr, y_tr)
        row("deep MLP", loss, time.perf_counter() - t0, est.transform(S_te))


if __name__ == "__main__":
    main()
