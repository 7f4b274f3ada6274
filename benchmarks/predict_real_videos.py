"""What ``skmer predict`` answers on every real video of the development data.

The numbers of the tables in ``docs/your_own_video.md`` (sections 2 and 5), made
again by the commands a user runs:

1. ``skmer train --flow-images $DATA/megc2019/flow_uvos_28 --exclude-subject
   casme2/sub01 --classifier svm`` (and ``--classifier ststnet``): models that have
   never seen subject ``casme2/sub01``;
2. ``skmer predict`` with each model on the raw CASME II clip of that subject
   (``clips/casme2_EP02_01f_tim16_640x480.avi``, labelled positive), with the
   annotated apex given (frame 5 of the 16 TIM frames) and spotted;
3. ``skmer predict`` with each model on every video of ``video/`` (long-video
   mode): the intervals, their flags (micro/macro, head motion left after
   registration, blink), the spotter's signal-to-noise ratio, the labels and the
   warnings;
4. the rigid motion of onset -> apex pairs of these videos before and after
   registration (:func:`registration_on_pairs`): what ``skmer predict``'s
   head-motion compensation removes, and what it adds on a still face.

None of these videos holds a labelled micro-expression except the CASME II clip,
and one clip is no accuracy figure: this records the behaviour of the chain, not
a recognition rate.

Run: ``python benchmarks/predict_real_videos.py`` (``--models svm`` for the SVM
alone: seconds; STSTNet trains for about half a minute).  Writes
``benchmarks/results/predict_real_videos.{md,json}``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skmer.cli import main as skmer  # noqa: E402
from skmer.utils._data import shared_data_dir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CLIP = "clips/casme2_EP02_01f_tim16_640x480.avi"
VIDEOS = ("video/pyfeat_single_face.mp4", "video/evm_face.mp4",
          "video/pyfeat_face_noface.mov", "video/pyfeat_no_face.mp4")


def run_cli(args):
    """``skmer ARGS``: (exit code, stdout, stderr, seconds)."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = skmer([str(a) for a in args])
        except SystemExit as exc:  # argparse errors
            rc = exc.code
    return rc, out.getvalue(), err.getvalue(), time.perf_counter() - start


def _summary(res):
    """The fields the docs table shows, from ``skmer predict --json``."""
    keep = ("label", "probabilities", "onset", "apex", "offset", "times_s", "kind",
            "snr", "head_motion_px", "compensated", "head_motion_removed_px",
            "blink", "eye_aspect_ratio", "warnings")
    if res.get("mode") == "long video":
        return {"n_frames": res["n_frames"], "fps": res["fps"],
                "duration_s": res["duration_s"],
                "variable_frame_rate": res["variable_frame_rate"],
                "face_lost_at": res["face_lost_at"], "noise": res["noise"],
                "threshold": res["threshold"], "warnings": res["warnings"],
                "intervals": [{k: iv.get(k) for k in keep}
                              for iv in res["intervals"]]}
    return {k: res.get(k) for k in keep}


def run(data, models, work):
    """Train each model, then predict the clip and every video; one dict."""
    out = {"models": {}, "clip": {}, "videos": {}}
    for name in models:
        path = work / f"{name}.joblib"
        rc, text, err, sec = run_cli(
            ["train", "--flow-images", data / "megc2019" / "flow_uvos_28",
             "--exclude-subject", "casme2/sub01", "--classifier", name,
             "--out", path])
        if rc != 0:
            raise RuntimeError(f"skmer train {name} failed: {err}")
        out["models"][name] = {"seconds": round(sec, 1)}
        for case, extra in (("apex 5, given", ["--apex", "5"]), ("spotted", [])):
            js = work / f"{name}_clip.json"
            rc, text, err, sec = run_cli(
                ["predict", data / CLIP, "--model", path, "--out",
                 work / "clip.png", "--json", js, *extra])
            out["clip"][f"{name}, {case}"] = {
                "rc": rc, "seconds": round(sec, 1),
                **(_summary(json.loads(js.read_text())) if rc == 0 else
                   {"error": err.strip()})}
        for video in VIDEOS:
            js = work / f"{name}_{Path(video).stem}.json"
            rc, text, err, sec = run_cli(
                ["predict", data / video, "--model", path, "--out",
                 work / "video.png", "--json", js])
            out["videos"].setdefault(Path(video).name, {})[name] = {
                "rc": rc, "seconds": round(sec, 1),
                **(_summary(json.loads(js.read_text())) if rc == 0 else
                   {"error": err.strip().splitlines()[-1]})}
    return out


# (video, reference frame, apex frame): still pairs (the CASME II clip, evm_face)
# and pairs where the head moves (the talking face)
PAIRS = ((CLIP, 0, 3), (CLIP, 0, 5), (CLIP, 0, 9),
         ("video/evm_face.mp4", 2, 8), ("video/evm_face.mp4", 89, 93),
         ("video/pyfeat_single_face.mp4", 0, 5),
         ("video/pyfeat_single_face.mp4", 18, 22),
         ("video/pyfeat_face_noface.mov", 3, 8),
         ("video/pyfeat_face_noface.mov", 20, 26))


