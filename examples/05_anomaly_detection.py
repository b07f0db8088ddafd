# %% [markdown]
"""
Anomaly detection with the Mahalanobis distance: robust vs empirical covariance
===============================================================================

The squared Mahalanobis distance of a point to the centre of the data,
``(x − μ)ᵀ Σ⁻¹ (x − μ)``, follows a χ² law with ``d`` degrees of freedom for
Gaussian data, so a χ² quantile is a natural outlier threshold. Outliers,
however, inflate the empirical covariance and hide themselves ("masking");
the Minimum Covariance Determinant (``Covariance(estimator='mcd')``) estimates
``μ`` and ``Σ`` from the most concentrated part of the data instead.
"""

# %%
# requires: mlearn.Covariance
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from scipy.stats import chi2

from mlearn import Covariance

rng = np.random.RandomState(0)
n_inliers, n_outliers, d = 300, 30, 2
cov = np.array([[1.0, 0.8], [0.8, 1.0]])
inliers = rng.multivariate_normal(np.zeros(d), cov, size=n_inliers)
outliers = rng.multivariate_normal([3.0, -3.0], 0.3 * np.eye(d), size=n_outliers)
X = np.vstack([inliers, outliers])
is_outlier = np.r_[np.zeros(n_inliers, bool), np.ones(n_outliers, bool)]

# %%
threshold = chi2.ppf(0.975, df=d)
models = {
    "empirical": Covariance(estimator="empirical").fit(X),
    "robust (MCD)": Covariance(estimator="mcd", random_state=0).fit(X),
}
for name, model in models.items():
    flagged = model.mahalanobis(X) > threshold
    recall = np.mean(flagged[is_outlier])
    false_alarms = np.mean(flagged[~is_outlier])
    print(f"{name:>13}: outliers found {recall:.2f}, inliers flagged "
          f"{false_alarms:.3f}")

# %% [markdown]
# The contours of the χ² threshold show the masking: the empirical ellipse is
# stretched towards the outliers, the robust one follows the inliers.

# %%
fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(*inliers.T, s=8, label="inliers")
ax.scatter(*outliers.T, s=8, color="tab:red", label="outliers")
xx, yy = np.meshgrid(np.linspace(-4, 5, 200), np.linspace(-5, 4, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])
handles = ax.get_legend_handles_labels()[0]
for (name, model), style in zip(models.items(), ["--", "-"]):
    dist = model.mahalanobis(grid).reshape(xx.shape)
    ax.contour(xx, yy, dist, levels=[threshold], colors="k", linestyles=style)
    handles.append(Line2D([], [], color="k", linestyle=style, label=name))
ax.legend(handles=handles, loc="upper left")
ax.set_title("97.5 % χ² contour: empirical (dashed) vs MCD (solid)")
fig.tight_layout()
