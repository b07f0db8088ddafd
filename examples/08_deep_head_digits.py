# %% [markdown]
"""
A deep embedding head on digits (optional, needs torch)
=======================================================

When a linear map is not enough, ``mlearn.deep.DeepMetricEmbedding`` trains a
torch module with a metric-learning loss behind the same ``fit`` /
``transform`` API, so the result drops into the same k-NN pipeline. It needs
``pip install "mlearn-metric[torch]"``; without torch, importing
``mlearn.deep`` raises an ImportError naming that extra (and the example test
skips this file).
"""

# %%
# requires: torch mlearn.deep.DeepMetricEmbedding
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
# Any nn.Module mapping a batch of X to embeddings works; here a small MLP.
# `verbose=1` draws one progress bar with the epoch loss and the validation
# MAP@R on a held-out 15 % of the training data. Training stops once that
# score has not improved for more than 3 epochs (scikit-learn MLP's rule) and
# keeps the weights of the best epoch; the learning rate follows a cosine.
module = torch.nn.Sequential(
    torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 32))
head = deep.DeepMetricEmbedding(module, loss="multi_similarity", max_epochs=40,
                                lr_scheduler="cosine", early_stopping=True,
                                validation_fraction=0.15, n_iter_no_change=3,
                                scoring="map_at_r", random_state=0, verbose=1)
head.fit(X_train, y_train)
print(f"stopped after {head.n_iter_} epochs; best validation MAP@R "
      f"{head.best_validation_score_:.3f}")
print("validation MAP@R by epoch:",
      [round(h["val_score"], 3) for h in head.history_[::5]])

# %%
knn = KNeighborsClassifier(n_neighbors=3)
before = knn.fit(X_train, y_train).score(X_test, y_test)
after = knn.fit(head.transform(X_train), y_train).score(head.transform(X_test),
                                                         y_test)
print(f"3-NN accuracy: raw {before:.3f}, deep embedding {after:.3f}")

# %%
# Retrieval quality (Musgrave et al. 2020): precision@1 barely moves, MAP@R --
# are *all* the same-class points ranked first? -- is where the gain shows.
from mlearn.metrics import mean_average_precision_at_r, precision_at_1  # noqa: E402

Z_test = head.transform(X_test)
for name, Z in [("raw", X_test), ("deep", Z_test)]:
    print(f"{name:>5}: P@1 {precision_at_1(Z, y_test):.3f}  "
          f"MAP@R {mean_average_precision_at_r(Z, y_test):.3f}")
