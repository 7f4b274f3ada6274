"""Tests of Eulerian video magnification: kernels, oracles and the Magnifier."""

import logging
import pickle

import cv2
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from scipy.signal import butter, sosfiltfilt
from sklearn.base import clone
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skmer.datasets import Clip
from skmer.preprocessing._magnify import (
    _RGB2YIQ,
    _YIQ2RGB,
    Magnifier,
    _auto_levels,
    _iir_rate,
    _resolve_levels,
    level_alphas,
    magnify,
    magnify_pair,
    max_levels,
    temporal_bandpass,
)
from skmer.utils.estimator_checks import parametrize_with_clip_checks

FILTERS = ("iir", "ideal", "butterworth")

# A hand-made 5 x 6 x 6 uint8 clip: a bright square that drifts right, then back.
GOLDEN = np.array([[[10 * (r + c) + 50 * (1 <= r - 0 <= 3 and 1 + s <= c <= 3 + s)
                     for c in range(6)] for r in range(6)]
                   for s in (0, 0, 1, 1, 0)], dtype=np.uint8)


# --------------------------------------------------------------------------------------
# independent references
# --------------------------------------------------------------------------------------
def _ref_iir(x, fps, low, high):
    """The authors' recursion, written out in float64."""
    def lowpass(r):
        y = np.empty_like(x)
        y[0] = x[0]
        for t in range(1, len(x)):
            y[t] = (1 - r) * y[t - 1] + r * x[t]
        return y

    return lowpass(_iir_rate(high, fps)) - lowpass(_iir_rate(low, fps))


def _ref_ideal(x, fps, low, high):
    spec = np.fft.fft(x, axis=0)
    f = np.abs(np.fft.fftfreq(len(x), 1.0 / fps))
    spec[(f < low) | (f > high)] = 0
    return np.fft.ifft(spec, axis=0).real


def _ref_butter(x, fps, low, high):
    sos = butter(1, [low, high], btype="bandpass", fs=fps, output="sos")
    return sosfiltfilt(sos, x, axis=0, padlen=min(9, len(x) - 1))


REFS = {"iir": _ref_iir, "ideal": _ref_ideal, "butterworth": _ref_butter}


def _ref_magnify(frames, fps, alpha, filt, low, high, lambda_c, xi=2.0, chrom=0.1):
    """Literal Wu et al.: YIQ, full Laplacian pyramid per frame, filter every
    coefficient, weight every level, collapse, back to RGB, add."""
    x = frames.astype(np.float64)
    colour = x.ndim == 4
    if colour:
        x = x @ _RGB2YIQ.T
    n_lv = _resolve_levels("auto", x.shape[1:3])
    pyrs = []
    for f in x.astype(np.float32):
        g = [f]
        for _ in range(n_lv - 1):
            g.append(cv2.pyrDown(g[-1]))
        lap = [g[k] - cv2.pyrUp(g[k + 1], dstsize=g[k].shape[1::-1])
               for k in range(n_lv - 1)]
        pyrs.append(lap + [g[-1]])
    al = level_alphas(alpha, x.shape[1:3], n_lv, lambda_c=lambda_c,
                      exaggeration_factor=xi)
    filt_levels = []
    for k in range(n_lv):
        band = np.stack([p[k] for p in pyrs]).astype(np.float64)
        band = REFS[filt](band, fps, low, high) * al[k]
        if colour:
            band[..., 1:] *= chrom
        filt_levels.append(band.astype(np.float32))
    out = []
    for t in range(len(x)):
        r = filt_levels[-1][t]
        for k in range(n_lv - 2, -1, -1):
            r = cv2.pyrUp(r, dstsize=filt_levels[k][t].shape[1::-1]) + \
                filt_levels[k][t]
        out.append(r)
    out = np.stack(out).astype(np.float64)
    if colour:
        out = out @ _YIQ2RGB.T
    return frames + out


