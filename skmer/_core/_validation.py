"""Clip validation and frame-index checks shared by every floor of skmer.

:func:`check_clips` is re-exported by :mod:`skmer.utils.validation`, its public home.
"""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np

from skmer._core._clip import Clip, ClipSequence

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["as_clip", "check_clips"]


def _name(estimator):
    if estimator is None:
        return ""
    name = estimator if isinstance(estimator, str) else type(estimator).__name__
    return f"{name}: "


def as_clip(clip, *, index=None, estimator=None):
    """Return ``clip`` as a :class:`Clip` (bare arrays become clips without metadata).

    The input is never copied or modified.
    """
    if isinstance(clip, Clip):
        return clip
    if isinstance(clip, np.ndarray) or hasattr(clip, "__array__"):
        return Clip(np.asarray(clip))
    where = "" if index is None else f" (element {index})"
    raise TypeError(
        f"{_name(estimator)}a clip{where} must be a Clip or an ndarray of shape "
        f"(n_frames, height, width[, channels]); got {type(clip).__name__}."
    )


def check_clips(X: Sequence[Clip | np.ndarray] | ClipSequence, *,
                ensure_min_frames: int = 1, frame_shape: tuple[int, ...] | None = None,
                same_shape: bool = False, allow_nan: bool = False,
                estimator: Any | str | None = None) -> list[Clip]:
    """Validate a sequence of clips and return it as a list of :class:`Clip`.

    Parameters
    ----------
    X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
        A list, 1-D object array or :class:`~skmer.datasets.ClipSequence`.  A single
        4-D/5-D ndarray is read as a batch of equal-length clips.
    ensure_min_frames : int, default=1
        Smallest number of frames a clip may have.
    frame_shape : tuple of int, default=None
        If given, every clip's frame shape ``(height, width[, channels])`` must equal
        it (typically the ``frame_shape_`` recorded in ``fit``).
    same_shape : bool, default=False
        Every clip's frame shape must equal clip 0's (what ``fit`` of a stage that
        needs one frame size checks before recording ``frame_shape_``).
    allow_nan : bool, default=False
        Accept non-finite pixel values.
    estimator : estimator or str, default=None
        Named in error messages.

    Returns
    -------
    clips : list of Clip
        The same clip objects (arrays wrapped, never copied); lazy clips are decoded.

    Raises
    ------
    ValueError
        Empty input, a clip with the wrong number of dimensions, too few frames,
        non-finite values, a frame shape that differs from ``frame_shape`` or, with
        ``same_shape``, from clip 0's.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.utils.validation import check_clips
    >>> clips = check_clips([np.zeros((4, 8, 8)), np.zeros((6, 8, 8))])
    >>> [c.n_frames for c in clips]
    [4, 6]
    >>> check_clips([np.zeros((1, 8, 8))], ensure_min_frames=2)
    Traceback (most recent call last):
    ...
    ValueError: clip 0 has 1 frame(s); at least 2 are required.
    """
    prefix = _name(estimator)
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim not in (4, 5):
            raise ValueError(
                f"{prefix}X as a numeric array must have shape (n_clips, n_frames, "
                f"height, width[, channels]); got an array with shape {X.shape}. "
                "Pass a list of clips for ragged data."
            )
        X = list(X)
    elif isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise TypeError(
            f"{prefix}X must be a sequence of clips (list, 1-D object array or "
            f"ClipSequence); got {type(X).__name__}."
        )
    if len(X) == 0:
        raise ValueError(f"{prefix}X is empty: at least one clip is required.")
    if isinstance(ensure_min_frames, bool) or not isinstance(ensure_min_frames,
                                                                Integral):
        raise TypeError("ensure_min_frames must be an int.")
    clips = []
    for i, c in enumerate(X if not isinstance(X, ClipSequence) else iter(X)):
        clip = as_clip(c, index=i, estimator=estimator)
        frames = clip.frames
        if frames.ndim not in (3, 4):
            raise ValueError(
                f"{prefix}clip {i} has shape {frames.shape}; a clip must have shape "
                "(n_frames, height, width) or (n_frames, height, width, channels)."
            )
        if frames.shape[0] < ensure_min_frames:
            raise ValueError(
                f"{prefix}clip {i} has {frames.shape[0]} frame(s); at least "
                f"{ensure_min_frames} are required."
            )
        if min(frames.shape[1:3]) < 1:
            raise ValueError(f"{prefix}clip {i} has empty frames {frames.shape}.")
        kind = frames.dtype.kind  # b, i, u, f, c: bool or numeric
        if kind not in "biufc":
            raise ValueError(
                f"{prefix}clip {i} has dtype {frames.dtype}; frames must be numeric."
            )
        if (not allow_nan and kind in "fc"
                and not np.isfinite(frames).all()):
            raise ValueError(
                f"{prefix}clip {i} contains NaN or infinite pixel values; frames must "
                "be finite."
            )
        if frame_shape is not None and tuple(frames.shape[1:]) != tuple(frame_shape):
            raise ValueError(
                f"{prefix}clip {i} has frame shape {tuple(frames.shape[1:])}, but the "
                f"estimator was fitted on frames of shape {tuple(frame_shape)}."
            )
        if same_shape and clips and frames.shape[1:] != clips[0].frames.shape[1:]:
            raise ValueError(
                f"{prefix}clip {i} has frame shape {tuple(frames.shape[1:])} but clip "
                f"0 has {tuple(clips[0].frames.shape[1:])}; all clips must share one "
                "frame size (crop or resize them first)."
            )
        clips.append(clip)
    return clips


def _check_index(value, name, n, where="", *, allow_negative=False):
    """Check a frame index of a clip of ``n`` frames and return it as an int.

    Parameters
    ----------
    value : object
        The index to check (an int or numpy integer; bools are refused).
    name : str
        What the index is (``"onset"``, ``"apex"``, ...), named in the message.
    n : int
        Number of frames of the clip.
    where : str, default=""
        Prefix of the error message, e.g. ``"FlowExtractor: clip 3: "``.
    allow_negative : bool, default=False
        Accept ``-n..-1``, counted from the last frame as Python does.

    Returns
    -------
    index : int
        ``value`` in ``0..n-1``.

    Raises
    ------
    ValueError
        ``value`` is not an integer or lies outside the clip.
    """
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)):
        raise ValueError(f"{where}{name} must be an int frame index; got {value!r}.")
    low = -n if allow_negative else 0
    if not low <= value < n:
        raise ValueError(
            f"{where}{name}={value} lies outside the clip's {n} frames (valid "
            f"indices {low}..{n - 1})."
        )
    return int(value) % n
