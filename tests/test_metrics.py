import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from skmer.metrics import megc_scores, per_class_scores, uar_score, uf1_score


def test_hand_computed_confusion_matrix():
    # confusion matrix (rows true, cols pred):
    #   neg: 3 1 1     pos: 0 2 0     sur: 1 0 2
    y_true = [0] * 5 + [1] * 2 + [2] * 3
    y_pred = [0, 0, 0, 1, 2, 1, 1, 0, 2, 2]
    # F1: neg 2*3/(6+1+2)=2/3, pos 2*2/(4+1+0)=4/5, sur 2*2/(4+1+1)=2/3
    assert uf1_score(y_true, y_pred) == pytest.approx((2 / 3 + 4 / 5 + 2 / 3) / 3)
    # recall: 3/5, 2/2, 2/3
    assert uar_score(y_true, y_pred) == pytest.approx((3 / 5 + 1 + 2 / 3) / 3)
    classes, f1, rec = per_class_scores(y_true, y_pred)
    np.testing.assert_array_equal(classes, [0, 1, 2])
    np.testing.assert_allclose(f1, [2 / 3, 4 / 5, 2 / 3])
    np.testing.assert_allclose(rec, [3 / 5, 1, 2 / 3])
    s = megc_scores(y_true, y_pred)
    assert s["accuracy"] == pytest.approx(0.7) and s["n"] == 10


def test_matches_sklearn_macro_scores_on_random_labels():
    rng = np.random.RandomState(0)
    y_true = rng.randint(0, 3, 200)
    y_pred = rng.randint(0, 3, 200)
    assert uf1_score(y_true, y_pred) == pytest.approx(
        f1_score(y_true, y_pred, average="macro"))
    assert uar_score(y_true, y_pred) == pytest.approx(
        recall_score(y_true, y_pred, average="macro"))


def test_string_labels():
    assert uf1_score(["a", "b", "b"], ["a", "b", "a"]) == pytest.approx(
        (2 / 3 + 2 / 3) / 2)


def test_class_predicted_but_never_true_is_not_averaged():
    y_true = [0, 0, 1, 1]
    y_pred = [0, 2, 1, 1]  # class 2 never true: its recall is undefined
    assert uar_score(y_true, y_pred) == pytest.approx((1 / 2 + 1) / 2)
    # class 0: TP 1, FN 1 -> F1 2/3; class 1: F1 1
    assert uf1_score(y_true, y_pred) == pytest.approx((2 / 3 + 1) / 2)


def test_labels_absent_from_y_true_warn_and_are_left_out():
    with pytest.warns(UserWarning, match=r"\[2\].*undefined"):
        assert uar_score([0, 1], [0, 1], labels=[0, 1, 2]) == 1.0
    assert uar_score([0, 1, 2], [0, 1, 1], labels=[0, 1]) == 1.0
    with pytest.raises(ValueError, match="None of `labels`"):
        with pytest.warns(UserWarning):
            uf1_score([0, 1], [0, 1], labels=[5])


def test_ststnet_uar_is_macro_precision_not_recall():
    # the "UAR" in the STSTNet release = mean of TP/(TP+FP): macro precision
    y_true = [0, 0, 0, 0, 1, 2]
    y_pred = [0, 0, 1, 2, 1, 2]
    precision = precision_score(y_true, y_pred, average="macro")
    assert uar_score(y_true, y_pred) != pytest.approx(precision)
    assert uar_score(y_true, y_pred) == pytest.approx((0.5 + 1 + 1) / 3)


def test_bad_input():
    with pytest.raises(ValueError, match="same length"):
        uf1_score([0, 1], [0])
    with pytest.raises(ValueError, match="empty"):
        uar_score([], [])
