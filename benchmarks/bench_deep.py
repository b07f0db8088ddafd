"""Deep head on digits: retrieval quality and fit time per loss.

Protocol of the deep-head issue: scikit-learn's digits (8x8), stratified 70/30
split, StandardScaler fitted on the training part, the default MLP (64-256-32)
trained by ``DeepMetricEmbedding`` for ``--epochs`` epochs on the CPU with one
thread; test-set precision@1 and MAP@R (Musgrave et al. 2020, test set as its
own reference set), beside the raw-pixel and standardised-pixel baselines and
the linear learners measured in the same run.

A second table times one training step (forward and backward from the
embeddings) of the all-triplets loss against a plain-torch replica of
pytorch-metric-learning 2.9's formula (a ``B×B×B`` mask of valid triplets,
gathered distances, mean over the nonzero hinges), and against PML itself when
it is installed, side by side in the same run.

    PYTHONPATH=. python benchmarks/bench_deep.py [--epochs 20] [--losses ...]
    PYTHONPATH=. python benchmarks/bench_deep.py --triplet-step-only
"""

import argparse
import platform
import time
import warnings

import torch
import torch.nn.functional as F
from sklearn import __version__ as sk_version
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mlearn import KISSME, LMNN, MMC
from mlearn.deep import LOSSES, DeepMetricEmbedding, TripletMarginLoss
from mlearn.metrics import mean_average_precision_at_r, precision_at_1

# class-vector losses train their proxies/weights faster (ProxyAnchor's paper: 100x)
LOSS_LR_MULTIPLIER = {"proxy_anchor": 100.0, "proxy_nca": 10.0, "soft_triple": 10.0}


def pml_formula_triplet(emb, labels, margin, smooth):
    """pytorch-metric-learning 2.9's all-triplets loss in plain torch."""
    x = F.normalize(emb, p=2, dim=1)
    mat = torch.cdist(x, x)  # LpDistance(normalize_embeddings=True)
    same = labels[:, None] == labels[None, :]
    pos = same.clone()
    pos.fill_diagonal_(False)
    a, p, n = torch.where(pos[:, :, None] & ~same[:, None, :])  # B³ mask
    z = mat[a, p] - mat[a, n] + margin
    loss = F.softplus(z) if smooth else F.relu(z)
    nonzero = loss > 0  # AvgNonZeroReducer
    return loss[nonzero].mean() if nonzero.any() else loss.sum() * 0.0


def _step_ms(loss_fn, emb, labels, repeat):
    def step():
        e = emb.clone().requires_grad_(True)
        loss_fn(e, labels).backward()

    for _ in range(3):
        step()
    best = float("inf")
    for _ in range(repeat):  # best of `repeat` means of 10 steps
        t0 = time.perf_counter()
        for _ in range(10):
            step()
        best = min(best, (time.perf_counter() - t0) / 10)
    return 1e3 * best


def triplet_step_table(repeat=5):
    try:
        from pytorch_metric_learning import losses as pml_losses
    except ImportError:
        pml_losses = None
    print("| all-triplets step (fwd+bwd, float32, D=32) | mlearn (ms) "
          "| PML formula, plain torch (ms) | formula / mlearn | PML 2.9 (ms) "
          "| PML / mlearn |")
    print("|---|---|---|---|---|---|")
    g = torch.Generator().manual_seed(0)
    cases = [(120, 10, False), (128, 32, False), (128, 4, False), (256, 10, False),
             (120, 10, True)]
    for B, n_classes, smooth in cases:
        emb = torch.randn(B, 32, generator=g)
        labels = torch.arange(B) % n_classes
        margin = 0.05
        ours = _step_ms(TripletMarginLoss(margin=margin, smooth=smooth), emb,
                        labels, repeat)
        ref = _step_ms(lambda e, t: pml_formula_triplet(e, t, margin, smooth),
                       emb, labels, repeat)
        pml = "-"
        pml_ratio = "-"
        if pml_losses is not None:
            t = _step_ms(pml_losses.TripletMarginLoss(margin=margin,
                                                      smooth_loss=smooth),
                         emb, labels, repeat)
            pml, pml_ratio = f"{t:.2f}", f"{t / ours:.1f}x"
        name = (f"B={B}, {n_classes} classes x {B // n_classes}"
                + (", smooth" if smooth else ""))
        print(f"| {name} | {ours:.2f} | {ref:.2f} | {ref / ours:.1f}x | {pml} "
              f"| {pml_ratio} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--losses", nargs="*", default=sorted(LOSSES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--triplet-step-only", action="store_true",
                        help="only the per-step timing of the all-triplets loss")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"# bench_deep: python {platform.python_version()}, "
          f"torch {torch.__version__},"
          f" scikit-learn {sk_version}, {platform.machine()}, 1 torch thread")
    print()
    triplet_step_table()
    print()
    if args.triplet_step_only:
        return

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=0)
    scaler = StandardScaler().fit(X_tr)
    S_tr, S_te = scaler.transform(X_tr), scaler.transform(X_te)

    print(f"# digits 70/30 (train {len(y_tr)}, test {len(y_te)}), default MLP "
          f"64-256-32, {args.epochs} epochs, batch 128 (m_per_class=4: all 10 "
          "classes, 12-13 samples each), Adam lr 1e-3,"
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
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
