"""Input validation for clip estimators, LOSO evaluation and loaders."""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np

from skmer.datasets._clip import Clip, ClipSequence

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["check_clips", "check_loso_inputs", "as_clip"]


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


def _image_data_range(a, data_range, where, noun="frames"):
    """Check the values of the image array ``a`` and return its range as a float.

    The range is ``data_range`` if given, else 255 for integer images (which must
    then lie in [0, 255]) and, for float images, 1.0 when every value is <= 1 and
    255 otherwise; NaN, infinity and values outside ``[0, range]`` raise
    ValueError naming ``where``.  Shared by the stages that turn frames into the
    8-bit images OpenCV and dlib need.
    """
    if a.size and not np.isfinite(a).all():
        raise ValueError(f"{where}: {noun} contain NaN or infinite values.")
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if data_range is None:
        if a.dtype.kind in "ui":
            if lo < 0 or hi > 255:
                raise ValueError(
                    f"{where}: integer {noun} must lie in [0, 255] to be read as "
                    f"8-bit images; got values in [{lo:g}, {hi:g}]. Pass data_range= "
                    "(e.g. 4095 for 12-bit or 65535 for 16-bit frames)."
                )
            data_range = 255.0
        else:
            data_range = 1.0 if hi <= 1.0 else 255.0
    data_range = float(data_range)
    if not data_range > 0:
        raise ValueError(f"data_range must be > 0; got {data_range!r}.")
    tol = 1e-6 * data_range
    if lo < -tol or hi > data_range + tol:
        raise ValueError(
            f"{where}: {noun} values in [{lo:g}, {hi:g}] lie outside "
            f"[0, {data_range:g}]; float frames must be scaled to [0, 1] or [0, 255] "
            "(or pass data_range=)."
        )
    return data_range


def check_loso_inputs(X, y, groups, datasets=None):
    """Check that X, y, groups (and datasets) are non-empty and of equal length.

    Returns ``y``, ``groups`` (and ``datasets``) as 1-D ndarrays.
    """
    n = len(X) if hasattr(X, "__len__") else None
    if n is None:
        raise TypeError(f"X must have a length; got {type(X).__name__}.")
    if n == 0:
        raise ValueError("X is empty: at least one sample is required.")
    if y is None:
        raise ValueError("y is required for LOSO evaluation.")
    if groups is None:
        raise ValueError(
            "groups is required: pass the dataset-qualified subject of every sample "
            "(e.g. 'casme2/sub01')."
        )
    y = np.asarray(y)
    groups = np.asarray(groups)
    lengths = {"X": n, "y": len(y), "groups": len(groups)}
    if datasets is not None:
        datasets = np.asarray(datasets)
        lengths["datasets"] = len(datasets)
    if len(set(lengths.values())) > 1:
        raise ValueError(
            "X, y, groups" + (", datasets" if datasets is not None else "")
            + " must have the same length; got "
            + ", ".join(f"{k}={v}" for k, v in lengths.items()) + "."
        )
    if y.ndim != 1 or groups.ndim != 1:
        raise ValueError("y and groups must be 1-D.")
    if len(np.unique(groups)) < 2:
        raise ValueError(
            "Leave-one-subject-out needs at least 2 distinct groups (subjects); got "
            f"{len(np.unique(groups))}."
        )
    return (y, groups) if datasets is None else (y, groups, datasets)
