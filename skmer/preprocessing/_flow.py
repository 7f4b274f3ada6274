"""Dense optical flow and optical strain: pure kernels and clip transformers.

The kernels (:func:`optical_flow`, :func:`optical_strain`) work on one pair of frames
or one flow field; :class:`FlowExtractor` maps a sequence of clips to a fixed-shape
float32 array of flow images and :class:`OpticalStrain` adds the strain channel to
existing flow arrays (e.g. flow images loaded from disk).

Conventions used throughout
---------------------------
- A flow field has shape ``(height, width, 2)`` (kernels) with ``flow[..., 0] = u``
  along the columns (x, positive to the right) and ``flow[..., 1] = v`` along the
  rows (y, positive downwards).  Positive ``u`` means the content moves right from
  ``prev`` to ``next``: ``prev[y, x] ~= next[y + v, x + u]`` (OpenCV's convention;
  note that :func:`skimage.registration.optical_flow_tvl1` returns ``(v, u)`` instead).
- The estimators return channel-first arrays ``(n, C, H, W)`` /
  ``(n, C, T - 1, H, W)`` with channels ``u, v[, strain][, magnitude]``.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin

from skmer._core._validation import _check_index
from skmer.preprocessing._flow_registry import get_flow_method
from skmer.utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    delayed,
    validate_data,
)
from skmer.utils._progress import parallel_map
from skmer.utils._tags import with_skmer_tags
from skmer.utils.validation import _image_data_range, check_clips

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

    from skmer._core import Clip, ClipSequence

__all__ = ["FlowExtractor", "OpticalStrain", "affine_flow", "optical_flow",
           "optical_strain"]

FLOW_METHODS = ("tvl1", "farneback", "dis", "raft")

# snake_case parameter -> (setter of cv2.optflow.DualTVL1OpticalFlow, type)
_TVL1_PARAMS = {
    "tau": ("setTau", float),
    "lambda_": ("setLambda", float),
    "theta": ("setTheta", float),
    "n_scales": ("setScalesNumber", int),
    "warps": ("setWarpingsNumber", int),
    "epsilon": ("setEpsilon", float),
    "inner_iterations": ("setInnerIterations", int),
    "outer_iterations": ("setOuterIterations", int),
    "scale_step": ("setScaleStep", float),
    "gamma": ("setGamma", float),
    "median_filtering": ("setMedianFiltering", int),
}
# cv2.calcOpticalFlowFarneback's arguments, with OpenCV's documented example values.
_FARNEBACK_PARAMS = {
    "pyr_scale": (0.5, float),
    "levels": (3, int),
    "winsize": (15, int),
    "iterations": (3, int),
    "poly_n": (5, int),
    "poly_sigma": (1.2, float),
    "flags": (0, int),
}
_DIS_PRESETS = ("ultrafast", "fast", "medium")
_DIS_PARAMS = {
    "finest_scale": ("setFinestScale", int),
    "coarsest_scale": ("setCoarsestScale", int),
    "patch_size": ("setPatchSize", int),
    "patch_stride": ("setPatchStride", int),
    "gradient_descent_iterations": ("setGradientDescentIterations", int),
    "variational_refinement_iterations": ("setVariationalRefinementIterations", int),
    "variational_refinement_alpha": ("setVariationalRefinementAlpha", float),
    "variational_refinement_delta": ("setVariationalRefinementDelta", float),
    "variational_refinement_gamma": ("setVariationalRefinementGamma", float),
    "variational_refinement_epsilon": ("setVariationalRefinementEpsilon", float),
    "use_mean_normalization": ("setUseMeanNormalization", bool),
    "use_spatial_propagation": ("setUseSpatialPropagation", bool),
}
_LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as cv2.COLOR_RGB2GRAY


# --------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------
def _allowed_params(method):
    if method == "tvl1":
        return sorted(set(_TVL1_PARAMS) | {"lambda"})
    if method == "farneback":
        return sorted(_FARNEBACK_PARAMS)
    if method == "raft":
        return ["device", "iters", "weights"]
    return sorted(set(_DIS_PARAMS) | {"preset"})


def _check_method(method):
    if not isinstance(method, str) or method not in FLOW_METHODS:
        raise ValueError(
            f"method must be one of {list(FLOW_METHODS)}; got {method!r}."
        )


def _check_flow_params(method, params):
    """Raise ValueError for a parameter the flow ``method`` does not know."""
    _check_method(method)
    allowed = _allowed_params(method)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(
            f"Unknown parameter(s) {unknown} for optical flow method {method!r}; "
            f"allowed: {allowed}."
        )
    if method == "raft":
        get_flow_method("raft")  # torch missing: a clear ImportError, here in fit
        if params.get("weights") is None:
            raise ValueError(
                "method='raft' needs flow_params={'weights': <path to a local RAFT "
                "state dict>} (torchvision's raft_large / raft_small weights, which "
                "skmer never downloads); optional 'iters' (12) and 'device' ('cpu').")
        return
    if method == "dis" and "preset" in params and params["preset"] not in _DIS_PRESETS:
        raise ValueError(
            f"preset of the 'dis' method must be one of {list(_DIS_PRESETS)}; got "
            f"{params['preset']!r}."
        )
    for key, value in params.items():
        if key == "preset":
            continue
        if isinstance(value, bool) and key not in _DIS_PARAMS:
            raise ValueError(f"Flow parameter {key!r} must be a number; got {value!r}.")
        if not isinstance(value, (Real, np.number, bool)):
            raise ValueError(
                f"Flow parameter {key!r} must be a number; got {value!r}."
            )


def _to_grey_uint8(frames, *, colour, data_range=None, where="frames", index=None):
    """Convert frames ``(..., H, W[, C])`` to grey uint8 as OpenCV's flow needs.

    Colour frames (``colour=True``, last axis = channels) become grey with the
    ITU-R BT.601 luma weights (channels read as RGB[A]; 1 or 2 channels: the first).
    The value range is ``data_range`` if given, else 255 for integer frames (which
    must then lie in [0, 255]) and, for float frames, 1.0 when every value is <= 1
    and 255 otherwise; it is read from the input's own values and dtype (all
    frames, all channels), and values outside ``[0, data_range]`` raise
    ValueError.  ``index`` (frame indices along the first axis): convert only
    those frames, after checking all of them.
    """
    a = np.asarray(frames)
    if a.dtype == bool:
        a = a.astype(np.uint8) * np.uint8(255)
    if a.dtype.kind not in "uif":  # (dtype.kind: cheaper than np.issubdtype)
        raise ValueError(f"{where}: frames must be real numbers; got dtype {a.dtype}.")
    if colour and a.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(
            f"{where}: colour frames must have 1, 2 (grey + alpha), 3 (RGB) or 4 "
            f"(RGBA) channels; got {a.shape[-1]}."
        )
    as_is = a.dtype == np.uint8 and data_range is None  # 8-bit: its own range
    if not as_is:
        data_range = _image_data_range(a, data_range, where)
    if index is not None:
        a = a[index]
    if colour and a.shape[-1] in (1, 2):
        a = a[..., 0]
    elif colour:
        a = a[..., :3].astype(np.float64) @ _LUMA
    if as_is and a.dtype == np.uint8:  # grey (not luma-converted) 8-bit frames
        return a
    scale = 255.0 / (255.0 if as_is else data_range)
    return np.rint(np.clip(a.astype(np.float64) * scale, 0, 255)).astype(np.uint8)


def _frozen_params(method, params):
    """Hashable canonical form of checked ``params``: the values the setters get.

    ``"lambda"`` and ``"lambda_"`` name one TV-L1 setter (the last one given wins, as
    when the setters are called in order); values are converted as the setters
    convert them, so ``{"patch_size": 8.0}`` and ``{"patch_size": 8}`` agree.
    """
    if not params:
        return ()
    table = _TVL1_PARAMS if method == "tvl1" else _DIS_PARAMS
    canon = {}
    for key, value in params.items():
        if key == "preset":
            canon[key] = value
            continue
        key = "lambda_" if key == "lambda" else key
        canon[key] = table[key][1](value)
    return tuple(sorted(canon.items()))


def _make_algo(method, frozen):
    """Create an OpenCV flow object for ``method`` with the setters of ``frozen``."""
    import cv2

    if method == "tvl1":
        algo = cv2.optflow.DualTVL1OpticalFlow_create()
        table = _TVL1_PARAMS
    else:
        preset = dict(frozen).get("preset", "fast")
        algo = cv2.DISOpticalFlow_create({
            "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
            "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
            "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
        }[preset])
        table = _DIS_PARAMS
    for key, value in frozen:
        if key != "preset":
            getattr(algo, table[key][0])(value)
    return algo


# Per-thread cache of OpenCV TV-L1 objects, so that frames of one shape reuse the
# object and its buffers (which OpenCV sizes on the first call) instead of building
# both for every pair.  An object is reused only for frames of the same shape and
# dtype (and the same method and parameters): an earlier, size-blind cache gave wrong
# flow (not reproduced for TV-L1 with OpenCV 5.0, but the key rules it out).  Objects
# are never shared between threads (OpenCV's algorithms are not thread-safe) nor kept
# on an estimator (they do not pickle); the cache is emptied in a forked child.
# DIS is deliberately not cached: with OpenCV 5.0 a reused DISOpticalFlow does not
# reproduce a new one's flow on some frame sizes, even on the same pair (48 x 80,
# "fast" preset: up to 0.005 px apart; 64 x 64 and 128 x 128 agree), and one reused
# after collectGarbage() crashed.  A new object costs ~5 % of a 128 x 128 DIS call.
_ALGO_CACHE_SIZE = 4
_ALGO_CACHE = threading.local()


def _cached_algo(method, params, shape, dtype):
    """Return the calling thread's flow object for these parameters and frames.

    One object per ``(method, params, shape, dtype)``; a new one on a miss, the least
    recently used of more than ``_ALGO_CACHE_SIZE`` dropped.
    """
    store = _ALGO_CACHE.__dict__
    pid = os.getpid()
    cache = store.get("algos")
    if cache is None or store.get("pid") != pid:
        cache = store["algos"] = OrderedDict()
        store["pid"] = pid
    frozen = _frozen_params(method, params)
    key = (method, frozen, shape, dtype.str)
    algo = cache.get(key)
    if algo is None:
        algo = cache[key] = _make_algo(method, frozen)
        if len(cache) > _ALGO_CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return algo


def _flow_grey(prev, next, method, params):
    """Flow between two grey uint8 frames (parameters already checked)."""
    import cv2

    prev = np.ascontiguousarray(prev)
    next = np.ascontiguousarray(next)
    if method == "tvl1":
        # useInitialFlow is never set, so a reused object starts from zero flow and
        # computes what a new one would (tests/preprocessing/test_flow.py checks it)
        flow = _cached_algo(method, params, prev.shape, prev.dtype).calc(
            prev, next, None)
    elif method == "dis":
        # ``None`` as the output: DIS would start from a same-sized flow passed in
        flow = _make_algo(method, _frozen_params(method, params)).calc(
            prev, next, None)
    elif method == "farneback":
        kw = {k: kind(params.get(k, default))
              for k, (default, kind) in _FARNEBACK_PARAMS.items()}
        flow = cv2.calcOpticalFlowFarneback(
            prev, next, None, kw["pyr_scale"], kw["levels"], kw["winsize"],
            kw["iterations"], kw["poly_n"], kw["poly_sigma"], kw["flags"],
        )
    elif method == "raft":
        # registered by skmer.models (imported on demand): preprocessing never
        # imports torch itself
        flow = get_flow_method("raft")(prev, next, params)
    else:
        _check_method(method)
    return np.asarray(flow, dtype=np.float32)


def optical_flow(prev: ArrayLike, next: ArrayLike, method: str = "tvl1", *,
                 data_range: float | None = None, **params) -> np.ndarray:
    """Dense optical flow from frame ``prev`` to frame ``next`` (OpenCV).

    Parameters
    ----------
    prev, next : ndarray of shape (height, width) or (height, width, channels)
        The two frames, of one shape.  Colour frames (channels read as RGB[A], as
        :class:`~skmer.datasets.Clip` decodes them) are converted to grey with the
        ITU-R BT.601 luma weights.  OpenCV's flow works on 8-bit grey images, so the
        frames are converted to uint8 (see ``data_range``).
    method : {"tvl1", "farneback", "dis", "raft"}, default="tvl1"
        Dual TV-L1 [1]_ (``cv2.optflow.DualTVL1OpticalFlow``), Farnebäck's
        polynomial expansion [2]_ (``cv2.calcOpticalFlowFarneback``), Dense
        Inverse Search [3]_ (``cv2.DISOpticalFlow``) or RAFT (Teed & Deng 2020,
        skmer's pure-torch :func:`skmer.models.nets.raft.raft_flow`; it needs
        ``weights=<path to a local state dict>`` in the parameters, and torch:
        :mod:`skmer.models` provides it and is imported on demand, without torch
        an ``ImportError`` says what to install; weights are never downloaded).
    data_range : float, default=None
        The value of a white pixel.  By default 255 for integer frames (which must
        then lie in [0, 255]) and, for float frames, 1.0 when all values of both
        frames are <= 1, else 255.  Values outside ``[0, data_range]`` raise a
        ``ValueError`` instead of being silently clipped or wrapped.
    **params : dict
        Parameters of the method, OpenCV's defaults otherwise.  ``"tvl1"``: ``tau``,
        ``lambda_`` (or ``"lambda"``), ``theta``, ``n_scales``, ``warps``,
        ``epsilon``, ``inner_iterations``, ``outer_iterations``, ``scale_step``,
        ``gamma``, ``median_filtering`` (applied through the setters of
        ``DualTVL1OpticalFlow``).  ``"farneback"``: ``pyr_scale=0.5``,
        ``levels=3``, ``winsize=15``, ``iterations=3``, ``poly_n=5``,
        ``poly_sigma=1.2``, ``flags=0``.  ``"dis"``: ``preset`` in
        ``{"ultrafast", "fast", "medium"}`` (default ``"fast"``) and the setters of
        ``DISOpticalFlow`` in snake case (``finest_scale``, ``patch_size``, ...).

    Returns
    -------
    flow : ndarray of shape (height, width, 2), dtype float32
        ``flow[..., 0] = u`` (along x / columns) and ``flow[..., 1] = v`` (along
        y / rows): ``prev[y, x] ~= next[y + v, x + u]``, so a positive ``u`` means
        that the content moves right.

    See Also
    --------
    optical_strain : Optical strain magnitude of a flow field.
    FlowExtractor : Flow images of a sequence of clips.

    Notes
    -----
    OpenCV's TV-L1 warps the second frame with bicubic interpolation (Keys kernel,
    ``a = -0.75``), which does not reproduce linear ramps exactly; the estimate is
    therefore biased towards whole-pixel displacements ("pixel locking"): a global
    0.3 px shift of a smooth texture is measured as about 0.256 px (0.7 px as about
    0.745 px), while 0, 0.5 and 1 px shifts are unbiased.  Farnebäck and DIS are
    within 0.01 px on average on the same test, but less robust at motion
    boundaries.

    References
    ----------
    .. [1] C. Zach, T. Pock and H. Bischof, "A Duality Based Approach for Realtime
       TV-L1 Optical Flow", DAGM 2007, :doi:`10.1007/978-3-540-74936-3_22`.
    .. [2] G. Farnebäck, "Two-Frame Motion Estimation Based on Polynomial
       Expansion", SCIA 2003, :doi:`10.1007/3-540-45103-X_50`.
    .. [3] T. Kroeger, R. Timofte, D. Dai and L. Van Gool, "Fast Optical Flow using
       Dense Inverse Search", ECCV 2016, :doi:`10.1007/978-3-319-46493-0_29`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing import optical_flow
    >>> rng = np.random.default_rng(0)
    >>> prev = rng.integers(0, 256, size=(32, 32), dtype=np.uint8)
    >>> flow = optical_flow(prev, np.roll(prev, 1, axis=1))  # content moves right
    >>> flow.shape, flow.dtype
    ((32, 32, 2), dtype('float32'))
    >>> round(float(np.median(flow[8:-8, 8:-8, 0])), 1)
    1.0
    """
    _check_method(method)
    _check_flow_params(method, params)
    prev = np.asarray(prev)
    next = np.asarray(next)
    if prev.shape != next.shape:
        raise ValueError(
            f"prev and next must have the same shape; got {prev.shape} and "
            f"{next.shape}."
        )
    if prev.ndim not in (2, 3):
        raise ValueError(
            "Frames must have shape (height, width) or (height, width, channels); "
            f"got {prev.shape}."
        )
    if min(prev.shape[:2]) < 2:
        raise ValueError(f"Frames must be at least 2x2 pixels; got {prev.shape[:2]}.")
    grey = _to_grey_uint8(np.stack([prev, next]), colour=prev.ndim == 3,
                          data_range=data_range)
    return _flow_grey(grey[0], grey[1], method, params)


def _strain_uv(u, v):
    u_y, u_x = np.gradient(u.astype(np.float64))
    v_y, v_x = np.gradient(v.astype(np.float64))
    return np.sqrt(u_x**2 + v_y**2 + 0.5 * (u_y + v_x) ** 2)


def optical_strain(flow: ArrayLike) -> np.ndarray:
    """Optical strain magnitude of a flow field.

    With the normal strains ``e_xx = du/dx``, ``e_yy = dv/dy`` and the shear strain
    ``e_xy = e_yx = (du/dy + dv/dx) / 2`` of the infinitesimal strain tensor [1]_,
    the magnitude is ``sqrt(e_xx**2 + e_yy**2 + e_xy**2 + e_yx**2)``, i.e.
    ``sqrt(u_x**2 + v_y**2 + 0.5 * (u_y + v_x)**2)``.

    Parameters
    ----------
    flow : array-like of shape (height, width, 2)
        ``u`` (along x / columns) and ``v`` (along y / rows) in pixels, as returned
        by :func:`optical_flow`.

    Returns
    -------
    strain : ndarray of shape (height, width), dtype float32
        Dimensionless (pixels per pixel).  Derivatives are central differences
        (:func:`numpy.gradient`, unit spacing) inside the image and one-sided
        first-order differences on its border.  A pure translation has zero
        strain; the linear field ``u = a x``, ``v = b y`` has strain
        ``sqrt(a**2 + b**2)``.

    References
    ----------
    .. [1] S.-T. Liong, J. See, R. C.-W. Phan, Y.-H. Oh, A. C. Le Ngo, K. Wong and
       S.-W. Tan, "Spontaneous subtle expression detection and recognition based on
       facial strain", Signal Processing: Image Communication 47, 2016,
       :doi:`10.1016/j.image.2016.06.004`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing import optical_strain
    >>> yy, xx = np.mgrid[0:8, 0:8].astype(float)
    >>> flow = np.stack([0.3 * xx, 0.4 * yy], axis=-1)  # u = 0.3 x, v = 0.4 y
    >>> float(optical_strain(flow)[4, 4].round(6))
    0.5
    """
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise ValueError(
            f"flow must have shape (height, width, 2); got {flow.shape}."
        )
    if min(flow.shape[:2]) < 2:
        raise ValueError(
            f"flow must be at least 2x2 pixels to differentiate; got {flow.shape}."
        )
    return _strain_uv(flow[..., 0], flow[..., 1]).astype(np.float32)


def affine_flow(flow: ArrayLike) -> np.ndarray:
    """Fit an affine flow field to a flow field by least squares.

    ``u = a0 + a1 x + a2 y`` and ``v = b0 + b1 x + b2 y`` fitted over every pixel:
    to first order the flow of a rigid head motion (translation, in-plane
    rotation, scaling) in a face crop, which a local facial movement, covering a
    small part of the face, barely moves.  ``flow - affine_flow(flow)`` is what
    the head motion leaves.  With the coordinates centred on the grid, the
    least-squares design is orthogonal and each coefficient is a weighted mean
    (the exact least-squares fit, no solver).

    Parameters
    ----------
    flow : array-like of shape (height, width, 2)
        ``u`` (along x / columns) and ``v`` (along y / rows) in pixels.

    Returns
    -------
    fit : ndarray of shape (height, width, 2), dtype float64
        The fitted affine field.

    See Also
    --------
    skmer.predict.head_motion : Mean lengths of the affine part and of the rest.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing import affine_flow
    >>> yy, xx = np.mgrid[0:6, 0:8].astype(float)
    >>> rigid = np.stack([1.0 + 0.1 * yy, -0.5 + 0.0 * xx], axis=-1)
    >>> bump = np.zeros_like(rigid); bump[2, 3] = [0.8, 0.0]  # local movement
    >>> bool(np.allclose(affine_flow(rigid), rigid))
    True
    >>> float(np.abs(affine_flow(rigid + bump) - rigid).max().round(3))  # barely
    0.029
    """
    f = np.asarray(flow, dtype=np.float64)
    if f.ndim != 3 or f.shape[-1] != 2:
        raise ValueError(f"flow must have shape (height, width, 2); got {f.shape}.")
    h, w = f.shape[:2]
    xs = np.arange(w) - (w - 1) / 2.0
    ys = np.arange(h) - (h - 1) / 2.0
    mean = f.mean(axis=(0, 1))
    cx = np.einsum("hwc,w->c", f, xs) / (h * max(float(xs @ xs), 1e-12))
    cy = np.einsum("hwc,h->c", f, ys) / (w * max(float(ys @ ys), 1e-12))
    return mean + xs[None, :, None] * cx + ys[:, None, None] * cy


# --------------------------------------------------------------------------------------
# estimators
# --------------------------------------------------------------------------------------
def _postprocess(flow, *, output_size, rescale_vectors, strain, magnitude, scale,
                 out=None):
    """(H, W, 2) flow -> (C, h, w) float32 channels u, v[, strain][, magnitude].

    Written into ``out`` (float32, shape (C, h, w)) when given, else a new array.
    """
    u = flow[..., 0]
    v = flow[..., 1]
    if output_size is not None:
        import cv2

        h, w = output_size
        height, width = u.shape
        if (h, w) != (height, width):
            u = cv2.resize(u, (w, h), interpolation=cv2.INTER_AREA)
            v = cv2.resize(v, (w, h), interpolation=cv2.INTER_AREA)
            if rescale_vectors:
                u = u * np.float32(w / width)
                v = v * np.float32(h / height)
    if out is None:
        out = np.empty((2 + bool(strain) + bool(magnitude),) + u.shape, np.float32)
    if scale == "minmax":
        channels = [u.astype(np.float64), v.astype(np.float64)]
        if strain:
            channels.append(_strain_uv(u, v))
        if magnitude:
            channels.append(np.hypot(channels[0], channels[1]))
        x = np.stack(channels)
        lo = x.min(axis=(1, 2), keepdims=True)
        span = x.max(axis=(1, 2), keepdims=True) - lo
        out[...] = np.where(span > 0, (x - lo) / np.where(span > 0, span, 1.0), 0.0)
        return out
    # u and v are float32 (OpenCV's flow, or resized and rescaled in float32), so
    # they are copied as they are; strain and magnitude are computed in float64 and
    # rounded once to float32, as ever
    out[0] = u
    out[1] = v
    if strain:
        out[2] = _strain_uv(u, v)
    if magnitude:
        out[-1] = np.hypot(u.astype(np.float64), v.astype(np.float64))
    return out


def _clip_flows(frames, pairs, *, where, method, params, data_range, post,
                out=None):
    """Flow images of one clip for the frame index ``pairs`` -> (C, n_pairs, h, w).

    Written into ``out`` (float32 of that shape) when given, else a new array.
    """
    # only the frames the pairs use are converted (all are checked); 8-bit grey
    # frames need no conversion and are used in place
    as_is = frames.dtype == np.uint8 and frames.ndim == 3 and data_range is None
    used = [] if as_is else sorted({i for pair in pairs for i in pair})
    if 0 < len(used) < frames.shape[0]:
        pos = {i: k for k, i in enumerate(used)}
        pairs = [(pos[a], pos[b]) for a, b in pairs]
    else:
        used = None
    grey = _to_grey_uint8(frames, colour=frames.ndim == 4, data_range=data_range,
                          where=where, index=used)
    if out is None:
        n_channels = 2 + bool(post["strain"]) + bool(post["magnitude"])
        size = post["output_size"] or grey.shape[1:3]
        out = np.empty((n_channels, len(pairs)) + tuple(size), dtype=np.float32)
    for k, (a, b) in enumerate(pairs):
        if a == b:
            flow = np.zeros(grey.shape[1:3] + (2,), dtype=np.float32)
        else:
            flow = _flow_grey(grey[a], grey[b], method, params)
        _postprocess(flow, **post, out=out[:, k])
    return out


def _as_task(func):
    """``joblib.delayed`` without a wrapper: ``func(*a, **k)`` -> ``(func, a, k)``."""
    def make(*args, **kwargs):
        return func, args, kwargs

    return make


class FlowExtractor(TransformerMixin, BaseEstimator):
    """Optical flow images of micro-expression clips.

    ``mode="onset-apex"`` computes one flow field per clip, from the onset frame to
    the apex frame (the input of STSTNet-like networks); ``mode="sequence"`` computes
    the flow between consecutive frames.  Each flow field becomes channels
    ``u, v[, strain][, magnitude]`` (``u`` along x, positive to the right; ``v``
    along y, positive downwards), optionally resized and min-max scaled.

    Parameters
    ----------
    method : {"tvl1", "farneback", "dis", "raft"}, default="tvl1"
        Optical flow algorithm, see :func:`optical_flow`.  ``"raft"`` needs
        ``flow_params={"weights": path}`` (optional ``"iters"``, ``"device"``).
    mode : {"onset-apex", "sequence"}, default="onset-apex"
        ``"onset-apex"``: flow from frame ``clip.onset`` to frame ``clip.apex``.  A
        missing onset (or a bare ndarray clip) means frame 0, a missing apex the
        middle frame ``n_frames // 2``.  ``onset == apex`` is allowed and gives a
        zero flow field (no motion between a frame and itself); an apex before the
        onset or outside the clip raises ``ValueError``.  ``"sequence"``: flow from
        every frame to the next; all clips must have the same number of frames
        (resample them first, e.g. with a temporal resampler).
    strain : bool, default=True
        Append the optical strain channel (:func:`optical_strain`).
    magnitude : bool, default=False
        Append the flow magnitude ``sqrt(u**2 + v**2)``.
    output_size : tuple of (int, int), default=None
        ``(height, width)`` of the output images; the flow is resized with area
        interpolation (``cv2.INTER_AREA``).  ``None`` keeps the frame size.
    rescale_vectors : bool, default=True
        When resizing, multiply ``u`` by ``width_out / width`` and ``v`` by
        ``height_out / height`` so that the vectors are in output pixels (a 2 px
        motion in a 128 px frame is a 0.5 px motion in a 32 px image).  ``False``
        keeps the vectors in input pixels.
    scale : {"none", "minmax"}, default="none"
        ``"minmax"``: scale every channel of every image to [0, 1] (its minimum to
        0, its maximum to 1; a constant channel becomes 0), the format of the
        MEGC2019 composite flow images used by STSTNet.  Strain and magnitude are
        computed before scaling, from the (resized) ``u`` and ``v``.
    data_range : float, default=None
        The value of a white pixel, see :func:`optical_flow`: by default 255 for
        integer frames and, per clip, 1.0 for float frames whose values are all
        <= 1, else 255.
    flow_params : dict, default=None
        Parameters of the flow method (``**params`` of :func:`optical_flow`), e.g.
        ``{"lambda_": 0.1, "n_scales": 3}`` for TV-L1.  Unknown keys raise
        ``ValueError`` in :term:`fit`.
    n_jobs : int, default=None
        Number of clips processed in parallel (joblib).  ``None`` means 1 unless in
        a :obj:`joblib.parallel_backend` context; ``-1`` means all processors.  The
        output does not depend on ``n_jobs``.
    verbose : int, default=0
        Show a ``tqdm`` progress bar over the clips in :meth:`transform` when
        positive; the output does not depend on it.

    Attributes
    ----------
    frame_shape_ : tuple of int
        ``(height, width[, channels])`` of the frames seen during :term:`fit`.
    channel_names_ : tuple of str
        Names of the output channels, e.g. ``("u", "v", "strain")``.

    See Also
    --------
    optical_flow : The flow kernel.
    OpticalStrain : Add the strain channel to flow arrays.

    Notes
    -----
    Frames are converted to 8-bit grey (:func:`optical_flow`).  Derived channels are
    computed after resizing, so that ``strain`` of the output always equals
    :func:`optical_strain` of its own ``u`` and ``v``.

    References
    ----------
    .. [1] C. Zach, T. Pock and H. Bischof, "A Duality Based Approach for Realtime
       TV-L1 Optical Flow", DAGM 2007, :doi:`10.1007/978-3-540-74936-3_22`.
    .. [2] S.-T. Liong, J. See, K. Wong and R. C.-W. Phan, "Less is more:
       Micro-expression recognition from video using apex frame", Signal
       Processing: Image Communication 62, 2018,
       :doi:`10.1016/j.image.2017.11.006`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.datasets import Clip
    >>> from skmer.preprocessing import FlowExtractor
    >>> rng = np.random.default_rng(0)
    >>> frames = rng.integers(0, 256, size=(6, 32, 32), dtype=np.uint8)
    >>> X = [Clip(frames, onset=0, apex=3), frames]
    >>> FlowExtractor().fit_transform(X).shape
    (2, 3, 32, 32)
    >>> ext = FlowExtractor("dis", mode="sequence", output_size=(16, 16),
    ...                     scale="minmax")
    >>> ext.fit_transform(X).shape
    (2, 3, 5, 16, 16)
    >>> ext.channel_names_
    ('u', 'v', 'strain')
    """

    _parameter_constraints = {
        "method": [StrOptions(set(FLOW_METHODS))],
        "mode": [StrOptions({"onset-apex", "sequence"})],
        "strain": ["boolean"],
        "magnitude": ["boolean"],
        "output_size": [tuple, list, None],
        "rescale_vectors": ["boolean"],
        "scale": [StrOptions({"none", "minmax"})],
        "data_range": [Interval(Real, 0, None, closed="neither"), None],
        "flow_params": [dict, None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, method: str = "tvl1", mode: str = "onset-apex",
                 strain: bool = True, magnitude: bool = False,
                 output_size: tuple[int, int] | None = None,
                 rescale_vectors: bool = True, scale: str = "none",
                 data_range: float | None = None, flow_params: dict | None = None,
                 n_jobs: int | None = None, verbose: int = 0) -> None:
        self.method = method
        self.mode = mode
        self.strain = strain
        self.magnitude = magnitude
        self.output_size = output_size
        self.rescale_vectors = rescale_vectors
        self.scale = scale
        self.data_range = data_range
        self.flow_params = flow_params
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- validation helpers -----------------------------------------------------------
    def _output_size(self):
        size = self.output_size
        if size is None:
            return None
        if (len(size) != 2 or any(isinstance(s, bool) or not isinstance(
                s, (Integral, np.integer)) or s < 2 for s in size)):
            raise ValueError(
                "output_size must be None or a (height, width) pair of ints >= 2; "
                f"got {size!r}."
            )
        return int(size[0]), int(size[1])

    def _check_clips(self, X, frame_shape=None, same_shape=False):
        clips = check_clips(X, frame_shape=frame_shape, same_shape=same_shape,
                            estimator=self)
        prefix = f"{type(self).__name__}: "
        for i, clip in enumerate(clips):
            if clip.frames.shape[0] < 2:
                raise ValueError(
                    f"{prefix}clip {i} has {clip.frames.shape[0]} frame; "
                    f"mode={self.mode!r} needs at least 2 frames "
                    + ("(an onset and an apex)." if self.mode == "onset-apex"
                       else "(a flow is computed between frames).")
                )
        if self.mode == "sequence":
            lengths = [c.frames.shape[0] for c in clips]
            if len(set(lengths)) > 1:
                j = next(k for k, n in enumerate(lengths) if n != lengths[0])
                raise ValueError(
                    f"{prefix}mode='sequence' needs clips of equal length, but clip 0 "
                    f"has {lengths[0]} frames and clip {j} has {lengths[j]}. Resample "
                    "the clips to a common length first, or use mode='onset-apex'."
                )
        return clips

    def _pairs(self, clip, i):
        n = clip.frames.shape[0]
        if self.mode == "sequence":
            return [(t, t + 1) for t in range(n - 1)]
        prefix = f"{type(self).__name__}: "
        onset = 0 if clip.onset is None else clip.onset
        apex = n // 2 if clip.apex is None else clip.apex
        onset = _check_index(onset, "onset", n, f"{prefix}clip {i}: ")
        apex = _check_index(apex, "apex", n, f"{prefix}clip {i}: ")
        if apex < onset:
            default = " (no apex given: the middle frame)" if clip.apex is None else ""
            raise ValueError(
                f"{prefix}clip {i} has apex={apex}{default} before onset={onset}; the "
                "flow is computed from the onset to the apex."
            )
        return [(onset, apex)]

    # -- API --------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Sequence[Clip | np.ndarray] | ClipSequence,
            y: None = None) -> FlowExtractor:
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
            The fitted extractor.
        """
        self._output_size()
        _check_flow_params(self.method, dict(self.flow_params or {}))
        clips = self._check_clips(X, same_shape=True)
        self.frame_shape_ = tuple(clips[0].frames.shape[1:])
        names = ["u", "v"] + ["strain"] * bool(self.strain)
        self.channel_names_ = tuple(names + ["magnitude"] * bool(self.magnitude))
        return self

    def transform(self, X: Sequence[Clip | np.ndarray] | ClipSequence) -> np.ndarray:
        """Compute the flow images.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips, with the frame shape seen in :term:`fit`.

        Returns
        -------
        X_flow : ndarray of shape (n_clips, n_channels, height, width) or \
(n_clips, n_channels, n_frames - 1, height, width), dtype float32
            Channels ``u, v[, strain][, magnitude]`` (:attr:`channel_names_`); the
            5-D shape for ``mode="sequence"``.
        """
        check_is_fitted(self)
        clips = self._check_clips(X, frame_shape=self.frame_shape_)
        pairs = [self._pairs(clip, i) for i, clip in enumerate(clips)]
        post = dict(output_size=self._output_size(),
                    rescale_vectors=self.rescale_vectors, strain=self.strain,
                    magnitude=self.magnitude, scale=self.scale)
        params = dict(self.flow_params or {})
        prefix = f"{type(self).__name__}: "
        sequence = self.mode == "sequence"
        h, w = post["output_size"] or self.frame_shape_[:2]
        X_flow = np.empty((len(clips), 2 + bool(self.strain) + bool(self.magnitude))
                          + (len(pairs[0]),) * sequence + (h, w), dtype=np.float32)
        # one worker: the clips run here, straight into X_flow, as plain (function,
        # args, kwargs) tasks; sklearn's ``delayed`` (it carries the config to other
        # workers) and the copy of the results cost a few per cent of a DIS call
        here = effective_n_jobs(self.n_jobs) == 1
        task = _as_task(_clip_flows) if here else delayed(_clip_flows)

        def dest(i):
            if not here:
                return {}
            return {"out": X_flow[i] if sequence else X_flow[i][:, None]}

        out = parallel_map(
            (task(clip.frames, p, where=f"{prefix}clip {i}", method=self.method,
                  params=params, data_range=self.data_range, post=post, **dest(i))
             for i, (clip, p) in enumerate(zip(clips, pairs))),
            n_jobs=self.n_jobs, verbose=self.verbose, total=len(clips),
            desc=type(self).__name__,
        )
        if not here:
            for i, flows in enumerate(out):
                X_flow[i] = flows if sequence else flows[:, 0]
        return X_flow

    def __sklearn_tags__(self):
        tags = with_skmer_tags(
            super().__sklearn_tags__(), allow_ragged=self.mode != "sequence",
            min_frames=2)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


class OpticalStrain(TransformerMixin, BaseEstimator):
    """Add the optical strain channel to flow arrays.

    Maps flow images ``(n, C, height, width)`` with ``C >= 2`` (channel 0 = ``u``
    along x, channel 1 = ``v`` along y, further channels ignored) to
    ``(n, 3, height, width)`` with channels ``u, v, strain``
    (:func:`optical_strain`).  Useful on flow images computed elsewhere, e.g. read
    from disk.  Stateless: :term:`fit` only checks the input.

    Attributes
    ----------
    n_features_in_ : int
        Number of input channels seen during :term:`fit`.

    See Also
    --------
    FlowExtractor : Flow images (with strain) from clips.
    optical_strain : The strain kernel.

    References
    ----------
    .. [1] S.-T. Liong, J. See, R. C.-W. Phan, Y.-H. Oh, A. C. Le Ngo, K. Wong and
       S.-W. Tan, "Spontaneous subtle expression detection and recognition based on
       facial strain", Signal Processing: Image Communication 47, 2016,
       :doi:`10.1016/j.image.2016.06.004`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing import OpticalStrain
    >>> flow = np.zeros((4, 2, 8, 8), dtype=np.float32)
    >>> OpticalStrain().fit_transform(flow).shape
    (4, 3, 8, 8)
    """

    _parameter_constraints = {}

    def __init__(self) -> None:
        pass

    def _validate(self, X, reset):
        X = validate_data(self, X, reset=reset, allow_nd=True,
                          dtype=[np.float32, np.float64])
        if X.ndim != 4 or X.shape[1] < 2:
            raise ValueError(
                f"{type(self).__name__}: X must be flow images of shape (n_samples, "
                f"n_channels >= 2, height, width) with u and v first; got shape "
                f"{X.shape}."
            )
        if min(X.shape[2:]) < 2:
            raise ValueError(
                f"{type(self).__name__}: flow images must be at least 2x2 pixels; got "
                f"{X.shape[2:]}."
            )
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> OpticalStrain:
        """Check the flow arrays.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, height, width)
            Flow images, ``u`` and ``v`` first.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate(X, reset=True)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Return ``u``, ``v`` and the optical strain.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels, height, width)
            Flow images, ``u`` and ``v`` first.

        Returns
        -------
        X_strain : ndarray of shape (n_samples, 3, height, width), dtype float32
            Channels ``u, v, strain``.
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        out = np.empty((X.shape[0], 3) + X.shape[2:], dtype=np.float32)
        out[:, :2] = X[:, :2]
        for i in range(X.shape[0]):
            out[i, 2] = _strain_uv(X[i, 0], X[i, 1])
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags
