"""MicroExpressionSpotter: intervals of micro-movements in a long face video."""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import Bunch

from skmer._core import Clip
from skmer.preprocessing import crop_face, detect_face, face_landmarks
from skmer.spotting._intervals import (
    _check_blocks,
    _check_fps,
    _check_length,
    _check_video,
    _window_frames,
    noise_level,
    scores_to_intervals,
)
from skmer.spotting._scores import (
    REGION_POINTS,
    LBPScorer,
    MDMDScorer,
    region_block_mask,
)
from skmer.utils._compat import Interval, StrOptions, _fit_context, check_is_fitted
from skmer.utils._tags import with_skmer_tags

__all__ = ["MicroExpressionSpotter"]

METHODS = ("lbp", "flow")
FACE_MODES = ("crop", "full")
FLOW_METHODS = ("dis", "farneback", "tvl1")
# inter-ocular distance of the face crop, as a fraction of its width
_EYE_DISTANCE = 0.35
# frames checked for the face (a face lost mid-video is an error)
_N_FACE_CHECKS = 12

logger = logging.getLogger(__name__)


def _grey255(frames):
    """(T, H, W[, C]) numeric frames -> float64 grey in [0, 255] (a new array)."""
    a = frames
    if a.ndim == 4:
        if a.shape[-1] == 1:
            a = a[..., 0]
        else:
            a = a[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    a = np.asarray(a, dtype=np.float64)
    if not np.issubdtype(frames.dtype, np.integer) and a.size and a.max() <= 1.0:
        a = a * 255.0
    return a


class MicroExpressionSpotter(BaseEstimator):
    """Spot micro-expressions (and longer movements) in long face videos.

    A long video is cropped to the face (one similarity transform for all frames,
    :func:`~skmer.preprocessing.crop_face`, located on its first frame), reduced to
    one change score per frame by ``method``, and the peaks of the contrasted score
    become intervals ``(onset, apex, offset, score)``: see
    :mod:`skmer.spotting` and the *Spotting* topic page for the rule.

    ``fit`` only checks the parameters (and the videos, when given): nothing is
    learned, the threshold is relative to each video's own scores, as in the MEGC
    baselines, with an optional absolute floor ``min_score``.  :meth:`predict`
    needs a fitted spotter, as every scikit-learn estimator; :meth:`spot` (one
    video) works on an unfitted one as well.

    Parameters
    ----------
    method : {"flow", "lbp"}, default="flow"
        ``"lbp"``: LBP feature-difference analysis (Moilanen et al. 2014; the MEGC2019
        baseline of Li et al. 2018): chi-squared distances of uniform-LBP block
        histograms between frame ``i`` and the average of frames ``i -+ k``.
        ``"flow"``: main directional maximal difference (MDMD, Wang et al. 2017; the
        MEGC2020 baseline) of the optical flow from frame ``i - k`` to frames ``i``
        and ``i + k``, on the blocks covering the eyebrows, eyes and mouth.
    window : float, default=0.5
        Length in seconds of the longest micro-expression the score is tuned to; the
        half window is ``k = round(window * fps / 2)`` frames.
    max_duration : float, default=0.5
        Intervals longer than this (seconds) are ``kind="macro"``.
    p : float, default=0.5
        Relative threshold ``T = mean(C) + p * (max(C) - mean(C))`` on the contrasted
        score ``C`` of each video, in ``[0, 1]``.
    min_score : float, default=0.0
        Absolute floor of the threshold, in the method's units (chi-squared distance
        for ``"lbp"``, pixels of the face crop for ``"flow"``).  The relative
        threshold alone always finds a peak, even in a still video.
    min_snr : float, default=0.0
        Floor of the threshold relative to the video's own noise: a peak of the
        contrasted score must reach ``min_snr`` times the median of the per-frame
        score (most frames of a long video are still, so the median is the score
        of the flow's or the texture's noise).  0 disables it (the MEGC
        baselines); :func:`skmer.predict.predict_long_video` uses 1.5 (see the
        *Spotting* topic page for what it measured).
    n_blocks : int or tuple of (int, int), default=(6, 6)
        Block grid ``(rows, cols)`` over the face.
    face : {"crop", "full"}, default="crop"
        ``"crop"``: find the face (dlib) and crop it; a video with no face on its
        first frame (nor on its middle frame) raises ``ValueError``.  ``"full"``: the
        frames already show the face only (no detection; ``"flow"`` then uses every
        block).
    face_size : int or None, default=None
        Side of the square face crop, pixels.  None keeps the face at the video's
        own scale (the crop's inter-ocular distance is the video's), so that
        sub-pixel movements are not shrunk by downscaling; 128 is faster on large
        faces.
    regions : tuple of str, default=("brow", "eye", "mouth")
        Facial regions whose blocks ``"flow"`` scores (with ``face="crop"``).
    flow_method : {"dis", "farneback", "tvl1"}, default="dis"
        Optical flow of ``"flow"`` (:func:`~skmer.preprocessing.optical_flow`).
    keep_macro : bool, default=True
        Report intervals longer than ``max_duration`` with ``kind="macro"``; False
        drops them.
    upsample : int, default=0
        dlib detector upsampling (1 finds smaller faces).

    Attributes
    ----------
    n_blocks_ : tuple of int
        The block grid ``(rows, cols)``, checked.

    See Also
    --------
    inject_micro_movements : Known micro-movements in a real video, for testing.
    skmer.metrics.spotting_scores : The MEGC spotting metric (interval IoU >= 0.5).

    References
    ----------
    .. [1] A. Moilanen, G. Zhao and M. Pietikäinen, "Spotting rapid facial movements
       from videos using appearance-based feature difference analysis", ICPR 2014.
       :doi:`10.1109/ICPR.2014.303`
    .. [2] X. Li, X. Hong, A. Moilanen, X. Huang, T. Pfister, G. Zhao and M.
       Pietikäinen, "Towards reading hidden emotions: a comparative study of
       spontaneous micro-expression spotting and recognition methods", IEEE Trans.
       Affective Computing 9(4), 2018. :doi:`10.1109/TAFFC.2017.2667642`
    .. [3] S.-J. Wang, S. Wu, X. Qian, J. Li and X. Fu, "A main directional maximal
       difference analysis for spotting facial movements from long-term videos",
       Neurocomputing 230, 2017. :doi:`10.1016/j.neucom.2016.12.034`

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.spotting import MicroExpressionSpotter
    >>> video = np.full((60, 48, 48), 128, dtype=np.uint8)   # 2 s of a still frame
    >>> spotter = MicroExpressionSpotter(method="lbp", face="full")
    >>> spotter.spot(video, fps=30.0)
    []
    """

    _parameter_constraints = {
        "method": [StrOptions(set(METHODS))],
        "window": [Interval(Real, 0, None, closed="neither")],
        "max_duration": [Interval(Real, 0, None, closed="neither")],
        "p": [Interval(Real, 0, 1, closed="both")],
        "min_score": [Interval(Real, 0, None, closed="left")],
        "min_snr": [Interval(Real, 0, None, closed="left")],
        "n_blocks": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "face": [StrOptions(set(FACE_MODES))],
        "face_size": [Interval(Integral, 16, None, closed="left"), None],
        "regions": [tuple, list],
        "flow_method": [StrOptions(set(FLOW_METHODS))],
        "keep_macro": ["boolean"],
        "upsample": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, method="flow", *, window=0.5, max_duration=0.5, p=0.5,
                 min_score=0.0, n_blocks=(6, 6), face="crop", face_size=None,
                 regions=("brow", "eye", "mouth"), flow_method="dis",
                 keep_macro=True, upsample=0, min_snr=0.0):
        self.method = method
        self.window = window
        self.max_duration = max_duration
        self.p = p
        self.min_score = min_score
        self.min_snr = min_snr
        self.n_blocks = n_blocks
        self.face = face
        self.face_size = face_size
        self.regions = regions
        self.flow_method = flow_method
        self.keep_macro = keep_macro
        self.upsample = upsample

    def _check_params(self):
        self._validate_params()
        blocks = _check_blocks(self.n_blocks)
        bad = [r for r in self.regions if r not in REGION_POINTS]
        if bad or not self.regions:
            raise ValueError(
                f"regions must be a non-empty tuple of {sorted(REGION_POINTS)}; got "
                f"{self.regions!r}.")
        return blocks

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Check the parameters, and the videos when given (nothing is learned).

        Parameters
        ----------
        X : sequence of Clip or ndarray, default=None
            Videos, only checked (shape, dtype, finite pixels).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The spotter.
        """
        self.n_blocks_ = self._check_params()
        if X is not None:
            videos = list(X)
            if not videos:
                raise ValueError("MicroExpressionSpotter.fit: X holds no video.")
            for i, video in enumerate(videos):
                frames = video.frames if isinstance(video, Clip) else video
                _check_video(frames, f"MicroExpressionSpotter.fit: video {i}")
        return self

    def _face_frames(self, video, where):
        """Grey face frames in [0, 255] and the landmarks in their coordinates."""
        if self.face == "full":
            return _grey255(video), None
        n = len(video)
        landmarks = ref = None
        for ref in dict.fromkeys((0, n // 2)):
            landmarks = face_landmarks(np.ascontiguousarray(video[ref]),
                                       upsample=self.upsample)
            if landmarks is not None:
                break
        if landmarks is None:
            raise ValueError(
                f"{where}: no face found on frame 0 nor on frame {n // 2} (dlib HOG "
                f"detector, upsample={self.upsample}). The spotter needs a face: try "
                "upsample=1 for a small face, or face='full' if the frames are "
                "already cropped to the face.")
        self._check_face_kept(video, where)
        size = self.face_size
        if size is None:
            # the face at the video's own scale: sub-pixel motion is not shrunk
            iod = np.linalg.norm(landmarks[36:42].mean(0) - landmarks[42:48].mean(0))
            size = max(32, int(round(iod / _EYE_DISTANCE)))
        crop = crop_face(video, reference=ref, landmarks=landmarks, output_size=size,
                         eye_distance=_EYE_DISTANCE, color="grey", where=where)
        return _grey255(crop.frames), crop.landmarks

    def _check_face_kept(self, video, where):
        """Raise when the face is missing on sampled frames (lost mid-video).

        One transform crops every frame, so a face that leaves the picture would
        turn into a large spurious movement.  Up to 12 evenly spaced frames are
        checked with dlib's detector; a single miss (a turned head) only warns.
        """
        n = len(video)
        idx = np.unique(np.linspace(0, n - 1, min(n, _N_FACE_CHECKS)).astype(int))
        missing = [int(i) for i in idx
                   if detect_face(np.ascontiguousarray(video[i]),
                                  upsample=self.upsample) is None]
        if len(missing) == 1:
            logger.warning("%s: no face found on frame %d (of %d checked)", where,
                           missing[0], len(idx))
        elif missing:
            found = [int(i) for i in idx if i not in missing]
            raise ValueError(
                f"{where}: the face is lost: no face found on frames {missing} of the "
                f"{len(idx)} frames checked (found on {found}). The spotter crops "
                "every frame with one transform and needs the face throughout: spot "
                "the part of the video with a face (a slice of the frames), or use "
                "face='full' for frames that are already face crops.")

    def spot(self, video, *, fps=None, return_scores=False):
        """Spot the movements of one long video.

        Parameters
        ----------
        video : Clip or ndarray of shape (n_frames, height, width[, channels])
            The video (uint8, or floats in [0, 1] or [0, 255]); never modified.
        fps : float, default=None
            Frame rate in Hz; required unless ``video`` is a :class:`Clip` with
            ``fps``.
        return_scores : bool, default=False
            Also return the per-frame scores.

        Returns
        -------
        intervals : list of SpottedInterval
            In time order; each has ``onset, apex, offset`` (frame indices),
            ``score``, ``kind`` ("micro" or "macro") and ``fps``.
        scores : Bunch
            Only with ``return_scores``: ``score`` (per-frame change score),
            ``contrast`` (the contrasted score), ``threshold``, ``noise`` (the
            median of ``score``, the unit of ``min_snr``) and ``k`` (half window
            in frames).

        Raises
        ------
        ValueError
            A missing or invalid ``fps``; a video of the wrong shape or dtype, with
            NaN frames, or shorter than the window (``4k + 1`` frames); with
            ``face="crop"``, no face on frame 0 nor on the middle frame, or a face
            lost mid-video (missing on two or more of 12 evenly spaced frames).
        """
        blocks = self._check_params()
        where = "MicroExpressionSpotter.spot"
        if isinstance(video, Clip):
            if fps is None:
                fps = video.fps
            if video.id is not None:
                where += f" ({video.id})"
            video = video.frames
        fps = _check_fps(fps, where)
        video = _check_video(video, where)
        k = _window_frames(self.window, fps)
        _check_length(len(video), k, fps, where)
        grey, landmarks = self._face_frames(video, where)
        grey8 = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
        if self.method == "lbp":
            scorer = LBPScorer(grey8, blocks)
        else:
            mask = region_block_mask(grey.shape[1:], blocks, landmarks,
                                     tuple(self.regions))
            scorer = MDMDScorer(grey8, blocks, mask, self.flow_method)
        s = scorer.scores(k)
        intervals, c, thr = scores_to_intervals(
            s, k, scorer.profile, fps=fps, p=self.p, min_score=self.min_score,
            max_duration=self.max_duration, keep_macro=self.keep_macro,
            min_snr=self.min_snr)
        if return_scores:
            return intervals, Bunch(score=s, contrast=c, threshold=thr, k=k,
                                    noise=noise_level(s))
        return intervals

    def __sklearn_tags__(self):
        """Tags: the input is videos (clips), not a 2-D feature matrix."""
        tags = with_skmer_tags(super().__sklearn_tags__(), min_frames=3)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags

    def predict(self, X, fps=None):
        """Spot the movements of every video of ``X``.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The videos.
        fps : float or sequence of float, default=None
            One frame rate for all videos, or one per video (a :class:`Clip`'s own
            ``fps`` is used when this is None).

        Returns
        -------
        intervals : ndarray of shape (n_videos,), dtype object
            One list of :class:`SpottedInterval` per video.
        """
        check_is_fitted(self)
        if isinstance(X, np.ndarray) and X.dtype != object:
            raise ValueError(
                "predict takes a sequence of videos; for one video array use "
                "spot(video, fps=...) or predict([video], fps=...).")
        videos = list(X)
        if not videos:
            raise ValueError("MicroExpressionSpotter.predict: X holds no video.")
        if fps is None or np.ndim(fps) == 0:
            rates = [fps] * len(videos)
        else:
            rates = list(fps)
            if len(rates) != len(videos):
                raise ValueError(f"fps has {len(rates)} values for {len(videos)} "
                                 "videos; give one value or one per video.")
        out = np.empty(len(videos), dtype=object)
        for i, (video, rate) in enumerate(zip(videos, rates)):
            out[i] = self.spot(video, fps=rate)
        return out
