"""Tests of the temporal stages: key frames, apex spotting, resampling (linear, TIM)."""

import numpy as np
import pytest
from scipy.fft import dct
from scipy.ndimage import gaussian_filter
from scipy.ndimage import shift as ndimage_shift

from skmer.datasets import Clip, ClipSequence
from skmer.preprocessing._temporal import (
    KeyframeSelector,
    TemporalResampler,
    remap_index,
    resample_frames,
    spot_apex,
    sts_keyframes,
    tim_interpolate,
)
from skmer.utils.estimator_checks import parametrize_with_clip_checks


# --------------------------------------------------------------------------------------
# the clip-estimator suite
# --------------------------------------------------------------------------------------
# The default KeyframeSelector(apex="label") rejects clips without an apex label by
# design, and the suite feeds bare arrays to check_clip_no_input_mutation, so the
# suite runs it with fallbacks; the strict default is tested below.
@parametrize_with_clip_checks([
    KeyframeSelector(apex="label-or-middle"),
    KeyframeSelector(apex="label-or-spotted", spotter="flow"),
    KeyframeSelector(mode="onset-apex-offset", apex="middle"),
    KeyframeSelector(mode="apex", apex="spotted"),
    KeyframeSelector(mode="sts", n_keyframes=4),
    TemporalResampler(n_frames=6),
    TemporalResampler(n_frames=10, method="tim"),
    TemporalResampler(n_frames=5, output="array", dtype="input"),
])
def test_clip_estimator_suite(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _dct_interpolation(frames, n_out):
    """Oracle: trigonometric (DCT-II) interpolation along time, evenly spaced."""
    n = frames.shape[0]
    coef = dct(frames.reshape(n, -1).astype(np.float64), type=2, axis=0, norm="ortho")
    t = np.linspace(0.0, n - 1.0, n_out)
    basis = np.cos(np.pi * np.outer(t + 0.5, np.arange(n)) / n) * np.sqrt(2.0 / n)
    basis[:, 0] = np.sqrt(1.0 / n)
    return (basis @ coef).reshape((n_out,) + frames.shape[1:])


def _tiny_clip():
    """A hand-made 5-frame 6x6 uint8 clip."""
    base = np.arange(36, dtype=np.uint8).reshape(6, 6)
    return np.stack([base + 10 * t for t in range(5)]).astype(np.uint8)


# --------------------------------------------------------------------------------------
# linear resampling
# --------------------------------------------------------------------------------------
def test_linear_ramp_is_exact():
    frames = np.arange(4.0)[:, None, None] * np.ones((4, 3, 2)) * 3.0  # 0, 3, 6, 9
    out = resample_frames(frames, 7)
    np.testing.assert_allclose(out[:, 0, 0], [0, 1.5, 3, 4.5, 6, 7.5, 9], atol=1e-12)
    out = resample_frames(frames, 3)
    np.testing.assert_allclose(out[:, 1, 1], [0.0, 4.5, 9.0], atol=1e-12)


def test_linear_golden_values_on_tiny_clip():
    frames = _tiny_clip()
    out = resample_frames(frames, 9)  # half-frame steps
    np.testing.assert_allclose(out[1], frames[0] + 5.0)
    np.testing.assert_array_equal(out[::2], frames.astype(np.float64))
    out3 = resample_frames(frames, 3)  # frames 0, 2, 4
    np.testing.assert_array_equal(out3, frames[[0, 2, 4]].astype(np.float64))


@pytest.mark.parametrize("method", ["linear", "tim"])
def test_same_length_is_identity(method):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (7, 5, 6, 3)).astype(np.uint8)
    np.testing.assert_allclose(resample_frames(frames, 7, method=method), frames,
                               atol=1e-9)
    clip = Clip(frames, onset=1, apex=3, offset=6, id="x")
    out = TemporalResampler(n_frames=7, method=method, dtype="input").fit_transform(
        [clip])
    np.testing.assert_array_equal(out[0].frames, frames)
    assert out[0].frames.dtype == np.uint8
    assert (out[0].onset, out[0].apex, out[0].offset) == (1, 3, 6)


