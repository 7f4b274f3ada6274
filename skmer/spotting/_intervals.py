"""Spotted intervals, input checks and the peak-to-interval rule shared by the spotters.

Both spotting methods reduce a long video to one score per frame (the change of
frame ``i`` relative to the average of frames ``i - k`` and ``i + k``); this module
turns such a score curve into intervals:

1. *contrast* (Moilanen et al. 2014): ``C(i) = s(i) - (s(i - k) + s(i + k)) / 2``,
   negative values set to 0, so that a short bump stands out and slow drifts do not;
2. *threshold* (MEGC baseline): ``T = mean(C) + p * (max(C) - mean(C))``, raised to
   ``min_score`` if that is larger; peaks of ``C`` above ``T``, at least ``k`` frames
   apart, are the apex candidates;
3. *extent*: around each peak ``a``, the change of every frame relative to the
   frame ``2k`` before ``a`` (LBP chi-squared distance, or flow magnitude); onset
   and offset are where it falls below ``extent`` (0.15) of its height above the
   noise floor (see :func:`_extent`); overlapping intervals are merged into the one
   with the highest peak;
4. *duration rule*: a run longer than ``max_duration`` seconds is a ``"macro"``
   movement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from numbers import Integral, Real

import numpy as np

__all__ = ["SpottedInterval"]

# Fraction of a peak's height (above the median score) that bounds its interval.
# For a raised-cosine movement of duration D and the window k = D / 2 the run above a
# quarter of the peak covers about the movement; see docs/spotting.md.
_EXTENT = 0.15


@dataclass(frozen=True)
class SpottedInterval:
    """One movement spotted in a long video.

    Parameters
    ----------
    onset, apex, offset : int
        Frame indices (0-based, inclusive) of the start, the peak and the end.
    score : float
        Height of the contrasted score at the apex (the method's units: chi-squared
        distance for ``"lbp"``, pixels of flow for ``"flow"``).
    kind : {"micro", "macro"}
        ``"macro"`` when the interval lasts longer than the spotter's
        ``max_duration``.
    fps : float or None, default=None
        Frame rate of the video, for the times in seconds.

    Examples
    --------
    >>> from skmer.spotting import SpottedInterval
    >>> iv = SpottedInterval(30, 36, 41, 0.8, "micro", fps=30.0)
    >>> iv.n_frames, round(iv.duration, 3), iv.as_tuple()
    (12, 0.4, (30, 41))
    """

    onset: int
    apex: int
    offset: int
    score: float
    kind: str = "micro"
    fps: float | None = None

    @property
    def n_frames(self) -> int:
        """Number of frames from onset to offset, both included."""
        return self.offset - self.onset + 1

    @property
    def duration(self) -> float | None:
        """Length in seconds, ``n_frames / fps`` (None without fps)."""
        return None if self.fps is None else self.n_frames / self.fps

    def time(self, which: str = "apex") -> float | None:
        """Time in seconds of the ``"onset"``, ``"apex"`` or ``"offset"`` frame."""
        if which not in ("onset", "apex", "offset"):
            raise ValueError(f"which must be 'onset', 'apex' or 'offset'; got "
                             f"{which!r}.")
        return None if self.fps is None else getattr(self, which) / self.fps

    def as_tuple(self) -> tuple[int, int]:
        """``(onset, offset)``, the form :func:`skmer.metrics.spotting_scores` takes."""
        return (self.onset, self.offset)

    def to_dict(self) -> dict:
        """Return the fields as a plain, JSON-ready dict."""
        return asdict(self)


def _check_fps(fps, where="video"):
    """Return ``fps`` as a float, or raise a ValueError saying what is allowed."""
    if fps is None:
        raise ValueError(
            f"{where}: fps is required (durations matter: the micro-expression window "
            "and the micro/macro rule are in seconds). Pass fps=<frames per second>, "
            "e.g. skmer.datasets.Clip(..., fps=30) or the rate of the video file.")
    if isinstance(fps, bool) or not isinstance(fps, (Real, np.floating, np.integer)) \
            or not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"{where}: fps must be a positive finite number of frames per "
                         f"second; got {fps!r}.")
    return float(fps)


def _check_video(video, where="video"):
    """Return the (T, H, W[, C]) video as an array (no copy), checked."""
    a = np.asarray(video)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number)
                                 or a.dtype == bool):
        raise ValueError(f"{where}: frames must be numeric; got dtype {a.dtype}.")
    if a.ndim == 4 and a.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"{where}: a colour video must have 1, 3 (RGB) or 4 (RGBA) channels; got "
            f"shape {a.shape}.")
    if a.ndim not in (3, 4):
        raise ValueError(
            f"{where}: a video must have shape (n_frames, height, width) or (n_frames, "
            f"height, width, channels); got shape {a.shape}.")
    if min(a.shape[1:3]) < 8:
        raise ValueError(f"{where}: frames of {a.shape[1:3]} pixels are too small; "
                         "spotting needs frames of at least 8x8 pixels.")
    if np.issubdtype(a.dtype, np.floating):
        bad = ~np.isfinite(a.reshape(len(a), -1)).all(axis=1)
        if bad.any():
            frames = np.flatnonzero(bad)
            raise ValueError(
                f"{where}: {bad.sum()} frame(s) contain NaN or infinite values (first: "
                f"frame {frames[0]}); spotting needs finite pixels (repair or drop "
                "those frames first).")
    return a


def _window_frames(window, fps):
    """Half window k in frames: half of ``window`` seconds, at least 1."""
    return max(1, int(round(window * fps / 2.0)))


def _check_length(n_frames, k, fps, where):
    need = 4 * k + 1
    if n_frames < need:
        raise ValueError(
            f"{where}: the video has {n_frames} frames ({n_frames / fps:.3g} s at "
            f"{fps:g} fps), shorter than the spotting window: it needs at least "
            f"{need} frames ({need / fps:.3g} s), four half windows of k={k} frames "
            "around a frame (k is half of `window` seconds). Give a longer video or a "
            "smaller window.")


def _neighbour_mean(s, k):
    """``(s[i - k] + s[i + k]) / 2``, with the one neighbour that exists at the ends."""
    n = len(s)
    total = np.zeros(n)
    count = np.zeros(n)
    total[k:] += s[:n - k]
    count[k:] += 1
    total[:n - k] += s[k:]
    count[:n - k] += 1
    return np.where(count > 0, total / np.maximum(count, 1), s)


def contrast(s, k):
    """Contrasted score ``max(s(i) - (s(i - k) + s(i + k)) / 2, 0)``."""
    s = np.asarray(s, dtype=np.float64)
    return np.maximum(s - _neighbour_mean(s, k), 0.0)


def _extent(distance, a, w, n_frames, extent):
    """Onset and offset around apex ``a`` from distances to a frame ``w`` before it.

    ``m(j) = distance(ref, j)`` with ``ref = a - w``; its height ``h`` is its maximum
    over ``[ref, a]`` above its 25th percentile over ``[ref, a + w]`` (the
    noise floor: a micro-movement fills at most half of that span).  The onset is the
    first frame after the last one before ``a`` below ``floor + extent * h``; the
    offset the last frame before the first one after ``a`` below it, searched up to
    ``8 w`` frames after ``a`` (a movement that has not come back by then ends
    there, and is macro).
    """
    ref = max(a - w, 0)
    stop = min(a + 8 * w, n_frames - 1)
    near = np.arange(ref, min(a + w, n_frames - 1) + 1)
    m = distance(ref, near)
    floor = float(np.percentile(m, 25))
    top = float(m[: a - ref + 1].max())
    level = floor + extent * (top - floor)
    onset = a
    while onset > ref and m[onset - 1 - ref] >= level:
        onset -= 1
    offset = a
    while offset < near[-1] and m[offset + 1 - ref] >= level:
        offset += 1
    if offset == near[-1] and offset < stop:
        far = np.arange(offset + 1, stop + 1)
        below = np.flatnonzero(distance(ref, far) < level)
        offset = int(far[below[0]] - 1) if len(below) else stop
    return int(onset), int(offset)


def scores_to_intervals(s, k, distance, *, fps, p, min_score, max_duration,
                        keep_macro, extent=_EXTENT):
    """Intervals of a score curve ``s`` (see the module docstring).

    ``distance(ref, frames)`` gives the change of each of ``frames`` relative to
    frame ``ref`` (the extent of a movement, :func:`_extent`).
    """
    from scipy.signal import find_peaks

    s = np.asarray(s, dtype=np.float64)
    n = len(s)
    c = contrast(s, k)
    # apexes only where both neighbours k frames away exist
    c[:k] = 0.0
    c[n - k:] = 0.0
    if not np.any(c > 0):
        return [], c, float(min_score)
    thr = max(c.mean() + p * (c.max() - c.mean()), float(min_score))
    peaks, _ = find_peaks(np.concatenate([[-np.inf], c, [-np.inf]]),
                          height=max(thr, np.finfo(float).tiny), distance=k)
    peaks = peaks - 1
    w = 2 * k
    runs = {}
    for a in peaks:
        key = _extent(distance, int(a), w, n, extent)
        if key not in runs or c[a] > c[runs[key]]:
            runs[key] = int(a)
    # overlapping intervals are one movement: keep the highest peak's
    kept = []
    for (lo, hi), a in sorted(runs.items(), key=lambda item: -c[item[1]]):
        if all(hi < klo or lo > khi for (klo, khi), _ in kept):
            kept.append(((lo, hi), a))
    out = []
    for (lo, hi), a in sorted(kept):
        kind = "macro" if (hi - lo + 1) / fps > max_duration else "micro"
        if kind == "macro" and not keep_macro:
            continue
        out.append(SpottedInterval(lo, a, hi, float(c[a]), kind, fps))
    return out, c, thr


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)) \
            or value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")
    return int(value)
