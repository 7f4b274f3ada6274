"""The ground floor of skmer: the clip data contract and its validation.

:class:`Clip`, :class:`ClipSequence` and :func:`check_clips` are used by every
other floor (``datasets`` loads clips, ``utils`` and the stages validate them), so
they live here, in a private package that imports nothing from the rest of skmer;
both :mod:`skmer.datasets` and :mod:`skmer.utils` import from it and never from
each other.  Users import them from their public homes,
:mod:`skmer.datasets` (``Clip``, ``ClipSequence``, ``read_frames``) and
:mod:`skmer.utils.validation` (``check_clips``).
"""

from skmer._core._clip import Clip, ClipSequence, read_frames
from skmer._core._validation import as_clip, check_clips

__all__ = ["Clip", "ClipSequence", "as_clip", "check_clips", "read_frames"]
