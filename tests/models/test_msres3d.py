"""Tests of MSRes3D (network) and MSRes3DClassifier (skorch face); CPU, seconds."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from skmer.models._msres3d import MSRes3DClassifier
from skmer.models.nets import get_model
from skmer.models.nets.msres3d import (
    MSRes3D,
    MultiHeadCrossEntropyLoss,
    MultiScaleBlock,
    mean_softmax,
    min_input_size,
)

TINY = {"width": 0.0625, "hidden_features": 8}
TINY_CLF = {"module__width": 0.0625, "module__hidden_features": 8, "device": "cpu"}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # these nets are tiny: one thread is several times faster than two threads
    # fighting over a shared CPU
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _stack(n=6, c=3, t=9, size=17, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, c, t, size, size)).astype(np.float32)


# ------------------------------------------------------------------------ network
def test_param_count_documented():
    # the figure stated in MSRes3D's docstring (3 channels, 3 classes, width 1);
    # it does not depend on the input size (global pooling before the heads)
    net = MSRes3D()
    assert sum(p.numel() for p in net.parameters()) == 71_110_692
    assert net.widths == (64, 128, 256, 512)
    assert sum(isinstance(m, torch.nn.Conv3d) and m.kernel_size == (3, 3, 3)
               for m in net.layer2.modules()) == 6
    assert [len(s) for s in (net.layer2, net.layer3, net.layer4, net.layer5)] == [
        3, 4, 6, 3]


def test_stage_sizes_at_paper_input():
    net = MSRes3D(width=0.0625, hidden_features=8).eval()
    sizes = {}
    for name in ("stem", "layer2", "layer3", "layer4", "layer5", "fuse2"):
        getattr(net, name).register_forward_hook(
            lambda m, i, o, name=name: sizes.__setitem__(name, tuple(o.shape[2:])))
    with torch.no_grad():
        out = net(torch.zeros(1, 3, 16, 134, 134))
    assert out.shape == (1, 4, 3)
    assert sizes == {"stem": (16, 67, 67), "layer2": (8, 34, 34),
                     "layer3": (4, 17, 17), "layer4": (2, 9, 9),
                     "layer5": (1, 5, 5), "fuse2": (8, 34, 34)}


@pytest.mark.parametrize("shape, strides", [((2, 3, 9, 17, 17), True),
                                            ((2, 3, 12, 20, 24), True),
                                            ((2, 3, 28, 28), False),
                                            ((2, 3, 1, 17, 17), False)])
def test_four_heads_shapes(shape, strides):
    net = MSRes3D(n_classes=5, temporal_strides=strides, **TINY).eval()
    with torch.no_grad():
        out = net(torch.randn(*shape))
    assert out.shape == (2, 4, 5)
    assert torch.isfinite(out).all()


def test_forward_backward_tiny():
    torch.manual_seed(0)
    net = MSRes3D(**TINY)
    x = torch.randn(3, 3, 9, 17, 17)
    loss = MultiHeadCrossEntropyLoss()(net(x), torch.tensor([0, 1, 2]))
    loss.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
    assert net.stem[0].weight.grad.abs().sum() > 0
    for rc in (net.rc1, net.rc2, net.rc3):
        assert rc.branch_logits.grad.abs().sum() > 0


def test_multiscale_paths_and_weights():
    assert len(MultiScaleBlock(8, "rc1").branch_logits) == 4
    assert len(MultiScaleBlock(8, "rc2").branch_logits) == 4
    rc3 = MultiScaleBlock(8, "rc3")
    assert len(rc3.branch_logits) == 8  # eight directional outputs, four branches
    kernels = {m.kernel_size for m in rc3.modules() if isinstance(m, torch.nn.Conv3d)}
    assert {(1, 1, 3), (1, 3, 1)} <= kernels
    rc2 = MultiScaleBlock(8, "rc2")
    kernels = {m.kernel_size for m in rc2.modules() if isinstance(m, torch.nn.Conv3d)}
    assert {(1, 1, 7), (1, 7, 1), (7, 1, 1)} <= kernels
    with pytest.raises(ValueError, match="rc1"):
        MultiScaleBlock(8, "rc4")


def test_affa_equation():
    from skmer.models.nets.msres3d import AttentionFeatureFusion

    torch.manual_seed(0)
    affa = AttentionFeatureFusion(8, reduction=4)
    x, y = torch.randn(2, 8, 2, 3, 3), torch.randn(2, 8, 2, 3, 3)
    m = affa.cam(x + y)
    assert m.shape == (2, 8, 1, 1, 1)
    torch.testing.assert_close(affa(x, y), m * x + (1 - m) * y)
    torch.testing.assert_close(affa(x, x), x)  # convex combination of equal maps


def test_loss_and_decision_rule():
    logits = torch.randn(5, 4, 3)
    target = torch.tensor([0, 1, 2, 1, 0])
    ce = torch.nn.functional.cross_entropy
    expected = sum(ce(logits[:, h], target) for h in range(4))
    torch.testing.assert_close(MultiHeadCrossEntropyLoss()(logits, target), expected)
    weighted = MultiHeadCrossEntropyLoss(head_weights=[1, 0, 0, 0])(logits, target)
    torch.testing.assert_close(weighted, ce(logits[:, 0], target))
    proba = mean_softmax(logits)
    torch.testing.assert_close(proba, torch.softmax(logits, -1).mean(1))
    torch.testing.assert_close(proba.sum(1), torch.ones(5))


def test_module_bad_input():
    net = MSRes3D(**TINY)
    with pytest.raises(ValueError, match="in_channels=3"):
        net(torch.zeros(1, 2, 9, 17, 17))
    with pytest.raises(ValueError, match="at least 9 frames"):
        net(torch.zeros(1, 3, 8, 17, 17))
    with pytest.raises(ValueError, match="temporal_strides=False"):
        net(torch.zeros(1, 3, 17, 17))
    with pytest.raises(ValueError, match="17x17"):
        net(torch.zeros(1, 3, 9, 16, 17))
    with pytest.raises(ValueError, match="shape"):
        net(torch.zeros(3, 17, 17))


def test_min_input_size_is_tight():
    # 17 pixels / 9 frames leave 2 positions before block 5, one less leaves 1
    assert min_input_size() == (9, 17, 17)
    sizes = {}
    net = MSRes3D(**TINY).eval()
    net.layer4.register_forward_hook(
        lambda m, i, o: sizes.__setitem__("l4", tuple(o.shape[2:])))
    with torch.no_grad():
        net(torch.zeros(1, 3, 9, 17, 17))
    assert sizes["l4"] == (2, 2, 2)


def test_registry():
    net = get_model("msres3d", n_classes=7, **TINY)
    assert isinstance(net, MSRes3D)
    assert net.heads[0][-1].out_features == 7


# --------------------------------------------------------------------- classifier
def test_fit_in_pipeline_on_flow_stacks():
    from skmer.datasets._synthetic import make_micro_expressions
    from skmer.preprocessing._flow import FlowExtractor

    X, y, groups = make_micro_expressions(12, n_subjects=4, n_classes=3,
                                          n_frames=10, frame_shape=(20, 20),
                                          random_state=0)
    pipe = Pipeline([
        ("flow", FlowExtractor(method="farneback", mode="sequence")),
        ("net", MSRes3DClassifier(max_epochs=2, random_state=0, **TINY_CLF)),
    ])
    pipe.fit(X, y)
    net = pipe.named_steps["net"]
    assert net.input_shape_ == (3, 9, 20, 20)
    assert len(net.history) == 2
    proba = pipe.predict_proba(X)
    assert proba.shape == (12, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert set(pipe.predict(X)) <= set(y)
    assert net.module_.temporal_strides


def test_clone_pickle_round_trip():
    X = _stack()
    y = np.array([0, 1, 2] * 2)
    clf = MSRes3DClassifier(max_epochs=1, random_state=0, **TINY_CLF)
    proba = clf.fit(X, y).predict_proba(X)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    refit = clone(clf).fit(X, y)  # same random_state -> same training
    np.testing.assert_allclose(refit.predict_proba(X), proba, rtol=1e-5, atol=1e-6)
    assert clone(clf).get_params()["module__width"] == 0.0625


def test_flow_image_variant():
    rng = np.random.default_rng(0)
    X = rng.random((6, 3, 28, 28), dtype=np.float32)
    y = np.array(["neg", "pos", "sur"] * 2)
    clf = MSRes3DClassifier(max_epochs=1, random_state=0, flow_max=1.0, **TINY_CLF)
    clf.fit(X, y)
    assert not clf.module_.temporal_strides
    assert clf.augmenter_.max_shift == 3  # 15 px at 134 px, scaled to 28 px
    assert clf.predict(X).shape == (6,)
    with pytest.raises(ValueError, match="as in fit"):
        clf.predict(_stack())


def test_single_frame_fast_path_equals_3d_convolution(monkeypatch):
    # T = 1: the 2-D fast path of every 3-D (transposed) convolution must give the
    # 3-D result and the 3-D gradients (the dead temporal taps get zero gradient)
    import sys

    nets_mod = sys.modules["skmer.models.nets.msres3d"]
    torch.manual_seed(0)
    net = MSRes3D(temporal_strides=False, **TINY)
    x = torch.randn(4, 3, 1, 23, 19)

    def run():
        net.zero_grad()
        torch.manual_seed(1)  # the same dropout masks
        out = net(x)
        out.square().sum().backward()
        return out.detach(), {k: p.grad.clone() for k, p in net.named_parameters()}

    fast_out, fast_grad = run()
    calls = []
    monkeypatch.setattr(nets_mod, "_single_frame_tap",
                        lambda *a, **k: calls.append(1))  # always None: 3-D path
    ref_out, ref_grad = run()
    assert calls  # the reference really took the 3-D path
    torch.testing.assert_close(fast_out, ref_out, rtol=1e-5, atol=1e-5)
    for name, g in ref_grad.items():
        torch.testing.assert_close(fast_grad[name], g, rtol=1e-4, atol=1e-5,
                                   msg=name)
    stem = net.stem[0].weight
    assert fast_grad["stem.0.weight"][:, :, [0, 2]].abs().max() == 0
    assert ref_grad["stem.0.weight"][:, :, 1].abs().max() > 0
    assert stem.shape[2] == 3  # same parameters and state dict as nn.Conv3d


def test_learns_easy_set():
    # three classes = three distinct motion patterns, plus noise
    rng = np.random.default_rng(0)
    n, size = 24, 17
    y = np.arange(n) % 3
    X = 0.3 * rng.normal(size=(n, 2, size, size)).astype(np.float32)
    for i, k in enumerate(y):
        X[i, k % 2, 4 * k: 4 * k + 6, :] += 3.0 * (1 if k < 2 else -1)
    params = {**TINY_CLF, "module__hidden_features": 16, "module__dropout": 0.0}
    clf = MSRes3DClassifier(lr=3e-3, max_epochs=8, batch_size=8, augment=None,
                            random_state=0, **params)
    clf.fit(X, y)
    assert (clf.predict(X) == y).mean() >= 0.9


class _CountingAugment:
    def __init__(self):
        self.calls = 0

    def __call__(self, batch):
        self.calls += 1
        return batch


def test_augmentation_only_in_training():
    X = _stack()
    y = np.array([0, 1, 2] * 2)
    aug = _CountingAugment()
    clf = MSRes3DClassifier(max_epochs=1, batch_size=3, augment=aug, random_state=0,
                            **TINY_CLF).fit(X, y)
    assert aug.calls == 2  # 1 epoch x 2 batches
    clf.predict_proba(X)
    assert aug.calls == 2


def test_early_stopping_on_subject_split():
    X = _stack(n=12)
    y = np.arange(12) % 3
    groups = np.repeat(["d/s1", "d/s2", "d/s3", "d/s4"], 3)
    clf = MSRes3DClassifier(max_epochs=3, early_stopping=True, patience=1,
                            validation_fraction=0.25, random_state=0, **TINY_CLF)
    clf.fit(X, y, groups=groups)
    train, valid = clf.inner_split_
    assert len(valid) == 3 and not set(groups[train]) & set(groups[valid])
    assert "valid_loss" in clf.history[-1]
    with pytest.raises(ValueError, match="groups"):
        clone(clf).fit(X, y)


@pytest.mark.parametrize("X, params, match", [
    (_stack(c=2), {"module__in_channels": 3}, "channels"),
    (_stack(t=8), {}, "8 frames"),
    (_stack(size=16), {}, "16x16"),
    (np.zeros((4, 3, 17, 17), np.float32), {"module__temporal_strides": True},
     "1 frames"),
    (np.zeros((4, 17, 17), np.float32), {}, "shape"),
    (np.full((3, 3, 9, 17, 17), np.nan, np.float32), {}, "NaN"),
    (_stack(), {"augment": "mixup"}, "augment"),
    (_stack(), {"max_shift": -1}, "max_shift"),
])
def test_classifier_bad_input(X, params, match):
    y = np.arange(len(X)) % 2
    clf = MSRes3DClassifier(max_epochs=1, **{**TINY_CLF, **params})
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)


def test_predict_rejects_other_channels():
    X = _stack()
    clf = MSRes3DClassifier(max_epochs=1, random_state=0, **TINY_CLF)
    clf.fit(X, np.arange(6) % 2)
    with pytest.raises(ValueError, match="as in fit"):
        clf.predict(_stack(c=2))


def test_not_fitted_and_set_params():
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    clf = MSRes3DClassifier(**TINY_CLF)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(NotFittedError):
        clf.predict(_stack())
    clf.set_params(module__width=0.125, lr=1e-3)
    assert clf.get_params()["module__width"] == 0.125
    assert clf.get_params()["lr"] == 1e-3
    # the paper's recipe as defaults
    default = MSRes3DClassifier()
    assert (default.lr, default.max_epochs, default.optimizer) == (
        1e-5, 100, torch.optim.Adam)
    assert default.criterion is MultiHeadCrossEntropyLoss
    assert default.train_split is None and default.device == "auto"


def test_grid_search_with_loso_groups():
    from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut

    X = _stack(n=6)
    y = np.array(["neg", "pos", "sur"] * 2)
    groups = np.repeat([0, 1, 2], 2)
    search = GridSearchCV(
        MSRes3DClassifier(max_epochs=1, random_state=0,
                          classes=["neg", "pos", "sur"], **TINY_CLF),
        {"lr": [1e-4, 1e-3]}, cv=LeaveOneGroupOut())
    search.fit(X, y, groups=groups)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert set(search.best_estimator_.predict(X)) <= {"neg", "pos", "sur"}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_mixed_precision_channels_last_3d():
    X = _stack()
    y = np.arange(6) % 3
    params = {**TINY_CLF, "device": "auto"}
    clf = MSRes3DClassifier(max_epochs=1, random_state=0, **params).fit(X, y)
    assert clf.device_ == "cuda" and clf.grad_scaler_ is not None
    assert clf.module_.stem[0].weight.is_contiguous(
        memory_format=torch.channels_last_3d)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-3)
