"""Tests of ARTNet: the amplification layer, the network, AmplifiedFlow with RAFT
and the skorch classifier (CPU, tiny inputs)."""

import pickle

import cv2
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, LeaveOneGroupOut

from skmer.datasets._synthetic import make_micro_expressions
from skmer.models._artnet import ARTNetClassifier, make_artnet_pipeline
from skmer.models.nets.artnet import (
    ARTNet,
    PyramidAmplifier,
    amplify_pair,
    pyr_down,
    pyr_up,
)
from skmer.models.nets.raft import RAFT
from skmer.preprocessing import AmplifiedFlow, OnsetApexPairs
from skmer.preprocessing._magnify import magnify_pair

# The paper-default configuration (3 classes, 3 flow channels, 4 levels): the
# figure documented in ARTNet's Notes.
N_PARAMS_DEFAULT = 156_883


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # tiny networks run many times faster single-threaded on a shared CPU
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def raft_weights(tmp_path_factory):
    """A randomly initialised RAFT-small state dict saved to a file (the loading
    path is the user's; the flow is meaningless, the plumbing is not)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("raft") / "raft_small_random.pth"
    torch.save(RAFT("small").state_dict(), path)
    return path


@pytest.fixture(scope="module")
def me_data():
    return make_micro_expressions(12, n_subjects=3, n_classes=3, n_frames=6,
                                  frame_shape=(24, 24), random_state=0)


# --------------------------------------------------------------------------------------
# AA module: the torch Laplacian pyramid equals OpenCV's / magnify_pair
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(16, 16), (15, 17), (7, 6), (3, 4), (2, 5), (1, 3)])
def test_pyramid_ops_equal_opencv(shape):
    a = np.random.default_rng(0).random(shape).astype(np.float32)
    down_cv = cv2.pyrDown(a)
    down = pyr_down(torch.from_numpy(a)[None, None])[0, 0].numpy()
    assert down.shape == down_cv.shape
    np.testing.assert_allclose(down, down_cv, atol=1e-6)
    up_cv = cv2.pyrUp(down_cv, dstsize=(shape[1], shape[0]))
    up = pyr_up(torch.from_numpy(down_cv)[None, None], shape)[0, 0].numpy()
    np.testing.assert_allclose(up, up_cv, atol=1e-6)


@pytest.mark.parametrize("shape, lambda_c", [((48, 48), 16.0), ((28, 33), 16.0),
                                             ((24, 24), None), ((64, 40), 8.0)])
def test_amplify_pair_equals_magnify_pair(shape, lambda_c):
    rng = np.random.default_rng(1)
    onset = rng.integers(0, 256, shape).astype(np.uint8)
    apex = np.clip(onset + rng.integers(-15, 16, shape), 0, 255).astype(np.uint8)
    alphas = [0.0, 1.5, 4.0, 10.0]
    want = magnify_pair(onset, apex, alphas, lambda_c=lambda_c)
    got = amplify_pair(torch.tensor(onset, dtype=torch.float32)[None, None],
                       torch.tensor(apex, dtype=torch.float32)[None, None],
                       alphas, lambda_c=lambda_c)
    assert got.shape == (1, 4, 1) + shape
    np.testing.assert_allclose(got[0, :, 0].numpy(), want, atol=1e-3)
    # alpha = 0 gives the apex back exactly
    assert torch.equal(got[0, 0, 0], torch.tensor(apex, dtype=torch.float32))


def test_amplify_pair_is_differentiable_and_linear():
    onset = torch.zeros(1, 1, 16, 16)
    apex = torch.rand(1, 1, 16, 16, requires_grad=True)
    out = PyramidAmplifier([3.0], lambda_c=None)(onset, apex)
    assert torch.allclose(out[0, 0], 4 * apex[0])  # apex + 3 (apex - onset)
    out.sum().backward()
    assert torch.allclose(apex.grad, torch.full_like(apex.grad, 4.0))
    with pytest.raises(ValueError, match=">= 0"):
        amplify_pair(onset, onset, [1.0, -2.0])
    with pytest.raises(ValueError, match="too many"):
        amplify_pair(onset, onset, [1.0], levels=9)


# --------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------
def test_artnet_shapes_and_parameter_count():
    net = ARTNet(n_classes=3)
    n_trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert n_trainable == N_PARAMS_DEFAULT
    assert net(torch.randn(2, 4, 3, 28, 28)).shape == (2, 3)
    assert ARTNet(n_classes=5, alphas=2, in_channels=2)(
        torch.randn(3, 2, 2, 8, 8)).shape == (3, 5)


def test_artnet_forward_backward_tiny():
    torch.manual_seed(0)
    net = ARTNet(n_classes=2, alphas=(0.0, 4.0))
    x = torch.randn(4, 2, 3, 12, 12)
    loss = torch.nn.functional.cross_entropy(net(x), torch.tensor([0, 1, 0, 1]))
    loss.backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    # the level embedding is used: swapping levels changes the output
    net.eval()
    with torch.no_grad():
        assert not torch.allclose(net(x), net(x.flip(1)))


def test_artnet_raft_path_frozen(raft_weights):
    torch.manual_seed(0)
    net = ARTNet(n_classes=3, alphas=(0.0, 4.0), flow_source="raft",
                 raft_weights=raft_weights, raft_iters=1)
    frames = torch.rand(2, 2, 16, 16)
    out = net.train()(frames)
    assert out.shape == (2, 3)
    assert not net.raft.training  # stays in eval mode
    out.sum().backward()
    assert all(p.grad is None for p in net.raft.parameters())
    assert all(p.grad is not None for p in net.flow_encoder.parameters())


def test_artnet_bad_inputs(raft_weights):
    net = ARTNet(n_classes=3, alphas=(0.0, 2.0))
    with pytest.raises(ValueError, match="2 levels, 3 channels"):
        net(torch.randn(2, 2, 2, 16, 16))  # wrong channel count
    with pytest.raises(ValueError, match="2 levels"):
        net(torch.randn(2, 3, 3, 16, 16))  # wrong number of levels
    with pytest.raises(ValueError, match="at least 8x8"):
        net(torch.randn(2, 2, 3, 6, 6))  # too small
    with pytest.raises(ValueError, match=">= 0"):
        ARTNet(alphas=(1.0, -1.0))
    with pytest.raises(ValueError, match="raft_weights"):
        ARTNet(flow_source="raft")
    with pytest.raises(ValueError, match="flow_source"):
        ARTNet(flow_source="farneback")
    raft_net = ARTNet(flow_source="raft", raft_weights=raft_weights, raft_iters=1)
    with pytest.raises(ValueError, match="onset/apex"):
        raft_net(torch.rand(2, 3, 16, 16))


# --------------------------------------------------------------------------------------
# AmplifiedFlow with RAFT (the torch-free tests are in tests/preprocessing)
# --------------------------------------------------------------------------------------
def test_amplified_flow_raft_method(raft_weights, me_data):
    X = me_data[0][:2]
    out = AmplifiedFlow(alphas=(0.0, 2.0), method="raft", raft_weights=raft_weights,
                        raft_iters=1, strain=False).fit_transform(X)
    assert out.shape == (2, 2, 2, 24, 24) and np.isfinite(out).all()


# --------------------------------------------------------------------------------------
# the classifier
# --------------------------------------------------------------------------------------
def _clf(**params):
    defaults = dict(max_epochs=2, batch_size=8, device="cpu", random_state=0)
    return ARTNetClassifier(**{**defaults, **params})


def test_pipeline_fit_predict_clone_pickle(me_data):
    X, y, groups = me_data
    pipe = make_artnet_pipeline(alphas=(0.0, 4.0), method="dis",
                                output_size=(12, 12), max_epochs=2, batch_size=8,
                                device="auto", random_state=0)
    with pytest.raises(NotFittedError):
        pipe.predict(X)
    pipe.fit(X, y)
    net = pipe.named_steps["net"]
    assert net.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    assert net.input_shape_ == (2, 3, 12, 12) and net.alphas_ is None
    proba = pipe.predict_proba(X)
    assert proba.shape == (12, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert set(pipe.predict(X)) <= set(y)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_allclose(restored.predict_proba(X), proba, atol=1e-6)
    # clone: same parameters, unfitted; refitting with the same seed is reproducible
    twin = clone(pipe).fit(X, y)
    np.testing.assert_allclose(twin.predict_proba(X), proba, atol=1e-5)
    assert clone(pipe).get_params()["amplify__alphas"] == (0.0, 4.0)


def test_grid_search_over_alphas_leave_one_group_out(me_data):
    X, y, groups = me_data
    pipe = make_artnet_pipeline(method="dis", output_size=(12, 12), max_epochs=1,
                                batch_size=8, device="cpu", random_state=0)
    search = GridSearchCV(pipe, {"amplify__alphas": [(0.0,), (0.0, 4.0)]},
                          cv=LeaveOneGroupOut(), scoring="f1_macro",
                          error_score="raise")
    search.fit(X, y, groups=groups)
    assert len(search.cv_results_["params"]) == 2
    assert search.best_estimator_.named_steps["net"].module_.n_levels == len(
        search.best_params_["amplify__alphas"])


def test_grid_search_over_classifier_alphas_raft_path(raft_weights, me_data):
    X, y, groups = me_data
    pairs = OnsetApexPairs().fit_transform(X[:8])
    clf = _clf(flow_source="raft", raft_weights=raft_weights, max_epochs=1,
               module__raft_iters=1)
    search = GridSearchCV(clf, {"alphas": [(0.0,), (0.0, 6.0)]}, cv=GroupKFold(2),
                          error_score="raise")
    search.fit(pairs, y[:8], groups=groups[:8])
    best = search.best_estimator_
    assert best.alphas_ == search.best_params_["alphas"]
    assert best.module_.amplifier.alphas == best.alphas_
    assert best.predict_proba(pairs).shape == (8, 3)


def test_learns_an_easy_problem():
    rng = np.random.default_rng(0)
    n = 36
    y = np.arange(n) % 3
    directions = np.array([[1.0, 0.0], [0.0, 1.0], [-0.7, 0.7]])
    X = 0.3 * rng.standard_normal((n, 2, 3, 12, 12)).astype(np.float32)
    gain = np.array([1.0, 3.0])  # a larger motion at the larger factor
    X[:, :, 0] += (directions[y, 0][:, None] * gain)[..., None, None]
    X[:, :, 1] += (directions[y, 1][:, None] * gain)[..., None, None]
    clf = _clf(max_epochs=25, batch_size=12, lr=3e-3).fit(X, y)
    assert (clf.predict(X) == y).mean() >= 0.9


def test_classifier_bad_inputs(raft_weights):
    X = np.zeros((6, 2, 3, 12, 12), dtype=np.float32)
    y = np.array([0, 1] * 3)
    with pytest.raises(ValueError, match="n_alphas, channels"):
        _clf().fit(X[:, 0], y)  # 4-D input on the precomputed path
    with pytest.raises(ValueError, match="2 amplification levels"):
        _clf(alphas=(0.0, 2.0, 4.0)).fit(X, y)
    with pytest.raises(ValueError, match=">= 0"):
        _clf(alphas=(0.0, -2.0)).fit(X, y)
    with pytest.raises(ValueError, match="at least 8x8"):
        _clf().fit(X[..., :6, :6], y)
    with pytest.raises(ValueError, match="module__in_channels=2"):
        _clf(module__in_channels=2).fit(X, y)
    with pytest.raises(ValueError, match="raft_weights"):
        _clf(flow_source="raft").fit(np.zeros((6, 2, 16, 16), np.float32), y)
    with pytest.raises(ValueError, match="onset/apex"):
        _clf(flow_source="raft", raft_weights=raft_weights).fit(
            np.zeros((6, 3, 16, 16), np.float32), y)
    X_nan = X.copy()
    X_nan[0, 0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _clf().fit(X_nan, y)
    fitted = _clf(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="as in fit"):
        fitted.predict(X[:, :, :2])
