"""Golden-value and behaviour tests of the optical flow kernels and estimators."""

import cv2
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.ndimage import gaussian_filter

from skmer.datasets import Clip, ClipSequence
from skmer.preprocessing import (
    FlowExtractor,
    OpticalStrain,
    optical_flow,
    optical_strain,
)

METHODS = ["tvl1", "farneback", "dis"]
M = 8  # interior margin (pixels) where the flow is compared


def _texture(size=64, sigma=2.0, seed=0):
    """A smooth random texture in [0, 1], float32, periodic."""
    rng = np.random.default_rng(seed)
    tex = gaussian_filter(rng.random((size, size)), sigma, mode="wrap")
    return ((tex - tex.min()) / np.ptp(tex)).astype(np.float32)


def _warp(img, dx, dy):
    """Move the content of ``img`` by (dx, dy) pixels (bilinear)."""
    h, w = img.shape[:2]
    return cv2.warpAffine(img, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _shift_clip(n_frames=6, shifts=None, size=32, seed=0):
    """uint8 clip whose frame t is the texture moved right by shifts[t] pixels."""
    tex = _texture(size, seed=seed)
    shifts = range(n_frames) if shifts is None else shifts
    return np.stack([np.rint(255 * np.roll(tex, s, axis=1)).astype(np.uint8)
                     for s in shifts])


# --------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_sign_convention_and_axes(method):
    """Content moving right gives u = +1; moving down gives v = +1."""
    prev = _texture()
    right = optical_flow(prev, np.roll(prev, 1, axis=1), method)[M:-M, M:-M]
    down = optical_flow(prev, np.roll(prev, 1, axis=0), method)[M:-M, M:-M]
    assert right.dtype == np.float32 and right.shape[-1] == 2
    assert_allclose(right[..., 0].mean(), 1.0, atol=0.02)
    assert_allclose(right[..., 1].mean(), 0.0, atol=0.02)
    assert_allclose(down[..., 0].mean(), 0.0, atol=0.02)
    assert_allclose(down[..., 1].mean(), 1.0, atol=0.02)
    left = optical_flow(prev, np.roll(prev, -1, axis=1), method)[M:-M, M:-M]
    assert_allclose(left[..., 0].mean(), -1.0, atol=0.02)


@pytest.mark.parametrize("dx, dy", [(0.3, 0.0), (0.0, 0.3)])
def test_tvl1_subpixel_shift(dx, dy):
    """TV-L1 recovers a 0.3 px bilinear shift of a smooth texture within 0.05 px.

    Measured (OpenCV 5.0): interior mean 0.256 (x) / 0.259 (y), i.e. an error of
    0.044 / 0.041 px, from the pixel locking of OpenCV's bicubic warping (see the
    Notes of optical_flow); per-pixel errors reach about 0.1 px.
    """
    prev = _texture()
    flow = optical_flow(prev, _warp(prev, dx, dy), "tvl1")[M:-M, M:-M]
    assert abs(flow[..., 0].mean() - dx) < 0.05
    assert abs(flow[..., 1].mean() - dy) < 0.05
    assert np.abs(flow - np.array([dx, dy])).max() < 0.15


@pytest.mark.parametrize("method", ["farneback", "dis"])
def test_farneback_dis_subpixel_shift(method):
    prev = _texture()
    flow = optical_flow(prev, _warp(prev, 0.3, 0.0), method)[M:-M, M:-M]
    assert abs(flow[..., 0].mean() - 0.3) < 0.01
    assert np.abs(flow - np.array([0.3, 0.0])).max() < 0.05


def test_optical_flow_input_ranges_are_equivalent():
    """uint8, float [0, 1], float [0, 255] and RGB frames give the same flow."""
    prev = _texture(32)
    nxt = np.roll(prev, 1, axis=1)
    ref = optical_flow(np.rint(255 * prev).astype(np.uint8),
                       np.rint(255 * nxt).astype(np.uint8))
    assert_array_equal(optical_flow(prev, nxt), ref)
    assert_array_equal(optical_flow(255.0 * prev, 255.0 * nxt), ref)
    assert_array_equal(optical_flow(prev * 4095, nxt * 4095, data_range=4095), ref)
    rgb = np.repeat(prev[..., None], 3, axis=-1), np.repeat(nxt[..., None], 3, axis=-1)
    assert_array_equal(optical_flow(*rgb), ref)


def test_optical_flow_params_and_errors():
    prev = _texture(32)
    nxt = np.roll(prev, 1, axis=1)
    fast = optical_flow(prev, nxt, "tvl1", n_scales=2, warps=2, lambda_=0.2)
    assert fast.shape == (32, 32, 2)
    assert_array_equal(optical_flow(prev, nxt, "tvl1", **{"lambda": 0.2},
                                    n_scales=2, warps=2), fast)
    optical_flow(prev, nxt, "farneback", winsize=9, levels=2)
    optical_flow(prev, nxt, "dis", preset="medium", patch_size=6)
    with pytest.raises(ValueError, match=r"'tvl1', 'farneback', 'dis'"):
        optical_flow(prev, nxt, "lucas-kanade")
    with pytest.raises(ValueError, match="Unknown parameter.*winsize"):
        optical_flow(prev, nxt, "tvl1", winsize=9)
    with pytest.raises(ValueError, match="same shape"):
        optical_flow(prev, nxt[:-1])
    with pytest.raises(ValueError, match=r"outside \[0, 1\]|outside \[0, 255\]"):
        optical_flow(prev - 0.5, nxt)
    with pytest.raises(ValueError, match="outside"):
        optical_flow(prev * 300, nxt * 300)
    with pytest.raises(ValueError, match="integer frames"):
        optical_flow((prev * 1000).astype(np.int32), (nxt * 1000).astype(np.int32))
    with pytest.raises(ValueError, match="NaN"):
        optical_flow(np.full_like(prev, np.nan), nxt)
    with pytest.raises(ValueError, match="channels"):
        optical_flow(np.zeros((8, 8, 5)), np.zeros((8, 8, 5)))


def test_strain_of_linear_field():
    """u = a x, v = b y has strain sqrt(a^2 + b^2); a shear u = c y has c / sqrt(2)."""
    yy, xx = np.mgrid[0:16, 0:20].astype(np.float64)
    a, b, c = 0.3, -0.2, 0.5
    strain = optical_strain(np.stack([a * xx, b * yy], axis=-1))
    assert strain.shape == (16, 20) and strain.dtype == np.float32
    assert_allclose(strain[1:-1, 1:-1], np.hypot(a, b), rtol=1e-6)
    shear = optical_strain(np.stack([c * yy, 0 * yy], axis=-1))
    assert_allclose(shear[1:-1, 1:-1], c / np.sqrt(2), rtol=1e-6)


def test_strain_of_translation_is_zero():
    flow = np.empty((10, 12, 2))
    flow[..., 0], flow[..., 1] = 1.7, -0.4
    assert_array_equal(optical_strain(flow), 0.0)


def test_strain_errors():
    with pytest.raises(ValueError, match=r"\(height, width, 2\)"):
        optical_strain(np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="2x2"):
        optical_strain(np.zeros((1, 8, 2)))


# --------------------------------------------------------------------------------------
# FlowExtractor
# --------------------------------------------------------------------------------------
def test_onset_apex_shape_and_channels():
    X = [Clip(_shift_clip(seed=s), onset=0, apex=2) for s in range(3)]
    ext = FlowExtractor().fit(X)
    assert ext.frame_shape_ == (32, 32)
    assert ext.channel_names_ == ("u", "v", "strain")
    out = ext.transform(X)
    assert out.shape == (3, 3, 32, 32) and out.dtype == np.float32
    assert_allclose(out[:, 0, M:-M, M:-M].mean(), 2.0, atol=0.05)  # apex 2 px right
    assert_allclose(out[:, 1, M:-M, M:-M].mean(), 0.0, atol=0.05)
    both = FlowExtractor(strain=False, magnitude=True).fit(X)
    assert both.channel_names_ == ("u", "v", "magnitude")
    out2 = both.transform(X)
    assert out2.shape == (3, 3, 32, 32)
    assert_allclose(out2[:, 2], np.hypot(out2[:, 0], out2[:, 1]), rtol=1e-5)
    assert FlowExtractor(strain=False).fit_transform(X).shape == (3, 2, 32, 32)


def test_sequence_mode_shape():
    X = ClipSequence([Clip(_shift_clip(n_frames=5, seed=s)) for s in range(2)])
    out = FlowExtractor(mode="sequence", method="dis", magnitude=True).fit_transform(X)
    assert out.shape == (2, 4, 4, 32, 32) and out.dtype == np.float32
    assert_allclose(out[:, 0, :, M:-M, M:-M].mean(), 1.0, atol=0.05)  # 1 px / frame


def test_metadata_apex_is_used():
    frames = _shift_clip(n_frames=8, shifts=[0, 0, 0, 2, 2, 2, 2, 2])
    ext = FlowExtractor(strain=False)
    still, moved, default = ext.fit_transform(
        [Clip(frames, onset=0, apex=2), Clip(frames, onset=1, apex=5), frames])
    assert_array_equal(still, 0.0)  # identical frames: no motion
    assert_allclose(moved[0, M:-M, M:-M].mean(), 2.0, atol=0.05)
    # a bare array: onset 0 and apex at the middle frame (8 // 2 = 4)
    assert_array_equal(default, ext.transform([Clip(frames, onset=0, apex=4)])[0])


def test_onset_equal_apex_gives_zero_flow():
    frames = _shift_clip()
    out = FlowExtractor(magnitude=True).fit_transform([Clip(frames, onset=3, apex=3)])
    assert_array_equal(out, 0.0)


def test_minmax_scaling():
    X = [Clip(_shift_clip(seed=s), onset=0, apex=3) for s in range(3)]
    out = FlowExtractor(scale="minmax", magnitude=True).fit_transform(X)
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert_allclose(out.min(axis=(2, 3)), 0.0, atol=1e-6)
    assert_allclose(out.max(axis=(2, 3)), 1.0, atol=1e-6)
    # a constant channel (no motion) becomes 0
    still = FlowExtractor(scale="minmax").fit_transform([Clip(_shift_clip(),
                                                              onset=0, apex=0)])
    assert_array_equal(still, 0.0)


def test_resize_and_rescale_vectors():
    X = [Clip(_shift_clip(seed=s), onset=0, apex=2) for s in range(2)]
    out = FlowExtractor(output_size=(16, 8)).fit_transform(X)
    assert out.shape == (2, 3, 16, 8)
    assert_allclose(out[:, 0, 4:-4, 2:-2].mean(), 2.0 * 8 / 32, atol=0.03)
    raw = FlowExtractor(output_size=(16, 8), rescale_vectors=False).fit_transform(X)
    assert_allclose(raw[:, 0, 4:-4, 2:-2].mean(), 2.0, atol=0.1)
    # the strain channel is the strain of the output's own u, v
    for img in out:
        assert_allclose(img[2], optical_strain(np.moveaxis(img[:2], 0, -1)),
                        rtol=1e-5, atol=1e-6)
    assert_allclose(OpticalStrain().fit_transform(out[:, :2]), out, rtol=1e-5,
                    atol=1e-6)


def test_n_jobs_invariance():
    """Threads here (fast to start); the clip check suite covers the loky backend."""
    from joblib import parallel_config

    X = [Clip(_shift_clip(seed=s), onset=0, apex=1 + s) for s in range(4)]
    one = FlowExtractor(n_jobs=1).fit_transform(X)
    with parallel_config(backend="threading"):
        two = FlowExtractor(n_jobs=2).fit_transform(X)
    assert_array_equal(one, two)


# --------------------------------------------------------------------------------------
# reuse of OpenCV flow objects (per-thread cache keyed on the frame shape)
# --------------------------------------------------------------------------------------
MIXED_SIZES = [(64, 64), (48, 80), (64, 64), (48, 80)]


def _grey_pair(shape, seed):
    """uint8 smooth texture of ``shape`` and the same moved by (1, 2) pixels."""
    rng = np.random.default_rng(seed)
    tex = gaussian_filter(rng.random(shape), 2.0, mode="wrap")
    prev = np.rint(255 * (tex - tex.min()) / np.ptp(tex)).astype(np.uint8)
    return prev, np.roll(prev, (1, 2), axis=(0, 1))


def _fresh_opencv_flow(prev, nxt, method, params):
    """The oracle: bare OpenCV with a new algorithm object for this one pair."""
    if method == "tvl1":
        algo = cv2.optflow.DualTVL1OpticalFlow_create()
        algo.setScalesNumber(params.get("n_scales", algo.getScalesNumber()))
        algo.setWarpingsNumber(params.get("warps", algo.getWarpingsNumber()))
        return algo.calc(prev, nxt, None)
    if method == "dis":
        algo = cv2.DISOpticalFlow_create({"fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
                                          "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}[
            params.get("preset", "fast")])
        return algo.calc(prev, nxt, None)
    return cv2.calcOpticalFlowFarneback(prev, nxt, None, 0.5, 3, 15, 3, 5, 1.2, 0)


@pytest.mark.parametrize("method, params", [
    ("tvl1", {}), ("tvl1", {"n_scales": 3, "warps": 2}), ("farneback", {}),
    ("dis", {}), ("dis", {"preset": "medium"}),
])
def test_flow_after_other_pairs_equals_fresh_opencv(method, params):
    """Bit-identical to a new OpenCV object per pair, whatever was computed before.

    Pairs of mixed sizes in one thread (same size again, other size in between, the
    same pair twice); every result is compared only at the end, so a later call that
    wrote into an earlier result would show too.  48 x 80 is a size on which a reused
    DISOpticalFlow drifts by up to 0.005 px (OpenCV 5.0), so DIS is not cached.
    """
    pairs = [_grey_pair(shape, seed) for seed, shape in enumerate(MIXED_SIZES)]
    pairs.append(pairs[1])
    flows = [optical_flow(prev, nxt, method, **params) for prev, nxt in pairs]
    for (prev, nxt), flow in zip(pairs, flows):
        assert flow.shape == prev.shape + (2,) and flow.dtype == np.float32
        assert_array_equal(flow, _fresh_opencv_flow(prev, nxt, method, params))


def test_tvl1_objects_are_reused_per_thread_shape_and_params(monkeypatch):
    from skmer.preprocessing import _flow

    grey = np.dtype(np.uint8)
    tvl1 = _flow._cached_algo("tvl1", {}, (64, 64), grey)
    assert _flow._cached_algo("tvl1", {}, (64, 64), grey) is tvl1
    assert _flow._cached_algo("tvl1", {}, (48, 80), grey) is not tvl1
    assert _flow._cached_algo("tvl1", {}, (64, 64), np.dtype(np.float32)) is not tvl1
    fast = _flow._cached_algo("tvl1", {"warps": 2, "lambda": 0.2}, (64, 64), grey)
    assert fast is not tvl1 and fast.getWarpingsNumber() == 2
    # one canonical key: the setters get the same values
    assert _flow._cached_algo("tvl1", {"lambda_": 0.2, "warps": 2.0}, (64, 64),
                              grey) is fast
    assert _flow._cached_algo("tvl1", {}, (64, 64), grey) is tvl1
    # bounded: the least recently used objects go
    for n in range(_flow._ALGO_CACHE_SIZE):
        _flow._cached_algo("tvl1", {}, (16, 16 + n), grey)
    assert _flow._cached_algo("tvl1", {}, (64, 64), grey) is not tvl1
    assert len(_flow._ALGO_CACHE.algos) == _flow._ALGO_CACHE_SIZE
    # per thread and per process: never shared
    from concurrent.futures import ThreadPoolExecutor

    mine = _flow._cached_algo("tvl1", {}, (64, 64), grey)
    with ThreadPoolExecutor(1) as pool:
        other = pool.submit(_flow._cached_algo, "tvl1", {}, (64, 64), grey).result()
    assert other is not mine
    monkeypatch.setattr(_flow.os, "getpid", lambda: -1)  # as in a forked child
    assert _flow._cached_algo("tvl1", {}, (64, 64), grey) is not mine


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_n_jobs_invariance_mixed_sizes(backend):
    """n_jobs=2 (threads, or loky processes reused between calls) equals n_jobs=1
    over extractors of 64 x 64, 48 x 80 and 64 x 64 clips, for every method."""
    import pickle

    from joblib import parallel_config

    clips = {shape: [np.stack(_grey_pair(shape, seed)) for seed in range(3)]
             for shape in MIXED_SIZES[:2]}
    for method in METHODS:
        params = {"n_scales": 2, "warps": 2} if method == "tvl1" else None
        for shape in MIXED_SIZES[:3]:
            ext = FlowExtractor(method, strain=False, flow_params=params, n_jobs=1)
            one = ext.fit_transform(clips[shape])
            with parallel_config(backend=backend):
                two = ext.set_params(n_jobs=2).fit_transform(clips[shape])
            assert_array_equal(one, two)
            # the OpenCV objects live in the workers, never on the estimator
            assert pickle.loads(pickle.dumps(ext)).get_params() == ext.get_params()


def test_colour_and_float_clips():
    grey = _shift_clip()
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    ext = FlowExtractor()
    ref = ext.fit_transform([grey])
    assert FlowExtractor().fit([rgb]).frame_shape_ == (32, 32, 3)
    assert_array_equal(FlowExtractor().fit_transform([rgb]), ref)
    assert_array_equal(FlowExtractor().fit_transform([grey / 255.0]), ref)


def test_flow_extractor_errors():
    frames = _shift_clip()
    X = [frames, frames]
    with pytest.raises(ValueError, match="method.*'tvl1'"):
        FlowExtractor(method="lucas-kanade").fit(X)
    with pytest.raises(ValueError, match="mode"):
        FlowExtractor(mode="apex").fit(X)
    with pytest.raises(ValueError, match="clip 1 has 1 frame.*at least 2 frames"):
        FlowExtractor().fit([frames, frames[:1]])
    nan = frames.astype(float) / 255
    nan[2, 3, 4] = np.nan
    with pytest.raises(ValueError, match="clip 1 contains NaN"):
        FlowExtractor().fit([frames, nan])
    with pytest.raises(ValueError, match="equal length.*clip 1 has 4"):
        FlowExtractor(mode="sequence").fit([frames, frames[:4]])
    ext = FlowExtractor(mode="sequence").fit(X)
    with pytest.raises(ValueError, match="equal length"):
        ext.transform([frames, frames[:4]])
    with pytest.raises(ValueError, match="frame shape"):
        FlowExtractor().fit([frames, frames[:, :16]])
    with pytest.raises(ValueError, match="fitted on frames of shape"):
        FlowExtractor().fit(X).transform([frames[:, :16]])
    with pytest.raises(ValueError, match="apex=9 lies outside the clip's 6 frames"):
        FlowExtractor().fit_transform([Clip(frames, apex=9)])
    with pytest.raises(ValueError, match="apex=1 before onset=3"):
        FlowExtractor().fit_transform([Clip(frames, onset=3, apex=1)])
    with pytest.raises(ValueError, match=r"apex=3 \(no apex given: the middle frame\)"):
        FlowExtractor().fit_transform([Clip(frames, onset=4)])
    with pytest.raises(ValueError, match="Unknown parameter"):
        FlowExtractor(flow_params={"window": 3}).fit(X)
    with pytest.raises(ValueError, match="output_size"):
        FlowExtractor(output_size=(16,)).fit(X)
    with pytest.raises(ValueError, match="empty"):
        FlowExtractor().fit([])


def test_flow_extractor_tags():
    tags = FlowExtractor().__sklearn_tags__()
    assert not tags.input_tags.two_d_array and tags.input_tags.three_d_array
    assert tags.skmer.allow_ragged and tags.skmer.min_frames == 2
    assert not FlowExtractor(mode="sequence").__sklearn_tags__().skmer.allow_ragged


# --------------------------------------------------------------------------------------
# OpticalStrain
# --------------------------------------------------------------------------------------
def test_optical_strain_transformer():
    yy, xx = np.mgrid[0:12, 0:12].astype(np.float32)
    flow = np.stack([np.stack([0.3 * xx, 0.4 * yy, xx])] * 2)  # (2, 3, 12, 12)
    out = OpticalStrain().fit_transform(flow)
    assert out.shape == (2, 3, 12, 12) and out.dtype == np.float32
    assert_array_equal(out[:, :2], flow[:, :2])
    assert_allclose(out[:, 2, 1:-1, 1:-1], 0.5, rtol=1e-5)
    with pytest.raises(ValueError, match="n_channels >= 2"):
        OpticalStrain().fit(flow[:, :1])
    with pytest.raises(ValueError, match="n_channels >= 2"):
        OpticalStrain().fit(flow[:, 0])
    with pytest.raises(ValueError, match="features"):
        OpticalStrain().fit(flow).transform(flow[:, :2])
    with pytest.raises(ValueError):
        OpticalStrain().fit(np.full_like(flow, np.nan))


def test_real_casme2_frames():
    """TV-L1 on real cropped CASME II frames: finite, STSTNet-format output."""
    from skmer.utils._data import shared_data_dir

    root = shared_data_dir()
    folder = None if root is None else root / "clips" / "casme2_tim10_cropped"
    if folder is None or not folder.is_dir():
        pytest.skip("shared development data (SKMER_SHARED_DATA) not available")
    clip = Clip(source=folder, onset=0, apex=5)
    small = clip.replace(frames=clip.frames[:, ::3, ::3])  # 114x94: fast enough
    out = FlowExtractor(output_size=(28, 28), scale="minmax").fit_transform([small])
    assert out.shape == (1, 3, 28, 28) and np.isfinite(out).all()
    assert_allclose(out.min(axis=(2, 3)), 0.0, atol=1e-6)
    assert_allclose(out.max(axis=(2, 3)), 1.0, atol=1e-6)
    raw = FlowExtractor().fit_transform([small])
    assert 0.01 < np.abs(raw[0, :2]).mean() < 5  # a subtle but non-zero motion


@pytest.mark.parametrize("check_name", [
    "check_estimator_cloneable", "check_estimator_repr",
    "check_no_attributes_set_in_init", "check_parameters_default_constructible",
    "check_get_params_invariance", "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params", "check_valid_tag_types",
    "check_estimator_tags_renamed", "check_mixin_order",
])
def test_optical_strain_api_checks(check_name):
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check_name)("OpticalStrain", OpticalStrain())


