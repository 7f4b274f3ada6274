"""Data contract, corpus loaders and synthetic micro-expressions."""

from skmer._core import Clip, ClipSequence, read_frames
from skmer.datasets._corpora import (
    load_casme2,
    load_casme3,
    load_mmew,
    load_samm,
    load_smic,
)
from skmer.datasets._flow_images import load_flow_images
from skmer.datasets._longvideo import (
    annotation_intervals,
    load_casme_sq_annotations,
    load_samm_long_annotations,
)
from skmer.datasets._megc2019 import load_megc2019, megc2019_composite_ids
from skmer.datasets._synthetic import make_micro_expressions

__all__ = [
    "Clip",
    "ClipSequence",
    "annotation_intervals",
    "load_casme2",
    "load_casme3",
    "load_casme_sq_annotations",
    "load_flow_images",
    "load_megc2019",
    "load_mmew",
    "load_samm",
    "load_samm_long_annotations",
    "load_smic",
    "make_micro_expressions",
    "megc2019_composite_ids",
    "read_frames",
]
