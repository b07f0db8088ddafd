"""Linear-algebra and validation helpers shared by the learners."""

from mlearn.utils._linalg import (
    components_from_metric,
    metric_from_components,
    project_psd,
)

__all__ = ["components_from_metric", "metric_from_components", "project_psd"]
