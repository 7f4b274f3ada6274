"""Apex spotting error of :func:`skmer.preprocessing.spot_apex`, before and after.

The error of one sample is ``|spotted apex - true apex| / (offset - onset)``, the
apex error as a fraction of the onset-offset span; the table gives its median (and
mean) over the samples, for the old behaviour (``reference="onset"``: the change
from the onset alone) and ``reference="onset-offset"`` (the change that a linear
drift between the onset and the offset frames does not explain), each with and
without head-motion compensation (``compensate=True``:
:func:`skmer.preprocessing.register_frames` first), for the frame difference
(``method="diff"``) and the Farneback flow (``"flow"``), and with the head's
translation measured on the nose removed (``anchor="nose"``).  The default of
skmer 0.2 is ``reference="onset-offset", method="flow", anchor="nose"``.

Samples, from the shared data (``$SKMER_SHARED_DATA``, default ``../shared/data``):

(a) **real annotations**: the raw CASME II clip
    ``clips/casme2_EP02_01f_tim16_640x480.avi`` is sub01/EP02_01f (AU12, happiness;
    the MEGC2019 composite lists it as a positive sample of casme2/sub01).  Its
    annotation in ``annotations/CASME2-coding-20140508.xlsx`` is onset 46, apex
    59, offset 86; the clip holds 16 frames temporally interpolated (TIM) from
    the 41 frames 46..86, assumed evenly spread over them (skmer's and TIM's
    convention: output frame ``j`` sits at input time ``j * 40 / 15``), so the
    annotated apex lands at ``(59 - 46) * 15 / 40 = 4.875`` in clip frames, with
    onset 0 and offset 15.  The 10 frames of ``clips/casme2_tim10_cropped``
    are the same sample in CASME II's cropped release (not recorded with them;
    identified by correlating them with the composite's 145 CASME II apex faces,
    ``megc2019/apex_224``, :func:`identify_tim10`: 0.999 with
    ``sub01_EP02_01f.jpg``, at most 0.94 with any other), TIM-interpolated to
    10 frames: the apex lands at
    ``13 * 9 / 40 = 2.925`` (and frame 3 is the one closest to that apex face,
    which confirms the mapping).  The report also gives, for both renderings,
    the frame most similar to that apex face after an affine ECC alignment
    (:func:`apex_face_match`): a check of the mapped annotation that does not
    involve the spotter.  One movement in two renderings: no statistics.
(b) **injected micro-movements on real faces**: ``video/pyfeat_single_face.mp4``
    (a talking, moving head) and ``video/evm_face.mp4`` (near-static) with smooth
    local movements of a brow, eye or mouth region (0.2-1 px peak, 0.2-0.5 s)
    injected at known frames by :func:`skmer.spotting.inject_micro_movements`
    (its onset, apex and offset are the truth; 2 movements per seed in the
    2.4 s of pyfeat, 8 in the 10 s of evm, 0.3 s gaps and margins).  For every
    movement the window ``[onset, offset]`` (table "exact"), or that window
    widened by a quarter of its span on each side (table "widened": imprecise
    labels, neutral frames around the movement), is cropped with
    ``FaceCropper()`` (the face located on the window's first frame, one
    transform for the window, as ``skmer predict`` does) and spotted with the
    crop's landmarks; the error is always relative to the true span.  Several
    seeds per video.

Run: ``python benchmarks/apex_spotting.py`` (writes
``benchmarks/results/apex_spotting.{md,json}``; about 6 minutes on 2 busy cores).
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

from skmer.datasets import Clip, read_frames  # noqa: E402
from skmer.preprocessing import FaceCropper, spot_apex  # noqa: E402
from skmer.utils._data import shared_data_dir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
COMMAND = "python benchmarks/apex_spotting.py"
VARIANTS = [  # (name, kwargs of spot_apex)
    ("old: onset, diff", dict(reference="onset", method="diff")),
    ("old: onset, flow", dict(reference="onset", method="flow", anchor="none")),
    ("onset, diff, compensate", dict(reference="onset", method="diff",
                                     compensate=True)),
    ("onset-offset, diff", dict(reference="onset-offset", method="diff")),
    ("onset-offset, flow", dict(reference="onset-offset", method="flow",
                                anchor="none")),
    ("onset-offset, diff, compensate", dict(reference="onset-offset",
                                            method="diff", compensate=True)),
    ("onset-offset, flow, compensate", dict(reference="onset-offset",
                                            method="flow", anchor="none",
                                            compensate=True)),
    ("onset-offset, diff, nose", dict(reference="onset-offset", method="diff",
                                      anchor="nose")),
    ("default: onset-offset, flow, nose", dict(reference="onset-offset",
                                               method="flow", anchor="nose")),
]
VIDEOS = {"pyfeat_single_face.mp4": 24.0, "evm_face.mp4": 30.0}
SEEDS = (0, 1, 2, 3, 4, 5)
WINDOWS = ("exact", "widened")
N_MOVEMENTS = {"pyfeat_single_face.mp4": 2, "evm_face.mp4": 8}


def _video_fps(path, default):
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return float(fps) if fps and fps > 0 else default


def _spot_all(frames, onset, offset, landmarks=None):
    out = {}
    for name, kw in VARIANTS:
        out[name] = int(spot_apex(frames, onset=onset, offset=offset,
                                  landmarks=landmarks, **kw))
    return out


def real_samples(root):
    """(a): the annotated raw CASME II clip and the unannotated tim10 frames."""
    rows = []
    avi = root / "clips" / "casme2_EP02_01f_tim16_640x480.avi"
    if avi.is_file():
        frames = read_frames(avi)
        crop = FaceCropper().fit_transform([Clip(frames, onset=0, offset=15)])[0]
        apex_true = (59 - 46) * 15 / 40
        spotted = _spot_all(crop.frames, 0, 15, crop.landmarks)
        rows.append(dict(sample="casme2 sub01/EP02_01f (tim16, raw, face-cropped)",
                         onset=0, offset=15, apex=apex_true, spotted=spotted,
                         error={k: abs(v - apex_true) / 15 for k, v in
                                spotted.items()}))
    tim10 = root / "clips" / "casme2_tim10_cropped"
    if tim10.is_dir():
        frames = read_frames(tim10)
        n = len(frames)
        apex_true = (59 - 46) * (n - 1) / 40
        spotted = _spot_all(frames, 0, n - 1)
        rows.append(dict(sample="the same sample, CASME II's cropped release "
                         "(casme2_tim10_cropped, TIM 10)", onset=0, offset=n - 1,
                         apex=apex_true, spotted=spotted,
                         error={k: abs(v - apex_true) / (n - 1) for k, v in
                                spotted.items()}))
    return rows


def apex_face_match(root):
    """Frame of each rendering of sub01/EP02_01f most similar to its apex face.

    ``megc2019/apex_224/sub01_EP02_01f.jpg`` (the composite's apex frame of the
    sample, CASME II's crop at 224x224) is aligned to every frame (the raw clip
    face-cropped at 224x224, the cropped release resized to 224x224) by an affine
    ``cv2.findTransformECC``; its correlation coefficient is the similarity.
    """
    import cv2
    from PIL import Image

    path = root / "megc2019" / "apex_224" / "sub01_EP02_01f.jpg"
    if not path.is_file():
        return {}
    apex = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    renderings = {}
    avi = root / "clips" / "casme2_EP02_01f_tim16_640x480.avi"
    if avi.is_file():
        renderings["tim16, raw, face-cropped"] = FaceCropper(
            output_size=(224, 224)).fit_transform(
            [Clip(read_frames(avi), onset=0)])[0].frames
    tim10 = root / "clips" / "casme2_tim10_cropped"
    if tim10.is_dir():
        renderings["tim10, CASME II's crop"] = np.stack(
            [cv2.resize(f, (224, 224), interpolation=cv2.INTER_AREA)
             for f in read_frames(tim10)])
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 500, 1e-7)
    out = {}
    for name, frames in renderings.items():
        corr = []
        for f in frames.astype(np.float32):
            warp = np.eye(2, 3, dtype=np.float32)
            try:
                c, _ = cv2.findTransformECC(f, apex, warp, cv2.MOTION_AFFINE,
                                            criteria, None, 5)
            except cv2.error:
                c = float("nan")
            corr.append(float(c))
        out[name] = dict(correlation=corr, best=int(np.nanargmax(corr)))
    return out


def identify_tim10(root, size=64):
    """Which composite sample ``clips/casme2_tim10_cropped`` shows.

    Every CASME II apex face of the composite (``megc2019/apex_224``) and every
    frame of the folder, resized to ``size`` x ``size`` grey, is centred and
    normalised; a sample's score is its best correlation with any of the frames.
    Returns the three best ``(score, sample)``.
    """
    import csv

    from PIL import Image

    folder = root / "clips" / "casme2_tim10_cropped"
    labels = root / "megc2019" / "labels_3class.csv"
    if not folder.is_dir() or not labels.is_file():
        return []

    def unit(img):
        a = np.asarray(img.convert("L").resize((size, size)), dtype=np.float64)
        a = a - a.mean()
        return a / np.linalg.norm(a)

    frames = [unit(Image.fromarray(f)) for f in read_frames(folder)]
    scores = []
    with open(labels, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["dataset"] != "casme2":
                continue
            face = unit(Image.open(root / "megc2019" / "apex_224" / row["imagename"]))
            scores.append((max(float((face * f).sum()) for f in frames),
                           f"{row['sub']}/{row['filename_o']}"))
    return sorted(scores, reverse=True)[:3]


def injected_samples(root):
    """(b): injected movements on the real face videos, one row per movement."""
    from skmer.spotting import inject_micro_movements

    rows = []
    cropper = FaceCropper()
    for name, default_fps in VIDEOS.items():
        path = root / "video" / name
        if not path.is_file():
            continue
        video = read_frames(path)
        fps = _video_fps(path, default_fps)
        for seed in SEEDS:
            injected, movements = inject_micro_movements(
                video, fps=fps, n=N_MOVEMENTS[name], min_gap=0.3, margin=0.3,
                random_state=seed)
            for m, kind in [(m, k) for m in movements for k in WINDOWS]:
                pad = int(round(0.25 * (m.offset - m.onset))) if kind == "widened" \
                    else 0
                on = max(m.onset - pad, 0)
                off = min(m.offset + pad, len(video) - 1)
                window = injected[on:off + 1]
                crop = cropper.fit_transform([Clip(window)])[0]
                span = m.offset - m.onset   # the true span: errors comparable
                spotted = _spot_all(crop.frames, 0, off - on, crop.landmarks)
                rows.append(dict(
                    sample=f"{name} seed {seed}", window=kind, region=m.region,
                    amplitude=float(m.amplitude), onset=int(m.onset),
                    apex=int(m.apex), offset=int(m.offset), fps=fps,
                    spotted={k: v + on for k, v in spotted.items()},
                    error={k: abs(v + on - m.apex) / span
                           for k, v in spotted.items()}))
    return rows


def summary(rows):
    """Median and mean error per variant over the rows with an error."""
    out = {}
    for name, _ in VARIANTS:
        e = np.array([r["error"][name] for r in rows if r["error"] is not None])
        if len(e):
            out[name] = dict(median=float(np.median(e)), mean=float(e.mean()),
                             within_10pct=float((e <= 0.10).mean()), n=int(len(e)))
    return out


def to_markdown(res):
    """Render the results as a Markdown report."""
    lines = ["# Apex spotting error (% of the onset-offset span)", "",
             f"Command: `{COMMAND}`; machine: {res['machine']}; "
             f"{res['seconds']:.0f} s.", "",
             "Error of a sample = |spotted apex - true apex| / (offset - onset). "
             "See the module docstring of `benchmarks/apex_spotting.py` for the "
             "samples and the index mapping of the CASME II clip.", ""]
    for kind in WINDOWS:
        lines += [f"## (b) Injected micro-movements on real face videos, {kind} "
                  "window", "",
                  "| variant | median error | mean error | share <= 10 % | n |",
                  "|---|---|---|---|---|"]
        for name, s in summary([r for r in res["injected"]
                                if r["window"] == kind]).items():
            lines.append(f"| {name} | {100 * s['median']:.1f} % | "
                         f"{100 * s['mean']:.1f} % | {100 * s['within_10pct']:.0f} %"
                         f" | {s['n']} |")
        lines.append("")
    for video in VIDEOS:
        sub = [r for r in res["injected"]
               if r["sample"].startswith(video) and r["window"] == "exact"]
        if not sub:
            continue
        lines += ["", f"### {video} only (exact window)", "",
                  "| variant | median error | mean error | n |", "|---|---|---|---|"]
        for name, s in summary(sub).items():
            lines.append(f"| {name} | {100 * s['median']:.1f} % | "
                         f"{100 * s['mean']:.1f} % | {s['n']} |")
    lines += ["", "## (a) Real annotated frames", "",
              "| sample | true apex | " + " | ".join(n for n, _ in VARIANTS) + " |",
              "|---|---|" + "---|" * len(VARIANTS)]
    for r in res["real"]:
        cells = []
        for name, _ in VARIANTS:
            v = r["spotted"][name]
            cells.append(f"{v}" if r["error"] is None
                         else f"{v} ({100 * r['error'][name]:.0f} %)")
        true = "-" if r["apex"] is None else f"{r['apex']:.3f}"
        lines.append(f"| {r['sample']} | {true} | " + " | ".join(cells) + " |")
    lines += ["", "Which sample `clips/casme2_tim10_cropped` shows (best correlation "
              "of its frames with each CASME II apex face of the composite): "
              + ", ".join(f"{name} {score:.3f}"
                          for score, name in res.get("tim10_identity", [])), ""]
    lines += ["", "Frame most similar to the composite's apex face of this sample "
              "(affine ECC correlation; a check of the mapped annotation):", ""]
    for name, m in res.get("apex_face_match", {}).items():
        top = sorted(range(len(m["correlation"])),
                     key=lambda i: -m["correlation"][i])[:3]
        lines.append(f"- {name}: frame {m['best']} ("
                     + ", ".join(f"frame {i}: {m['correlation'][i]:.4f}"
                                 for i in top) + ")")
    lines += ["", "One annotated real movement (two renderings of it) is no "
              "statistic; the injected benchmark is the measurement.", ""]
    return "\n".join(lines)


def main():
    """Run the measurements and write benchmarks/results/apex_spotting.{md,json}."""
    root = Path(shared_data_dir())
    t0 = time.perf_counter()
    real = real_samples(root)
    match = apex_face_match(root)
    identity = identify_tim10(root)
    injected = injected_samples(root)
    machine = dict(platform=platform.platform(), python=platform.python_version())
    res = dict(machine=machine,
               real=real, apex_face_match=match, tim10_identity=identity,
               injected=injected,
               injected_summary={k: summary([r for r in injected
                                             if r["window"] == k])
                                 for k in WINDOWS},
               seconds=time.perf_counter() - t0, command=COMMAND)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "apex_spotting.json").write_text(json.dumps(res, indent=1))
    (RESULTS / "apex_spotting.md").write_text(to_markdown(res))
    print(to_markdown(res))


if __name__ == "__main__":
    main()
