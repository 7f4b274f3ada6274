"""Temporal stages: key-frame selection, apex spotting and temporal resampling.

Kernels (pure functions on one clip, golden-tested):

- :func:`spot_apex`: the apex frame of a clip from the change to its onset frame
  inside facial regions (eyebrows, mouth).
- :func:`sts_keyframes`: spatio-temporal-slice key frames (Jin et al. 2024,
  eq. 3.1, nearest-pixel matching of adjacent slices).
- :func:`resample_frames`: linear interpolation along time, or the temporal
  interpolation model (TIM) of Zhou et al. (:func:`tim_interpolate`).
- :func:`remap_index`: where an input frame index lands after resampling.

Estimators (thin clip -> clip wrappers): :class:`KeyframeSelector` and
:class:`TemporalResampler`.  Both return a :class:`~skmer.datasets.ClipSequence` of
new in-memory clips whose metadata (onset/apex/offset, ids, landmarks, ...) follows
the frames.
"""

from __future__ import annotations

import logging
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from skmer._core import ClipSequence
from skmer._core._validation import _check_index
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

    from skmer._core import Clip

__all__ = [
    "KeyframeSelector",
    "TemporalResampler",
    "remap_index",
    "resample_frames",
    "spot_apex",
    "sts_keyframes",
    "tim_interpolate",
]

logger = logging.getLogger(__name__)

KEYFRAME_MODES = ("onset-apex", "onset-apex-offset", "apex", "sts")
APEX_SOURCES = ("label", "middle", "spotted", "label-or-middle", "label-or-spotted")
SPOT_METHODS = ("diff", "flow")
SPOT_REFERENCES = ("onset-offset", "onset")
SPOT_ANCHORS = ("auto", "nose", "none")
RESAMPLE_METHODS = ("linear", "tim")

# dlib 68-point order: 17-21 right brow, 22-26 left brow, 48-67 mouth (outer+inner).
_BROWS = np.arange(17, 27)
_MOUTH = np.arange(48, 68)
_NOSE = np.arange(27, 36)     # nose ridge and base: moves with the head only
# Fallback facial regions when no landmarks are given, as fractions of the frame
# (row_start, row_stop, col_start, col_stop) of a face-cropped clip.
_FIXED_REGIONS = ((0.15, 0.45, 0.15, 0.85),   # eyebrows and upper eyes
                  (0.55, 0.90, 0.20, 0.80))   # mouth and chin
_FIXED_NOSE = ((0.35, 0.65, 0.40, 0.60),)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _grey64(frames):
    """Frames ``(T, H, W[, C])`` as float64 grey ``(T, H, W)`` (channel mean)."""
    a = np.asarray(frames, dtype=np.float64)
    return a.mean(axis=-1) if a.ndim == 4 else a


def _check_frames(frames, where="frames"):
    a = np.asarray(frames)
    if a.ndim not in (3, 4):
        raise ValueError(
            f"{where} must have shape (n_frames, height, width[, channels]); got "
            f"shape {a.shape}."
        )
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) or np.issubdtype(
            a.dtype, np.complexfloating):
        raise ValueError(f"{where} must be real numbers; got dtype {a.dtype}.")
    return a


def _check_n(value, name, low):
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)):
        raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")
    return int(value)


def _region_mask(shape, landmarks=None, margin=0.25, groups=(_BROWS, _MOUTH),
                 fixed=_FIXED_REGIONS):
    """Boolean ``(H, W)`` mask of facial regions (default: eyebrows and mouth).

    With 68-point landmarks (dlib order, ``(x, y)`` pixels) each region is the
    bounding box of the points of one of ``groups`` grown by ``margin`` times its
    size on every side (at least 2 px); without, the ``fixed`` boxes (fractions
    of the frame, :data:`_FIXED_REGIONS` by default).
    """
    h, w = shape
    mask = np.zeros((h, w), dtype=bool)
    if landmarks is not None:
        pts = np.asarray(landmarks, dtype=np.float64)
        if pts.ndim == 3:  # (T, 68, 2): per-frame landmarks, use the first frame
            pts = pts[0]
        if pts.shape != (68, 2) or not np.isfinite(pts).all():
            raise ValueError(
                "landmarks must be an array of shape (68, 2) (or (n_frames, 68, 2)) "
                f"of finite (x, y) pixel coordinates in dlib order; got shape "
                f"{pts.shape}."
            )
        for idx in groups:
            x0, y0 = pts[idx].min(axis=0)
            x1, y1 = pts[idx].max(axis=0)
            mx = max(2.0, margin * (x1 - x0))
            my = max(2.0, margin * (y1 - y0))
            r0 = int(np.clip(np.floor(y0 - my), 0, h))
            r1 = int(np.clip(np.ceil(y1 + my) + 1, 0, h))
            c0 = int(np.clip(np.floor(x0 - mx), 0, w))
            c1 = int(np.clip(np.ceil(x1 + mx) + 1, 0, w))
            mask[r0:r1, c0:c1] = True
        if mask.any():
            return mask
        logger.warning("landmarks lie outside the frame; using the fixed face regions")
    for r0, r1, c0, c1 in fixed:
        mask[int(np.floor(r0 * h)):int(np.ceil(r1 * h)),
             int(np.floor(c0 * w)):int(np.ceil(c1 * w))] = True
    return mask


def _gaussian_smooth(x, sigma):
    """Smooth a 1-D signal with a Gaussian (edges reflected); sigma=0: unchanged."""
    if sigma <= 0 or len(x) < 2:
        return x
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(x, sigma, mode="nearest")


# --------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------
def _drift_residual_diff(grey, mask, reference):
    """Region change of every frame of ``grey`` (the window) from the neutral model.

    ``"onset"``: ``|I_t - I_onset|``; ``"onset-offset"``: ``|I_t - I_hat_t|`` with
    ``I_hat_t`` the linear blend of the onset and offset frames at ``t``'s position.
    """
    k = len(grey)
    if reference == "onset" or k < 2:
        return np.abs(grey - grey[0])[:, mask].mean(axis=1)
    w = np.linspace(0.0, 1.0, k)[:, None]
    first, last = grey[0][mask], grey[-1][mask]
    scores = np.empty(k)
    for t in range(k):
        pred = (1.0 - w[t]) * first + w[t] * last
        scores[t] = np.abs(grey[t][mask] - pred).mean()
    return scores


