# %% [markdown]
"""
Learning from triplets: SCMLTriplets on digits
==============================================

Some supervision comes as relative comparisons — "image *b* looks more like
*a* than *c* does" — rather than as labels. :class:`mlearn.SCMLTriplets`
learns from such triplets ``(a, b, c)`` a metric ``M = Σ wᵢ bᵢbᵢᵀ``, a sparse
combination of rank-one matrices over a basis built from the triplets. Here
the triplets come from digit labels (each point's 3 nearest same-digit points
against its 10 nearest other-digit points,
``Constraints(y).generate_knntriplets``); the learner only ever sees the
triplets. We report how many held-out triplets the metric orders correctly and
the 3-NN accuracy in the learned space, against the Euclidean distance.
"""

# %%
# requires: mlearn.SCMLTriplets matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlearn import Constraints, SCMLTriplets

X, y = load_digits(return_X_y=True)
X = make_pipeline(StandardScaler(), PCA(n_components=20, random_state=0),
                  StandardScaler()).fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)

# index triplets (anchor, closer, farther) from the labels of each part
idx_train = Constraints(y_train).generate_knntriplets(X_train, 3, 10)
idx_test = Constraints(y_test).generate_knntriplets(X_test, 3, 10)
triplets_train = X_train[idx_train]  # shape (n_triplets, 3, n_features)
triplets_test = X_test[idx_test]
print(f"{len(triplets_train)} training and {len(triplets_test)} held-out triplets")

# %%
scml = SCMLTriplets(n_basis=400, max_iter=5000, random_state=0)
scml.fit(triplets_train)
n_active = np.count_nonzero(scml.weights_)
print(f"{n_active} of {scml.weights_.size} basis elements kept")


def euclidean_triplet_accuracy(T):
    d_close = np.sum((T[:, 0] - T[:, 1]) ** 2, axis=1)
    d_far = np.sum((T[:, 0] - T[:, 2]) ** 2, axis=1)
    return np.mean(d_close < d_far)


def knn_accuracy(Z_train, Z_test):
    return KNeighborsClassifier(n_neighbors=3).fit(Z_train, y_train).score(
        Z_test, y_test)


print(f"held-out triplets ordered correctly  Euclidean: "
      f"{euclidean_triplet_accuracy(triplets_test):.3f}   "
      f"SCMLTriplets: {scml.score(triplets_test):.3f}")
print(f"3-NN accuracy                        Euclidean: "
      f"{knn_accuracy(X_train, X_test):.3f}   SCMLTriplets: "
      f"{knn_accuracy(scml.transform(X_train), scml.transform(X_test)):.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].plot(np.sort(scml.weights_)[::-1], marker=".")
axes[0].set(title="basis weights (sorted): most are zero", xlabel="basis element",
            ylabel="weight")
margins = scml.decision_function(triplets_test)
axes[1].hist(margins, bins=50)
axes[1].axvline(0.0, color="k", lw=1)
axes[1].set(title="held-out margins d(a, c) − d(a, b)", xlabel="margin",
            ylabel="triplets")
fig.tight_layout()
