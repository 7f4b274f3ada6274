"""Overhead of :class:`skmer.preprocessing.FlowExtractor` over the raw OpenCV call.

For each method (TV-L1, Farnebäck, DIS) the same onset-apex pairs (128 x 128 grey
uint8 face-sized frames from ``make_micro_expressions``) are processed two ways in
one process, alternating, several repeats, median:

* reference: the bare OpenCV call per pair (``DualTVL1OpticalFlow.calc``,
  ``calcOpticalFlowFarneback``, ``DISOpticalFlow.calc``) with the same parameters
  and a preallocated algorithm object -- the least any wrapper can cost;
* skmer: ``FlowExtractor(method, strain=False).fit(X).transform(X)`` with
  ``n_jobs=1`` (validation, metadata, the (n, 2, H, W) float32 output included).

Target: overhead <= 20 %.  Writes ``benchmarks/results/flow.{md,json}``.
Run: ``python benchmarks/flow.py [--n-clips 16] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from skmer.datasets import make_micro_expressions  # noqa: E402
from skmer.preprocessing import FlowExtractor  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def _raw(method):
    if method == "tvl1":
        algo = cv2.optflow.DualTVL1OpticalFlow_create()

        def run(a, b):
            return algo.calc(a, b, None)
    elif method == "farneback":
        def run(a, b):
            return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    else:
        algo = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)

        def run(a, b):
            return algo.calc(a, b, None)
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-clips", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    X, _, _ = make_micro_expressions(n_clips=args.n_clips, n_subjects=4,
                                     frame_shape=(128, 128), random_state=0)
    pairs = [(c.frames[c.onset], c.frames[c.apex]) for c in X]
    rows = []
    for method in ("tvl1", "farneback", "dis"):
        raw = _raw(method)
        est = FlowExtractor(method=method, strain=False, n_jobs=1).fit(X)
        ref_t, skmer_t = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            ref = np.stack([raw(a, b) for a, b in pairs])
            ref_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            out = est.transform(X)
            skmer_t.append(time.perf_counter() - t0)
        same = np.allclose(out, ref.transpose(0, 3, 1, 2), atol=1e-5)
        r, s = statistics.median(ref_t), statistics.median(skmer_t)
        rows.append({"method": method, "raw_s": r, "skmer_s": s,
                     "overhead": s / r - 1, "same_flow_as_raw": bool(same)})
        print(rows[-1], flush=True)
    md = ["# FlowExtractor overhead over the raw OpenCV call", "",
          f"{args.n_clips} onset-apex pairs of 128x128 grey frames, n_jobs=1, median "
          f"of {args.repeats} alternating repeats; {os.cpu_count()} cores, load "
          f"average {os.getloadavg()[0]:.2f}.", "",
          "| method | raw OpenCV (s) | FlowExtractor (s) | overhead | same flow |",
          "|---|---:|---:|---:|---|"]
    for r in rows:
        md.append(f"| {r['method']} | {r['raw_s']:.3f} | {r['skmer_s']:.3f} | "
                  f"{100 * r['overhead']:+.1f} % | {r['same_flow_as_raw']} |")
    md += ["", "Target: overhead <= 20 %.  Command: `python benchmarks/flow.py`"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "flow.md").write_text("\n".join(md) + "\n")
    (RESULTS / "flow.json").write_text(json.dumps(rows, indent=2))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