def _texture(size=64, sigma=3.0, seed=0):
    """Smooth periodic random texture, mean 128, std 30."""
    rng = np.random.default_rng(seed)
    tex = gaussian_filter(rng.standard_normal((size, size)), sigma, mode="wrap")
    return 128 + 30 * tex / tex.std()


def _shift(img, dx):
    """Exact sub-pixel translation of a periodic image by ``dx`` px along x."""
    kx = np.fft.fftfreq(img.shape[1])[None, :]
    return np.fft.ifft2(np.fft.fft2(img) * np.exp(-2j * np.pi * kx * dx)).real


def _measure_shift(ref, img, n_iter=6):
    """Best-fit global x-translation of ``img`` against ``ref`` (Gauss-Newton)."""
    kx = np.fft.fftfreq(ref.shape[1])[None, :]
    d = 0.0
    for _ in range(n_iter):
        spec = np.fft.fft2(ref) * np.exp(-2j * np.pi * kx * d)
        warped = np.fft.ifft2(spec).real
        grad = np.fft.ifft2(spec * 2j * np.pi * kx).real  # d/dx of the warped ref
        d += -np.sum((img - warped) * grad) / np.sum(grad * grad)
    return d


def _translating_clip(delta, **kw):
    tex = _texture(**kw)
    return tex, np.stack([_shift(tex, d) for d in delta])


def _gain(measured, expected):
    """Least-squares slope through the origin."""
    return float(np.dot(measured, expected) / np.dot(expected, expected))


# --------------------------------------------------------------------------------------
# helpers: levels, rates, level factors
# --------------------------------------------------------------------------------------
def test_levels():
    assert _auto_levels((128, 128)) == 5  # 128, 64, 32, 16, 8 (authors' maxPyrHt)
    assert _auto_levels((48, 64)) == 4
    assert _auto_levels((4, 40)) == 1
    assert max_levels((24, 24)) == 5
    assert _resolve_levels(5, (24, 24)) == 5
    with pytest.raises(ValueError, match="levels=6 is too many .* at most 5"):
        _resolve_levels(6, (24, 24))


@pytest.mark.parametrize("freq, fps", [(0.4, 30.0), (3.0, 30.0), (10.0, 200.0),
                                       (15.0, 30.0)])
def test_iir_rate_is_minus_3db(freq, fps):
    r = _iir_rate(freq, fps)
    w = 2 * np.pi * freq / fps
    gain = abs(r / (1 - (1 - r) * np.exp(-1j * w)))
    assert gain == pytest.approx(1 / np.sqrt(2), rel=1e-9)
    assert _iir_rate(0.0, fps) == 0.0


def test_level_alphas_golden():
    # diag(128, 128) / 3 = 60.34 px at the residual; delta = 16 / 8 / 11
    lam = np.hypot(128, 128) / 3 / 2.0 ** np.arange(4, -1, -1)
    expected = np.minimum(10.0, 2.0 * (lam * 11 / 16 - 1))
    np.testing.assert_allclose(level_alphas(10.0, (128, 128), 5), expected)
    np.testing.assert_allclose(expected[:2], [3.1854, 8.3709], atol=1e-4)
    np.testing.assert_array_equal(level_alphas(3.0, (9, 9), 2, lambda_c=None), 3.0)
    # a huge cut-off attenuates everything to 0; the floor at 0 holds
    np.testing.assert_array_equal(level_alphas(10.0, (32, 32), 3, lambda_c=1e4), 0.0)
    assert np.all(np.diff(level_alphas(50.0, (200, 100), 6, lambda_c=40.0)) >= 0)


# --------------------------------------------------------------------------------------
# temporal filters: golden values against independent references
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("filt", FILTERS)
@pytest.mark.parametrize("n_frames", [2, 5, 40])
def test_temporal_bandpass_matches_reference(filt, n_frames):
    rng = np.random.default_rng(n_frames)
    x = rng.uniform(0, 255, size=(n_frames, 3, 4))
    fps, low, high = 30.0, 1.0, 6.0
    got = temporal_bandpass(x, fps, filter=filt, low_hz=low, high_hz=high)
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_allclose(got, REFS[filt](x, fps, low, high), atol=2e-3)


