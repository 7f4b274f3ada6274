"""Flatten fixed-shape samples (flow images, videos) into feature rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)

from skmer.utils._compat import _fit_context, validate_data

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["Flatten"]


class Flatten(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Reshape samples of any fixed shape ``(n, ...)`` to rows ``(n, n_features)``.

    The step between the arrays that skmer's flow stages give (flow images
    ``(n, C, H, W)``, flow sequences ``(n, C, T, H, W)``) and a scikit-learn
    estimator that reads 2-D data (a scaler, an SVM, a logistic regression).  The
    values are kept in C order: feature ``k`` of a ``(C, H, W)`` sample is pixel
    ``(k // (H * W), (k // W) % H, k % W)``.

    The transformer is stateless: it learns nothing, and :meth:`transform` works
    without :meth:`fit`.  :meth:`fit` only records the sample shape, which
    :meth:`transform` then requires (a flow image of another size would silently
    give other features).

    Attributes
    ----------
    n_features_in_ : int
        Size of the second axis of ``X`` seen during :term:`fit` (the channels of
        flow images; the features of 2-D input).
    sample_shape_ : tuple of int
        Shape of one sample seen during :term:`fit`, e.g. ``(3, 28, 28)``.

    See Also
    --------
    skmer.preprocessing.FlowExtractor : Gives the flow images to flatten.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import Pipeline
    >>> from skmer.datasets import make_micro_expressions
    >>> from skmer.preprocessing import Flatten, FlowExtractor
    >>> X, y, _ = make_micro_expressions(n_clips=12, random_state=0)
    >>> pipe = Pipeline([("flow", FlowExtractor("dis", output_size=(8, 8))),
    ...                  ("flat", Flatten()), ("clf", LogisticRegression())])
    >>> pipe.fit(X, y).predict(X).shape
    (12,)
    >>> pipe[:2].transform(X).shape
    (12, 192)
    >>> pipe.named_steps["flat"].get_feature_names_out()[:2].tolist()
    ['flatten0', 'flatten1']
    """

    _parameter_constraints: dict = {}

    def __init__(self) -> None:
        pass

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> Flatten:
        """Record the shape of one sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples of any fixed shape with at least one axis besides the first.
        y : None
            Ignored.

        Returns
        -------
        self : Flatten
            The transformer.
        """
        X = validate_data(self, X, allow_nd=True, dtype="numeric",
                          ensure_all_finite=False)
        self.sample_shape_ = tuple(int(s) for s in X.shape[1:])
        self._n_features_out = int(np.prod(self.sample_shape_))
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Flatten every sample to one row.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples; after :meth:`fit`, of the shape seen there.

        Returns
        -------
        X_flat : ndarray of shape (n_samples, n_features)
            The samples as rows (a view of ``X`` when it is C-contiguous), same
            dtype.

        Raises
        ------
        ValueError
            A sample shape other than the one seen in :meth:`fit`, or a 1-D ``X``.
        """
        X = validate_data(self, X, allow_nd=True, dtype="numeric",
                          ensure_all_finite=False, reset=False)
        shape = getattr(self, "sample_shape_", None)
        if shape is not None and tuple(X.shape[1:]) != shape:
            raise ValueError(
                f"Flatten was fitted on samples of shape {shape}; got samples of "
                f"shape {tuple(X.shape[1:])}.")
        return X.reshape(len(X), -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True
        return tags