# --------------------------------------------------------------------------------------
# TIM
# --------------------------------------------------------------------------------------
def test_tim_embedding_vectors_are_path_laplacian_eigenvectors():
    # the sin functions of Zhou et al. evaluated at t/n are eigenvectors of L(P_n)
    n = 7
    lap = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    lap[0, 0] = lap[-1, -1] = 1
    t = np.arange(1, n + 1) / n
    for k in range(1, n):
        v = np.sin(np.pi * k * t + np.pi * (n - k) / (2 * n))
        lam = 2 - 2 * np.cos(np.pi * k / n)
        np.testing.assert_allclose(lap @ v, lam * v, atol=1e-12)


@pytest.mark.parametrize("n_in, n_out", [(5, 5), (7, 13), (9, 4), (2, 6)])
def test_tim_matches_dct_interpolation_oracle(n_in, n_out):
    rng = np.random.default_rng(n_in)
    frames = rng.random((n_in, 5, 4)) * 255
    np.testing.assert_allclose(tim_interpolate(frames, n_out),
                               _dct_interpolation(frames, n_out), atol=1e-8)


def test_tim_reproduces_input_and_keeps_endpoints():
    frames = _tiny_clip().astype(np.float64)
    frames[2] += np.random.default_rng(1).random((6, 6)) * 30  # not a line
    np.testing.assert_allclose(tim_interpolate(frames, 5), frames, atol=1e-9)
    out = tim_interpolate(frames, 11)
    np.testing.assert_allclose(out[0], frames[0], atol=1e-9)
    np.testing.assert_allclose(out[-1], frames[-1], atol=1e-9)
    np.testing.assert_allclose(tim_interpolate(frames, 9)[::2], frames, atol=1e-9)


def test_tim_of_frames_on_a_line():
    # frames a + s_t * b lie on a line: TIM's output stays exactly on it (affine
    # combinations of the frames) and tracks linear interpolation approximately
    rng = np.random.default_rng(2)
    a, b = rng.random((8, 8)) * 100, rng.random((8, 8)) * 10
    s = np.arange(6.0)
    frames = a + s[:, None, None] * b
    out = tim_interpolate(frames, 11)
    coef = ((out - a) * b).sum(axis=(1, 2)) / (b * b).sum()
    np.testing.assert_allclose(out, a + coef[:, None, None] * b, atol=1e-8)
    np.testing.assert_allclose(coef, np.linspace(0, 5, 11), atol=0.15)
    np.testing.assert_allclose(out, resample_frames(frames, 11), atol=0.15 * b.max())


def test_tim_degenerate_clips():
    frame = np.random.default_rng(3).random((4, 5))
    const = np.stack([frame] * 4)
    np.testing.assert_allclose(tim_interpolate(const, 7), np.stack([frame] * 7))
    repeated = np.stack([frame, frame, frame * 2, frame * 2, frame * 3])
    np.testing.assert_allclose(tim_interpolate(repeated, 9),
                               _dct_interpolation(repeated, 9), atol=1e-9)


# --------------------------------------------------------------------------------------
# TemporalResampler: metadata and output
# --------------------------------------------------------------------------------------
def test_remap_index_golden():
    assert remap_index(3, 7, 13) == 6
    assert remap_index(0, 10, 4) == 0
    assert remap_index(9, 10, 4) == 3
    assert remap_index(4, 10, 4) == 1      # 4 * 3 / 9 = 1.33
    assert remap_index(3, 7, 4) == 2       # 1.5 rounds up
    assert remap_index(None, 5, 8) is None
    mapped = [remap_index(t, 30, 8) for t in range(30)]
    assert mapped == sorted(mapped) and mapped[0] == 0 and mapped[-1] == 7


