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

import warnings
from typing import TYPE_CHECKING

import numpy as np

from skmer._core._utils import _plain

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["uf1_score", "uar_score", "per_class_scores", "megc_scores"]


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
