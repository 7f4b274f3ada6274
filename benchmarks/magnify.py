"""Cost of Eulerian video magnification per 128x128 frame (target: <= 1 ms).

Times, on a 60-frame 128x128 uint8 clip at 30 fps (a smooth random texture moving
by a fraction of a pixel), :func:`skmer.preprocessing.magnify` with each temporal
filter (default ``lambda_c=16``, so the spatial pyramid is really used), the RGB
version of the IIR path, :func:`~skmer.preprocessing.magnify_pair` (one factor and
five factors at once) and ``Magnifier.transform`` on 8 clips.

Every row is compared with a *reference* run in the same process: the literal
algorithm (full Laplacian pyramid of every frame, every coefficient filtered with
``scipy.signal`` along the time axis or ``numpy.fft``, weighted per level, collapsed,
added), which skmer's kernel must equal to float rounding (the ``max |diff|``
column, in grey levels).  Timings are medians of ``REPEATS`` runs.

Run: ``python benchmarks/magnify.py`` (writes ``benchmarks/results/magnify.{md,json}``)
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
from scipy.signal import butter, lfilter, sosfiltfilt  # noqa: E402

from skmer.datasets import Clip  # noqa: E402
from skmer.preprocessing._magnify import (  # noqa: E402
    _RGB2YIQ,
    _YIQ2RGB,
    Magnifier,
    _iir_rate,
    _resolve_levels,
    level_alphas,
    magnify,
    magnify_pair,
)

RESULTS = ROOT / "benchmarks" / "results"
REPEATS = 7
FPS, N_FRAMES, SIZE = 30.0, 60, 128
LOW, HIGH, ALPHA, LAMBDA_C = 0.4, 3.0, 10.0, 16.0


# --------------------------------------------------------------------------------------
# the reference: literal Wu et al. with scipy filters along the time axis
# --------------------------------------------------------------------------------------
def _ref_filter(x, filt):
    if filt == "iir":
        out = []
        for f in (HIGH, LOW):
            r = _iir_rate(f, FPS)
            y, _ = lfilter([r], [1.0, r - 1.0], x, axis=0, zi=(1.0 - r) * x[:1])
            out.append(y)
        return out[0] - out[1]
    if filt == "ideal":
        spec = np.fft.rfft(x, axis=0)
        f = np.fft.rfftfreq(len(x), 1.0 / FPS)
        spec[(f < LOW) | (f > HIGH)] = 0
        return np.fft.irfft(spec, n=len(x), axis=0)
    sos = butter(1, [LOW, HIGH], btype="bandpass", fs=FPS, output="sos")
    return sosfiltfilt(sos, x, axis=0, padlen=min(9, len(x) - 1))


def _lap(img, n_levels):
    g = [img]
    for _ in range(n_levels - 1):
        g.append(cv2.pyrDown(g[-1]))
    return [g[k] - cv2.pyrUp(g[k + 1], dstsize=g[k].shape[1::-1])
            for k in range(n_levels - 1)] + [g[-1]]


def _collapse(levels):
    r = levels[-1]
    for k in range(len(levels) - 2, -1, -1):
        r = cv2.pyrUp(r, dstsize=levels[k].shape[1::-1]) + levels[k]
    return r


def reference_magnify(frames, filt, chrom=0.1):
    x = frames.astype(np.float32)
    colour = x.ndim == 4
    if colour:
        x = x @ _RGB2YIQ.T.astype(np.float32)
    n_lv = _resolve_levels("auto", x.shape[1:3])
    pyrs = [_lap(f, n_lv) for f in x]
    al = level_alphas(ALPHA, x.shape[1:3], n_lv, lambda_c=LAMBDA_C)
    bands = []
    for k in range(n_lv):
        b = _ref_filter(np.stack([p[k] for p in pyrs]), filt) * al[k]
        if colour:
            b[..., 1:] *= chrom
        bands.append(b.astype(np.float32))
    out = np.stack([_collapse([b[t] for b in bands]) for t in range(len(x))])
    if colour:
        out = out @ _YIQ2RGB.T.astype(np.float32)
    return frames + out


def reference_pair(onset, apex, alphas):
    n_lv = _resolve_levels("auto", onset.shape)
    lo, la = _lap(onset.astype(np.float32), n_lv), _lap(apex.astype(np.float32), n_lv)
    out = []
    for a in alphas:
        al = level_alphas(a, onset.shape, n_lv, lambda_c=LAMBDA_C)
        out.append(_collapse([o + (1 + w) * (p - o) for o, p, w in zip(lo, la, al)]))
    return np.stack(out)


# --------------------------------------------------------------------------------------
def _clip(colour=False, seed=0):
    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (SIZE, SIZE)).astype(np.float32),
                           (0, 0), 2.0)
    tex = (tex - tex.mean()) * (40 / tex.std()) + 128
    t = np.arange(N_FRAMES) / FPS
    frames = []
    for d in 0.3 * np.sin(2 * np.pi * 1.5 * t):
        m = np.float32([[1, 0, d], [0, 1, 0.5 * d]])
        frames.append(cv2.warpAffine(tex, m, (SIZE, SIZE),
                                     borderMode=cv2.BORDER_REFLECT101))
    frames = np.clip(np.rint(np.stack(frames)), 0, 255).astype(np.uint8)
    if colour:
        frames = np.stack([frames, np.roll(frames, 3, axis=2),
                           255 - frames], axis=-1)
    return frames


def _median_time(func, repeats=REPEATS):
    func()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def run():
    grey, rgb = _clip(), _clip(colour=True)
    rows = []

    def add(name, n_frames, ours, ref, diff):
        t_ours, t_ref = _median_time(ours), _median_time(ref)
        rows.append({
            "case": name,
            "ms_per_frame": 1e3 * t_ours / n_frames,
            "reference_ms_per_frame": 1e3 * t_ref / n_frames,
            "speedup_vs_reference": t_ref / t_ours,
            "max_abs_diff": float(diff),
        })

    for filt in ("iir", "ideal", "butterworth"):
        ours = magnify(grey, fps=FPS, alpha=ALPHA, filter=filt, low_hz=LOW,
                       high_hz=HIGH, lambda_c=LAMBDA_C)
        diff = np.abs(ours - reference_magnify(grey, filt)).max()
        add(f"magnify filter={filt!r} (grey)", N_FRAMES,
            lambda f=filt: magnify(grey, fps=FPS, alpha=ALPHA, filter=f,
                                   low_hz=LOW, high_hz=HIGH, lambda_c=LAMBDA_C),
            lambda f=filt: reference_magnify(grey, f), diff)
    ours = magnify(rgb, fps=FPS, alpha=ALPHA, low_hz=LOW, high_hz=HIGH,
                   lambda_c=LAMBDA_C)
    add("magnify filter='iir' (RGB, YIQ)", N_FRAMES,
        lambda: magnify(rgb, fps=FPS, alpha=ALPHA, low_hz=LOW, high_hz=HIGH,
                        lambda_c=LAMBDA_C),
        lambda: reference_magnify(rgb, "iir"),
        np.abs(ours - reference_magnify(rgb, "iir")).max())

    onset, apex = grey[0], grey[10]
    for alphas in ([ALPHA], [2.0, 5.0, 10.0, 15.0, 20.0]):
        diff = np.abs(magnify_pair(onset, apex, alphas, lambda_c=LAMBDA_C)
                      - reference_pair(onset, apex, alphas)).max()
        # "per frame" = per output (magnified apex) frame
        add(f"magnify_pair, {len(alphas)} alpha(s)", len(alphas),
            lambda a=alphas: magnify_pair(onset, apex, a, lambda_c=LAMBDA_C),
            lambda a=alphas: reference_pair(onset, apex, a), diff)

    X = [Clip(_clip(seed=s), onset=0, apex=10, fps=FPS) for s in range(8)]
    est = Magnifier(alpha=ALPHA, lambda_c=LAMBDA_C).fit(X)
    out = est.transform(X)
    ref_out = [np.clip(np.rint(reference_magnify(c.frames, "iir")), 0, 255)
               for c in X]
    diff = max(np.abs(o.frames.astype(float) - r).max() for o, r in zip(out, ref_out))
    add("Magnifier.transform, 8 clips (uint8 out)", 8 * N_FRAMES,
        lambda: est.transform(X),
        lambda: [reference_magnify(c.frames, "iir") for c in X], diff)

    return {
        "clip": f"{N_FRAMES} frames of {SIZE}x{SIZE} uint8 at {FPS:g} fps",
        "params": dict(alpha=ALPHA, lambda_c=LAMBDA_C, low_hz=LOW, high_hz=HIGH,
                       levels=_resolve_levels("auto", (SIZE, SIZE))),
        "target_ms_per_frame": 1.0,
        "repeats": REPEATS,
        "machine": f"{platform.processor() or platform.machine()}, "
                   f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
                   f"numpy {np.__version__}, OpenCV {cv2.__version__}",
        "rows": rows,
    }


def to_markdown(res):
    lines = [
        "# Eulerian magnification: cost per 128x128 frame",
        "",
        f"Clip: {res['clip']}; {res['params']}; median of {res['repeats']} runs. "
        f"Target: <= {res['target_ms_per_frame']:g} ms per frame.",
        f"Machine: {res['machine']}.",
        "",
        "Reference: the literal algorithm in the same process (full pyramid of "
        "every frame, scipy/numpy filters along time, per-level weights, "
        "collapse); `max |diff|` is skmer minus reference, in grey levels.",
        "",
        "| case | ms / frame | reference ms / frame | speed-up | max abs diff |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in res["rows"]:
        lines.append(
            f"| {r['case']} | {r['ms_per_frame']:.3f} | "
            f"{r['reference_ms_per_frame']:.3f} | {r['speedup_vs_reference']:.2f}x | "
            f"{r['max_abs_diff']:.2g} |")
    lines.append("")
    return "\n".join(lines)


def main():
    res = run()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "magnify.json").write_text(json.dumps(res, indent=2))
    (RESULTS / "magnify.md").write_text(to_markdown(res))
    sys.stdout.write(to_markdown(res))


if __name__ == "__main__":
    main()
