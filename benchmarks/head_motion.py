"""Residual head motion on real face videos, with and without compensation.

For every frame ``t`` of a video, the DIS optical flow (OpenCV, preset "fast") from
the reference frame 0 to frame ``t`` is computed and its magnitude's median over
the face (the bounding box of frame 0's 68 landmarks) is taken; the table gives
the median and the 90th percentile over the frames of that residual motion,
in pixels, for the raw frames, for :func:`skmer.preprocessing.register_frames`
with landmarks only (``refine=None``) and with the default ECC refinement.  The
face's own motion (talking, blinking) stays in every row: only the rigid head
motion can go.

Videos (``$SKMER_SHARED_DATA``, default ``../shared/data``):
``video/pyfeat_single_face.mp4`` (talking, moving head, 72 frames),
``video/evm_face.mp4`` (near-static face, 301 frames) and the raw CASME II clip
``clips/casme2_EP02_01f_tim16_640x480.avi`` (16 TIM frames, a smile).

Run: ``python benchmarks/head_motion.py`` (writes
``benchmarks/results/head_motion.{md,json}``; about 1 minute).
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skmer.datasets import read_frames  # noqa: E402
from skmer.preprocessing import optical_flow, register_frames  # noqa: E402
from skmer.utils._data import shared_data_dir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
COMMAND = "python benchmarks/head_motion.py"
VIDEOS = ("video/pyfeat_single_face.mp4", "video/evm_face.mp4",
          "clips/casme2_EP02_01f_tim16_640x480.avi")


def residual(frames, box):
    """Median flow magnitude over ``box`` from frame 0 to every other frame."""
    x0, y0, x1, y1 = box
    out = []
    for t in range(1, len(frames)):
        flow = optical_flow(frames[0], frames[t], method="dis")
        out.append(float(np.median(np.hypot(flow[..., 0], flow[..., 1])
                                   [y0:y1, x0:x1])))
    return np.array(out)


def main():
    """Measure and write benchmarks/results/head_motion.{md,json}."""
    root = Path(shared_data_dir())
    rows = []
    for name in VIDEOS:
        path = root / name
        if not path.is_file():
            continue
        frames = read_frames(path)
        entry = dict(video=name, n_frames=len(frames), shape=list(frames.shape))
        box = None
        for label, kw in (("landmarks only", dict(refine=None)),
                          ("landmarks + ECC (default)", {})):
            t0 = time.perf_counter()
            res = register_frames(frames, **kw)
            seconds = time.perf_counter() - t0
            if box is None:
                lm = res.landmarks[0]
                box = np.r_[np.floor(lm.min(axis=0)),
                            np.ceil(lm.max(axis=0))].astype(int).tolist()
                r = residual(frames, box)
                entry["raw"] = dict(median=float(np.median(r)),
                                    p90=float(np.percentile(r, 90)))
                entry["faces_found"] = int(res.found.sum())
            r = residual(res.frames, box)
            entry[label] = dict(median=float(np.median(r)),
                                p90=float(np.percentile(r, 90)),
                                seconds=seconds)
        entry["face_box"] = box
        rows.append(entry)
    res = dict(command=COMMAND, rows=rows, machine=dict(
        platform=platform.platform(), python=platform.python_version()))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "head_motion.json").write_text(json.dumps(res, indent=1))
    (RESULTS / "head_motion.md").write_text(to_markdown(res))
    print(to_markdown(res))


def to_markdown(res):
    """Render the results as a Markdown table."""
    lines = ["# Residual head motion (median DIS flow over the face vs frame 0, px)",
             "", f"Command: `{res['command']}`; machine: {res['machine']}.", "",
             "| video | frames (face found) | raw: median / p90 | landmarks only "
             "| landmarks + ECC (default) | time (default) |",
             "|---|---|---|---|---|---|"]
    for r in res["rows"]:
        a, b, c = r["raw"], r["landmarks only"], r["landmarks + ECC (default)"]
        lines.append(
            f"| {r['video']} | {r['n_frames']} ({r['faces_found']}) | "
            f"{a['median']:.3f} / {a['p90']:.3f} | {b['median']:.3f} / "
            f"{b['p90']:.3f} | {c['median']:.3f} / {c['p90']:.3f} | "
            f"{c['seconds']:.1f} s |")
    lines += ["", "The residual includes the face's own motion (talking and smiling "
              "in pyfeat, blinks) and the flow's noise floor: only rigid head "
              "motion can be removed.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
