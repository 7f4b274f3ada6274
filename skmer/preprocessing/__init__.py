"""Preprocessing of micro-expression clips.

Face cropping, temporal selection and resampling, magnification, optical flow and
strain (also of magnified onset/apex pairs).

Nothing here imports torch (train-time augmentation of network batches,
``RandomShiftFlip``, lives in :mod:`skmer.models`); ``method="raft"`` reaches
:mod:`skmer.models` through the flow-method registry of ``_flow_registry.py``.
"""

from skmer.preprocessing._amplified import (
    AmplifiedFlow,
    OnsetApexPairs,
    amplified_flow,
    check_alphas,
)
from skmer.preprocessing._face import (
    FaceCropper,
    crop_face,
    detect_face,
    face_alignment,
    face_landmarks,
)
from skmer.preprocessing._flatten import Flatten
from skmer.preprocessing._flow import (
    FlowExtractor,
    OpticalStrain,
    affine_flow,
    optical_flow,
    optical_strain,
)
from skmer.preprocessing._magnify import Magnifier, magnify, magnify_pair
from skmer.preprocessing._register import (
    HeadMotionCompensator,
    Registration,
    register_frames,
)
from skmer.preprocessing._temporal import (
    KeyframeSelector,
    TemporalResampler,
    remap_index,
    resample_frames,
    spot_apex,
    sts_keyframes,
    tim_interpolate,
)

__all__ = [
    "AmplifiedFlow",
    "FaceCropper",
    "Flatten",
    "FlowExtractor",
    "HeadMotionCompensator",
    "KeyframeSelector",
    "Magnifier",
    "OnsetApexPairs",
    "OpticalStrain",
    "Registration",
    "TemporalResampler",
    "affine_flow",
    "amplified_flow",
    "check_alphas",
    "crop_face",
    "detect_face",
    "face_alignment",
    "face_landmarks",
    "magnify",
    "magnify_pair",
    "optical_flow",
    "optical_strain",
    "register_frames",
    "remap_index",
    "resample_frames",
    "spot_apex",
    "sts_keyframes",
    "tim_interpolate",
]
