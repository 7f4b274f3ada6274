"""Recognise the micro-expressions of a user's own video with a saved model.

Two ways in:

* **one clip** (:func:`predict_video`): the video holds one micro-expression and
  its onset is known (frame 0 by default).  ``skmer predict`` reads the video (a
  file OpenCV decodes, or a folder of frames), aligns and crops the face of every
  frame with one transform located on the onset frame
  (:class:`~skmer.preprocessing.FaceCropper`), takes the apex the user gives or
  spots it between onset and offset (:func:`~skmer.preprocessing.spot_apex`) and
  gives the two frames ``[onset, apex]`` to the model;
* **a long video** (:func:`predict_long_video`): nobody marked onset and apex.  The
  face is located and followed, a micro-expression spotter
  (:class:`skmer.spotting.MicroExpressionSpotter`) finds the intervals of facial
  movement (peaks of at least 1.5 times the video's own noise level), and every
  interval's ``[onset, apex]`` pair goes to the model; each interval is flagged as
  micro or macro (the spotter's duration rule) and for rigid head motion between
  its onset and apex.

In both, where the head moved between onset and apex (0.25 px or more of rigid
motion in the face crop), the apex frame is first registered to the onset frame
on stable landmarks (:func:`~skmer.preprocessing.register_frames`: the nose ridge
and the eye corners, refined by ECC), so that the rigid motion of the head is
removed before the flow the model sees (``compensate=False`` keeps the frames as
they are); intervals whose eyes close are flagged as possible blinks.

The model contract: a fitted estimator (usually a Pipeline) whose ``predict``
(and, for probabilities, ``predict_proba`` and ``classes_``) accepts a sequence of
:class:`~skmer.datasets.Clip` of shape ``(2, height, width)`` (grey, uint8) or
``(2, height, width, 3)`` (RGB), metadata ``onset=0, apex=1``, ``landmarks`` set
(the 68 dlib points in crop coordinates).  ``(height, width)`` is the face-crop
size: the ``frame_shape`` metadata saved with the model, else the ``frame_shape_``
of the first step that has one (e.g. :class:`~skmer.preprocessing.FlowExtractor`),
else the size given by the user.  :func:`make_predict_pipeline` builds such
models; a Pipeline trained on whole clips from ``FaceCropper`` on can be saved
for prediction as ``pipe[2:]`` (dropping the crop and key-frame steps, which
``skmer predict`` runs itself).

The metadata saved with a model (``skmer train`` writes it) may also describe its
training data (``trained_on``, ``synthetic``) and the preprocessing that made its
inputs (``preprocessing``: the face crop, the key frames, the flow); predictions
carry warnings when the model was trained on synthetic faces or when the motion
given to it is mostly head motion.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skmer._core._clip import read_video_times, video_fps
from skmer._core._utils import _plain
from skmer._core._validation import _check_index

__all__ = [
    "LongVideoPrediction",
    "NoFaceError",
    "VideoPrediction",
    "eye_aspect_ratio",
    "flatten_samples",
    "head_motion",
    "make_predict_pipeline",
    "model_frame_shape",
    "model_warnings",
    "predict_long_video",
    "predict_video",
]

logger = logging.getLogger(__name__)

# The shortest micro-expressions last about 1/25 s (Ekman and Friesen, 1969): a
# video shorter than that cannot hold one.
MIN_DURATION = 1 / 25
# The longest micro-expressions last 0.5 s (Yan et al., 2013): ``skmer predict``
# spots the intervals of a video longer than that (see ``docs/your_own_video.md``).
MICRO_MAX_DURATION = 0.5
# Rigid (affine) part of the onset -> apex flow, mean over the face crop, in crop
# pixels, from which an interval is flagged as head motion.  Measured on the real
# face videos of the development data (128 px crops, TV-L1): a still face 0.06 px,
# the raw CASME II clip 0.12-0.39 px, a talking head 4.5-7 px.
HEAD_MOTION_PX = 1.0


class NoFaceError(ValueError):
    """No face was found in the video (or the face is lost on a needed frame)."""


def flatten_samples(X: Any) -> np.ndarray:
    """Reshape an array of samples ``(n, ...)`` to ``(n, n_features)``.

    Kept for models saved with ``FunctionTransformer(flatten_samples)``; new code
    uses :class:`skmer.preprocessing.Flatten`, a transformer with the same effect.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.predict import flatten_samples
    >>> flatten_samples(np.zeros((4, 3, 2, 2))).shape
    (4, 12)
    """
    X = np.asarray(X)
    return X.reshape(len(X), -1)


# the STSTNet / MEGC2019 composite format (``flow_uvos_28``): TV-L1 from onset to
# apex, channels (u, v, strain), resized to 28x28, every channel of every image
# min-max scaled to [0, 1]
COMPOSITE_FLOW = {"method": "tvl1", "mode": "onset-apex", "strain": True,
                  "magnitude": False, "output_size": (28, 28),
                  "rescale_vectors": True, "scale": "minmax", "flow_params": None}


def _flow_extractor(output_size=(28, 28)):
    from skmer.preprocessing import FlowExtractor

    return FlowExtractor(**{**COMPOSITE_FLOW, "output_size": tuple(output_size)})


def _svm_classifier(random_state=None):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from skmer.preprocessing import Flatten

    # Platt-scaled probabilities (SVC(probability=True) is deprecated)
    svc = SVC(C=10.0, class_weight="balanced", random_state=random_state)
    return Pipeline([
        ("flatten", Flatten()),
        ("scale", StandardScaler()),
        ("svc", CalibratedClassifierCV(svc, method="sigmoid", cv=3,
                                       ensemble=False)),
    ])


def make_predict_pipeline(classifier: Any = "svm", *,
                          flow_size: tuple[int, int] = (28, 28),
                          random_state: int | None = None):
    """Build a pipeline that ``skmer predict`` accepts: onset-apex flow + classifier.

    Parameters
    ----------
    classifier : estimator or "svm", default="svm"
        The classifier of the flow images: any estimator with ``fit`` and
        ``predict_proba`` on ``(n, 3, height, width)`` arrays, e.g.
        ``skmer.models.STSTNetClassifier()`` (this module does not import the
        networks: torch stays behind :mod:`skmer.models`), or ``"svm"``:
        standardised pixels of the flow images -> RBF SVM (``C=10``,
        class-balanced; sigmoid (Platt) probabilities calibrated on a 3-fold split
        of the training set).
    flow_size : tuple of (int, int), default=(28, 28)
        Size of the flow images (STSTNet needs 28x28).
    random_state : int, default=None
        Seed of the ``"svm"`` classifier (a given estimator keeps its own).

    Returns
    -------
    pipe : sklearn.pipeline.Pipeline
        ``flow`` (:class:`~skmer.preprocessing.FlowExtractor`: TV-L1 from onset to
        apex, u, v, strain, min-max scaled: the format of the MEGC2019 composite's
        ``flow_uvos_28`` images) then ``clf``.  Fit it on clips with onset/apex
        metadata (whole clips or ``[onset, apex]`` pairs) of face crops of the size
        prediction will use.

    Raises
    ------
    ValueError
        ``classifier`` is neither ``"svm"`` nor an estimator.

    Examples
    --------
    >>> from skmer.predict import make_predict_pipeline
    >>> [name for name, _ in make_predict_pipeline("svm").steps]
    ['flow', 'clf']
    """
    from sklearn.pipeline import Pipeline

    if isinstance(classifier, str):
        if classifier != "svm":
            hint = (" (pass skmer.models.STSTNetClassifier() for STSTNet)"
                    if classifier == "ststnet" else "")
            raise ValueError(f'classifier must be "svm" or an estimator; got '
                             f"{classifier!r}{hint}.")
        clf = _svm_classifier(random_state)
    elif hasattr(classifier, "fit") and hasattr(classifier, "predict_proba"):
        clf = classifier
    else:
        raise ValueError(f'classifier must be "svm" or an estimator with fit and '
                         f"predict_proba; got {classifier!r}.")
    return Pipeline([("flow", _flow_extractor(flow_size)), ("clf", clf)])


def model_frame_shape(model: Any, metadata: dict | None = None
                      ) -> tuple[int, ...] | None:
    """Return the face-crop frame shape a model expects, or None when it cannot tell.

    Parameters
    ----------
    model : estimator
        A fitted estimator or Pipeline.
    metadata : dict, default=None
        Metadata saved with the model; its ``"frame_shape"`` wins.

    Returns
    -------
    frame_shape : tuple of int or None
        ``(height, width)`` (grey) or ``(height, width, 3)`` (RGB).

    Examples
    --------
    >>> from skmer.predict import model_frame_shape
    >>> model_frame_shape(None, {"frame_shape": [64, 64]})
    (64, 64)
    """
    if metadata and metadata.get("frame_shape") is not None:
        return tuple(int(v) for v in metadata["frame_shape"])
    steps = [s for _, s in getattr(model, "steps", [])] or [model]
    for step in steps:
        shape = getattr(step, "frame_shape_", None)
        if shape is not None:
            return tuple(int(v) for v in shape)
    return None


def model_warnings(metadata: dict | None) -> list[str]:
    """Warnings about a saved model, read from its metadata.

    Parameters
    ----------
    metadata : dict or None
        The metadata saved with the model (:func:`skmer.io.model_info`).

    Returns
    -------
    warnings : list of str
        Today one possible warning: the model was trained on synthetic data
        (metadata ``synthetic=True``, or a ``trained_on`` that starts with
        "synthetic", as ``skmer train`` without ``--flow-images`` writes).

    Examples
    --------
    >>> from skmer.predict import model_warnings
    >>> model_warnings({"trained_on": "synthetic (60 clips, seed 0)"})[0][:40]
    'the model was trained on synthetic faces'
    >>> model_warnings({"trained_on": "flow images megc2019", "synthetic": False})
    []
    """
    metadata = metadata or {}
    trained_on = str(metadata.get("trained_on", ""))
    synthetic = metadata.get("synthetic")
    if synthetic is None:
        synthetic = trained_on.lower().startswith("synthetic")
    if not synthetic:
        return []
    what = trained_on or "no details saved"
    return [f"the model was trained on synthetic faces ({what}), not on real "
            "micro-expressions: its answer on a real face is a demonstration, not a "
            "recognition (train one on real flow images: skmer train --flow-images "
            "DIR)"]


def head_motion(flow: np.ndarray) -> tuple[float, float]:
    """Split a flow field into its rigid (affine) part and the rest.

    A head that turns, nods or moves moves the whole face crop nearly as one
    affine map; a facial movement is local.  The affine map is the least-squares
    fit of the flow over the whole field
    (:func:`~skmer.preprocessing.affine_flow`).

    Parameters
    ----------
    flow : ndarray of shape (height, width, 2)
        Flow ``(u, v)`` in pixels, e.g. onset -> apex on the face crop.

    Returns
    -------
    rigid : float
        Mean length (pixels) of the affine part's displacement.
    local : float
        Mean length (pixels) of what the affine part leaves (the facial movement
        and the flow's noise).

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.predict import head_motion
    >>> flow = np.zeros((16, 16, 2)); flow[..., 0] = 2.0  # all moves 2 px right
    >>> [round(v, 6) for v in head_motion(flow)]
    [2.0, 0.0]
    """
    from skmer.preprocessing import affine_flow

    flow = np.asarray(flow, dtype=np.float64)
    rigid = affine_flow(flow)
    rest = flow - rigid
    return (float(np.hypot(rigid[..., 0], rigid[..., 1]).mean()),
            float(np.hypot(rest[..., 0], rest[..., 1]).mean()))


# A blink at the apex: the eye aspect ratio there below 0.2 (Soukupova and Cech's
# closed-eye threshold) and below 60 % of the onset's (on the shared talking-face
# videos a smile narrows the eyes from 0.33 to 0.31, a blink closes them from 0.31
# to 0.12: benchmarks/predict_real_videos.py).
BLINK_EAR = 0.2
BLINK_DROP = 0.6


def eye_aspect_ratio(landmarks: np.ndarray) -> float:
    """Eye aspect ratio (EAR) of a face: how open its eyes are.

    For each eye, with its six dlib points ``p1..p6`` (36-41 and 42-47),
    ``EAR = (|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|)`` (Soukupova and Cech
    [1]_); the mean of the two eyes is returned.  About 0.3 for open eyes, under
    0.2 for closed ones; it does not depend on the face's size.

    Parameters
    ----------
    landmarks : ndarray of shape (68, 2)
        dlib's 68 points ``(x, y)``.

    Returns
    -------
    ear : float
        The mean eye aspect ratio of the two eyes.

    References
    ----------
    .. [1] T. Soukupova and J. Cech, "Real-time eye blink detection using facial
       landmarks", 21st Computer Vision Winter Workshop (CVWW), 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.predict import eye_aspect_ratio
    >>> eye = np.array([[0, 0], [1, -1], [2, -1], [3, 0], [2, 1], [1, 1]], float)
    >>> lm = np.zeros((68, 2)); lm[36:42] = eye; lm[42:48] = eye + [10, 0]
    >>> round(eye_aspect_ratio(lm), 4)   # (2 + 2) / (2 * 3)
    0.6667
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2):
        raise ValueError(f"landmarks must have shape (68, 2); got {lm.shape}.")
    out = []
    for a in (36, 42):
        p = lm[a:a + 6]
        width = np.linalg.norm(p[0] - p[3])
        out.append((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4]))
                   / (2.0 * width) if width > 0 else np.nan)
    return float(np.mean(out))


