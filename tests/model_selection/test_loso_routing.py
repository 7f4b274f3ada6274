"""Subject groups and corpora reach the fold's estimator through metadata routing."""

import sys
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmer.model_selection import evaluate_loso

sys.path.insert(0, str(Path(__file__).parent.parent))
from loso_helpers import make_data  # noqa: E402


class SpyGroupKFold(GroupKFold):
    """Records the groups every inner split receives."""

    seen = []

    def split(self, X, y=None, groups=None):
        type(self).seen.append(set(groups))
        return super().split(X, y, groups)


class CorpusSpy(ClassifierMixin, BaseEstimator):
    """Records the metadata ``fit``, ``predict`` and ``predict_proba`` receive."""

    calls = []

    def fit(self, X, y, groups=None, datasets=None):
        type(self).calls.append(("fit", groups, datasets, len(X)))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X, datasets=None):
        type(self).calls.append(("predict", None, datasets, len(X)))
        return np.full(len(X), self.classes_[0])

    def predict_proba(self, X, datasets=None):
        type(self).calls.append(("predict_proba", None, datasets, len(X)))
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def _fold_tests(groups):
    return [groups == g for g in sorted(set(groups))]


def test_routing_on_sends_training_groups_to_an_inner_grouped_search():
    X, y, groups, _ = make_data()
    # GroupKFold's split requests groups by default: the Pipeline and the search
    # route them there (GridSearchCV itself has no set_fit_request)
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]},
                          cv=SpyGroupKFold(3))
    pipe = Pipeline([("scale", StandardScaler()), ("search", search)])
    SpyGroupKFold.seen = []
    with sklearn.config_context(enable_metadata_routing=True):
        rep = evaluate_loso(pipe, X, y, groups, n_jobs=1)
    assert rep.n_folds == 10 and len(SpyGroupKFold.seen) == 10
    everyone = set(groups)
    for inner, left_out in zip(SpyGroupKFold.seen, sorted(everyone)):
        assert inner == everyone - {left_out}


def test_routing_on_passes_exactly_what_is_requested():
    X, y, groups, datasets = make_data()
    CorpusSpy.calls = []
    with sklearn.config_context(enable_metadata_routing=True):
        clf = (CorpusSpy().set_fit_request(groups=True, datasets=True)
               .set_predict_request(datasets=True)
               .set_predict_proba_request(datasets=True))
        pipe = Pipeline([("scale", StandardScaler()), ("clf", clf)])
        rep = evaluate_loso(pipe, X, y, groups, datasets=datasets, n_jobs=1)
    fits = [c for c in CorpusSpy.calls if c[0] == "fit"]
    preds = [c for c in CorpusSpy.calls if c[0] == "predict"]
    probas = [c for c in CorpusSpy.calls if c[0] == "predict_proba"]
    assert len(fits) == len(preds) == len(probas) == 10
    for test, fit, pred, proba in zip(_fold_tests(groups), fits, preds, probas):
        np.testing.assert_array_equal(fit[1], groups[~test])
        np.testing.assert_array_equal(fit[2], datasets[~test])
        np.testing.assert_array_equal(pred[2], datasets[test])  # the test corpora
        np.testing.assert_array_equal(proba[2], datasets[test])
    assert rep.probabilities is not None

    # requested in predict only: fit receives nothing
    CorpusSpy.calls = []
    with sklearn.config_context(enable_metadata_routing=True):
        evaluate_loso(CorpusSpy().set_predict_request(datasets=True), X, y, groups,
                      datasets=datasets, n_jobs=1)
    fits = [c for c in CorpusSpy.calls if c[0] == "fit"]
    preds = [c for c in CorpusSpy.calls if c[0] == "predict"]
    assert all(f[1] is None and f[2] is None for f in fits)
    assert all(p[2] is not None for p in preds)
    # route_groups=None: no groups even when requested
    CorpusSpy.calls = []
    with sklearn.config_context(enable_metadata_routing=True):
        evaluate_loso(CorpusSpy().set_fit_request(groups=True), X, y, groups,
                      n_jobs=1, route_groups=None)
    assert all(c[1] is None for c in CorpusSpy.calls)


def test_routing_on_requested_metadata_reaches_loky_workers():
    X, y, groups, datasets = make_data()
    # the workers see the routing config (sklearn's Parallel carries it): with
    # routing off there, Pipeline.fit would reject a plain ``datasets``
    with sklearn.config_context(enable_metadata_routing=True):
        clf = (CorpusSpy().set_fit_request(datasets=True)
               .set_predict_request(datasets=True))
        pipe = Pipeline([("scale", StandardScaler()), ("clf", clf)])
        rep = evaluate_loso(pipe, X, y, groups, datasets=datasets, n_jobs=2)
    assert rep.n_folds == 10


def test_routing_off_keeps_the_compatibility_path():
    X, y, groups, datasets = make_data()
    CorpusSpy.calls = []
    # fit takes groups: the compatibility path passes the training groups; the
    # corpora are not routed
    evaluate_loso(CorpusSpy(), X, y, groups, datasets=datasets, n_jobs=1)
    fits = [c for c in CorpusSpy.calls if c[0] == "fit"]
    for test, fit in zip(_fold_tests(groups), fits):
        np.testing.assert_array_equal(fit[1], groups[~test])
        assert fit[2] is None
    assert all(c[2] is None for c in CorpusSpy.calls if c[0] != "fit")
    # route_groups as names, either mode
    CorpusSpy.calls = []
    pipe = Pipeline([("scale", StandardScaler()), ("clf", CorpusSpy())])
    evaluate_loso(pipe, X, y, groups, n_jobs=1, route_groups=["clf__groups"])
    assert all(c[1] is not None for c in CorpusSpy.calls if c[0] == "fit")
    with pytest.raises(ValueError, match="route_groups"):
        evaluate_loso(pipe, X, y, groups, route_groups="clf__groups")