def registration_on_pairs(data):
    """Rigid motion of onset -> apex pairs before and after registration.

    For each pair, in the 128x128 face crop ``skmer predict`` makes: the rigid
    (affine) part of the TV-L1 flow of the frames as they are, after
    :func:`~skmer.preprocessing.register_frames` with ECC refinement (what
    ``skmer predict`` uses) and with landmarks alone, and how far each
    registration moved the apex crop (the rigid part of the flow from the raw to
    the registered apex crop).  Where the head is still, the shift is the
    registration's own error.
    """
    from skmer.datasets import read_frames
    from skmer.predict import _crop_pair, head_motion
    from skmer.preprocessing import optical_flow, register_frames

    rows = []
    cache = {}
    for video, ref, apex in PAIRS:
        path = data / video
        if not path.is_file():
            continue
        if video not in cache:
            cache[video] = read_frames(path, color="grey")
        raw = cache[video][[ref, apex]]
        crop = _crop_pair(raw, (128, 128), "grey", 0, None, video)
        rigid, local = head_motion(optical_flow(crop.frames[0], crop.frames[1],
                                                method="tvl1"))
        row = {"video": Path(video).name, "ref": ref, "apex": apex,
               "rigid_before": rigid, "local_before": local}
        for name, refine in (("ecc", "ecc"), ("landmarks", None)):
            reg = register_frames(raw, reference=0, smooth=0.0, refine=refine,
                                  on_missing="interpolate")
            moved = _crop_pair(reg.frames, (128, 128), "grey", 0, None, video)
            row[f"rigid_after_{name}"], row[f"local_after_{name}"] = head_motion(
                optical_flow(moved.frames[0], moved.frames[1], method="tvl1"))
            row[f"shift_{name}"] = head_motion(optical_flow(
                crop.frames[1], moved.frames[1], method="tvl1"))[0]
        rows.append(row)
    return rows


def _probs(p):
    return " / ".join(f"{v:.2f}" for v in p.values()) if p else "-"


def to_markdown(res):
    """Render the results as Markdown."""
    lines = ["# `skmer predict` on the real videos of the development data", "",
             f"Command: `{res['command']}`; {res['machine']}; "
             f"{res['seconds']:.0f} s.", "",
             "Models: `skmer train --flow-images .../flow_uvos_28 --exclude-subject "
             "casme2/sub01 --classifier NAME` (439 samples).", "",
             "## The raw CASME II clip (sub01/EP02_01f, labelled positive)", "",
             "| model, apex | apex | predicted | negative / positive / surprise | "
             "head motion (px) | registered |", "|---|---|---|---|---|---|"]
    for case, r in res["clip"].items():
        if r["rc"] != 0:
            lines.append(f"| {case} | error: {r['error']} | | | | |")
            continue
        lines.append(f"| {case} | {r['apex']} | {r['label']} | "
                     f"{_probs(r['probabilities'])} | {r['head_motion_px']:.2f} | "
                     f"{r['compensated']} |")
    lines += ["", "## Registration of onset -> apex pairs (rigid part of the flow, "
              "px of the 128 px crop)", "",
              "| pair | before | after, ECC (skmer predict) | shift, ECC | after, "
              "landmarks only | shift, landmarks only | local motion before -> "
              "after ECC |", "|---|---|---|---|---|---|---|"]
    for r in res.get("registration", []):
        lines.append(f"| {r['video']} {r['ref']} -> {r['apex']} | "
                     f"{r['rigid_before']:.2f} | {r['rigid_after_ecc']:.2f} | "
                     f"{r['shift_ecc']:.2f} | {r['rigid_after_landmarks']:.2f} | "
                     f"{r['shift_landmarks']:.2f} | {r['local_before']:.2f} -> "
                     f"{r['local_after_ecc']:.2f} |")
    lines += ["", "## Long videos", ""]
    for video, by_model in res["videos"].items():
        lines += [f"### {video}", ""]
        for name, r in by_model.items():
            if r["rc"] != 0:
                lines += [f"- {name}: exit code {r['rc']}: `{r['error']}`", ""]
                continue
            lines.append(
                f"- {name}: {r['n_frames']} frames, {r['fps']:.4g} fps"
                + (" (variable frame rate)" if r["variable_frame_rate"] else "")
                + f", {r['duration_s']:.2f} s; noise {r['noise']:.3g}, threshold "
                f"{r['threshold']:.3g}; face lost at {r['face_lost_at']}; "
                f"{len(r['intervals'])} interval(s); {r['seconds']:.1f} s")
            for iv in r["intervals"]:
                removed = iv["head_motion_removed_px"]
                lines.append(
                    f"  - frames {iv['onset']}-{iv['apex']}-{iv['offset']}, "
                    f"{iv['kind']}, snr {iv['snr']:.2f}, head motion left "
                    f"{iv['head_motion_px']:.2f} px"
                    + (f" ({removed:.2f} px removed)" if removed is not None else "")
                    + f", eye aspect ratio {iv['eye_aspect_ratio']}, blink "
                    f"{iv['blink']}: {iv['label']} ({_probs(iv['probabilities'])})")
            for w in r["warnings"]:
                lines.append(f"  - warning: {w}")
            lines.append("")
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run it and write ``benchmarks/results/predict_real_videos.{md,json}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["svm", "ststnet"],
                        choices=("svm", "ststnet", "offapexnet", "sssnet"))
    args = parser.parse_args(argv)
    data = Path(shared_data_dir())
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        res = run(data, args.models, Path(tmp))
    res["registration"] = registration_on_pairs(data)
    res.update(command="python benchmarks/predict_real_videos.py"
               + ("" if args.models == ["svm", "ststnet"]
                  else " --models " + " ".join(args.models)),
               machine=f"{platform.platform()}, Python {platform.python_version()}",
               seconds=time.perf_counter() - start)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "predict_real_videos.json").write_text(json.dumps(res, indent=1))
    (RESULTS / "predict_real_videos.md").write_text(to_markdown(res))
    print(to_markdown(res))


if __name__ == "__main__":
    main()