def test_raft_method_needs_local_weights_and_runs_with_them(tmp_path):
    import torch

    from skmer.models.nets.raft import raft_small

    clip = np.random.RandomState(0).randint(0, 255, (2, 64, 64)).astype(np.uint8)
    with pytest.raises(ValueError, match="needs flow_params=.*weights"):
        FlowExtractor(method="raft").fit([clip])
    torch.manual_seed(0)
    path = tmp_path / "raft_small.pt"
    torch.save(raft_small().state_dict(), path)  # random weights: shapes only
    out = FlowExtractor(method="raft", strain=False,
                        flow_params={"weights": str(path), "iters": 2}
                        ).fit_transform([clip])
    assert out.shape == (1, 2, 64, 64) and np.isfinite(out).all()


def test_grey_conversion_reads_the_range_from_the_input_dtype():
    from skmer.preprocessing._flow import _to_grey_uint8

    # a dark 8-bit RGB clip stays 8-bit: its luma is not re-read as a [0, 1] image
    dark = np.zeros((2, 4, 4, 3), np.uint8)
    dark[1, ..., :] = 1
    assert_array_equal(_to_grey_uint8(dark, colour=True), dark[..., 0])
    # the same values as floats are a [0, 1] image
    assert_array_equal(_to_grey_uint8(dark.astype(np.float32), colour=True),
                       dark[..., 0] * 255)
    # an explicit range rescales 8-bit frames too
    grey = np.full((2, 3, 3), 50, np.uint8)
    assert_array_equal(_to_grey_uint8(grey, colour=False, data_range=51), 250)
    # an out-of-range channel is refused even where the luma would be in range
    rgb = np.zeros((1, 2, 2, 3), np.float32)
    rgb[..., 0] = 1.5
    rgb[..., 1:] = 0.1
    with pytest.raises(ValueError, match="outside"):
        _to_grey_uint8(rgb, colour=True, data_range=1.0)


