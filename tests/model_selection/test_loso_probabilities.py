"""Out-of-fold probabilities: report, resume files, soft vote."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC

from skmer.model_selection import LOSOReport, evaluate_loso

sys.path.insert(0, str(Path(__file__).parent.parent))
from loso_helpers import SlowNearestMean, make_data  # noqa: E402


class FixedProba(ClassifierMixin, BaseEstimator):
    """``predict_proba`` returns column 0 of X as P(class 1): a hand-set model.

    ``reverse=True`` reports its classes in reverse order (probability columns
    follow), to check that reports are aligned by label, not by position.
    """

    def __init__(self, reverse=False, random_state=None):
        self.reverse = reverse
        self.random_state = random_state

    def fit(self, X, y):
        self.classes_ = np.unique(y)[::-1] if self.reverse else np.unique(y)
        return self

    def predict_proba(self, X):
        p1 = np.asarray(X, float)[:, 0]
        p = np.column_stack([1 - p1, p1])
        return p[:, ::-1] if self.reverse else p

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


# four subjects of one sample each: y = 0, 0, 1, 1
Y = np.array([0, 0, 1, 1])
GROUPS = np.array(["d/a", "d/b", "d/c", "d/d"])
P_A = np.array([0.7, 0.2, 0.3, 0.9])  # A predicts 1, 0, 0, 1
P_B = np.array([0.2, 0.3, 0.8, 0.4])  # B predicts 0, 0, 1, 0


def _report(p1, **kwargs):
    est = FixedProba(**{k: kwargs.pop(k) for k in ("reverse",) if k in kwargs})
    return evaluate_loso(est, p1[:, None], Y, GROUPS, n_jobs=1, **kwargs)


def test_probabilities_are_stored_aligned_with_predictions(tmp_path):
    rep = _report(P_A, results_dir=tmp_path)
    proba = rep.probabilities
    assert list(proba.columns) == [0, 1]
    assert proba.index.equals(rep.predictions.index)
    np.testing.assert_allclose(proba[1].to_numpy(), P_A)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # the resume files hold them, with the class order, and give them back
    files = sorted(tmp_path.glob("*/seed0_fold*.json"))
    first = json.loads(files[0].read_text())
    assert first["version"] == 2 and first["classes"] == [0, 1]
    assert first["proba"] == [[pytest.approx(0.3), pytest.approx(0.7)]]
    again = _report(P_A, results_dir=tmp_path)
    assert again.n_reused == 4
    assert again.probabilities.equals(proba)
    # reversed class order in the estimator: columns are still by label
    rev = _report(P_A, reverse=True)
    np.testing.assert_allclose(rev.probabilities.to_numpy(), proba.to_numpy())


def test_files_of_the_old_format_are_ignored(tmp_path):
    rep = _report(P_A, results_dir=tmp_path)
    for f in tmp_path.glob("*/seed0_fold*.json"):
        res = json.loads(f.read_text())
        res["version"] = 1
        del res["proba"], res["classes"]
        f.write_text(json.dumps(res))
    again = _report(P_A, results_dir=tmp_path)
    assert again.n_reused == 0
    assert again.predictions.equals(rep.predictions)
    assert again.probabilities.equals(rep.probabilities)


def test_no_predict_proba_no_probabilities():
    X, y, groups, _ = make_data()
    assert evaluate_loso(SlowNearestMean(), X, y, groups).probabilities is None
    # SVC without probability=True has no predict_proba
    assert evaluate_loso(SVC(), X, y, groups).probabilities is None


class Contrarian(FixedProba):
    """Predicts the class ``predict_proba`` finds least likely."""

    def predict(self, X):
        return self.classes_[np.argmin(self.predict_proba(X), axis=1)]


def test_predict_is_still_what_predict_says():
    # y_pred comes from predict, even where it is not the argmax of predict_proba
    rep = evaluate_loso(Contrarian(), P_A[:, None], Y, GROUPS, n_jobs=1)
    np.testing.assert_array_equal(rep.predictions["y_pred"], [0, 1, 1, 0])
    np.testing.assert_allclose(rep.probabilities[1], P_A)


def test_soft_vote_golden_values():
    a, b = _report(P_A), _report(P_B, reverse=True)
    assert a.uf1 == pytest.approx(0.5)
    assert b.uf1 == pytest.approx((0.8 + 2 / 3) / 2)  # F1 0.8 (class 0), 2/3 (1)
    vote = LOSOReport.soft_vote([a, b])
    np.testing.assert_allclose(vote.probabilities[1], [0.45, 0.25, 0.55, 0.65])
    np.testing.assert_allclose(vote.probabilities[0], [0.55, 0.75, 0.45, 0.35])
    np.testing.assert_array_equal(vote.predictions["y_pred"], [0, 0, 1, 1])
    assert vote.uf1 == 1.0 and vote.uar == 1.0
    assert vote.predictions["y_pred"].dtype == Y.dtype
    assert list(vote.predictions["fold"]) == [0, 1, 2, 3]
    weighted = LOSOReport.soft_vote([a, b], weights=[3, 1])
    np.testing.assert_allclose(weighted.probabilities[1],
                               [0.575, 0.225, 0.425, 0.775])
    np.testing.assert_array_equal(weighted.predictions["y_pred"], [1, 0, 0, 1])
    assert weighted.uf1 == pytest.approx(0.5) and weighted.uar == pytest.approx(0.5)
    assert "soft vote" in weighted.estimator_name and "3, 1" in weighted.estimator_name
    assert weighted.wall_time == 0.0


def test_soft_vote_broadcasts_a_single_seed_report():
    X, y, groups, datasets = make_data()
    lr = evaluate_loso(LogisticRegression(), X, y, groups, datasets=datasets,
                       n_jobs=1)
    nb = evaluate_loso(GaussianNB(), X, y, groups, datasets=datasets, n_jobs=1)
    svc = evaluate_loso(SGDClassifier(loss="log_loss"), X, y, groups,
                        datasets=datasets, seeds=(0, 1), n_jobs=1)
    assert not svc.probabilities[svc.predictions["seed"] == 0].reset_index(
        drop=True).equals(svc.probabilities[svc.predictions["seed"] == 1]
                          .reset_index(drop=True))
    vote = LOSOReport.soft_vote([lr, svc, nb], weights=[1, 1, 0])
    assert vote.seeds == (0, 1)
    assert list(vote.to_frame().index) == ["overall", "d0", "d1"]
    for s in (0, 1):
        rows = (vote.predictions["seed"] == s).to_numpy()
        want = (lr.probabilities.to_numpy()
                + svc.probabilities[(svc.predictions["seed"] == s).to_numpy()]
                .to_numpy()) / 2
        np.testing.assert_allclose(vote.probabilities[rows].to_numpy(), want)


def test_soft_vote_rejects_mismatched_reports():
    a = _report(P_A)
    with pytest.raises(ValueError, match="at least one"):
        LOSOReport.soft_vote([])
    other_y = evaluate_loso(FixedProba(), P_A[:, None], Y[::-1], GROUPS, n_jobs=1)
    with pytest.raises(ValueError, match=r"reports\[1\].*different y_true"):
        LOSOReport.soft_vote([a, other_y])
    other_groups = evaluate_loso(FixedProba(), P_A[:, None], Y,
                                 np.array(["d/b", "d/a", "d/c", "d/d"]), n_jobs=1)
    with pytest.raises(ValueError, match="different group"):
        LOSOReport.soft_vote([a, other_groups])
    longer = evaluate_loso(FixedProba(), np.append(P_A, 0.6)[:, None], np.append(Y, 1),
                            np.append(GROUPS, "d/e"), n_jobs=1)
    with pytest.raises(ValueError, match="number of samples"):
        LOSOReport.soft_vote([a, longer])
    X, y, groups, _ = make_data()
    no_proba = evaluate_loso(SlowNearestMean(), X, y, groups)
    with pytest.raises(ValueError, match="no probabilities"):
        LOSOReport.soft_vote([no_proba])
    with pytest.raises(ValueError, match="weights"):
        LOSOReport.soft_vote([a, a], weights=[1])
    with pytest.raises(ValueError, match="weights"):
        LOSOReport.soft_vote([a, a], weights=[0, 0])
    with pytest.raises(ValueError, match="weights"):
        LOSOReport.soft_vote([a, a], weights=[1, -1])
    s01 = evaluate_loso(FixedProba(), P_A[:, None], Y, GROUPS, seeds=(0, 1),
                        n_jobs=1)
    s12 = evaluate_loso(FixedProba(), P_A[:, None], Y, GROUPS, seeds=(1, 2),
                        n_jobs=1)
    with pytest.raises(ValueError, match="same seeds"):
        LOSOReport.soft_vote([s01, s12])
