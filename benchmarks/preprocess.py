"""Cost of the preprocessing chain, per stage and whole, and of a cached rerun.

The chain is the one of the design card::

    Pipeline([("crop", FaceCropper()),
              ("frames", KeyframeSelector("onset-apex", apex="spotted")),
              ("magnify", Magnifier(alpha=4, mode="two-frame")),
              ("flow", FlowExtractor("tvl1", strain=True, output_size=(28, 28)))])

on two sets of ``N_CLIPS`` clips, so that ``n_jobs=2`` has clips to share out:

- ``casme2``: the shared raw CASME II clip (16 TIM frames of 640 x 480, decoded
  from the AVI by every run: the clips are lazy), ``N_CLIPS`` times;
- ``synthetic``: ``N_CLIPS`` clips of 60 frames of 640 x 480 from
  :func:`skmer.datasets.make_micro_expressions` (in memory).

Rows: every stage alone (``fit_transform`` on the previous stage's output; "decode"
is reading the lazy clips), the whole chain, each with ``n_jobs=1`` (the reference)
and ``n_jobs=2`` (after a warm-up that starts the worker processes, whose cost is
reported on its own).  Then ``Pipeline(memory=joblib.Memory(tmp))``: a first run
(computes and writes the cache; the reference) and a rerun by a new Pipeline object
(reads it), target >= 20x faster.  The pipeline ends with ``("out", "passthrough")``
so that the flow step is cached too: scikit-learn never caches a pipeline's last
step (also timed).  Timings are medians of ``REPEATS`` runs (wall clock).

Also draws the onset frame with the crop region, the crop with its landmarks, the
magnified apex, its difference to the onset and the 28 x 28 flow field (hue =
direction, brightness = speed, arrows): ``preprocess.png`` for a synthetic
"positive" clip (a public-domain face: fit for the docs) and
``preprocess_casme2.png`` for the real CASME II clip.  The latter shows a CASME II
subject, licence-gated material: it is for local inspection, never to be committed.

Run: ``python benchmarks/preprocess.py`` (writes ``benchmarks/results/
preprocess.{md,json,png}`` and ``preprocess_casme2.png``; needs the shared data,
``SKMER_SHARED_DATA``).
"""

from __future__ import annotations

import json
import os
import pickle
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import joblib  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from skmer.datasets import Clip, ClipSequence, make_micro_expressions  # noqa: E402
from skmer.preprocessing import (  # noqa: E402
    FaceCropper,
    FlowExtractor,
    KeyframeSelector,
    Magnifier,
)
from skmer.utils._data import shared_data_dir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CASME2_CLIP = "clips/casme2_EP02_01f_tim16_640x480.avi"
CASME2_AU12_APEX = 3   # frame of the largest upward mouth-corner flow (the figure)
N_CLIPS = 4
REPEATS = 3
ALPHA = 4.0
OUT = (28, 28)
CACHE_TARGET = 20.0


def chain(n_jobs=None, apex="spotted", alpha=ALPHA):
    """The benchmarked chain."""
    return Pipeline([
        ("crop", FaceCropper(n_jobs=n_jobs)),
        ("frames", KeyframeSelector("onset-apex", apex=apex, n_jobs=n_jobs)),
        ("magnify", Magnifier(alpha=alpha, mode="two-frame", n_jobs=n_jobs)),
        ("flow", FlowExtractor("tvl1", strain=True, output_size=OUT, n_jobs=n_jobs)),
    ])


def casme2_clips(path):
    """``N_CLIPS`` fresh lazy clips of the real video (nothing decoded yet)."""
    return ClipSequence([
        Clip(source=path, onset=0, offset=15, fps=200.0, id=f"casme2/EP02_01f#{i}",
             subject="casme2/sub01", dataset="casme2", label="positive")
        for i in range(N_CLIPS)])


def synthetic_clips():
    """``N_CLIPS`` in-memory synthetic clips of 60 frames of 640 x 480, labels."""
    X, y, _ = make_micro_expressions(N_CLIPS, n_subjects=2, n_frames=60,
                                     frame_shape=(480, 640), fps=200.0,
                                     amplitude=4.0, random_state=0)
    return X, y


