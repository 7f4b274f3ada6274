"""The Bi-WOOF feature extractor (a thin estimator around :func:`bi_woof`)."""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from skmer.features._kernels import _pair, bi_woof
from skmer.utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    delayed,
)
from skmer.utils._progress import parallel_map
from skmer.utils._tags import with_skmer_tags
from skmer.utils.validation import check_clips

if TYPE_CHECKING:
    from collections.abc import Sequence

    from skmer._core import Clip, ClipSequence

__all__ = ["BiWOOF"]


class BiWOOF(TransformerMixin, BaseEstimator):
    """Bi-WOOF features (bi-weighted oriented optical flow) of onset-apex motion.

    Every sample's onset-to-apex optical flow is described by block-wise
    orientation histograms weighted locally by the flow magnitude and globally by
    the block's optical strain (:func:`~skmer.features.bi_woof`).

    ``X`` is either flow images, a numeric array of shape ``(n, 2 or 3, H, W)`` with
    channels ``u, v[, strain]`` (the output of
    :class:`~skmer.preprocessing.FlowExtractor` or
    :func:`~skmer.datasets.load_flow_images`), or a sequence of clips, whose flow
    from the onset to the apex frame is computed with
    ``FlowExtractor(method=flow_method, mode="onset-apex", strain=True)``.

    Parameters
    ----------
    n_blocks : int or tuple of (int, int), default=5
        Block grid ``(rows, cols)``.
    n_bins : int, default=8
        Orientation bins over the full circle.
    strain : {"auto", "compute"}, default="auto"
        Use the strain channel when the flow has one (``"auto"``) or always compute
        the strain from ``u`` and ``v``.
    center : {"none", "median"}, default="none"
        ``"median"`` subtracts every image's median ``u`` and ``v``: use it for
        min-max scaled flow images such as :func:`~skmer.datasets.load_flow_images`
        (see :func:`~skmer.features.bi_woof`).
    strain_weight : {"mean", "sum"}, default="mean"
        Block weight: mean or sum of the strain over the block.
    input : {"auto", "flow", "clips"}, default="auto"
        How ``X`` is read.  ``"auto"``: a numeric 4-D ndarray is flow images
        ``(n, C, H, W)``; anything else (a list, an object array, a
        :class:`~skmer.datasets.ClipSequence`) is clips.  Use ``"clips"`` for a 4-D
        array of equal-length clips ``(n, T, H, W)``.
    flow_method : {"tvl1", "farneback", "dis"}, default="tvl1"
        Optical flow of clips (:func:`~skmer.preprocessing.optical_flow`).
    flow_params : dict, default=None
        Parameters of the flow method.
    n_jobs : int, default=None
        Number of samples processed in parallel (joblib); the output does not depend
        on it.
    verbose : int, default=0
        Show a ``tqdm`` progress bar over the clips in :meth:`transform` when
        positive; the output does not depend on it.

    Attributes
    ----------
    input_kind_ : {"flow", "clips"}
        How ``X`` was read in :term:`fit`; :term:`transform` reads ``X`` the same way.
    frame_shape_ : tuple of int
        ``(n_channels, height, width)`` of the flow images, or ``(height, width[,
        channels])`` of the frames, seen during :term:`fit`.
    flow_extractor_ : FlowExtractor or None
        The fitted flow extractor (clips only).

    See Also
    --------
    skmer.features.bi_woof : The kernel (bin edges and blocks are documented there).
    skmer.features.make_biwoof_pipeline : Bi-WOOF, scaling and a linear SVM.

    Notes
    -----
    This is not a 2-D estimator: its ``X`` is 4-D flow images or clips, so
    scikit-learn's ``check_estimator`` does not apply; it passes skmer's clip
    estimator checks (:mod:`skmer.utils.estimator_checks`) instead.

    References
    ----------
    .. [1] S.-T. Liong, J. See, K. Wong and R. C.-W. Phan, "Less is more:
       Micro-expression recognition from video using apex frame", Signal
       Processing: Image Communication 62, 2018,
       :doi:`10.1016/j.image.2017.11.006`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.features import BiWOOF
    >>> rng = np.random.default_rng(0)
    >>> flow = rng.normal(size=(4, 3, 28, 28))
    >>> biwoof = BiWOOF().fit(flow)
    >>> biwoof.transform(flow).shape
    (4, 200)
    >>> biwoof.get_feature_names_out()[:2].tolist()
    ['r0c0_b0', 'r0c0_b1']
    """

    _parameter_constraints = {
        "n_blocks": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "strain": [StrOptions({"auto", "compute"})],
        "center": [StrOptions({"none", "median"})],
        "strain_weight": [StrOptions({"mean", "sum"})],
        "input": [StrOptions({"auto", "flow", "clips"})],
        "flow_method": [StrOptions({"tvl1", "farneback", "dis"})],
        "flow_params": [dict, None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, n_blocks: int | tuple[int, int] = 5, n_bins: int = 8,
                 strain: str = "auto", center: str = "none",
                 strain_weight: str = "mean", input: str = "auto",
                 flow_method: str = "tvl1", flow_params: dict | None = None,
                 n_jobs: int | None = None, verbose: int = 0) -> None:
        self.n_blocks = n_blocks
        self.n_bins = n_bins
        self.strain = strain
        self.center = center
        self.strain_weight = strain_weight
        self.input = input
        self.flow_method = flow_method
        self.flow_params = flow_params
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _kind(self, X):
        if self.input != "auto":
            return self.input
        if isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 4:
            return "flow"
        return "clips"

    def _check_flow(self, X, shape=None):
        X = np.asarray(X)
        if X.ndim != 4 or X.dtype == object:
            raise ValueError(
                "BiWOOF: flow images must be a numeric array of shape (n_samples, 2 "
                f"or 3, height, width); got shape {X.shape}."
            )
        if X.shape[0] == 0:
            raise ValueError("BiWOOF: X is empty: at least one sample is required.")
        if X.shape[1] not in (2, 3):
            raise ValueError(
                f"BiWOOF: flow images must have 2 (u, v) or 3 (u, v, strain) "
                f"channels in axis 1; got {X.shape[1]} (shape {X.shape}). Pass "
                "input='clips' if X holds clips of shape (n, n_frames, H, W)."
            )
        if not (np.issubdtype(X.dtype, np.number) and np.isfinite(X).all()):
            raise ValueError("BiWOOF: flow images must hold finite numbers.")
        if shape is not None and tuple(X.shape[1:]) != tuple(shape):
            raise ValueError(
                f"BiWOOF: flow images have shape {tuple(X.shape[1:])} (channels, "
                f"height, width), but the estimator was fitted on {tuple(shape)}."
            )
        return X

    def _check_grid(self, h, w):
        rows, cols = _pair(self.n_blocks, "n_blocks")
        if rows > h or cols > w:
            raise ValueError(
                f"BiWOOF: the block grid n_blocks=({rows}, {cols}) is larger than "
                f"the images ({h}x{w} pixels)."
            )
        return rows, cols

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: np.ndarray | Sequence[Clip | np.ndarray] | ClipSequence,
            y: None = None) -> BiWOOF:
        """Check the parameters and the input, and record its shape.

        Parameters
        ----------
        X : ndarray of shape (n_samples, 2 or 3, height, width) or sequence of Clip
            Flow images (channels ``u, v[, strain]``) or clips with onset and apex
            metadata (``(n_frames, height, width[, channels])`` each).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted extractor.
        """
        kind = self._kind(X)
        if kind == "flow":
            X = self._check_flow(X)
            self.frame_shape_ = tuple(X.shape[1:])
            self._check_grid(*X.shape[2:])
            self.flow_extractor_ = None
        else:
            from skmer.preprocessing import FlowExtractor

            ext = FlowExtractor(method=self.flow_method, mode="onset-apex",
                                strain=True, flow_params=self.flow_params,
                                n_jobs=self.n_jobs, verbose=self.verbose)
            ext.fit(X)
            self.frame_shape_ = ext.frame_shape_
            self._check_grid(*self.frame_shape_[:2])
            self.flow_extractor_ = ext
        self.input_kind_ = kind
        rows, cols = _pair(self.n_blocks, "n_blocks")
        self._n_features_out = rows * cols * int(self.n_bins)
        return self

    def transform(
        self,
        X: np.ndarray | Sequence[Clip | np.ndarray] | ClipSequence,
    ) -> np.ndarray:
        """Compute the Bi-WOOF features.

        Parameters
        ----------
        X : ndarray of shape (n_samples, 2 or 3, height, width) or sequence of Clip
            Of the kind and shape seen in :term:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, rows * cols * n_bins)
            Unit-norm rows (zero rows for samples without motion or strain).
        """
        check_is_fitted(self)
        if self.input_kind_ == "flow":
            if self._kind(X) != "flow":
                raise ValueError(
                    "BiWOOF was fitted on flow images (n, C, H, W) but transform got "
                    f"{type(X).__name__}; pass flow images of shape "
                    f"(n, *{self.frame_shape_})."
                )
            flow = self._check_flow(X, self.frame_shape_)
        else:
            # A clip sequence fed to a fitted FlowExtractor (it checks frame shapes).
            check_clips(X, frame_shape=self.frame_shape_, estimator=self)
            flow = self.flow_extractor_.transform(X)
        params = dict(n_blocks=self.n_blocks, n_bins=self.n_bins, strain=self.strain,
                      center=self.center, strain_weight=self.strain_weight)
        out = parallel_map(
            (delayed(bi_woof)(f, **params) for f in flow),
            n_jobs=self.n_jobs, verbose=self.verbose, total=len(flow),
            desc=type(self).__name__,
        )
        return np.stack(out)

    def get_feature_names_out(self, input_features: None = None) -> np.ndarray:
        """Names of the features: ``r{row}c{col}_b{bin}``.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        rows, cols = _pair(self.n_blocks, "n_blocks")
        return np.asarray([f"r{r}c{c}_b{k}" for r in range(rows)
                           for c in range(cols) for k in range(int(self.n_bins))],
                          dtype=object)

    def __sklearn_tags__(self):
        tags = with_skmer_tags(super().__sklearn_tags__(), min_frames=2)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
