"""Spotted intervals, input checks and the peak-to-interval rule shared by the spotters.

Both spotting methods reduce a long video to one score per frame (the change of
frame ``i`` relative to the average of frames ``i - k`` and ``i + k``); this module
turns such a score curve into intervals:

1. *contrast* (Moilanen et al. 2014): ``C(i) = s(i) - (s(i - k) + s(i + k)) / 2``,
   negative values set to 0, so that a short bump stands out and slow drifts do not;
2. *threshold* (MEGC baseline): ``T = mean(C) + p * (max(C) - mean(C))``, raised to
   ``min_score`` and to ``min_snr * median(s)`` (the video's noise level: most frames
   of a long video are still) if those are larger; peaks of ``C`` above ``T``, at
   least ``k`` frames apart, are the apex candidates;
3. *extent*: around each peak ``a``, the change at the apex's place (its blocks)
   of every frame relative to the face interpolated between the frames ``2k``
   before and after ``a``; onset and offset are where it falls below ``extent``
   (0.15) of its height above the noise floor, with the window widened while the
   movement has not come back (see :func:`_extent`); overlapping intervals are
   merged into the one with the highest peak;
4. *duration rule*: a run longer than ``max_duration`` seconds is a ``"macro"``
   movement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from numbers import Integral, Real

import numpy as np

__all__ = ["SpottedInterval"]

# Fraction of a movement's height (above the noise floor) that bounds its interval:
# 0.15 keeps about 3/4 of a raised-cosine movement (see docs/spotting.md).
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


def _extent(profile, a, k, n_frames, extent, max_doublings=3):
    """Onset and offset of the movement whose apex is frame ``a``.

    ``profile(a, k, r1, r2, step)`` gives the change of frames ``r1, r1 + step, ...,
    r2`` at the apex's
    place relative to the face interpolated between frames ``r1`` and ``r2`` (so a
    slow drift of the whole video cancels).  With ``r1, r2 = a -+ w`` (``w = 2k``),
    onset and offset are the ends of the run of frames around ``a`` where the change
    stays above ``floor + extent * (peak - floor)`` (``floor``: its 25th
    percentile, the noise between still frames).  When the run reaches ``r1`` or
    ``r2`` the movement has not come back within the window: ``w`` is doubled (at
    most ``max_doublings`` times) and the run measured again, so a slow movement
    is followed to its end (a widened window is sampled every 2, 4, 8 frames).
    """
    w = 2 * k
    for attempt in range(max_doublings + 1):
        # a widened window is sampled every 2**attempt frames (the cost stays that
        # of the first window), always through the apex
        step = 2 ** attempt
        r1 = a - min(w, a) // step * step
        r2 = a + min(w, n_frames - 1 - a) // step * step
        m = np.asarray(profile(a, k, r1, r2, step), dtype=np.float64)
        floor = float(np.percentile(m, 25))
        c = (a - r1) // step
        half = max(k // 2 // step, 0)
        peak = float(m[max(c - half, 0):c + half + 1].max())
        level = floor + extent * (peak - floor)
        i = j = c
        while i > 0 and m[i - 1] >= level:
            i -= 1
        while j < len(m) - 1 and m[j + 1] >= level:
            j += 1
        open_left = i <= 1 and r1 > 0
        open_right = j >= len(m) - 2 and r2 < n_frames - 1
        if not (open_left or open_right):
            break
        w *= 2
    return int(r1 + i * step), int(r1 + j * step)


def noise_level(s):
    """Return the noise level of a score curve: its median (most frames are still)."""
    s = np.asarray(s, dtype=np.float64)
    return float(np.median(s)) if s.size else 0.0


def scores_to_intervals(s, k, profile, *, fps, p, min_score, max_duration,
                        keep_macro, extent=_EXTENT, min_snr=0.0):
    """Intervals of a score curve ``s`` (see the module docstring).

    ``profile(a, k, r1, r2, step)`` measures the movement at apex ``a`` on frames
    ``r1..r2`` every ``step`` frames (its extent, :func:`_extent`).
    """
    from scipy.signal import find_peaks

    s = np.asarray(s, dtype=np.float64)
    n = len(s)
    c = contrast(s, k)
    # apexes only where both neighbours k frames away exist
    c[:k] = 0.0
    c[n - k:] = 0.0
    floor = max(float(min_score), float(min_snr) * noise_level(s))
    if not np.any(c > 0):
        return [], c, floor
    thr = max(c.mean() + p * (c.max() - c.mean()), floor)
    peaks, _ = find_peaks(np.concatenate([[-np.inf], c, [-np.inf]]),
                          height=max(thr, np.finfo(float).tiny), distance=k)
    peaks = peaks - 1
    runs = {}
    for a in peaks:
        key = _extent(profile, int(a), k, n, extent)
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


def _check_blocks(n_blocks):
    """``n_blocks`` (an int or a pair of ints >= 1) as a ``(rows, cols)`` tuple."""
    pair = (n_blocks, n_blocks) if isinstance(n_blocks, (Integral, np.integer)) \
        else n_blocks
    try:
        rows, cols = pair
    except (TypeError, ValueError):
        rows = cols = None
    if any(isinstance(v, bool) or not isinstance(v, (Integral, np.integer)) or v < 1
           for v in (rows, cols)):
        raise ValueError("n_blocks must be an int or a (rows, cols) pair of ints >= "
                         f"1; got {n_blocks!r}.")
    return int(rows), int(cols)
