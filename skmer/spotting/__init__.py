"""Spotting micro-expressions in long videos.

:class:`MicroExpressionSpotter` turns a long face video into intervals
(:class:`SpottedInterval`: onset, apex, offset, score, micro or macro) with the LBP
feature-difference baseline (MEGC2019) or the optical-flow MDMD method (MEGC2020);
:func:`inject_micro_movements` writes known micro-movements into a real video, the
ground truth of the spotting benchmark (``benchmarks/spotting.py``).  The spotting
metric (interval IoU >= 0.5, precision, recall, F1) is
:func:`skmer.metrics.spotting_scores`.
"""

from skmer.spotting._inject import InjectedMovement, inject_micro_movements
from skmer.spotting._intervals import SpottedInterval
from skmer.spotting._spotter import MicroExpressionSpotter

__all__ = [
    "InjectedMovement",
    "MicroExpressionSpotter",
    "SpottedInterval",
    "inject_micro_movements",
]
