"""MicroExpressionSpotter and inject_micro_movements on hand-made and real videos.

Hand-made videos: a static smooth texture (no face: ``face="full"``) with one known
local movement written in by :func:`inject_micro_movements` (fake landmarks place the
regions), spotted at the right frames by both methods; a static video gives no
interval; a long slow movement is flagged macro.  The injector's displacement is
measured on a float texture (phase correlation of the patch at the region centre).
Real data: a short cut of ``video/evm_face.mp4`` (skipped without the shared data).
"""

import numpy as np
import pytest

from skmer.metrics import interval_iou
from skmer.spotting import (
    InjectedMovement,
    MicroExpressionSpotter,
    SpottedInterval,
    inject_micro_movements,
)
from skmer.spotting._inject import temporal_profile

FPS = 30.0


def _texture(size=128, seed=0, dtype=np.uint8):
    import cv2

    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (size, size)).astype(np.float32),
                           (0, 0), 2)
    tex = np.clip((tex - tex.mean()) * 4 + 128, 0, 255)
    return tex.astype(dtype)


def _landmarks():
    """A fake 68-point markup on a 128x128 frame: eyes at y=50, brows 35, mouth 95."""
    lm = np.zeros((68, 2))
    lm[:, 0] = np.linspace(30, 98, 68)
    lm[:, 1] = 64
    lm[36:42] = (44, 50)
    lm[42:48] = (84, 50)
    lm[17:27, 1] = 35
    lm[48:68, 1] = 95
    return lm


@pytest.fixture(scope="module")
def injected():
    video = np.repeat(_texture()[None], 120, axis=0)
    out, truth = inject_micro_movements(video, fps=FPS, n=1, amplitude=1.0,
                                        duration=0.4, landmarks=_landmarks(),
                                        random_state=0)
    return video, out, truth[0]


# --------------------------------------------------------------------------------------
# the injector
# --------------------------------------------------------------------------------------
def test_profile_is_zero_outside_and_one_at_apex():
    p = temporal_profile(20, 5, 9, 14)
    assert np.all(p[:6] == 0) and np.all(p[14:] == 0)
    assert p[9] == 1.0 and np.all(np.diff(p[5:10]) > 0) and np.all(np.diff(p[9:15]) < 0)


def _estimate_shift(before, after, patch, n_iter=6):
    """Shift ``d`` with ``after(x) = before(x - d)`` on ``patch`` (iterated LK)."""
    import cv2

    h, w = before.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.zeros(2)
    src = before.astype(np.float32)
    for _ in range(n_iter):
        warped = cv2.remap(src, xs - np.float32(d[0]), ys - np.float32(d[1]),
                           cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        gy, gx = np.gradient(warped.astype(np.float64))
        a = np.stack([gx[patch].ravel(), gy[patch].ravel()], axis=1)
        r = (after - warped)[patch].ravel()
        # after - warped ~= -grad . delta
        delta = np.linalg.lstsq(a, -r, rcond=None)[0]
        d += delta
    return d


@pytest.mark.parametrize("amplitude", [0.2, 0.5, 1.0])
def test_injected_displacement_equals_amplitude_at_apex(amplitude):
    tex = _texture(dtype=np.float64)
    video = np.repeat(tex[None], 60, axis=0)
    # a broad window (sigma 60 px): the 16x16 patch at the centre moves as one
    # (g >= 0.98 on it), so its shift is the peak amplitude
    out, (m,) = inject_micro_movements(video, fps=FPS, n=1, amplitude=amplitude,
                                       duration=0.5, regions=("brow",),
                                       landmarks=_landmarks(), sigma=60.0,
                                       random_state=1)
    cx, cy = (int(round(v)) for v in m.centre)
    patch = np.s_[cy - 8:cy + 8, cx - 8:cx + 8]
    dx, dy = _estimate_shift(video[m.apex], out[m.apex], patch)
    assert np.hypot(dx, dy) == pytest.approx(amplitude, rel=0.03)
    assert (dx, dy) == pytest.approx(
        (amplitude * m.direction[0], amplitude * m.direction[1]), abs=0.03)
    # half way up the rise, half the amplitude
    half = (m.onset + m.apex) / 2
    if half == int(half):
        dh = _estimate_shift(video[int(half)], out[int(half)], patch)
        assert np.hypot(*dh) == pytest.approx(amplitude / 2, rel=0.05)
    # zero outside the interval, bit for bit
    outside = np.r_[0:m.onset + 1, m.offset:60]
    assert np.array_equal(out[outside], video[outside])
    assert not np.array_equal(out[m.apex], video[m.apex])


def test_injector_leaves_the_input_unchanged_and_keeps_dtype(injected):
    video, out, m = injected
    assert np.array_equal(video, np.repeat(_texture()[None], 120, axis=0))
    assert out.dtype == np.uint8 and out.shape == video.shape
    assert isinstance(m, InjectedMovement) and m.onset < m.apex < m.offset
    assert m.offset - m.onset == 12            # 0.4 s at 30 fps


def test_injector_is_reproducible_and_places_movements_apart():
    video = np.repeat(_texture()[None], 300, axis=0)
    a = inject_micro_movements(video, fps=FPS, n=4, landmarks=_landmarks(),
                               random_state=3)
    b = inject_micro_movements(video, fps=FPS, n=4, landmarks=_landmarks(),
                               random_state=3)
    assert a[1] == b[1] and np.array_equal(a[0], b[0])
    truth = a[1]
    assert truth[0].onset >= 15 and truth[-1].offset <= 300 - 1 - 15
    for prev, nxt in zip(truth, truth[1:]):
        assert nxt.onset - prev.offset >= 15       # min_gap 0.5 s
    for m in truth:
        assert 0.2 <= m.amplitude <= 1.0
        assert 6 <= m.offset - m.onset <= 15


@pytest.mark.parametrize("kwargs, match", [
    ({"fps": None}, "fps is required"),
    ({"fps": -3}, "positive finite"),
    ({"fps": FPS, "n": 20}, "cannot place n=20"),
    ({"fps": FPS, "amplitude": (1.0, 0.2)}, "amplitude"),
    ({"fps": FPS, "regions": ("nose",)}, "regions"),
    ({"fps": FPS, "landmarks": np.zeros((5, 2))}, "landmarks"),
])
def test_injector_bad_input(kwargs, match):
    video = np.repeat(_texture()[None], 60, axis=0)
    kwargs.setdefault("landmarks", _landmarks())
    with pytest.raises(ValueError, match=match):
        inject_micro_movements(video, **kwargs)


def test_injector_without_face_says_so():
    video = np.zeros((60, 64, 64), dtype=np.uint8)
    with pytest.raises(ValueError, match="no face found on frame"):
        inject_micro_movements(video, fps=FPS, n=1, random_state=0)


# --------------------------------------------------------------------------------------
# the spotter: golden behaviour on hand-made videos
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["lbp", "flow"])
def test_one_injected_movement_is_spotted_at_the_right_frames(injected, method):
    _, out, m = injected
    video_before = out.copy()
    spotter = MicroExpressionSpotter(method, face="full")
    intervals = spotter.spot(out, fps=FPS)
    assert np.array_equal(out, video_before)
    assert len(intervals) == 1, intervals
    (iv,) = intervals
    assert isinstance(iv, SpottedInterval) and iv.kind == "micro" and iv.fps == FPS
    assert abs(iv.apex - m.apex) <= 1
    assert interval_iou(iv.as_tuple(), m.as_tuple()) >= 0.5
    assert iv.score > 0