def test_temporal_bandpass_golden_clip():
    x = GOLDEN.astype(np.float64)
    got = temporal_bandpass(x, 10.0, filter="iir", low_hz=0.5, high_hz=2.0)
    # frame 0 is never changed by the causal IIR; a pixel that never changes
    # stays at 0; the square's leading edge (row 1, col 4) brightens at t=2
    assert np.all(got[0] == 0)
    assert np.all(got[:, 0, 0] == 0)
    r1, r2 = _iir_rate(2.0, 10.0), _iir_rate(0.5, 10.0)
    assert got[2, 1, 4] == pytest.approx(50 * (r1 - r2), rel=1e-5)


def test_ideal_passes_in_band_sine_and_rejects_out_of_band():
    t = np.arange(60) / 30.0
    inside = np.sin(2 * np.pi * 2.0 * t)
    outside = np.sin(2 * np.pi * 7.0 * t)
    y = temporal_bandpass(5 + inside + outside, 30.0, filter="ideal", low_hz=1.0,
                          high_hz=3.0)
    np.testing.assert_allclose(y, inside, atol=1e-5)


def test_ideal_without_bin_warns_and_changes_nothing(caplog):
    frames = np.random.default_rng(0).integers(0, 256, size=(4, 16, 16))
    with caplog.at_level(logging.WARNING, logger="skmer.preprocessing._magnify"):
        out = magnify(frames, fps=30.0, filter="ideal", low_hz=0.4, high_hz=3.0)
    assert "holds no frequency" in caplog.text
    np.testing.assert_array_equal(out, frames)


# --------------------------------------------------------------------------------------
# magnify: the literal algorithm, identities
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("filt", FILTERS)
@pytest.mark.parametrize("lambda_c", [None, 16.0, 6.0])
@pytest.mark.parametrize("shape", [(12, 33, 47), (10, 40, 36, 3)])
def test_magnify_matches_literal_pyramid(filt, lambda_c, shape):
    frames = np.random.default_rng(1).integers(0, 256, size=shape).astype(np.uint8)
    got = magnify(frames, fps=30.0, alpha=7.0, filter=filt, lambda_c=lambda_c,
                  chrom_attenuation=0.3)
    ref = _ref_magnify(frames, 30.0, 7.0, filt, 0.4, 3.0, lambda_c, chrom=0.3)
    assert got.dtype == np.float32 and got.shape == frames.shape
    np.testing.assert_allclose(got, ref, atol=5e-3)


def test_magnify_golden_no_cutoff():
    # without the cut-off every level gets alpha: out = x + alpha * bandpass(x)
    got = magnify(GOLDEN, fps=10.0, alpha=3.0, low_hz=0.5, high_hz=2.0,
                  lambda_c=None)
    ref = GOLDEN + 3.0 * _ref_iir(GOLDEN.astype(np.float64), 10.0, 0.5, 2.0)
    np.testing.assert_allclose(got, ref, atol=1e-4)
    assert got[2, 1, 4] == pytest.approx(
        GOLDEN[2, 1, 4] + 150 * (_iir_rate(2.0, 10.0) - _iir_rate(0.5, 10.0)),
        abs=1e-4)


def test_more_channels_than_cv2_handles():
    frames = np.random.default_rng(2).uniform(0, 1, size=(6, 20, 20, 5))
    got = magnify(frames, fps=30.0, alpha=4.0, filter="ideal", lambda_c=8.0)
    for c in (0, 4):
        one = magnify(frames[..., c], fps=30.0, alpha=4.0, filter="ideal",
                      lambda_c=8.0)
        np.testing.assert_allclose(got[..., c], one, atol=1e-5)


