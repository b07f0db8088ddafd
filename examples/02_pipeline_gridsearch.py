# %% [markdown]
"""
Choosing a learner and its parameters with Pipeline and GridSearchCV
====================================================================

Every mlearn learner is a scikit-learn transformer, so it can be a step of a
``Pipeline`` and the learner itself can be a grid-search parameter. The grid
below compares the covariance baseline, KISSME, ITML and MMC, each with a few
settings, by cross-validated 3-NN accuracy.
"""

# %%
# requires: mlearn.KISSME mlearn.ITML mlearn.MMC
import pandas as pd
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlearn import ITML, KISSME, MMC, Covariance

X, y = load_wine(return_X_y=True)
pipe = Pipeline([
    ("scale", StandardScaler()),
    ("metric", Covariance()),
    ("knn", KNeighborsClassifier(n_neighbors=3)),
])

# %% [markdown]
# A list of grids: one per learner, each with that learner's own parameters
# (addressed as ``metric__<parameter>``).

# %%
param_grid = [
    {"metric": [Covariance()], "metric__estimator": ["empirical", "ledoit_wolf"]},
    {"metric": [KISSME()], "metric__n_components": [5, 10]},
    {"metric": [ITML(random_state=0)], "metric__gamma": [0.5, 1.0]},
    {"metric": [MMC(random_state=0)], "metric__diagonal": [False, True]},
    {"metric": ["passthrough"]},  # the Euclidean baseline
]
search = GridSearchCV(pipe, param_grid, cv=StratifiedKFold(3, shuffle=True,
                                                           random_state=0))
search.fit(X, y)

# %%
results = pd.DataFrame(search.cv_results_)
results["learner"] = [type(m).__name__ if not isinstance(m, str) else m
                      for m in results["param_metric"]]
columns = ["learner", "params", "mean_test_score", "mean_fit_time"]
print(results.sort_values("mean_test_score", ascending=False)[columns]
      .to_string(index=False))
print("best:", search.best_params_)
