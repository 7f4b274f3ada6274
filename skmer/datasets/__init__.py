"""Data contract, corpus loaders and synthetic micro-expressions."""

from skmer.datasets._clip import Clip, ClipSequence, read_frames

__all__ = ["Clip", "ClipSequence", "read_frames"]
