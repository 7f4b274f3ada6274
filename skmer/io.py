"""Save and load fitted skmer models (joblib pickles that record library versions).

A saved model is one joblib file holding a small dict: the fitted estimator (any
scikit-learn estimator or Pipeline: preprocessing + SVM, preprocessing + skorch
network, ...), the versions of the libraries it was fitted with, and free-form
metadata (e.g. the frame shape ``skmer predict`` must crop faces to).

**Pickles execute code when loaded.**  Only load model files you made yourself or
received from someone you trust.  Network weights alone (``net.save_params(
f_params="weights.pt")``) are a safer exchange format: skorch loads them with
``torch.load(..., weights_only=True)``, which refuses to run code.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import tempfile
import warnings
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any

__all__ = ["ModelVersionWarning", "load_model", "model_info", "save_model"]

logger = logging.getLogger(__name__)

FORMAT = "skmer-model"
FORMAT_VERSION = 1

# libraries whose version changes may change how a pickled model behaves
_CHECKED = ("skmer", "scikit-learn", "numpy", "torch", "skorch")


class ModelVersionWarning(UserWarning):
    """A saved model is loaded with library versions other than it was saved with."""


def _version(dist: str) -> str | None:
    try:
        return _metadata.version(dist)
    except _metadata.PackageNotFoundError:
        return None


def _versions() -> dict[str, str | None]:
    """Versions of the libraries a pickled model depends on (None: not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in _CHECKED:
        if dist == "skmer":
            import skmer

            out[dist] = getattr(skmer, "__version__", None) or _version("skmer")
        elif dist in ("torch", "skorch") and dist not in sys.modules:
            # a model without a network never imported torch: do not import it now
            out[dist] = None
        else:
            out[dist] = _version(dist)
    return out


def save_model(model: Any, path: str | os.PathLike, *,
               metadata: dict | None = None, compress: int = 3) -> Path:
    """Save a fitted model with joblib, recording the library versions.

    Parameters
    ----------
    model : estimator
        The fitted estimator or Pipeline.  A skorch network is pickled with its
        weights (skorch moves CUDA tensors back to the CPU when the file is loaded
        on a machine without CUDA).
    path : str or path-like
        Output file (conventionally ``*.joblib``); written atomically (a temporary
        file in the same folder, then renamed).
    metadata : dict, default=None
        Free-form JSON-like information kept with the model, e.g.
        ``{"frame_shape": (128, 128)}`` (the face-crop size ``skmer predict``
        uses) or a description of the training data.
    compress : int, default=3
        joblib compression level (0-9).

    Returns
    -------
    path : pathlib.Path
        The written file.

    See Also
    --------
    load_model : The inverse.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmer.io import load_model, save_model
    >>> clf = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_model(clf, pathlib.Path(d) / "m.joblib", metadata={"note": "x"})
    ...     load_model(p).predict([[0.9]]).tolist()
    [1]
    """
    import joblib

    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a dict or None; got {type(metadata)}.")
    if isinstance(compress, bool) or not isinstance(compress, int) \
            or not 0 <= compress <= 9:
        raise ValueError(f"compress must be an int in 0..9; got {compress!r}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "metadata": dict(metadata or {}),
        "model": model,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".joblib")
    os.close(fd)
    try:
        joblib.dump(payload, tmp, compress=compress)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    logger.info("Saved %s to %s", type(model).__name__, path)
    return path


def _load_payload(path: str | os.PathLike) -> dict:
    import joblib

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model file {str(path)!r} does not exist.")
    try:
        obj = joblib.load(path)
    except (EOFError, OSError, ValueError, KeyError, IndexError) as exc:
        # joblib/pickle errors on truncated or foreign files
        raise ValueError(
            f"Could not load model file {str(path)!r}: not a joblib file or "
            f"corrupt ({type(exc).__name__}: {exc}).") from exc
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        if obj.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(
                f"Model file {str(path)!r} has format version "
                f"{obj['format_version']}, newer than this skmer reads "
                f"({FORMAT_VERSION}); upgrade skmer.")
        return obj
    warnings.warn(
        f"{str(path)!r} is a plain joblib pickle, not a file written by "
        "skmer's save_model: no library versions were recorded, so version "
        "mismatches cannot be detected.", ModelVersionWarning, stacklevel=3)
    return {"format": None, "format_version": None, "versions": {},
            "metadata": {}, "model": obj}


def _check_versions(saved: dict, path: Path) -> list[str]:
    now = _versions()
    diffs = []
    for dist in _CHECKED:
        old, new = saved.get(dist), now.get(dist)
        if old is None:
            continue  # not used by the model when it was saved
        if new is None and dist in ("torch", "skorch"):
            new = _version(dist)  # installed, only not imported yet
        if old != new:
            diffs.append(f"{dist} {old} -> {new}")
    if diffs:
        warnings.warn(
            f"Model {str(path)!r} was saved with other library versions than are "
            f"installed now ({'; '.join(diffs)}); its predictions may differ or "
            "loading may fail.  Refit it, or install the versions it was saved "
            "with.", ModelVersionWarning, stacklevel=3)
    return diffs


def load_model(path: str | os.PathLike) -> Any:
    """Load a model saved with :func:`save_model` (warns on version mismatch).

    **Only load files you trust**: unpickling runs code chosen by whoever wrote
    the file.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model` (a plain joblib pickle of an
        estimator is accepted too, with a :class:`ModelVersionWarning`).

    Returns
    -------
    model : estimator
        The fitted estimator.  skorch networks trained on CUDA come back on the
        CPU when CUDA is not available here.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file is not a joblib pickle, or has a newer format than this skmer
        reads.

    Warns
    -----
    ModelVersionWarning
        skmer, scikit-learn, numpy, torch or skorch differ from the versions the
        model was saved with.

    See Also
    --------
    save_model, model_info
    """
    path = Path(path)
    payload = _load_payload(path)
    _check_versions(payload["versions"], path)
    return payload["model"]


def model_info(path: str | os.PathLike) -> dict:
    """Versions and metadata recorded with a saved model (loads the file).

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model`.

    Returns
    -------
    info : dict
        ``{"versions": {...}, "metadata": {...}, "format_version": int,
        "model": estimator}``.
    """
    path = Path(path)
    payload = _load_payload(path)
    _check_versions(payload["versions"], path)
    return {k: payload[k] for k in ("versions", "metadata", "format_version",
                                    "model")}
