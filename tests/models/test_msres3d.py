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
    select_confident_head,
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
    assert sum(p.numel() for p in net.parameters()) == 69_748_328
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
        assert rc.branch_weights.grad.abs().sum() > 0


def _kernels(module):
    return [m.kernel_size for m in module.modules()
            if isinstance(m, torch.nn.Conv3d)]


def _path_kernels(block):
    """Kernel sizes along every path of an RC module (trunk + head), in order."""
    paths = []
    for branch in block.branches:
        heads = getattr(branch, "heads", None)
        if heads is None:
            paths.append(["gap"])
            continue
        trunk = _kernels(branch.trunk)
        paths += [trunk + _kernels(head) for head in heads]
    return paths


def test_tiny_param_count():
    # printed so that a change of the architecture shows in the log
    net = MSRes3D(**TINY)
    n = sum(p.numel() for p in net.parameters())
    print(f"MSRes3D(width=0.0625, hidden_features=8): {n} parameters")
    assert n == 275_658
    assert sum(p.numel() for p in MSRes3D(width=0.25).parameters()) == 4_420_106


def test_backbone_layer_counts():
    # Jin et al. 2024, Sec. 3: block 1 a 3x7x7 convolution; blocks 2-5 with 6, 8, 12
    # and 6 convolution layers, every two forming a residual unit
    net = MSRes3D(**TINY)
    assert _kernels(net.stem) == [(3, 7, 7)]
    for layer, n_conv in zip((net.layer2, net.layer3, net.layer4, net.layer5),
                             (6, 8, 12, 6), strict=True):
        main = [k for unit in layer for k in _kernels(unit.conv1) + _kernels(
            unit.conv2)]
        assert main == [(3, 3, 3)] * n_conv
        assert len(layer) == n_conv // 2


def test_rc_branch_kernels():
    # Jin et al. 2024, Sec. 3, Figs. 4-6 (1x1x1 reductions in front of the larger
    # kernels); "gap" is the global-average-pooling branch
    f7 = [(1, 1, 7), (1, 7, 1), (7, 1, 1)]
    assert _path_kernels(MultiScaleBlock(8, "rc1")) == [
        [(1, 1, 1)],
        [(1, 1, 1), (3, 3, 3)],
        [(1, 1, 1), (3, 3, 3), (3, 3, 3)],
        ["gap"],
    ]
    assert _path_kernels(MultiScaleBlock(8, "rc2")) == [
        [(1, 1, 1)],
        ["gap"],
        [(1, 1, 1), *f7, (1, 1, 1)],
        [(1, 1, 1), *f7, *f7, (1, 1, 1)],
    ]
    f3 = [(1, 1, 3), (1, 3, 1), (3, 1, 1)]
    assert _path_kernels(MultiScaleBlock(8, "rc3")) == [
        [(1, 1, 1), *f3, (1, 1, 3)],
        [(1, 1, 1), *f3, (1, 3, 1)],
        [(1, 1, 1), *f3, (3, 1, 1)],
        [(1, 1, 1), (1, 1, 3)],
        [(1, 1, 1), (1, 3, 1)],
        [(1, 1, 1), (3, 1, 1)],
        [(1, 1, 1)],
        ["gap"],
    ]
    net = MSRes3D(**TINY)
    assert [net.rc1.kind, net.rc2.kind, net.rc3.kind] == ["rc1", "rc2", "rc3"]
    with pytest.raises(ValueError, match="rc1"):
        MultiScaleBlock(8, "rc4")


def test_rc_fusion_weights_eq_3_8():
    # K = sum_i w_i X_i with learnable, unnormalised weights starting equal
    torch.manual_seed(0)
    rc = MultiScaleBlock(4, "rc1").eval()
    assert isinstance(rc.branch_weights, torch.nn.Parameter)
    torch.testing.assert_close(rc.branch_weights.detach(), torch.full((4,), 0.25))
    x = torch.randn(2, 4, 3, 5, 5)
    with torch.no_grad():
        paths = [p for b in rc.branches for p in b(x)]
        rc.branch_weights.copy_(torch.tensor([2.0, -1.0, 0.5, 3.0]))
        expected = torch.relu(x + 2 * paths[0] - paths[1] + 0.5 * paths[2]
                              + 3 * paths[3])
        torch.testing.assert_close(rc(x), expected)
    # the pooling branch is the spatial mean, broadcast
    torch.testing.assert_close(paths[3], x.mean(dim=(3, 4), keepdim=True)
                               .expand_as(x))
    # the weights are trained (not a softmax of logits: no sum-to-one constraint)
    opt = torch.optim.SGD(rc.parameters(), lr=0.1)
    rc.train()
    rc(x).square().mean().backward()
    opt.step()
    assert not torch.isclose(rc.branch_weights.sum(), torch.tensor(4.5))
    assert len(MultiScaleBlock(8, "rc3").branch_weights) == 8  # eq. 3.9


