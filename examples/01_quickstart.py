# %% [markdown]
"""
Quickstart: learn a metric, transform, and compare k-NN before and after
========================================================================

A Mahalanobis learner finds a linear map ``L`` such that Euclidean distances
after ``X ↦ X Lᵀ`` bring same-class points together. Here ITML learns it from
the wine data's labels, and a 3-nearest-neighbour classifier is scored with the
plain Euclidean distance and with the learned one.
"""

# %%
# requires: mlearn.ITML
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from mlearn import ITML

X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
print(X_train.shape, X_test.shape)

# %% [markdown]
# Learn the metric
# ----------------
#
# ``fit(X, y)`` ends with ``components_`` (``L``); everything else follows from it.

# %%
itml = ITML(random_state=0).fit(X_train, y_train)
print("L:", itml.components_.shape)
print("M = LᵀL:", itml.get_mahalanobis_matrix().shape)

# %% [markdown]
# k-NN before and after
# ---------------------
#
# ``transform`` maps the points so that the Euclidean distance is the learned one.

# %%
knn = KNeighborsClassifier(n_neighbors=3)
before = knn.fit(X_train, y_train).score(X_test, y_test)
after = knn.fit(itml.transform(X_train), y_train).score(itml.transform(X_test),
                                                         y_test)
print(f"3-NN accuracy, Euclidean: {before:.3f}   learned metric: {after:.3f}")

# %% [markdown]
# The learned distance between two points is also available directly:

# %%
pairs = X_test[:3, None, :].repeat(2, axis=1)
pairs[:, 1] = X_test[3:6]
print(itml.pair_distance(pairs))
