"""Recognise the micro-expression of a user's own video with a saved model.

The split of work between ``skmer predict`` and the saved model:

1. **skmer predict** reads the video (a file OpenCV decodes, or a folder of
   frames), aligns and crops the face of every frame with one transform located on
   the onset frame (:class:`~skmer.preprocessing.FaceCropper`), spots the apex
   between onset and offset (:class:`~skmer.preprocessing.KeyframeSelector` with
   ``apex="spotted"``) and keeps the two frames ``[onset, apex]``;
2. **the model** gets that two-frame clip and does everything else (optical flow,
   features, classifier).

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
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skmer._core._clip import video_fps
from skmer._core._utils import _plain
from skmer._core._validation import _check_index

__all__ = [
    "NoFaceError",
    "VideoPrediction",
    "flatten_samples",
    "make_predict_pipeline",
    "model_frame_shape",
    "predict_video",
]

logger = logging.getLogger(__name__)



class NoFaceError(ValueError):
    """No face was found in the video (on the frame the face is located on)."""


def flatten_samples(X: Any) -> np.ndarray:
    """Reshape an array of samples ``(n, ...)`` to ``(n, n_features)``.

    For ``FunctionTransformer(flatten_samples)`` between flow images and a 2-D
    estimator (a lambda would not pickle).

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.predict import flatten_samples
    >>> flatten_samples(np.zeros((4, 3, 2, 2))).shape
    (4, 12)
    """
    X = np.asarray(X)
    return X.reshape(len(X), -1)


def _flow_extractor(output_size=(28, 28)):
    from skmer.preprocessing import FlowExtractor

    # the STSTNet / MEGC2019 composite format: TV-L1 onset->apex (u, v, strain),
    # resized to 28x28, every channel min-max scaled to [0, 1]
    return FlowExtractor(method="tvl1", mode="onset-apex", strain=True,
                         output_size=tuple(output_size), scale="minmax")


def _svm_classifier(random_state=None):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.svm import SVC

    # Platt-scaled probabilities (SVC(probability=True) is deprecated)
    svc = SVC(C=10.0, class_weight="balanced", random_state=random_state)
    return Pipeline([
        ("flatten", FunctionTransformer(flatten_samples)),
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
        apex, u, v, strain, min-max scaled) then ``clf``.  Fit it on clips with
        onset/apex metadata (whole clips or ``[onset, apex]`` pairs) of face crops
        of the size prediction will use.

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


@dataclass
class VideoPrediction:
    """What :func:`predict_video` found in one video.

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
        Frame indices in the video: the reference (neutral) frame, the spotted
        apex, the end of the spotting window.
    n_frames : int
    fps : float or None
    onset_frame, apex_frame : ndarray
        The face crops of the onset and apex frames.
    flow : ndarray of shape (height, width, 2)
        TV-L1 optical flow from the onset crop to the apex crop (for display).
    spot_scores : ndarray
        Apex-spotting scores of the frames ``onset..offset``.
    model_input : Clip
        The two-frame clip given to the model.
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

    def probabilities(self) -> dict | None:
        """``{class: probability}`` or None."""
        if self.proba is None or self.classes is None:
            return None
        return {_plain(c): float(p) for c, p in zip(self.classes, self.proba)}

    def to_dict(self) -> dict:
        """JSON-able summary."""
        return {"source": self.source, "label": _plain(self.label),
                "probabilities": self.probabilities(), "onset": self.onset,
                "apex": self.apex, "offset": self.offset,
                "n_frames": self.n_frames, "fps": self.fps}


def predict_video(model: Any, source: str | os.PathLike, *,
                  frame_shape: tuple[int, ...] | None = None,
                  onset: int | None = None, offset: int | None = None,
                  spotter: str = "diff", upsample: int = 0,
                  metadata: dict | None = None) -> VideoPrediction:
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
    offset : int, default=None
        Last frame of the apex search (default the last frame).
    spotter : {"diff", "flow"}, default="diff"
        Apex spotting score, see :func:`~skmer.preprocessing.spot_apex`.
    upsample : int, default=0
        dlib detector upsampling (1 finds smaller faces, slower).
    metadata : dict, default=None
        Metadata saved with the model (for its ``frame_shape``).

    Returns
    -------
    result : VideoPrediction

    Raises
    ------
    NoFaceError
        No face on the onset frame.
    ValueError
        Unreadable video, bad indices, a model that gives no frame shape and none
        given.
    FileNotFoundError
        No such video.
    """
    from skmer.datasets import Clip, ClipSequence, read_frames
    from skmer.preprocessing import (
        FaceCropper,
        KeyframeSelector,
        optical_flow,
        spot_apex,
    )

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
    color = "rgb" if len(shape) == 3 else "grey"
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"Video {str(source)!r} does not exist.")
    frames = read_frames(source, color=color)
    n = len(frames)
    if n < 2:
        raise ValueError(f"Video {str(source)!r} has {n} frame; at least 2 (onset "
                         "and apex) are needed.")
    # negative indices count from the video's last frame, as in Python
    onset = (0 if onset is None
             else _check_index(onset, "onset", n, allow_negative=True))
    offset = (n - 1 if offset is None
              else _check_index(offset, "offset", n, allow_negative=True))
    if offset <= onset:
        raise ValueError(f"offset ({offset}) must come after onset ({onset}).")
    fps = video_fps(source) if source.is_file() else None
    clip = Clip(frames, onset=onset, offset=offset, fps=fps, id=source.name)
    logger.info("%s: %d frames of %s; locating the face on frame %d", source, n,
                frames.shape[1:], onset)

    cropper = FaceCropper(output_size=shape[:2], color=color, reference="onset",
                          upsample=upsample, on_missing="raise")
    try:
        cropped = cropper.fit_transform([clip])
    except ValueError as exc:
        if "no face found" not in str(exc):
            raise
        raise NoFaceError(
            f"no face found in {str(source)!r} (frame {onset}, dlib HOG detector, "
            f"upsample={upsample}). skmer predict needs a face on the onset frame: "
            "choose another onset frame (--onset) or try --upsample 1 for a small "
            "face.") from None
    crop = cropped[0]
    selector = KeyframeSelector(mode="onset-apex", apex="spotted", spotter=spotter)
    pair = selector.fit_transform(cropped)
    # the same spotting call as the selector's, for the apex index and the scores
    apex, scores = spot_apex(crop.frames, onset=onset, offset=offset,
                             landmarks=crop.landmarks, method=spotter,
                             return_scores=True)
    if not np.array_equal(pair[0].frames[1], crop.frames[apex]):
        logger.warning("apex spotting disagrees with KeyframeSelector")
    logger.info("apex spotted at frame %d (onset %d, offset %d)", apex, onset,
                offset)

    X = ClipSequence([pair[0]])
    label = np.asarray(model.predict(X))[0]
    proba = classes = None
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X), dtype=float)[0]
        classes = getattr(model, "classes_", None)
        classes = None if classes is None else np.asarray(classes)
    flow = optical_flow(crop.frames[onset], crop.frames[apex], method="tvl1")
    return VideoPrediction(
        source=str(source), label=label, classes=classes, proba=proba,
        onset=onset, apex=int(apex), offset=offset, n_frames=n, fps=fps,
        onset_frame=crop.frames[onset], apex_frame=crop.frames[apex], flow=flow,
        spot_scores=scores, model_input=pair[0])