@pytest.mark.parametrize("method", ["lbp", "flow"])
def test_static_video_gives_no_interval(method):
    video = np.repeat(_texture()[None], 90, axis=0)
    assert MicroExpressionSpotter(method, face="full").spot(video, fps=FPS) == []


def test_long_slow_movement_is_macro():
    video = np.repeat(_texture()[None], 150, axis=0)
    out, (m,) = inject_micro_movements(video, fps=FPS, n=1, amplitude=3.0,
                                       duration=2.0, landmarks=_landmarks(),
                                       regions=("mouth",), random_state=0)
    spotter = MicroExpressionSpotter("flow", face="full")
    intervals = spotter.spot(out, fps=FPS)
    best = max(intervals, key=lambda iv: iv.score)
    assert best.kind == "macro" and best.duration > 0.5
    assert m.onset <= best.apex <= m.offset
    dropped = spotter.set_params(keep_macro=False).spot(out, fps=FPS)
    assert all(iv.kind == "micro" for iv in dropped)
    assert len(dropped) < len(intervals)


def test_spot_returns_scores_and_predict_takes_several_videos(injected):
    _, out, m = injected
    spotter = MicroExpressionSpotter("flow", face="full").fit()
    intervals, scores = spotter.spot(out, fps=FPS, return_scores=True)
    assert scores.score.shape == (len(out),) and scores.k == 8
    assert scores.contrast.argmax() == intervals[0].apex
    both = spotter.predict([out, out[:60]], fps=[FPS, FPS])
    assert both.shape == (2,) and both[0] == intervals and both[1] == []