def test_resampler_remaps_metadata_and_keeps_the_rest():
    landmarks = np.zeros((68, 2))
    clip = Clip(_tiny_clip(), onset=1, apex=3, offset=4, fps=200.0, id="c1",
                subject="casme2/sub01", dataset="casme2", label="positive",
                landmarks=landmarks)
    bare = _tiny_clip()[:4]
    out = TemporalResampler(n_frames=9).fit_transform([clip, bare])
    assert isinstance(out, ClipSequence) and len(out) == 2
    c = out[0]
    assert c.shape == (9, 6, 6) and c.dtype == np.float32
    assert (c.onset, c.apex, c.offset) == (2, 6, 8)
    # 5 frames at 200 fps span 4/200 s; 9 frames over that span: 400 fps
    assert (c.fps, c.id, c.subject, c.dataset, c.label) == (
        400.0, "c1", "casme2/sub01", "casme2", "positive")
    assert c.landmarks is landmarks
    assert out[1].apex is None and out[1].shape == (9, 6, 6)
    # shrinking: 30 -> 4 frames, onset 10 -> 1, apex 20 -> 2, offset 29 -> 3
    long = Clip(np.zeros((30, 4, 4)), onset=10, apex=20, offset=29)
    c = TemporalResampler(n_frames=4).fit_transform([long])[0]
    assert (c.onset, c.apex, c.offset) == (1, 2, 3)


def test_resampler_array_output_and_dtypes():
    rng = np.random.default_rng(4)
    X = [rng.integers(0, 256, (n, 8, 8)).astype(np.uint8) for n in (5, 9, 12)]
    arr = TemporalResampler(n_frames=6, output="array").fit_transform(X)
    assert arr.shape == (3, 6, 8, 8) and arr.dtype == np.float32
    clips = TemporalResampler(n_frames=6).fit_transform(X)
    np.testing.assert_array_equal(arr, np.stack([c.frames for c in clips]))
    arr64 = TemporalResampler(n_frames=6, output="array", dtype="float64")
    assert arr64.fit_transform(X).dtype == np.float64
    # TIM of a step overshoots: dtype="input" rounds and clips to uint8
    step = np.zeros((6, 2, 2), dtype=np.uint8)
    step[3:] = 255
    tim = TemporalResampler(n_frames=21, method="tim")
    assert tim.fit_transform([step])[0].frames.max() > 255
    out = tim.set_params(dtype="input").fit_transform([step])[0].frames
    assert out.dtype == np.uint8 and out.min() == 0 and out.max() == 255
    # colour clips
    rgb = rng.integers(0, 256, (5, 4, 4, 3)).astype(np.uint8)
    assert TemporalResampler(n_frames=3).fit_transform([rgb])[0].shape == (3, 4, 4, 3)


def test_resampler_bad_input():
    X = [np.zeros((5, 4, 4))]
    with pytest.raises(ValueError, match="n_frames"):
        TemporalResampler(n_frames=1).fit(X)
    with pytest.raises(ValueError, match="method"):
        TemporalResampler(method="cubic").fit(X)
    with pytest.raises(ValueError, match="output"):
        TemporalResampler(output="list").fit(X)
    with pytest.raises(ValueError, match="at least 2"):
        TemporalResampler().fit([np.zeros((1, 4, 4))])
    with pytest.raises(ValueError, match="method must be one of"):
        resample_frames(np.zeros((3, 2, 2)), 4, method="nearest")
    with pytest.raises(ValueError, match="n_frames must be an int >= 2"):
        resample_frames(np.zeros((3, 2, 2)), 1)
    with pytest.raises(ValueError, match="at least 2 frames"):
        tim_interpolate(np.zeros((1, 2, 2)), 4)
    with pytest.raises(ValueError, match="shape"):
        resample_frames(np.zeros((3, 2)), 4)


