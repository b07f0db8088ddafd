"""mlearn: fast, scikit-learn compatible Mahalanobis metric learning."""

__version__ = "0.1.0"

__all__ = []
