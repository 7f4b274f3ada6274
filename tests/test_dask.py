"""LOSO folds and per-clip preprocessing on a dask.distributed cluster (joblib)."""

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

from skmer.datasets._synthetic import make_micro_expressions
from skmer.model_selection import evaluate_loso
from skmer.predict import flatten_samples
from skmer.preprocessing import FlowExtractor

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install "
                          "'skmer[dask]'); the cluster tests need it")


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def data():
    return make_micro_expressions(n_clips=24, n_subjects=4, frame_shape=(32, 32),
                                  random_state=0)


def _pipe():
    return Pipeline([
        # n_jobs=1: the per-clip step runs in place (evaluate_loso also runs a
        # parallel fold's nested joblib calls in place, see the last test)
        ("flow", FlowExtractor(method="farneback", output_size=(16, 16),
                               scale="minmax", n_jobs=1)),
        ("flatten", FunctionTransformer(flatten_samples)),
        ("scale", StandardScaler()),
        ("svc", SVC(C=10.0, class_weight="balanced")),
    ])


def test_loso_on_cluster_equals_sequential(client, data):
    import joblib
    from distributed import get_task_stream

    X, y, groups = data
    ref = evaluate_loso(_pipe(), X, y, groups)
    with get_task_stream(client) as ts, joblib.parallel_config(backend="dask"):
        rep = evaluate_loso(_pipe(), X, y, groups, n_jobs=-1)
    # every fold ran as a task on the cluster's workers
    fold_tasks = [t for t in ts.data if "_fit_predict" in t["key"]]
    assert len(fold_tasks) == 4, [t["key"] for t in ts.data]
    assert {t["worker"] for t in ts.data} <= set(client.scheduler_info()["workers"])
    assert rep.n_folds == ref.n_folds == 4
    np.testing.assert_array_equal(rep.predictions["y_pred"],
                                  ref.predictions["y_pred"])
    assert rep.predictions.equals(ref.predictions)
    assert rep.uf1 == ref.uf1


def test_per_clip_preprocessing_on_cluster(client, data):
    import joblib
    from distributed import get_task_stream

    X = data[0][:8]
    ref = FlowExtractor(method="farneback").fit_transform(X)  # sequential
    ext = FlowExtractor(method="farneback", n_jobs=-1)
    with get_task_stream(client) as ts, joblib.parallel_config(backend="dask"):
        out = ext.fit_transform(X)
    assert any("_clip_flows" in t["key"] for t in ts.data)
    np.testing.assert_array_equal(out, ref)


def test_nested_steps_stay_in_the_fold_worker(client, data):
    # a per-clip step inside a fold that runs on a worker: under the dask backend
    # its joblib call would go back to the cluster (dask ignores n_jobs), one
    # task per clip; evaluate_loso runs a parallel fold's nested calls in place
    import joblib
    from distributed import get_task_stream

    X, y, groups = data
    pipe = _pipe().set_params(flow__n_jobs=None)
    ref = evaluate_loso(pipe, X, y, groups)
    with get_task_stream(client) as ts, joblib.parallel_config(backend="dask"):
        rep = evaluate_loso(pipe, X, y, groups, n_jobs=-1)
    keys = [t["key"] for t in ts.data]
    # distinct keys: a task re-run after a worker was slow to answer counts once
    assert len({k for k in keys if "_fit_predict" in str(k)}) == 4, keys
    assert not any("_clip_flows" in str(k) for k in keys), keys
    assert rep.predictions.equals(ref.predictions)
