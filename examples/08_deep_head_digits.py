"""
A deep embedding head on digits (optional, needs torch)
=======================================================

When a linear map is not enough, ``mlearn.deep.DeepMetricEmbedding`` trains a
torch module with a metric-learning loss behind the same ``fit`` /
``transform`` API, so the result drops into the same k-NN pipeline. It needs
``pip install mlearn[torch]``; without torch, importing ``mlearn.deep`` raises an
ImportError naming that extra (and the example test skips this file).
"""

# requires: torch mlearn.deep.DeepMetricEmbedding
# %%
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from mlearn import deep

torch.manual_seed(0)
X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
module = torch.nn.Sequential(
    torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 32))
head = deep.DeepMetricEmbedding(module)
# keep the example fast: a few epochs, fixed seed (where the head has them)
fast = {"max_epochs": 10, "n_epochs": 10, "random_state": 0}
head.set_params(**{k: v for k, v in fast.items() if k in head.get_params()})
head.fit(X_train, y_train)

# %%
knn = KNeighborsClassifier(n_neighbors=3)
before = knn.fit(X_train, y_train).score(X_test, y_test)
after = knn.fit(head.transform(X_train), y_train).score(head.transform(X_test),
                                                         y_test)
print(f"3-NN accuracy: raw {before:.3f}, deep embedding {after:.3f}")
