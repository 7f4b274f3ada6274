"""The private scikit-learn helpers skmer relies on, imported in one place.

skmer pins ``scikit-learn>=1.6,<2``.  Parameter validation (``_fit_context``,
``Interval``, ``StrOptions``, ...) and ``validate_data`` live in private or recent
sklearn modules; every skmer module imports them from here, so that a future move in
sklearn is fixed once.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "Parallel",
    "StrOptions",
    "_fit_context",
    "check_is_fitted",
    "delayed",
    "validate_data",
]