@dataclass
class VideoPrediction:
    """What :func:`predict_video` found in one video (or one spotted interval).

    Attributes
    ----------
    source : str
        The video file or frame folder.
    label : object
        The predicted class.
    classes : ndarray or None
        The classes, in the order of ``proba`` (None if the model has none).
    proba : ndarray or None
        Class probabilities (None if the model has no ``predict_proba``).
    onset, apex, offset : int
        Frame indices in the video: the reference (neutral) frame, the apex, the
        end of the apex search (or of the spotted interval).
    n_frames : int
        Frames of the whole video.
    fps : float or None
        Frame rate (None when unknown, e.g. a folder of frames).
    onset_frame, apex_frame : ndarray
        The face crops of the onset and apex frames.
    flow : ndarray of shape (height, width, 2)
        TV-L1 optical flow from the onset crop to the apex crop (for display).
    spot_scores : ndarray
        Apex-spotting scores of the frames ``onset..offset`` (empty when the apex
        was given).
    model_input : Clip
        The two-frame clip given to the model.
    apex_given : bool
        The apex was given by the user (not spotted).
    head_motion : float
        Rigid part of ``flow``, in crop pixels (:func:`head_motion`).
    local_motion : float
        What the rigid part leaves, in crop pixels.
    kind : str or None
        ``"micro"`` or ``"macro"`` for a spotted interval (None for one clip).
    score : float or None
        The spotter's score of a spotted interval.
    snr : float or None
        ``score`` over the video's noise level (the median of the spotter's
        per-frame score), for a spotted interval whose spotter reports one.
    compensated : bool
        The apex frame was registered to the onset frame (head motion removed)
        before the model and ``flow`` saw them: asked for, the head moved (a rigid
        part of 0.25 px or more in the crop) and registration reduced it.
    head_motion_removed : float or None
        With ``compensated``, the rigid part of the flow of the frames as they
        were, crop pixels: the head motion registration removed (``head_motion``
        is what it left).
    eye_openness : tuple of (float, float) or None
        :func:`eye_aspect_ratio` at the onset and at the apex (None where dlib
        placed no landmarks).
    warnings : list of str
        What the user must know to read the answer (a synthetic-data model, head
        motion, a blink, a variable frame rate).
    trained_on : str or None
        The model's training data, as saved with it.
    """

    source: str
    label: Any
    classes: np.ndarray | None
    proba: np.ndarray | None
    onset: int
    apex: int
    offset: int
    n_frames: int
    fps: float | None
    onset_frame: np.ndarray = field(repr=False)
    apex_frame: np.ndarray = field(repr=False)
    flow: np.ndarray = field(repr=False)
    spot_scores: np.ndarray = field(repr=False)
    model_input: Any = field(repr=False)
    apex_given: bool = False
    head_motion: float = 0.0
    local_motion: float = 0.0
    kind: str | None = None
    score: float | None = None
    warnings: list = field(default_factory=list)
    trained_on: str | None = None
    snr: float | None = None
    compensated: bool = False
    head_motion_removed: float | None = None
    eye_openness: tuple | None = None

    @property
    def is_blink(self) -> bool:
        """The eyes close between onset and apex (the movement may be a blink).

        The eye aspect ratio at the apex is below 0.2 and below 60 % of the
        onset's.  The corpora (CASME II, SAMM) do not code blinks as
        micro-expressions, so a model trained on them has not seen one.
        """
        if self.eye_openness is None:
            return False
        before, after = self.eye_openness
        return bool(after < BLINK_EAR and after < BLINK_DROP * before)

    @property
    def is_head_motion(self) -> bool:
        """The onset -> apex motion the model saw is mostly rigid head motion.

        With ``compensated``, what registration left (e.g. a head turned out of
        the image plane, which a similarity map cannot undo).
        """
        return (self.head_motion >= HEAD_MOTION_PX
                and self.head_motion > self.local_motion)

    def probabilities(self) -> dict | None:
        """``{class: probability}`` or None."""
        if self.proba is None or self.classes is None:
            return None
        return {_plain(c): float(p) for c, p in zip(self.classes, self.proba)}

    def times(self) -> dict | None:
        """``{"onset": s, "apex": s, "offset": s}`` (None without fps)."""
        if not self.fps:
            return None
        return {k: round(getattr(self, k) / self.fps, 4)
                for k in ("onset", "apex", "offset")}

    def to_dict(self) -> dict:
        """JSON-able summary."""
        out = {"source": self.source, "label": _plain(self.label),
               "probabilities": self.probabilities(), "onset": self.onset,
               "apex": self.apex, "offset": self.offset,
               "apex_given": self.apex_given, "times_s": self.times(),
               "n_frames": self.n_frames, "fps": self.fps,
               "head_motion_px": round(self.head_motion, 3),
               "local_motion_px": round(self.local_motion, 3),
               "head_motion": bool(self.is_head_motion),
               "compensated": bool(self.compensated),
               "head_motion_removed_px": (None if self.head_motion_removed is None
                                          else round(self.head_motion_removed, 3)),
               "eye_aspect_ratio": (None if self.eye_openness is None else
                                    [round(v, 3) for v in self.eye_openness]),
               "blink": self.is_blink}
        if self.kind is not None:
            out["kind"] = self.kind
            out["score"] = self.score
            out["snr"] = None if self.snr is None else round(self.snr, 3)
        out["warnings"] = list(self.warnings)
        out["trained_on"] = self.trained_on
        out["synthetic_model"] = any("synthetic" in w for w in self.warnings)
        return out


