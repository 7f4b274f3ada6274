"""Face detection, 68-point landmarks and aligned face cropping (dlib).

The kernels work on one image or one clip: :func:`detect_face` (dlib's HOG frontal
face detector, the largest face), :func:`face_landmarks` (dlib's 68-point shape
predictor), :func:`face_alignment` (the 2x3 similarity that levels the eyes and maps
the face box onto the output) and :func:`crop_face` (one clip: landmarks on a
reference frame, then *the same* transform warped onto every frame).
:class:`FaceCropper` is the clip transformer around :func:`crop_face`.

Why one transform per clip: re-detecting the face in every frame makes the crop
jitter by a pixel or more from frame to frame, which swamps the sub-pixel motion of a
micro-expression.  The face is located once, on a reference frame (the onset by
default), and every frame is warped with that transform.

Coordinates are ``(x, y)`` pixel coordinates (x along the columns, y down the rows,
integer values at pixel centres), as in OpenCV and dlib.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import namedtuple
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Bunch

from skmer._core import ClipSequence
from skmer.utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    delayed,
)
from skmer.utils._progress import parallel_map
from skmer.utils._tags import with_skmer_tags
from skmer.utils.validation import _image_data_range, check_clips

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

    from skmer._core import Clip

__all__ = [
    "FaceCrop",
    "FaceCropper",
    "crop_face",
    "default_predictor_path",
    "detect_face",
    "face_alignment",
    "face_landmarks",
]

logger = logging.getLogger(__name__)

PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"
_RIGHT_EYE = slice(36, 42)  # the subject's right eye: on the left of the image
_LEFT_EYE = slice(42, 48)
_COLORS = ("grey", "rgb", "keep")
_ON_MISSING = ("raise", "center")
_INTERPOLATIONS = {"linear": 1, "cubic": 2, "area": 3}  # cv2.INTER_* values
_CV2_DTYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64)

FaceCrop = namedtuple("FaceCrop", ["frames", "landmarks", "matrix", "found"])
FaceCrop.__doc__ = """Result of :func:`crop_face` on one clip.

Attributes
----------
frames : ndarray of shape (n_frames, out_height, out_width[, channels])
    The cropped, aligned frames.
landmarks : ndarray of shape (68, 2) or None
    The reference frame's landmarks ``(x, y)`` in output pixel coordinates (None when
    no face was found and ``on_missing="center"``).
matrix : ndarray of shape (2, 3)
    The affine map from input to output pixel coordinates applied to every frame
    (``cv2.warpAffine`` convention: ``out = matrix @ [x, y, 1]``).
found : bool
    True when the crop comes from a face (detected or given), False for the
    ``on_missing="center"`` fallback.
