"""Overhead of :class:`skmer.preprocessing.FlowExtractor` over the raw OpenCV call.

For each method (TV-L1, Farnebäck, DIS) the same onset-apex pairs (128 x 128 grey
uint8 face-sized frames from ``make_micro_expressions``) are processed two ways in
one process, alternating (the first of the two swaps every repeat), several
repeats, median:

* reference: the bare OpenCV call per pair (``DualTVL1OpticalFlow.calc``,
  ``calcOpticalFlowFarneback``, ``DISOpticalFlow.calc``) with the same parameters
  and a preallocated algorithm object, stacked into one array -- the least any
  wrapper can cost;
* skmer: ``FlowExtractor(method, strain=False, n_jobs=1).transform(X)`` after one
  ``fit(X)`` (clip validation, onset/apex metadata, the (n, 2, H, W) float32 output
  included).

A sample of a fast method repeats its call until it lasts about ``--min-time``
seconds (then divides), so that DIS's few milliseconds are not lost in the timer
and scheduler noise.  The overhead reported is the median, over the repeats, of the
ratio of the two adjacent samples (the medians' and minima's ratios are written
too): on a shared machine the load changes between repeats more than within one.
The flow must be bit-identical to the reference's.

What FlowExtractor does per pair (``skmer/preprocessing/_flow.py``): TV-L1 reuses a
per-thread OpenCV object for frames of one shape; DIS builds a new object per pair,
because a reused ``DISOpticalFlow`` does not reproduce a new one's flow on some frame
sizes (OpenCV 5.0) -- about 5 % of a 128 x 128 DIS call, a third of what is left of
its overhead (the rest: u and v copied out of OpenCV's interleaved (H, W, 2) field
into the (n, 2, H, W) output, and the checks of the clips and their onset/apex).

Target: overhead <= 20 %.  Writes ``benchmarks/results/flow.{md,json}``.
Run: ``python benchmarks/flow.py [--n-clips 12] [--repeats 5] [--min-time 0.2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
METHODS = ("tvl1", "farneback", "dis")
# The same command before the per-thread TV-L1 objects, the float32 post-processing
# and the direct writes into the output (12 clips, 5 repeats, load average 1.61)
BEFORE = {"tvl1": 0.160, "farneback": 0.069, "dis": 0.498}


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


def _sample(func, n_inner):
    t0 = time.perf_counter()
    for _ in range(n_inner):
        out = func()
    return (time.perf_counter() - t0) / n_inner, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-clips", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.2,
                        help="least duration (s) of one timed sample")
    args = parser.parse_args(argv)
    X, _, _ = make_micro_expressions(n_clips=args.n_clips, n_subjects=4,
                                     frame_shape=(128, 128), random_state=0)
    pairs = [(c.frames[c.onset], c.frames[c.apex]) for c in X]
    load_before = os.getloadavg()
    rows = []
    for method in METHODS:
        raw = _raw(method)
        est = FlowExtractor(method=method, strain=False, n_jobs=1).fit(X)

        def reference(raw=raw):
            return np.stack([raw(a, b) for a, b in pairs])

        def skmer(est=est):
            return est.transform(X)

        warm, _ = _sample(skmer, 1)  # warm-up, and the inner loop count
        n_inner = max(1, int(np.ceil(args.min_time / warm)))
        ref_t, skmer_t = [], []
        for rep in range(args.repeats):
            for which in (("ref", "skmer") if rep % 2 == 0 else ("skmer", "ref")):
                if which == "ref":
                    t, ref = _sample(reference, n_inner)
                    ref_t.append(t)
                else:
                    t, out = _sample(skmer, n_inner)
                    skmer_t.append(t)
        same = bool(np.array_equal(out, ref.transpose(0, 3, 1, 2)))
        r, s = statistics.median(ref_t), statistics.median(skmer_t)
        # paired: each repeat's two samples are adjacent in time, so their ratio is
        # less affected by the other loads of a shared machine than the medians'
        paired = statistics.median(b / a for a, b in zip(ref_t, skmer_t)) - 1
        rows.append({"method": method, "raw_s": r, "skmer_s": s,
                     "overhead": paired, "overhead_of_medians": s / r - 1,
                     "overhead_of_minima": min(skmer_t) / min(ref_t) - 1,
                     "overhead_before": BEFORE[method],
                     "n_inner": n_inner, "raw_samples_s": ref_t,
                     "skmer_samples_s": skmer_t, "bit_identical_to_raw": same})
        print({k: v for k, v in rows[-1].items() if "samples" not in k}, flush=True)
    load_after = os.getloadavg()
    machine = (f"{platform.machine()} {platform.processor() or ''}".strip()
               + f", {os.cpu_count()} cores, OpenCV {cv2.__version__} "
               f"({cv2.getNumThreads()} threads)")
    md = ["# FlowExtractor overhead over the raw OpenCV call", "",
          f"{args.n_clips} onset-apex pairs of 128x128 grey frames, n_jobs=1, median "
          f"of {args.repeats} alternating repeats (each sample at least "
          f"{args.min_time:g} s); {machine}; load average (1 min) "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after.", "",
          "| method | raw OpenCV (s) | FlowExtractor (s) | overhead (paired) | "
          "of medians | of minima | before | bit-identical flow |",
          "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        md.append(f"| {r['method']} | {r['raw_s']:.4f} | {r['skmer_s']:.4f} | "
                  f"{100 * r['overhead']:+.1f} % | "
                  f"{100 * r['overhead_of_medians']:+.1f} % | "
                  f"{100 * r['overhead_of_minima']:+.1f} % | "
                  f"{100 * r['overhead_before']:+.1f} % | "
                  f"{r['bit_identical_to_raw']} |")
    md += ["", f"Times: medians per call of `transform` ({args.n_clips} pairs).  "
           "Overhead (paired): "
           "median over the repeats of the ratio of two adjacent samples, minus 1. "
           "\"before\": the same command (ratio of medians, 5 repeats, one call per "
           "sample) before the per-thread TV-L1 objects, the float32 post-processing "
           "and the direct writes into the output.  Target: overhead <= 20 %.  "
           "Command: `python benchmarks/flow.py "
           + " ".join(argv if argv is not None else sys.argv[1:]) + "`"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "flow.md").write_text("\n".join(md) + "\n")
    meta = {"machine": machine, "load_before": load_before, "load_after": load_after,
            "args": vars(args)}
    (RESULTS / "flow.json").write_text(json.dumps({"meta": meta, "rows": rows},
                                                  indent=2))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
