"""Input validation for clip estimators, LOSO evaluation and loaders."""

from __future__ import annotations

import numpy as np

# Clip validation lives on the ground floor (skmer._core), which skmer.datasets
# imports too; this module is its public home.
from skmer._core._validation import as_clip, check_clips

__all__ = ["check_clips", "check_loso_inputs", "as_clip"]


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