# --------------------------------------------------------------------------------------
# apex spotting
# --------------------------------------------------------------------------------------
def test_spot_apex_synthetic_peak():
    rng = np.random.default_rng(5)
    base = rng.random((32, 32)) * 100
    profile = np.array([0, 0, 1, 3, 6, 9, 10, 8, 5, 2, 1, 0], dtype=float)
    frames = np.stack([base] * len(profile))
    frames[:, 10, 10:20] += 5 * profile[:, None]  # eyebrow band of the fixed mask
    frames += rng.normal(0, 0.5, frames.shape)
    assert abs(spot_apex(frames, method="diff") - 6) <= 1
    apex, scores = spot_apex(frames, onset=2, offset=10, return_scores=True,
                              method="diff")
    assert abs(apex - 6) <= 1 and scores.shape == (9,)
    assert spot_apex(frames, sigma=0, method="diff") == 6
    # a change outside the facial regions is ignored
    frames[9, 0:3, 0:3] += 1000
    assert spot_apex(frames, sigma=0, method="diff") == 6


def test_spot_apex_uses_landmarks():
    rng = np.random.default_rng(6)
    frames = np.stack([rng.random((40, 40)) * 50] * 10)
    # the labelled mouth (landmarks at rows 4-8) peaks at frame 3, a distractor in
    # the fixed mouth band (rows 22-36) peaks at frame 7
    frames[3, 5:8, 25:30] += 40
    frames[7, 28:32, 10:30] += 40
    landmarks = np.zeros((68, 2))
    landmarks[:] = [35.0, 35.0]
    landmarks[17:27] = np.c_[np.linspace(30, 36, 10), np.full(10, 15.0)]
    landmarks[48:68] = np.c_[np.linspace(25, 29, 20), np.linspace(5, 7, 20)]
    assert spot_apex(frames, sigma=0, method="diff") == 7
    assert spot_apex(frames, landmarks=landmarks, sigma=0, method="diff") == 3
    with pytest.raises(ValueError, match="landmarks"):
        spot_apex(frames, landmarks=np.zeros((5, 2)))


@pytest.mark.parametrize("method", ["diff", "flow"])
def test_spot_apex_on_synthetic_micro_expressions(method):
    from skmer.datasets._synthetic import make_micro_expressions

    X, _, _ = make_micro_expressions(12, n_subjects=3, n_frames=(10, 24),
                                     frame_shape=(48, 48), duration=None,
                                     amplitude=1.0, noise=2.0, head_motion=0.0,
                                     blinks=0.0, mixing=0.0, random_state=0)
    errors = [spot_apex(c.frames, onset=c.onset, offset=c.offset, method=method)
              - c.apex for c in X]
    assert max(abs(e) for e in errors) <= 1, errors


def test_spot_apex_ignores_linear_drift():
    # a global linear drift (lighting and a slow head shift: the whole face
    # brightens and its texture slides) plus a local transient in the brow band;
    # the old score (change from the onset) follows the drift to the last frame
    rng = np.random.default_rng(7)
    base = gaussian_filter(rng.random((40, 40)), 1.5) * 200
    n, apex = 21, 7
    profile = np.exp(-0.5 * ((np.arange(n) - apex) / 2.0) ** 2)
    frames = []
    for t in range(n):
        shift = 0.6 * t / (n - 1)                  # 0.6 px over the clip
        f = ndimage_shift(base, (0.0, shift), order=3, mode="nearest")
        f = f + 15.0 * t / (n - 1)                 # lighting drift
        f[8:12, 12:28] += 12.0 * profile[t]        # the micro-movement
        frames.append(f + rng.normal(0, 0.5, f.shape))
    frames = np.stack(frames)
    assert spot_apex(frames, reference="onset", method="diff") == n - 1
    for method in ("diff", "flow"):
        assert abs(spot_apex(frames, method=method) - apex) <= 1


