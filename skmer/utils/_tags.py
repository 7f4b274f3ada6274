"""skmer's estimator tags, carried by scikit-learn's own tag machinery.

An estimator states skmer-specific facts about itself (does it accept clips of
different lengths? how few frames may a clip have? ...) in ``__sklearn_tags__``,
next to scikit-learn's tags, as a :class:`SkmerTags` in a field named ``skmer``::

    def __sklearn_tags__(self):
        tags = with_skmer_tags(super().__sklearn_tags__(), allow_ragged=False)
        tags.input_tags.two_d_array = False
        return tags

:func:`sklearn.utils.get_tags` then returns a :class:`Tags` (a subclass of
:class:`sklearn.utils.Tags`), and :func:`get_skmer_tags` reads its ``skmer`` field,
with the defaults for estimators that do not set it (scikit-learn's own, and
meta-estimators such as :class:`~sklearn.pipeline.Pipeline`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from sklearn.utils import Tags as _SklearnTags
from sklearn.utils import get_tags

__all__ = ["SkmerTags", "Tags", "get_skmer_tags", "with_skmer_tags"]


@dataclass(slots=True)
class SkmerTags:
    """Tags of skmer estimators, beyond scikit-learn's.

    Parameters
    ----------
    allow_ragged : bool, default=True
        The estimator accepts clips of different lengths in one ``X``.
    min_frames : int, default=1
        The fewest frames a clip may have.
    requires_y : bool or None, default=None
        ``fit`` needs ``y``.  ``None`` means "infer": true for estimators with a
        ``predict`` method.
    fixed_frame_shape : bool, default=True
        ``transform``/``predict`` require the frame shape seen in ``fit``.  ``False``
        for an estimator whose output size is a parameter (a face cropper): clips of
        another frame shape are then accepted.
    fold_batching : bool, default=False
        The estimator can train all leave-one-subject-out folds times seeds at once
        with skmer's fold-batched engine (small networks whose folds fit together
        on one accelerator); evaluation code may then choose that engine.

    Examples
    --------
    >>> from skmer.utils._tags import SkmerTags
    >>> SkmerTags(allow_ragged=False).min_frames
    1
    """

    allow_ragged: bool = True
    min_frames: int = 1
    requires_y: bool | None = None
    fixed_frame_shape: bool = True
    fold_batching: bool = False


@dataclass(slots=True)
class Tags(_SklearnTags):
    """scikit-learn's :class:`sklearn.utils.Tags` with a ``skmer`` field.

    Parameters
    ----------
    skmer : SkmerTags
        skmer's own tags (see :class:`SkmerTags`).
    **kwargs
        The fields of :class:`sklearn.utils.Tags`.

    Examples
    --------
    >>> from sklearn.utils import Tags as SklearnTags
    >>> from skmer.utils._tags import Tags
    >>> issubclass(Tags, SklearnTags)
    True
    """

    skmer: SkmerTags = field(default_factory=SkmerTags)


def with_skmer_tags(tags, **fields):
    """Return ``tags`` as a skmer :class:`Tags`, with skmer tags ``fields`` set.

    Parameters
    ----------
    tags : sklearn.utils.Tags
        The tags returned by ``super().__sklearn_tags__()``.  When they already are
        a skmer :class:`Tags` (a parent class set skmer tags), its skmer tags are
        kept and updated.
    **fields
        Fields of :class:`SkmerTags` to set, e.g. ``allow_ragged=False``.

    Returns
    -------
    tags : Tags
        A new skmer :class:`Tags` sharing every scikit-learn field of ``tags``.

    Raises
    ------
    TypeError
        A name in ``fields`` is not a field of :class:`SkmerTags`.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> from skmer.utils._tags import with_skmer_tags
    >>> tags = with_skmer_tags(BaseEstimator().__sklearn_tags__(), min_frames=2)
    >>> tags.skmer.min_frames, tags.skmer.allow_ragged
    (2, True)
    """
    if isinstance(tags, Tags):
        skmer = dataclasses.replace(tags.skmer, **fields)
    else:
        skmer = SkmerTags(**fields)
    base = {f.name: getattr(tags, f.name) for f in dataclasses.fields(_SklearnTags)}
    return Tags(**base, skmer=skmer)


def get_skmer_tags(estimator):
    """Return the skmer tags of ``estimator``.

    Parameters
    ----------
    estimator : estimator instance
        Any estimator.  One that sets no skmer tags gets the defaults of
        :class:`SkmerTags`.  For a :class:`~sklearn.pipeline.Pipeline`, the input
        tags (``allow_ragged``, ``min_frames``, ``fixed_frame_shape``) are those of
        its first step, ``requires_y`` is true when a step requires ``y``, and
        ``fold_batching`` is false.

    Returns
    -------
    tags : SkmerTags
        The estimator's skmer tags.  ``requires_y=None`` is resolved: true when the
        estimator has a ``predict`` method.

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> from skmer.utils._tags import get_skmer_tags
    >>> get_skmer_tags(SVC())
    SkmerTags(allow_ragged=True, min_frames=1, requires_y=True, \
fixed_frame_shape=True, fold_batching=False)
    """
    from sklearn.pipeline import Pipeline

    tags = getattr(get_tags(estimator), "skmer", None)
    if tags is None and isinstance(estimator, Pipeline):
        steps = [step for _, step in estimator.steps
                 if step is not None and not isinstance(step, str)]
        if steps:
            parts = [get_skmer_tags(step) for step in steps]
            tags = dataclasses.replace(
                parts[0], fold_batching=False,
                requires_y=any(part.requires_y for part in parts))
    if tags is None:
        tags = SkmerTags()
    if tags.requires_y is None:
        tags = dataclasses.replace(tags, requires_y=hasattr(estimator, "predict"))
    return tags