def test_only_the_paired_frames_are_converted_but_all_are_checked():
    from skmer.preprocessing._flow import _to_grey_uint8

    rng = np.random.default_rng(0)
    frames = rng.random((9, 12, 12, 3)).astype(np.float32)
    full = _to_grey_uint8(frames, colour=True)
    assert_array_equal(_to_grey_uint8(frames, colour=True, index=[2, 6]),
                       full[[2, 6]])
    clip = Clip(frames, onset=2, apex=6)
    ext = FlowExtractor("farneback", strain=False).fit([clip])
    ref = cv2.calcOpticalFlowFarneback(full[2], full[6], None, 0.5, 3, 15, 3, 5,
                                       1.2, 0)
    assert_allclose(ext.transform([clip])[0], np.moveaxis(ref, -1, 0))
    bad = frames.copy()
    bad[8, 0, 0, 0] = np.nan  # a frame the flow does not use
    with pytest.raises(ValueError, match="NaN"):
        ext.transform([Clip(bad, onset=2, apex=6)])


def test_affine_flow_is_the_least_squares_fit():
    from skmer.preprocessing import affine_flow

    rng = np.random.default_rng(0)
    for h, w in [(7, 9), (1, 5), (40, 32)]:
        flow = rng.normal(size=(h, w, 2))
        yy, xx = np.mgrid[0:h, 0:w]
        design = np.stack([xx.ravel(), yy.ravel(), np.ones(h * w)], axis=1)
        coef, *_ = np.linalg.lstsq(design, flow.reshape(-1, 2), rcond=None)
        np.testing.assert_allclose(affine_flow(flow),
                                   (design @ coef).reshape(h, w, 2), atol=1e-12)
    with pytest.raises(ValueError, match=r"\(height, width, 2\)"):
        affine_flow(np.zeros((4, 4)))