@pytest.mark.parametrize("filt", FILTERS)
def test_alpha_zero_is_exact_identity(filt):
    frames = np.random.default_rng(3).integers(0, 256, size=(9, 24, 24, 3),
                                               dtype=np.uint8)
    np.testing.assert_array_equal(magnify(frames, fps=30.0, alpha=0.0, filter=filt),
                                  frames)
    X = [Clip(frames, onset=1, apex=4, fps=30.0)]
    out = Magnifier(alpha=0.0, filter=filt).fit_transform(X)[0]
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out.frames, frames)
    pair = Magnifier(alpha=0.0, mode="two-frame").fit_transform(X)[0]
    np.testing.assert_array_equal(pair.frames, frames[[1, 4]])
    # float32 input: equal values, but a new array (the input is never aliased)
    f32 = frames.astype(np.float32)
    out = Magnifier(alpha=0.0, filter=filt, fps=30.0).fit_transform([f32])[0]
    np.testing.assert_array_equal(out.frames, f32)
    assert not np.shares_memory(out.frames, f32)


@pytest.mark.parametrize("filt", FILTERS)
def test_static_video_is_identity(filt):
    # exact after uint8 rounding; within 1e-3 grey levels as float32
    still = np.random.default_rng(4).integers(0, 256, size=(48, 48), dtype=np.uint8)
    frames = np.repeat(still[None], 10, axis=0)
    X = [Clip(frames, fps=30.0)]
    out = Magnifier(alpha=50.0, filter=filt, lambda_c=None).fit_transform(X)[0]
    np.testing.assert_array_equal(out.frames, frames)
    out_f = Magnifier(alpha=50.0, filter=filt, output="float32").fit_transform(X)[0]
    assert out_f.dtype == np.float32
    np.testing.assert_allclose(out_f.frames, frames, atol=1e-3)


# --------------------------------------------------------------------------------------
# motion oracles: a translating texture
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("filt", FILTERS)
@pytest.mark.parametrize("alpha", [2.0, 5.0, 10.0])
def test_displacement_gain_in_band(filt, alpha):
    # 30 frames at 30 fps, delta(t) = 0.05 px * sin(2 pi 2 Hz t) (an FFT bin);
    # the expected output motion is delta + alpha * bandpass(delta): for the ideal
    # filter exactly (1 + alpha) * delta, for the others their own response.
    fps, n = 30.0, 30
    delta = 0.05 * np.sin(2 * np.pi * 2.0 * np.arange(n) / fps)
    tex, frames = _translating_clip(delta)
    out = magnify(frames, fps=fps, alpha=alpha, filter=filt, low_hz=1.0,
                  high_hz=3.5, lambda_c=None)
    measured = np.array([_measure_shift(tex, f) for f in out.astype(np.float64)])
    expected = delta + alpha * REFS[filt](delta, fps, 1.0, 3.5)
    g = _gain(measured, expected)
    assert abs(g - 1) < 0.15, g
    assert np.abs(measured - expected).max() < 0.15 * np.abs(expected).max()
    if filt == "ideal":
        assert abs(_gain(measured, delta) - (1 + alpha)) < 0.15 * (1 + alpha)


@pytest.mark.parametrize("filt", ["ideal", "butterworth"])
def test_motion_outside_band_is_not_amplified(filt):
    fps, n, alpha = 30.0, 30, 10.0
    delta = 0.05 * np.sin(2 * np.pi * 10.0 * np.arange(n) / fps)  # 10 Hz
    tex, frames = _translating_clip(delta)
    out = magnify(frames, fps=fps, alpha=alpha, filter=filt, low_hz=0.5,
                  high_hz=1.0, lambda_c=None)
    measured = np.array([_measure_shift(tex, f) for f in out.astype(np.float64)])
    # ideal: exactly 1; zero-phase Butterworth: |H(10 Hz)|^2 ~ 0.003 -> 1.03
    assert abs(_gain(measured, delta) - 1) < 0.06
    # while the same motion at 2 Hz in a 1-3 Hz band is amplified ~11x
    delta_in = 0.05 * np.sin(2 * np.pi * 2.0 * np.arange(n) / fps)
    tex, frames = _translating_clip(delta_in)
    out = magnify(frames, fps=fps, alpha=alpha, filter=filt, low_hz=1.0,
                  high_hz=3.0, lambda_c=None)
    measured = np.array([_measure_shift(tex, f) for f in out.astype(np.float64)])
    assert _gain(measured, delta_in) > 5


