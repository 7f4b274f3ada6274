"""Known micro-movements injected into a real face video (ground truth for spotting)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from skmer.spotting._intervals import _check_fps, _check_video
from skmer.spotting._scores import REGION_POINTS

__all__ = ["InjectedMovement", "inject_micro_movements"]

_REGIONS = tuple(REGION_POINTS)


@dataclass(frozen=True)
class InjectedMovement:
    """Ground truth of one injected micro-movement.

    Parameters
    ----------
    onset, apex, offset : int
        Frame indices (inclusive): the displacement is 0 on frames ``onset`` and
        ``offset`` (and outside), rises smoothly to its peak on ``apex`` and falls
        back.
    region : {"brow", "eye", "mouth"}
        The facial region moved.
    amplitude : float
        Peak displacement, pixels of the input video, at the centre of the region.
    centre : tuple of float
        ``(x, y)`` centre of the Gaussian window, input pixels.
    direction : tuple of float
        Unit vector ``(dx, dy)`` of the displacement.
    sigma : float
        Standard deviation of the Gaussian window, pixels.

    Examples
    --------
    >>> from skmer.spotting import InjectedMovement
    >>> m = InjectedMovement(10, 14, 19, "brow", 0.5, (60.0, 40.0), (0.0, -1.0), 8.0)
    >>> m.as_tuple()
    (10, 19)
    """

    onset: int
    apex: int
    offset: int
    region: str
    amplitude: float
    centre: tuple
    direction: tuple
    sigma: float

    def as_tuple(self) -> tuple[int, int]:
        """``(onset, offset)``, the form :func:`skmer.metrics.spotting_scores` takes."""
        return (self.onset, self.offset)

    def to_dict(self) -> dict:
        """Return the fields as a plain, JSON-ready dict."""
        d = asdict(self)
        d["centre"] = [float(v) for v in self.centre]
        d["direction"] = [float(v) for v in self.direction]
        return d


def temporal_profile(n_frames, onset, apex, offset):
    """Raised-cosine profile: 0 up to ``onset``, 1 at ``apex``, 0 from ``offset``."""
    t = np.arange(n_frames, dtype=np.float64)
    out = np.zeros(n_frames)
    rise = (t > onset) & (t <= apex)
    fall = (t > apex) & (t < offset)
    out[rise] = 0.5 * (1 - np.cos(np.pi * (t[rise] - onset) / (apex - onset)))
    out[fall] = 0.5 * (1 + np.cos(np.pi * (t[fall] - apex) / (offset - apex)))
    return out


def _range(value, name, low, high=None):
    """Return ``(low, high)`` from a pair or one number (both ends)."""
    if isinstance(value, (Real, np.floating, np.integer)) and not isinstance(
            value, bool):
        value = (value, value)
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or a (min, max) pair; got "
                         f"{value!r}.") from None
    if not (np.isfinite(a) and np.isfinite(b) and low < a <= b) or (
            high is not None and b > high):
        allowed = f"{low} < min <= max" + (f" <= {high}" if high else "")
        raise ValueError(f"{name} must satisfy {allowed}; got {value!r}.")
    return a, b


def _region_geometry(landmarks, region, rng):
    """Centre, direction and the inter-ocular distance for one region."""
    lm = np.asarray(landmarks, dtype=np.float64)
    right_eye, left_eye = lm[36:42].mean(0), lm[42:48].mean(0)
    iod = float(np.linalg.norm(left_eye - right_eye))
    sign = rng.choice([-1.0, 1.0])
    if region == "brow":      # brow raiser / lowerer: the inner brows, vertically
        centre = lm[[19, 20, 21, 22, 23, 24]].mean(0)
        direction = np.array([0.0, sign])
    elif region == "eye":     # lid tightener / raiser: one eye, vertically
        centre = right_eye if rng.random() < 0.5 else left_eye
        direction = np.array([0.0, sign])
    else:                     # lip-corner puller / depressor: one corner, obliquely
        corner = 48 if rng.random() < 0.5 else 54
        centre = lm[corner]
        outward = np.sign(lm[corner, 0] - lm[48:68, 0].mean()) or 1.0
        direction = np.array([outward, -1.0]) * sign / np.sqrt(2.0)
    return centre, direction, iod


def _warp_frame(frame, dx, dy, box):
    """``frame`` with the patch ``box`` resampled at ``x - dx, y - dy`` (cubic)."""
    import cv2

    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    src = np.asarray(frame, dtype=np.float32)
    patch = cv2.remap(src, xs - dx.astype(np.float32), ys - dy.astype(np.float32),
                      interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    out = np.asarray(frame, dtype=np.float64).copy()
    out[y0:y1, x0:x1] = patch
    return out


def inject_micro_movements(video, *, fps, n=3, amplitude=(0.2, 1.0),
                           duration=(0.2, 0.5), regions=("brow", "eye", "mouth"),
                           landmarks=None, sigma=None, min_gap=0.5, margin=0.5,
                           random_state=None):
    """Inject smooth local micro-movements at known frames into a copy of a video.

    Each movement moves the content of one facial region by a Gaussian-windowed
    displacement field ``amplitude * g(x) * profile(t) * direction`` (``g`` is 1 at
    the region's centre, standard deviation ``sigma``; the temporal profile rises
    from 0 at the onset to 1 at the apex and falls back to 0 at the offset along
    half cosines): frame ``t`` becomes ``frame(x - d(x, t))``, resampled bicubically
    in a patch of 4 ``sigma`` around the centre.  Frames outside the movements are
    left bit for bit as they are.  The region centres come from dlib's 68 landmarks
    of the onset frame of each movement, so they follow a moving head.

    Parameters
    ----------
    video : ndarray of shape (n_frames, height, width[, channels])
        A real face video; never modified (a copy is returned, same dtype; integer
        frames are rounded back).
    fps : float
        Frame rate in Hz (durations are in seconds).
    n : int, default=3
        Number of movements, at non-overlapping times.
    amplitude : float or (float, float), default=(0.2, 1.0)
        Peak displacement in pixels, drawn uniformly in this range.
    duration : float or (float, float), default=(0.2, 0.5)
        Onset-to-offset duration in seconds, drawn uniformly in this range.
    regions : sequence of {"brow", "eye", "mouth"}, default=("brow", "eye", "mouth")
        Regions drawn from (uniformly, per movement).
    landmarks : array-like of shape (68, 2), default=None
        Known landmarks ``(x, y)`` used for every movement (no detection).
    sigma : float, default=None
        Gaussian window in pixels; default a quarter of the inter-ocular distance.
    min_gap : float, default=0.5
        Seconds between the offset of one movement and the onset of the next.
    margin : float, default=0.5
        Seconds kept free at the start and the end of the video.
    random_state : int, RandomState instance or None, default=None
        Seeds the times, durations, amplitudes, regions and directions.

    Returns
    -------
    video : ndarray
        The new video, of the input's shape and dtype.
    movements : list of InjectedMovement
        The ground truth, in time order.

    Raises
    ------
    ValueError
        Bad parameters, NaN frames, a missing fps, no face on an onset frame (when
        ``landmarks`` is None), or a video too short for ``n`` movements with the
        gaps and margins asked for.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.spotting import inject_micro_movements
    >>> rng = np.random.default_rng(0)
    >>> video = np.repeat(rng.integers(0, 256, (1, 96, 96), dtype=np.uint8), 90, 0)
    >>> lm = np.zeros((68, 2)); lm[:, 0] = np.linspace(30, 66, 68); lm[:, 1] = 48
    >>> lm[36:42, 0], lm[42:48, 0] = 36, 60
    >>> out, truth = inject_micro_movements(video, fps=30, n=1, landmarks=lm,
    ...                                     random_state=0)
    >>> out.shape == video.shape, len(truth), truth[0].onset < truth[0].apex
    (True, 1, True)
    """
    fps = _check_fps(fps, "inject_micro_movements")
    video = _check_video(video, "inject_micro_movements")
    if isinstance(n, bool) or not isinstance(n, (Integral, np.integer)) or n < 0:
        raise ValueError(f"n must be an int >= 0; got {n!r}.")
    amp_lo, amp_hi = _range(amplitude, "amplitude", 0.0)
    dur_lo, dur_hi = _range(duration, "duration", 0.0)
    regions = tuple(regions) if not isinstance(regions, str) else (regions,)
    if not regions or any(r not in _REGIONS for r in regions):
        raise ValueError(f"regions must be a non-empty sequence of {list(_REGIONS)}; "
                         f"got {regions!r}.")
    for name, value in (("min_gap", min_gap), ("margin", margin)):
        if isinstance(value, bool) or not isinstance(value, Real) or value < 0:
            raise ValueError(f"{name} must be a number of seconds >= 0; got "
                             f"{value!r}.")
    if sigma is not None and (isinstance(sigma, bool) or not isinstance(sigma, Real)
                              or not sigma > 0):
        raise ValueError(f"sigma must be None or a positive number of pixels; got "
                         f"{sigma!r}.")
    if landmarks is not None:
        landmarks = np.asarray(landmarks, dtype=np.float64)
        if landmarks.shape != (68, 2) or not np.isfinite(landmarks).all():
            raise ValueError("landmarks must be a finite (68, 2) array of (x, y) "
                             f"points (dlib's markup); got shape {landmarks.shape}.")
    rng = check_random_state(random_state)
    n_frames = len(video)
    first = int(np.ceil(margin * fps))
    last = n_frames - 1 - int(np.ceil(margin * fps))   # last frame an offset may take
    gap = int(np.ceil(min_gap * fps))
    # draw the durations, then place the movements left to right with random slack
    lengths = [max(2, int(round(rng.uniform(dur_lo, dur_hi) * fps))) for _ in range(n)]
    free = (last - first + 1) - sum(lengths) - gap * max(n - 1, 0)
    if free < 0:
        need = (sum(lengths) + gap * max(n - 1, 0)) / fps + 2 * margin
        raise ValueError(
            f"inject_micro_movements: cannot place n={n} movements ({sum(lengths)} "
            f"frames) with min_gap={min_gap} s and margin={margin} s in a video of "
            f"{n_frames} frames ({n_frames / fps:.3g} s at {fps:g} fps): it needs "
            f"about {need:.3g} s. Ask for fewer movements, shorter ones or smaller "
            "gaps.")
    slack = np.sort(rng.uniform(0, free, size=n)) if n else np.array([])
    out = np.array(video, dtype=np.float64, copy=True)
    movements = []
    for i in range(n):
        length = lengths[i]
        onset = first + int(slack[i]) + sum(lengths[:i]) + gap * i
        offset = onset + length
        apex = onset + int(round(rng.uniform(0.35, 0.65) * length))
        apex = min(max(apex, onset + 1), offset - 1)
        region = regions[rng.randint(len(regions))]
        lm = landmarks
        if lm is None:
            from skmer.preprocessing import face_landmarks

            lm = face_landmarks(np.ascontiguousarray(video[onset]))
            if lm is None:
                raise ValueError(
                    f"inject_micro_movements: no face found on frame {onset} (the "
                    "onset of a movement); pass landmarks=... or another video.")
        centre, direction, iod = _region_geometry(lm, region, rng)
        s = float(sigma) if sigma is not None else 0.25 * iod
        amp = float(rng.uniform(amp_lo, amp_hi))
        h, w = video.shape[1:3]
        r = int(np.ceil(4 * s)) + 2
        box = (max(0, int(centre[0]) - r), max(0, int(centre[1]) - r),
               min(w, int(centre[0]) + r + 1), min(h, int(centre[1]) + r + 1))
        ys, xs = np.mgrid[box[1]:box[3], box[0]:box[2]].astype(np.float64)
        g = np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * s * s))
        profile = temporal_profile(n_frames, onset, apex, offset)
        for t in range(onset + 1, offset):
            d = amp * profile[t] * g
            out[t] = _warp_frame(out[t], d * direction[0], d * direction[1], box)
        movements.append(InjectedMovement(
            int(onset), int(apex), int(offset), region, amp,
            (float(centre[0]), float(centre[1])),
            (float(direction[0]), float(direction[1])), s))
    if np.issubdtype(video.dtype, np.integer):
        info = np.iinfo(video.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(video.dtype, copy=False), movements