@dataclass
class LongVideoPrediction:
    """What :func:`predict_long_video` found in a long video.

    Attributes
    ----------
    source : str
        The video file or frame folder.
    n_frames : int
        Frames of the video.
    fps : float
        Frame rate.
    intervals : list of VideoPrediction
        One per spotted interval, in time order, each with ``kind``, ``score``,
        the head-motion measure, the predicted class and probabilities.
    scores : ndarray of shape (n_frames,)
        The spotter's motion score of every frame (its contrasted score, the one
        it thresholds; NaN on frames after the face was lost).
    analysed : tuple of (int, int)
        First and last frame the spotter saw (the face is followed on them).
    face_lost_at : int or None
        First checked frame without a face (frames from there on are not
        analysed), None when the face stays.
    classes : ndarray or None
        The model's classes.
    warnings : list of str
        What the user must know to read the answer.
    trained_on : str or None
        The model's training data, as saved with it.
    spotter : str
        The spotter, as its repr.
    threshold : float or None
        The spotter's threshold on ``scores`` (None when it gives none).
    noise : float or None
        The spotter's noise level of the video (the median of its per-frame
        score; None when it gives none): an interval's ``snr`` is its score over
        this.
    frame_times : ndarray of shape (n_frames,) or None
        Time of every frame in seconds from the first, from the file's
        timestamps, for a video with a variable frame rate (None otherwise:
        frame ``i`` is at ``i / fps``).  ``fps`` is then the rate measured over
        the analysed frames.
    """

    source: str
    n_frames: int
    fps: float
    intervals: list
    scores: np.ndarray = field(repr=False)
    analysed: tuple
    face_lost_at: int | None
    classes: np.ndarray | None
    warnings: list = field(default_factory=list)
    trained_on: str | None = None
    spotter: str = ""
    threshold: float | None = None
    noise: float | None = None
    frame_times: np.ndarray | None = field(default=None, repr=False)

    @property
    def duration(self) -> float:
        """Length of the video in seconds (from its timestamps when it has them)."""
        if self.frame_times is not None and len(self.frame_times) > 1:
            t = np.asarray(self.frame_times, dtype=float)
            return float(t[-1] - t[0] + np.median(np.diff(t)))
        return self.n_frames / self.fps

    def frame_time(self, frame: int) -> float:
        """Time in seconds of frame ``frame`` (``n_frames``: the end of the video)."""
        if self.frame_times is None:
            return frame / self.fps
        if frame >= self.n_frames:
            return self.duration
        return float(self.frame_times[frame] - self.frame_times[0])

    def to_dict(self) -> dict:
        """JSON-able summary."""
        return {"source": self.source, "mode": "long video",
                "n_frames": self.n_frames, "fps": self.fps,
                "duration_s": round(self.duration, 3),
                "variable_frame_rate": self.frame_times is not None,
                "analysed_frames": list(self.analysed),
                "face_lost_at": self.face_lost_at, "spotter": self.spotter,
                "threshold": self.threshold, "noise": self.noise,
                "n_intervals": len(self.intervals),
                "intervals": [iv.to_dict() for iv in self.intervals],
                "warnings": list(self.warnings), "trained_on": self.trained_on,
                "synthetic_model": any("synthetic" in w for w in self.warnings)}


