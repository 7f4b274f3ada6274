"""Preprocessing of micro-expression clips: temporal selection and resampling,
magnification, optical flow and strain (also of magnified onset/apex pairs), and
train-time augmentation."""

from skmer.preprocessing._amplified import (
    AmplifiedFlow,
    OnsetApexPairs,
    amplified_flow,
    check_alphas,
)
from skmer.preprocessing._augment import RandomShiftFlip
from skmer.preprocessing._face import (
    FaceCropper,
    crop_face,
    detect_face,
    face_alignment,
    face_landmarks,
)
from skmer.preprocessing._flow import (
    FlowExtractor,
    OpticalStrain,
    optical_flow,
    optical_strain,
)
from skmer.preprocessing._magnify import Magnifier, magnify, magnify_pair
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
    "FlowExtractor",
    "KeyframeSelector",
    "Magnifier",
    "OnsetApexPairs",
    "OpticalStrain",
    "RandomShiftFlip",
    "TemporalResampler",
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
    "remap_index",
    "resample_frames",
    "spot_apex",
    "sts_keyframes",
    "tim_interpolate",
]