@pytest.mark.parametrize("alpha", [1.0, 4.0, 10.0])
def test_two_frame_displacement_gain(alpha):
    tex = _texture(seed=5)
    apex = _shift(tex, 0.05)
    out = magnify_pair(tex, apex, [alpha], lambda_c=None)[0]
    d = _measure_shift(tex, out.astype(np.float64))
    d0 = _measure_shift(tex, apex)
    assert abs(d / d0 - (1 + alpha)) < 0.15 * (1 + alpha)
    # without the cut-off, exactly apex + alpha (apex - onset)
    np.testing.assert_allclose(out, apex + alpha * (apex - tex), atol=1e-3)


def test_spatial_cutoff_attenuates_fine_texture():
    # fine texture (short wavelengths): a lambda_c far above them cuts the gain
    tex = _texture(sigma=1.0, seed=6)
    apex = _shift(tex, 0.02)
    d0 = _measure_shift(tex, apex)
    full, cut = magnify_pair(tex, apex, 10.0, lambda_c=None), \
        magnify_pair(tex, apex, 10.0, lambda_c=40.0)
    g_full = _measure_shift(tex, full.astype(np.float64)) / d0
    g_cut = _measure_shift(tex, cut.astype(np.float64)) / d0
    assert g_full == pytest.approx(11.0, rel=0.15)
    assert 1.0 <= g_cut < 0.6 * g_full


def test_magnify_pair_several_alphas_and_colour():
    rng = np.random.default_rng(7)
    onset = rng.integers(0, 256, size=(32, 32, 3)).astype(np.uint8)
    apex = np.clip(onset.astype(int) + rng.integers(-3, 4, size=onset.shape), 0,
                   255).astype(np.uint8)
    out = magnify_pair(onset, apex, [0.0, 2.0, 5.0])
    assert out.shape == (3, 32, 32, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], apex, atol=1e-4)
    for j, a in enumerate([2.0, 5.0]):
        np.testing.assert_allclose(out[j + 1], magnify_pair(onset, apex, a),
                                   atol=1e-4)
    # chrom_attenuation=0: the change has no chroma (I, Q) component
    lum = magnify_pair(onset, apex, 5.0, chrom_attenuation=0.0)
    change_yiq = (lum - apex) @ _RGB2YIQ.T
    assert np.abs(change_yiq[..., 1:]).max() < 1e-3
    assert np.abs(change_yiq[..., 0]).max() > 1.0


# --------------------------------------------------------------------------------------
# the estimator
# --------------------------------------------------------------------------------------
# the suite also feeds bare arrays, which carry no frame rate: temporal
# magnifiers need the ``fps`` parameter there (the default fps=None raises)
@parametrize_with_clip_checks([
    Magnifier(fps=200.0),
    Magnifier(mode="two-frame", alpha=4.0),
    Magnifier(filter="butterworth", low_hz=5.0, high_hz=20.0, lambda_c=None,
              fps=200.0),
    Magnifier(filter="ideal", low_hz=20.0, high_hz=60.0, fps=200.0),
])
def test_clip_estimator_checks(estimator, check):
    check(estimator)


def _clips():
    rng = np.random.default_rng(8)
    frames = rng.integers(0, 256, size=(8, 24, 24), dtype=np.uint8)
    return frames, [Clip(frames, onset=1, apex=5, offset=7, fps=30.0, id="a",
                         subject="s/1")]


