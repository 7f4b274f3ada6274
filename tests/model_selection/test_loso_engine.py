"""evaluate_loso's hook for a fold-batched engine (contract test, torch-free)."""

import json
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils import Tags

from skmer.model_selection import evaluate_loso

sys.path.insert(0, str(Path(__file__).parent.parent))
from loso_helpers import SlowNearestMean, make_data  # noqa: E402


@dataclass
class _SkmerTags:
    fold_batching: bool = False


@dataclass
class _TagsWithSkmer(Tags):
    skmer: _SkmerTags = field(default_factory=_SkmerTags)


class BatchedNearestMean(SlowNearestMean):
    """Nearest class mean with a fold-batched engine that runs the folds itself."""

    calls = []

    def __init__(self, fold_batching=True, available=True, random_state=None):
        self.fold_batching = fold_batching
        self.available = available
        self.random_state = random_state

    def predict_proba(self, X):
        d = ((np.asarray(X, float)[:, None, :] - self.means_[None]) ** 2).sum(-1)
        e = np.exp(-d)
        return e / e.sum(1, keepdims=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        return _TagsWithSkmer(**{f.name: getattr(tags, f.name) for f in fields(tags)},
                              skmer=_SkmerTags(fold_batching=self.fold_batching))

    def _fold_batched_available(self):
        return self.available

    def _fit_predict_folds(self, X, y, folds, *, seeds, fold_seed, return_proba):
        type(self).calls.append(([k for k, _, _ in folds], tuple(seeds)))
        out = []
        for s in seeds:
            for k, train, test in folds:
                rs = fold_seed(s, k)
                est = clone(self).set_params(random_state=rs).fit(X[train], y[train])
                out.append({"seed": s, "fold": k, "random_state": rs, "test": test,
                            "y_pred": est.predict(X[test]),
                            "proba": est.predict_proba(X[test]) if return_proba
                            else None,
                            "classes": est.classes_, "fit_time": 0.0,
                            "total_time": 0.0})
        return out


class Broken(BatchedNearestMean):
    def _fit_predict_folds(self, X, y, folds, **kwargs):
        return super()._fit_predict_folds(X, y, folds[:-1], **kwargs)


@pytest.fixture(autouse=True)
def _reset_calls():
    BatchedNearestMean.calls = []


def test_auto_uses_the_engine_when_declared_and_available():
    X, y, groups, datasets = make_data()
    rep = evaluate_loso(BatchedNearestMean(), X, y, groups, datasets=datasets,
                        seeds=(0, 1))
    assert BatchedNearestMean.calls == [(list(range(10)), (0, 1))]
    ref = evaluate_loso(BatchedNearestMean(), X, y, groups, datasets=datasets,
                        seeds=(0, 1), engine="per-fold", n_jobs=1)
    assert len(BatchedNearestMean.calls) == 1  # per-fold: not used
    assert rep.predictions.equals(ref.predictions)
    assert rep.probabilities.equals(ref.probabilities)
    assert rep.scores.equals(ref.scores)


def test_auto_keeps_per_fold_when_the_engine_does_not_pay_or_is_not_declared():
    X, y, groups, _ = make_data()
    evaluate_loso(BatchedNearestMean(available=False), X, y, groups, n_jobs=1)
    evaluate_loso(BatchedNearestMean(fold_batching=False), X, y, groups, n_jobs=1)
    assert BatchedNearestMean.calls == []
    # forced: used even where it would not pay
    evaluate_loso(BatchedNearestMean(available=False), X, y, groups,
                  engine="fold-batched")
    assert len(BatchedNearestMean.calls) == 1


@pytest.mark.parametrize("est", [SlowNearestMean(),
                                 BatchedNearestMean(fold_batching=False)])
def test_forcing_the_engine_on_an_estimator_without_it_raises(est):
    X, y, groups, _ = make_data()
    with pytest.raises(ValueError, match="does not declare support for the "
                                         "fold-batched engine"):
        evaluate_loso(est, X, y, groups, engine="fold-batched")


def test_unknown_engine():
    X, y, groups, _ = make_data()
    with pytest.raises(ValueError, match="engine must be one of"):
        evaluate_loso(SlowNearestMean(), X, y, groups, engine="gpu")


def test_engine_results_are_stored_and_only_missing_folds_rerun(tmp_path):
    X, y, groups, _ = make_data()
    rep = evaluate_loso(BatchedNearestMean(), X, y, groups, seeds=(0, 1),
                        results_dir=tmp_path)
    files = sorted(tmp_path.glob("*/seed*_fold*.json"))
    assert len(files) == 20
    assert json.loads(files[0].read_text())["engine"] == "fold-batched"
    for k in (3, 7):
        next(tmp_path.glob(f"*/seed1_fold{k:03d}.json")).unlink()
    again = evaluate_loso(BatchedNearestMean(), X, y, groups, seeds=(0, 1),
                          results_dir=tmp_path)
    assert BatchedNearestMean.calls[-1] == ([3, 7], (1,))
    assert again.n_reused == 18
    assert again.predictions.equals(rep.predictions)
    assert again.probabilities.equals(rep.probabilities)
    # per-fold results live in another folder (the engine is part of the key)
    evaluate_loso(BatchedNearestMean(), X, y, groups, seeds=(0, 1),
                  results_dir=tmp_path, engine="per-fold", n_jobs=1)
    assert len(list(tmp_path.iterdir())) == 2


def test_an_engine_that_skips_folds_is_an_error():
    X, y, groups, _ = make_data()
    with pytest.raises(RuntimeError, match="_fit_predict_folds returned"):
        evaluate_loso(Broken(), X, y, groups)