# --------------------------------------------------------------------------------------
# shared steps
# --------------------------------------------------------------------------------------
def _frame_shape(model, frame_shape, metadata):
    shape = tuple(frame_shape) if frame_shape is not None \
        else model_frame_shape(model, metadata)
    if shape is None:
        raise ValueError(
            "Cannot tell the face-crop size the model expects (no 'frame_shape' "
            "metadata and no pipeline step with frame_shape_); pass it "
            "(skmer predict --face-size).")
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] != 3) \
            or min(shape[:2]) < 8:
        raise ValueError(f"frame_shape must be (height, width) or (height, width, 3) "
                         f"with sides >= 8; got {shape}.")
    return shape


def _read_video(source, color, fps):
    """``(source, frames, fps, times)``: ``times`` (ms) only for a variable rate."""
    from skmer.datasets import read_frames

    user_fps = fps is not None

    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"Video {str(source)!r} does not exist.")
    times = None
    if source.is_file():
        # the frames' timestamps come with the decoding (a variable frame rate)
        frames, times = read_video_times(source, color=color)
    else:
        frames = read_frames(source, color=color)
    n = len(frames)
    if fps is not None:
        if isinstance(fps, bool) or not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number; got {fps!r}.")
        fps = float(fps)
    elif source.is_file():
        fps = video_fps(source)
    if n < 2:
        raise ValueError(f"Video {str(source)!r} has {n} frame; at least 2 (onset "
                         "and apex) are needed.")
    if fps is not None and n / fps < MIN_DURATION:
        raise ValueError(
            f"Video {str(source)!r} lasts {n / fps:.3f} s ({n} frames at {fps:g} "
            f"fps), shorter than a micro-expression (the shortest last about "
            f"{MIN_DURATION:g} s): it cannot hold one. Give a longer video (or the "
            "right frame rate, --fps).")
    if user_fps or fps is None or times is None or not _variable_rate(times):
        times = None
    return source, frames, fps, times


