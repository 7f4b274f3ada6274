"""n_jobs defaults, worker caps and thread limits of evaluate_loso's folds."""

import json
import os
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from threadpoolctl import threadpool_info

from skmer.model_selection import evaluate_loso
from skmer.model_selection._backend import _one_thread, _plan

sys.path.insert(0, str(Path(__file__).parent.parent))
from loso_helpers import SlowNearestMean, make_data  # noqa: E402


class ThreadSpy(ClassifierMixin, BaseEstimator):
    """Writes the torch and BLAS/OpenMP thread counts its fit saw to ``log_dir``."""

    def __init__(self, log_dir=None, random_state=None):
        self.log_dir = log_dir
        self.random_state = random_state

    def fit(self, X, y):
        seen = {"torch": torch.get_num_threads(),
                "pools": sorted({i["num_threads"] for i in threadpool_info()}),
                "pid": os.getpid()}
        path = Path(self.log_dir) / f"fit-{self.random_state}.json"
        path.write_text(json.dumps(seen))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def _threads():
    return (torch.get_num_threads(),
            [(i["prefix"], i["num_threads"]) for i in threadpool_info()])


@pytest.fixture
def two_torch_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("n_jobs", [1, 2, None])
def test_folds_run_with_one_thread_and_the_callers_threads_come_back(
        tmp_path, two_torch_threads, n_jobs):
    X, y, groups, _ = make_data(n_groups=4)
    before = _threads()
    evaluate_loso(ThreadSpy(log_dir=str(tmp_path)), X, y, groups, n_jobs=n_jobs)
    assert _threads() == before
    logs = [json.loads(p.read_text()) for p in tmp_path.glob("fit-*.json")]
    assert len(logs) == 4
    for seen in logs:
        assert seen["torch"] == 1
        assert seen["pools"] in ([1], [])
    if n_jobs in (1, None):  # None: folds this quick stay in the caller
        assert {s["pid"] for s in logs} == {os.getpid()}
    else:
        assert os.getpid() not in {s["pid"] for s in logs}


def test_default_goes_parallel_when_the_folds_are_slow(tmp_path, monkeypatch):
    from skmer.model_selection import _backend

    X, y, groups, _ = make_data(n_groups=4)
    # the first fold runs in the caller and is timed; the others go to workers
    # when they would take longer than _SEQUENTIAL_BELOW_S one after another
    monkeypatch.setattr(_backend, "_SEQUENTIAL_BELOW_S", 0.0)
    evaluate_loso(ThreadSpy(log_dir=str(tmp_path)), X, y, groups)
    pids = [json.loads(p.read_text())["pid"] for p in tmp_path.glob("fit-*.json")]
    assert len(pids) == 4 and pids.count(os.getpid()) == 1


def test_one_thread_context_restores_and_nests(two_torch_threads):
    before = _threads()
    with _one_thread():
        assert torch.get_num_threads() == 1
        with _one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
        assert {n for _, n in _threads()[1]} <= {1}
    assert _threads() == before


@pytest.mark.parametrize("n_jobs", [0, 1.5, True, "2"])
def test_bad_n_jobs(n_jobs):
    X, y, groups, _ = make_data()
    with pytest.raises(ValueError, match="n_jobs must be None.*positive int"):
        evaluate_loso(SlowNearestMean(), X, y, groups, n_jobs=n_jobs)


def test_workers_are_capped_to_the_folds():
    assert _plan(50, 10).n_jobs == 10
    assert _plan(-1, 1).n_jobs == 1
    assert _plan(None, 3).n_jobs == min(joblib.cpu_count(), 3)
    assert _plan(None, 100).n_jobs == joblib.cpu_count()
    assert _plan(None, 100).own_loky == (joblib.cpu_count() > 1)
    X, y, groups, _ = make_data(n_groups=3)
    rep = evaluate_loso(SlowNearestMean(), X, y, groups, n_jobs=64)  # no error
    ref = evaluate_loso(SlowNearestMean(), X, y, groups, n_jobs=1)
    assert rep.predictions.equals(ref.predictions)


def test_n_jobs_none_respects_joblib_parallel_config():
    with joblib.parallel_config(n_jobs=1):
        assert _plan(None, 10).n_jobs == 1
    with joblib.parallel_config(backend="threading", n_jobs=3):
        plan = _plan(None, 10)
        assert plan.n_jobs == 3 and not plan.own_loky
    with joblib.parallel_config(backend="threading"):
        assert _plan(None, 10).n_jobs == 1  # the threading backend's default
        assert _plan(2, 10).n_jobs == 2
    X, y, groups, _ = make_data()
    with joblib.parallel_config(backend="threading", n_jobs=2):
        rep = evaluate_loso(SlowNearestMean(), X, y, groups)
    ref = evaluate_loso(SlowNearestMean(), X, y, groups, n_jobs=1)
    assert rep.predictions.equals(ref.predictions)
