# %% [markdown]
"""
What metric learning does to the data: t-SNE before and after MMC, LMNN, KISSME
===============================================================================

The classic illustration: three classes, each made of two clusters, in five
features of which the last two are large-magnitude noise
(:func:`mlearn.datasets.make_clustered_noise`). The Euclidean distance is
dominated by the noise, so a point's nearest neighbours are mostly of other
classes. A learned metric down-weights the noise features. Every figure below
is measured on held-out points: the learners are fitted on 70 % of the data
and k-NN is scored on the other 30 %.
"""

# %%
# requires: mlearn.MMC mlearn.LMNN mlearn.KISSME
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from mlearn import KISSME, LMNN, MMC
from mlearn.datasets import make_clustered_noise
from mlearn.plotting import plot_before_after, plot_metric

X, y = make_clustered_noise(random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)
print(X.shape, np.bincount(y))

# %%
learners = {
    "MMC": MMC(random_state=0).fit(X_train, y_train),
    "LMNN": LMNN(random_state=0).fit(X_train, y_train),
    "KISSME": KISSME().fit(X_train, y_train),
}


def held_out_accuracy(Z_train, Z_test):
    knn = KNeighborsClassifier(n_neighbors=3).fit(Z_train, y_train)
    return knn.score(Z_test, y_test)


scores = {
    "Euclidean": held_out_accuracy(X_train, X_test),
    "signal features only": held_out_accuracy(X_train[:, :3], X_test[:, :3]),
}
for name, est in learners.items():
    scores[name] = held_out_accuracy(est.transform(X_train), est.transform(X_test))
for name, score in scores.items():
    print(f"held-out 3-NN accuracy, {name:>20}: {score:.3f}")

# %% [markdown]
# Dropping the noise features by hand (an oracle no learner has) scores about
# 0.96 against 0.58 for the Euclidean distance on all five. KISSME comes close
# to the oracle (0.93), LMNN recovers most of the gap (0.81) and MMC only a
# little (0.64). In the t-SNE maps of the held-out points only KISSME's
# separates the three classes clearly; LMNN's and MMC's stay mixed:

# %%
assert scores["KISSME"] > scores["LMNN"] > scores["MMC"] > scores["Euclidean"]
fig = plot_before_after(X_test, y_test, learners, method="tsne", random_state=0)

# %% [markdown]
# How much of the squared distance between two random points do the two noise
# features carry? For a diagonal entry ``M_jj`` of feature ``j`` that is
# ``M_jj`` times the feature's variance, as a share of the sum over features.
# Under the Euclidean distance (``M = I``) the noise carries almost all of it;
# KISSME removes it, LMNN and MMC only reduce it, which is why they stay
# below the oracle:

# %%
metrics = {"Euclidean": np.eye(X.shape[1])}
metrics.update({name: est.get_mahalanobis_matrix()
                for name, est in learners.items()})
for name, M in metrics.items():
    share = np.diag(M) * X_train.var(axis=0)
    print(f"{name:>9}: share of the noise features {share[3:].sum() / share.sum():.2f}")
ax = plot_metric(learners["KISSME"],
                 feature_names=["s1", "s2", "s3", "noise1", "noise2"])