# Frame intervals that differ by more than this fraction of their median make a
# variable frame rate (a constant-rate file's differ by rounding only).
VFR_TOLERANCE = 0.05


def _variable_rate(times):
    """Whether the frame timestamps ``times`` (ms) are not evenly spaced."""
    d = np.diff(np.asarray(times, dtype=np.float64))
    return bool((d.max() - d.min()) > VFR_TOLERANCE * np.median(d))


def _measured_rate(source, times, first, last, nominal):
    """Frame rate of frames ``first..last`` from their timestamps, and a warning.

    For a file with a variable frame rate, whose header rate (``nominal``) is
    right nowhere; the warning names the intervals seen and the rate used.
    """
    d = np.diff(times)
    span = (times[last] - times[first]) / 1000.0
    rate = (last - first) / span if last > first and span > 0 else float(nominal)
    return rate, (
        f"{Path(source).name} has a variable frame rate: its frames are "
        f"{d.min():.1f} to {d.max():.1f} ms apart (the file's header says "
        f"{nominal:g} fps); frames {first}..{last} span {span:.2f} s, so skmer "
        f"uses {rate:.4g} fps for them, and times and durations are approximate "
        "where the rate changes inside them. Re-encode at a constant rate for exact "
        "times (e.g. ffmpeg -i IN -vf fps=30 OUT.mp4), or give --fps")


def _cropper(shape, color, upsample, metadata, reference="onset"):
    from skmer.preprocessing import FaceCropper

    crop = dict(((metadata or {}).get("preprocessing") or {}).get("face_crop") or {})
    params = {k: crop[k] for k in ("eye_distance", "margin", "interpolation")
              if k in crop}
    return FaceCropper(output_size=shape[:2], color=color, reference=reference,
                       upsample=upsample, on_missing="raise", **params)


def _no_face(source, frame, upsample, fps=None):
    when = f" ({frame / fps:.2f} s)" if fps else ""
    hint = ("try --upsample 1 for a small face" if upsample < 1 else
            f"upsampling ({upsample}) did not help either: the face may be too "
            "small, turned away or absent")
    return NoFaceError(
        f"no face found in {str(source)!r} on frame {frame}{when} (dlib HOG "
        f"detector, upsample={upsample}). skmer predict needs a frontal face on "
        f"the onset frame: choose another onset frame (--onset), or {hint}.")


def _face_lost(frames, start, stop, fps, upsample, extra=()):
    """First frame of ``[start, stop]`` without a face, or None.

    Detection runs about five times a second of video (every 5th frame when the
    rate is unknown), plus on the frames ``extra``; after a miss, the frames since
    the last detected face are checked one by one for the first without one.
    """
    from skmer.preprocessing import detect_face

    step = max(1, int(round(fps / 5.0))) if fps else 5
    checked = sorted(set(range(start, stop + 1, step)) | {stop}
                     | {int(i) for i in extra})
    previous = start
    for i in checked:
        if detect_face(frames[i], upsample=upsample) is None:
            # the first frame without a face since the last one seen with it
            for j in range(previous + 1, i):
                if detect_face(frames[j], upsample=upsample) is None:
                    return j
            return i
        previous = i
    return None


def _classify(model, pair):
    from skmer.datasets import ClipSequence

    X = ClipSequence([pair])
    label = np.asarray(model.predict(X))[0]
    proba = classes = None
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X), dtype=float)[0]
        classes = getattr(model, "classes_", None)
        classes = None if classes is None else np.asarray(classes)
    return label, proba, classes


