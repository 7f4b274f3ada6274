"""The data contract: :class:`Clip` (one video sample) and :class:`ClipSequence`.

A clip holds its frames ``(T, H, W)`` or ``(T, H, W, C)`` and the metadata of a
micro-expression sample (onset/apex/offset frame indices, fps, ids).  Frames of a clip
loaded from disk are decoded lazily, on first access, and a pickled lazy clip stores
its source, not its pixels, so that ``Pipeline(memory=...)`` hashes it cheaply.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import ArrayLike

__all__ = ["Clip", "ClipSequence", "read_frames"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv")

_META = ("onset", "apex", "offset", "fps", "id", "subject", "dataset", "label",
         "landmarks")


def _natural_key(name):
    """Sort key so that ``img2.jpg`` comes before ``img10.jpg``."""
    import re

    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def _read_image(path, color):
    import cv2

    flag = cv2.IMREAD_GRAYSCALE if color == "grey" else cv2.IMREAD_COLOR
    img = cv2.imread(str(path), flag)
    if img is None:
        if not Path(path).exists():
            raise FileNotFoundError(f"Frame file {str(path)!r} does not exist.")
        raise ValueError(
            f"Could not decode image {str(path)!r}: the file is corrupt or not an "
            f"image (allowed extensions: {', '.join(IMAGE_EXTENSIONS)})."
        )
    if color == "rgb":
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img


def _read_video(path, color, times=None):
    """Decode a video file; with a list ``times``, append each frame's time (ms)."""
    import cv2

    path = str(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Video file {path!r} does not exist.")
    cap = cv2.VideoCapture(path)
    frames = []
    try:
        if not cap.isOpened():
            raise ValueError(
                f"Could not open video {path!r}: the file is corrupt or its codec is "
                "not supported by OpenCV."
            )
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if times is not None:
                times.append(cap.get(cv2.CAP_PROP_POS_MSEC))
            if color == "grey":
                frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            else:
                frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            frames.append(frame)
    finally:
        cap.release()
    if not frames:
        raise ValueError(
            f"Could not read any frame from video {path!r}: the file is corrupt, "
            "empty or its codec is not supported by OpenCV."
        )
    return np.stack(frames)


def video_fps(path):
    """Frame rate stored in a video file's header (``None`` if unknown)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0.0
    finally:
        cap.release()
    return float(fps) if fps and np.isfinite(fps) and fps > 0 else None


def read_video_times(path, color="grey"):
    """Decode a video file: ``(frames, times)``, ``times`` each frame's time in ms.

    ``times`` is None when the container's timestamps are not increasing (some
    report 0 for every frame).
    """
    times = []
    frames = _read_video(path, color, times)
    times = np.asarray(times, dtype=np.float64)
    if len(times) < 2 or not np.isfinite(times).all() or np.any(np.diff(times) <= 0):
        times = None
    return frames, times


def read_frames(source: str | os.PathLike, *, frame_files: Sequence[str] | None = None,
                color: str = "grey") -> np.ndarray:
    """Decode the frames of a clip from an image folder or a video file.

    Parameters
    ----------
    source : str or path-like
        A folder of frame images (read in natural sort order) or a video file.
    frame_files : sequence of str, default=None
        For a folder: the file names to read, in order (default: every image file).
    color : {"grey", "rgb"}, default="grey"
        Decode as ``(T, H, W)`` grey or ``(T, H, W, 3)`` RGB uint8.

    Returns
    -------
    frames : ndarray of shape (n_frames, height, width[, 3]), dtype uint8
    """
    if color not in ("grey", "rgb"):
        raise ValueError(f"color must be 'grey' or 'rgb', got {color!r}.")
    source = Path(source)
    if source.is_dir():
        if frame_files is None:
            frame_files = sorted(
                (p.name for p in source.iterdir()
                 if p.suffix.lower() in IMAGE_EXTENSIONS),
                key=_natural_key,
            )
        if len(frame_files) == 0:
            raise ValueError(
                f"Frame folder {str(source)!r} holds no image "
                f"({', '.join(IMAGE_EXTENSIONS)})."
            )
        frames = [_read_image(source / f, color) for f in frame_files]
        shapes = {f.shape for f in frames}
        if len(shapes) > 1:
            raise ValueError(
                f"Frames in {str(source)!r} have different sizes {sorted(shapes)}; "
                "all frames of a clip must have one size."
            )
        return np.stack(frames)
    if source.suffix.lower() in VIDEO_EXTENSIONS or source.is_file():
        return _read_video(source, color)
    raise FileNotFoundError(
        f"Clip source {str(source)!r} does not exist (expected a folder of frame "
        f"images or a video file {', '.join(VIDEO_EXTENSIONS)})."
    )


class Clip:
    """One micro-expression sample: frames plus metadata, optionally lazy.

    Parameters
    ----------
    frames : array-like of shape (n_frames, height, width[, channels]), default=None
        The pixels. Give either ``frames`` or ``source``.
    source : str or path-like, default=None
        A folder of frame images or a video file; frames are decoded on first access
        of :attr:`frames` and dropped again when the clip is pickled.
    frame_files : sequence of str, default=None
        For a folder source: the file names of the clip's frames, in order.
    color : {"grey", "rgb"}, default="grey"
        How a lazy source is decoded.
    onset, apex, offset : int, default=None
        Frame indices (0-based, into :attr:`frames`) of the onset, apex and offset.
    fps : float, default=None
        Frame rate in Hz.
    id, subject, dataset : str, default=None
        Sample id, subject id (dataset-qualified, e.g. ``"casme2/sub01"``) and corpus.
    label : object, default=None
        The sample's label (informative only: estimators take ``y`` explicitly).
    landmarks : ndarray of shape (68, 2), default=None
        Facial landmarks ``(x, y)`` in output pixel coordinates (set by face cropping).

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.datasets import Clip
    >>> clip = Clip(np.zeros((5, 8, 8), dtype=np.uint8), onset=0, apex=2, offset=4)
    >>> clip.shape, clip.n_frames, clip.apex
    ((5, 8, 8), 5, 2)
    >>> clip.replace(frames=clip.frames[::2], apex=1).shape
    (3, 8, 8)
    """

    def __init__(self, frames: ArrayLike | None = None, *,
                 source: str | os.PathLike | None = None,
                 frame_files: Sequence[str] | None = None, color: str = "grey",
                 onset: int | None = None, apex: int | None = None,
                 offset: int | None = None, fps: float | None = None,
                 id: str | None = None, subject: str | None = None,
                 dataset: str | None = None, label: Any | None = None,
                 landmarks: np.ndarray | None = None) -> None:
        if frames is None and source is None:
            raise ValueError("A Clip needs either `frames` or a `source` path.")
        if frames is not None and source is not None:
            raise ValueError("Give a Clip either `frames` or `source`, not both.")
        self._frames = None if frames is None else np.asarray(frames)
        self.source = None if source is None else os.fspath(source)
        self.frame_files = None if frame_files is None else list(frame_files)
        self.color = color
        self.onset = onset
        self.apex = apex
        self.offset = offset
        self.fps = fps
        self.id = id
        self.subject = subject
        self.dataset = dataset
        self.label = label
        self.landmarks = landmarks

    # -- frames -------------------------------------------------------------------
    @property
    def frames(self) -> np.ndarray:
        """The pixels, an ndarray of shape (n_frames, height, width[, channels])."""
        if self._frames is None:
            self._frames = read_frames(self.source, frame_files=self.frame_files,
                                       color=self.color)
        return self._frames

    @property
    def is_lazy(self) -> bool:
        """bool: True when the frames come from :attr:`source`."""
        return self.source is not None

    @property
    def is_loaded(self) -> bool:
        """bool: True when the frames are in memory."""
        return self._frames is not None

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of :attr:`frames`, a tuple of int."""
        return self.frames.shape

    @property
    def ndim(self) -> int:
        """int: number of dimensions of :attr:`frames` (3 or 4)."""
        return self.frames.ndim

    @property
    def dtype(self) -> np.dtype:
        """The data type of :attr:`frames`, a numpy dtype."""
        return self.frames.dtype

    @property
    def n_frames(self) -> int:
        """int: number of frames."""
        if self._frames is None and self.frame_files is not None:
            return len(self.frame_files)
        return self.frames.shape[0]

    def __array__(self, dtype=None, copy=None):
        frames = self.frames
        if dtype is not None:
            frames = frames.astype(dtype, copy=False)
        return np.array(frames, copy=True) if copy else frames

    # -- metadata -----------------------------------------------------------------
    @property
    def metadata(self) -> dict[str, Any]:
        """dict: the clip's metadata (everything but the pixels)."""
        return {k: getattr(self, k) for k in _META}

    def replace(self, *, frames: ArrayLike | None = None, **metadata) -> Clip:
        """Return a new in-memory clip with new frames and/or metadata.

        Metadata not given are carried over.  This is how stages produce their
        output without touching the input clip.
        """
        unknown = set(metadata) - set(_META)
        if unknown:
            raise TypeError(f"Unknown Clip metadata {sorted(unknown)}; allowed: "
                            f"{list(_META)}.")
        meta = self.metadata
        meta.update(metadata)
        return Clip(self.frames if frames is None else frames, **meta)

    def load(self) -> Clip:
        """Decode the frames now (no-op for an in-memory clip); returns self."""
        self.frames  # noqa: B018
        return self

    def _fingerprint(self):
        """``(name, size, mtime_ns)`` of every source file (one ``stat`` each)."""
        src = Path(self.source)
        if src.is_dir():
            names = self.frame_files
            if names is None:
                names = sorted((p.name for p in src.iterdir()
                                if p.suffix.lower() in IMAGE_EXTENSIONS),
                               key=_natural_key)
            files = [src / n for n in names]
        else:
            files = [src]
        out = []
        for f in files:
            try:
                st = f.stat()
                out.append((f.name, st.st_size, st.st_mtime_ns))
            except OSError:
                out.append((f.name, None, None))
        return tuple(out)

    def __getstate__(self):
        state = self.__dict__.copy()
        if self.source is not None:
            # a lazy clip pickles as its source, not its pixels, plus a fingerprint
            # of the source files so that a cache keyed on the pickle (joblib.Memory
            # in Pipeline(memory=...)) notices a file changed in place
            state["_frames"] = None
            state["_fingerprint"] = self._fingerprint()
        return state

    def __setstate__(self, state):
        state = dict(state)
        state.pop("_fingerprint", None)
        self.__dict__.update(state)

    def __eq__(self, other):
        if not isinstance(other, Clip):
            return NotImplemented
        if self.metadata.keys() != other.metadata.keys():
            return False
        for k in _META:
            a, b = getattr(self, k), getattr(other, k)
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                if a is None or b is None or not np.array_equal(a, b):
                    return False
            elif a != b:
                return False
        return np.array_equal(self.frames, other.frames)

    __hash__ = None

    def __repr__(self):
        parts = []
        if self.id is not None:
            parts.append(f"id={self.id!r}")
        if self.subject is not None:
            parts.append(f"subject={self.subject!r}")
        if self._frames is not None:
            parts.append(f"shape={self._frames.shape}")
        else:
            parts.append(f"source={self.source!r}")
        for k in ("onset", "apex", "offset", "fps"):
            v = getattr(self, k)
            if v is not None:
                parts.append(f"{k}={v}")
        return f"Clip({', '.join(parts)})"


