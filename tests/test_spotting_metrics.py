"""MEGC spotting metric: interval IoU and one-to-one interval matching."""

import numpy as np
import pytest

from skmer.metrics import interval_iou, spotting_scores


# -- interval_iou ----------------------------------------------------------------------
@pytest.mark.parametrize("a, b, expected", [
    ((10, 19), (15, 24), 5 / 15),   # overlap of 5 frames, 15 in the union
    ((10, 19), (10, 19), 1.0),
    ((0, 9), (10, 19), 0.0),        # adjacent: no shared frame
    ((0, 9), (50, 60), 0.0),
    ((5, 5), (5, 5), 1.0),          # one frame
    ((0, 9), (2, 4), 3 / 10),       # containment
    ((0, 9), (0, 4), 0.5),
])
def test_interval_iou_golden(a, b, expected):
    assert interval_iou(a, b) == pytest.approx(expected, abs=0)
    assert interval_iou(b, a) == interval_iou(a, b)


def test_interval_iou_accepts_numpy_and_integral_floats():
    assert interval_iou(np.array([10, 19]), (np.int32(15), 24.0)) == 5 / 15


@pytest.mark.parametrize("bad, match", [
    ((5, 4), "onset after its offset"),
    ((-1, 4), "negative frame"),
    ((1.5, 4), "whole frame numbers"),
    ((float("nan"), 4), "whole frame numbers"),
    ((True, 4), "whole frame numbers"),
    ((1, 2, 3), r"\(onset, offset\) pair"),
    ("ab", r"\(onset, offset\) pair"),
    (7, r"\(onset, offset\) pair"),
])
def test_interval_iou_rejects_bad_intervals(bad, match):
    with pytest.raises(ValueError, match=match):
        interval_iou(bad, (0, 9))


# -- spotting_scores: one video --------------------------------------------------------
def _counts(scores):
    return scores["tp"], scores["fp"], scores["fn"]


def test_single_match():
    s = spotting_scores([(10, 19)], [(12, 21)])  # IoU 8/12
    assert s == {"tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0,
                 "f1": 1.0}


def test_threshold_is_inclusive():
    assert _counts(spotting_scores([(0, 9)], [(0, 4)])) == (1, 0, 0)   # IoU 0.5
    assert _counts(spotting_scores([(0, 9)], [(0, 3)])) == (0, 1, 1)   # IoU 0.4
    assert _counts(spotting_scores([(0, 9)], [(0, 3)], iou_threshold=0.4)) == (
        1, 0, 0)
    assert _counts(spotting_scores([(0, 9)], [(0, 8)], iou_threshold=1.0)) == (
        0, 1, 1)


def test_two_predictions_on_one_truth():
    """A true interval matches one prediction; the other is a false positive."""
    s = spotting_scores([(0, 9)], [(1, 9), (0, 9)])
    assert _counts(s) == (1, 1, 0)
    assert s["precision"] == 0.5 and s["recall"] == 1.0
    assert s["f1"] == pytest.approx(2 / 3)


def test_one_prediction_over_two_truths():
    """A prediction with IoU 9/11 to two truths counts once; one truth is missed."""
    s = spotting_scores([(0, 9), (2, 11)], [(1, 10)])
    assert _counts(s) == (1, 0, 1)
    assert s["precision"] == 1.0 and s["recall"] == 0.5


def test_greedy_by_highest_iou_not_by_input_order():
    """P=(3, 12) ties A=(0, 9) and B=(6, 15) at 7/13; Q=(0, 8) fits only A (0.9).

    Matching the highest IoU first gives Q-A then P-B: 2 TPs, whatever the order.
    Matching in input order (P first, taking A) would leave Q unmatched.
    """
    truth = [(0, 9), (6, 15)]
    for pred in ([(3, 12), (0, 8)], [(0, 8), (3, 12)]):
        assert _counts(spotting_scores(truth, pred)) == (2, 0, 0)


def test_ties_with_identical_intervals():
    s = spotting_scores([(0, 9), (0, 9)], [(0, 9), (0, 9), (0, 9)])
    assert _counts(s) == (2, 1, 0)


def test_empty_predictions_and_empty_truth_give_zero_not_nan():
    s = spotting_scores([(0, 9), (20, 29)], [])
    assert s == {"tp": 0, "fp": 0, "fn": 2, "precision": 0.0, "recall": 0.0,
                 "f1": 0.0}
    s = spotting_scores([], [(0, 9)])
    assert s == {"tp": 0, "fp": 1, "fn": 0, "precision": 0.0, "recall": 0.0,
                 "f1": 0.0}
    s = spotting_scores([], np.empty((0, 2)))
    assert s == {"tp": 0, "fp": 0, "fn": 0, "precision": 0.0, "recall": 0.0,
                 "f1": 0.0}