def _crop_pair(frames, shape, color, upsample, metadata, name, fallback=None):
    """Face crops of a two-frame clip, located on its first frame.

    Where dlib finds no face on that frame (a turned head), the ``fallback``
    landmarks (in the frames' coordinates) locate it, when given.
    """
    from skmer.datasets import Clip

    cropper = _cropper(shape, color, upsample, metadata)
    try:
        crop = cropper.fit_transform([Clip(frames, onset=0, apex=1, id=name)])[0]
    except ValueError as exc:
        if fallback is None or "no face found" not in str(exc):
            raise
        logger.warning("%s: no face on the reference frame of a pair; located with "
                       "the video's first face", name)
        crop = cropper.fit_transform(
            [Clip(frames, onset=0, apex=1, id=name, landmarks=fallback)])[0]
    return Clip(crop.frames, onset=0, apex=1, landmarks=crop.landmarks, id=name)


# Head motion below this (rigid part of the onset -> apex flow, pixels of the face
# crop) is left alone: it is within the flow's noise on still faces (0.02-0.13 px
# on evm_face and the CASME II clip), and registration adds its own error there
# (0.01-0.18 px shifts measured on those pairs: benchmarks/predict_real_videos.py).
REGISTER_FROM_PX = 0.25


def _analyse_pair(model, frames, ref, apex, *, shape, color, upsample, metadata,
                  compensate, name, fallback=None):
    """Register, crop, classify and measure the ``(ref, apex)`` pair of frames.

    The crops are located on the reference frame.  With ``compensate``, when the
    rigid part of the pair's flow is ``REGISTER_FROM_PX`` or more, the apex frame
    is registered to the reference frame on stable landmarks, and the registered
    pair is kept when it has less rigid motion than the frames as they were.
    ``fallback``: landmarks that locate the face where dlib finds none on the
    reference frame.
    """
    from skmer.preprocessing import face_landmarks, optical_flow, register_frames

    raw = frames[[ref, apex]]
    pair = _crop_pair(raw, shape, color, upsample, metadata, name, fallback)
    flow = optical_flow(pair.frames[0], pair.frames[1], method="tvl1")
    rigid, local = head_motion(flow)
    marks = None
    removed = None
    if compensate and rigid >= REGISTER_FROM_PX:
        reg = register_frames(raw, reference=0, smooth=0.0, on_missing="interpolate",
                              upsample=upsample, where=f"{name} frames {ref}, {apex}")
        marks = [m if ok else None for m, ok in zip(reg.landmarks, reg.found)]
        moved = _crop_pair(reg.frames, shape, color, upsample, metadata, name,
                           fallback)
        moved_flow = optical_flow(moved.frames[0], moved.frames[1], method="tvl1")
        moved_rigid, moved_local = head_motion(moved_flow)
        if moved_rigid < rigid:
            removed = rigid
            pair, flow, rigid, local = moved, moved_flow, moved_rigid, moved_local
    if marks is None:
        marks = [face_landmarks(np.ascontiguousarray(f), upsample=upsample)
                 for f in raw]
    eyes = (None if any(m is None for m in marks)
            else tuple(eye_aspect_ratio(m) for m in marks))
    label, proba, classes = _classify(model, pair)
    return dict(label=label, proba=proba, classes=classes, model_input=pair,
                onset_frame=pair.frames[0], apex_frame=pair.frames[1], flow=flow,
                head_motion=rigid, local_motion=local,
                compensated=removed is not None, head_motion_removed=removed,
                eye_openness=eyes)


def _blink_warning(res):
    if not res.is_blink:
        return None
    where = (f"frame {res.apex}" if res.kind is None
             else f"the apex of the interval at frame {res.apex}")
    before, after = res.eye_openness
    return (f"the eyes close at {where} (eye aspect ratio {before:.2f} -> "
            f"{after:.2f}): the movement may be a blink, which the micro-expression "
            "corpora do not code; the model has not seen one")


def _head_warning(res):
    if not res.is_head_motion:
        return None
    where = (f"frames {res.onset}->{res.apex}" if res.kind is None
             else f"the interval at frame {res.apex}")
    return (f"the motion of {where} is mostly head motion ({res.head_motion:.1f} px "
            f"rigid vs {res.local_motion:.1f} px local in the face crop): the "
            "answer describes the head moving, not a facial movement")


