"""MEGC metrics: unweighted F1 (UF1) and unweighted average recall (UAR).

Both are computed **once on the pooled predictions** they are given.  Under
leave-one-subject-out, pass the out-of-fold predictions of all folds together (this is
the MEGC2019 definition); averaging per-fold scores is wrong because most folds hold
one or two samples and miss classes.

Which classes are averaged
--------------------------
The mean runs over the classes that occur in ``y_true`` -- restricted to ``labels``
when given.  A class that is predicted but never true is not averaged (it has
no recall), but its wrong predictions still count as misses (false negatives) of the
true classes.
A class listed in ``labels`` but absent from ``y_true`` is left out of both means,
with a :class:`UserWarning`: its recall is 0/0.  On the MEGC2019 composite every
dataset holds all three classes, so this only matters for small subsets.

Note on published "UAR" figures: the STSTNet release computes its "UAR" as the mean of
per-class TP / (TP + FP), i.e. macro *precision*; skmer's :func:`uar_score` is macro
recall, as MEGC defines it.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from skmer._core._utils import _plain

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["uf1_score", "uar_score", "per_class_scores", "megc_scores",
           "interval_iou", "spotting_scores"]


def _confusion(y_true, y_pred, labels):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D of the same length; got shapes "
            f"{y_true.shape} and {y_pred.shape}."
        )
    if y_true.size == 0:
        raise ValueError("y_true is empty: scores need at least one prediction.")
    present = np.unique(y_true)
    if labels is None:
        classes = present
    else:
        labels = np.asarray(labels)
        missing = [_plain(lab) for lab in labels if lab not in present]
        if missing:
            warnings.warn(
                f"Classes {missing} in `labels` do not occur in y_true; their recall "
                "is undefined and they are left out of UF1/UAR.",
                UserWarning,
                stacklevel=3,
            )
        classes = np.array([lab for lab in labels if lab in present])
        if classes.size == 0:
            raise ValueError("None of `labels` occurs in y_true.")
    tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in classes], float)
    fp = np.array([np.sum((y_true != c) & (y_pred == c)) for c in classes], float)
    fn = np.array([np.sum((y_true == c) & (y_pred != c)) for c in classes], float)
    return classes, tp, fp, fn


def per_class_scores(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class F1 and recall on pooled predictions.

    Returns
    -------
    classes : ndarray
    f1 : ndarray of float
        ``2 TP / (2 TP + FP + FN)`` per class.
    recall : ndarray of float
        ``TP / (TP + FN)`` per class.
    """
    classes, tp, fp, fn = _confusion(y_true, y_pred, labels)
    f1 = 2 * tp / (2 * tp + fp + fn)
    recall = tp / (tp + fn)
    return classes, f1, recall


def uf1_score(y_true: ArrayLike, y_pred: ArrayLike, *,
              labels: ArrayLike | None = None) -> float:
    """Unweighted F1 (macro F1) over pooled predictions.

    ``UF1 = mean_c 2 TP_c / (2 TP_c + FP_c + FN_c)`` over the classes of ``y_true``
    (see the module notes for absent classes).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels (all folds pooled).
    labels : array-like, default=None
        Classes to average over (default: those occurring in ``y_true``).

    Returns
    -------
    float

    Examples
    --------
    >>> from skmer.metrics import uf1_score
    >>> round(uf1_score([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]), 4)
    0.6556
    """
    _, f1, _ = per_class_scores(y_true, y_pred, labels=labels)
    return float(np.mean(f1))


def uar_score(y_true: ArrayLike, y_pred: ArrayLike, *,
              labels: ArrayLike | None = None) -> float:
    """Unweighted average recall (mean per-class recall) over pooled predictions.

    ``UAR = mean_c TP_c / N_c`` over the classes of ``y_true``.  This is macro
    *recall*; the "UAR" printed by the STSTNet release is macro precision.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like, default=None
        Classes to average over (default: those occurring in ``y_true``).

    Returns
    -------
    float

    Examples
    --------
    >>> from skmer.metrics import uar_score
    >>> round(uar_score([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]), 4)
    0.6667
    """
    _, _, recall = per_class_scores(y_true, y_pred, labels=labels)
    return float(np.mean(recall))