CPU = {}   # (set, n_jobs, stage) -> median CPU seconds of this process


def _median_time(func, repeats=REPEATS, key=None):
    times, cpu, out = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = func()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    if key is not None:
        CPU[key] = float(np.median(cpu))
    return float(np.median(times)), out


def time_stages(make_X, n_jobs, label):
    """Median seconds of every stage alone and of the whole chain."""
    res = {}
    if callable(make_X):   # lazy clips: decoding is a stage of its own
        res["decode"], _ = _median_time(
            lambda: [c.load() for c in make_X()], key=(label, n_jobs, "decode"))
        get_X = make_X
    else:
        get_X = lambda: make_X  # noqa: E731
    X = [c.load() for c in get_X()]   # the stages on decoded clips
    for name, step in chain(n_jobs).steps:
        X0 = X
        res[name], X = _median_time(lambda s=step, x=X0: s.fit_transform(x),
                                    key=(label, n_jobs, name))
    res["chain"], flow = _median_time(lambda: chain(n_jobs).fit_transform(get_X()),
                                      key=(label, n_jobs, "chain"))
    return res, flow


def time_cache(get_X, tmp):
    """First run with an empty cache vs a rerun by a new Pipeline object."""
    res = {}
    for final in ("passthrough", "flow"):
        location = Path(tmp) / f"cache_{final}"
        shutil.rmtree(location, ignore_errors=True)

        def run(location=location, final=final):
            memory = joblib.Memory(location, verbose=0)
            steps = chain().steps + ([("out", "passthrough")]
                                     if final == "passthrough" else [])
            return Pipeline(steps, memory=memory).fit_transform(get_X())

        t0 = time.perf_counter()
        first = run()
        t_first = time.perf_counter() - t0
        t_again, again = _median_time(run)
        assert np.array_equal(first, again)
        res[final] = {"first_s": t_first, "rerun_s": t_again,
                      "speedup": t_first / t_again}
    return res


def hashing(get_X):
    """Cost of hashing X (the cache key of the first step): lazy vs in memory."""
    X = get_X()
    t_lazy, _ = _median_time(lambda: joblib.hash(X))
    pickled = len(pickle.dumps(X))
    loaded = ClipSequence([c.replace() for c in X])
    t_mem, _ = _median_time(lambda: joblib.hash(loaded))
    return {"pickled_bytes_lazy": pickled,
            "pixel_bytes": int(sum(c.frames.nbytes for c in loaded)),
            "hash_ms_lazy": 1e3 * t_lazy, "hash_ms_in_memory": 1e3 * t_mem}


def figure(clip, filename, title):
    """Onset + crop region, crop + landmarks, magnified apex, difference, flow."""
    import cv2
    import matplotlib.pyplot as plt

    from skmer.plotting import flow_to_rgb

    apex = clip.apex
    pipe = chain(apex="label").fit([clip])
    crop = pipe[:1].transform([clip])[0]
    matrix = pipe.named_steps["crop"].locate([clip]).matrices[0]
    pair = pipe[1:3].transform([crop])[0]
    flow = pipe[3:].transform([pair])[0]
    u, v = flow[0], flow[1]

    fig, axes = plt.subplots(1, 5, figsize=(18, 4.3))
    ax = axes[0]
    ax.imshow(clip.frames[0], cmap="gray")
    h, w = crop.shape[1:3]
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1], [0, 0]],
                       dtype=float)
    inv = cv2.invertAffineTransform(matrix)
    box = corners @ inv[:, :2].T + inv[:, 2]
    ax.plot(box[:, 0], box[:, 1], "-", color="yellow", lw=1.2)
    ax.set_xlim(-0.5, clip.shape[2] - 0.5)
    ax.set_ylim(clip.shape[1] - 0.5, -0.5)
    ax.set_title(f"onset frame ({clip.shape[2]}x{clip.shape[1]})\n"
                 "and the crop region")
    ax = axes[1]
    ax.imshow(crop.frames[0], cmap="gray", vmin=0, vmax=255)
    lm = crop.landmarks
    ax.plot(lm[:, 0], lm[:, 1], ".", color="lime", ms=3)
    ax.plot(lm[[48, 54], 0], lm[[48, 54], 1], "o", mfc="none", color="red", ms=7)
    ax.set_title("FaceCropper: 128x128 crop,\n68 landmarks (mouth corners red)")
    ax = axes[2]
    ax.imshow(pair.frames[1], cmap="gray", vmin=0, vmax=255)
    ax.set_title(f"Magnifier(alpha={ALPHA:g}, two-frame):\n"
                 f"magnified apex (frame {apex})")
    ax = axes[3]
    raw_apex = crop.frames[apex].astype(float)
    onset = crop.frames[0].astype(float)
    diff = np.hstack([raw_apex - onset, pair.frames[1].astype(float) - onset])
    lim = np.percentile(np.abs(diff), 99.5)
    ax.imshow(diff, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title("apex - onset: raw | magnified")
    ax = axes[4]
    speed = np.hypot(u, v)
    rgb, _ = flow_to_rgb(np.stack([u, v], axis=-1), max_magnitude=speed.max())
    ax.imshow(rgb, interpolation="nearest")
    yy, xx = np.mgrid[0:OUT[0], 0:OUT[1]]
    step = 2
    ax.quiver(xx[::step, ::step], yy[::step, ::step], u[::step, ::step],
              v[::step, ::step], color="white", angles="xy", scale_units="xy",
              scale=speed.max() / 2.5, width=0.006)
    ax.set_xlim(-0.5, OUT[1] - 0.5)
    ax.set_ylim(OUT[0] - 0.5, -0.5)
    wheel = ax.inset_axes([0.78, 0.02, 0.2, 0.2])   # the colour key
    gy, gx = np.mgrid[-1:1:64j, -1:1:64j]
    key, _ = flow_to_rgb(np.stack([gx, gy], axis=-1), max_magnitude=1.0)
    key[np.hypot(gx, gy) > 1] = 1.0  # white outside the wheel
    wheel.imshow(key)
    wheel.axis("off")
    ax.set_title(f"FlowExtractor('tvl1'): onset->apex\n{OUT[0]}x{OUT[1]} "
                 f"(max {speed.max():.2f} px; hue = direction)")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(filename, dpi=110, bbox_inches="tight")
    plt.close(fig)


def to_markdown(r):
    """Render the results dict as a Markdown report."""
    lines = ["# Preprocessing chain: per stage, whole chain, cached rerun", "",
             "Chain: `FaceCropper()` -> `KeyframeSelector('onset-apex', "
             "apex='spotted')` -> "
             f"`Magnifier(alpha={ALPHA:g}, mode='two-frame')` -> "
             f"`FlowExtractor('tvl1', strain=True, output_size={OUT})`; "
             f"{N_CLIPS} clips per set; medians of {REPEATS} runs (seconds).", "",
             f"Machine: {r['machine']}", "",
             "The cores are shared with other jobs while this ran (see the load "
             "average): the wall-clock timings are noisy.  'CPU s' is the CPU time "
             "of this process (sequential runs: less sensitive to the load; OpenCV "
             f"may use {r['machine']['opencv_threads']} threads inside one call).",
             ""]
    for name, d in r["datasets"].items():
        lines += [f"## {name}: {d['description']}", "",
                  "| stage | n_jobs=1 (s) | CPU s, n_jobs=1 | n_jobs=2 (s) | "
                  "speedup |", "|---|---|---|---|---|"]
        for stage in d["n_jobs=1"]:
            a, b = d["n_jobs=1"][stage], d["n_jobs=2"][stage]
            cpu = d["cpu_s_n_jobs=1"][stage]
            lines.append(f"| {stage} | {a:.3f} | {cpu:.3f} | {b:.3f} | "
                         f"{a / b:.2f} |")
        lines += ["", f"- per clip, whole chain, n_jobs=1: "
                      f"{d['n_jobs=1']['chain'] / N_CLIPS:.3f} s",
                  f"- n_jobs=2 output identical to n_jobs=1: "
                  f"{d['n_jobs_identical']}",
                  f"- output: shape {d['output_shape']}, finite "
                  f"{d['output_finite']}", ""]
    c = r["cache"]
    lines += ["## Pipeline(memory=joblib.Memory(...)) on the CASME II clips", "",
              "| pipeline end | first run (s) | rerun (s) | speedup | target |",
              "|---|---|---|---|---|"]
    for final, v in c["runs"].items():
        label = ("`('out', 'passthrough')`: every stage cached"
                 if final == "passthrough" else "FlowExtractor last: not cached")
        target = f">= {CACHE_TARGET:g}x" if final == "passthrough" else "-"
        lines.append(f"| {label} | {v['first_s']:.3f} | {v['rerun_s']:.3f} | "
                     f"{v['speedup']:.1f}x | {target} |")
    h = c["hashing"]
    lines += ["", f"- cache key of the lazy X: pickles to {h['pickled_bytes_lazy']} "
                  f"bytes (its pixels: {h['pixel_bytes']} bytes); joblib.hash "
                  f"{h['hash_ms_lazy']:.2f} ms lazy vs "
                  f"{h['hash_ms_in_memory']:.2f} ms in memory", "",
              f"- worker start-up (first n_jobs=2 call, excluded above): "
              f"{r['worker_startup_s']:.2f} s", "",
              "![preprocessing](preprocess.png)", ""]
    return "\n".join(lines)


def main():
    data = shared_data_dir()
    if data is None or not (data / CASME2_CLIP).is_file():
        sys.exit("shared data absent: set SKMER_SHARED_DATA (needs " + CASME2_CLIP
                 + ")")
    path = data / CASME2_CLIP
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = {"machine": {
        "platform": platform.platform(), "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "python": platform.python_version(),
        "opencv_threads": __import__("cv2").getNumThreads()}}

    t0 = time.perf_counter()
    chain(n_jobs=2).fit_transform(casme2_clips(path)[:2])   # start the workers
    results["worker_startup_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    synth, synth_y = synthetic_clips()
    synth_s = time.perf_counter() - t0
    sets = {
        "casme2": (lambda: casme2_clips(path),
                   f"{N_CLIPS} x the raw CASME II clip (lazy AVI, 16 x 480 x 640 "
                   "RGB decoded to grey)"),
        "synthetic": (synth, f"{N_CLIPS} synthetic clips, 60 x 480 x 640 grey, in "
                             f"memory (generated in {synth_s:.1f} s, not counted)"),
    }
    results["datasets"] = {}
    for name, (make_X, description) in sets.items():
        d = {"description": description}
        outputs = {}
        for n_jobs in (1, 2):
            d[f"n_jobs={n_jobs}"], outputs[n_jobs] = time_stages(make_X, n_jobs,
                                                                 name)
        d["cpu_s_n_jobs=1"] = {stage: CPU[(name, 1, stage)]
                               for stage in d["n_jobs=1"]}
        d["n_jobs_identical"] = bool(np.array_equal(outputs[1], outputs[2]))
        d["output_shape"] = list(outputs[1].shape)
        d["output_finite"] = bool(np.isfinite(outputs[1]).all())
        results["datasets"][name] = d

    with tempfile.TemporaryDirectory() as tmp:
        results["cache"] = {"runs": time_cache(lambda: casme2_clips(path), tmp),
                            "hashing": hashing(lambda: casme2_clips(path))}
    results["cache"]["target_speedup"] = CACHE_TARGET
    results["cache"]["target_met"] = bool(
        results["cache"]["runs"]["passthrough"]["speedup"] >= CACHE_TARGET)
    results["machine"]["load_average_1min_end"] = os.getloadavg()[0]

    positive = synth[int(np.flatnonzero(synth_y == "positive")[0])]
    figure(positive, RESULTS / "preprocess.png",
           "skmer preprocessing on a synthetic clip (make_micro_expressions: "
           f"'positive' = AU12, 60 frames; apex = frame {positive.apex})")
    # the real clip's picture shows a CASME II subject: licence-gated, keep it local
    figure(Clip(source=path, onset=0, apex=CASME2_AU12_APEX, offset=15, fps=200.0),
           RESULTS / "preprocess_casme2.png",
           "skmer preprocessing on the raw CASME II clip EP02_01f (happiness, AU12; "
           f"16 TIM frames; apex = frame {CASME2_AU12_APEX})")
    (RESULTS / "preprocess.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "preprocess.md").write_text(to_markdown(results))
    print(to_markdown(results))


if __name__ == "__main__":
    main()
