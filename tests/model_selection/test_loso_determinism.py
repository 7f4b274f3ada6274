"""The same seed gives the same STSTNet predictions whatever n_jobs and backend.

Each fold seeds torch from its ``fold_seed`` (the classifier's ``random_state``)
and runs with one intra-op thread, so the floating-point reductions are the same
in the calling process, in loky workers and on dask workers.
"""

import numpy as np
import pytest
import torch

from skmer.datasets import load_flow_images
from skmer.model_selection import evaluate_loso
from skmer.models import STSTNetClassifier


@pytest.fixture(scope="module")
def composite_subset(megc2019_dir):
    d = load_flow_images(megc2019_dir / "flow_uvos_28")
    keep = np.isin(d.groups, sorted(set(d.groups))[:6])  # 6 subjects, 6 folds
    # the loader's array is a transposed (channels-last) view, loky and dask hand
    # their workers C-contiguous copies: the networks' one canonical layout makes
    # that irrelevant
    # (test_ststnet_training_does_not_depend_on_the_memory_layout)
    return d.data[keep], d.target[keep], d.groups[keep]


def _net():
    return STSTNetClassifier(max_epochs=3, batch_size=16, device="cpu")


@pytest.mark.slow
def test_ststnet_predictions_do_not_depend_on_n_jobs_or_backend(composite_subset):
    import joblib

    X, y, groups = composite_subset
    threads = torch.get_num_threads()
    seq = evaluate_loso(_net(), X, y, groups, seeds=(0, 1), n_jobs=1)
    assert torch.get_num_threads() == threads
    par = evaluate_loso(_net(), X, y, groups, seeds=(0, 1), n_jobs=2)
    assert seq.predictions.equals(par.predictions)
    assert seq.probabilities.equals(par.probabilities)  # bit for bit
    # the two seeds are different trainings
    p = seq.probabilities.to_numpy()
    assert not np.array_equal(p[: len(y)], p[len(y):])

    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed")
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
          as cluster, distributed.Client(cluster),
          joblib.parallel_config(backend="dask")):
        on_dask = evaluate_loso(_net(), X, y, groups, seeds=(0, 1), n_jobs=-1)
    assert seq.predictions.equals(on_dask.predictions)
    assert seq.probabilities.equals(on_dask.probabilities)


def test_ststnet_training_does_not_depend_on_the_memory_layout(megc2019_dir):
    d = load_flow_images(megc2019_dir / "flow_uvos_28")
    keep = np.isin(d.groups, sorted(set(d.groups))[:3])
    X, y = d.data[keep], d.target[keep]
    assert not X.flags.c_contiguous
    a = _net().set_params(random_state=0).fit(X, y).predict_proba(X)
    b = _net().set_params(random_state=0).fit(np.ascontiguousarray(X), y)
    np.testing.assert_array_equal(a, b.predict_proba(X))