class ClipSequence(Sequence):
    """A lazy, indexable sequence of clips, usable as ``X`` in scikit-learn.

    Follows skorch's ``SliceDataset`` protocol: ``len``, ``shape == (n,)``, an integer
    index returns one :class:`Clip`, a slice, boolean mask or integer array returns a
    lazy :class:`ClipSequence` over the same clips (nothing is decoded).  This is what
    ``cross_val_predict`` and ``LeaveOneGroupOut`` need to index ``X``.

    Parameters
    ----------
    clips : sequence of Clip
        The clips (typically lazy ones built by a loader).

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.datasets import Clip, ClipSequence
    >>> X = ClipSequence([Clip(np.zeros((3, 4, 4)), id=str(i)) for i in range(5)])
    >>> X.shape, len(X[1:4]), X[np.array([0, 2])][1].id
    ((5,), 3, '2')
    """

    def __init__(self, clips: Sequence[Clip]) -> None:
        clips = list(clips)
        for i, c in enumerate(clips):
            if not isinstance(c, Clip):
                raise TypeError(
                    f"ClipSequence holds Clip objects; element {i} is "
                    f"{type(c).__name__}. Wrap arrays with Clip(frames)."
                )
        self._clips = clips

    def __len__(self):
        return len(self._clips)

    @property
    def shape(self) -> tuple[int]:
        """tuple: ``(n_clips,)``."""
        return (len(self._clips),)

    @property
    def ndim(self) -> int:
        """int: always 1."""
        return 1

    def __getitem__(self, key):
        if isinstance(key, tuple):
            # sklearn indexes arrays as ``X[idx, ...]``; a sequence has one axis
            rest = [k for k in key[1:] if k is not Ellipsis]
            if len(key) == 0 or rest:
                raise IndexError(f"ClipSequence has one axis; got index {key!r}.")
            key = key[0]
        if isinstance(key, Integral):
            return self._clips[key]
        if isinstance(key, slice):
            return ClipSequence(self._clips[key])
        idx = np.asarray(key)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise IndexError(
                    f"Boolean index of shape {idx.shape} does not match "
                    f"ClipSequence of length {len(self)}."
                )
            idx = np.flatnonzero(idx)
        elif idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise IndexError(
                f"ClipSequence indices must be int, slice, bool mask or int array; got "
                f"dtype {idx.dtype}."
            )
        return ClipSequence([self._clips[int(i)] for i in idx.ravel()])

    def __iter__(self):
        return iter(self._clips)

    def __array__(self, dtype=None, copy=None):
        out = np.empty(len(self._clips), dtype=object)
        out[:] = self._clips
        return out

    def __repr__(self):
        return f"ClipSequence(n_clips={len(self)})"

    def __getstate__(self):
        return {"_clips": self._clips}

    def __setstate__(self, state):
        self.__dict__.update(state)