def test_spot_apex_nose_anchor_ignores_a_head_movement():
    # the whole face moves 1.5 px and back (a nod, peak at frame 13) while the
    # mouth alone moves 0.8 px and back (the expression, peak at frame 5); the
    # flow of the regions sees the nod, the flow relative to the nose does not
    rng = np.random.default_rng(11)
    base = gaussian_filter(rng.random((64, 64)), 2.0) * 255
    n = 19
    nod = 1.5 * np.exp(-0.5 * ((np.arange(n) - 13) / 1.5) ** 2)
    mouth = 0.8 * np.exp(-0.5 * ((np.arange(n) - 5) / 1.5) ** 2)
    frames = []
    for t in range(n):
        f = base.copy()
        f[40:56, 16:48] = ndimage_shift(base, (0.0, mouth[t]), order=3,
                                        mode="nearest")[40:56, 16:48]
        frames.append(ndimage_shift(f, (nod[t], 0.0), order=3, mode="nearest"))
    frames = np.clip(np.stack(frames), 0, 255)
    landmarks = np.zeros((68, 2))
    landmarks[17:27] = np.c_[np.linspace(14, 50, 10), np.full(10, 14.0)]  # brows
    landmarks[27:36] = np.c_[np.full(9, 32.0), np.linspace(22, 36, 9)]    # nose
    landmarks[36:48] = np.c_[np.linspace(16, 48, 12), np.full(12, 20.0)]  # eyes
    landmarks[48:68] = np.c_[np.linspace(22, 42, 20), np.linspace(44, 52, 20)]
    assert spot_apex(frames, landmarks=landmarks, anchor="none") == 13
    assert spot_apex(frames, landmarks=landmarks) == 5            # auto: nose
    assert spot_apex(frames, landmarks=landmarks, anchor="nose") == 5
    with pytest.raises(ValueError, match="anchor"):
        spot_apex(frames, anchor="chin")


def test_spot_apex_bad_input():
    frames = np.zeros((5, 8, 8))
    with pytest.raises(ValueError, match="method"):
        spot_apex(frames, method="lbp")
    with pytest.raises(ValueError, match="before onset"):
        spot_apex(frames, onset=3, offset=1)
    with pytest.raises(ValueError, match="outside"):
        spot_apex(frames, offset=5)
    with pytest.raises(ValueError, match="sigma"):
        spot_apex(frames, sigma=-1)
    with pytest.raises(ValueError, match="reference must be one of"):
        spot_apex(frames, reference="offset")
    with pytest.raises(ValueError, match="compensate"):
        spot_apex(frames, compensate="yes")


# --------------------------------------------------------------------------------------
# spatio-temporal-slice key frames
# --------------------------------------------------------------------------------------
def test_sts_keyframes_golden():
    frames = np.zeros((8, 6, 6))
    frames[2:] += 1.0
    frames[5:] += 4.0
    frames[7:, :3, :3] += 2.0
    assert sts_keyframes(frames, 1).tolist() == [0]
    assert sts_keyframes(frames, 2).tolist() == [0, 5]
    assert sts_keyframes(frames, 3).tolist() == [0, 2, 5]
    assert sts_keyframes(frames, 4).tolist() == [0, 2, 5, 7]
    # ties go to the earlier frame; all frames when n_keyframes == T
    assert sts_keyframes(frames, 5).tolist() == [0, 1, 2, 5, 7]
    assert sts_keyframes(frames, 8).tolist() == list(range(8))
    # the central row and column slices miss the change at t=7 (top-left corner)
    assert sts_keyframes(frames, 4, n_slices=1).tolist() == [0, 1, 2, 5]
    with pytest.raises(ValueError, match="exceeds"):
        sts_keyframes(frames, 9)


def _sts_clip():
    # 6 frames of 8x8: every row is the ramp 0, 8, ..., 56; at t=2 the texture
    # moves one pixel right (edge pixel repeated); at t=4 one pixel brightens by 100
    ramp = np.arange(0.0, 64.0, 8.0)
    frames = np.tile(ramp, (6, 8, 1))
    frames[2:, :, 1:] = ramp[:-1]
    frames[4:, 3, 4] += 100.0
    return frames