"""


# --------------------------------------------------------------------------------------
# the shape predictor file
# --------------------------------------------------------------------------------------
def default_predictor_path():
    """Path of ``shape_predictor_68_face_landmarks.dat`` from face-recognition-models.

    The file is located through the installed distribution's metadata (or the
    package's import spec), without importing ``face_recognition_models``, whose
    ``__init__`` imports the removed ``pkg_resources``.

    Returns
    -------
    path : str
        The predictor file.

    Raises
    ------
    FileNotFoundError
        face-recognition-models is not installed or lacks the file.

    Examples
    --------
    >>> from skmer.preprocessing._face import default_predictor_path
    >>> default_predictor_path().endswith("shape_predictor_68_face_landmarks.dat")
    True
    """
    candidates = []
    try:
        import importlib.metadata as metadata

        for f in metadata.files("face-recognition-models") or ():
            if f.name == PREDICTOR_FILE:
                candidates.append(str(f.locate()))
    except Exception:  # PackageNotFoundError, or a broken installation record
        pass
    try:
        import importlib.util

        spec = importlib.util.find_spec("face_recognition_models")
        for loc in (spec.submodule_search_locations or ()) if spec else ():
            candidates.append(os.path.join(loc, "models", PREDICTOR_FILE))
    except (ImportError, ValueError):
        pass
    for path in candidates:
        if os.path.isfile(path):
            return os.path.abspath(path)
    raise FileNotFoundError(
        f"dlib's 68-point landmark model {PREDICTOR_FILE!r} was not found: install "
        "the 'face-recognition-models' package (pip install face-recognition-models) "
        "or pass predictor_path= pointing to the .dat file."
    )


def _resolve_predictor_path(predictor_path):
    if predictor_path is None:
        return default_predictor_path()
    path = os.fspath(predictor_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"predictor_path {path!r} does not exist; give the path of dlib's "
            f"{PREDICTOR_FILE!r} (shipped by face-recognition-models) or None to use "
            "the installed one."
        )
    return os.path.abspath(path)


# dlib's detector and shape predictor are not safe to share between threads (a
# threading joblib backend gave wrong landmarks): each thread gets its own copy.
_THREAD_LOCAL = threading.local()


def _shape_predictor(path):
    import dlib

    cache = _THREAD_LOCAL.__dict__.setdefault("predictors", {})
    if path not in cache:
        logger.debug("loading dlib shape predictor %s", path)
        cache[path] = dlib.shape_predictor(path)
    return cache[path]


def _detector():
    import dlib

    if not hasattr(_THREAD_LOCAL, "detector"):
        _THREAD_LOCAL.detector = dlib.get_frontal_face_detector()
    return _THREAD_LOCAL.detector


# --------------------------------------------------------------------------------------
# pixel conversions
# --------------------------------------------------------------------------------------
def _check_image(image, where):
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3):
        raise ValueError(
            f"{where}: an image must have shape (height, width) or (height, width, "
            f"channels); got shape {a.shape}."
        )
    if a.ndim == 3 and a.shape[-1] not in (2, 3, 4):
        raise ValueError(
            f"{where}: colour images must have 1, 2 (grey + alpha), 3 (RGB) or 4 "
            f"(RGBA) channels; got {a.shape[-1]}."
        )
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number)
                                 or a.dtype == bool):
        raise ValueError(f"{where}: pixels must be numbers; got dtype {a.dtype}.")
    if np.issubdtype(a.dtype, np.complexfloating):
        raise ValueError(f"{where}: pixels must be real; got dtype {a.dtype}.")
    return a


def _to_grey_uint8(image, *, data_range=None, where="image"):
    """Grey, C-contiguous uint8 copy of an image, as dlib's detector needs.

    Colour (last axis 3 or 4) is read as RGB[A] and converted with the ITU-R BT.601
    luma weights (``cv2.COLOR_RGB2GRAY``); 2 channels are grey + alpha.  Integer
    images must lie in [0, 255] unless ``data_range`` is given; float images are read
    as [0, 1] when every value is <= 1 and as [0, 255] otherwise (or as
    ``[0, data_range]``).  Anything outside the range raises ValueError.
    """
    import cv2

    a = _check_image(image, where)
    if a.dtype == bool:
        a = a.astype(np.uint8) * np.uint8(255)
    if a.dtype != np.uint8 or data_range is not None:
        data_range = _image_data_range(a, data_range, where, noun="pixels")
        a = np.rint(np.clip(a.astype(np.float32) * np.float32(255.0 / data_range),
                            0, 255)).astype(np.uint8)
    if a.ndim == 3:
        code = cv2.COLOR_RGBA2GRAY if a.shape[-1] == 4 else cv2.COLOR_RGB2GRAY
        a = a[..., 0] if a.shape[-1] == 2 else cv2.cvtColor(
            np.ascontiguousarray(a), code)
    # dlib silently finds no face on a non-contiguous array
    return np.ascontiguousarray(a, dtype=np.uint8)


# --------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------
def _check_detect_params(upsample, detect_width, pad):
    if isinstance(upsample, bool) or not isinstance(upsample, Integral) \
            or upsample < 0:
        raise ValueError(f"upsample must be an int >= 0; got {upsample!r}.")
    if detect_width is not None and (
            isinstance(detect_width, bool) or not isinstance(detect_width, Integral)
            or detect_width < 16):
        raise ValueError(
            f"detect_width must be None or an int >= 16; got {detect_width!r}.")
    if isinstance(pad, bool) or not isinstance(pad, Real) or not 0 <= pad <= 1:
        raise ValueError(f"pad must be a number in [0, 1]; got {pad!r}.")


def detect_face(image: np.ndarray, *, upsample: int = 0, detect_width: int | None = 320,
                pad: float = 0.2, data_range: float | None = None) -> np.ndarray | None:
    """Find the largest frontal face with dlib's HOG detector.

    Parameters
    ----------
    image : ndarray of shape (height, width[, channels])
        Grey or RGB[A] image, uint8 or float (floats in [0, 1] or [0, 255]; see
        ``data_range``).  Any memory layout: a contiguous uint8 grey copy is made.
    upsample : int, default=0
        How many times dlib upsamples the image before detecting (each doubles the
        size: finds smaller faces, about 3-4 times slower).
    detect_width : int or None, default=320
        Detect on a copy downscaled to this width (only if the image is wider), for
        speed; the box is scaled back to the image's coordinates.  The HOG detector
        finds faces of about 80 pixels and more *in the downscaled copy*: use None
        for small faces in large frames.
    pad : float, default=0.2
        When no face is found, detect again on a copy padded by this fraction of its
        height/width on every side (black border); 0 disables the retry.  The HOG
        window needs some context around the face: on tightly cropped faces (e.g.
        the 224x224 MEGC2019 apex crops) the retry raises the detection rate from
        about 80 % to 98 %, at no cost when the first pass finds the face.
    data_range : float or None, default=None
        Value of white.  None: 255 for integer images (which must lie in [0, 255]);
        for float images 1.0 if every value is <= 1, else 255.

    Returns
    -------
    box : ndarray of shape (4,) or None
        ``(left, top, right, bottom)`` of the largest face in ``image``'s pixel
        coordinates (float64), or None when no face is found.

    Raises
    ------
    ValueError
        An image of the wrong shape, non-finite pixels, values outside the data
        range or an invalid parameter.

    References
    ----------
    .. [1] N. Dalal and B. Triggs, "Histograms of oriented gradients for human
       detection", CVPR 2005. :doi:`10.1109/CVPR.2005.177`
    .. [2] D. E. King, "Dlib-ml: A machine learning toolkit", JMLR 10, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing._face import detect_face
    >>> detect_face(np.zeros((120, 160), dtype=np.uint8)) is None
    True
    """
    import cv2

    _check_detect_params(upsample, detect_width, pad)
    grey = _to_grey_uint8(image, data_range=data_range, where="detect_face")
    h, w = grey.shape
    scale = 1.0
    if detect_width is not None and w > detect_width:
        scale = detect_width / w
        size = (int(detect_width), max(1, int(round(h * scale))))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    py = px = 0
    rects = _detector()(grey, int(upsample))
    if len(rects) == 0 and pad > 0:
        # retry with a black border: the HOG window needs context around the face
        py, px = int(round(pad * grey.shape[0])), int(round(pad * grey.shape[1]))
        grey = cv2.copyMakeBorder(grey, py, py, px, px, cv2.BORDER_CONSTANT, value=0)
        rects = _detector()(grey, int(upsample))
    if len(rects) == 0:
        return None
    r = max(rects, key=lambda r: r.width() * r.height())
    box = np.array([r.left() - px, r.top() - py, r.right() - px, r.bottom() - py],
                   dtype=np.float64)
    # back to image coordinates (pixel centres scale about -0.5)
    return (box + 0.5) / scale - 0.5


def _check_landmarks(landmarks, where):
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2):
        raise ValueError(
            f"{where}: landmarks must have shape (68, 2) (dlib's 68 points, (x, y)); "
            f"got shape {lm.shape}."
        )
    if not np.isfinite(lm).all():
        raise ValueError(f"{where}: landmarks contain NaN or infinite values.")
    return lm


def face_landmarks(image: np.ndarray, box: ArrayLike | None = None, *,
                   predictor_path: str | os.PathLike | None = None, upsample: int = 0,
                   detect_width: int | None = 320, pad: float = 0.2,
                   data_range: float | None = None) -> np.ndarray | None:
    """Place the 68 facial landmarks of the largest face (dlib's shape predictor).

    Parameters
    ----------
    image : ndarray of shape (height, width[, channels])
        Grey or RGB[A] image (see :func:`detect_face` for dtypes and ranges).
    box : array-like of shape (4,), default=None
        A known face box ``(left, top, right, bottom)``; None detects it with
        :func:`detect_face`.
    predictor_path : str or path-like, default=None
        dlib's ``shape_predictor_68_face_landmarks.dat``; None uses the file of the
        installed face-recognition-models package.
    upsample, detect_width, pad, data_range
        Passed to :func:`detect_face`.

    Returns
    -------
    landmarks : ndarray of shape (68, 2) or None
        ``(x, y)`` of the iBUG 300-W 68-point markup in ``image``'s pixel
        coordinates (float64), or None when no face is found.

    References
    ----------
    .. [1] V. Kazemi and J. Sullivan, "One millisecond face alignment with an
       ensemble of regression trees", CVPR 2014. :doi:`10.1109/CVPR.2014.241`

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing._face import face_landmarks
    >>> lm = face_landmarks(np.zeros((60, 60), dtype=np.uint8), box=(10, 10, 50, 50))
    >>> lm.shape
    (68, 2)
    """
    import dlib

    path = _resolve_predictor_path(predictor_path)
    grey = _to_grey_uint8(image, data_range=data_range, where="face_landmarks")
    if box is None:
        box = detect_face(grey, upsample=upsample, detect_width=detect_width, pad=pad)
        if box is None:
            return None
    box = np.asarray(box, dtype=np.float64)
    if box.shape != (4,) or not np.isfinite(box).all() or not (
            box[2] > box[0] and box[3] > box[1]):
        raise ValueError(
            f"box must be (left, top, right, bottom) with right > left and bottom > "
            f"top; got {box.tolist()}."
        )
    rect = dlib.rectangle(*(int(round(v)) for v in box))
    shape = _shape_predictor(path)(grey, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def _parse_output_size(output_size):
    if isinstance(output_size, Integral) and not isinstance(output_size, bool):
        output_size = (output_size, output_size)
    try:
        h, w = output_size
        ok = all(isinstance(v, Integral) and not isinstance(v, bool) and v >= 1
                 for v in (h, w))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            "output_size must be an int >= 1 or a pair (height, width) of ints >= 1; "
            f"got {output_size!r}."
        )
    return int(h), int(w)


def face_alignment(landmarks: ArrayLike,
                   output_size: int | tuple[int, ...] = (128, 128), *,
                   eye_distance: float | None = 0.35,
                   margin: float = 0.1) -> np.ndarray:
    """Compute the similarity transform that levels the eyes and crops the face.

    The transform rotates about the midpoint of the two eye centres (means of the
    landmarks 36-41 and 42-47) so that the line between the eye centres is
    horizontal, scales, and translates so that the centre of the landmarks' bounding
    box (taken after the rotation) lands at the centre of the output.

    Parameters
    ----------
    landmarks : array-like of shape (68, 2)
        The 68 points ``(x, y)`` of the face (dlib / iBUG 300-W order).
    output_size : int or tuple of int, default=(128, 128)
        ``(height, width)`` of the output (an int: a square).
    eye_distance : float or None, default=0.35
        The canonical inter-ocular distance (between the eye centres) in the output,
        as a fraction of the output width: every face gets the same scale.  At 0.35
        the crop spans about 2.9 inter-ocular distances, while the 68 landmarks of a
        frontal face span about 1.9-2.4 (width) by 1.5-1.8 (brows to chin): the
        face fits with a margin.  None: the scale makes the landmarks'
        bounding box, grown by ``margin``, fill the output instead.
    margin : float, default=0.1
        With ``eye_distance=None`` only: the bounding box (after rotation) is grown
        by this fraction of its width/height on every side, then to the output's
        aspect ratio.

    Returns
    -------
    matrix : ndarray of shape (2, 3)
        The affine map from input to output pixel coordinates (``cv2.warpAffine``
        convention).

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing._face import face_alignment
    >>> lm = np.zeros((68, 2))
    >>> lm[36:42], lm[42:48] = (40.0, 50.0), (60.0, 50.0)  # eyes 20 px apart, level
    >>> lm[:36], lm[48:] = (50.0, 40.0), (50.0, 60.0)
    >>> M = face_alignment(lm, (100, 100), eye_distance=0.4)
    >>> np.round(M @ [40.0, 50.0, 1.0], 6), np.round(M @ [60.0, 50.0, 1.0], 6)
    (array([29.5, 49.5]), array([69.5, 49.5]))
    """
    lm = _check_landmarks(landmarks, "face_alignment")
    out_h, out_w = _parse_output_size(output_size)
    if eye_distance is not None and not (isinstance(eye_distance, Real)
                                         and 0 < eye_distance < np.inf):
        raise ValueError(f"eye_distance must be None or > 0; got {eye_distance!r}.")
    if not (isinstance(margin, Real) and 0 <= margin < np.inf):
        raise ValueError(f"margin must be a number >= 0; got {margin!r}.")
    e1, e2 = lm[_RIGHT_EYE].mean(axis=0), lm[_LEFT_EYE].mean(axis=0)
    dx, dy = e2 - e1
    iod = float(np.hypot(dx, dy))
    if not iod > 0:
        raise ValueError("face_alignment: the two eye centres coincide.")
    c, s = dx / iod, dy / iod
    rot = np.array([[c, s], [-s, c]])  # rotation by -angle: the eye line horizontal
    centre = (e1 + e2) / 2
    q = (lm - centre) @ rot.T
    lo, hi = q.min(axis=0), q.max(axis=0)
    box_centre = (lo + hi) / 2
    if eye_distance is not None:
        scale = eye_distance * out_w / iod
    else:
        bw, bh = (hi - lo) * (1 + 2 * margin)
        bw, bh = max(bw, bh * out_w / out_h), max(bh, bw * out_h / out_w)
        if not bw > 0:
            raise ValueError("face_alignment: the landmarks are degenerate.")
        scale = out_w / bw
    out_centre = np.array([(out_w - 1) / 2, (out_h - 1) / 2])
    a = scale * rot
    t = out_centre - a @ centre - scale * box_centre
    return np.hstack([a, t[:, None]])


def _centre_matrix(frame_hw, out_hw):
    h, w = frame_hw
    out_h, out_w = out_hw
    bw = min(w, h * out_w / out_h)
    scale = out_w / bw
    return np.array([[scale, 0.0, (out_w - 1) / 2 - scale * (w - 1) / 2],
                     [0.0, scale, (out_h - 1) / 2 - scale * (h - 1) / 2]])


def _apply_matrix(matrix, points):
    return points @ matrix[:, :2].T + matrix[:, 2]


def _convert_color(frames, color, colour_in):
    """Convert warped frames ``(T, h, w[, C])`` to the requested colour layout."""
    if color == "keep":
        return frames
    if color == "grey":
        if not colour_in:
            return frames
        n = frames.shape[-1]
        if n == 2:
            return np.ascontiguousarray(frames[..., 0])
        if frames.dtype in (np.uint8, np.uint16, np.float32):
            import cv2

            code = cv2.COLOR_RGBA2GRAY if n == 4 else cv2.COLOR_RGB2GRAY
            t, h, w = frames.shape[:3]
            return cv2.cvtColor(np.ascontiguousarray(frames).reshape(t * h, w, n),
                                code).reshape(t, h, w)
        grey = frames[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        if np.issubdtype(frames.dtype, np.integer):
            grey = np.rint(grey)
        return grey.astype(frames.dtype)
    # rgb
    if not colour_in:
        return np.repeat(frames[..., None], 3, axis=-1)
    n = frames.shape[-1]
    if n == 2:
        return np.repeat(frames[..., :1], 3, axis=-1)
    return np.ascontiguousarray(frames[..., :3])


def _warp_frames(frames, matrix, out_hw, interpolation):
    import cv2

    out_h, out_w = out_hw
    dtype = frames.dtype
    work = frames if dtype in _CV2_DTYPES else frames.astype(np.float64)
    flags = _INTERPOLATIONS[interpolation]
    m = np.asarray(matrix, dtype=np.float64)
    if interpolation == "area":
        # anti-aliased downscaling: resize with INTER_AREA, then warp bilinearly
        scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
        if scale < 1:
            h, w = frames.shape[1:3]
            size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
            sx, sy = size[0] / w, size[1] / h
            pre = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5]])
            m = m @ np.linalg.inv(np.vstack([pre, [0, 0, 1]]))
            work = np.stack([cv2.resize(np.ascontiguousarray(f), size,
                                        interpolation=cv2.INTER_AREA).reshape(
                size[::-1] + f.shape[2:]) for f in work])
        flags = cv2.INTER_LINEAR
    out = np.empty((len(work), out_h, out_w) + work.shape[3:], dtype=work.dtype)
    for t, frame in enumerate(work):
        out[t] = cv2.warpAffine(np.ascontiguousarray(frame), m, (out_w, out_h),
                                flags=flags, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=0).reshape(out.shape[1:])
    return out


def _check_frames(frames, where):
    if isinstance(frames, (list, tuple)):
        shapes = [np.shape(f) for f in frames]
        for t, shape in enumerate(shapes):
            if shape != shapes[0]:
                raise ValueError(
                    f"{where}: frame {t} has shape {shape} but frame 0 has "
                    f"{shapes[0]}; all frames of a clip must have one size."
                )
    a = np.asarray(frames)
    if a.ndim not in (3, 4) or a.shape[0] < 1:
        raise ValueError(
            f"{where}: frames must have shape (n_frames, height, width[, channels]) "
            f"with at least one frame; got shape {a.shape}."
        )
    if a.ndim == 4 and a.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(
            f"{where}: frames must have 1, 2, 3 or 4 channels; got {a.shape[-1]}.")
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number)
                                 or a.dtype == bool):
        raise ValueError(f"{where}: frames must be numeric; got dtype {a.dtype}.")
    if np.issubdtype(a.dtype, np.inexact) and not np.isfinite(a).all():
        raise ValueError(f"{where}: frames contain NaN or infinite values.")
    return a


def _reference_index(reference, n_frames, onset, apex, where):
    if isinstance(reference, str):
        if reference == "onset":
            idx = 0 if onset is None else onset
        elif reference == "apex":
            idx = n_frames // 2 if apex is None else apex
        else:
            raise ValueError(
                f"reference must be 'onset', 'apex' or an int frame index; got "
                f"{reference!r}.")
        name = f"{reference} index"
    elif isinstance(reference, Integral) and not isinstance(reference, bool):
        idx, name = reference, "reference"
    else:
        raise ValueError(
            f"reference must be 'onset', 'apex' or an int frame index; got "
            f"{reference!r}.")
    if isinstance(idx, bool) or not isinstance(idx, Integral) \
            or not -n_frames <= idx < n_frames:
        raise ValueError(
            f"{where}: {name} {idx!r} is not a frame index of a clip with "
            f"{n_frames} frames.")
    return int(idx) % n_frames


def _locate_face(frames, idx, landmarks, out_hw, *, eye_distance, margin,
                 on_missing, upsample, detect_width, pad, predictor_path,
                 data_range, where):
    """Return ``(matrix, out_landmarks, found)`` for one checked clip.

    The locating half of :func:`crop_face`, shared with :meth:`FaceCropper.locate`.
    """
    if landmarks is None:
        landmarks = face_landmarks(frames[idx], predictor_path=predictor_path,
                                   upsample=upsample, detect_width=detect_width,
                                   pad=pad, data_range=data_range)
    else:
        landmarks = _check_landmarks(landmarks, where)
    if landmarks is None:
        if on_missing == "raise":
            raise ValueError(
                f"{where}: no face found on the reference frame {idx} (dlib HOG "
                f"detector, upsample={upsample}, detect_width={detect_width}). Try "
                "upsample=1, detect_width=None, another reference frame, or "
                "on_missing='center'."
            )
        logger.warning("%s: no face found on frame %d; centred crop", where, idx)
        return _centre_matrix(frames.shape[1:3], out_hw), None, False
    matrix = face_alignment(landmarks, out_hw, eye_distance=eye_distance,
                            margin=margin)
    return matrix, _apply_matrix(matrix, landmarks), True


def crop_face(frames: ArrayLike, *, reference: int = 0,
              landmarks: ArrayLike | None = None,
              output_size: int | tuple[int, ...] = (128, 128), color: str = "grey",
              eye_distance: float | None = 0.35, margin: float = 0.1,
              on_missing: str = "raise", upsample: int = 0,
              detect_width: int | None = 320, pad: float = 0.2,
              predictor_path: str | os.PathLike | None = None,
              data_range: float | None = None, interpolation: str = "linear",
              where: str = "clip") -> FaceCrop:
    """Align and crop the face of one clip with a single transform for all frames.

    The landmarks of the reference frame (given, or detected with
    :func:`face_landmarks`) define one similarity transform
    (:func:`face_alignment`), which ``cv2.warpAffine`` applies to every frame.

    Parameters
    ----------
    frames : array-like of shape (n_frames, height, width[, channels])
        The clip: grey or RGB[A] frames (uint8, uint16, int16, float32 or float64
        keep their dtype; other dtypes come back as float64).  Floats are read as
        [0, 1] or [0, 255] for detection (see :func:`detect_face`), never ignored.
    reference : int, default=0
        Index of the frame on which the face is located.
    landmarks : array-like of shape (68, 2), default=None
        Known landmarks of the reference frame, in input pixel coordinates; None
        detects them.
    output_size : int or tuple of int, default=(128, 128)
        ``(height, width)`` of the output frames.
    color : {"grey", "rgb", "keep"}, default="grey"
        Output frames grey ``(T, h, w)`` (ITU-R BT.601 luma of RGB input), RGB
        ``(T, h, w, 3)`` (grey input is repeated, alpha dropped) or with the input's
        channels (a single channel axis is dropped).
    eye_distance, margin
        See :func:`face_alignment`.
    on_missing : {"raise", "center"}, default="raise"
        No face on the reference frame: raise ``ValueError`` naming ``where``, or
        crop the largest centred region of the output's aspect ratio (``found`` is
        then False and ``landmarks`` None).
    upsample, detect_width, pad, data_range
        See :func:`detect_face`.
    predictor_path : str or path-like, default=None
        See :func:`face_landmarks`.
    interpolation : {"linear", "cubic", "area"}, default="linear"
        Interpolation of the warp.  "area" first downscales every frame with
        ``cv2.INTER_AREA`` (anti-aliased) when the crop shrinks the face, then warps
        bilinearly (slower).
    where : str, default="clip"
        Names the clip in error messages.

    Returns
    -------
    result : FaceCrop
        ``(frames, landmarks, matrix, found)``: see :class:`FaceCrop`.

    Raises
    ------
    ValueError
        No face found (``on_missing="raise"``), frames of different sizes, NaN or
        out-of-range pixels, an invalid parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing._face import crop_face
    >>> clip = np.zeros((3, 60, 80), dtype=np.uint8)
    >>> res = crop_face(clip, output_size=(32, 32), on_missing="center")
    >>> res.frames.shape, res.found, res.landmarks is None
    ((3, 32, 32), False, True)
    """
    frames = _check_frames(frames, where)
    out_hw = _parse_output_size(output_size)
    if color not in _COLORS:
        raise ValueError(f"color must be one of {list(_COLORS)}; got {color!r}.")
    if on_missing not in _ON_MISSING:
        raise ValueError(
            f"on_missing must be one of {list(_ON_MISSING)}; got {on_missing!r}. "
            "('drop' is not offered: a transformer must keep the number of clips.)")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {list(_INTERPOLATIONS)}; "
                         f"got {interpolation!r}.")
    if frames.ndim == 4 and frames.shape[-1] == 1:
        frames = frames[..., 0]
    colour_in = frames.ndim == 4
    idx = _reference_index(reference, len(frames), None, None, where)
    matrix, out_landmarks, found = _locate_face(
        frames, idx, landmarks, out_hw, eye_distance=eye_distance, margin=margin,
        on_missing=on_missing, upsample=upsample, detect_width=detect_width,
        pad=pad, predictor_path=predictor_path, data_range=data_range, where=where)
    out = _warp_frames(frames, matrix, out_hw, interpolation)
    out = _convert_color(out, color, colour_in)
    return FaceCrop(out, out_landmarks, matrix, found)


# --------------------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------------------
def _clip_where(clip, i):
    return f"FaceCropper: clip {i}" + (f" (id={clip.id!r})"
                                       if clip.id is not None else "")


def _crop_clip(clip, i, params, use_clip_landmarks):
    where = _clip_where(clip, i)
    frames = clip.frames
    idx = _reference_index(params.pop("reference"), len(frames), clip.onset,
                           clip.apex, where)
    landmarks = clip.landmarks if use_clip_landmarks else None
    res = crop_face(frames, reference=idx, landmarks=landmarks, where=where,
                    **params)
    return clip.replace(frames=res.frames, landmarks=res.landmarks)


def _locate_clip(clip, i, params, use_clip_landmarks):
    """``(matrix, found)`` of one clip, as :func:`_crop_clip` would crop it."""
    where = _clip_where(clip, i)
    frames = _check_frames(clip.frames, where)
    if frames.ndim == 4 and frames.shape[-1] == 1:
        frames = frames[..., 0]
    idx = _reference_index(params.pop("reference"), len(frames), clip.onset,
                           clip.apex, where)
    landmarks = clip.landmarks if use_clip_landmarks else None
    matrix, _, found = _locate_face(frames, idx, landmarks, where=where, **params)
    return matrix, found


class FaceCropper(TransformerMixin, BaseEstimator):
    """Align and crop the face of every clip with one transform per clip (dlib).

    On a reference frame of each clip (the onset by default), dlib's HOG detector
    finds the largest face and its 68-point shape predictor places the landmarks; a
    similarity transform levels the eyes (rotation about the midpoint of the eye
    centres), scales to a canonical inter-ocular distance and centres the landmarks'
    bounding box.  The **same** transform is applied to every frame with one
    ``cv2.warpAffine`` per frame: re-detecting per frame would make the crop jitter
    by more than the micro-motion to be measured.

    Parameters
    ----------
    output_size : int or tuple of int, default=(128, 128)
        ``(height, width)`` of the output frames (an int: a square).
    color : {"grey", "rgb", "keep"}, default="grey"
        Output frames grey ``(T, h, w)``, RGB ``(T, h, w, 3)`` or with the input's
        channels.  Colour input is read as RGB[A] (skmer's loaders decode RGB).
    reference : {"onset", "apex"} or int, default="onset"
        The frame the face is located on: the clip's ``onset`` (frame 0 when the clip
        has none), its ``apex`` (the middle frame when it has none) or a frame index
        (negative counts from the end).
    eye_distance : float or None, default=0.35
        Inter-ocular distance in the output as a fraction of the output width (the
        same face scale for every subject); None: scale the landmarks' bounding box
        grown by ``margin`` onto the output instead (see :func:`face_alignment`).
    margin : float, default=0.1
        Margin around the landmarks' bounding box, as a fraction of its size, used
        when ``eye_distance=None``.
    on_missing : {"raise", "center"}, default="raise"
        What to do when no face is found on the reference frame: raise a
        ``ValueError`` naming the clip (index and id), or crop the largest centred
        region of the output's aspect ratio; such clips get ``landmarks=None`` (and
        ``face_found=False`` in :meth:`locate`).  Dropping the clip is not offered: a
        transformer must return as many samples as it receives (``y`` and
        ``groups`` would no longer match ``X``).
    upsample : int, default=0
        dlib's upsampling of the detection image (1 finds smaller faces, about
        3-4 times slower).
    detect_width : int or None, default=320
        Detect on a copy downscaled to this width (faster); the landmarks are then
        placed on the full-resolution frame.  None: detect at full resolution.
    detect_pad : float, default=0.2
        When no face is found, detection is retried with a black border of this
        fraction of the image size on every side: tightly cropped faces are missed
        without it.  0 disables the retry.
    use_clip_landmarks : bool, default=True
        When a clip has :attr:`~skmer.datasets.Clip.landmarks` (68 points ``(x, y)``
        in the clip's own pixel coordinates: precomputed, or left by an earlier
        crop), take them as the reference frame's landmarks and skip detection;
        False always detects.  (The kernel :func:`crop_face` takes them as
        ``landmarks=``.)
    predictor_path : str or path-like, default=None
        dlib's ``shape_predictor_68_face_landmarks.dat``; None uses the one shipped
        by the face-recognition-models package.
    data_range : float or None, default=None
        Value of white for detection: None reads integer frames as [0, 255] and
        float frames as [0, 1] when every value is <= 1, else [0, 255].  Output
        frames keep the input's dtype and range.
    interpolation : {"linear", "cubic", "area"}, default="linear"
        Interpolation of the warp ("area": anti-aliased downscaling, slower).
    n_jobs : int, default=None
        Clips processed in parallel (joblib); the output does not depend on it.
    verbose : int, default=0
        Show a ``tqdm`` progress bar over the clips in :meth:`transform` when
        positive; the output does not depend on it.

    Attributes
    ----------
    predictor_path_ : str
        The shape predictor file used.
    output_shape_ : tuple of int
        ``(height, width)`` of the output frames.  No input frame shape is recorded:
        clips of any frame size (several corpora) are accepted.

    See Also
    --------
    crop_face : The kernel, on one clip.
    face_landmarks : The 68 landmarks of one image.

    Notes
    -----
    The output clips carry the metadata of the input (``onset``, ``apex``, ... are
    unchanged: no frame is removed) and ``landmarks``, the reference frame's 68
    points in output pixel coordinates.  :meth:`transform` sets no attribute (the
    fitted state comes from :meth:`fit` only); the affine map applied to each clip
    and whether its face was found are given by :meth:`locate`.  Float frames are
    converted explicitly to 8-bit grey for detection (never silently "no face"); the
    warp itself keeps the input's dtype.  On a 2-core CPU, detection + landmarks
    cost about 10-30 ms per clip on a 640x480 frame and the warp about 0.1-0.3 ms per
    frame (``benchmarks/face.py``).

    References
    ----------
    .. [1] N. Dalal and B. Triggs, "Histograms of oriented gradients for human
       detection", CVPR 2005. :doi:`10.1109/CVPR.2005.177`
    .. [2] V. Kazemi and J. Sullivan, "One millisecond face alignment with an
       ensemble of regression trees", CVPR 2014. :doi:`10.1109/CVPR.2014.241`

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing._face import FaceCropper
    >>> X = [np.zeros((4, 60, 80), dtype=np.uint8)]  # no face: centred fallback
    >>> Xt = FaceCropper(output_size=32, on_missing="center").fit_transform(X)
    >>> Xt[0].shape, Xt[0].landmarks is None
    ((4, 32, 32), True)
    """

    _parameter_constraints = {
        "output_size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "color": [StrOptions(set(_COLORS))],
        "reference": [StrOptions({"onset", "apex"}), Integral],
        "eye_distance": [Interval(Real, 0, None, closed="neither"), None],
        "margin": [Interval(Real, 0, None, closed="left")],
        "on_missing": [StrOptions(set(_ON_MISSING))],
        "upsample": [Interval(Integral, 0, None, closed="left")],
        "detect_width": [Interval(Integral, 16, None, closed="left"), None],
        "detect_pad": [Interval(Real, 0, 1, closed="both")],
        "use_clip_landmarks": ["boolean"],
        "predictor_path": [str, os.PathLike, None],
        "data_range": [Interval(Real, 0, None, closed="neither"), None],
        "interpolation": [StrOptions(set(_INTERPOLATIONS))],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, output_size: int | tuple[int, ...] = (128, 128),
                 color: str = "grey", reference: str | int = "onset",
                 eye_distance: float | None = 0.35, margin: float = 0.1,
                 on_missing: str = "raise", upsample: int = 0,
                 detect_width: int | None = 320, detect_pad: float = 0.2,
                 use_clip_landmarks: bool = True,
                 predictor_path: str | os.PathLike | None = None,
                 data_range: float | None = None, interpolation: str = "linear",
                 n_jobs: int | None = None, verbose: int = 0) -> None:
        self.output_size = output_size
        self.color = color
        self.reference = reference
        self.eye_distance = eye_distance
        self.margin = margin
        self.on_missing = on_missing
        self.upsample = upsample
        self.detect_width = detect_width
        self.detect_pad = detect_pad
        self.use_clip_landmarks = use_clip_landmarks
        self.predictor_path = predictor_path
        self.data_range = data_range
        self.interpolation = interpolation
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_clips(self, X):
        name = type(self).__name__
        if isinstance(X, (list, tuple)):
            X = [
                _check_frames(c, f"{name}: clip {i}")
                if isinstance(c, (list, tuple)) else c
                for i, c in enumerate(X)
            ]
        return check_clips(X, estimator=self)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Sequence[Clip | np.ndarray] | ClipSequence,
            y: None = None) -> FaceCropper:
        """Check the parameters and the input, and locate the shape predictor.

        Nothing is learned: the face of every clip is located in :meth:`transform`.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips (any frame size).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted cropper.
        """
        self.output_shape_ = _parse_output_size(self.output_size)
        self.predictor_path_ = _resolve_predictor_path(self.predictor_path)
        self._check_clips(X)
        return self

    def transform(self, X: Sequence[Clip | np.ndarray] | ClipSequence) -> ClipSequence:
        """Crop and align the face of every clip.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips (any frame size).

        Returns
        -------
        X_crop : ClipSequence
            New in-memory clips of shape ``(n_frames, height, width[, 3])`` with the
            input's metadata and ``landmarks`` in output pixel coordinates (None for
            a centred fallback crop).

        Raises
        ------
        ValueError
            No face on a clip's reference frame with ``on_missing="raise"`` (the
            message names the clip's index and id), or invalid input.
        """
        check_is_fitted(self)
        clips = self._check_clips(X)
        params = dict(
            output_size=self.output_shape_, color=self.color,
            eye_distance=self.eye_distance, margin=self.margin,
            on_missing=self.on_missing, upsample=self.upsample,
            detect_width=self.detect_width, pad=self.detect_pad,
            predictor_path=self.predictor_path_, data_range=self.data_range,
            interpolation=self.interpolation,
        )
        results = parallel_map(
            # a lazy clip would be pickled to a worker as its source and decoded
            # again there: send the pixels already decoded by check_clips instead
            (delayed(_crop_clip)(clip.replace() if clip.is_lazy else clip, i,
                                 dict(params, reference=self.reference),
                                 self.use_clip_landmarks)
             for i, clip in enumerate(clips)),
            n_jobs=self.n_jobs, verbose=self.verbose, total=len(clips),
            desc=type(self).__name__,
        )
        return ClipSequence(results)

    def locate(self, X: Sequence[Clip | np.ndarray] | ClipSequence) -> Bunch:
        """Locate the face of every clip, without cropping.

        Gives, for each clip, the transform that :meth:`transform` applies to it
        (the same detection on the same reference frame; no frame is warped).

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips (any frame size).

        Returns
        -------
        location : :class:`~sklearn.utils.Bunch`
            With ``matrices``, ndarray of shape (n_clips, 2, 3): the affine map of
            each clip (input to output pixel coordinates, ``cv2.warpAffine``
            convention), and ``face_found``, ndarray of shape (n_clips,) of bool:
            False for a clip that gets the centred fallback crop
            (``on_missing="center"``).

        Raises
        ------
        ValueError
            No face on a clip's reference frame with ``on_missing="raise"``, or
            invalid input.

        Examples
        --------
        >>> import numpy as np
        >>> from skmer.preprocessing._face import FaceCropper
        >>> X = [np.zeros((4, 60, 80), dtype=np.uint8)]  # no face: centred crop
        >>> loc = FaceCropper(output_size=30, on_missing="center").fit(X).locate(X)
        >>> loc.matrices.shape, loc.face_found.tolist()
        ((1, 2, 3), [False])
        """
        check_is_fitted(self)
        clips = self._check_clips(X)
        params = dict(
            out_hw=self.output_shape_, eye_distance=self.eye_distance,
            margin=self.margin, on_missing=self.on_missing, upsample=self.upsample,
            detect_width=self.detect_width, pad=self.detect_pad,
            predictor_path=self.predictor_path_, data_range=self.data_range,
        )
        results = parallel_map(
            (delayed(_locate_clip)(clip.replace() if clip.is_lazy else clip, i,
                                   dict(params, reference=self.reference),
                                   self.use_clip_landmarks)
             for i, clip in enumerate(clips)),
            n_jobs=self.n_jobs, verbose=self.verbose, total=len(clips),
            desc=f"{type(self).__name__}.locate",
        )
        return Bunch(matrices=np.stack([m for m, _ in results]),
                     face_found=np.array([f for _, f in results], dtype=bool))

    def __sklearn_tags__(self):
        # the output size is a parameter: clips of any frame size are accepted
        tags = with_skmer_tags(super().__sklearn_tags__(), fixed_frame_shape=False)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags

