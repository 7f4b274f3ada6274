"""Preprocessing of micro-expression clips: temporal selection and resampling,
optical flow and strain, and train-time augmentation."""

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
    "FaceCropper",
    "FlowExtractor",
    "KeyframeSelector",
    "Magnifier",
    "OpticalStrain",
    "RandomShiftFlip",
    "TemporalResampler",
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
