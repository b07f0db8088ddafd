"""
Two ways to use a learned metric with k-NN: ``get_metric()`` or ``transform``
=============================================================================

``KNeighborsClassifier(metric=est.get_metric())`` measures the learned distance
between raw points; ``transform`` maps the points once so that the plain
Euclidean distance *is* the learned one. Both give the same neighbours. The
transform route lets scikit-learn use its fast tree / BLAS search and is the one
to prefer; the callable is for tools that take a metric but no transformer
(``DBSCAN``, ``NearestNeighbors`` on a fixed feature space, custom code), and
for low-rank ``L`` it avoids storing the transformed copy.
"""

# requires: mlearn.KISSME
# %%
import time

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from mlearn import KISSME

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
est = KISSME().fit(X_train, y_train)

# %% [markdown]
# ## The callable metric

# %%
t0 = time.perf_counter()
knn_metric = KNeighborsClassifier(n_neighbors=3, metric=est.get_metric())
acc_metric = knn_metric.fit(X_train, y_train).score(X_test, y_test)
t_metric = time.perf_counter() - t0
print(f"metric=get_metric(): accuracy {acc_metric:.3f} in {t_metric:.3f} s")

# %% [markdown]
# ## The transform route

# %%
t0 = time.perf_counter()
knn_euclid = KNeighborsClassifier(n_neighbors=3)
acc_transform = knn_euclid.fit(est.transform(X_train), y_train).score(
    est.transform(X_test), y_test)
t_transform = time.perf_counter() - t0
print(f"transform + Euclidean: accuracy {acc_transform:.3f} in {t_transform:.3f} s")

# %% [markdown]
# Same neighbours either way:

# %%
nn_metric = knn_metric.kneighbors(X_test[:20], return_distance=False)
nn_transform = knn_euclid.kneighbors(est.transform(X_test[:20]),
                                     return_distance=False)
print("identical neighbours:", np.array_equal(nn_metric, nn_transform))

# %% [markdown]
# ## A tool that takes only a metric: DBSCAN
# The callable plugs into any scikit-learn estimator with a ``metric`` argument.

# %%
labels = DBSCAN(eps=3.0, min_samples=5, metric=est.get_metric()).fit_predict(
    X_test)
print("DBSCAN clusters:", len(set(labels) - {-1}),
      "noise points:", int(np.sum(labels == -1)))
