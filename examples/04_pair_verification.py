# %% [markdown]
"""
Weakly-supervised pair verification with a calibrated threshold
===============================================================

Sometimes labels are only known for pairs: "these two are the same person",
"these two are not". A pairs learner (here ``ITMLPairs``) learns the metric
from such pairs and then classifies new pairs as similar (+1) when their
distance is below ``threshold_``. The threshold can be calibrated on held-out
pairs for a chosen criterion, and ``predict_proba`` gives a probability.
Pairs can be given as indices into the data with ``preprocessor=X``.
"""

# %%
# requires: mlearn.ITMLPairs
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import accuracy_score, confusion_matrix

from mlearn import ITMLPairs

X, digit = load_digits(return_X_y=True)
X = PCA(n_components=20, random_state=0).fit_transform(X)
X /= X.std()
rng = np.random.RandomState(0)


def sample_pairs(n, idx):
    """Half similar (same digit), half dissimilar index pairs from ``idx``."""
    a = rng.choice(idx, size=20 * n)
    b = rng.choice(idx, size=20 * n)
    same = digit[a] == digit[b]
    sim = np.flatnonzero(same & (a != b))[: n // 2]
    dis = np.flatnonzero(~same)[: n // 2]
    keep = np.r_[sim, dis]
    return np.column_stack([a[keep], b[keep]]), np.where(same[keep], 1, -1)


order = rng.permutation(len(X))
train_idx, valid_idx, test_idx = np.split(order, [900, 1300])
pairs_train, y_train = sample_pairs(600, train_idx)
pairs_valid, y_valid = sample_pairs(400, valid_idx)
pairs_test, y_test = sample_pairs(400, test_idx)

# %%
est = ITMLPairs(preprocessor=X, random_state=0).fit(pairs_train, y_train)
print("ROC-AUC on test pairs:", round(est.score(pairs_test, y_test), 3))
print("threshold fitted on the training pairs:", round(est.threshold_, 3))

# %% [markdown]
# Calibrating the threshold
# -------------------------
#
# ``fit`` sets ``threshold_`` for accuracy on the training pairs. On held-out
# pairs we may prefer another operating point: F-beta weighting recall
# (``beta=2``), the highest true-negative rate that still accepts 95 % of the
# similar pairs (``max_tnr``), or the highest true-positive rate that rejects
# 99 % of the dissimilar ones (``max_tpr``).

# %%
for strategy, kw in [("accuracy", {}), ("f_beta", {"beta": 2.0}),
                     ("max_tnr", {"min_rate": 0.95}),
                     ("max_tpr", {"min_rate": 0.99})]:
    est.calibrate_threshold(pairs_valid, y_valid, strategy=strategy, **kw)
    pred = est.predict(pairs_test)
    tn, fp, fn, tp = confusion_matrix(y_test, pred, labels=[-1, 1]).ravel()
    print(f"{strategy:>9}: threshold {est.threshold_:.3f}  accuracy "
          f"{accuracy_score(y_test, pred):.3f}  TPR {tp / (tp + fn):.3f}  "
          f"TNR {tn / (tn + fp):.3f}")

# %% [markdown]
# Probabilities
# -------------
#
# ``predict_proba`` is a sigmoid of the distance (Platt scaling), refitted by
# ``calibrate_threshold``; columns are P(−1) and P(+1).

# %%
proba = est.predict_proba(pairs_test)
for lo, hi in [(0.0, 0.2), (0.2, 0.8), (0.8, 1.0)]:
    sel = (proba[:, 1] >= lo) & (proba[:, 1] <= hi)
    if sel.any():
        print(f"P(similar) in [{lo}, {hi}]: {sel.sum():4d} pairs, "
              f"{np.mean(y_test[sel] == 1):.2f} truly similar")
