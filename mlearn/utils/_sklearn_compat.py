"""The one place where scikit-learn's private or version-dependent API is imported.

mlearn supports scikit-learn >= 1.6; everything that moved between releases is
resolved here so the rest of the package imports from one stable spot.
"""

from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "ConvergenceWarning",
    "Interval",
    "StrOptions",
    "_fit_context",
    "check_is_fitted",
    "validate_data",
    "validate_params",
]
