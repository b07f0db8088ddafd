# %% [markdown]
"""
Two ways to use a learned metric with k-NN: ``transform`` or ``get_metric()``
=============================================================================

A learner in a ``Pipeline`` maps the points once (``transform(X) = X Lᵀ``), so
that the plain Euclidean distance between mapped points *is* the learned
distance: scikit-learn's k-NN then uses its fast BLAS and tree searches. This is
the route to take. ``KNeighborsClassifier(metric=est.get_metric())`` finds the
same neighbours on the raw points, but scikit-learn calls the Python function
once for every pair of points, which is one to two orders of magnitude slower.
The callable is worth it only where a tool takes a metric but must see the raw
features: an index over untransformed vectors, ``scipy`` distance functions,
custom code.
"""

# %%
# requires: mlearn.KISSME
import time

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlearn import KISSME

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)

# %% [markdown]
# The Pipeline route: transform, then Euclidean k-NN
# --------------------------------------------------

# %%
pipe = make_pipeline(StandardScaler(), KISSME(), KNeighborsClassifier(n_neighbors=3))
acc_pipe = pipe.fit(X_train, y_train).score(X_test, y_test)
print(f"Pipeline (transform + Euclidean k-NN): accuracy {acc_pipe:.3f}")

# %% [markdown]
# The callable metric
# -------------------
#
# The scaler and the learner fitted in the pipeline give the callable. Both
# routes' k-NN fit and predict are timed with the learner already fitted.

# %%
scaler, est = pipe[0], pipe[1]
Z_train, Z_test = scaler.transform(X_train), scaler.transform(X_test)

t0 = time.perf_counter()
knn_euclid = KNeighborsClassifier(n_neighbors=3).fit(est.transform(Z_train), y_train)
acc_transform = knn_euclid.score(est.transform(Z_test), y_test)
t_transform = time.perf_counter() - t0

t0 = time.perf_counter()
knn_metric = KNeighborsClassifier(n_neighbors=3, metric=est.get_metric())
acc_metric = knn_metric.fit(Z_train, y_train).score(Z_test, y_test)
t_metric = time.perf_counter() - t0
print(f"transform + Euclidean: accuracy {acc_transform:.3f} in {t_transform:.4f} s")
print(f"metric=get_metric():   accuracy {acc_metric:.3f} in {t_metric:.4f} s "
      f"({t_metric / t_transform:.0f}x slower)")

# %% [markdown]
# Same neighbours either way:

# %%
nn_metric = knn_metric.kneighbors(Z_test[:20], return_distance=False)
nn_pipe = knn_euclid.kneighbors(est.transform(Z_test[:20]), return_distance=False)
print("identical neighbours:", np.array_equal(nn_metric, nn_pipe))

# %% [markdown]
# DBSCAN: transform first here too
# --------------------------------
#
# Any estimator that measures Euclidean distances sees the learned ones after
# ``transform``; ``metric=est.get_metric()`` gives the same clusters, slower.

# %%
Z = est.transform(Z_test)
labels = DBSCAN(eps=3.0, min_samples=5).fit_predict(Z)
labels_metric = DBSCAN(eps=3.0, min_samples=5,
                       metric=est.get_metric()).fit_predict(Z_test)
print("DBSCAN clusters:", len(set(labels) - {-1}),
      "noise points:", int(np.sum(labels == -1)),
      "same labels with the callable:", np.array_equal(labels, labels_metric))