def megc_scores(y_true: ArrayLike, y_pred: ArrayLike, *,
                labels: ArrayLike | None = None) -> dict[str, float]:
    """Return ``{"uf1", "uar", "accuracy", "n"}`` on pooled predictions."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    return {
        "uf1": uf1_score(y_true, y_pred, labels=labels),
        "uar": uar_score(y_true, y_pred, labels=labels),
        "accuracy": float(np.mean(y_true == y_pred)),
        "n": int(y_true.size),
    }


# -- spotting: intervals in long videos ------------------------------------------------
def _frame_number(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must hold whole frame numbers; got {value!r}.")
    if isinstance(value, numbers.Integral):
        return int(value)
    value = float(value)
    if not value.is_integer():
        raise ValueError(f"{what} must hold whole frame numbers; got {value!r}.")
    return int(value)


def _check_interval(interval, what):
    """``interval`` as an ``(onset, offset)`` pair of ints, or a clear ValueError."""
    if isinstance(interval, (str, bytes, Mapping)):
        pair = None
    else:
        try:
            pair = tuple(interval)
        except TypeError:
            pair = None
    if pair is None or len(pair) != 2:
        raise ValueError(f"{what} must be an (onset, offset) pair of frame numbers; "
                         f"got {interval!r}.")
    onset, offset = (_frame_number(v, what) for v in pair)
    if onset < 0 or offset < 0:
        raise ValueError(f"{what} {(onset, offset)} has a negative frame number.")
    if onset > offset:
        raise ValueError(f"{what} {(onset, offset)} has its onset after its offset.")
    return onset, offset


def _check_intervals(intervals, what):
    if isinstance(intervals, (str, bytes)) or not isinstance(intervals, Iterable):
        raise ValueError(f"{what} must be a sequence of (onset, offset) pairs; got "
                         f"{intervals!r}.")
    if isinstance(intervals, np.ndarray) and intervals.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    pairs = [_check_interval(iv, f"{what}[{i}]") for i, iv in enumerate(intervals)]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def interval_iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Intersection over union of two inclusive frame intervals.

    ``IoU = |A ∩ B| / |A ∪ B|`` where ``A`` and ``B`` are the frame sets
    ``onset..offset`` (both ends included, so ``(5, 5)`` is one frame).

    Parameters
    ----------
    a, b : pair of int
        ``(onset, offset)`` frame numbers, ``0 <= onset <= offset``.

    Returns
    -------
    float
        In ``[0, 1]``; 0.0 for disjoint intervals.

    Raises
    ------
    ValueError
        If an interval is not a pair of whole, non-negative frame numbers with
        ``onset <= offset``.

    Examples
    --------
    >>> from skmer.metrics import interval_iou
    >>> interval_iou((10, 19), (15, 24))  # 5 shared frames out of 15
    0.3333333333333333
    >>> interval_iou((0, 9), (10, 19))
    0.0
    """
    a0, a1 = _check_interval(a, "a")
    b0, b1 = _check_interval(b, "b")
    inter = max(0, min(a1, b1) - max(a0, b0) + 1)
    union = (a1 - a0 + 1) + (b1 - b0 + 1) - inter
    return inter / union


def _n_matches(true, pred, threshold):
    """Greedy one-to-one matching by decreasing IoU; returns the number of TPs."""
    if len(true) == 0 or len(pred) == 0:
        return 0
    t0, t1 = true[:, 0][:, None], true[:, 1][:, None]
    p0, p1 = pred[:, 0][None, :], pred[:, 1][None, :]
    inter = np.clip(np.minimum(t1, p1) - np.maximum(t0, p0) + 1, 0, None)
    union = (t1 - t0 + 1) + (p1 - p0 + 1) - inter
    iou = inter / union
    ti, pj = np.nonzero(iou >= threshold)
    # Highest IoU first; ties broken by the intervals' frame numbers (never by
    # their position in the input), so the result does not depend on the order.
    order = np.lexsort((pred[pj, 1], pred[pj, 0], true[ti, 1], true[ti, 0],
                        -iou[ti, pj]))
    used_true, used_pred, n = set(), set(), 0
    for k in order:
        i, j = int(ti[k]), int(pj[k])
        if i not in used_true and j not in used_pred:
            used_true.add(i)
            used_pred.add(j)
            n += 1
    return n