def test_numpy_array_input():
    s = spotting_scores(np.array([[10, 19], [40, 49]]), np.array([[10, 19]]))
    assert _counts(s) == (1, 0, 1)
    assert isinstance(s["tp"], int) and isinstance(s["f1"], float)


# -- several videos: pooled counts -----------------------------------------------------
def test_pooled_over_videos():
    truth = {"a": [(0, 9), (20, 29)], "b": [(0, 99)], "c": []}
    pred = {"a": [(0, 9)], "b": [(0, 49), (50, 99)], "c": [(5, 6)]}
    s = spotting_scores(truth, pred)
    # a: 1 TP, 1 FN; b: (0, 49) has IoU 0.5 (TP), (50, 99) finds the truth taken
    # (FP); c: 1 FP.
    assert _counts(s) == (2, 2, 1)
    assert s["precision"] == 0.5
    assert s["recall"] == pytest.approx(2 / 3)
    assert s["f1"] == pytest.approx(4 / 7)  # not the mean of per-video F1 (0.444)
    per_video = [spotting_scores(truth[v], pred[v])["f1"] for v in truth]
    assert np.mean(per_video) == pytest.approx(4 / 9)


def test_video_without_predictions_counts_its_truths_as_missed():
    s = spotting_scores({"a": [(0, 9)], "b": [(0, 9), (20, 29)]}, {"a": [(0, 9)]})
    assert _counts(s) == (1, 0, 2)


def test_prediction_for_unknown_video_names_it():
    with pytest.raises(ValueError, match="'ghost'"):
        spotting_scores({"a": [(0, 9)]}, {"a": [], "ghost": [(0, 9)]})


def test_mapping_and_sequence_mixed_is_refused():
    with pytest.raises(ValueError, match="got a mapping and a sequence"):
        spotting_scores({"a": [(0, 9)]}, [(0, 9)])
    with pytest.raises(ValueError, match="got a sequence and a mapping"):
        spotting_scores([(0, 9)], {"a": [(0, 9)]})


@pytest.mark.parametrize("truth, pred, match", [
    ([(9, 5)], [], r"true_intervals\[0\] \(9, 5\) has its onset after its offset"),
    ([], [(0, 4), (-3, 4)], r"pred_intervals\[1\] \(-3, 4\) has a negative"),
    ({"v": [(0, 9)]}, {"v": [(4, 2)]}, r"pred_intervals\['v'\]\[0\]"),
    ([(0, 9)], "0-9", "sequence of"),
    ([(0, 9)], None, "sequence of"),
    ([(0, 9, 1.0)], [], r"\(onset, offset\) pair"),
])
def test_bad_intervals_are_clear_errors(truth, pred, match):
    with pytest.raises(ValueError, match=match):
        spotting_scores(truth, pred)


@pytest.mark.parametrize("threshold", [0, 0.0, -0.1, 1.01, True, "0.5", None])
def test_bad_threshold(threshold):
    with pytest.raises(ValueError, match="iou_threshold"):
        spotting_scores([(0, 9)], [(0, 9)], iou_threshold=threshold)


# -- invariance ------------------------------------------------------------------------
def _random_intervals(rng, n, length=300):
    onset = rng.integers(0, length, n)
    return [(int(o), int(o + d)) for o, d in zip(onset, rng.integers(0, 30, n))]


def test_order_of_intervals_and_videos_does_not_matter():
    rng = np.random.default_rng(0)
    truth = {f"v{k}": _random_intervals(rng, 12) for k in range(6)}
    pred = {f"v{k}": _random_intervals(rng, 15) for k in range(6)}
    # near-duplicates of some truths, so that ties and competition occur
    for v in truth:
        pred[v] += [(o + 1, f + 1) for o, f in truth[v][:4]] + truth[v][:2]
    reference = spotting_scores(truth, pred, iou_threshold=0.3)
    assert reference["tp"] > 5
    for _ in range(20):
        keys = list(rng.permutation(list(truth)))
        t = {v: [truth[v][i] for i in rng.permutation(len(truth[v]))] for v in keys}
        p = {v: [pred[v][i] for i in rng.permutation(len(pred[v]))]
             for v in reversed(keys)}
        assert spotting_scores(t, p, iou_threshold=0.3) == reference


def test_counts_add_up():
    rng = np.random.default_rng(1)
    for _ in range(20):
        t, p = _random_intervals(rng, 10, 100), _random_intervals(rng, 8, 100)
        s = spotting_scores(t, p)
        assert s["tp"] + s["fp"] == len(p) and s["tp"] + s["fn"] == len(t)
        assert s["tp"] <= min(len(t), len(p))
