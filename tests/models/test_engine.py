"""The fold-batched engine (issue 12, point 5): CPU correctness checks.

No model receives a sample outside its own training set, every model starts from
the per-fold path's weights, and the predictions agree with the per-fold path.
"""

import os

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skmer.models import OffApexNetClassifier, STSTNetClassifier
from skmer.models._engine import (
    FoldBatchedEngine,
    _make_task,
    check_fold_batching,
    fit_predict_folds,
)
from skmer.utils._data import shared_data_dir
from skmer.utils._tags import get_skmer_tags


def fold_seed(seed, fold):
    # a stand-in for skmer.model_selection.fold_seed (the engine takes any)
    return 1000 * seed + fold + 7


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # per-fold reference fits are deterministic and fast with one thread
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _synthetic(n_per_group=(9, 6, 12, 4, 7), size=12, seed=0):
    """Groups of different sizes (so folds have different training-set sizes)."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(len(n_per_group)), n_per_group)
    n = len(groups)
    y = np.array(["neg", "pos", "sur"])[rng.integers(0, 3, n)]
    X = rng.random((n, 3, size, size), dtype=np.float32)
    X[y == "pos", 0] += 0.7
    X[y == "sur", 1] += 0.7
    return X, y, groups


def _folds(groups):
    return [(k, np.flatnonzero(groups != g), np.flatnonzero(groups == g))
            for k, g in enumerate(np.unique(groups))]


def _est(**params):
    defaults = dict(max_epochs=3, batch_size=8, device="cpu",
                    module__input_size=(12, 12))
    return STSTNetClassifier(**{**defaults, **params})


def _per_fold(est, X, y, train, test, random_state):
    clf = clone(est).set_params(random_state=random_state).fit(X[train], y[train])
    return clf, clf.predict_proba(X[test])


def test_tags_and_availability():
    assert get_skmer_tags(STSTNetClassifier()).fold_batching is True
    assert get_skmer_tags(OffApexNetClassifier()).fold_batching is False
    # on the CPU the per-fold path is preferred (the engine is not faster here)
    assert STSTNetClassifier(device="cpu")._fold_batched_available() is False


def test_no_model_receives_a_test_sample(monkeypatch):
    X, y, groups = _synthetic()
    folds = _folds(groups)
    seen = []
    gather = FoldBatchedEngine._gather

    def spy(self, idx):
        seen.append(idx.clone())
        return gather(self, idx)

    monkeypatch.setattr(FoldBatchedEngine, "_gather", spy)
    results = fit_predict_folds(_est(batch_size=5), X, y, folds, seeds=[0, 1],
                                fold_seed=fold_seed)
    assert len(results) == 2 * len(folds)
    order = [(s, k) for s in (0, 1) for k, _, _ in folds]
    assert [(r["seed"], r["fold"]) for r in results] == order
    # training steps gather from the training sets only; the last gathers of the
    # call are the predictions (each model's own test samples)
    n_train_steps = 3 * max(-(-len(tr) // 5) for _, tr, _ in folds)
    assert len(seen) > n_train_steps
    for idx in seen[:n_train_steps]:
        for i, (_, k) in enumerate(order):
            assert set(idx[i].tolist()) <= set(folds[k][1].tolist())
    for idx in seen[n_train_steps:]:
        for i, (_, k) in enumerate(order):
            assert set(idx[i].tolist()) <= set(folds[k][2].tolist())
    for r in results:
        assert r["test"] == folds[r["fold"]][2].tolist()
        assert r["random_state"] == fold_seed(r["seed"], r["fold"])


def test_initial_weights_equal_the_per_fold_path():
    X, y, groups = _synthetic()
    folds = _folds(groups)
    est = _est()
    tasks = [_make_task(est, X, y, s, k, tr, te, fold_seed(s, k))
             for s in (0, 3) for k, tr, te in folds]
    state_before = torch.get_rng_state()
    engine = FoldBatchedEngine(est, X, y, tasks)
    assert torch.equal(torch.get_rng_state(), state_before)
    for i, t in enumerate(tasks):
        ref = clone(est).set_params(random_state=t.random_state, max_epochs=0)
        ref.fit(X[t.train], y[t.train])
        expected = ref.module_.state_dict()
        got = engine.net.state_dict(i)
        assert expected.keys() == got.keys()
        for name, value in expected.items():
            assert torch.equal(got[name], value), (i, name)


def test_matches_the_per_fold_path_on_synthetic_folds():
    # different training-set sizes, batches of 5: short batches, padded steps,
    # and models with no batch at the last step of an epoch
    X, y, groups = _synthetic()
    folds = _folds(groups)
    est = _est(batch_size=5, max_epochs=4)
    results = fit_predict_folds(est, X, y, folds, seeds=[0], fold_seed=fold_seed)
    for r in results:
        _, train, test = folds[r["fold"]]
        clf, proba = _per_fold(est, X, y, train, test, r["random_state"])
        np.testing.assert_allclose(np.array(r["proba"]), proba, atol=1e-4)
        assert r["classes"] == clf.classes_.tolist()
        assert r["y_pred"] == clf.predict(X[test]).tolist()


def test_fold_missing_a_class():
    # a fold whose training set lacks a class: that model has 2 outputs, as in
    # the per-fold path (classes=None), the others 3
    X, y, groups = _synthetic()
    y = y.copy()
    y[groups != 0] = np.where(y[groups != 0] == "sur", "pos", y[groups != 0])
    y[groups == 0] = "sur"
    folds = _folds(groups)
    est = _est(max_epochs=2)
    results = fit_predict_folds(est, X, y, folds, seeds=[0], fold_seed=fold_seed)
    assert results[0]["classes"] == ["neg", "pos"]
    assert results[1]["classes"] == ["neg", "pos", "sur"]
    for r in results:
        _, train, test = folds[r["fold"]]
        _, proba = _per_fold(est, X, y, train, test, r["random_state"])
        np.testing.assert_allclose(np.array(r["proba"]), proba, atol=1e-4)


def _flow_subset(n_subjects=8):
    root = shared_data_dir()
    path = None if root is None else os.path.join(root, "megc2019", "flow_uvos_28")
    if path is None or not os.path.isdir(path):
        pytest.skip("the MEGC2019 flow images are not in the shared data folder")
    from skmer.datasets import load_flow_images

    X, y, groups = load_flow_images(path, return_X_y=True)
    subjects, counts = np.unique(groups, return_counts=True)
    keep = subjects[np.argsort(-counts, kind="stable")[:n_subjects]]
    mask = np.isin(groups, keep)
    return X[mask], np.asarray(y)[mask], np.asarray(groups)[mask]


def test_agrees_with_the_per_fold_path_on_real_flow_images():
    X, y, groups = _flow_subset()
    folds = _folds(groups)
    est = STSTNetClassifier(max_epochs=5, device="cpu")
    results = fit_predict_folds(est, X, y, folds, seeds=[0, 1], fold_seed=fold_seed)
    agree = total = 0
    gaps = []
    for r in results:
        _, train, test = folds[r["fold"]]
        clf, proba = _per_fold(est, X, y, train, test, r["random_state"])
        agree += int((clf.predict(X[test]) == np.array(r["y_pred"])).sum())
        total += len(test)
        gaps.append(np.abs(np.array(r["proba"]) - proba).mean())
    assert total == 2 * len(y)
    assert agree / total >= 0.98
    # the same random draws as the per-fold path (dropout noise included, drawn in
    # the layout of these channels-last images): only rounding differs
    assert np.mean(gaps) < 1e-3


@pytest.mark.parametrize("params, match", [
    (dict(optimizer=torch.optim.SGD), "optimizer"),
    (dict(callbacks=[("x", None)]), "callbacks"),
    (dict(train_split=lambda *a: a), "train_split"),
    (dict(criterion=torch.nn.NLLLoss), "criterion"),
    (dict(criterion__label_smoothing=0.1), "criterion__label_smoothing"),
    (dict(lr_schedule="step"), "lr_schedule"),
])
def test_unsupported_settings_raise(params, match):
    X, y, groups = _synthetic()
    est = _est(**params)
    with pytest.raises(ValueError, match=match):
        est._fit_predict_folds(X, y, _folds(groups), seeds=[0], fold_seed=fold_seed)
    assert est._fold_batched_available() is False


def test_bad_input_raises():
    X, y, groups = _synthetic()
    folds = _folds(groups)
    with pytest.raises(ValueError, match="only STSTNetClassifier"):
        check_fold_batching(OffApexNetClassifier())
    with pytest.raises(ValueError, match="overlap"):
        fit_predict_folds(_est(), X, y, [(0, np.arange(10), np.arange(5, 12))],
                          seeds=[0], fold_seed=fold_seed)
    with pytest.raises(ValueError, match="at least one seed"):
        fit_predict_folds(_est(), X, y, folds, seeds=[], fold_seed=fold_seed)
    with pytest.raises(ValueError, match="shape"):
        fit_predict_folds(_est(), X[:, :2], y, folds, seeds=[0], fold_seed=fold_seed)


def test_device_dropout_path_is_deterministic():
    # the CUDA path draws all dropout masks at once on the device; run its code on
    # the CPU: deterministic for a given call, probabilities well formed
    X, y, groups = _synthetic()
    folds = _folds(groups)
    est = _est(max_epochs=6, lr=1e-2)

    def run():
        tasks = [_make_task(est, X, y, 0, k, tr, te, fold_seed(0, k))
                 for k, tr, te in folds]
        engine = FoldBatchedEngine(est, X, y, tasks, exact=False).fit()
        return tasks, engine.predict_proba()

    tasks, first = run()
    _, second = run()
    for a, b, t in zip(first, second, tasks, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.shape == (len(t.test), 3)
        np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-5)


def test_chunking_does_not_change_results(monkeypatch):
    import skmer.models._engine as engine_module

    X, y, groups = _synthetic()
    folds = _folds(groups)
    est = _est(max_epochs=2)
    whole = fit_predict_folds(est, X, y, folds, seeds=[0, 1], fold_seed=fold_seed)
    monkeypatch.setattr(engine_module, "_models_per_chunk", lambda *a: 3)
    chunked = fit_predict_folds(est, X, y, folds, seeds=[0, 1], fold_seed=fold_seed)
    for a, b in zip(whole, chunked, strict=True):
        keys = ("seed", "fold", "y_pred", "classes")
        assert [a[k] for k in keys] == [b[k] for k in keys]
        np.testing.assert_allclose(a["proba"], b["proba"], atol=1e-6)