def test_sts_keyframes_eq_3_1_nearest_pixel_matching_golden():
    frames = _sts_clip()
    # by hand, radius 1: frames 1, 3, 5 repeat their predecessor (0); at t=2 every
    # shifted pixel finds its old value one pixel to the left (x=1 finds 0 at x=0),
    # so 0; at t=4 the pixel (y=3, x=4) = 124 meets 16, 24, 32 around x=4 in the
    # previous slice: |124 - 32| = 92, over 8 rows x 8 pixels
    idx, scores = sts_keyframes(frames, 2, return_scores=True)
    np.testing.assert_allclose(scores, [0, 0, 0, 0, 92 / 64, 0])
    assert idx.tolist() == [0, 4]
    # the old rule (plain differences of horizontal and vertical slices) kept the
    # shift at t=2 (mean change 7 > 100 / 64): [0, 2]
    assert sts_keyframes(frames, 3).tolist() == [0, 1, 4]  # tie: earlier frame
    # radius 0: no matching, the plain difference of the horizontal slices
    idx0, scores0 = sts_keyframes(frames, 2, search_radius=0, return_scores=True)
    np.testing.assert_allclose(scores0, [0, 0, 7, 0, 100 / 64, 0])
    assert idx0.tolist() == [0, 2]
    # only horizontal slices (eq. 3.1): with one slice (row 4) the change in row 3
    # is not seen
    _, one = sts_keyframes(frames, 2, n_slices=1, return_scores=True)
    np.testing.assert_allclose(one, 0.0)
    with pytest.raises(ValueError, match="search_radius"):
        sts_keyframes(frames, 2, search_radius=-1)


def test_sts_nearest_pixel_matching_radius_and_borders():
    # one 1x5 slice: at t=1 the texture moves 2 px left; radius 2 matches it
    # everywhere except the last two pixels, which meet only x-2..x+2 in the slice
    f0 = np.array([[0.0, 10.0, 40.0, 90.0, 160.0]])
    f1 = np.array([[40.0, 90.0, 160.0, 160.0, 160.0]])
    frames = np.stack([f0, f1])
    _, s1 = sts_keyframes(frames, 1, search_radius=1, return_scores=True)
    # r=1: |40-10|=30, |90-40|=50, |160-90|=70, 0 (x=3 meets 160), 0 (x=4)
    np.testing.assert_allclose(s1, [0, (30 + 50 + 70) / 5])
    _, s2 = sts_keyframes(frames, 1, search_radius=2, return_scores=True)
    np.testing.assert_allclose(s2, [0, 0])
    _, s9 = sts_keyframes(frames, 1, search_radius=9, return_scores=True)
    np.testing.assert_allclose(s9, [0, 0])  # a radius beyond the slice is fine


def test_keyframe_selector_sts_uses_matching():
    frames = _sts_clip().astype(np.uint8)
    out = KeyframeSelector("sts", n_keyframes=2).fit_transform([frames])
    np.testing.assert_array_equal(out[0].frames, frames[[0, 4]])
    old = KeyframeSelector("sts", n_keyframes=2, search_radius=0).fit_transform(
        [frames])
    np.testing.assert_array_equal(old[0].frames, frames[[0, 2]])


def test_keyframe_selector_sts():
    rng = np.random.default_rng(7)
    frames = np.repeat(rng.integers(0, 200, (1, 10, 10)), 12, axis=0).astype(np.uint8)
    frames[4:] += 20
    frames[9:] += 30
    clip = Clip(frames, onset=1, apex=6, offset=11, id="s")
    out = KeyframeSelector("sts", n_keyframes=3).fit_transform([clip, frames[:7]])
    assert [c.n_frames for c in out] == [3, 3]
    np.testing.assert_array_equal(out[0].frames, frames[[0, 4, 9]])
    # nearest kept frame: onset 1 -> 0 (frame 0), apex 6 -> 1 (frame 4), offset 11 -> 2
    assert (out[0].onset, out[0].apex, out[0].offset, out[0].id) == (0, 1, 2, "s")
    with pytest.raises(ValueError, match="needs at least 5 key frames"):
        KeyframeSelector("sts", n_keyframes=5).fit_transform([frames[:4]])


