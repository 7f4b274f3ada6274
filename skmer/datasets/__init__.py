"""Data contract, corpus loaders and synthetic micro-expressions."""

from skmer.datasets._clip import Clip, ClipSequence, read_frames
from skmer.datasets._flow_images import load_flow_images

__all__ = ["Clip", "ClipSequence", "read_frames", "load_flow_images"]
