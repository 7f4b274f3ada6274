"""LOSO folds on a Ray cluster through joblib's ``ray`` backend (optional extra).

Start-up of a local Ray instance takes about 10 s on a busy 2-core machine, so
the instance is shared by the module and the LOSO is small.
"""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from skmer.model_selection import evaluate_loso

ray = pytest.importorskip(
    "ray", reason="ray is not installed (pip install 'skmer[ray]'); the Ray "
                  "backend test needs it")


@pytest.fixture(scope="module")
def ray_backend():
    from ray.util.joblib import register_ray

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    register_ray()
    yield
    if started:
        ray.shutdown()


def test_loso_on_ray_equals_sequential(ray_backend, monkeypatch):
    import joblib
    from ray.util.multiprocessing import pool as ray_pool

    # the folds must run in a Ray actor pool: count the pools joblib's ray
    # backend creates in this (driver) process and the actors they hold
    created = []
    init = ray_pool.Pool.__init__

    def spy(self, *args, **kwargs):
        init(self, *args, **kwargs)
        created.append(len(self._actor_pool))

    monkeypatch.setattr(ray_pool.Pool, "__init__", spy)

    rng = np.random.RandomState(0)
    X = rng.normal(size=(48, 6))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=48) > 0, "pos", "neg")
    groups = np.repeat([f"d/s{i}" for i in range(6)], 8)
    # random_state at work: each fold's forest is seeded from (seed, fold)
    est = RandomForestClassifier(n_estimators=5)
    ref = evaluate_loso(est, X, y, groups, seeds=(0, 1))
    assert not created
    with joblib.parallel_config(backend="ray"):
        rep = evaluate_loso(est, X, y, groups, seeds=(0, 1), n_jobs=-1)
    assert created == [2], created  # one pool of 2 actors (num_cpus=2)
    assert rep.n_folds == ref.n_folds == 6
    assert len(rep.predictions) == 2 * 48
    assert rep.predictions.equals(ref.predictions)
    assert rep.scores.equals(ref.scores)
