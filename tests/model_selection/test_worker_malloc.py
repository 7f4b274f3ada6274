"""Fold workers tune glibc's allocator; the calling process is left alone."""

import sys

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from skmer.model_selection import _backend, evaluate_loso

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="mallopt is a glibc setting")


class _ReportsTuning(ClassifierMixin, BaseEstimator):
    """Predict whether the process it runs in had its allocator tuned."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        from skmer.model_selection import _backend as backend

        label = "tuned" if backend._MALLOC_TUNED else "untuned"
        return np.full(len(X), label, dtype=object)


def _data():
    X = np.zeros((8, 2))
    y = np.array(["tuned", "untuned"] * 4, dtype=object)
    groups = np.repeat(["d/a", "d/b", "d/c", "d/d"], 2)
    return X, y, groups


def test_caller_process_allocator_untouched():
    X, y, groups = _data()
    before = _backend._MALLOC_TUNED
    rep = evaluate_loso(_ReportsTuning(), X, y, groups, n_jobs=1)
    assert _backend._MALLOC_TUNED is before
    if not before:
        assert set(rep.predictions["y_pred"]) == {"untuned"}


def test_worker_processes_tune_their_allocator():
    X, y, groups = _data()
    rep = evaluate_loso(_ReportsTuning(), X, y, groups, n_jobs=2)
    assert set(rep.predictions["y_pred"]) == {"tuned"}