def test_min_snr_is_a_floor_relative_to_the_video_noise():
    from skmer.spotting._intervals import scores_to_intervals

    # a noise level of 1 (the median score) and one bump of contrast 1.4 at 40
    s = np.ones(81)
    s[::2] = 0.9
    s[40] += 1.4

    def flat(a, k, r1, r2, step):
        out = np.zeros(len(range(r1, r2 + 1, step)))
        out[(a - r1) // step] = 1.0
        return out

    kw = dict(fps=FPS, p=0.5, min_score=0.0, max_duration=0.5, keep_macro=True)
    found, c, thr = scores_to_intervals(s, 8, flat, **kw)
    assert [iv.apex for iv in found] == [40] and c[40] == pytest.approx(1.4)
    none, _, thr = scores_to_intervals(s, 8, flat, min_snr=1.5, **kw)
    assert none == [] and thr == pytest.approx(1.5)
    kept, _, thr = scores_to_intervals(s, 8, flat, min_snr=1.3, **kw)
    assert [iv.apex for iv in kept] == [40] and thr == pytest.approx(1.3)


def test_min_snr_spotter_reports_the_noise(injected):
    _, out, m = injected
    spotter = MicroExpressionSpotter("flow", face="full", min_snr=1.5)
    intervals, scores = spotter.spot(out, fps=FPS, return_scores=True)
    assert scores.noise == pytest.approx(np.median(scores.score))
    assert scores.threshold >= 1.5 * scores.noise
    # the injected 1 px movement stands far above the texture's flow noise
    assert [abs(iv.apex - m.apex) <= 1 for iv in intervals] == [True]


def test_clip_fps_is_used():
    from skmer.datasets import Clip

    video = np.repeat(_texture()[None], 60, axis=0)
    spotter = MicroExpressionSpotter("lbp", face="full")
    assert spotter.spot(Clip(video, fps=FPS)) == []
    with pytest.raises(ValueError, match="fps is required"):
        spotter.spot(Clip(video))


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("video, fps, match", [
    (np.zeros((20, 32, 32), np.uint8), FPS, "needs at least 33 frames"),
    (np.zeros((60, 32, 32), np.uint8), None, "fps is required"),
    (np.zeros((60, 32, 32), np.uint8), 0.0, "positive finite"),
    (np.zeros((60, 32, 32), np.uint8), float("nan"), "positive finite"),
    (np.zeros((60, 32), np.uint8), FPS, "shape"),
    (np.zeros((60, 32, 32, 2), np.uint8), FPS, "channels"),
    (np.full((60, 32, 32), np.nan), FPS, "NaN"),
    (np.array([["a"]]), FPS, "numeric"),
])
def test_bad_video(video, fps, match):
    with pytest.raises(ValueError, match=match):
        MicroExpressionSpotter("lbp", face="full").spot(video, fps=fps)


def test_no_face_is_a_clear_error():
    video = np.zeros((60, 64, 64), dtype=np.uint8)
    with pytest.raises(ValueError, match="no face found on frame 0 nor"):
        MicroExpressionSpotter("lbp").spot(video, fps=FPS)


@pytest.mark.parametrize("params, match", [
    ({"method": "hog"}, "method"),
    ({"p": 1.5}, "'p'"),
    ({"window": 0}, "window"),
    ({"regions": ("nose",)}, "regions"),
    ({"n_blocks": (6, 0)}, "n_blocks"),
    ({"min_snr": -1.0}, "min_snr"),
])
def test_bad_parameters(params, match):
    spotter = MicroExpressionSpotter(**params)
    with pytest.raises(ValueError, match=match):
        spotter.fit()


def test_sklearn_basics():
    from sklearn.base import clone

    spotter = MicroExpressionSpotter("lbp", window=0.4)
    assert clone(spotter).get_params() == spotter.get_params()
    assert spotter.fit() is spotter


# --------------------------------------------------------------------------------------
# real data
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def evm_cut(shared_data):
    from skmer.datasets import read_frames

    path = shared_data / "video" / "evm_face.mp4"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    return read_frames(path, color="grey")[:75]


def test_real_video_cut_injected_movement_is_found_by_flow(evm_cut):
    out, (m,) = inject_micro_movements(evm_cut, fps=FPS, n=1, amplitude=1.0,
                                       duration=0.4, random_state=0)
    before = evm_cut.copy()
    intervals = MicroExpressionSpotter("flow", face_size=160).spot(out, fps=FPS)
    assert np.array_equal(evm_cut, before)
    assert any(interval_iou(iv.as_tuple(), m.as_tuple()) >= 0.5
               and abs(iv.apex - m.apex) <= 2 for iv in intervals), (m, intervals)


def test_benchmark_core_on_a_short_cut(evm_cut):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "spotting.py"
    spec = importlib.util.spec_from_file_location("spotting_benchmark", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    case, truth = bench.run_case(evm_cut[:60], FPS, 1, 0, methods=("lbp",))
    summary = bench.evaluate({"cut/seed0": case}, methods=("lbp",))["lbp"]
    assert set(summary) >= {"tp", "fp", "fn", "precision", "recall", "f1",
                            "apex_error_frames", "apex_error_percent_span"}
    assert summary["tp"] + summary["fn"] == len(truth) == 1


def test_face_lost_mid_video_is_a_clear_error(shared_data):
    from skmer.datasets import read_frames

    path = shared_data / "video" / "pyfeat_face_noface.mov"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    try:
        frames = read_frames(path, color="grey")
    except ValueError as exc:       # an OpenCV build without HEVC
        pytest.skip(f"cannot decode {path.name}: {exc}")
    with pytest.raises(ValueError, match="the face is lost: no face found on frames"):
        MicroExpressionSpotter("lbp").spot(frames, fps=26.4)