# --------------------------------------------------------------------------------------
# one clip
# --------------------------------------------------------------------------------------
def predict_video(model: Any, source: str | os.PathLike, *,
                  frame_shape: tuple[int, ...] | None = None,
                  onset: int | None = None, apex: int | None = None,
                  offset: int | None = None, spotter: str = "flow",
                  upsample: int = 0, fps: float | None = None,
                  metadata: dict | None = None,
                  compensate: bool = True) -> VideoPrediction:
    """Crop the face, spot the apex and classify the micro-expression of a video.

    Parameters
    ----------
    model : estimator
        A fitted model following the contract of this module (a sequence of
        ``[onset, apex]`` face-crop clips in, labels out).
    source : str or path-like
        A video file OpenCV decodes (mp4, avi, mov, ...) or a folder of frames.
    frame_shape : tuple of int, default=None
        Face-crop size ``(height, width)`` (or ``(height, width, 3)`` for RGB);
        default :func:`model_frame_shape`.
    onset : int, default=None
        The neutral reference frame, on which the face is located (default 0).
    apex : int, default=None
        The apex frame; None spots it between ``onset`` and ``offset``.
    offset : int, default=None
        Last frame of the apex search (default the last frame).
    spotter : {"flow", "diff"}, default="flow"
        Apex spotting score, see :func:`~skmer.preprocessing.spot_apex` (flow
        relative to the nose; ``"diff"``: the frame difference, skmer < 0.2).
    upsample : int, default=0
        dlib detector upsampling (1 finds smaller faces, slower).
    fps : float, default=None
        Frame rate; default the video file's (unknown for a folder of frames).
    metadata : dict, default=None
        Metadata saved with the model: its ``frame_shape``, the face-crop
        parameters of its ``preprocessing`` and its training data (for the
        warnings).
    compensate : bool, default=True
        Register the apex frame to the reference frame on stable landmarks
        before the model sees them (:func:`~skmer.preprocessing.register_frames`:
        similarity on the nose ridge and eye corners, ECC refinement; a frame
        where dlib finds no face is left as it is), so that rigid head motion is
        not read as an expression.  Only where the head moved (a rigid part of
        the flow of 0.25 px or more in the face crop; below, registration adds
        more error than it removes) and only if it reduces the rigid part; the
        head motion it removed is reported (``compensated``,
        ``head_motion_removed``).

    Returns
    -------
    result : VideoPrediction

    Raises
    ------
    NoFaceError
        No face on the onset frame, or the face is lost between onset and apex.
    ValueError
        Unreadable or corrupt video, a video shorter than a micro-expression, bad
        indices, a model that gives no frame shape and none given.
    FileNotFoundError
        No such video.
    """
    from skmer.datasets import Clip
    from skmer.preprocessing import spot_apex

    shape = _frame_shape(model, frame_shape, metadata)
    color = "rgb" if len(shape) == 3 else "grey"
    source, frames, fps, times = _read_video(source, color, fps)
    n = len(frames)
    # negative indices count from the video's last frame, as in Python
    onset = (0 if onset is None
             else _check_index(onset, "onset", n, allow_negative=True))
    offset = (n - 1 if offset is None
              else _check_index(offset, "offset", n, allow_negative=True))
    if offset <= onset:
        raise ValueError(f"offset ({offset}) must come after onset ({onset}).")
    if apex is not None:
        apex = _check_index(apex, "apex", n, allow_negative=True)
        if not onset < apex <= offset:
            raise ValueError(f"apex ({apex}) must come after onset ({onset}) and "
                             f"not after offset ({offset}).")
    clip = Clip(frames, onset=onset, offset=offset, fps=fps, id=source.name)
    logger.info("%s: %d frames of %s; locating the face on frame %d", source, n,
                frames.shape[1:], onset)
    try:
        cropped = _cropper(shape, color, upsample, metadata).fit_transform([clip])
    except ValueError as exc:
        if "no face found" not in str(exc):
            raise
        raise _no_face(source, onset, upsample, fps) from None
    crop = cropped[0]
    if apex is None:
        apex, scores = spot_apex(crop.frames, onset=onset, offset=offset,
                                 landmarks=crop.landmarks, method=spotter,
                                 return_scores=True)
        apex = int(apex)
        logger.info("apex spotted at frame %d (onset %d, offset %d)", apex, onset,
                    offset)
    else:
        scores = np.zeros(0)
    # one transform, located on the onset frame, crops every frame: a face that
    # leaves the picture would silently give a crop of the background
    lost = _face_lost(frames, onset, apex, fps, upsample, extra=(apex,))
    if lost is not None:
        when = f" ({lost / fps:.2f} s)" if fps else ""
        raise NoFaceError(
            f"the face is lost in {str(source)!r}: found on the onset frame "
            f"{onset}, but not on frame {lost}{when}, before or at the apex "
            f"({apex}). Give an apex and offset before the face leaves "
            f"(--apex/--offset < {lost}), or cut the video.")

    warnings = model_warnings(metadata)
    if times is not None:
        fps, warning = _measured_rate(source, times, onset, offset, fps)
        warnings.append(warning)
    res = VideoPrediction(
        source=str(source), onset=onset, apex=apex, offset=offset, n_frames=n,
        fps=fps, spot_scores=scores, apex_given=not scores.size,
        warnings=warnings,
        trained_on=(metadata or {}).get("trained_on"),
        **_analyse_pair(model, frames, onset, apex, shape=shape, color=color,
                        upsample=upsample, metadata=metadata,
                        compensate=compensate, name=source.name))
    res.warnings += [w for w in (_head_warning(res), _blink_warning(res)) if w]
    return res


# --------------------------------------------------------------------------------------
# a long video
# --------------------------------------------------------------------------------------
# The default spotter's noise floor: a movement must reach 1.5 times the video's
# noise level (the median MDMD score).  Chosen on evm_face (its highest peak, with
# nothing injected, reaches 1.32 times it) and measured in benchmarks/spotting.py
# (row "flow, 1.5 x noise").
MIN_SNR = 1.5


def _default_spotter():
    from skmer.spotting import MicroExpressionSpotter

    return MicroExpressionSpotter(min_snr=MIN_SNR)


def _run_spotter(spotter, frames, fps):
    """``(intervals, scores, threshold, noise)`` of the spotter on the frames."""
    noise = None
    if hasattr(spotter, "spot"):
        intervals, out = spotter.spot(frames, fps=fps, return_scores=True)
        # the contrasted score is what the spotter thresholds into intervals
        scores = out.get("contrast", out.get("score")) if hasattr(out, "get") \
            else out
        threshold = out.get("threshold") if hasattr(out, "get") else None
        noise = out.get("noise") if hasattr(out, "get") else None
    else:  # a plain callable: (frames, fps) -> (intervals, scores)
        intervals, scores = spotter(frames, fps)
        threshold = None
    scores = np.asarray(scores, dtype=float)
    if scores.shape != (len(frames),):
        raise ValueError(f"the spotter gave {scores.shape} scores for a video of "
                         f"{len(frames)} frames.")
    threshold = None if threshold is None else float(threshold)
    noise = None if noise is None else float(noise)
    return sorted(intervals, key=lambda iv: iv.onset), scores, threshold, noise