def test_cam_equation_3_10():
    from skmer.models.nets.msres3d import ChannelAttention

    torch.manual_seed(0)
    cam = ChannelAttention(8, reduction=4).eval()
    x = torch.randn(2, 8, 2, 3, 3)
    for branch in (cam.avg_branch, cam.max_branch):
        kinds = [type(m).__name__ for m in branch]
        assert kinds == ["Conv3d", "_PooledBatchNorm", "ReLU", "Conv3d",
                         "_PooledBatchNorm"]
        assert branch[0].out_channels == 2 and branch[3].out_channels == 8
    assert cam.avg_branch[0].weight is not cam.max_branch[0].weight
    expected = torch.sigmoid(cam.avg_branch(x.mean(dim=(2, 3, 4), keepdim=True))
                             + cam.max_branch(x.amax(dim=(2, 3, 4), keepdim=True)))
    torch.testing.assert_close(cam(x), expected)
    # a training batch of one sample (the BN sees one value per channel) works
    cam.train()
    assert cam(x[:1]).shape == (1, 8, 1, 1, 1)


def test_affa_equation_3_11_two_fusions():
    from skmer.models.nets.msres3d import AttentionFeatureFusion

    torch.manual_seed(0)
    affa = AttentionFeatureFusion(8, reduction=4).eval()
    x, y = torch.randn(2, 8, 2, 3, 3), torch.randn(2, 8, 2, 3, 3)
    m1 = affa.cam1(x + y)
    assert m1.shape == (2, 8, 1, 1, 1)
    z1 = m1 * x + (1 - m1) * y
    m2 = affa.cam2(z1)
    torch.testing.assert_close(affa(x, y), m2 * x + (1 - m2) * y)
    assert not torch.allclose(affa(x, y), z1)  # really two fusion operations
    torch.testing.assert_close(affa(x, x), x)  # convex combination of equal maps


def test_temporal_fusion_is_pairwise():
    # Sec. 3: AFFA(up(X5), X4), AFFA(up(X4), X3), AFFA(up(X3), X2)
    net = MSRes3D(**TINY).eval()
    seen = {}
    for name in ("rc1", "rc2", "rc3", "layer5", "up5", "up4", "up3"):
        getattr(net, name).register_forward_hook(
            lambda m, i, o, name=name: seen.__setitem__(name, (i[0], o)))
    with torch.no_grad():
        net(torch.randn(2, 3, 9, 17, 17))
    assert seen["up5"][0] is seen["layer5"][1]
    assert seen["up4"][0] is seen["rc3"][1]
    assert seen["up3"][0] is seen["rc2"][1]


def test_four_heads_two_fc_layers():
    net = MSRes3D(n_classes=5, **TINY)
    assert len(net.heads) == net.n_heads == 4
    for head, c in zip(net.heads, (*net.widths[::-1],), strict=True):
        fc = [m for m in head if isinstance(m, torch.nn.Linear)]
        assert [(f.in_features, f.out_features) for f in fc] == [(c, 8), (8, 5)]


def test_discriminative_selection():
    logits = torch.zeros(3, 4, 3)
    logits[0, 2] = torch.tensor([0.0, 4.0, 0.0])   # head 2 surest: class 1
    logits[0, 0] = torch.tensor([3.0, 0.0, 0.0])   # head 0 less sure: class 0
    logits[1, 1] = torch.tensor([0.0, 0.0, 2.0])   # only head 1 has an opinion
    # sample 2: all heads uniform -> tie -> the deepest head (0)
    proba = select_confident_head(logits)
    torch.testing.assert_close(proba[0], torch.softmax(logits[0, 2], -1))
    torch.testing.assert_close(proba[1], torch.softmax(logits[1, 1], -1))
    torch.testing.assert_close(proba[2], torch.full((3,), 1 / 3))
    assert proba.argmax(1).tolist() == [1, 2, 0]
    # the mean rule would decide sample 0 differently
    logits[0, 1] = logits[0, 3] = torch.tensor([3.0, 0.0, 0.0])
    assert mean_softmax(logits)[0].argmax() == 0
    assert select_confident_head(logits)[0].argmax() == 1
    two_d = torch.randn(4, 3)
    torch.testing.assert_close(select_confident_head(two_d), torch.softmax(two_d, 1))


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
    # 16 epochs: the BN running statistics (the CAMs' included) must settle
    # before the eval-mode predictions match the training-mode ones
    clf = MSRes3DClassifier(lr=3e-3, max_epochs=16, batch_size=8, augment=None,
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


def test_predict_proba_is_the_selected_head():
    X = _stack()
    clf = MSRes3DClassifier(max_epochs=1, random_state=0, **TINY_CLF)
    clf.fit(X, np.arange(6) % 3)
    with torch.no_grad():
        logits = clf.module_.eval()(torch.as_tensor(X))
    np.testing.assert_allclose(clf.predict_proba(X),
                               select_confident_head(logits).numpy(), rtol=1e-5,
                               atol=1e-6)


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
    assert default.predict_nonlinearity is select_confident_head
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
