"""The LBP-TOP feature extractor (a thin estimator around :func:`lbp_top`)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from skmer.features._kernels import (
    PLANES,
    _check_lbp_params,
    _margins,
    _pair,
    block_edges,
    lbp_top,
    n_uniform_bins,
)
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

__all__ = ["LBPTOP"]


class LBPTOP(TransformerMixin, BaseEstimator):
    """LBP-TOP features: local binary patterns on three orthogonal planes.

    Maps every clip to the concatenated, per-plane normalised uniform-LBP
    histograms of the XY, XT and YT planes of every block of a grid over the
    frame (:func:`~skmer.features.lbp_top`).  The defaults are the setting of the
    CASME II baseline: 5x5 blocks, radii ``(R_X, R_Y, R_T) = (1, 1, 4)``, ``P = 8``
    neighbours per plane, uniform-2 mapping (59 bins per plane), i.e.
    ``25 * 3 * 59 = 4425`` features.  Stateless: :term:`fit` checks the parameters
    and records the frame shape.

    Parameters
    ----------
    n_points : int or tuple of 3 int, default=8
        Neighbours ``P`` of the XY, XT and YT planes (2 to 16).
    radii : tuple of 3 float, default=(1, 1, 4)
        ``(R_X, R_Y, R_T)`` in pixels and frames.  A clip needs at least
        ``2 * ceil(R_T) + 1`` frames.
    interpolation : {"bilinear", "nearest"}, default="bilinear"
        How samples between pixels are read, see :func:`~skmer.features.lbp_top`.
    n_blocks : int or tuple of (int, int), default=(5, 5)
        Block grid ``(rows, cols)`` over the frame.
    overlap : float, default=0.0
        Fraction in ``[0, 1)`` of a block shared with its neighbours.
    n_jobs : int, default=None
        Number of clips processed in parallel (joblib).  The output does not depend
        on it.
    verbose : int, default=0
        Show a ``tqdm`` progress bar over the clips in :meth:`transform` when
        positive; the output does not depend on it.

    Attributes
    ----------
    frame_shape_ : tuple of int
        ``(height, width[, channels])`` of the frames seen during :term:`fit`;
        :term:`transform` requires the same frame shape (the number of frames may
        differ from clip to clip).
    n_bins_ : tuple of int
        Histogram bins of the XY, XT and YT planes.

    See Also
    --------
    skmer.features.lbp_top : The kernel.
    skmer.features.make_lbptop_pipeline : LBP-TOP, scaling and a linear SVM.

    References
    ----------
    .. [1] G. Zhao and M. Pietikäinen, "Dynamic Texture Recognition Using Local
       Binary Patterns with an Application to Facial Expressions", IEEE TPAMI 29(6),
       2007, :doi:`10.1109/TPAMI.2007.1110`.
    .. [2] W.-J. Yan, X. Li, S.-J. Wang, G. Zhao, Y.-J. Liu, Y.-H. Chen and X. Fu,
       "CASME II: An Improved Spontaneous Micro-Expression Database and the
       Baseline Evaluation", PLoS ONE 9(1), 2014,
       :doi:`10.1371/journal.pone.0086041`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.features import LBPTOP
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.integers(0, 256, size=(n, 24, 24), dtype=np.uint8) for n in (9, 12)]
    >>> lbptop = LBPTOP(n_blocks=2).fit(X)
    >>> lbptop.transform(X).shape
    (2, 708)
    >>> lbptop.get_feature_names_out()[:2].tolist()
    ['r0c0_xy_0', 'r0c0_xy_1']
    """

    _parameter_constraints = {
        "n_points": [Interval(Integral, 2, 16, closed="both"), tuple, list],
        "radii": [tuple, list],
        "interpolation": [StrOptions({"bilinear", "nearest"})],
        "n_blocks": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "overlap": [Interval(Real, 0, 1, closed="left")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, n_points: int | tuple[int, int, int] = 8,
                 radii: tuple[float, float, float] = (1, 1, 4),
                 interpolation: str = "bilinear",
                 n_blocks: int | tuple[int, int] = (5, 5), overlap: float = 0.0,
                 n_jobs: int | None = None, verbose: int = 0) -> None:
        self.n_points = n_points
        self.radii = radii
        self.interpolation = interpolation
        self.n_blocks = n_blocks
        self.overlap = overlap
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _min_frames(self):
        try:
            _, rad = _check_lbp_params(self.n_points, self.radii, self.interpolation)
        except ValueError:
            return 1
        return 2 * _margins(rad, self.interpolation)[0] + 1

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Sequence[Clip | np.ndarray] | ClipSequence,
            y: None = None) -> LBPTOP:
        """Check the parameters and the clips, and record the frame shape.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips (all with one frame shape).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted extractor.
        """
        pts, rad = _check_lbp_params(self.n_points, self.radii, self.interpolation)
        rows, cols = _pair(self.n_blocks, "n_blocks")
        clips = check_clips(X, ensure_min_frames=self._min_frames(), estimator=self)
        shape = tuple(clips[0].frames.shape[1:])
        clips = check_clips(clips, frame_shape=shape, estimator=self)
        h, w = shape[:2]
        mt, my, mx = _margins(rad, self.interpolation)
        for size, n, m, what in ((h, rows, my, "rows"), (w, cols, mx, "columns")):
            if n > size:
                raise ValueError(
                    f"LBPTOP: the block grid n_blocks=({rows}, {cols}) is larger "
                    f"than the frames ({h}x{w} pixels)."
                )
            for a, b in block_edges(size, n, self.overlap):
                if min(b, size - m) <= max(a, m):
                    raise ValueError(
                        f"LBPTOP: with n_blocks=({rows}, {cols}) and radii {rad}, a "
                        f"block of {what} [{a}, {b}) of frames {h}x{w} holds no "
                        "pixel at least the radius from the border; use fewer "
                        "blocks or larger frames."
                    )
        self.frame_shape_ = shape
        self.n_bins_ = tuple(n_uniform_bins(p) for p in pts)
        self._n_features_out = rows * cols * sum(self.n_bins_)
        return self

    def transform(self, X: Sequence[Clip | np.ndarray] | ClipSequence) -> np.ndarray:
        """Compute the LBP-TOP histograms of every clip.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips, with the frame shape seen in :term:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_clips, n_features)
            One row per clip: block after block, the XY, XT and YT histograms.
        """
        check_is_fitted(self)
        clips = check_clips(X, ensure_min_frames=self._min_frames(),
                            frame_shape=self.frame_shape_, estimator=self)
        params = dict(n_points=self.n_points, radii=self.radii,
                      interpolation=self.interpolation, n_blocks=self.n_blocks,
                      overlap=self.overlap)
        out = parallel_map(
            (delayed(lbp_top)(clip.frames, **params) for clip in clips),
            n_jobs=self.n_jobs, verbose=self.verbose, total=len(clips),
            desc=type(self).__name__,
        )
        return np.stack(out)

    def get_feature_names_out(self, input_features: None = None) -> np.ndarray:
        """Names of the features: ``r{row}c{col}_{plane}_{bin}``.

        Parameters
        ----------
        input_features : None
            Ignored (the input is clips).

        Returns
        -------
        feature_names_out : ndarray of str
            E.g. ``"r0c0_xy_0"`` ... ``"r4c4_yt_58"``.
        """
        check_is_fitted(self)
        rows, cols = _pair(self.n_blocks, "n_blocks")
        names = [f"r{r}c{c}_{plane}_{k}"
                 for r in range(rows) for c in range(cols)
                 for plane, nb in zip(PLANES, self.n_bins_) for k in range(nb)]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = with_skmer_tags(
            super().__sklearn_tags__(), min_frames=self._min_frames())
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.requires_fit = True
        return tags