# --------------------------------------------------------------------------------------
# KeyframeSelector: onset / apex / offset
# --------------------------------------------------------------------------------------
def _labelled_clip():
    frames = np.arange(10)[:, None, None] * np.ones((10, 5, 5), dtype=np.uint8)
    return Clip(frames.astype(np.uint8), onset=2, apex=5, offset=8, id="k",
                label="surprise", fps=100.0)


@pytest.mark.parametrize("mode, frames_kept, meta", [
    ("onset-apex", [2, 5], (0, 1, None)),
    ("onset-apex-offset", [2, 5, 8], (0, 1, 2)),
    ("apex", [5], (None, 0, None)),
])
def test_keyframe_selector_modes(mode, frames_kept, meta):
    clip = _labelled_clip()
    out = KeyframeSelector(mode).fit_transform([clip])
    c = out[0]
    np.testing.assert_array_equal(c.frames, clip.frames[frames_kept])
    assert (c.onset, c.apex, c.offset) == meta
    # key frames are not evenly spaced: the frame rate no longer applies
    assert (c.id, c.label, c.fps) == ("k", "surprise", None)
    assert not np.shares_memory(c.frames, clip.frames)
    assert (clip.onset, clip.apex, clip.offset) == (2, 5, 8)  # input untouched


def test_keyframe_selector_apex_sources():
    clip = _labelled_clip()
    no_apex = clip.replace(apex=None)
    sel = KeyframeSelector("apex")
    with pytest.raises(ValueError, match="'middle'.*'spotted'"):
        sel.fit_transform([no_apex])
    with pytest.raises(ValueError, match="no apex label"):
        sel.fit_transform([no_apex.frames])  # a bare array has no labels
    middle = KeyframeSelector("apex", apex="middle").fit_transform([clip])[0]
    np.testing.assert_array_equal(middle.frames, clip.frames[[5]])  # (2 + 8) // 2
    mixed = KeyframeSelector("onset-apex", apex="label-or-middle").fit_transform(
        [clip.replace(apex=3), no_apex.replace(offset=6)])
    np.testing.assert_array_equal(mixed[0].frames, clip.frames[[2, 3]])
    np.testing.assert_array_equal(mixed[1].frames, clip.frames[[2, 4]])
    # the spotter finds the apex of a clip with a known peak (fixed mouth band)
    frames = np.full((9, 20, 20), 50, dtype=np.uint8)
    frames[:, 14, 6:14] += np.array([0, 0, 5, 20, 30, 25, 10, 0, 0], np.uint8)[:, None]
    spotted = KeyframeSelector("onset-apex", apex="label-or-spotted").fit_transform(
        [Clip(frames, onset=1, offset=8)])[0]
    np.testing.assert_array_equal(spotted.frames, frames[[1, 4]])


def test_keyframe_selector_on_synthetic_micro_expressions():
    from skmer.datasets._synthetic import make_micro_expressions

    X, _, _ = make_micro_expressions(6, n_subjects=2, n_frames=(10, 20),
                                     frame_shape=(48, 48), duration=None,
                                     amplitude=1.0, noise=2.0, head_motion=0.0,
                                     blinks=0.0, mixing=0.0, random_state=1)
    unlabelled = ClipSequence([c.replace(apex=None) for c in X])
    out = KeyframeSelector("onset-apex", apex="spotted").fit_transform(unlabelled)
    for c_in, c_out in zip(X, out):
        diffs = [np.abs(c_out.frames[1].astype(int) - c_in.frames[t]).sum()
                 for t in range(c_in.n_frames)]
        assert abs(int(np.argmin(diffs)) - c_in.apex) <= 1