def test_metadata_follows_frames():
    frames, X = _clips()
    out = Magnifier().fit_transform(X)
    assert (out[0].onset, out[0].apex, out[0].offset, out[0].id) == (1, 5, 7, "a")
    assert out[0].shape == frames.shape
    pair = Magnifier(mode="two-frame").fit_transform(X)[0]
    assert (pair.onset, pair.apex, pair.offset, pair.id) == (0, 1, None, "a")
    np.testing.assert_array_equal(pair.frames[0], frames[1])
    # a bare array: onset 0, apex n // 2
    bare = Magnifier(mode="two-frame", alpha=3.0).fit_transform([frames])[0]
    ref = magnify_pair(frames[0], frames[4], 3.0)
    np.testing.assert_array_equal(bare.frames[1],
                                  np.clip(np.rint(ref), 0, 255).astype(np.uint8))
    assert X[0].frames is frames  # input untouched


def test_output_dtype_and_clipping():
    frames, X = _clips()
    out = Magnifier(alpha=200.0, lambda_c=None).fit_transform(X)[0].frames
    raw = Magnifier(alpha=200.0, lambda_c=None,
                    output="float32").fit_transform(X)[0].frames
    assert out.dtype == np.uint8 and raw.dtype == np.float32
    assert raw.min() < 0 and raw.max() > 255  # the change overshoots ...
    np.testing.assert_array_equal(out, np.clip(np.rint(raw), 0, 255))  # ... clipped
    f64 = Magnifier(alpha=2.0, fps=30.0).fit_transform([frames / 255.0])[0].frames
    assert f64.dtype == np.float64


def test_fps_parameter_and_clip_fps():
    frames, _ = _clips()
    with pytest.raises(ValueError, match="no frame rate.*fps"):
        Magnifier().fit([frames])
    a = Magnifier(fps=30.0).fit_transform([frames])[0].frames
    b = Magnifier(fps=60.0).fit_transform([Clip(frames, fps=30.0)])[0].frames
    np.testing.assert_array_equal(a, b)  # the clip's own fps wins
    c = Magnifier(fps=60.0).fit_transform([frames])[0].frames
    assert not np.array_equal(a, c)
    Magnifier(mode="two-frame").fit_transform([frames])  # no fps needed


def test_n_jobs_and_pickle():
    frames, X = _clips()
    X = X * 3
    est = Magnifier(filter="ideal").fit(X)
    a = [c.frames for c in est.transform(X)]
    b = [c.frames for c in clone(est).set_params(n_jobs=2).fit(X).transform(X)]
    c = [c.frames for c in pickle.loads(pickle.dumps(est)).transform(X)]
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)


@pytest.mark.parametrize("params, clips, match", [
    ({"alpha": -1.0}, None, "alpha"),
    ({"low_hz": 3.0, "high_hz": 3.0}, None, "low_hz must be below high_hz"),
    ({"low_hz": 5.0, "high_hz": 2.0}, None, "low_hz must be below high_hz"),
    ({"high_hz": 16.0}, None, "Nyquist.*15 Hz"),
    ({"filter": "butterworth", "high_hz": 15.0}, None, "Nyquist.*below"),
    ({"filter": "ideal", "low_hz": 0.0}, None, "low_hz=0 is only allowed"),
    ({"filter": "median"}, None, "filter"),
    ({"mode": "onset-apex"}, None, "mode"),
    ({"output": "uint16"}, None, "output"),
    ({"levels": 9}, None, "levels=9 is too many"),
    ({"levels": 0}, None, "levels"),
    ({"lambda_c": 0.0}, None, "lambda_c"),
    ({}, "one-frame", "at least 2"),
    ({"mode": "two-frame"}, "one-frame", "at least 2"),
    ({"mode": "two-frame"}, "onset-is-apex", "apex after the onset"),
    ({"mode": "two-frame"}, "apex-outside", "apex=9 lies outside"),
])
def test_bad_input(params, clips, match):
    frames, X = _clips()
    if clips == "one-frame":
        X = [Clip(frames[:1], fps=30.0)]
    elif clips == "onset-is-apex":
        X = [Clip(frames, onset=3, apex=3, fps=30.0)]
    elif clips == "apex-outside":
        X = [Clip(frames, onset=3, apex=9, fps=30.0)]
    with pytest.raises(ValueError, match=match):
        Magnifier(**params).fit_transform(X)