def _nose_anchored(grey, nose):
    """Shift every frame of ``grey`` so that its nose region matches the onset's.

    The translation of the nose box of frame ``t`` against frame 0 is measured by
    phase correlation (sub-pixel, Hanning window) and undone with a bilinear
    shift (edges replicated).  The nose moves with the head and not with an
    expression, so what the shift leaves is the face's own change.
    """
    import cv2

    rows, cols = np.flatnonzero(nose.any(axis=1)), np.flatnonzero(nose.any(axis=0))
    if len(rows) < 4 or len(cols) < 4:
        return grey
    box = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    ref = np.ascontiguousarray(grey[0][box], dtype=np.float64)
    win = cv2.createHanningWindow(ref.shape[::-1], cv2.CV_64F)
    out = grey.copy()
    h, w = grey.shape[1:]
    for t in range(1, len(grey)):
        cur = np.ascontiguousarray(grey[t][box], dtype=np.float64)
        (dx, dy), _ = cv2.phaseCorrelate(ref, cur, win)
        m = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]])
        out[t] = cv2.warpAffine(grey[t], m, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
    return out


def _drift_residual_flow(window, mask, reference, nose=None):
    """Flow counterpart of :func:`_drift_residual_diff` (Farneback from the onset).

    ``"onset-offset"`` subtracts the drift ``w_t * flow(onset -> offset)``.  With
    a ``nose`` mask, the median flow of the nose region of every frame (the head's
    translation, the reference of MDMD) is subtracted first.
    """
    from skmer.preprocessing._flow import optical_flow

    k = len(window)
    grey = _grey64(window)
    lo, hi = float(grey.min()), float(grey.max())
    # one affine intensity map for the whole window (the motion is unchanged):
    # frames of any numeric range go to the flow's [0, 255]
    grey = (grey - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(grey)
    flows = np.zeros((k, int(mask.sum()), 2))
    for t in range(1, k):
        full = optical_flow(grey[0], grey[t], method="farneback", data_range=255.0)
        flows[t] = full[mask]
        if nose is not None and nose.any():
            flows[t] -= np.median(full[nose], axis=0)
    if reference == "onset-offset" and k > 1:
        flows = flows - np.linspace(0.0, 1.0, k)[:, None, None] * flows[-1]
    return np.hypot(flows[..., 0], flows[..., 1]).mean(axis=1)


def spot_apex(frames: np.ndarray, *, onset: int | None = None,
              offset: int | None = None, landmarks: np.ndarray | None = None,
              method: str = "flow", sigma: float = 1.0,
              return_scores: bool = False, reference: str = "onset-offset",
              compensate: bool = False, anchor: str = "auto"
              ) -> int | tuple[int, np.ndarray]:
    """Spot the apex frame of a micro-expression clip.

    Every frame ``t`` of the search window ``[onset, offset]`` gets a score, the
    amount of facial change inside regions around the eyebrows and the mouth,
    where micro-expressions mostly show [1]_ [2]_, that neither the head's
    motion (the nose region's, ``anchor``) nor a slow drift of the face from the
    onset to the offset explains: a micro-expression leaves the neutral face and
    returns to it, while the head and the lighting move and drift.  The
    scores are smoothed over time with a Gaussian of ``sigma`` frames and the apex
    is their argmax (the earliest one on ties).

    Parameters
    ----------
    frames : ndarray of shape (n_frames, height, width[, channels])
        The clip (colour frames are averaged over channels).  Never modified.
    onset, offset : int, default=None
        Search window (inclusive frame indices); ``None`` means the first / last
        frame.  Both are taken as neutral frames (see ``reference``).
    landmarks : ndarray of shape (68, 2), default=None
        Facial landmarks ``(x, y)`` in pixels, dlib 68-point order (e.g. set by
        face cropping).  The regions are the bounding boxes of the eyebrow points
        (17-26) and of the mouth points (48-67), each grown by a quarter of its
        size.  Without landmarks, the landmarks found on the onset frame by
        ``compensate=True`` are used, else fixed regions of a face-cropped frame:
        rows 15-45 % x columns 15-85 % (eyebrows) and rows 55-90 % x columns
        20-80 % (mouth).
    method : {"flow", "diff"}, default="flow"
        Measure of change: ``"flow"``, the mean magnitude of the Farneback optical
        flow from the onset frame in the regions (robust to illumination changes
        and to drifts of several pixels; the window is scaled to [0, 255] by one
        affine map first, so frames of any range work); ``"diff"``, the mean
        absolute grey-level difference in the regions (the default before skmer
        0.2; faster, and the one to use on hand-made single-pixel tests).
    sigma : float, default=1.0
        Standard deviation, in frames, of the temporal Gaussian smoothing of the
        scores (0 disables it).
    return_scores : bool, default=False
        Also return the smoothed scores of the frames of the window.
    reference : {"onset-offset", "onset"}, default="onset-offset"
        The neutral model frame ``t`` is compared with.  ``"onset-offset"``: the
        linear interpolation between the onset and the offset frames at ``t``'s
        position in the window (``"diff"``: the blend
        ``(1 - w) I_onset + w I_offset``, ``w = (t - onset) / (offset - onset)``;
        ``"flow"``: the flow from the onset minus ``w`` times the flow from the
        onset to the offset), so a linear drift scores nothing and the onset and
        the offset score 0.  ``"onset"``: the onset frame alone (skmer's behaviour
        before version 0.2; a drift then makes the score grow to the last frame).
    anchor : {"auto", "nose", "none"}, default="auto"
        ``"nose"``: remove the head's translation before scoring.  With
        ``method="flow"`` the median flow of the nose region (the bounding box of
        the nose points 27-35, grown as the other regions; without landmarks rows
        35-65 % x columns 40-60 %) is subtracted from the flow of every frame,
        the head-motion reference of MDMD [3]_: the nose moves with the head, not
        with an expression.  With ``method="diff"`` every frame is shifted so that
        its nose region matches the onset's (phase correlation).  ``"auto"``:
        ``"nose"`` with ``"flow"``, ``"none"`` with ``"diff"`` (where the shift
        did not help, see Notes).
    compensate : bool, default=False
        Remove rigid head motion first: register every frame of the window to the
        onset frame with :func:`~skmer.preprocessing.register_frames` (dlib
        landmarks on every frame, stable points, ECC refinement).  Frames without
        a face get interpolated motion; a window with no face at all is scored
        unregistered (a warning is logged).  Costs detection on every frame.

    Returns
    -------
    apex : int
        Index of the apex frame in ``frames`` (``onset <= apex <= offset``).
    scores : ndarray of shape (offset - onset + 1,)
        Only with ``return_scores=True``: the smoothed scores.

    Notes
    -----
    Liong et al. [1]_ spot the apex with LBP / optical-strain features of the
    eyebrow and mouth regions (from landmarks) compared with the onset frame, and
    a binary search over the frames; Li et al. [2]_ recognise micro-expressions
    from such a single spotted apex frame.  This kernel keeps the idea of [1]_
    (region-restricted change) with a plain frame difference or a flow magnitude,
    and an exhaustive argmax after temporal smoothing (no binary search).

    The default ``reference="onset-offset"`` (new in skmer 0.2; before, the change
    from the onset alone) models what is not the expression as a linear drift
    between the two neutral frames, and the default flow relative to the nose
    (new in skmer 0.2; before, the frame difference) removes what moves with
    the head.  Measured by ``benchmarks/apex_spotting.py`` as the median apex
    error in % of the onset-offset span:

    ========================  ===============  ===============  =============
    score                     injected, exact  injected, wider  CASME II clip
    ========================  ===============  ===============  =============
    onset, diff (skmer 0.1)   50.0             66.7             54
    onset-offset, diff        8.3              9.1              28
    onset-offset, flow, nose  8.3              9.1              12.5
    ========================  ===============  ===============  =============

    "Injected": 60 known movements written into the real face videos (windows
    on the true onset and offset, or a quarter span wider); the flow relative
    to the nose also halves the error on the talking, moving face alone (8.7 %
    against 13.4 %).  "CASME II clip": the one annotated raw clip at hand
    (sub01/EP02_01f; 11.9 % on its 10-frame cropped release), where the whole
    face, the nose included, changes at frames 8-11 and pulls the frame
    difference there; one sample, not a statistic.  The nose shift of
    ``"diff"`` did not help (9.1 % and 13.8 % on the injected windows), nor did
    ``compensate=True`` (the injected faces move little within 0.2-0.5 s, and
    the registration's own jitter shows on the CASME II clip).  It needs a
    neutral offset: on a window whose offset lies inside the expression, give the
    real offset or use ``reference="onset"``.  The blend of two frames is a good
    model of a drift of a fraction of a pixel; for larger head motion use
    ``compensate=True`` or ``method="flow"``.

    References
    ----------
    .. [1] S.-T. Liong, J. See, K. Wong, A. C. Le Ngo, Y.-H. Oh and R. Phan,
       "Automatic apex frame spotting in micro-expression database", 3rd IAPR
       Asian Conference on Pattern Recognition (ACPR), 2015,
       :doi:`10.1109/ACPR.2015.7486586`.
    .. [2] Y. Li, X. Huang and G. Zhao, "Can micro-expression be recognized based
       on single apex frame?", IEEE International Conference on Image Processing
       (ICIP), 2018, :doi:`10.1109/ICIP.2018.8451376`.
    .. [3] S.-J. Wang, S. Wu, X. Qian, J. Li and X. Fu, "A main directional
       maximal difference analysis for spotting facial movements from long-term
       videos", Neurocomputing 230, 2017, :doi:`10.1016/j.neucom.2016.12.034`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing._temporal import spot_apex
    >>> frames = np.zeros((9, 20, 20))
    >>> frames[:, 6, 8] = [0, 1, 3, 6, 9, 6, 3, 1, 0]  # a brow pixel peaks at 4
    >>> frames[:, 5, 5:15] += np.arange(9)[:, None]    # a linear drift of the brow
    >>> spot_apex(frames, sigma=0, method="diff")
    4
    >>> spot_apex(frames, sigma=0, method="diff", reference="onset")  # the drift
    8
    """
    frames = _check_frames(frames)
    n = frames.shape[0]
    onset = 0 if onset is None else _check_index(onset, "onset", n)
    offset = n - 1 if offset is None else _check_index(offset, "offset", n)
    if offset < onset:
        raise ValueError(f"offset={offset} lies before onset={onset}.")
    if method not in SPOT_METHODS:
        raise ValueError(f"method must be one of {list(SPOT_METHODS)}; got {method!r}.")
    if isinstance(sigma, bool) or not isinstance(sigma, Real) or not sigma >= 0:
        raise ValueError(f"sigma must be a number >= 0; got {sigma!r}.")
    if reference not in SPOT_REFERENCES:
        raise ValueError(f"reference must be one of {list(SPOT_REFERENCES)}; got "
                         f"{reference!r}.")
    if anchor not in SPOT_ANCHORS:
        raise ValueError(f"anchor must be one of {list(SPOT_ANCHORS)}; got "
                         f"{anchor!r}.")
    if not isinstance(compensate, (bool, np.bool_)):
        raise ValueError(f"compensate must be True or False; got {compensate!r}.")
    window = frames[onset:offset + 1]
    if compensate and len(window) > 1:
        from skmer.preprocessing._register import register_frames

        res = register_frames(window, reference=0, on_missing="interpolate",
                              where="spot_apex")
        window = res.frames
        if landmarks is None and res.found[0]:
            landmarks = res.landmarks[0]
    mask = _region_mask(frames.shape[1:3], landmarks)
    if anchor == "auto":
        anchor = "nose" if method == "flow" else "none"
    nose = None if anchor == "none" else _region_mask(
        frames.shape[1:3], landmarks, groups=(_NOSE,), fixed=_FIXED_NOSE)
    if method == "diff":
        grey = _grey64(window)
        if nose is not None and len(grey) > 1:
            grey = _nose_anchored(grey, nose)
        scores = _drift_residual_diff(grey, mask, reference)
    else:
        scores = _drift_residual_flow(window, mask, reference, nose)
    scores = _gaussian_smooth(scores, float(sigma))
    apex = onset + int(np.argmax(scores))
    return (apex, scores) if return_scores else apex


def _nearest_pixel_distance(cur, prev, radius):
    """Nearest-pixel matching distance of slices ``cur`` to ``prev`` along x.

    ``cur`` and ``prev`` are ``(..., W)``; every pixel of ``cur`` is matched to the
    pixel of ``prev`` of nearest value among the ``2 * radius + 1`` pixels around
    its own position (those inside the slice), and the absolute difference to
    that match is returned, shape ``(..., W)``.
    """
    w = cur.shape[-1]
    best = np.abs(cur - prev)
    for d in range(1, radius + 1):
        if d >= w:
            break
        # prev shifted by +d (pixel x matched to x + d) and by -d (to x - d)
        best[..., : w - d] = np.minimum(best[..., : w - d],
                                        np.abs(cur[..., : w - d] - prev[..., d:]))
        best[..., d:] = np.minimum(best[..., d:],
                                   np.abs(cur[..., d:] - prev[..., : w - d]))
    return best


def sts_keyframes(frames: np.ndarray, n_keyframes: int, *,
                  n_slices: int | None = None, search_radius: int = 1,
                  return_scores: bool = False) -> np.ndarray | tuple:
    """Spatio-temporal-slice (STS) key frames of a clip (Jin et al. 2024, eq. 3.1).

    The horizontal slice of frame ``i`` at row ``y_k`` is that row of pixels,
    ``h_i = (P_i(1, y_k), ..., P_i(x, y_k), ..., P_i(m, y_k))`` (eq. 3.1 of
    [1]_); stacking ``h_0, ..., h_{N-1}`` in frame order gives the slice image of
    row ``y_k``. The pixel proximity of adjacent slices ``h_{i-1}`` and ``h_i``
    is measured by nearest-pixel matching: every pixel ``P_i(x, y_k)`` is
    matched to the pixel of ``h_{i-1}`` of nearest value among
    ``P_{i-1}(x + d, y_k)``, ``|d| <= search_radius``, and the score of frame
    ``i`` is the mean absolute difference to these matches over all pixels and
    slices,

    ``D_i = mean_{k, x} min_{|d| <= r} |P_i(x, y_k) - P_{i-1}(x + d, y_k)|``.

    A shift of the slice texture by at most ``r`` pixels per frame (its tilt in
    the slice image: the motion of the camera or of the whole head) is matched
    and scores nothing; what the matching cannot explain (a change of the face
    itself) scores. The first frame (the reference) and the ``n_keyframes - 1``
    frames of largest ``D_i`` (least proximate to their predecessor) are kept,
    in temporal order.

    Parameters
    ----------
    frames : ndarray of shape (n_frames, height, width[, channels])
        The clip (colour frames are averaged over channels).
    n_keyframes : int
        Number of key frames, ``1 <= n_keyframes <= n_frames``.
    n_slices : int, default=None
        Number of horizontal slices (rows ``y_k``), evenly spaced (centred) over
        the rows. ``None`` uses every row.
    search_radius : int, default=1
        Largest displacement ``r`` (pixels along the slice) of the nearest-pixel
        matching. 0 compares each pixel with the same pixel of the previous
        frame only (the plain temporal difference of the slices).
    return_scores : bool, default=False
        Also return ``D`` (``D[0] = 0``: frame 0 has no predecessor).

    Returns
    -------
    indices : ndarray of shape (n_keyframes,), dtype int
        Increasing frame indices; ``indices[0] == 0``.
    scores : ndarray of shape (n_frames,)
        ``D_i``; only with ``return_scores=True``.

    Notes
    -----
    Jin et al. 2024 (Sec. 3, preprocessing step 3, eq. 3.1) define the
    horizontal slice and say that the key frames "are determined by measuring
    the pixel proximity of the adjacent spatio-temporal slices and by using the
    nearest pixel matching method"; they give no formula for the proximity, no
    search range, no number of key frames and no row choice. skmer's reading:
    the proximity is the mean absolute difference after matching each pixel to
    its nearest-valued neighbour within ``search_radius`` pixels in the previous
    slice; the frames least proximate to their predecessors are the key frames;
    all rows are used by default. Only horizontal slices enter (eq. 3.1); an
    earlier skmer version also used vertical slices and no matching (the
    standard STS difference of Ngo et al. [2]_), which ``search_radius=0``
    reproduces for the horizontal slices. Ties are broken in favour of the
    earlier frame.

    References
    ----------
    .. [1] H. Jin, N. He, Z. Li and P. Yang, "Micro-expression recognition based on
       multi-scale 3D residual convolutional neural network", Mathematical
       Biosciences and Engineering 21(4), 5007-5031, 2024,
       :doi:`10.3934/mbe.2024221`.
    .. [2] C.-W. Ngo, T.-C. Pong and H.-J. Zhang, "Motion analysis and segmentation
       through spatio-temporal slices processing", IEEE Transactions on Image
       Processing 12(3), 341-355, 2003, :doi:`10.1109/TIP.2003.809020`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing._temporal import sts_keyframes
    >>> ramp = np.tile(np.arange(0.0, 64.0, 8.0), (4, 1))   # 4x8 frames
    >>> frames = np.stack([ramp] * 5)
    >>> frames[2:, :, 1:] = ramp[:, :-1]  # t=2: the texture moves 1 px right
    >>> frames[4, 0, 4] += 50.0           # t=4: a local change
    >>> sts_keyframes(frames, 2).tolist()  # the move is matched, the change kept
    [0, 4]
    >>> sts_keyframes(frames, 2, search_radius=0).tolist()
    [0, 2]
    """
    frames = _check_frames(frames)
    n = frames.shape[0]
    n_keyframes = _check_n(n_keyframes, "n_keyframes", 1)
    if n_keyframes > n:
        raise ValueError(
            f"n_keyframes={n_keyframes} exceeds the {n} frames of the clip."
        )
    radius = _check_n(search_radius, "search_radius", 0)
    grey = _grey64(frames)
    h = grey.shape[1]
    if n_slices is None:
        rows = np.arange(h)
    else:
        n_slices = _check_n(n_slices, "n_slices", 1)
        rows = np.unique(((np.arange(n_slices) + 0.5) * h / n_slices).astype(int))
    slices = grey[:, rows, :]                    # (T, n_rows, W): h_i of eq. 3.1
    scores = np.zeros(n)
    if n > 1:
        scores[1:] = _nearest_pixel_distance(slices[1:], slices[:-1],
                                             radius).mean(axis=(1, 2))
    order = np.argsort(-scores[1:], kind="stable") + 1
    idx = np.sort(np.concatenate([[0], order[: n_keyframes - 1]])).astype(int)
    return (idx, scores) if return_scores else idx


def tim_interpolate(frames: np.ndarray, n_frames: int) -> np.ndarray:
    """Temporal interpolation model (TIM) of Zhou et al.

    The ``n`` frames of a clip are seen as points of a curve in pixel space.  They
    are centred, projected on their principal components (at most ``n - 1``), and
    mapped by a linear map ``W`` onto the graph embedding of a path graph
    ``P_n``: frame ``t = 1..n`` goes to ``y(t/n)`` with
    ``y_k(p) = sin(pi k p + pi (n - k) / (2 n))``, ``k = 1..n-1``, the eigenvectors
    of the path graph's Laplacian (its constant eigenvector dropped) [1]_.  That
    curve is continuous in ``p``; ``n_frames`` points evenly spaced on
    ``p in [1/n, 1]`` are mapped back to pixel space through ``W`` and the
    principal components [2]_.

    Parameters
    ----------
    frames : ndarray of shape (n_frames_in, height, width[, channels])
        The clip, at least 2 frames.
    n_frames : int
        Number of output frames, at least 2.

    Returns
    -------
    out : ndarray of shape (n_frames, height, width[, channels]), dtype float64
        The interpolated frames; the first and last are the input's first and last
        frames, and ``n_frames == n_frames_in`` reproduces the input (up to
        rounding errors).

    Notes
    -----
    ``W`` solves ``Q^T W = Y`` (``Q``: the principal-component scores of the
    frames, ``Y``: the embedding) in the least-squares sense and a new point is
    ``x(p) = U (W^T)^+ y(p) + mean``, as in the authors' reference implementation.
    When the frames are linearly independent (the case the authors assume) the
    system is exact; otherwise (e.g. repeated frames) the pseudo-inverses give the
    minimum-norm solution, and the model stays well defined.  Since the
    ``y_k`` are cosines ``cos(pi k (t - 1/2) / n)``, TIM equals trigonometric
    (DCT-II) interpolation of every pixel along time; it may overshoot the input's
    value range slightly between frames.  The principal components come from the
    ``n x n`` Gram matrix of the centred frames (components below ``1e-7`` times
    the largest singular value are dropped), so time and memory are
    ``O(n^2 * n_pixels)`` and ``O(n * n_pixels)`` (float64).

    References
    ----------
    .. [1] Z. Zhou, G. Zhao and M. Pietikainen, "Towards a practical lipreading
       system", IEEE Conference on Computer Vision and Pattern Recognition (CVPR),
       2011, :doi:`10.1109/CVPR.2011.5995345`.
    .. [2] T. Pfister, X. Li, G. Zhao and M. Pietikainen, "Recognising spontaneous
       facial micro-expressions", IEEE International Conference on Computer Vision
       (ICCV), 2011, :doi:`10.1109/ICCV.2011.6126401`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing._temporal import tim_interpolate
    >>> rng = np.random.default_rng(0)
    >>> frames = rng.random((5, 4, 4))
    >>> np.allclose(tim_interpolate(frames, 5), frames)
    True
    >>> tim_interpolate(frames, 9).shape
    (9, 4, 4)
    """
    frames = _check_frames(frames)
    n = frames.shape[0]
    if n < 2:
        raise ValueError(f"TIM needs a clip of at least 2 frames; got {n}.")
    n_frames = _check_n(n_frames, "n_frames", 2)
    xc = frames.reshape(n, -1).astype(np.float64)   # a copy: centred in place
    mu = xc.mean(axis=0)
    xc -= mu
    # PCA of the frames through the n x n Gram matrix (xc = u s vt, never forming
    # the n x n_pixels vt): scores q = u s, r <= n - 1 components
    evals, evecs = np.linalg.eigh(_gram(xc))
    order = np.argsort(evals)[::-1]
    sv = np.sqrt(np.clip(evals[order], 0.0, None))
    u = evecs[:, order]
    r = int(min(np.sum(sv > sv[0] * 1e-7), n - 1)) if sv[0] > 0 else 0
    out_shape = (n_frames,) + frames.shape[1:]
    if r == 0:  # all frames equal: the curve is a point
        return np.broadcast_to(mu, (n_frames, mu.size)).reshape(out_shape).copy()
    u, sv = u[:, :r], sv[:r]
    q = u * sv                                             # (n, r)
    # graph embedding of the path graph P_n: y_k(t / n), t = 1..n, k = 1..n-1
    k = np.arange(1, n)

    def embed(p):
        return np.sin(np.pi * np.outer(p, k) + np.pi * (n - k) / (2.0 * n))

    y = embed(np.arange(1, n + 1) / n)                      # (n, n - 1)
    w = np.linalg.lstsq(q, y, rcond=None)[0]               # (r, n - 1): q w = y
    p = np.linspace(1.0 / n, 1.0, n_frames)
    z = embed(p) @ np.linalg.pinv(w)                       # (n_frames, r) scores
    # back to pixels: x = z vt + mu with vt = diag(1 / s) u^T xc
    out = ((z / sv) @ u.T) @ xc + mu
    return out.reshape(out_shape)


def _gram(x, chunk=4096):
    """``x @ x.T`` summed over column blocks (much faster than one wide GEMM)."""
    g = np.zeros((x.shape[0], x.shape[0]))
    for start in range(0, x.shape[1], chunk):
        block = np.ascontiguousarray(x[:, start:start + chunk])
        g += block @ block.T
    return g


def _linear(frames, n_frames):
    n = frames.shape[0]
    pos = np.linspace(0.0, n - 1.0, n_frames)
    lo = np.clip(np.floor(pos).astype(int), 0, n - 1)
    hi = np.minimum(lo + 1, n - 1)
    frac = (pos - lo).reshape((-1,) + (1,) * (frames.ndim - 1))
    a = frames.astype(np.float64)
    return (1.0 - frac) * a[lo] + frac * a[hi]


def resample_frames(frames: np.ndarray, n_frames: int,
                    method: str = "linear") -> np.ndarray:
    """Resample a clip to ``n_frames`` frames along time.

    Output frame ``j`` sits at input time ``j * (n - 1) / (n_frames - 1)`` (the
    first and last frames are kept).

    Parameters
    ----------
    frames : ndarray of shape (n_frames_in, height, width[, channels])
        The clip, at least 2 frames.
    n_frames : int
        Number of output frames, at least 2.
    method : {"linear", "tim"}, default="linear"
        ``"linear"``: linear interpolation between the two nearest frames;
        ``"tim"``: the temporal interpolation model (:func:`tim_interpolate`).

    Returns
    -------
    out : ndarray of shape (n_frames, height, width[, channels]), dtype float64
        The resampled clip.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing._temporal import resample_frames
    >>> ramp = np.arange(3.0)[:, None, None] * np.ones((3, 2, 2))
    >>> resample_frames(ramp, 5)[:, 0, 0].tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0]
    """
    frames = _check_frames(frames)
    if method not in RESAMPLE_METHODS:
        raise ValueError(
            f"method must be one of {list(RESAMPLE_METHODS)}; got {method!r}."
        )
    n_frames = _check_n(n_frames, "n_frames", 2)
    if frames.shape[0] < 2:
        raise ValueError(
            f"Resampling needs a clip of at least 2 frames; got {frames.shape[0]}."
        )
    if method == "tim":
        return tim_interpolate(frames, n_frames)
    return _linear(frames, n_frames)


def remap_index(index: int | None, n_in: int, n_out: int) -> int | None:
    """Output frame of input frame ``index`` after resampling ``n_in -> n_out``.

    Input frame ``t`` sits at output position ``t * (n_out - 1) / (n_in - 1)``,
    rounded to the nearest frame (halves round up).  The map keeps the order of
    indices (onset <= apex <= offset stays true) but distinct indices may merge
    when ``n_out < n_in``.  ``None`` stays ``None``.

    Examples
    --------
    >>> from skmer.preprocessing._temporal import remap_index
    >>> remap_index(3, 7, 13), remap_index(3, 10, 4), remap_index(None, 5, 8)
    (6, 1, None)
    """
    if index is None:
        return None
    if n_in < 2:
        return 0
    return int(np.floor(index * (n_out - 1) / (n_in - 1) + 0.5))


# --------------------------------------------------------------------------------------
# per-clip workers (module level: picklable for joblib)
# --------------------------------------------------------------------------------------
def _select_clip(clip, i, *, mode, apex_source, n_keyframes, spotter, prefix,
                 search_radius=1, spot_params=None):
    frames = clip.frames
    n = frames.shape[0]
    where = f"{prefix}clip {i}: "
    needed = {"onset-apex": 2, "onset-apex-offset": 3, "apex": 1,
              "sts": n_keyframes}[mode]
    if n < needed:
        what = ("key frames" if mode == "sts"
                else "frames (" + mode.replace("-", ", ") + ")")
        raise ValueError(
            f"{where}has {n} frame(s); mode={mode!r} needs at least {needed} "
            f"{what}."
        )
    if mode == "sts":
        idx = sts_keyframes(frames, n_keyframes, search_radius=search_radius)
        pos = np.asarray(idx)

        def nearest(t):
            if t is None or not (isinstance(t, (Integral, np.integer)) and 0 <= t < n):
                return None
            return int(np.argmin(np.abs(pos - t)))

        meta = {k: nearest(getattr(clip, k)) for k in ("onset", "apex", "offset")}
        # key frames are not evenly spaced in time: no frame rate applies
        return clip.replace(frames=frames[idx], fps=None, **meta)

    onset = 0 if clip.onset is None else _check_index(clip.onset, "onset", n, where)
    offset = (n - 1 if clip.offset is None
              else _check_index(clip.offset, "offset", n, where))
    if offset < onset:
        raise ValueError(f"{where}offset={offset} lies before onset={onset}.")
    label = clip.apex
    if apex_source in ("label", "label-or-middle", "label-or-spotted") and label \
            is not None:
        apex = _check_index(label, "apex", n, where)
    elif apex_source == "label":
        raise ValueError(
            f"{where}has no apex label (clip.apex is None, e.g. SMIC's original "
            "release or a bare array); use apex='middle' (the middle frame "
            "between onset and offset), apex='spotted' (spot_apex) or "
            "'label-or-middle' / 'label-or-spotted' to fall back only where the "
            "label is missing."
        )
    elif apex_source in ("middle", "label-or-middle"):
        apex = (onset + offset) // 2
    else:
        apex = spot_apex(frames, onset=onset, offset=offset,
                         landmarks=clip.landmarks, method=spotter,
                         **(spot_params or {}))
    if not onset <= apex <= offset:
        raise ValueError(
            f"{where}apex={apex} lies outside [onset, offset] = [{onset}, {offset}]."
        )
    if mode == "onset-apex":
        idx, meta = [onset, apex], dict(onset=0, apex=1, offset=None)
    elif mode == "onset-apex-offset":
        idx, meta = [onset, apex, offset], dict(onset=0, apex=1, offset=2)
    else:
        idx, meta = [apex], dict(onset=None, apex=0, offset=None)
    # key frames are not evenly spaced in time: no frame rate applies
    return clip.replace(frames=frames[idx], fps=None, **meta)


def _resample_clip(clip, *, n_frames, method, dtype):
    frames = clip.frames
    out = resample_frames(frames, n_frames, method=method)
    if dtype == "input":
        if np.issubdtype(frames.dtype, np.integer):
            info = np.iinfo(frames.dtype)
            out = np.clip(np.rint(out), info.min, info.max)
        elif frames.dtype == bool:
            out = out >= 0.5
        out = out.astype(frames.dtype)
    else:
        out = out.astype(dtype)
    n = frames.shape[0]
    meta = {}
    for k in ("onset", "apex", "offset"):
        v = getattr(clip, k)
        meta[k] = (remap_index(v, n, n_frames)
                   if isinstance(v, (Integral, np.integer)) and not isinstance(v, bool)
                   else None)
    if clip.fps is not None and n > 1:
        # the same time span now holds n_frames frames: the frame rate follows
        meta["fps"] = float(clip.fps) * (n_frames - 1) / (n - 1)
    return clip.replace(frames=out, **meta)


_SPOT_PARAMS = ("reference", "anchor", "compensate", "sigma")


def _check_spot_params(params):
    """Raise when ``spot_params`` names an argument spot_apex does not take here."""
    bad = sorted(set(params or {}) - set(_SPOT_PARAMS))
    if bad:
        hint = (" (the score is the `spotter` parameter)" if "method" in bad
                else "")
        raise ValueError(
            f"spot_params may hold {list(_SPOT_PARAMS)}; got {bad}{hint}.")


def _check_clip_list(est, X, frame_shape=None, min_frames=1):
    return check_clips(X, ensure_min_frames=min_frames, frame_shape=frame_shape,
                       same_shape=frame_shape is None, estimator=est)


# --------------------------------------------------------------------------------------
# estimators
# --------------------------------------------------------------------------------------
class KeyframeSelector(TransformerMixin, BaseEstimator):
    """Keep the key frames of every clip (onset, apex, offset, or STS key frames).

    Parameters
    ----------
    mode : {"onset-apex", "onset-apex-offset", "apex", "sts"}, default="onset-apex"
        Frames kept, in this order:

        - ``"onset-apex"``: onset and apex; output metadata ``onset=0, apex=1,
          offset=None``.
        - ``"onset-apex-offset"``: ``onset=0, apex=1, offset=2``.
        - ``"apex"``: the apex alone; ``apex=0, onset=offset=None``.
        - ``"sts"``: ``n_keyframes`` spatio-temporal-slice key frames
          (:func:`sts_keyframes`: the horizontal slices of eq. 3.1 of Jin et al.
          [3]_, scored by nearest-pixel matching of adjacent slices); the first
          frame is always kept.  Each of onset/apex/offset becomes the position of
          the nearest kept frame (ties: the earlier one).

        A missing onset means frame 0, a missing offset the last frame.
    apex : {"label", "middle", "spotted", "label-or-middle", "label-or-spotted"}, \
default="label"
        Where the apex comes from (not used by ``mode="sts"``): ``"label"``, the
        clip's ``apex`` metadata (a clip without one raises ``ValueError``);
        ``"middle"``, the frame ``(onset + offset) // 2``; ``"spotted"``,
        :func:`spot_apex` between onset and offset (landmark regions when
        ``clip.landmarks`` is set, else fixed face regions).  The ``"label-or-*"``
        options use the label where there is one and fall back elsewhere (e.g. a
        CASME II + SMIC mix: SMIC's original release has no apex labels).
    n_keyframes : int, default=5
        Number of key frames of ``mode="sts"``; a clip with fewer frames raises
        ``ValueError``.
    spotter : {"flow", "diff"}, default="flow"
        Score of :func:`spot_apex` for ``apex="spotted"``: Farneback flow
        magnitude relative to the nose (the default of :func:`spot_apex` since
        skmer 0.2) or frame difference (the default before).
    spot_params : dict, default=None
        Further keyword arguments of :func:`spot_apex` for ``apex="spotted"``:
        ``reference``, ``anchor``, ``compensate`` and ``sigma`` (e.g.
        ``{"compensate": True}`` registers the frames first).  ``None``: its
        defaults.
    n_jobs : int, default=None
        Number of clips processed in parallel (joblib); the output does not
        depend on it.
    verbose : int, default=0
        Show a ``tqdm`` progress bar over the clips in :meth:`transform` when
        positive; the output does not depend on it.
    search_radius : int, default=1
        Search radius, in pixels along a slice, of the nearest-pixel matching of
        ``mode="sts"`` (see :func:`sts_keyframes`; 0: plain slice differences).

    Attributes
    ----------
    frame_shape_ : tuple of int
        ``(height, width[, channels])`` of the frames seen during :term:`fit`.

    See Also
    --------
    TemporalResampler : Resample every clip to a fixed number of frames.
    spot_apex : The apex spotter.
    sts_keyframes : The spatio-temporal-slice key frames.

    Notes
    -----
    The selected frames are copies; the output clips carry the input's other
    metadata (id, subject, label, fps, landmarks).  Stateless: :term:`fit` only
    checks the parameters and records the frame shape.

    References
    ----------
    .. [1] S.-T. Liong, J. See, K. Wong and R. C.-W. Phan, "Less is more:
       Micro-expression recognition from video using apex frame", Signal
       Processing: Image Communication 62, 2018,
       :doi:`10.1016/j.image.2017.11.006`.
    .. [2] S.-T. Liong, J. See, K. Wong, A. C. Le Ngo, Y.-H. Oh and R. Phan,
       "Automatic apex frame spotting in micro-expression database", ACPR 2015,
       :doi:`10.1109/ACPR.2015.7486586`.
    .. [3] H. Jin, N. He, Z. Li and P. Yang, "Micro-expression recognition based on
       multi-scale 3D residual convolutional neural network", Mathematical
       Biosciences and Engineering 21(4), 5007-5031, 2024,
       :doi:`10.3934/mbe.2024221`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.datasets import Clip
    >>> from skmer.preprocessing._temporal import KeyframeSelector
    >>> frames = np.arange(8 * 4 * 4, dtype=np.uint8).reshape(8, 4, 4)
    >>> X = [Clip(frames, onset=1, apex=4, offset=6, id="a")]
    >>> out = KeyframeSelector("onset-apex-offset").fit_transform(X)
    >>> out[0].shape, (out[0].onset, out[0].apex, out[0].offset), out[0].id
    ((3, 4, 4), (0, 1, 2), 'a')
    >>> KeyframeSelector("apex", apex="middle").fit_transform([frames])[0].shape
    (1, 4, 4)
    """

    _parameter_constraints = {
        "mode": [StrOptions(set(KEYFRAME_MODES))],
        "apex": [StrOptions(set(APEX_SOURCES))],
        "n_keyframes": [Interval(Integral, 1, None, closed="left")],
        "search_radius": [Interval(Integral, 0, None, closed="left")],
        "spotter": [StrOptions(set(SPOT_METHODS))],
        "spot_params": [dict, None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, mode: str = "onset-apex", apex: str = "label",
                 n_keyframes: int = 5, spotter: str = "flow", n_jobs: int | None = None,
                 verbose: int = 0, search_radius: int = 1,
                 spot_params: dict | None = None) -> None:
        self.mode = mode
        self.apex = apex
        self.n_keyframes = n_keyframes
        self.search_radius = search_radius
        self.spotter = spotter
        self.spot_params = spot_params
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Sequence[Clip | np.ndarray] | ClipSequence,
            y: None = None) -> KeyframeSelector:
        """Check the parameters and record the frame shape.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted selector.
        """
        _check_spot_params(self.spot_params)
        clips = _check_clip_list(self, X)
        self.frame_shape_ = tuple(clips[0].frames.shape[1:])
        return self

    def transform(self, X: Sequence[Clip | np.ndarray] | ClipSequence) -> ClipSequence:
        """Keep the key frames of every clip.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips, with the frame shape seen in :term:`fit`.

        Returns
        -------
        X_out : ClipSequence
            New in-memory clips with the selected frames and remapped metadata.
        """
        check_is_fitted(self)
        clips = _check_clip_list(self, X, frame_shape=self.frame_shape_)
        prefix = f"{type(self).__name__}: "
        out = parallel_map(
            (delayed(_select_clip)(clip, i, mode=self.mode, apex_source=self.apex,
                                   n_keyframes=self.n_keyframes,
                                   spotter=self.spotter, prefix=prefix,
                                   search_radius=self.search_radius,
                                   spot_params=self.spot_params)
             for i, clip in enumerate(clips)),
            n_jobs=self.n_jobs, verbose=self.verbose, total=len(clips),
            desc=type(self).__name__,
        )
        return ClipSequence(out)

    def __sklearn_tags__(self):
        min_frames = {"onset-apex": 2, "onset-apex-offset": 3, "apex": 1}.get(
            self.mode, self.n_keyframes)
        tags = with_skmer_tags(super().__sklearn_tags__(), min_frames=min_frames)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


class TemporalResampler(TransformerMixin, BaseEstimator):
    """Resample every clip to a fixed number of frames.

    Parameters
    ----------
    n_frames : int, default=16
        Number of frames of every output clip (at least 2).
    method : {"linear", "tim"}, default="linear"
        ``"linear"``: linear interpolation along time; ``"tim"``: the temporal
        interpolation model of Zhou et al. [1]_, as used for micro-expressions by
        Pfister et al. [2]_ (:func:`tim_interpolate`).  Output frame ``j`` sits at
        input time ``j * (T - 1) / (n_frames - 1)`` for both.
    output : {"clips", "array"}, default="clips"
        ``"clips"``: a :class:`~skmer.datasets.ClipSequence` of new clips carrying
        the metadata; ``"array"``: the stacked array
        ``(n_clips, n_frames, height, width[, channels])`` (metadata dropped).
    dtype : {"float32", "float64", "input"}, default="float32"
        Output pixel type.  ``"input"`` keeps the input's type (integer frames
        are rounded and clipped to their type's range: TIM may overshoot).
    n_jobs : int, default=None
        Number of clips processed in parallel (joblib); the output does not
        depend on it.
    verbose : int, default=0
        Show a ``tqdm`` progress bar over the clips in :meth:`transform` when
        positive; the output does not depend on it.

    Attributes
    ----------
    frame_shape_ : tuple of int
        ``(height, width[, channels])`` of the frames seen during :term:`fit`.

    See Also
    --------
    KeyframeSelector : Keep a few key frames instead.
    resample_frames : The per-clip kernel.

    Notes
    -----
    Metadata follows the frames: input frame ``t`` of a ``T``-frame clip maps to
    output frame ``round(t * (n_frames - 1) / (T - 1))`` (halves round up,
    :func:`remap_index`), applied to ``onset``, ``apex`` and ``offset``; when
    shrinking, nearby indices may merge (e.g. ``onset == apex``).  Clips need at
    least 2 frames.  Every clip is resampled on its own, so ``fit`` learns nothing
    but the frame shape: TIM's model is per clip, as in [2]_.

    References
    ----------
    .. [1] Z. Zhou, G. Zhao and M. Pietikainen, "Towards a practical lipreading
       system", CVPR 2011, :doi:`10.1109/CVPR.2011.5995345`.
    .. [2] T. Pfister, X. Li, G. Zhao and M. Pietikainen, "Recognising spontaneous
       facial micro-expressions", ICCV 2011, :doi:`10.1109/ICCV.2011.6126401`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.datasets import Clip
    >>> from skmer.preprocessing._temporal import TemporalResampler
    >>> rng = np.random.default_rng(0)
    >>> X = [Clip(rng.integers(0, 255, (7, 16, 16)), onset=0, apex=3, offset=6),
    ...      rng.integers(0, 255, (11, 16, 16))]
    >>> out = TemporalResampler(n_frames=13).fit_transform(X)
    >>> out[0].shape, out[0].apex
    ((13, 16, 16), 6)
    >>> TemporalResampler(n_frames=8, output="array").fit_transform(X).shape
    (2, 8, 16, 16)
    """

    _parameter_constraints = {
        "n_frames": [Interval(Integral, 2, None, closed="left")],
        "method": [StrOptions(set(RESAMPLE_METHODS))],
        "output": [StrOptions({"clips", "array"})],
        "dtype": [StrOptions({"float32", "float64", "input"})],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, n_frames: int = 16, method: str = "linear",
                 output: str = "clips", dtype: str = "float32",
                 n_jobs: int | None = None, verbose: int = 0) -> None:
        self.n_frames = n_frames
        self.method = method
        self.output = output
        self.dtype = dtype
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Sequence[Clip | np.ndarray] | ClipSequence,
            y: None = None) -> TemporalResampler:
        """Check the parameters and record the frame shape.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips (at least 2 frames each).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted resampler.
        """
        clips = _check_clip_list(self, X, min_frames=2)
        self.frame_shape_ = tuple(clips[0].frames.shape[1:])
        return self

    def transform(
        self,
        X: Sequence[Clip | np.ndarray] | ClipSequence,
    ) -> ClipSequence | np.ndarray:
        """Resample every clip.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips, with the frame shape seen in :term:`fit`.

        Returns
        -------
        X_out : ClipSequence or ndarray of shape \
(n_clips, n_frames, height, width[, channels])
            New clips with remapped metadata (``output="clips"``), or their
            stacked frames (``output="array"``).
        """
        check_is_fitted(self)
        clips = _check_clip_list(self, X, frame_shape=self.frame_shape_,
                                 min_frames=2)
        out = parallel_map(
            (delayed(_resample_clip)(clip, n_frames=self.n_frames,
                                     method=self.method, dtype=self.dtype)
             for clip in clips),
            n_jobs=self.n_jobs, verbose=self.verbose, total=len(clips),
            desc=type(self).__name__,
        )
        if self.output == "array":
            return np.stack([c.frames for c in out])
        return ClipSequence(out)

    def __sklearn_tags__(self):
        tags = with_skmer_tags(super().__sklearn_tags__(), min_frames=2)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags

