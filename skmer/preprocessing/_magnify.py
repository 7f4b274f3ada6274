"""Linear Eulerian video magnification: pure kernels and the :class:`Magnifier`.

The method of Wu et al. (2012): every frame is decomposed into a Laplacian pyramid,
the time series of every pyramid coefficient is band-pass filtered, the filtered
signal is multiplied by a per-level factor ``alpha_l`` and added back.  For a small
motion ``delta(t)`` inside the pass band, the first-order Taylor expansion of the
image gives an output whose content moves by ``(1 + alpha) * delta(t)``.

Two kernels work on one clip: :func:`magnify` (the temporal method on a whole clip)
and :func:`magnify_pair` (the two-frame method: the apex frame moved
``1 + alpha`` times farther from the onset frame, for several ``alpha`` at once, as
used by amplification modules of micro-expression networks).  The pyramid is linear
and exactly invertible, so the kernels compute only the amplified *change* and add it
to the input: ``alpha = 0`` returns the input exactly.

Conventions
-----------
- Levels are counted finest first: level 0 is the full-resolution band-pass image,
  level ``n_levels - 1`` the low-pass residual.  ``cv2.pyrDown`` / ``cv2.pyrUp``
  (5-tap binomial kernel, reflected borders) build and collapse the pyramid.
- The representative spatial wavelength of the residual is ``diag / 3`` pixels
  (``diag`` the frame diagonal), halved at every finer level, as in the authors'
  code.
- Colour frames ``(T, H, W, 3)`` are taken as RGB and processed in YIQ; the chroma
  (I, Q) part of the amplified change is multiplied by ``chrom_attenuation``.

Implementation
--------------
The temporal filter (along time), the per-level factors (a linear operator in
space, the same for every channel) and the chroma attenuation (a 3x3 matrix on the
channels) act on different axes and are all linear, so they commute: the clip is
band-pass filtered once at full resolution, then every frame goes through the
weighted pyramid ``sum_l alpha_l E_l`` (``E_l``: level ``l`` expanded back to full
size), built only down to the first level from which all factors equal the
residual's (those levels telescope into one Gaussian level).  The result equals
the literal algorithm (pyramid of every frame, every coefficient filtered,
weighted, collapsed) to float32 rounding; the tests check it against a literal
implementation.  With ``lambda_c=None`` no pyramid is built at all.
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

    from numpy.typing import ArrayLike

    from skmer._core import Clip

__all__ = ["Magnifier", "magnify", "magnify_pair"]

logger = logging.getLogger(__name__)

FILTERS = ("iir", "ideal", "butterworth")
MODES = ("temporal", "two-frame")
OUTPUTS = ("input", "float32")

# NTSC RGB -> YIQ (rows: Y, I, Q) and its exact inverse.
_RGB2YIQ = np.array([[0.299, 0.587, 0.114],
                     [0.595716, -0.274453, -0.321263],
                     [0.211456, -0.522591, 0.311135]])
_YIQ2RGB = np.linalg.inv(_RGB2YIQ)


# --------------------------------------------------------------------------------------
# argument checks shared by the kernels and the estimator
# --------------------------------------------------------------------------------------
def _real(value, name, *, low=0.0, low_open=False, where=""):
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise ValueError(f"{where}{name} must be a finite number, got {value!r}.")
    if value < low or (low_open and value == low):
        raise ValueError(
            f"{where}{name} must be {'>' if low_open else '>='} {low:g}, got {value!r}."
        )
    return float(value)


def _check_choice(value, name, allowed, where=""):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"{where}{name} must be one of {list(allowed)}, got {value!r}.")
    return value


def _check_band(filter, low_hz, high_hz, fps, where=""):
    """Validate a temporal band ``[low_hz, high_hz]`` for a clip at ``fps`` Hz."""
    _check_choice(filter, "filter", FILTERS, where)
    if fps is None:
        raise ValueError(
            f"{where}the clip has no frame rate: set the clip's `fps` metadata or "
            "the Magnifier's `fps` parameter (the cut-offs low_hz/high_hz are in Hz)."
        )
    fps = _real(fps, "fps", low_open=True, where=where)
    low_hz = _real(low_hz, "low_hz", where=where)
    high_hz = _real(high_hz, "high_hz", low_open=True, where=where)
    if low_hz >= high_hz:
        raise ValueError(
            f"{where}low_hz must be below high_hz, got low_hz={low_hz:g} and "
            f"high_hz={high_hz:g}.")
    if low_hz == 0 and filter != "iir":
        raise ValueError(
            f"{where}low_hz=0 is only allowed with filter='iir' (a low-pass of the "
            f"change since the first frame); filter={filter!r} needs low_hz > 0.")
    nyquist = fps / 2.0
    if high_hz > nyquist or (filter == "butterworth" and high_hz == nyquist):
        bound = "below" if filter == "butterworth" else "at most"
        raise ValueError(
            f"{where}high_hz={high_hz:g} Hz is above the Nyquist frequency: it must "
            f"be {bound} fps / 2 = {nyquist:g} Hz (fps={fps:g}).")
    return low_hz, high_hz, fps


def max_levels(frame_shape):
    """Largest pyramid height for frames of ``(height, width)`` (coarsest >= 1 px)."""
    return int(np.floor(np.log2(min(frame_shape[:2])))) + 1


def _auto_levels(frame_shape):
    """Pyramid height whose coarsest level is still >= 5 px on its shorter side.

    This is the height the authors' code uses (matlabPyrTools' ``maxPyrHt`` with the
    5-tap binomial filter): 5 levels for 128 x 128 frames, 4 for 48 x 48.
    """
    m = min(frame_shape[:2])
    return 1 if m < 5 else int(np.floor(np.log2(m / 5.0))) + 1


def _resolve_levels(levels, frame_shape, where=""):
    if isinstance(levels, str) and levels == "auto":
        return _auto_levels(frame_shape)
    if isinstance(levels, bool) or not isinstance(levels, Integral) or levels < 1:
        raise ValueError(
            f"{where}levels must be 'auto' or an int >= 1, got {levels!r}.")
    top = max_levels(frame_shape)
    if levels > top:
        raise ValueError(
            f"{where}levels={levels} is too many for frames of "
            f"{frame_shape[0]}x{frame_shape[1]} pixels: at most {top} (the coarsest "
            "level must keep at least one pixel); use levels='auto'.")
    return int(levels)


def level_alphas(alpha, frame_shape, n_levels, *, lambda_c=16.0,
                 exaggeration_factor=2.0):
    """Amplification factor of every pyramid level (finest first).

    The linear approximation behind Eulerian magnification holds while the
    amplified motion stays below an eighth of the spatial wavelength,
    ``(1 + alpha) * delta(t) < lambda / 8`` (Wu et al. 2012, eq. 14).  Given the
    cut-off wavelength ``lambda_c`` at which the full ``alpha`` is still wanted, the
    largest motion tolerated is ``delta = lambda_c / 8 / (1 + alpha)``, and a level
    of representative wavelength ``lambda`` gets ``lambda / (8 * delta) - 1``,
    multiplied by ``exaggeration_factor``, capped at ``alpha`` and floored at 0.
    ``lambda`` is ``diag / 3`` for the residual (coarsest) level and halves at
    every finer level.  This is the rule of the authors' MATLAB code, with two
    differences: the floor at 0 is skmer's (their factor goes negative on levels
    finer than ``lambda_c / (1 + alpha)``), and their code also leaves the finest
    band and the residual unamplified, while here every level gets its factor (so
    ``lambda_c=None`` is exactly ``x + alpha * bandpass(x)``, the linear theory).

    Parameters
    ----------
    alpha : float
        Amplification factor (>= 0).
    frame_shape : tuple of int
        ``(height, width[, ...])`` of the frames (full resolution).
    n_levels : int
        Number of pyramid levels, residual included.
    lambda_c : float or None, default=16.0
        Cut-off spatial wavelength in pixels; ``None`` gives ``alpha`` to every
        level (no attenuation).
    exaggeration_factor : float, default=2.0
        Multiplier of the attenuated factors (the authors' ``exaggeration_factor``).

    Returns
    -------
    alphas : ndarray of shape (n_levels,)
        Factor of level 0 (finest) to ``n_levels - 1`` (residual).

    Examples
    --------
    >>> from skmer.preprocessing._magnify import level_alphas
    >>> level_alphas(10.0, (128, 128), 5, lambda_c=16.0).round(2)
    array([ 3.19,  8.37, 10.  , 10.  , 10.  ])
    >>> level_alphas(10.0, (128, 128), 5, lambda_c=None)
    array([10., 10., 10., 10., 10.])
    """
    alphas = np.full(n_levels, float(alpha))
    if lambda_c is None:
        return alphas
    diag = float(np.hypot(frame_shape[0], frame_shape[1]))
    lam = diag / 3.0 / 2.0 ** (n_levels - 1 - np.arange(n_levels))
    delta = lambda_c / 8.0 / (1.0 + alpha)
    cur = (lam / delta / 8.0 - 1.0) * exaggeration_factor
    return np.clip(cur, 0.0, alpha)


# --------------------------------------------------------------------------------------
# Laplacian pyramid: the per-level amplification as one linear spatial operator
# --------------------------------------------------------------------------------------
def _weighted_laplacian(image, alphas):
    """``sum_l alphas[l] * E_l(image)`` for one image (at most 4 channels).

    ``E_l`` is level ``l`` of the image's Laplacian pyramid expanded back to full
    resolution (``sum_l E_l = image``: the pyramid is exactly invertible).  Levels
    from ``k`` on that share the residual's factor telescope into the Gaussian
    level ``G_k``, so the pyramid is only built down to ``k``; the result equals
    the literal build / weight / collapse of the full pyramid.
    """
    import cv2

    n = len(alphas)
    top = alphas[-1]
    k = n - 1
    while k > 0 and alphas[k - 1] == top:
        k -= 1
    if k == 0:
        return top * image
    gauss = [image]
    for _ in range(k):
        gauss.append(cv2.pyrDown(gauss[-1]))
    out = top * gauss[k]
    for lv in range(k - 1, -1, -1):
        size = (gauss[lv].shape[1], gauss[lv].shape[0])
        band = gauss[lv] - cv2.pyrUp(gauss[lv + 1], dstsize=size)
        out = cv2.pyrUp(out, dstsize=size)
        out += np.float32(alphas[lv]) * band
    return out


def _spatial(x, alphas):
    """Apply :func:`_weighted_laplacian` to every image of ``x`` (K, H, W[, C])."""
    alphas = np.asarray(alphas, dtype=np.float64)
    if np.all(alphas == alphas[-1]):
        return np.float32(alphas[-1]) * x
    if x.ndim == 4 and x.shape[-1] == 1:
        return _spatial(x[..., 0], alphas)[..., None]
    out = np.empty_like(x)
    if x.ndim == 4 and x.shape[-1] > 4:  # cv2 filters at most 4 channels at once
        for c in range(x.shape[-1]):
            out[..., c] = _spatial(np.ascontiguousarray(x[..., c]), alphas)
        return out
    for i in range(x.shape[0]):
        out[i] = _weighted_laplacian(np.ascontiguousarray(x[i]), alphas)
    return out


def _chroma_matrix(chrom_attenuation):
    """3x3 RGB operator: to YIQ, I and Q times ``chrom_attenuation``, back to RGB."""
    scale = np.diag([1.0, chrom_attenuation, chrom_attenuation])
    return (_YIQ2RGB @ scale @ _RGB2YIQ).astype(np.float32)


def _colour_mix(delta, chrom_attenuation):
    """Attenuate the chroma of an RGB change ``(..., 3)``; other shapes unchanged."""
    if delta.ndim == 4 and delta.shape[-1] == 3 and chrom_attenuation != 1:
        return delta @ _chroma_matrix(chrom_attenuation).T
    return delta


# --------------------------------------------------------------------------------------
# temporal band-pass filters along axis 0
# --------------------------------------------------------------------------------------
def _iir_rate(freq, fps):
    """Rate ``r`` of ``y[t] = (1 - r) y[t-1] + r x[t]`` with -3 dB point at ``freq``.

    Exact for the first-order recursion: its pole ``a = 1 - r`` solves
    ``a**2 - 2 (2 - cos w) a + 1 = 0`` with ``w = 2 pi freq / fps``.
    """
    if freq <= 0:
        return 0.0
    c = 2.0 - np.cos(2.0 * np.pi * freq / fps)
    return float(1.0 - (c - np.sqrt(c * c - 1.0)))


def _iir_bandpass(x, r_high, r_low):
    """Difference of two first-order low-passes along axis 0 (float32).

    ``lp[0] = x[0]``, ``lp[t] = (1 - r) lp[t-1] + r x[t]`` for ``r_high`` and
    ``r_low``; returns ``lp_high - lp_low``.  A loop over frames of in-place
    vectorised updates: for the few dozen frames of a clip this is many times
    faster than ``scipy.signal.lfilter`` along a strided axis.
    """
    out = np.empty_like(x)
    out[0] = 0
    lp_h, lp_l = x[0].copy(), x[0].copy()
    buf = np.empty_like(x[0])
    r_high, r_low = np.float32(r_high), np.float32(r_low)
    for t in range(1, x.shape[0]):
        np.subtract(x[t], lp_h, out=buf)
        buf *= r_high
        lp_h += buf
        if r_low:
            np.subtract(x[t], lp_l, out=buf)
            buf *= r_low
            lp_l += buf
        np.subtract(lp_h, lp_l, out=out[t])
    return out


def _sosfilt_loop(sos, x, zi):
    """``scipy.signal.sosfilt`` along axis 0 (transposed direct form II), float32."""
    y = np.array(x, dtype=np.float32, copy=True)
    x0 = y[0].copy()  # scipy scales every section's state by the first input
    for s in range(sos.shape[0]):
        b0, b1, b2, _, a1, a2 = (np.float32(c) for c in sos[s])
        z0 = np.float32(zi[s, 0]) * x0
        z1 = np.float32(zi[s, 1]) * x0
        xt, tmp = np.empty_like(x0), np.empty_like(x0)
        for t in range(y.shape[0]):  # in place, no temporaries: ~10 ops per frame
            yt = y[t]
            xt[...] = yt
            np.multiply(xt, b0, out=yt)
            yt += z0
            np.multiply(xt, b1, out=z0)
            z0 += z1
            np.multiply(yt, a1, out=tmp)
            z0 -= tmp
            np.multiply(xt, b2, out=z1)
            np.multiply(yt, a2, out=tmp)
            z1 -= tmp
    return y


def _sosfiltfilt_loop(sos, x, padlen):
    """``scipy.signal.sosfiltfilt(sos, x, axis=0, padlen=padlen)`` (odd padding).

    The same arithmetic as scipy (odd extension, steady-state initial conditions
    scaled by the first sample, forward then backward pass) as a float32 loop over
    frames, since scipy's version is slow along a strided axis of many signals.
    """
    from scipy.signal import sosfilt_zi

    if padlen > 0:
        left = 2 * x[0] - x[padlen:0:-1]
        right = 2 * x[-1] - x[-2:-padlen - 2:-1]
        ext = np.concatenate([left, x, right])
    else:
        ext = x
    zi = sosfilt_zi(sos)
    y = _sosfilt_loop(sos, ext, zi)
    y = _sosfilt_loop(sos, y[::-1], zi)[::-1]
    return y[padlen:ext.shape[0] - padlen] if padlen > 0 else y


def temporal_bandpass(x, fps, *, filter="iir", low_hz=0.4, high_hz=3.0):
    """Band-pass filter signals along their first axis (time).

    Parameters
    ----------
    x : array-like of shape (n_frames, ...)
        Signals sampled at ``fps`` Hz.
    fps : float
        Sampling rate in Hz.
    filter : {"iir", "ideal", "butterworth"}, default="iir"
        ``"iir"``: difference of two causal first-order IIR low-passes (cut-offs
        ``high_hz`` and ``low_hz``) started at the first frame, as in the authors'
        motion code; ``"ideal"``: zero every FFT bin outside
        ``[low_hz, high_hz]``; ``"butterworth"``: first-order Butterworth band-pass
        applied forward and backward (zero phase, so the apex is not delayed; the
        response is squared, -6 dB at the cut-offs), ``scipy.signal.sosfiltfilt``
        with odd padding of ``min(9, n_frames - 1)`` frames.
    low_hz, high_hz : float, default=0.4, 3.0
        Pass band in Hz.

    Returns
    -------
    y : ndarray of shape (n_frames, ...), dtype float32
        The filtered signals.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing._magnify import temporal_bandpass
    >>> t = np.arange(40) / 20.0
    >>> x = 5.0 + np.sin(2 * np.pi * 2.0 * t)   # 2 Hz on a constant, at 20 fps
    >>> y = temporal_bandpass(x, 20.0, filter="ideal", low_hz=1.0, high_hz=3.0)
    >>> bool(np.allclose(y, x - 5.0, atol=1e-5))
    True
    """
    low_hz, high_hz, fps = _check_band(filter, low_hz, high_hz, fps)
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[0]
    if n < 2:
        raise ValueError(
            f"a temporal band-pass needs at least 2 frames, got {n}.")
    if filter == "iir":
        return _iir_bandpass(x, _iir_rate(high_hz, fps), _iir_rate(low_hz, fps))
    if filter == "ideal":
        from scipy import fft

        freqs = fft.rfftfreq(n, d=1.0 / fps)
        keep = (freqs >= low_hz) & (freqs <= high_hz)
        if not keep.any():
            logger.warning(
                "ideal band [%g, %g] Hz holds no frequency of a %d-frame clip at "
                "%g fps (resolution %g Hz): nothing is amplified.",
                low_hz, high_hz, n, fps, fps / n)
            return np.zeros_like(x)
        spec = fft.rfft(x, axis=0)
        spec[~keep] = 0
        return np.asarray(fft.irfft(spec, n=n, axis=0), dtype=np.float32)
    from scipy.signal import butter

    sos = butter(1, [low_hz, high_hz], btype="bandpass", fs=fps, output="sos")
    return _sosfiltfilt_loop(sos, x, min(9, n - 1))


# --------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------
def _as_float_frames(frames, name, where=""):
    x = np.asarray(frames)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{where}{name} must have shape (n_frames, height, width[, channels]), "
            f"got {x.shape}.")
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number)
                                 or x.dtype == bool):
        raise ValueError(f"{where}{name} must be numeric, got dtype {x.dtype}.")
    return np.ascontiguousarray(x, dtype=np.float32)


def _check_amp(alpha, lambda_c, exaggeration_factor, chrom_attenuation, where):
    _real(alpha, "alpha", where=where)
    if lambda_c is not None:
        _real(lambda_c, "lambda_c", low_open=True, where=where)
    _real(exaggeration_factor, "exaggeration_factor", where=where)
    _real(chrom_attenuation, "chrom_attenuation", where=where)


def magnify(frames: ArrayLike, *, fps: float, alpha: float = 10.0, filter: str = "iir",
            low_hz: float = 0.4, high_hz: float = 3.0, levels: int | str = "auto",
            lambda_c: float | None = 16.0, exaggeration_factor: float = 2.0,
            chrom_attenuation: float = 0.1) -> np.ndarray:
    """Linear Eulerian video magnification of one clip.

    Every frame is decomposed into a Laplacian pyramid, the coefficients are
    band-pass filtered in time (:func:`temporal_bandpass`), multiplied by the
    level's factor (:func:`level_alphas`) and the collapsed change is added to
    the input frames.

    Parameters
    ----------
    frames : array-like of shape (n_frames, height, width[, channels])
        The clip (any numeric dtype; at least 2 frames).  Three channels are
        taken as RGB and processed in YIQ.
    fps : float
        Frame rate in Hz (the cut-offs are in Hz).
    alpha : float, default=10.0
        Amplification factor: motion in the pass band is magnified ``1 + alpha``
        times (where the linear approximation holds).
    filter : {"iir", "ideal", "butterworth"}, default="iir"
        Temporal filter, see :func:`temporal_bandpass`.
    low_hz, high_hz : float, default=0.4, 3.0
        Pass band in Hz (``0 <= low_hz < high_hz <= fps / 2``; ``low_hz = 0``
        only with ``"iir"``, ``high_hz < fps / 2`` with ``"butterworth"``).
    levels : int or "auto", default="auto"
        Pyramid levels, residual included; ``"auto"``: as many as keep the
        coarsest level at least 5 pixels high and wide.
    lambda_c : float or None, default=16.0
        Spatial cut-off wavelength in pixels (:func:`level_alphas`); ``None``
        amplifies every level by ``alpha``.
    exaggeration_factor : float, default=2.0
        See :func:`level_alphas`.
    chrom_attenuation : float, default=0.1
        Factor of the chroma (I, Q) part of the change for RGB clips.

    Returns
    -------
    magnified : ndarray of shape (n_frames, height, width[, channels]), \
dtype float32
        The magnified clip, not clipped or rounded.

    References
    ----------
    .. [1] H.-Y. Wu, M. Rubinstein, E. Shih, J. Guttag, F. Durand and W. T.
       Freeman, "Eulerian video magnification for revealing subtle changes in the
       world", ACM Transactions on Graphics 31(4), 2012,
       :doi:`10.1145/2185520.2185561`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing import magnify
    >>> frames = np.full((8, 32, 32), 100, dtype=np.uint8)
    >>> out = magnify(frames, fps=30.0, alpha=20.0)
    >>> out.shape, out.dtype, float(abs(out - 100).max()) < 1e-3
    ((8, 32, 32), dtype('float32'), True)
    """
    where = ""
    low_hz, high_hz, fps = _check_band(filter, low_hz, high_hz, fps, where)
    _check_amp(alpha, lambda_c, exaggeration_factor, chrom_attenuation, where)
    x = _as_float_frames(frames, "frames", where)
    if x.shape[0] < 2:
        raise ValueError(
            f"magnification in time needs at least 2 frames, got {x.shape[0]}.")
    n_levels = _resolve_levels(levels, x.shape[1:3], where)
    if alpha == 0:
        return np.array(x, copy=True)  # never the caller's array
    alphas = level_alphas(alpha, x.shape[1:3], n_levels, lambda_c=lambda_c,
                          exaggeration_factor=exaggeration_factor)
    # band-pass (time), per-level factors (space) and chroma attenuation (colour)
    # are linear and act on different axes, so they commute: filter in time first
    change = temporal_bandpass(x, fps, filter=filter, low_hz=low_hz,
                               high_hz=high_hz)
    change = _colour_mix(_spatial(change, alphas), chrom_attenuation)
    return x + change


def magnify_pair(onset: ArrayLike, apex: ArrayLike, alphas: float | ArrayLike, *,
                 levels: int | str = "auto", lambda_c: float | None = 16.0,
                 exaggeration_factor: float = 2.0,
                 chrom_attenuation: float = 0.1) -> np.ndarray:
    """Magnify the onset-to-apex change of two frames, for several factors at once.

    For every ``alpha`` the magnified apex is
    ``onset + (1 + alpha_l) * (apex - onset)`` in the Laplacian pyramid domain,
    level ``l`` getting the factor of :func:`level_alphas`; with ``lambda_c=None``
    this is ``apex + alpha * (apex - onset)`` exactly (up to float rounding).  The
    pyramids are built once for all factors.

    Parameters
    ----------
    onset, apex : array-like of shape (height, width[, channels])
        The two frames (same shape, any numeric dtype; 3 channels are RGB).
    alphas : float or array-like of shape (n_alphas,)
        Amplification factors (>= 0).
    levels : int or "auto", default="auto"
        Pyramid levels, see :func:`magnify`.
    lambda_c : float or None, default=16.0
        Spatial cut-off wavelength in pixels, see :func:`level_alphas`.
    exaggeration_factor : float, default=2.0
        See :func:`level_alphas`.
    chrom_attenuation : float, default=0.1
        Factor of the chroma (I, Q) part of the change for RGB frames.

    Returns
    -------
    magnified : ndarray of shape (n_alphas, height, width[, channels]) or \
(height, width[, channels]), dtype float32
        The magnified apex frames (one per factor; no leading axis for a scalar
        ``alphas``), not clipped or rounded.

    References
    ----------
    .. [1] H.-Y. Wu, M. Rubinstein, E. Shih, J. Guttag, F. Durand and W. T.
       Freeman, "Eulerian video magnification for revealing subtle changes in the
       world", ACM Transactions on Graphics 31(4), 2012,
       :doi:`10.1145/2185520.2185561`.
    .. [2] C. Wan, W. Zhang, Y. Chen, L. Song and P. Cheng, "ARTNet for
       Micro-Expression Recognition", Sensors 26(1), 247, 2025,
       :doi:`10.3390/s26010247` (its action amplification module feeds
       onset/apex pairs magnified at several factors to the network).

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing import magnify_pair
    >>> onset = np.zeros((16, 16), dtype=np.uint8)
    >>> apex = np.full((16, 16), 2, dtype=np.uint8)
    >>> magnify_pair(onset, apex, [0.0, 4.0], lambda_c=None)[:, 0, 0]
    array([ 2., 10.], dtype=float32)
    """
    where = ""
    scalar = np.ndim(alphas) == 0
    alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if alphas.ndim != 1 or alphas.size == 0:
        raise ValueError(
            f"alphas must be a float or a non-empty 1-D sequence, got shape "
            f"{alphas.shape}.")
    for a in alphas:
        _check_amp(float(a), lambda_c, exaggeration_factor, chrom_attenuation, where)
    onset = np.asarray(onset)
    apex = np.asarray(apex)
    if onset.ndim not in (2, 3):
        raise ValueError(
            "onset and apex must be frames of shape (height, width[, channels]), got "
            f"shape {onset.shape}.")
    if onset.shape != apex.shape:
        raise ValueError(
            f"onset and apex must have the same shape, got {onset.shape} and "
            f"{apex.shape}.")
    onset = _as_float_frames(onset[None], "onset", where)
    apex = _as_float_frames(apex[None], "apex", where)
    n_levels = _resolve_levels(levels, onset.shape[1:3], where)
    diff = apex - onset
    out = np.empty((len(alphas),) + apex.shape[1:], dtype=np.float32)
    for j, a in enumerate(alphas):
        lv_alphas = level_alphas(float(a), onset.shape[1:3], n_levels,
                                 lambda_c=lambda_c,
                                 exaggeration_factor=exaggeration_factor)
        change = _colour_mix(_spatial(diff, lv_alphas), chrom_attenuation)
        out[j] = apex[0] + change[0]
    return out[0] if scalar else out


# --------------------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------------------
def _cast(out, dtype, output):
    """float32 result -> the output dtype (integers rounded and clipped)."""
    if output == "float32":
        return np.asarray(out, dtype=np.float32)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(dtype)
    if np.issubdtype(dtype, np.floating):
        return out.astype(dtype, copy=False)
    return np.asarray(out, dtype=np.float32)  # bool and other dtypes


def _onset_apex(clip, i, prefix):
    """Onset and apex indices for the two-frame mode (defaults: 0, n // 2)."""
    n = clip.frames.shape[0]
    where = f"{prefix}clip {i}: "
    onset = _check_index(0 if clip.onset is None else clip.onset, "onset", n, where)
    apex = _check_index(n // 2 if clip.apex is None else clip.apex, "apex", n, where)
    if apex <= onset:
        raise ValueError(
            f"{prefix}clip {i}: mode='two-frame' needs the apex after the onset, got "
            f"onset={onset} and apex={apex}.")
    return onset, apex


def _magnify_clip(clip, i, params, prefix):
    """Magnify one clip; returns a new Clip (frames and metadata)."""
    frames = clip.frames
    where = f"{prefix}clip {i}: "
    amp = dict(levels=params["levels"], lambda_c=params["lambda_c"],
               exaggeration_factor=params["exaggeration_factor"],
               chrom_attenuation=params["chrom_attenuation"])
    if params["mode"] == "two-frame":
        onset, apex = _onset_apex(clip, i, prefix)
        mag = magnify_pair(frames[onset], frames[apex], params["alpha"], **amp)
        out = np.stack([frames[onset].astype(np.float32), mag])
        return clip.replace(frames=_cast(out, frames.dtype, params["output"]),
                            onset=0, apex=1, offset=None)
    if frames.shape[0] <= 3:
        logger.warning(
            "%sclip %d has %d frames: a temporal band-pass over so few frames "
            "amplifies little; after a key-frame selector use mode='two-frame'.",
            prefix, i, frames.shape[0])
    fps = clip.fps if clip.fps is not None else params["fps"]
    try:
        _check_band(params["filter"], params["low_hz"], params["high_hz"], fps)
    except ValueError as exc:
        raise ValueError(f"{where}{exc}") from None
    out = magnify(frames, fps=fps, alpha=params["alpha"], filter=params["filter"],
                  low_hz=params["low_hz"], high_hz=params["high_hz"], **amp)
    return clip.replace(frames=_cast(out, frames.dtype, params["output"]))


class Magnifier(TransformerMixin, BaseEstimator):
    """Linear Eulerian video magnification of micro-expression clips.

    ``mode="temporal"`` (Wu et al. 2012): the frames are decomposed into Laplacian
    pyramids, every coefficient's time series is band-pass filtered
    (``low_hz``-``high_hz`` Hz, using the clip's frame rate), amplified by
    ``alpha`` (attenuated on fine levels by the spatial cut-off ``lambda_c``) and
    added back, so that a small motion in the pass band appears ``1 + alpha``
    times larger (see :func:`magnify`).  ``mode="two-frame"`` keeps two frames,
    the onset and the apex moved ``1 + alpha`` times farther from the onset
    (:func:`magnify_pair`), the input of onset-apex models.

    Parameters
    ----------
    alpha : float, default=10.0
        Amplification factor (>= 0; 0 returns the input).  Grid-searchable as
        ``magnifier__alpha``.
    mode : {"temporal", "two-frame"}, default="temporal"
        ``"temporal"``: every frame is kept and magnified.  ``"two-frame"``: each
        output clip is ``[onset, magnified apex]`` with metadata ``onset=0``,
        ``apex=1``, ``offset=None``; a missing onset (or a bare ndarray clip) means
        frame 0, a missing apex the middle frame ``n_frames // 2``; the apex must
        come after the onset.  The temporal parameters (``filter``, ``low_hz``,
        ``high_hz``, ``fps``) are ignored there.  After a key-frame selector that
        keeps ``[onset, apex]``, use ``"two-frame"``.
    filter : {"iir", "ideal", "butterworth"}, default="iir"
        Temporal band-pass (:func:`temporal_bandpass`): ``"iir"`` is the
        difference of two causal first-order low-passes (the authors' filter for
        motion); ``"ideal"`` zeroes FFT bins outside the band; ``"butterworth"`` is
        a first-order band-pass run forward and backward (zero phase, so the apex
        is not delayed).
    low_hz : float, default=0.4
        Lower cut-off in Hz (0 only with ``"iir"``: then the filter is a low-pass
        of the change since the first frame).
    high_hz : float, default=3.0
        Upper cut-off in Hz; at most the Nyquist frequency ``fps / 2`` (below it
        for ``"butterworth"``).
    fps : float, default=None
        Frame rate used for clips without ``fps`` metadata (a clip's own ``fps``
        wins).  A clip with neither raises ``ValueError`` in ``mode="temporal"``.
    levels : int or "auto", default="auto"
        Pyramid levels, residual included; ``"auto"`` keeps the coarsest level at
        least 5 pixels (5 levels for 128 x 128 frames).
    lambda_c : float or None, default=16.0
        Spatial cut-off wavelength in pixels (:func:`level_alphas`): levels of
        shorter wavelength get a reduced factor so that the amplified motion stays
        within the linear approximation; ``None`` gives ``alpha`` to every level.
    exaggeration_factor : float, default=2.0
        Multiplier of the attenuated per-level factors (the authors'
        ``exaggeration_factor``).
    chrom_attenuation : float, default=0.1
        For RGB clips (processed in YIQ): factor of the amplified chroma (I, Q)
        change; 0 magnifies luminance only.
    output : {"input", "float32"}, default="input"
        ``"input"``: integer clips are rounded and clipped to their dtype's range
        (uint8: 0-255) and keep their dtype; float clips keep their float dtype,
        unclipped (their range is unknown); bool clips become float32.
        ``"float32"``: unclipped, unrounded float32.
    n_jobs : int, default=None
        Number of clips processed in parallel (joblib).  ``None`` means 1 unless in
        a :obj:`joblib.parallel_backend` context.  The output does not depend on
        ``n_jobs``.
    verbose : int, default=0
        Show a ``tqdm`` progress bar over the clips in :meth:`transform` when
        positive; the output does not depend on it.

    Attributes
    ----------
    frame_shape_ : tuple of int
        ``(height, width[, channels])`` of the frames seen during :term:`fit`
        (nothing else is learned; all clips must have this frame shape).
    n_levels_ : int
        Number of pyramid levels used for frames of ``frame_shape_``.

    See Also
    --------
    magnify : The temporal kernel.
    magnify_pair : The two-frame kernel (several factors at once).

    Notes
    -----
    The change is computed in float32 and added to the input, so ``alpha=0`` and
    a static clip give the input back (exactly for ``alpha=0``; for a static clip
    to float rounding, i.e. exactly after uint8 rounding).  Every clip needs at
    least 2 frames.  Clip ``i`` of the output is a new in-memory clip carrying the
    metadata of input clip ``i``.

    References
    ----------
    .. [1] H.-Y. Wu, M. Rubinstein, E. Shih, J. Guttag, F. Durand and W. T.
       Freeman, "Eulerian video magnification for revealing subtle changes in the
       world", ACM Transactions on Graphics 31(4), 2012,
       :doi:`10.1145/2185520.2185561`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.datasets import Clip
    >>> from skmer.preprocessing import Magnifier
    >>> rng = np.random.default_rng(0)
    >>> frames = rng.integers(0, 256, size=(10, 32, 32), dtype=np.uint8)
    >>> X = [Clip(frames, onset=1, apex=5, fps=30.0)]
    >>> out = Magnifier(alpha=5.0).fit_transform(X)
    >>> out[0].shape, out[0].dtype, out[0].apex
    ((10, 32, 32), dtype('uint8'), 5)
    >>> pair = Magnifier(alpha=5.0, mode="two-frame").fit_transform(X)
    >>> pair[0].shape, pair[0].onset, pair[0].apex
    ((2, 32, 32), 0, 1)
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "mode": [StrOptions(set(MODES))],
        "filter": [StrOptions(set(FILTERS))],
        "low_hz": [Interval(Real, 0, None, closed="left")],
        "high_hz": [Interval(Real, 0, None, closed="neither")],
        "fps": [Interval(Real, 0, None, closed="neither"), None],
        "levels": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "lambda_c": [Interval(Real, 0, None, closed="neither"), None],
        "exaggeration_factor": [Interval(Real, 0, None, closed="left")],
        "chrom_attenuation": [Interval(Real, 0, None, closed="left")],
        "output": [StrOptions(set(OUTPUTS))],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, alpha: float = 10.0, *, mode: str = "temporal",
                 filter: str = "iir", low_hz: float = 0.4, high_hz: float = 3.0,
                 fps: float | None = None, levels: int | str = "auto",
                 lambda_c: float | None = 16.0, exaggeration_factor: float = 2.0,
                 chrom_attenuation: float = 0.1, output: str = "input",
                 n_jobs: int | None = None, verbose: int = 0) -> None:
        self.alpha = alpha
        self.mode = mode
        self.filter = filter
        self.low_hz = low_hz
        self.high_hz = high_hz
        self.fps = fps
        self.levels = levels
        self.lambda_c = lambda_c
        self.exaggeration_factor = exaggeration_factor
        self.chrom_attenuation = chrom_attenuation
        self.output = output
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _params(self):
        return {k: getattr(self, k) for k in (
            "alpha", "mode", "filter", "low_hz", "high_hz", "fps", "levels",
            "lambda_c", "exaggeration_factor", "chrom_attenuation", "output")}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Sequence[Clip | np.ndarray] | ClipSequence,
            y: None = None) -> Magnifier:
        """Check the parameters and the clips, and record the frame shape.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips (at least 2 frames each, one frame shape).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted magnifier.
        """
        prefix = f"{type(self).__name__}: "
        if self.mode == "temporal" and self.low_hz >= self.high_hz:
            raise ValueError(
                f"{prefix}low_hz must be below high_hz, got low_hz={self.low_hz:g} "
                f"and high_hz={self.high_hz:g}.")
        if self.mode == "temporal" and self.low_hz == 0 and self.filter != "iir":
            raise ValueError(
                f"{prefix}low_hz=0 is only allowed with filter='iir'; "
                f"filter={self.filter!r} needs low_hz > 0.")
        clips = check_clips(X, ensure_min_frames=2, same_shape=True, estimator=self)
        shape = tuple(clips[0].frames.shape[1:])
        for i, clip in enumerate(clips):
            if self.mode == "two-frame":
                _onset_apex(clip, i, prefix)
            else:
                fps = clip.fps if clip.fps is not None else self.fps
                try:
                    _check_band(self.filter, self.low_hz, self.high_hz, fps)
                except ValueError as exc:
                    raise ValueError(f"{prefix}clip {i}: {exc}") from None
        self.n_levels_ = _resolve_levels(self.levels, shape, prefix)
        self.frame_shape_ = shape
        return self

    def transform(self, X: Sequence[Clip | np.ndarray] | ClipSequence) -> ClipSequence:
        """Magnify the clips.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips, with the frame shape seen in :term:`fit`.

        Returns
        -------
        X_magnified : ClipSequence of Clip
            New in-memory clips with the input's metadata (``mode="two-frame"``:
            two frames, ``onset=0``, ``apex=1``, ``offset=None``).
        """
        check_is_fitted(self)
        clips = check_clips(X, ensure_min_frames=2, frame_shape=self.frame_shape_,
                            estimator=self)
        params = self._params()
        prefix = f"{type(self).__name__}: "
        out = parallel_map(
            (delayed(_magnify_clip)(clip, i, params, prefix)
             for i, clip in enumerate(clips)),
            n_jobs=self.n_jobs, verbose=self.verbose, total=len(clips),
            desc=type(self).__name__)
        return ClipSequence(out)

    def __sklearn_tags__(self):
        tags = with_skmer_tags(super().__sklearn_tags__(), min_frames=2)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
