"""Spotting benchmark: known micro-movements injected into real face videos.

The real face videos of the shared data (``video/evm_face.mp4``, near-static, 301
frames at 30 fps; ``video/pyfeat_single_face.mp4``, a talking, smiling face, 72
frames at 30 fps), read as skmer predict reads them
(:func:`skmer.datasets.read_frames`, grey), get known micro-movements written in by
:func:`skmer.spotting.inject_micro_movements` (smooth local warps of the brow, eye or
mouth region, 0.2-1 px peak, 0.2-0.5 s, one seed per run), so that the real noise,
blinks and head motion of the videos stay.  Each method of
:class:`~skmer.spotting.MicroExpressionSpotter` (defaults otherwise) spots them:

- spotting precision, recall and F1 (:func:`skmer.metrics.spotting_scores`,
  interval IoU >= 0.5, TP/FP/FN pooled over videos and seeds), micro intervals only
  (the spotter's macro intervals are counted apart);
- apex error of the matched intervals, in frames and in % of the true
  onset-offset span (median and 90th percentile), and how many true intervals hold
  the apex of some micro interval (found, whatever the extent);
- false positives per minute of the untouched videos (every micro interval the
  spotter reports on a video with nothing injected; the videos hold real blinks and
  speech, so some of these are real movements, not errors of the spotter).

Writes ``benchmarks/results/spotting.{md,json}``.

Run: ``python benchmarks/spotting.py`` (``--quick``: the first 90 frames of
``evm_face`` only, two seeds; ``--seeds N``; ``--rescore``: the scores again from the
cases saved in the JSON).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skmer._core._clip import video_fps  # noqa: E402
from skmer.datasets import read_frames  # noqa: E402
from skmer.metrics import interval_iou, spotting_scores  # noqa: E402
from skmer.spotting import MicroExpressionSpotter, inject_micro_movements  # noqa: E402
from skmer.utils._data import shared_data_dir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
# video -> number of movements injected per run (a 0.5 s gap between movements and
# 0.5 s kept free at both ends)
VIDEOS = {"evm_face": ("video/evm_face.mp4", 4),
          "pyfeat_single_face": ("video/pyfeat_single_face.mp4", 1)}
# row name -> MicroExpressionSpotter parameters. The floor row was added after the
# first run showed about 29 false positives per minute on the untouched videos: its
# 0.2 px is fixed a priori (the smallest micro-expression amplitude the injected
# range, and issue 14, consider), not tuned on these scores.  The noise row came
# next (it is what skmer predict uses): its factor 1.5 was chosen after looking at
# the flow scores of evm_face, untouched (its highest peak: 1.32 times the median
# score) and with movements injected (the report's last section gives those
# ratios), so on evm_face it is not an independent measurement.
SPOTTERS = {"lbp": {"method": "lbp"}, "flow": {"method": "flow"},
            "flow, floor 0.2 px": {"method": "flow", "min_score": 0.2},
            "flow, 1.5 x noise": {"method": "flow", "min_snr": 1.5}}
METHODS = tuple(SPOTTERS)


def load_video(data, name, max_frames=None):
    """Grey frames and frame rate of one of the shared videos."""
    path = data / VIDEOS[name][0]
    frames = read_frames(path, color="grey")
    if max_frames is not None:
        frames = frames[:max_frames]
    return frames, video_fps(path)


def apex_errors(truth, pred, threshold=0.5):
    """Apex errors (frames, % of span) of the best-IoU match of each true interval."""
    frames, percent = [], []
    for t in truth:
        best = max(pred, key=lambda p: interval_iou(t.as_tuple(), p.as_tuple()),
                   default=None)
        if best is None or interval_iou(t.as_tuple(), best.as_tuple()) < threshold:
            continue
        err = abs(best.apex - t.apex)
        frames.append(err)
        percent.append(100.0 * err / (t.offset - t.onset))
    return frames, percent


def run_case(frames, fps, n, seed, methods=METHODS):
    """Inject ``n`` movements with ``seed`` and spot them with every method."""
    video, truth = inject_micro_movements(frames, fps=fps, n=n, random_state=seed)
    out = {"truth": [m.to_dict() for m in truth], "pred": {}, "seconds": {}}
    out["peak_snr"] = {}
    for method in methods:
        start = time.perf_counter()
        pred, sc = MicroExpressionSpotter(**SPOTTERS[method]).spot(
            video, fps=fps, return_scores=True)
        out["seconds"][method] = time.perf_counter() - start
        # the highest contrasted score inside each true span, over the noise level
        out["peak_snr"][method] = [
            float(sc.contrast[m.onset:m.offset + 1].max() / sc.noise)
            if sc.noise > 0 else None for m in truth]
        out["pred"][method] = [p.to_dict() for p in pred]
    return out, truth


def _stats(values):
    if not values:
        return {"median": None, "p90": None, "n": 0}
    return {"median": float(np.median(values)),
            "p90": float(np.percentile(values, 90)), "n": len(values)}


def evaluate(cases, methods=METHODS):
    """Pooled spotting scores and apex errors per method over ``cases``."""
    from skmer.spotting import InjectedMovement, SpottedInterval

    summary = {}
    for method in methods:
        truth_map, pred_map, err_f, err_p, n_macro = {}, {}, [], [], 0
        n_hit = n_true = 0
        by_amp = {}
        for key, case in cases.items():
            truth = [InjectedMovement(**{**t, "centre": tuple(t["centre"]),
                                         "direction": tuple(t["direction"])})
                     for t in case["truth"]]
            pred = [SpottedInterval(**p) for p in case["pred"][method]]
            micro = [p for p in pred if p.kind == "micro"]
            n_macro += len(pred) - len(micro)
            truth_map[key] = [t.as_tuple() for t in truth]
            pred_map[key] = [p.as_tuple() for p in micro]
            f, p = apex_errors(truth, micro)
            err_f += f
            err_p += p
            n_hit += sum(any(t.onset <= q.apex <= t.offset for q in micro)
                         for t in truth)
            n_true += len(truth)
            for t in truth:
                hit = any(interval_iou(t.as_tuple(), q.as_tuple()) >= 0.5
                          for q in micro)
                bucket = "0.2-0.5 px" if t.amplitude < 0.5 else "0.5-1 px"
                found, total = by_amp.get(bucket, (0, 0))
                by_amp[bucket] = (found + hit, total + 1)
        scores = spotting_scores(truth_map, pred_map, iou_threshold=0.5)
        summary[method] = {**scores, "macro_intervals": n_macro,
                           "apex_inside": n_hit, "n_true": n_true,
                           "found_by_amplitude": {k: list(v) for k, v in
                                                  sorted(by_amp.items())},
                           "apex_error_frames": _stats(err_f),
                           "apex_error_percent_span": _stats(err_p),
                           "seconds": float(sum(c["seconds"][method]
                                                for c in cases.values()))}
    return summary


def untouched(videos, methods=METHODS):
    """Micro intervals per minute that each method reports on the raw videos."""
    out = {}
    for method in methods:
        n, minutes, per = 0, 0.0, {}
        for name, (frames, fps) in videos.items():
            pred, sc = MicroExpressionSpotter(**SPOTTERS[method]).spot(
                frames, fps=fps, return_scores=True)
            micro = [p for p in pred if p.kind == "micro"]
            per[name] = {"micro": len(micro), "macro": len(pred) - len(micro),
                         "minutes": len(frames) / fps / 60.0,
                         "intervals": [p.to_dict() for p in pred],
                         "peak_snr": (float(sc.contrast.max() / sc.noise)
                                      if sc.noise > 0 else None)}
            n += len(micro)
            minutes += len(frames) / fps / 60.0
        out[method] = {"fp_per_minute": n / minutes, "micro": n,
                       "minutes": minutes, "videos": per}
    return out


def run(data, *, seeds, quick=False):
    """All measurements as one dict."""
    videos = {}
    for name, (_, n) in VIDEOS.items():
        if quick and name != "evm_face":
            continue
        frames, fps = load_video(data, name, max_frames=90 if quick else None)
        videos[name] = (frames, fps)
    cases = {}
    for name, (frames, fps) in videos.items():
        n = 1 if quick else VIDEOS[name][1]
        for seed in range(seeds):
            case, _ = run_case(frames, fps, n, seed)
            case["video"], case["seed"] = name, seed
            cases[f"{name}/seed{seed}"] = case
    return {
        "command": "python benchmarks/spotting.py" + (" --quick" if quick else "")
                   + f" --seeds {seeds}",
        "videos": {k: {"frames": list(v[0].shape), "fps": v[1]}
                   for k, v in videos.items()},
        "injected": {"amplitude_px": [0.2, 1.0], "duration_s": [0.2, 0.5],
                     "regions": ["brow", "eye", "mouth"],
                     "per_run": {k: (1 if quick else VIDEOS[k][1]) for k in videos}},
        "seeds": seeds,
        "injected_scores": evaluate(cases),
        "untouched": untouched(videos),
        "cases": cases,
        "machine": {"platform": platform.platform(), "python": sys.version.split()[0]},
    }


def _fmt(v, digits=3):
    return "-" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def to_markdown(r):
    """Render the results dict as a Markdown report."""
    lines = ["# Spotting micro-movements injected into real face videos", "",
             f"Command: `{r['command']}`", "",
             "Videos: " + ", ".join(f"`{k}` {v['frames']} at {v['fps']:g} fps"
                                    for k, v in r["videos"].items()),
             f"; {r['seeds']} seeds; per run "
             + ", ".join(f"{v} movement(s) in `{k}`"
                         for k, v in r["injected"]["per_run"].items())
             + " (0.2-1 px peak, 0.2-0.5 s, brow/eye/mouth).", "",
             "| method | TP | FP | FN | precision | recall | F1 | apex error median "
             "(frames) | apex error median (% span) | p90 (% span) | true apex spans "
             "hit | macro intervals | FP / min untouched | seconds |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for m, s in r["injected_scores"].items():
        u = r["untouched"][m]
        lines.append(
            f"| {m} | {s['tp']} | {s['fp']} | {s['fn']} | {s['precision']:.3f} | "
            f"{s['recall']:.3f} | {s['f1']:.3f} | "
            f"{_fmt(s['apex_error_frames']['median'], 1)} | "
            f"{_fmt(s['apex_error_percent_span']['median'], 1)} | "
            f"{_fmt(s['apex_error_percent_span']['p90'], 1)} | "
            f"{s.get('apex_inside', '-')}/{s.get('n_true', '-')} | "
            f"{s['macro_intervals']} | {u['fp_per_minute']:.1f} ({u['micro']} in "
            f"{u['minutes'] * 60:.1f} s) | {s['seconds']:.1f} |")
    lines += ["", "True intervals found (IoU >= 0.5 with a micro interval) by "
              "injected amplitude:", ""]
    for m, s in r["injected_scores"].items():
        parts = ", ".join(f"{k}: {v[0]}/{v[1]}"
                          for k, v in s.get("found_by_amplitude", {}).items())
        lines.append(f"- {m}: {parts}")
    lines += ["", "Untouched videos (every interval reported; the highest "
              "contrasted score over the video's noise level, the median score):",
              ""]
    for m, u in r["untouched"].items():
        for name, v in u["videos"].items():
            spans = ", ".join(f"{i['onset']}-{i['offset']} ({i['kind']})"
                              for i in v["intervals"]) or "none"
            peak = v.get("peak_snr")
            lines.append(f"- {m}, `{name}`: {spans}"
                         + ("" if peak is None else f"; highest peak {peak:.2f} x "
                            "noise"))
    lines += ["", "Highest contrasted score inside each injected span over the "
              "video's noise level (`\"flow\"`), by video and region: min-max "
              "(median):", ""]
    groups = {}
    for case in r["cases"].values():
        for t, snr in zip(case["truth"], case.get("peak_snr", {}).get("flow", [])):
            if snr is not None:
                groups.setdefault((case["video"], t["region"]), []).append(snr)
    for (video, region), v in sorted(groups.items()):
        lines.append(f"- `{video}`, {region}: {min(v):.2f}-{max(v):.2f} "
                     f"({float(np.median(v)):.2f}, n={len(v)})")
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run the benchmark and write benchmarks/results/spotting.{md,json}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="90 frames of evm_face, one movement per run")
    parser.add_argument("--seeds", type=int, default=None,
                        help="number of injection seeds (default 5, quick 2)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="folder of spotting.{md,json}")
    parser.add_argument("--rescore", action="store_true",
                        help="recompute the scores and the report from the cases "
                             "saved in spotting.json (no spotting)")
    args = parser.parse_args(argv)
    if args.rescore:
        result = json.loads((args.out / "spotting.json").read_text())
        result["injected_scores"] = evaluate(result["cases"])
        if "--rescore" not in result["command"]:
            result["command"] += " && python benchmarks/spotting.py --rescore"
        (args.out / "spotting.json").write_text(json.dumps(result, indent=2))
        (args.out / "spotting.md").write_text(to_markdown(result))
        print(to_markdown(result))
        return
    data = shared_data_dir()
    if data is None:
        parser.error("the shared data is absent: set SKMER_SHARED_DATA")
    seeds = args.seeds if args.seeds is not None else (2 if args.quick else 5)
    if seeds < 1:
        parser.error(f"--seeds must be >= 1; got {seeds}")
    result = run(data, seeds=seeds, quick=args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "spotting.json").write_text(json.dumps(result, indent=2))
    (args.out / "spotting.md").write_text(to_markdown(result))
    print(to_markdown(result))


if __name__ == "__main__":
    main()