def test_nyquist_checked_per_clip_in_transform():
    frames, X = _clips()
    est = Magnifier(high_hz=10.0).fit(X)  # 30 fps: Nyquist 15 Hz
    with pytest.raises(ValueError, match="clip 0.*Nyquist"):
        est.transform([Clip(frames, fps=12.0)])


def test_kernel_bad_input():
    frames, _ = _clips()
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        magnify(frames, fps=30.0, alpha=-2.0)
    with pytest.raises(ValueError, match="no frame rate"):
        magnify(frames, fps=None)
    with pytest.raises(ValueError, match="at least 2 frames"):
        magnify(frames[:1], fps=30.0)
    with pytest.raises(ValueError, match="filter must be one of"):
        magnify(frames, fps=30.0, filter="fir")
    with pytest.raises(ValueError, match="same shape"):
        magnify_pair(frames[0], frames[1, :10], 2.0)
    with pytest.raises(ValueError, match="non-empty"):
        magnify_pair(frames[0], frames[1], [])
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        magnify_pair(frames[0], frames[1], [1.0, -1.0])


# --------------------------------------------------------------------------------------
# grid search over alpha with subject-grouped CV
# --------------------------------------------------------------------------------------
def _onset_apex_difference(X):
    """Apex minus onset, 4x4 block means, flattened (a tiny motion feature)."""
    feats = []
    for clip in X:
        d = clip.frames[clip.apex].astype(np.float32) - clip.frames[clip.onset]
        h, w = d.shape[:2]
        feats.append(d.reshape(h // 4, 4, w // 4, 4).mean(axis=(1, 3)).ravel())
    return np.stack(feats)


def _synthetic(n_clips, random_state):
    try:
        from skmer.datasets._synthetic import make_micro_expressions
    except ImportError:  # pragma: no cover - the generator is in the package
        pytest.skip("skmer.datasets._synthetic is absent")
    return make_micro_expressions(n_clips, n_subjects=6, n_classes=3, n_frames=10,
                                  frame_shape=(32, 32), fps=30.0, amplitude=0.4,
                                  random_state=random_state)


def test_grid_search_over_alpha():
    X, y, groups = _synthetic(36, 0)
    pipe = Pipeline([
        ("magnifier", Magnifier(mode="two-frame")),
        ("features", FunctionTransformer(_onset_apex_difference)),
        ("clf", RidgeClassifier()),
    ])
    grid = {"magnifier__alpha": [0.0, 3.0, 10.0]}
    search = GridSearchCV(pipe, grid, cv=GroupKFold(3)).fit(X, y, groups=groups)
    assert search.best_params_["magnifier__alpha"] in grid["magnifier__alpha"]
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    assert len(search.predict(X[:4])) == 4


# --------------------------------------------------------------------------------------
# real data
# --------------------------------------------------------------------------------------
def test_real_casme2_frames(shared_data):
    from skmer.datasets import read_frames

    folder = shared_data / "clips" / "casme2_tim10_cropped"
    if not folder.is_dir():
        pytest.skip(f"{folder} absent")
    frames = read_frames(folder)
    X = [Clip(frames, onset=0, apex=5, fps=200.0)]
    same = Magnifier(alpha=0.0).fit_transform(X)[0].frames
    np.testing.assert_array_equal(same, frames)
    # magnifying the onset->apex change increases the measured motion
    flows = []
    for alpha in (0.0, 4.0):
        pair = Magnifier(alpha=alpha, mode="two-frame").fit_transform(X)[0].frames
        flow = cv2.calcOpticalFlowFarneback(pair[0], pair[1], None, 0.5, 3, 15, 3,
                                            5, 1.2, 0)
        flows.append(np.hypot(flow[..., 0], flow[..., 1]).mean())
    assert flows[1] > 1.5 * flows[0], flows
