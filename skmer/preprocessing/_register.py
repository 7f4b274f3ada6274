"""Head-motion compensation: register every frame of a clip to a reference frame.

:func:`register_frames` (the kernel, one clip) places dlib's 68 landmarks on every
frame, keeps the points that a facial expression barely moves (the inner and outer
eye corners and the nose ridge), smooths their tracks over time, fits one similarity
(or affine) transform per frame that maps them onto the reference frame's, robustly
(RANSAC), and warps the frame with it.  :class:`HeadMotionCompensator` is the clip
transformer around it.

Why stable points only: the transform must remove the rigid motion of the head and
keep the non-rigid motion of the face.  Points on the brows, lips or jaw line move
with the expression (or slide along the face outline as the head turns); fitting
the transform on them would partly undo the micro-expression itself.
"""

from __future__ import annotations

import logging
import os
from collections import namedtuple
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from skmer._core import ClipSequence
from skmer.preprocessing._face import (
    _check_frames,
    _reference_index,
    _resolve_predictor_path,
    detect_face,
    face_landmarks,
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

    from numpy.typing import ArrayLike

    from skmer._core import Clip

__all__ = ["HeadMotionCompensator", "Registration", "register_frames"]

logger = logging.getLogger(__name__)

#: dlib 68-point indices of the points used by default: the nose ridge (27-30) and
#: the outer / inner corners of both eyes (36, 39, 42, 45).
STABLE_POINTS = (27, 28, 29, 30, 36, 39, 42, 45)
_TRANSFORMS = ("similarity", "affine", "translation")
_ON_MISSING = ("raise", "interpolate")
# ECC region: the stable points' hull grown by this fraction of the inter-ocular
# distance, eyes cut out (a blink would pull the fit).  Measured on a real frame
# moved rigidly: 0.03-0.18 px error (0.2 without the cut: 0.03-0.05 px, but blinks)
_GROW = 0.4
_CUT_EYES = True

Registration = namedtuple("Registration", ["frames", "matrices", "landmarks", "found"])
Registration.__doc__ = """Result of :func:`register_frames` on one clip.

Attributes
----------
frames : ndarray of shape (n_frames, height, width[, channels])
    The registered frames (a new array, the input's dtype; see
    :func:`register_frames` for dtypes OpenCV cannot warp).
matrices : ndarray of shape (n_frames, 2, 3)
    For every frame, the affine map from its pixel coordinates to the reference
    frame's (``cv2.warpAffine`` convention); the reference frame's is the identity.
landmarks : ndarray of shape (n_frames, 68, 2)
    The landmarks of every frame in its own pixel coordinates, as detected (or
    given); NaN where no face was found.
found : ndarray of shape (n_frames,) of bool
    Whether a face was found (or landmarks given) on each frame.
"""


# --------------------------------------------------------------------------------------
# transforms
# --------------------------------------------------------------------------------------
def _lstsq_similarity(src, dst):
    """Least-squares similarity ``dst ~ s R src + t`` (Umeyama), as a 2x3 matrix."""
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    var = (a ** 2).sum()
    if not var > 0:
        return np.hstack([np.eye(2), (mu_d - mu_s)[:, None]])
    # complex-number form of the 2-D similarity: b ~ z a with z = s e^{i theta}
    za, zb = a[:, 0] + 1j * a[:, 1], b[:, 0] + 1j * b[:, 1]
    z = np.vdot(za, zb) / var
    m = np.array([[z.real, -z.imag], [z.imag, z.real]])
    return np.hstack([m, (mu_d - m @ mu_s)[:, None]])


def _lstsq_affine(src, dst):
    x = np.hstack([src, np.ones((len(src), 1))])
    sol = np.linalg.lstsq(x, dst, rcond=None)[0]    # (3, 2)
    return sol.T


def _fit_transform(src, dst, transform, robust, threshold):
    """2x3 matrix mapping ``src`` points onto ``dst`` points."""
    if transform == "translation":
        # the median displacement: robust to a few wrong points
        shift = np.median(dst - src, axis=0) if robust else (dst - src).mean(axis=0)
        return np.hstack([np.eye(2), shift[:, None]])
    if robust:
        import cv2

        s = np.ascontiguousarray(src, dtype=np.float64)
        d = np.ascontiguousarray(dst, dtype=np.float64)
        fit = (cv2.estimateAffinePartial2D if transform == "similarity"
               else cv2.estimateAffine2D)
        m, inliers = fit(s, d, method=cv2.RANSAC, ransacReprojThreshold=threshold,
                         maxIters=2000, confidence=0.999, refineIters=10)
        if m is not None and inliers is not None and inliers.sum() >= 3:
            keep = inliers.ravel().astype(bool)
            # refit on the inliers in closed form (OpenCV's refinement is iterative)
            src, dst = src[keep], dst[keep]
    if transform == "similarity":
        return _lstsq_similarity(src, dst)
    return _lstsq_affine(src, dst)


def _stable_mask(shape, landmarks, pts_idx):
    """Mask of the reference frame's stable region for the ECC refinement.

    The convex hull of the stable points grown by two fifths of the inter-ocular
    distance, minus the eyes (dilated polygons of points 36-41 and 42-47), which
    blink.
    """
    import cv2

    h, w = shape
    lm = landmarks
    iod = float(np.hypot(*(lm[42:48].mean(axis=0) - lm[36:42].mean(axis=0))))
    grow = max(2, int(round(_GROW * iod)))
    mask = np.zeros((h, w), dtype=np.uint8)
    hull = cv2.convexHull(np.round(lm[pts_idx]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    eyes = np.zeros_like(mask)
    for sl in (slice(36, 42), slice(42, 48)):
        cv2.fillConvexPoly(eyes, cv2.convexHull(np.round(lm[sl]).astype(np.int32)),
                           255)
    if _CUT_EYES:
        eyes = cv2.dilate(eyes, np.ones((grow + 1, grow + 1), np.uint8))
        mask[eyes > 0] = 0
    return mask


def _grey32(frame):
    a = np.asarray(frame, dtype=np.float32)
    return np.ascontiguousarray(a[..., :3].mean(axis=-1) if a.ndim == 3 else a)


def _ecc_refine(ref, frame, matrix, mask, transform):
    """Refine a 2x3 map ``frame -> ref`` by ECC on ``mask`` (None if it fails).

    ECC runs on the bounding box of the mask grown by 32 px, in both images (its
    cost grows with the image, not with the mask).
    """
    rows, cols = np.nonzero(mask)
    g = 32
    r0, r1 = max(rows.min() - g, 0), min(rows.max() + 1 + g, frame.shape[0])
    c0, c1 = max(cols.min() - g, 0), min(cols.max() + 1 + g, frame.shape[1])
    # frame -> ref in crop coordinates: shift into the box, map, shift out
    inner = np.array([[1.0, 0.0, c0], [0.0, 1.0, r0], [0.0, 0.0, 1.0]])
    outer = np.linalg.inv(inner)
    full = outer @ np.vstack([matrix, [0.0, 0.0, 1.0]]) @ inner
    m = _ecc_crop(np.ascontiguousarray(ref[r0:r1, c0:c1]),
                  np.ascontiguousarray(frame[r0:r1, c0:c1]), full[:2],
                  np.ascontiguousarray(mask[r0:r1, c0:c1]), transform)
    if m is None:
        return None
    out = (inner @ np.vstack([m, [0.0, 0.0, 1.0]]) @ outer)[:2]
    # a refinement moves the face by a few pixels at most: otherwise ECC diverged
    corners = np.array([[c0, r0], [c1, r0], [c0, r1], [c1, r1]], dtype=np.float64)
    moved = np.abs(corners @ (out[:, :2] - matrix[:, :2]).T + out[:, 2] - matrix[:, 2])
    return out if moved.max() < 5.0 else None


def _ecc_crop(ref, frame, matrix, mask, transform):
    import cv2

    motion = {"similarity": cv2.MOTION_EUCLIDEAN, "affine": cv2.MOTION_AFFINE,
              "translation": cv2.MOTION_TRANSLATION}[transform]
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    # ECC's warp maps template (reference) coordinates to input coordinates
    warp = np.linalg.inv(full)[:2]
    c = np.array([ref.shape[1] / 2, ref.shape[0] / 2])
    scale = 1.0
    if transform == "similarity":
        # OpenCV's rigid ECC model has no scale.  The landmark fit's scale is
        # mostly landmark noise (1-2 %, i.e. a pixel at the region's edge) unless
        # the head really comes closer: below 3 % it is dropped (rigid ECC), above
        # it is kept (about the region's centre) and ECC refines rotation + shift
        scale = float(np.sqrt(abs(np.linalg.det(warp[:, :2]))))
        lin = warp[:, :2] / scale
        warp = np.hstack([lin, (warp[:, :2] @ c + warp[:, 2] - lin @ c)[:, None]])
        if abs(scale - 1.0) < 0.03:
            scale = 1.0
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
    try:
        _, warp = cv2.findTransformECC(ref, frame, warp.astype(np.float32), motion,
                                       criteria, mask, 5)
    except cv2.error:
        return None
    warp = warp.astype(np.float64)
    if scale != 1.0:
        lin = warp[:, :2] * scale
        warp = np.hstack([lin, (warp[:, :2] @ c + warp[:, 2] - lin @ c)[:, None]])
    return np.linalg.inv(np.vstack([warp, [0.0, 0.0, 1.0]]))[:2]


def _check_points(points):
    pts = np.asarray(points)
    if pts.ndim != 1 or not np.issubdtype(pts.dtype, np.integer) \
            or len(np.unique(pts)) != len(pts) or len(pts) < 2 \
            or pts.min() < 0 or pts.max() > 67:
        raise ValueError(
            "points must be at least 2 distinct dlib landmark indices in [0, 67]; "
            f"got {points!r}."
        )
    return pts


def _check_given_landmarks(landmarks, n, where):
    lm = np.array(landmarks, dtype=np.float64)   # a copy: never the caller's
    if lm.shape != (n, 68, 2):
        raise ValueError(
            f"{where}: landmarks must have shape (n_frames, 68, 2) = ({n}, 68, 2) "
            f"(NaN rows for frames without a face); got shape {lm.shape}."
        )
    if np.isinf(lm).any():
        raise ValueError(f"{where}: landmarks contain infinite values.")
    found = np.isfinite(lm).all(axis=(1, 2))
    lm[~found] = np.nan
    return lm, found


def _track_landmarks(frames, *, predictor_path, upsample, detect_width, pad,
                     data_range):
    """Landmarks of every frame (NaN where no face), detection on every frame.

    When the detector misses a frame, the face box of the last frame with a face
    is tried once before the frame is declared lost (a missed detection on a
    blurred frame is common; the shape predictor still fits inside the old box).
    """
    n = len(frames)
    out = np.full((n, 68, 2), np.nan)
    found = np.zeros(n, dtype=bool)
    last_box = None
    for t in range(n):
        box = detect_face(frames[t], upsample=upsample, detect_width=detect_width,
                          pad=pad, data_range=data_range)
        if box is None and last_box is not None:
            box = last_box
            retry = True
        else:
            retry = False
        if box is None:
            continue
        lm = face_landmarks(frames[t], box, predictor_path=predictor_path,
                            data_range=data_range)
        if retry:
            # accept the old box only if the fitted shape stays inside it: a shape
            # predictor run on a box without a face still returns 68 points
            x0, y0, x1, y1 = box
            size = max(x1 - x0, y1 - y0)
            lo, hi = lm.min(axis=0), lm.max(axis=0)
            if (lo < [x0 - 0.25 * size, y0 - 0.25 * size]).any() or \
                    (hi > [x1 + 0.25 * size, y1 + 0.25 * size]).any():
                continue
        out[t], found[t] = lm, True
        if not retry:
            last_box = box
    return out, found


def _fill_missing(tracks, found):
    """Linear interpolation of the tracks ``(T, k, 2)`` over the frames not found."""
    if found.all():
        return tracks
    t_all = np.arange(len(tracks))
    t_ok = t_all[found]
    out = tracks.copy()
    flat = out.reshape(len(out), -1)
    for j in range(flat.shape[1]):
        flat[~found, j] = np.interp(t_all[~found], t_ok, flat[found, j])
    return out


def register_frames(frames: ArrayLike, *, reference: int = 0,
                    landmarks: ArrayLike | None = None,
                    points: Sequence[int] = STABLE_POINTS,
                    motion: str = "similarity", smooth: float = 1.0,
                    robust: bool = True, threshold: float = 2.0,
                    refine: str | None = "ecc", on_missing: str = "raise",
                    upsample: int = 0,
                    detect_width: int | None = 320, pad: float = 0.2,
                    predictor_path: str | os.PathLike | None = None,
                    data_range: float | None = None, interpolation: str = "linear",
                    where: str = "clip") -> Registration:
    """Register every frame of a clip to a reference frame on stable landmarks.

    dlib's 68 landmarks are placed on every frame (or given); the tracks of the
    stable ``points`` (default: the nose ridge and the four eye corners) are
    smoothed over time with a Gaussian of ``smooth`` frames; for every frame a
    transform of type ``motion`` mapping its points onto the reference frame's
    is fitted, robustly by default (RANSAC, then least squares on the inliers),
    and the frame is warped with it (``cv2.warpAffine``, borders replicated).
    The rigid motion of the head is removed; the motion of the expression, which
    these points barely share, stays.

    Parameters
    ----------
    frames : array-like of shape (n_frames, height, width[, channels])
        The clip (grey or RGB[A]; uint8, uint16, int16, float32 and float64 keep
        their dtype, other dtypes come back as float64).  Never modified.
    reference : int, default=0
        Index of the frame every frame is registered to (negative: from the end).
        It comes back unchanged.
    landmarks : array-like of shape (n_frames, 68, 2), default=None
        Known landmarks ``(x, y)`` of every frame in its own pixel coordinates
        (dlib order), NaN rows for frames without a face; None detects them on
        every frame (:func:`~skmer.preprocessing.detect_face` and
        :func:`~skmer.preprocessing.face_landmarks`).
    points : sequence of int, default=(27, 28, 29, 30, 36, 39, 42, 45)
        The landmark indices the transform is fitted on.
    motion : {"similarity", "affine", "translation"}, default="similarity"
        The motion model: rotation + uniform scale + shift (4 degrees of freedom,
        ``cv2.estimateAffinePartial2D``), a full affine map (6, for some
        out-of-plane rotation; ``cv2.estimateAffine2D``) or a shift alone.
    smooth : float, default=1.0
        Standard deviation, in frames, of the Gaussian that smooths the landmark
        tracks over time before the fit (0: none).  dlib's landmarks jitter by a
        fraction of a pixel from frame to frame even on a still face; smoothing
        keeps that jitter out of the registered frames.
    robust : bool, default=True
        Fit with RANSAC (inlier threshold ``threshold`` pixels) and refit on the
        inliers by least squares; False: least squares on all points (a shift:
        the median displacement with ``robust=True``, the mean without).
    threshold : float, default=2.0
        RANSAC's inlier threshold in pixels (reprojection error).
    refine : {"ecc", None}, default="ecc"
        Refine each landmark fit by intensity: ``cv2.findTransformECC`` (Evangelidis
        and Psarakis [1]_), started from it, maximises the correlation of the
        frame with the reference over the stable region (the convex hull of the
        stable points grown by two fifths of the inter-ocular distance, the eyes cut
        out: they blink).  Landmarks alone are accurate to about a pixel; ECC to a
        fraction of one.  A refinement that fails or moves the region by 5 px or
        more is dropped (the landmark fit stays).  None: landmarks only.
    on_missing : {"raise", "interpolate"}, default="raise"
        A frame without a face: raise a ``ValueError`` naming it, or take its
        landmarks by linear interpolation between the nearest frames with a face
        (held constant before the first and after the last).  A clip with a face
        on no frame raises with ``"raise"``; with ``"interpolate"`` it comes back
        unchanged (identity matrices) and a warning is logged.
    upsample, detect_width, pad, data_range
        Passed to :func:`~skmer.preprocessing.detect_face` (``data_range`` also to
        :func:`~skmer.preprocessing.face_landmarks`).
    predictor_path : str or path-like, default=None
        dlib's ``shape_predictor_68_face_landmarks.dat``; None: the one shipped by
        face-recognition-models.
    interpolation : {"linear", "cubic", "area"}, default="linear"
        Interpolation of the warp.
    where : str, default="clip"
        Names the clip in error messages.

    Returns
    -------
    result : Registration
        ``(frames, matrices, landmarks, found)``: see :class:`Registration`.

    Raises
    ------
    ValueError
        No face on some frame (``on_missing="raise"``), landmarks of the wrong
        shape, an invalid parameter.

    See Also
    --------
    HeadMotionCompensator : The clip transformer around this kernel.
    skmer.preprocessing.crop_face : One transform for the whole clip (no motion
        compensation).

    Notes
    -----
    Detection costs about 10-30 ms per 640x480 frame on one CPU core (HOG
    detector on a copy ``detect_width`` pixels wide, then the shape predictor at
    full resolution); given ``landmarks`` cost nothing.  When the detector misses
    a frame, the face box of the last frame with a face is tried before the frame
    counts as lost.  The similarity model is exact for a head that moves in the
    image plane; a head that turns (yaw, pitch) changes the face's projection,
    which no 2-D transform undoes completely: ``"affine"`` takes out its first-order
    part (the face's horizontal/vertical foreshortening).  Pixels warped in from
    outside the frame repeat the border (``cv2.BORDER_REPLICATE``), so that no
    black edge enters the optical flow.  With ``refine="ecc"`` and
    ``motion="similarity"``, ECC refines the rotation and the shift (OpenCV's
    rigid model); the scale is that of the landmark fit when it differs from 1 by
    3 % or more, else 1 (smaller landmark scales are mostly landmark noise).

    References
    ----------
    .. [1] G. D. Evangelidis and E. Z. Psarakis, "Parametric image alignment using
       enhanced correlation coefficient maximization", IEEE Transactions on
       Pattern Analysis and Machine Intelligence 30(10), 1858-1865, 2008,
       :doi:`10.1109/TPAMI.2008.113`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing import register_frames
    >>> rng = np.random.default_rng(0)
    >>> frame = rng.random((40, 40))
    >>> frames = np.stack([frame, np.roll(frame, 2, axis=1)])  # moved 2 px right
    >>> lm = np.stack([rng.uniform(10, 30, (68, 2))] * 2)
    >>> lm[1, :, 0] += 2
    >>> res = register_frames(frames, landmarks=lm, smooth=0, refine=None)
    >>> (np.round(res.matrices[1], 6) + 0.0).tolist()
    [[1.0, 0.0, -2.0], [0.0, 1.0, 0.0]]
    >>> np.allclose(res.frames[1][:, :37], frame[:, :37])
    True
    """
    import cv2

    frames = _check_frames(frames, where)
    n = len(frames)
    idx = _reference_index(reference, n, None, None, where)
    pts_idx = _check_points(points)
    if motion not in _TRANSFORMS:
        raise ValueError(
            f"motion must be one of {list(_TRANSFORMS)}; got {motion!r}.")
    if on_missing not in _ON_MISSING:
        raise ValueError(
            f"on_missing must be one of {list(_ON_MISSING)}; got {on_missing!r}.")
    if isinstance(smooth, bool) or not isinstance(smooth, Real) or not smooth >= 0:
        raise ValueError(f"smooth must be a number >= 0; got {smooth!r}.")
    if isinstance(threshold, bool) or not isinstance(threshold, Real) \
            or not threshold > 0:
        raise ValueError(f"threshold must be a number > 0; got {threshold!r}.")
    if refine not in ("ecc", None):
        raise ValueError(f"refine must be 'ecc' or None; got {refine!r}.")
    if interpolation not in ("linear", "cubic", "area"):
        raise ValueError("interpolation must be one of ['linear', 'cubic', 'area']; "
                         f"got {interpolation!r}.")
    squeeze = frames.ndim == 4 and frames.shape[-1] == 1
    work = frames[..., 0] if squeeze else frames
    if landmarks is None:
        path = _resolve_predictor_path(predictor_path)
        lm, found = _track_landmarks(work, predictor_path=path, upsample=upsample,
                                     detect_width=detect_width, pad=pad,
                                     data_range=data_range)
    else:
        lm, found = _check_given_landmarks(landmarks, n, where)
    if not found.any() and on_missing == "interpolate":
        logger.warning("%s: no face found on any frame; frames left unregistered",
                       where)
        identity = np.broadcast_to(np.hstack([np.eye(2), np.zeros((2, 1))]),
                                   (n, 2, 3)).copy()
        return Registration(frames.copy(), identity, lm, found)
    if not found.any():
        raise ValueError(
            f"{where}: no face found on any of the {n} frames (dlib HOG detector, "
            f"upsample={upsample}, detect_width={detect_width}); head motion cannot "
            "be estimated. Try upsample=1 or detect_width=None for a small face."
        )
    if not found.all() and on_missing == "raise":
        lost = np.flatnonzero(~found)
        shown = ", ".join(map(str, lost[:10])) + (", ..." if len(lost) > 10 else "")
        raise ValueError(
            f"{where}: no face found on {len(lost)} of {n} frames (frames {shown}). "
            "Use on_missing='interpolate' to take their motion from the nearest "
            "frames with a face, or cut the clip where the face is lost."
        )
    tracks = _fill_missing(lm[:, pts_idx], found)
    if smooth > 0 and n > 1:
        from scipy.ndimage import gaussian_filter1d

        tracks = gaussian_filter1d(tracks, float(smooth), axis=0, mode="nearest")
    matrices = np.empty((n, 2, 3))
    for t in range(n):
        if t == idx:
            matrices[t] = np.hstack([np.eye(2), np.zeros((2, 1))])
        else:
            matrices[t] = _fit_transform(tracks[t], tracks[idx], motion, robust,
                                         float(threshold))
    if refine == "ecc":
        mask = _stable_mask(work.shape[1:3], _fill_missing(lm, found)[idx], pts_idx)
        ref = _grey32(work[idx])
        for t in range(n):
            if t != idx:
                m = _ecc_refine(ref, _grey32(work[t]), matrices[t], mask, motion)
                if m is not None:
                    matrices[t] = m
    dtype = work.dtype
    src = work if dtype in (np.uint8, np.uint16, np.int16, np.float32, np.float64) \
        else work.astype(np.float64)
    h, w = src.shape[1:3]
    flags = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC,
             "area": cv2.INTER_AREA}[interpolation]
    out = np.empty_like(src)
    for t in range(n):
        if t == idx:
            out[t] = src[t]
            continue
        warped = cv2.warpAffine(np.ascontiguousarray(src[t]), matrices[t], (w, h),
                                flags=flags, borderMode=cv2.BORDER_REPLICATE)
        out[t] = warped.reshape(out.shape[1:])
    if squeeze:
        out = out[..., None]
    return Registration(out, matrices, lm, found)


# --------------------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------------------
def _register_clip(clip, i, params):
    where = f"HeadMotionCompensator: clip {i}" + (
        f" (id={clip.id!r})" if clip.id is not None else "")
    frames = clip.frames
    idx = _reference_index(params.pop("reference"), len(frames), clip.onset,
                           clip.apex, where)
    res = register_frames(frames, reference=idx, where=where, **params)
    return clip.replace(frames=res.frames)


class HeadMotionCompensator(TransformerMixin, BaseEstimator):
    """Remove rigid head motion: register every frame to a reference frame.

    On every frame of every clip dlib's 68 landmarks are placed; a similarity
    transform fitted on the stable points (eye corners and nose ridge, smoothed
    over time, RANSAC) maps each frame onto the clip's reference frame
    (:func:`register_frames`).  Put it before :class:`FaceCropper` (on raw video)
    or after it (on face crops): either way the flow that follows measures the
    face's own motion, not the head's.

    Parameters
    ----------
    reference : {"onset", "apex"} or int, default="onset"
        The frame every frame is registered to: the clip's ``onset`` (frame 0
        when it has none), its ``apex`` (the middle frame when it has none) or a
        frame index (negative counts from the end).
    motion : {"similarity", "affine", "translation"}, default="similarity"
        The motion model (see :func:`register_frames`).
    smooth : float, default=1.0
        Temporal Gaussian smoothing of the landmark tracks, in frames (0: none).
    robust : bool, default=True
        RANSAC fit (then least squares on the inliers); False: least squares.
    refine : {"ecc", None}, default="ecc"
        Refine every landmark fit by ECC image alignment on the stable region
        (sub-pixel); None: landmarks only.
    on_missing : {"raise", "interpolate"}, default="raise"
        A frame without a face: raise a ``ValueError`` naming the clip and the
        frames, or interpolate its landmarks from the nearest frames with a face
        (a clip with no face at all then comes back unchanged, with a logged
        warning).
    upsample : int, default=0
        dlib's detector upsampling (1 finds smaller faces, 3-4 times slower).
    detect_width : int or None, default=320
        Detect on a copy downscaled to this width (faster); None: full size.
    detect_pad : float, default=0.2
        Border added around the frame when the first detection fails (tightly
        cropped faces, e.g. after :class:`FaceCropper`); 0 disables the retry.
    predictor_path : str or path-like, default=None
        dlib's ``shape_predictor_68_face_landmarks.dat``; None: the one shipped by
        face-recognition-models.
    data_range : float or None, default=None
        Value of white for detection (see
        :func:`~skmer.preprocessing.detect_face`); the output keeps the input's
        dtype and range.
    n_jobs : int, default=None
        Clips processed in parallel (joblib); the output does not depend on it.
    verbose : int, default=0
        Show a ``tqdm`` progress bar over the clips in :meth:`transform` when
        positive; the output does not depend on it.

    Attributes
    ----------
    predictor_path_ : str
        The shape predictor file used.

    See Also
    --------
    register_frames : The kernel, on one clip.
    FaceCropper : One aligned crop per clip (no motion compensation).

    Notes
    -----
    The output clips keep the input's frame shape, dtype and metadata (including
    ``landmarks``: the reference frame is returned unchanged, so landmarks that
    belong to it stay valid).  Stateless: :term:`fit` checks the parameters and
    locates the shape predictor.  Cost: 10-30 ms per 640x480 frame on one core
    (detection and landmarks on every frame); see ``benchmarks/head_motion.py``
    for the residual motion it leaves on real videos.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing import HeadMotionCompensator
    >>> hmc = HeadMotionCompensator()
    >>> X = [np.zeros((3, 60, 80), dtype=np.uint8)]
    >>> try:
    ...     hmc.fit_transform(X)
    ... except ValueError as exc:
    ...     print(str(exc)[:54])
    HeadMotionCompensator: clip 0: no face found on any of
    """

    _parameter_constraints = {
        "reference": [StrOptions({"onset", "apex"}), Integral],
        "motion": [StrOptions(set(_TRANSFORMS))],
        "smooth": [Interval(Real, 0, None, closed="left")],
        "robust": ["boolean"],
        "refine": [StrOptions({"ecc"}), None],
        "on_missing": [StrOptions(set(_ON_MISSING))],
        "upsample": [Interval(Integral, 0, None, closed="left")],
        "detect_width": [Interval(Integral, 16, None, closed="left"), None],
        "detect_pad": [Interval(Real, 0, 1, closed="both")],
        "predictor_path": [str, os.PathLike, None],
        "data_range": [Interval(Real, 0, None, closed="neither"), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, reference: str | int = "onset", motion: str = "similarity",
                 smooth: float = 1.0, robust: bool = True,
                 refine: str | None = "ecc", on_missing: str = "raise",
                 upsample: int = 0, detect_width: int | None = 320,
                 detect_pad: float = 0.2,
                 predictor_path: str | os.PathLike | None = None,
                 data_range: float | None = None, n_jobs: int | None = None,
                 verbose: int = 0) -> None:
        self.reference = reference
        self.motion = motion
        self.smooth = smooth
        self.robust = robust
        self.refine = refine
        self.on_missing = on_missing
        self.upsample = upsample
        self.detect_width = detect_width
        self.detect_pad = detect_pad
        self.predictor_path = predictor_path
        self.data_range = data_range
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Sequence[Clip | np.ndarray] | ClipSequence,
            y: None = None) -> HeadMotionCompensator:
        """Check the parameters and the input, and locate the shape predictor.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips (any frame size).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted compensator.
        """
        self.predictor_path_ = _resolve_predictor_path(self.predictor_path)
        check_clips(X, estimator=self)
        return self

    def transform(self, X: Sequence[Clip | np.ndarray] | ClipSequence) -> ClipSequence:
        """Register every frame of every clip to the clip's reference frame.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips (any frame size).

        Returns
        -------
        X_reg : ClipSequence
            New in-memory clips of the input's shape, dtype and metadata.

        Raises
        ------
        ValueError
            No face on some frame of a clip with ``on_missing="raise"`` (the
            message names the clip and the frames), or invalid input.
        """
        check_is_fitted(self)
        clips = check_clips(X, estimator=self)
        params = dict(motion=self.motion, smooth=self.smooth,
                      robust=self.robust, refine=self.refine,
                      on_missing=self.on_missing,
                      upsample=self.upsample, detect_width=self.detect_width,
                      pad=self.detect_pad, predictor_path=self.predictor_path_,
                      data_range=self.data_range)
        out = parallel_map(
            (delayed(_register_clip)(clip.replace() if clip.is_lazy else clip, i,
                                     dict(params, reference=self.reference))
             for i, clip in enumerate(clips)),
            n_jobs=self.n_jobs, verbose=self.verbose, total=len(clips),
            desc=type(self).__name__,
        )
        return ClipSequence(out)

    def __sklearn_tags__(self):
        tags = with_skmer_tags(super().__sklearn_tags__(), fixed_frame_shape=False)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
