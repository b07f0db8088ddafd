# %% [markdown]
"""
KISSME for verification: ROC of "same digit?" on pairs of digits
================================================================

KISSME (Köstinger et al., 2012) was built for face verification: decide
whether two images show the same person. Its metric is the log-likelihood ratio
of two Gaussians fitted to the differences of similar and of dissimilar pairs,
``M = Σ_S⁻¹ − Σ_D⁻¹``, in closed form. Here it verifies pairs of digits and is
compared with the Euclidean distance by ROC curves and by the histograms of
similar and dissimilar pair distances (the paper's figure 1).
"""

# %%
# requires: mlearn.KISSMEPairs
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import RocCurveDisplay, roc_auc_score

from mlearn import KISSMEPairs, paired_mahalanobis
from mlearn.plotting import plot_pair_distances

X, digit = load_digits(return_X_y=True)
X = PCA(n_components=30, random_state=0).fit_transform(X)
rng = np.random.RandomState(0)


def sample_pairs(n, idx):
    a, b = rng.choice(idx, size=(2, 6 * n))
    same = digit[a] == digit[b]
    keep = np.r_[np.flatnonzero(same & (a != b))[: n // 2],
                 np.flatnonzero(~same)[: n // 2]]
    return np.stack([X[a[keep]], X[b[keep]]], axis=1), np.where(same[keep], 1, -1)


order = rng.permutation(len(X))
pairs_train, y_train = sample_pairs(2000, order[:1200])
pairs_test, y_test = sample_pairs(1000, order[1200:])

# %%
kissme = KISSMEPairs().fit(pairs_train, y_train)
d_euclid = paired_mahalanobis(pairs_test[:, 0], pairs_test[:, 1],
                              M=np.eye(X.shape[1]))
d_kissme = kissme.pair_distance(pairs_test)
print(f"ROC-AUC  Euclidean: {roc_auc_score(y_test, -d_euclid):.3f}   "
      f"KISSME: {roc_auc_score(y_test, -d_kissme):.3f}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
RocCurveDisplay.from_predictions(y_test, -d_euclid, name="Euclidean", ax=axes[0])
RocCurveDisplay.from_predictions(y_test, -d_kissme, name="KISSME", ax=axes[0])
axes[0].set_title("same digit? ROC")
plot_pair_distances(d_euclid, y_test, ax=axes[1], title="Euclidean")
plot_pair_distances(d_kissme, y_test, ax=axes[2], title="KISSME")
fig.tight_layout()
