"""Estimators for the LOSO tests (importable by a subprocess through PYTHONPATH)."""

import os
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class SlowNearestMean(ClassifierMixin, BaseEstimator):
    """Nearest class mean; sleeps $SKMER_TEST_FIT_DELAY s per fit and appends one
    line per fit to $SKMER_TEST_FIT_LOG (to count fits across processes)."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        delay = float(os.environ.get("SKMER_TEST_FIT_DELAY", "0"))
        log = os.environ.get("SKMER_TEST_FIT_LOG")
        if log:
            with open(log, "a") as f:
                f.write("fit\n")
        time.sleep(delay)
        X = np.asarray(X, float)
        self.classes_ = np.unique(y)
        self.means_ = np.stack([X[np.asarray(y) == c].mean(0) for c in self.classes_])
        return self

    def predict(self, X):
        X = np.asarray(X, float)
        d = ((X[:, None, :] - self.means_[None]) ** 2).sum(-1)
        return self.classes_[d.argmin(1)]


def make_data(n_groups=10, per_group=4, seed=0):
    rng = np.random.RandomState(seed)
    y = np.tile(np.arange(per_group) % 2, n_groups)
    X = rng.normal(size=(len(y), 3)) + 1.5 * y[:, None]
    groups = np.repeat([f"d{g % 2}/s{g:02d}" for g in range(n_groups)], per_group)
    datasets = np.array([g.split("/")[0] for g in groups])
    return X, y, groups, datasets