def test_keyframe_selector_bad_input():
    clip = _labelled_clip()
    with pytest.raises(ValueError, match="mode"):
        KeyframeSelector(mode="apex-offset").fit([clip])
    with pytest.raises(ValueError, match="apex"):
        KeyframeSelector(apex="max").fit([clip])
    with pytest.raises(ValueError, match="n_keyframes"):
        KeyframeSelector(mode="sts", n_keyframes=0).fit([clip])
    with pytest.raises(ValueError, match="needs at least 2 frames"):
        KeyframeSelector().fit_transform([np.zeros((1, 5, 5))])
    with pytest.raises(ValueError, match="needs at least 3 frames"):
        KeyframeSelector("onset-apex-offset").fit_transform([np.zeros((2, 5, 5))])
    with pytest.raises(ValueError, match="apex=9 lies outside"):
        KeyframeSelector().fit_transform([clip.replace(apex=9)])
    with pytest.raises(ValueError, match="apex=12 lies outside the clip"):
        KeyframeSelector().fit_transform([clip.replace(apex=12)])
    with pytest.raises(ValueError, match="offset=1 lies before onset=2"):
        KeyframeSelector().fit_transform([clip.replace(offset=1)])


# --------------------------------------------------------------------------------------
# real data
# --------------------------------------------------------------------------------------
def test_real_casme2_frames(shared_data):
    folder = shared_data / "clips" / "casme2_tim10_cropped"
    if not folder.is_dir():
        pytest.skip(f"{folder} absent")
    clip = Clip(source=folder, onset=0, offset=9, id="casme2_tim10")
    assert clip.n_frames == 10
    out = TemporalResampler(n_frames=10, method="tim").fit_transform([clip])[0]
    np.testing.assert_allclose(out.frames, clip.frames, atol=1e-3)
    up = TemporalResampler(n_frames=16, method="tim", dtype="input")
    frames16 = up.fit_transform([clip])[0].frames
    assert frames16.shape == (16,) + clip.shape[1:] and frames16.dtype == np.uint8
    apex = spot_apex(clip.frames)
    assert 0 <= apex <= 9
    sel = KeyframeSelector("onset-apex", apex="spotted").fit_transform([clip])[0]
    np.testing.assert_array_equal(sel.frames, clip.frames[[0, apex]])


def test_resampler_remaps_fps_and_keyframes_drop_it():
    clip = Clip(np.zeros((60, 8, 8), np.uint8), onset=0, apex=30, offset=59, fps=200.0)
    out = TemporalResampler(n_frames=16).fit_transform([clip])[0]
    assert out.fps == pytest.approx(200.0 * 15 / 59)
    key = KeyframeSelector("onset-apex").fit_transform([clip])[0]
    assert key.fps is None and clip.fps == 200.0


def test_keyframe_selector_forwards_spot_params():
    rng = np.random.default_rng(3)
    base = gaussian_filter(rng.random((40, 40)), 1.5) * 200
    profile = np.array([0, 1, 3, 8, 3, 1, 0, 0, 0], dtype=float)
    frames = np.stack([base] * len(profile))
    frames[:, 10, 10:30] += 4 * profile[:, None]      # the brow band peaks at 3
    frames[:, 30:34, 10:30] += 3.0 * np.arange(9)[:, None, None]  # mouth drift
    clip = Clip(np.clip(frames, 0, 255), onset=0, offset=8)
    params = {"reference": "onset", "sigma": 0}
    sel = KeyframeSelector("onset-apex", apex="spotted", spotter="diff",
                           spot_params=params).fit_transform([clip])[0]
    expected = spot_apex(clip.frames, method="diff", **params)
    assert expected == 8                               # the drift wins
    np.testing.assert_array_equal(sel.frames, clip.frames[[0, expected]])
    default = KeyframeSelector("onset-apex", apex="spotted", spotter="diff")
    assert np.array_equal(default.fit_transform([clip])[0].frames,
                          clip.frames[[0, 3]])
    for bad in ({"method": "diff"}, {"onset": 2}):
        with pytest.raises(ValueError, match="spot_params may hold"):
            KeyframeSelector(apex="spotted", spot_params=bad).fit([clip])
