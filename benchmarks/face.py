"""Speed of face detection, landmarks and cropping on real CASME II frames.

Measured on the 16 frames of ``clips/casme2_EP02_01f_tim16_640x480.avi`` of the
shared data (``$SKMER_SHARED_DATA``, default ``../shared/data``):

- ``landmarks``: :func:`skmer.preprocessing._face.face_landmarks` on one 640x480 RGB
  frame (grey conversion, HOG detection on a 320-wide copy, 68-point shape
  predictor), the default settings of :class:`FaceCropper`; against the reference
  run in the same process: detection at full resolution (``detect_width=None``).
  Target: <= 40 ms median.
- ``warp``: applying the clip's one transform to a frame (``cv2.warpAffine`` to
  128x128, grey and RGB output); against the reference: re-detecting the face on
  every frame before warping (what a per-frame cropper would cost).
  Target: <= 2 ms per frame.
- ``transform``: ``FaceCropper().transform`` on the whole 16-frame clip.
- ``apex_224``: the detection rate and time per image on the 442 MEGC2019 apex crops.

Every timing is the median of repeated runs (``perf_counter``); the host's other load
shows in the spread (reported as the 10th-90th percentiles).  Writes
``benchmarks/results/face.{md,json}``.

Run: ``python benchmarks/face.py``
"""

from __future__ import annotations

import glob
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

from skmer.datasets import Clip  # noqa: E402
from skmer.preprocessing._face import (  # noqa: E402
    FaceCropper,
    _warp_frames,
    crop_face,
    detect_face,
    face_landmarks,
)
from skmer.utils._data import shared_data_dir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CASME = "clips/casme2_EP02_01f_tim16_640x480.avi"
REPEATS = 5


def _times(func, items, repeats=REPEATS):
    """Per-call times (ms) of ``func(item)`` over ``items``, ``repeats`` times."""
    func(items[0])  # warm-up (loads the predictor, allocates)
    out = []
    for _ in range(repeats):
        for item in items:
            t0 = time.perf_counter()
            func(item)
            out.append((time.perf_counter() - t0) * 1e3)
    return np.asarray(out)


def _summary(ms):
    return {"median_ms": round(float(np.median(ms)), 3),
            "p10_ms": round(float(np.percentile(ms, 10)), 3),
            "p90_ms": round(float(np.percentile(ms, 90)), 3),
            "n": int(len(ms))}


def main():
    """Run the measurements and write benchmarks/results/face.{md,json}."""
    data = shared_data_dir()
    if data is None or not (data / CASME).is_file():
        sys.exit("benchmarks/face.py needs the shared data: set SKMER_SHARED_DATA")
    clip = Clip(source=data / CASME, color="rgb", id="casme2/EP02_01f").load()
    frames = clip.frames
    results = {"frames": f"{CASME} {frames.shape}", "machine": {
        "platform": platform.platform(), "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0], "opencv": cv2.__version__}}

    # detection + landmarks on one frame
    lm = _times(lambda f: face_landmarks(f), list(frames))
    lm_full = _times(lambda f: face_landmarks(f, detect_width=None), list(frames),
                     repeats=2)
    det = _times(lambda f: detect_face(f), list(frames))
    results["landmarks"] = {
        "default (detect_width=320)": _summary(lm),
        "reference: detect_width=None": _summary(lm_full),
        "detection only (detect_width=320)": _summary(det),
        "speedup_vs_reference": round(float(np.median(lm_full) / np.median(lm)), 2),
        "target_median_ms": 40.0,
    }

    # applying the crop
    res = crop_face(frames[:1])
    single = [frames[t:t + 1] for t in range(len(frames))]
    warp_rgb = _times(lambda f: _warp_frames(f, res.matrix, (128, 128), "linear"),
                      single, repeats=20)
    grey_frames = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
    single_grey = [grey_frames[t:t + 1] for t in range(len(frames))]
    warp_grey = _times(lambda f: _warp_frames(f, res.matrix, (128, 128), "linear"),
                       single_grey, repeats=20)
    warp_area = _times(lambda f: _warp_frames(f, res.matrix, (128, 128), "area"),
                       single_grey, repeats=5)
    per_frame = _times(lambda f: crop_face(f), single, repeats=2)
    results["warp"] = {
        "rgb 640x480 -> 128x128 (linear)": _summary(warp_rgb),
        "grey 640x480 -> 128x128 (linear)": _summary(warp_grey),
        "grey 640x480 -> 128x128 (area)": _summary(warp_area),
        "reference: re-detect + warp every frame": _summary(per_frame),
        "speedup_vs_reference": round(float(np.median(per_frame)
                                            / np.median(warp_rgb)), 1),
        "target_median_ms": 2.0,
    }

    # the estimator on the whole clip
    crop = FaceCropper().fit([clip])
    tr = _times(lambda c: crop.transform([c]), [clip], repeats=10)
    results["transform"] = {"FaceCropper().transform, 16 frames": _summary(tr)}

    # detection rate on the MEGC2019 apex crops
    files = sorted(glob.glob(str(data / "megc2019" / "apex_224" / "*.jpg")))
    if files:
        imgs = [cv2.imread(f, cv2.IMREAD_GRAYSCALE) for f in files]
        t0 = time.perf_counter()
        found = sum(detect_face(i) is not None for i in imgs)
        t_pad = time.perf_counter() - t0
        t0 = time.perf_counter()
        found_nopad = sum(detect_face(i, pad=0) is not None for i in imgs)
        t_nopad = time.perf_counter() - t0
        results["apex_224"] = {
            "n_images": len(imgs),
            "found (pad=0.2 retry, default)": found,
            "found (pad=0)": found_nopad,
            "rate": round(found / len(imgs), 4),
            "ms_per_image (default)": round(1e3 * t_pad / len(imgs), 2),
            "ms_per_image (pad=0)": round(1e3 * t_nopad / len(imgs), 2),
        }

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "face.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "face.md").write_text(to_markdown(results))
    print(to_markdown(results))


def to_markdown(r):
    """Render the results dict as a Markdown report."""
    lines = ["# Face cropping speed (dlib HOG + 68 landmarks, one warp per frame)", "",
             f"Frames: `{r['frames']}`; machine: {r['machine']}", ""]
    for section in ("landmarks", "warp", "transform"):
        lines += [f"## {section}", "", "| what | median ms | p10 | p90 | n |",
                  "|---|---|---|---|---|"]
        extra = []
        for k, v in r[section].items():
            if isinstance(v, dict):
                lines.append(f"| {k} | {v['median_ms']} | {v['p10_ms']} | "
                             f"{v['p90_ms']} | {v['n']} |")
            else:
                extra.append(f"- {k}: {v}")
        lines += [""] + extra + [""]
    if "apex_224" in r:
        lines += ["## MEGC2019 apex_224 detection", ""]
        lines += [f"- {k}: {v}" for k, v in r["apex_224"].items()] + [""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
