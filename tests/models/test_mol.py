"""Tests of the MOL network and MOLClassifier (CPU, tiny networks)."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

import skmer.models._mol as mol_module
from skmer.datasets import Clip
from skmer.datasets._synthetic import make_micro_expressions
from skmer.models._mol import MOLClassifier, MOLLoss, mol_aux_targets
from skmer.models.nets.mol import (
    MOL,
    ChannelCorrespondenceConv,
    FullyConnectedConv,
    channel_knn,
    check_mol_input_size,
    correlation,
    landmarks_to_normalized,
    landmarks_to_pixels,
    mol,
)
from skmer.preprocessing import TemporalResampler
from skmer.utils.estimator_checks import clip_estimator_checks, make_check_clips

TINY = dict(width=0.125, corr_patch_size=3)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # the CI/dev machine's 2 cores are shared: torch's OpenMP threads spin-wait
    # and run 5-50x slower under load than a single thread on these tiny nets
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
TINY_CLF = dict(module__width=0.125, module__corr_patch_size=3,
                aux_flow_method="farneback", landmark_source="none",
                device="cpu", random_state=0)

# the paper's network (width=1, 8 frames of 128x128, 3 classes)
PAPER_PARAMS = 44_086_685
# the authors' released code for the same setting: + 2 x 8,192 cropped-away kernel
# and embedding rows + 2 x 898 in the unused feed-forward layers (see MOL's Notes)
AUTHORS_CODE_PARAMS = 44_104_865


# --------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(32, 32), (24, 40)])
def test_output_shapes(size):
    torch.manual_seed(0)
    net = MOL(n_classes=5, input_size=size, **TINY)
    logits, flow, landmarks = net(torch.randn(2, 1, 8, *size))
    assert logits.shape == (2, 5)
    assert flow.shape == (2, 7, 2, *size)
    assert landmarks.shape == (2, 7, 68, 2)
    assert net.feature_shape[0] == 16


def test_n_frames_parameter():
    net = MOL(n_frames=5, input_size=(32, 32), **TINY)
    logits, flow, landmarks = net(torch.zeros(1, 1, 5, 32, 32))
    assert flow.shape[1] == landmarks.shape[1] == 4
    with pytest.raises(ValueError, match="n_frames >= 4"):
        MOL(n_frames=3, input_size=(32, 32), **TINY)


def test_parameter_count_at_paper_size():
    net = mol()  # registered builder, paper defaults
    n = sum(p.numel() for p in net.parameters())
    assert n == PAPER_PARAMS
    # the documented difference from the authors' code (unused weights only)
    assert AUTHORS_CODE_PARAMS - PAPER_PARAMS == 2 * 8192 + 2 * 898
    flow = sum(p.numel() for p in net.flow_head.parameters())
    assert 0.89 < flow / n < 0.91


def test_forward_backward_tiny():
    torch.manual_seed(0)
    net = MOL(input_size=(32, 32), **TINY)
    out = net(torch.randn(2, 1, 8, 32, 32))
    loss = sum(o.float().pow(2).mean() for o in out)
    loss.backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert not missing
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


def test_wrong_input_shape_raises():
    net = MOL(input_size=(32, 32), **TINY)
    with pytest.raises(ValueError, match=r"\(N, 1, T, H, W\)"):
        net(torch.zeros(1, 3, 8, 32, 32))
    with pytest.raises(ValueError, match="8 frames of 32x32"):
        net(torch.zeros(1, 1, 8, 40, 40))


@pytest.mark.parametrize("size", [(16, 16), (20, 32), (28, 32), (32, 36)])
def test_input_size_check(size):
    with pytest.raises(ValueError, match="too small|does not fit"):
        check_mol_input_size(size)


def test_valid_input_sizes():
    for s in (24, 32, 33, 64, 128, 131):
        assert check_mol_input_size((s, s)) == (s, s)


# --------------------------------------------------------------------------------------
# F5C: golden values on hand-made tensors
# --------------------------------------------------------------------------------------
# four channels of three-pixel maps; cosine similarities (by hand):
# (0,1)=0.894, (1,2)=0.438, (2,3)=0.293, (1,3)=0.045, (0,2)=(0,3)=0
_X = torch.tensor([[1.0, 0.0, 0.0], [2.0, 1.0, 0.0], [0.0, 1.0, 0.2], [0.0, 0.1, 1.0]])


def test_channel_knn_golden():
    idx = channel_knn(_X[None], 2)
    assert idx.tolist() == [[[0, 1], [1, 0], [2, 1], [3, 2]]]
    # batch independence: a second sample with other channels has its own graph
    other = _X.flip(0)
    idx = channel_knn(torch.stack([_X, other]), 2)
    assert idx[1].tolist() == [[0, 1], [1, 2], [2, 3], [3, 2]]


def test_channel_correspondence_conv_golden():
    ccc = ChannelCorrespondenceConv(3, k=2)
    with torch.no_grad():
        for lin in (ccc.phi, ccc.theta):
            lin.weight.copy_(torch.eye(3))
            lin.bias.zero_()
    # identity maps: x_i + max_j ReLU(x_i + (x_j - x_i)) = x_i + max_j ReLU(x_j)
    out = ccc(_X.reshape(1, 4, 1, 3))[0, :, 0]
    expected = torch.tensor([[3.0, 1.0, 0.0], [4.0, 2.0, 0.0], [2.0, 2.0, 0.4],
                             [0.0, 1.1, 2.0]])
    torch.testing.assert_close(out, expected)


def test_fully_connected_conv_global_receptive_field():
    torch.manual_seed(0)
    fcc = FullyConnectedConv(4, (6, 7)).eval()
    x = torch.zeros(1, 4, 6, 7)
    base = fcc(x)
    x[0, :, 2, 3] = 1.0  # one pixel
    diff = (fcc(x) - base).abs()[0]
    # one block already reaches every position (H then W, and W then H)
    assert (diff.amax(dim=0) > 0).all()


def test_fully_connected_conv_is_circular():
    torch.manual_seed(0)
    fcc = FullyConnectedConv(2, (5, 5)).eval()
    with torch.no_grad():  # no position embeddings: translation-equivariant
        for name in ("pe_1_h", "pe_1_w", "pe_2_w", "pe_2_h"):
            getattr(fcc, name).zero_()
    x = torch.randn(1, 2, 5, 5)
    shifted = fcc(torch.roll(x, (1, 2), dims=(2, 3)))
    torch.testing.assert_close(shifted, torch.roll(fcc(x), (1, 2), dims=(2, 3)))


def test_correlation_peaks_at_the_displacement():
    torch.manual_seed(0)
    f1 = torch.randn(1, 64, 7, 7)
    f2 = torch.roll(f1, shifts=1, dims=3)  # content moves one pixel right
    corr = correlation(f1, f2, patch_size=3, dilation=1)
    assert corr.shape == (1, 9, 7, 7)
    # channel iy * 3 + ix with (dy, dx) = (0, +1) -> 1 * 3 + 2
    assert (corr[0, :, 1:-1, 1:-1].argmax(dim=0) == 5).all()
    torch.testing.assert_close(corr[0, 5, 3, 3], (f1[0, :, 3, 3] ** 2).mean())


def test_landmark_coordinates_round_trip():
    pts = np.array([[0.0, 0.0], [31.0, 47.0], [15.5, 23.5]])
    norm = landmarks_to_normalized(pts, (48, 32))
    np.testing.assert_allclose(norm[2], [0.0, 0.0])
    np.testing.assert_allclose(landmarks_to_pixels(norm, (48, 32)), pts)


# --------------------------------------------------------------------------------------
# auxiliary targets and loss
# --------------------------------------------------------------------------------------
def _texture_clip(n_frames=4, size=32, shift=1):
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    tex = gaussian_filter(rng.random((size, size)), 1.5, mode="wrap")
    tex = np.rint(255 * (tex - tex.min()) / np.ptp(tex)).astype(np.uint8)
    return np.stack([np.roll(tex, shift * t, axis=1) for t in range(n_frames)])


def test_aux_targets_flow_and_clip_landmarks():
    frames = _texture_clip()
    lm = np.random.default_rng(1).uniform(0, 31, size=(68, 2))
    flow, points, mask = mol_aux_targets(frames, landmarks=lm, flow_method="dis")
    assert flow.shape == (3, 2, 32, 32) and flow.dtype == np.float32
    np.testing.assert_allclose(np.median(flow[:, 0, 8:-8, 8:-8]), 1.0, atol=0.1)
    np.testing.assert_allclose(np.median(flow[:, 1, 8:-8, 8:-8]), 0.0, atol=0.1)
    assert mask.all()
    np.testing.assert_allclose(points, np.broadcast_to(lm, (4, 68, 2)), rtol=1e-6)


def test_aux_targets_no_face_is_masked():
    frames = _texture_clip()
    _, points, mask = mol_aux_targets(frames, flow_method="farneback",
                                      landmark_source="detect")
    assert not mask.any() and np.isnan(points).all()
    _, _, mask = mol_aux_targets(frames, landmarks=np.zeros((68, 2)),
                                 flow_method="farneback", landmark_source="none")
    assert not mask.any()


def test_aux_targets_real_face(shared_data):
    import cv2

    folder = shared_data / "clips" / "casme2_tim10_cropped"
    frames = np.stack([cv2.imread(str(folder / f"{i:03d}.jpg"), cv2.IMREAD_GRAYSCALE)
                       for i in range(1, 5)])
    flow, points, mask = mol_aux_targets(frames, flow_method="dis",
                                         landmark_source="detect")
    assert mask.all()
    h, w = frames.shape[1:]
    inner = points[:, 17:]  # brows, eyes, nose, mouth (the jaw may leave the crop)
    assert (inner[..., 0] > 0).all() and (inner[..., 0] < w).all()
    assert (inner[..., 1] > 0).all() and (inner[..., 1] < h).all()
    # eyes above the mouth, inter-ocular distance a plausible part of the width
    assert points[:, 36:48, 1].mean() < points[:, 48:68, 1].mean()
    ipd = np.linalg.norm(points[:, 42:48].mean(1) - points[:, 36:42].mean(1), axis=1)
    assert (0.2 * w < ipd).all() and (ipd < 0.7 * w).all()
    assert np.abs(flow).mean() < 2.0  # consecutive frames of a micro-expression


def test_loss_golden_and_masking():
    loss = MOLLoss(lambda_flow=2.0, lambda_landmark=3.0)
    target_lm = torch.zeros(2, 1, 68, 2)
    target_lm[:, :, 36:42, 0] = -1.0  # eye centres 2 apart: IPD = 2
    target_lm[:, :, 42:48, 0] = 1.0
    pred_lm = target_lm + 0.5  # |error| = 0.5 on every coordinate
    pred_lm[1] += 100.0  # the masked sample is ignored
    y_true = {"y": torch.tensor([0, 1]), "flow": torch.zeros(2, 1, 2, 3, 3),
              "landmarks": target_lm, "landmark_mask": torch.tensor([[1.0], [0.0]])}
    logits = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    flow = torch.ones(2, 1, 2, 3, 3)
    ce, fl, lm = loss.components((logits, flow, pred_lm), y_true)
    assert float(ce) == pytest.approx(np.log(2))
    assert float(fl) == pytest.approx(1.0)
    assert float(lm) == pytest.approx(0.25)
    total = loss((logits, flow, pred_lm), y_true)
    assert float(total) == pytest.approx(np.log(2) + 2.0 + 0.75)
    # nothing known: the landmark term is 0 (no NaN)
    y_true["landmark_mask"] = torch.zeros(2, 1)
    assert float(loss.components((logits, flow, pred_lm), y_true)[2]) == 0.0


# --------------------------------------------------------------------------------------
# the classifier
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic():
    return make_micro_expressions(n_clips=9, n_subjects=3, n_frames=10,
                                  frame_shape=(32, 32), amplitude=2.0,
                                  random_state=0)


@pytest.fixture(scope="module")
def fitted(synthetic):
    X, y, _ = synthetic
    return MOLClassifier(max_epochs=2, batch_size=5, **TINY_CLF).fit(X, y)


def test_pipeline_fit_predict(synthetic):
    X, y, _ = synthetic
    pipe = Pipeline([
        ("resample", TemporalResampler(n_frames=9)),
        ("clf", MOLClassifier(max_epochs=2, batch_size=4, **TINY_CLF)),
    ])
    pipe.fit(X, y)
    clf = pipe.named_steps["clf"]
    assert len(clf.history) == 2
    assert clf.frame_shape_ == (32, 32)
    proba = pipe.predict_proba(X)
    assert proba.shape == (9, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(pipe.predict(X)) <= set(y)
    assert clf.module_.input_size == (32, 32) and clf.module_.n_frames == 8


def test_aux_targets_built_once_per_fit(synthetic, monkeypatch):
    X, y, _ = synthetic
    calls = []
    original = mol_module.mol_aux_targets

    def spy(frames, **kwargs):
        calls.append(frames.shape)
        return original(frames, **kwargs)

    monkeypatch.setattr(mol_module, "mol_aux_targets", spy)
    clf = MOLClassifier(max_epochs=3, batch_size=9, **TINY_CLF).fit(X, y)
    assert len(clf.history) == 3
    assert calls == [(8, 32, 32)] * len(X)  # once per clip, resampled to 8 frames
    clf.predict(X)
    assert len(calls) == len(X)  # predict needs no auxiliary target


def test_memory_caches_aux_targets_across_fits(synthetic, tmp_path, monkeypatch):
    import skmer.preprocessing as prep

    X, y, _ = synthetic
    calls = []
    original = prep.optical_flow

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(prep, "optical_flow", spy)
    clf = MOLClassifier(max_epochs=1, batch_size=9, memory=str(tmp_path), **TINY_CLF)
    p1 = clf.fit(X, y).predict_proba(X)
    assert len(calls) == 7 * len(X)
    p2 = clone(clf).fit(X, y).predict_proba(X)
    assert len(calls) == 7 * len(X)  # the second fit read the cache
    np.testing.assert_allclose(p1, p2, rtol=1e-5, atol=1e-6)


def test_landmark_targets_from_clip_metadata(synthetic):
    X, y, _ = synthetic
    lm = np.random.default_rng(0).uniform(4, 28, size=(68, 2))
    X_lm = [c.replace(landmarks=lm) for c in X]
    clf = MOLClassifier(max_epochs=1, batch_size=9,
                        **{**TINY_CLF, "landmark_source": "auto"}).fit(X_lm, y)
    assert clf.landmark_coverage_ == 1.0
    assert clf.criterion_.lambda_landmark == 0.5
    clf.set_params(landmark_source="none", lambda_landmark=0.0).fit(X_lm, y)
    assert clf.landmark_coverage_ == 0.0
    assert clf.criterion_.lambda_landmark == 0.0


def test_clone_and_pickle_round_trip(fitted, synthetic):
    X, y, _ = synthetic
    proba = fitted.predict_proba(X)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    assert restored.device == "cpu"
    refit = clone(fitted).fit(X, y)  # same params and seed: same network
    np.testing.assert_allclose(refit.predict_proba(X), proba, rtol=1e-5, atol=1e-6)
    assert clone(fitted).get_params()["optimizer__weight_decay"] == 1e-3


def test_predict_auxiliary(fitted, synthetic):
    X, _, _ = synthetic
    flow, landmarks = fitted.predict_auxiliary(X[:2])
    assert flow.shape == (2, 7, 2, 32, 32) and landmarks.shape == (2, 7, 68, 2)


def test_not_fitted_raises(synthetic):
    X, _, _ = synthetic
    with pytest.raises(NotFittedError):
        MOLClassifier(**TINY_CLF).predict(X)


def test_learns_an_easy_task():
    X, y = make_check_clips(n_clips=12, n_frames=8, frame_shape=(24, 24))
    clf = MOLClassifier(max_epochs=20, batch_size=6, lr=5e-3, module__dropout=0.0,
                        **TINY_CLF).fit(X, y)
    losses = clf.history[:, "train_loss"]
    assert losses[-1] < 0.2 * losses[0]
    assert (clf.predict(X) == y).mean() >= 0.9


def test_bad_input_raises(fitted, synthetic):
    X, y, _ = synthetic
    clf = MOLClassifier(max_epochs=1, **TINY_CLF)
    colour = [np.repeat(np.asarray(c.frames)[..., None], 3, axis=-1) for c in X]
    with pytest.raises(ValueError, match="3 channels.*grey"):
        clf.fit(colour, y)
    few = [np.asarray(c.frames)[:5] for c in X]
    with pytest.raises(ValueError, match="has 5 frames.*n_frames=8"):
        clf.fit(few, y)
    small = [np.asarray(c.frames)[:, :16, :16] for c in X]
    with pytest.raises(ValueError, match="too small"):
        clf.fit(small, y)
    odd = [np.asarray(c.frames)[:, :28, :28] for c in X]
    with pytest.raises(ValueError, match="does not fit"):
        clf.fit(odd, y)
    ragged = [np.asarray(X[0].frames)[:, :24, :24]] + [c.frames for c in X[1:]]
    with pytest.raises(ValueError, match="one frame size"):
        clf.fit(ragged, y)
    with pytest.raises(ValueError, match="lambda_flow"):
        clone(clf).set_params(lambda_flow=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="landmark_source"):
        clone(clf).set_params(landmark_source="dlib").fit(X, y)
    other = [np.pad(np.asarray(c.frames), ((0, 0), (0, 8), (0, 8))) for c in X[:2]]
    with pytest.raises(ValueError, match="but fit had 32x32"):
        fitted.predict(other)
    nan = np.asarray(X[0].frames, dtype=np.float64)
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError):
        fitted.predict([nan])


def test_grey_channel_axis_and_longer_clips_accepted(fitted, synthetic):
    X, _, _ = synthetic
    frames = np.asarray(X[0].frames)
    p1 = fitted.predict_proba([Clip(frames)])
    p2 = fitted.predict_proba([frames[..., None]])
    np.testing.assert_array_equal(p1, p2)
    assert fitted.predict_proba([np.concatenate([frames, frames[-3:]])]).shape == (1, 3)


# --------------------------------------------------------------------------------------
# skmer's clip-estimator check suite
# --------------------------------------------------------------------------------------
# skorch's NeuralNet sets attributes in __init__ (history_, initialized_,
# virtual_params_, the prefixed parameters) and type-checks some parameters in
# set_params: true of every skorch classifier, not specific to MOL.
_SKORCH_INHERENT = {"check_no_attributes_set_in_init", "check_set_params"}
# n_jobs only parallelises the auxiliary targets; its invariance is tested below
# with threads (the suite's process pool costs ~30 s on a loaded 2-core machine).
_SKIPPED = _SKORCH_INHERENT | {"check_clip_n_jobs_invariance"}
_CHECKS = [(est, check) for est, check in clip_estimator_checks(
    MOLClassifier(max_epochs=1, batch_size=6, **TINY_CLF))
    if check.func.__name__ not in _SKIPPED]


@pytest.mark.parametrize("estimator, check", _CHECKS,
                         ids=[c.func.__name__ for _, c in _CHECKS])
def test_clip_estimator_checks(estimator, check):
    check(estimator)


def test_aux_targets_do_not_depend_on_n_jobs(synthetic):
    from joblib import parallel_backend

    X, _, _ = synthetic
    clf = MOLClassifier(**{**TINY_CLF, "landmark_source": "auto"})
    clf.frame_shape_ = (32, 32)
    clips, frames = clf._prepare(X[:4], reset=True)
    one = clf._aux_targets(clips, frames)
    with parallel_backend("threading"):
        two = clf.set_params(n_jobs=2)._aux_targets(clips, frames)
    for key in one:
        np.testing.assert_array_equal(one[key], two[key])


def test_real_clip_face_cropper_to_mol(shared_data):
    """The whole chain on a real CASME II clip: dlib crop -> landmarks -> MOL."""
    from skmer.preprocessing._face import FaceCropper

    clip = Clip(source=shared_data / "clips" / "casme2_EP02_01f_tim16_640x480.avi",
                label="positive")
    crops = FaceCropper(output_size=(64, 64), color="grey").fit_transform([clip])
    assert crops[0].landmarks is not None and crops[0].landmarks.shape == (68, 2)
    frames = np.asarray(crops[0].frames)
    X = [crops[0], Clip(frames[::-1].copy(), landmarks=crops[0].landmarks)]
    clf = MOLClassifier(module__width=0.125, max_epochs=1, batch_size=2,
                        device="cpu", random_state=0).fit(X, ["onset", "offset"])
    assert clf.landmark_coverage_ == 1.0  # FaceCropper's landmarks are the targets
    flow, landmarks = clf.predict_auxiliary(X[:1])
    assert flow.shape == (1, 7, 2, 64, 64) and np.isfinite(landmarks).all()
