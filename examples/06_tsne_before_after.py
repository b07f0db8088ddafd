"""
What metric learning does to the data: t-SNE before and after MMC, LMNN, KISSME
==============================================================================

The classic illustration: three classes, each made of two clusters, in five
features of which two carry large-magnitude noise. The Euclidean distance is
dominated by the noise, so neighbours are mostly of other classes. A learned
metric down-weights the noisy features and the classes reappear.
"""

# requires: mlearn.MMC mlearn.LMNN mlearn.KISSME
# %%
import numpy as np
from sklearn.neighbors import KNeighborsClassifier

from mlearn import KISSME, LMNN, MMC
from mlearn.plotting import plot_before_after, plot_metric

rng = np.random.RandomState(0)
n_per_cluster = 40
centres = rng.normal(scale=4.0, size=(6, 3))  # 3 classes x 2 clusters
X_signal = np.vstack([c + rng.normal(size=(n_per_cluster, 3)) for c in centres])
X_noise = rng.normal(scale=25.0, size=(X_signal.shape[0], 2))
X = np.hstack([X_signal, X_noise])
y = np.repeat([0, 0, 1, 1, 2, 2], n_per_cluster)
print(X.shape, np.bincount(y))

# %%
learners = {
    "MMC": MMC(random_state=0).fit(X, y),
    "LMNN": LMNN(n_neighbors=3, random_state=0).fit(X, y),
    "KISSME": KISSME().fit(X, y),
}
knn = KNeighborsClassifier(n_neighbors=3)
print("leave-in 3-NN accuracy, Euclidean:", knn.fit(X, y).score(X, y))
for name, est in learners.items():
    Z = est.transform(X)
    print(f"{name:>6}:", knn.fit(Z, y).score(Z, y))

# %%
fig = plot_before_after(X, y, learners, method="tsne", random_state=0)

# %% [markdown]
# The learned matrices put almost no weight on the two noise features (the
# last two rows and columns):

# %%
plot_metric(learners["LMNN"], feature_names=["s1", "s2", "s3", "noise1",
                                             "noise2"])