def predict_long_video(model: Any, source: str | os.PathLike, *,
                       spotter: Any = None, fps: float | None = None,
                       frame_shape: tuple[int, ...] | None = None,
                       upsample: int = 0,
                       metadata: dict | None = None,
                       compensate: bool = True) -> LongVideoPrediction:
    """Spot the movements of a long video and classify each of them.

    The face is located on the first frame and followed (a detection about five
    times a second); from the first frame where it is missing on, nothing is
    analysed (a warning says where).  Every frame until then is cropped with the
    transform located on the first frame, the spotter finds the intervals of
    facial movement on the crops, and the ``[onset, apex]`` pair of every interval
    goes to the model.

    Parameters
    ----------
    model : estimator
        A fitted model following the contract of this module.
    source : str or path-like
        A video file OpenCV decodes or a folder of frames.
    spotter : object, default=None
        The spotter: an object with ``spot(frames, fps=, return_scores=True)``
        returning ``(intervals, scores)`` (intervals with ``onset``, ``apex``,
        ``offset``, ``score`` and ``kind``; scores a mapping with the per-frame
        ``"contrast"`` or ``"score"`` and the ``"threshold"``), such as
        :class:`skmer.spotting.MicroExpressionSpotter` (the default:
        ``MicroExpressionSpotter(min_snr=1.5)``, peaks of at least 1.5 times the
        video's noise level; it crops the face itself), or a callable
        ``(frames, fps) -> (intervals, scores)`` with one score per frame.
    fps : float, default=None
        Frame rate; default the video file's.  Required for a folder of frames:
        the spotting window and the micro/macro rule are in seconds.
    frame_shape : tuple of int, default=None
        Face-crop size; default :func:`model_frame_shape`.
    upsample : int, default=0
        dlib detector upsampling.
    metadata : dict, default=None
        Metadata saved with the model.
    compensate : bool, default=True
        Register each interval's apex frame to its reference frame where the
        head moved, as :func:`predict_video` does.

    Returns
    -------
    result : LongVideoPrediction

    Raises
    ------
    NoFaceError
        No face on the first frame.
    ValueError
        Unknown frame rate, unreadable or corrupt video, a video shorter than a
        micro-expression, a face followed on too few frames to spot anything.
    FileNotFoundError
        No such video.
    """
    from skmer.preprocessing import face_landmarks

    shape = _frame_shape(model, frame_shape, metadata)
    color = "rgb" if len(shape) == 3 else "grey"
    source, frames, fps, times = _read_video(source, color, fps)
    if fps is None:
        raise ValueError(
            f"The frame rate of {str(source)!r} is unknown (a folder of frames, or a "
            "video file without one): spotting needs it, as a micro-expression is "
            "defined by its duration. Give it (skmer predict --fps 30), or give "
            "--onset to predict one clip.")
    n = len(frames)
    # the face on the first frame (each interval's pair is cropped on its own
    # reference frame; these landmarks locate it where dlib finds none there)
    first = face_landmarks(np.ascontiguousarray(frames[0]), upsample=upsample)
    if first is None:
        raise _no_face(source, 0, upsample, fps)
    lost = _face_lost(frames, 0, n - 1, fps, upsample)
    warnings = model_warnings(metadata)
    stop = n - 1 if lost is None else lost - 1
    if lost is not None:
        when = lost / fps if times is None else (times[lost] - times[0]) / 1000.0
        warnings.append(
            f"the face is lost at frame {lost} ({when:.2f} s): frames {lost}.."
            f"{n - 1} are not analysed")
    if times is not None:
        # the spotting window and the micro/macro rule need the analysed frames'
        # own rate
        fps, warning = _measured_rate(source, times, 0, stop, fps)
        warnings.append(warning)
    spotter = _default_spotter() if spotter is None else spotter
    try:
        # the spotter crops the face itself (at the scale it needs)
        intervals, part, threshold, noise = _run_spotter(spotter,
                                                         frames[:stop + 1], fps)
    except ValueError as exc:
        if lost is None:
            raise
        raise ValueError(
            f"the face of {str(source)!r} is followed on frames 0..{stop} only (lost "
            f"at frame {lost}, {lost / fps:.2f} s): too short to spot in ({exc})"
        ) from None
    scores = np.full(n, np.nan)
    scores[:stop + 1] = part

    results = []
    for iv in intervals:
        onset, apex, offset = int(iv.onset), int(iv.apex), int(iv.offset)
        # the model's reference frame: the interval's onset, or the frame before a
        # movement that peaks on its first frame
        ref = onset if onset < apex else max(0, apex - 1)
        if ref == apex:
            ref = min(apex + 1, stop)
        res = VideoPrediction(
            source=str(source), onset=onset, apex=apex, offset=offset, n_frames=n,
            fps=fps, spot_scores=part[onset:offset + 1], kind=str(iv.kind),
            score=float(iv.score),
            snr=(float(iv.score) / noise if noise else None),
            trained_on=(metadata or {}).get("trained_on"),
            **_analyse_pair(model, frames, ref, apex, shape=shape, color=color,
                            upsample=upsample, metadata=metadata,
                            compensate=compensate, name=source.name,
                            fallback=first))
        res.warnings += [w for w in (_head_warning(res), _blink_warning(res)) if w]
        results.append(res)
    classes = getattr(model, "classes_", None)
    return LongVideoPrediction(
        source=str(source), n_frames=n, fps=fps, intervals=results, scores=scores,
        analysed=(0, stop), face_lost_at=lost, threshold=threshold, noise=noise,
        frame_times=None if times is None else (times - times[0]) / 1000.0,
        classes=None if classes is None else np.asarray(classes),
        warnings=warnings, trained_on=(metadata or {}).get("trained_on"),
        spotter=repr(spotter))