def spotting_scores(
        true_intervals: Iterable[tuple[int, int]]
        | Mapping[object, Iterable[tuple[int, int]]],
        pred_intervals: Iterable[tuple[int, int]]
        | Mapping[object, Iterable[tuple[int, int]]], *,
        iou_threshold: float = 0.5) -> dict[str, float]:
    """MEGC spotting scores: interval matches at IoU >= 0.5, precision, recall, F1.

    A predicted interval is a true positive (TP) when its
    :func:`interval_iou` with a true interval not yet matched is at least
    ``iou_threshold``; each true interval matches at most one prediction and each
    prediction at most one true interval.  Matching is greedy by decreasing IoU
    (ties broken by the frame numbers, so the order of the intervals does not
    matter).  Unmatched predictions are false positives (FP), unmatched true
    intervals false negatives (FN).  This is the rule of the MEGC2019 and MEGC2020
    spotting challenges [1]_ [2]_.

    Several videos are scored as MEGC does: TP, FP and FN are summed over the
    videos, then ``precision = TP / (TP + FP)``, ``recall = TP / (TP + FN)`` and
    ``F1 = 2 TP / (2 TP + FP + FN)`` (= ``2 P R / (P + R)``) are computed once.
    A ratio whose denominator is 0 (no prediction, no true interval) is 0.0,
    not NaN.

    Parameters
    ----------
    true_intervals : sequence of (int, int) or mapping of str to sequence
        The ground truth: ``(onset, offset)`` inclusive frame intervals of one
        video, or ``{video_id: [(onset, offset), ...]}`` for several videos (a
        video with no true interval is given with an empty list).
    pred_intervals : sequence of (int, int) or mapping of str to sequence
        The predictions, in the same form.  With mappings, a video absent from
        ``pred_intervals`` has no prediction; a video absent from
        ``true_intervals`` is an error.
    iou_threshold : float, default=0.5
        Smallest IoU of a match, in ``(0, 1]``.

    Returns
    -------
    scores : dict
        ``{"tp", "fp", "fn"}`` (int) and ``{"precision", "recall", "f1"}``
        (float).

    Raises
    ------
    ValueError
        If an interval is not a pair of whole, non-negative frame numbers with
        ``onset <= offset``, if one argument is a mapping and the other is not,
        if ``pred_intervals`` names a video that ``true_intervals`` lacks, or if
        ``iou_threshold`` is outside ``(0, 1]``.

    See Also
    --------
    interval_iou : The overlap of two intervals.
    skmer.datasets.annotation_intervals : Ground truth of the spotting corpora.

    References
    ----------
    .. [1] Li, J., Wang, S.-J., Yap, M. H., See, J., Hong, X. and Li, X. "MEGC2020
       -- the third facial micro-expression grand challenge." IEEE International
       Conference on Automatic Face and Gesture Recognition (FG), 2020.
    .. [2] He, Y., Wang, S.-J., Li, J. and Yap, M. H. "Spotting macro- and
       micro-expression intervals in long video sequences." FG 2020 (the MEGC2020
       baseline). :doi:`10.1109/FG47880.2020.00036`

    Examples
    --------
    >>> from skmer.metrics import spotting_scores
    >>> truth = {"v1": [(10, 19), (100, 109)], "v2": [(50, 59)]}
    >>> pred = {"v1": [(12, 21), (200, 209)], "v2": [(50, 57)]}
    >>> s = spotting_scores(truth, pred)
    >>> s["tp"], s["fp"], s["fn"]
    (2, 1, 1)
    >>> round(s["f1"], 4)
    0.6667
    """
    if (isinstance(iou_threshold, (bool, np.bool_))
            or not isinstance(iou_threshold, numbers.Real)
            or not 0 < iou_threshold <= 1):
        raise ValueError(f"iou_threshold must be a number in (0, 1]; got "
                         f"{iou_threshold!r}.")
    true_map = isinstance(true_intervals, Mapping)
    pred_map = isinstance(pred_intervals, Mapping)
    if true_map != pred_map:
        kinds = ["a mapping" if m else "a sequence" for m in (true_map, pred_map)]
        raise ValueError(
            "true_intervals and pred_intervals must both be mappings {video_id: "
            "[(onset, offset), ...]} (several videos) or both sequences of (onset, "
            f"offset) pairs (one video); got {kinds[0]} and {kinds[1]}.")
    if true_map:
        unknown = [v for v in pred_intervals if v not in true_intervals]
        if unknown:
            raise ValueError(
                f"pred_intervals holds video(s) {unknown[:5]} that true_intervals "
                "lacks; give every scored video in true_intervals (an empty list "
                "when it has no true interval).")
        videos = [(true_intervals[v], pred_intervals.get(v, ()), f"[{v!r}]")
                  for v in true_intervals]
    else:
        videos = [(true_intervals, pred_intervals, "")]
    tp = fp = fn = 0
    for true, pred, key in videos:
        true = _check_intervals(true, f"true_intervals{key}")
        pred = _check_intervals(pred, f"pred_intervals{key}")
        n = _n_matches(true, pred, float(iou_threshold))
        tp, fp, fn = tp + n, fp + len(pred) - n, fn + len(true) - n
    return {
        "tp": tp, "fp": fp, "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
    }
