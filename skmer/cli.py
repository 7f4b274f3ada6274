"""The ``skmer`` command.

``skmer demo``
    Synthetic micro-expressions -> onset-apex optical flow -> STSTNet, evaluated
    leave-one-subject-out; prints the pooled report and writes a confusion matrix.
``skmer evaluate``
    Honest LOSO of a model (STSTNet, OFF-ApexNet, SSSNet, LBP-TOP or Bi-WOOF + SVM) on
    STSTNet-format flow images (e.g. the MEGC2019 composite) or on synthetic clips.
``skmer train``
    Fit a model that ``skmer predict`` accepts (onset-apex flow -> STSTNet or SVM) on
    synthetic clips or on flow images, and save it.
``skmer predict``
    Recognise the micro-expression of a video (file or folder of frames) with a
    saved model: face crop, apex spotting, prediction and a picture.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

MODELS = ("ststnet", "offapexnet", "sssnet", "lbptop", "biwoof")


def _make_flow_net(model, *, max_epochs=None, lr=None, batch_size=None):
    from skmer.models import (
        OffApexNetClassifier,
        SSSNetClassifier,
        STSTNetClassifier,
    )

    cls = {"ststnet": STSTNetClassifier, "offapexnet": OffApexNetClassifier,
           "sssnet": SSSNetClassifier}[model]
    params = {}
    if max_epochs is not None:
        params["max_epochs"] = max_epochs
    if lr is not None:
        params["lr"] = lr
    if batch_size is not None:
        params["batch_size"] = batch_size
    return cls(**params)


def _save_outputs(report, out, *, display_labels=None, title=None):
    # no backend is chosen here: matplotlib falls back to the file-only Agg
    # backend on a machine without a display, and $MPLBACKEND overrides it
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ax = report.plot(display_labels=display_labels, title=title)
    ax.figure.savefig(out / "confusion_matrix.png", dpi=120)
    plt.close(ax.figure)
    (out / "report.json").write_text(json.dumps(report.to_dict(), indent=2,
                                                default=str))
    (out / "report.md").write_text(report.to_markdown(title=title) + "\n")
    return out


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the synthetic demo."""
    from sklearn.pipeline import Pipeline

    from skmer.datasets import make_micro_expressions
    from skmer.model_selection import evaluate_loso
    from skmer.preprocessing import FlowExtractor

    t0 = time.perf_counter()
    data = make_micro_expressions(n_clips=args.n_clips, n_subjects=args.n_subjects,
                                  random_state=args.seed, return_bunch=True)
    print(f"skmer demo: {len(data.data)} synthetic clips of "
          f"{data.data[0].shape} from {len(set(data.groups))} subjects, classes "
          f"{list(data.target_names)}")
    pipe = Pipeline([
        ("flow", FlowExtractor(method=args.flow, mode="onset-apex", strain=True,
                               output_size=(28, 28), scale="minmax")),
        ("net", _make_flow_net("ststnet", max_epochs=args.epochs)),
    ])
    print("pipeline: " + " -> ".join(type(s).__name__ for _, s in pipe.steps))
    report = evaluate_loso(pipe, data.data, data.target, data.groups,
                           seeds=range(args.seeds), n_jobs=args.n_jobs, progress=True)
    print()
    print(report.to_markdown(title="skmer demo (synthetic data)"))
    out = _save_outputs(report, args.out,
                        title=f"skmer demo: STSTNet on {args.flow} flow")
    print(f"\nwrote {out / 'confusion_matrix.png'}, {out / 'report.json'} "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def _evaluate_estimator(model, args, *, clips):
    """Build the ``skmer evaluate --model`` estimator, for clips or flow images."""
    from sklearn.pipeline import Pipeline

    if model == "lbptop":
        if not clips:
            raise ValueError("--model lbptop needs clips (--synthetic N): LBP-TOP "
                             "reads frames, not flow images.")
        from skmer.features import make_lbptop_pipeline

        return make_lbptop_pipeline()
    if model == "biwoof":
        from skmer.features import make_biwoof_pipeline

        return make_biwoof_pipeline()
    net = _make_flow_net(model, max_epochs=args.epochs, lr=args.lr,
                         batch_size=args.batch_size)
    if not clips:
        return net
    from skmer.preprocessing import FlowExtractor

    return Pipeline([
        ("flow", FlowExtractor(method="tvl1", mode="onset-apex", strain=True,
                               output_size=(28, 28), scale="minmax")),
        ("net", net),
    ])


RECIPES = ("megc2019", "megc2019-ensemble")


def _composite_recipe(name, args, random_state=None):
    """Build the packaged composite recipe ``name`` (input: the composite layout)."""
    from skmer.recipes import megc2019_composite, megc2019_ensemble

    if name == "megc2019":
        return megc2019_composite(random_state=random_state)
    # STSTNet x5 + the linear recipe, equal weights (benchmarks/composite_ensemble.py)
    net = _make_flow_net("ststnet", max_epochs=getattr(args, "epochs", None))
    return megc2019_ensemble({"ststnet": net}, n_seeds=5, random_state=random_state)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Run LOSO on flow images or on synthetic clips."""
    from skmer.model_selection import evaluate_loso

    if (args.flow_images is None) == (args.synthetic is None):
        raise ValueError("give exactly one of --flow-images DIR and --synthetic N.")
    if args.recipe is not None and args.flow_images is None:
        raise ValueError(f"--recipe {args.recipe} runs on --flow-images (the "
                         "composite's onset-apex flow images).")
    if args.flow_images is not None:
        from skmer.datasets import load_flow_images

        data = load_flow_images(args.flow_images, args.labels)
        source = args.flow_images
        what = "flow images"
        if args.recipe is not None:
            from skmer.recipes import make_composite_X

            # the corpora stay metadata (datasets=, given to evaluate_loso below);
            # the default recipe standardises globally and does not use them
            data.data = make_composite_X(data.data)
            args.model = "recipe:" + args.recipe
            est = _composite_recipe(args.recipe, args)
    else:
        from skmer.datasets import make_micro_expressions

        n_frames = 12 if args.model != "lbptop" else 16  # LBP-TOP's R_T=4 needs 9+
        data = make_micro_expressions(n_clips=args.synthetic,
                                      n_subjects=args.n_subjects,
                                      n_frames=n_frames, random_state=0,
                                      return_bunch=True)
        source = f"{args.synthetic} synthetic clips"
        what = "clips"
    if args.recipe is None:
        est = _evaluate_estimator(args.model, args,
                                  clips=args.synthetic is not None)
    print(f"{args.model}: {len(data.target)} {what}, "
          f"{len(set(data.groups))} subjects, {args.seeds} seed(s)")
    report = evaluate_loso(est, data.data, data.target, data.groups,
                           datasets=data.datasets, seeds=range(args.seeds),
                           n_jobs=args.n_jobs, results_dir=args.results_dir,
                           progress=not args.quiet)
    print(report.to_markdown(title=f"{args.model} on {source}"))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2,
                                              default=str))
        print(f"wrote {args.json}")
    if args.out:
        _save_outputs(report, args.out, title=f"{args.model}, pooled LOSO")
    return 0


def _predict_classifier(args):
    """Return the classifier ``skmer train`` names ("svm" as is), or the recipe."""
    if args.recipe is not None:
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import FunctionTransformer

        from skmer.recipes import make_composite_X

        # the recipe reads the composite layout (flow columns, then landmark
        # columns left NaN: no apex landmarks at prediction time, so no alignment)
        return Pipeline([
            ("layout", FunctionTransformer(make_composite_X)),
            ("recipe", _composite_recipe(args.recipe, args, random_state=args.seed)),
        ])
    if args.classifier == "svm":
        return "svm"
    return _make_flow_net(args.classifier, max_epochs=args.epochs).set_params(
        random_state=args.seed)


def _preprocessing_metadata(model, size):
    """Describe the preprocessing that makes the model's inputs (saved with it)."""
    flow = model.named_steps["flow"]
    params = flow.get_params()
    return {
        "face_crop": {"method": "FaceCropper (dlib 68 landmarks, one similarity "
                                "transform located on the onset frame)",
                      "output_size": [size, size], "color": "grey",
                      "eye_distance": 0.35, "reference": "onset"},
        "frames": "onset and apex (the apex spotted or given)",
        "flow": {k: (list(v) if isinstance(v, tuple) else v)
                 for k, v in params.items()
                 if k in ("method", "mode", "strain", "magnitude", "output_size",
                          "rescale_vectors", "scale", "flow_params")},
        "channels": list(getattr(flow, "channel_names_", ("u", "v", "strain"))),
        "value_range": [0.0, 1.0],
        "format": "MEGC2019 composite flow_uvos_28: TV-L1 onset->apex, 28x28, "
                  "channels (u, v, optical strain), each min-max scaled to [0, 1] "
                  "per image",
    }


def _select_subjects(data, exclude):
    """Drop the samples of the subjects in ``exclude`` from a flow-image Bunch."""
    import numpy as np

    groups = np.asarray(data.groups).astype(str)
    unknown = sorted(set(exclude) - set(groups))
    if unknown:
        known = sorted(set(groups))
        raise ValueError(
            f"--exclude-subject: no sample of {unknown} in the flow images (subjects "
            f"are dataset-qualified: {', '.join(known[:3])}, ... {len(known)} in "
            "all).")
    keep = ~np.isin(groups, list(exclude))
    if not keep.any():
        raise ValueError("--exclude-subject leaves no training sample.")
    for key in ("data", "target", "groups", "datasets", "ids"):
        data[key] = np.asarray(data[key])[keep]
    return data


def cmd_train(args: argparse.Namespace) -> int:
    """Fit a predict-ready model and save it."""
    import numpy as np

    from skmer.io import save_model
    from skmer.predict import make_predict_pipeline

    t0 = time.perf_counter()
    if args.recipe is not None and not args.flow_images:
        raise ValueError(f"--recipe {args.recipe} trains on --flow-images (the "
                         "composite's onset-apex flow images).")
    if args.exclude_subject and not args.flow_images:
        raise ValueError("--exclude-subject selects subjects of --flow-images.")
    name = "recipe:" + args.recipe if args.recipe else args.classifier
    if args.flow_images:
        from skmer.datasets import load_flow_images

        data = load_flow_images(args.flow_images, args.labels)
        if data.data.shape[1:] != (3, 28, 28):
            raise ValueError(
                f"--flow-images holds images of {data.data.shape[1:]} (channels, "
                "height, width); skmer predict computes the composite format "
                "(3, 28, 28): u, v, strain.")
        n_all = len(data.target)
        excluded = sorted(set(args.exclude_subject or ()))
        if excluded:
            data = _select_subjects(data, excluded)
        y = np.asarray(data.target_names)[data.target]
        size = args.face_size or 128
        print(f"skmer train: {name} on {len(y)} flow images {data.data.shape[1:]} "
              f"from {args.flow_images}, {len(set(data.groups))} subjects"
              + (f" ({n_all - len(y)} samples of {', '.join(excluded)} held out)"
                 if excluded else ""))
        model = make_predict_pipeline(_predict_classifier(args),
                                      flow_size=data.data.shape[2:],
                                      random_state=args.seed)
        # the classifier learns from the flow images as they are; the flow step
        # learns nothing: fitting it on one blank pair of face crops only records
        # the crop size that ``skmer predict`` will use
        model.named_steps["clf"].fit(data.data, y)
        model.named_steps["flow"].fit([np.zeros((2, size, size), dtype=np.uint8)])
        trained_on = (f"flow images {args.flow_images} ({len(y)} samples, "
                      f"{len(set(data.groups))} subjects)")
        extra = {"synthetic": False, "excluded_subjects": excluded,
                 "n_samples": len(y),
                 "class_counts": {str(c): int((y == c).sum()) for c in np.unique(y)}}
    else:
        from skmer.datasets import make_micro_expressions

        size = args.face_size or 64
        X, y, groups = make_micro_expressions(
            n_clips=args.n_clips, n_subjects=args.n_subjects,
            frame_shape=(size, size), random_state=args.seed)
        print(f"skmer train: {name} on {len(y)} synthetic clips of "
              f"{X[0].shape} (a demo model: synthetic faces are not real data)")
        model = make_predict_pipeline(_predict_classifier(args),
                                      random_state=args.seed).fit(X, y)
        trained_on = f"synthetic ({len(y)} clips, seed {args.seed})"
        extra = {"synthetic": True, "n_samples": len(y)}
    out = save_model(model, args.out, metadata={
        "frame_shape": [size, size], "classes": [str(c) for c in model.classes_],
        "trained_on": trained_on, "classifier": name, "seed": args.seed,
        **extra, "preprocessing": _preprocessing_metadata(model, size)})
    print(f"classes {[str(c) for c in model.classes_]}; face crops {size}x{size}")
    print(f"wrote {out} ({time.perf_counter() - t0:.1f} s)")
    return 0


def _video_length(path, fps):
    """``(n_frames, fps)`` of a video file or frame folder without decoding it."""
    from skmer._core._clip import IMAGE_EXTENSIONS

    path = Path(path)
    if path.is_dir():
        n = sum(1 for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        return n, fps
    if not path.is_file():
        return None, fps
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            return None, fps
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        rate = cap.get(cv2.CAP_PROP_FPS)
    finally:
        cap.release()
    if fps is None and rate and rate > 0:
        fps = float(rate)
    return (n if n > 0 else None), fps


def _predict_mode(args):
    """``"clip"`` or ``"long"``, and a note to print (or None)."""
    from skmer.predict import MICRO_MAX_DURATION

    marked = any(v is not None for v in (args.onset, args.apex, args.offset))
    if args.spot == "never":
        return "clip", None
    if args.spot == "always":
        if marked:
            raise ValueError("--spot always finds onset and apex itself; do not "
                             "give --onset/--apex/--offset with it.")
        return "long", None
    if marked:
        return "clip", None
    n, fps = _video_length(args.video, args.fps)
    if n is None:
        return "clip", None  # predict_video says what is wrong with the file
    if fps is None:
        return "clip", (f"the frame rate of {args.video} is unknown (a folder of "
                        "frames): predicted as one clip from frame 0; give --fps "
                        "to spot the micro-expressions of a long video")
    if n / fps > MICRO_MAX_DURATION:
        return "long", None
    return "clip", None


def _warn(lines):
    for line in lines:
        print(f"skmer predict: warning: {line}", file=sys.stderr)


def _print_probs(probs, indent="  "):
    width = max(len(str(k)) for k in probs)
    for k, p in probs.items():
        print(f"{indent}{str(k):<{width}}  {p:.3f}")


def _print_long(res):
    from skmer._core._utils import _plain

    rate = (f"{res.fps:g} fps" if res.frame_times is None
            else f"a variable frame rate, {res.fps:.4g} fps where analysed")
    print(f"skmer predict: {res.source} ({res.n_frames} frames, {rate}, "
          f"{res.duration:.2f} s): long video, micro-expressions spotted "
          f"with {res.spotter}")
    a, b = res.analysed
    print(f"face followed on frames {a}..{b}"
          + (f" (lost at frame {res.face_lost_at})" if res.face_lost_at is not None
             else ""))
    if res.noise is not None and res.threshold is not None:
        print(f"noise level {res.noise:.3g} (median spotter score); threshold "
              f"{res.threshold:.3g} ({res.threshold / res.noise:.2f} x noise)"
              if res.noise > 0 else f"threshold {res.threshold:.3g}")
    if not res.intervals:
        print("no movement spotted: nothing in this video stands out of its own "
              "noise, so there is nothing to classify" if res.noise is not None
              else "no movement spotted")
        return
    names = ([str(_plain(c)) for c in res.classes] if res.classes is not None
             else [])
    print(f"{len(res.intervals)} interval(s) spotted (frames onset-apex-offset, "
          "seconds, kind, head motion left after registration, eyes closing, "
          "spotter score over the noise level, prediction):")
    head = (f"  {'#':>2}  {'frames':<15} {'time (s)':<18} {'kind':<5} {'head':<4} "
            f"{'blink':<5} {'snr':>5}  {'predicted':<10}"
            + "".join(f" {n:>9}" for n in names))
    print(head)
    for i, iv in enumerate(res.intervals, 1):
        t = iv.times()
        probs = iv.probabilities() or {}
        frames = f"{iv.onset}-{iv.apex}-{iv.offset}"
        times = "-".join(f"{t[k]:.2f}" for k in ("onset", "apex", "offset"))
        snr = "-" if iv.snr is None else f"{iv.snr:.2f}"
        print(f"  {i:>2}  {frames:<15} {times:<18} "
              f"{iv.kind:<5} {'yes' if iv.is_head_motion else 'no':<4} "
              f"{'yes' if iv.is_blink else 'no':<5} "
              f"{snr:>5}  {str(_plain(iv.label)):<10}"
              + "".join(f" {p:>9.3f}" for p in probs.values()))
    moved = [f"#{i} {iv.head_motion_removed:.1f} px"
             for i, iv in enumerate(res.intervals, 1)
             if iv.compensated and (iv.head_motion_removed or 0.0) >= 0.5]
    if moved:
        print("head motion removed by registration: " + ", ".join(moved))


def cmd_predict(args: argparse.Namespace) -> int:
    """Predict the micro-expression(s) of one video with a saved model."""
    from skmer.io import model_info
    from skmer.plotting import plot_long_prediction, plot_prediction
    from skmer.predict import predict_long_video, predict_video

    t0 = time.perf_counter()
    info = model_info(args.model)
    shape = (args.face_size, args.face_size) if args.face_size else None
    mode, note = _predict_mode(args)
    if note:
        print(f"skmer predict: note: {note}", file=sys.stderr)
    out = Path(args.out) if args.out else Path(f"{Path(args.video).stem}_skmer.png")
    if mode == "long":
        res = predict_long_video(info["model"], args.video, fps=args.fps,
                                 frame_shape=shape, upsample=args.upsample,
                                 metadata=info["metadata"],
                                 compensate=args.compensate)
        _print_long(res)
        _warn(res.warnings)
        n_head = sum(iv.is_head_motion for iv in res.intervals)
        if n_head:
            _warn([f"{n_head} of {len(res.intervals)} interval(s) are mostly head "
                   "motion (column 'head'): their answer describes the head moving, "
                   "not a facial movement"])
        n_blink = sum(iv.is_blink for iv in res.intervals)
        if n_blink:
            _warn([f"{n_blink} of {len(res.intervals)} interval(s) close the eyes "
                   "(column 'blink'): they may be blinks, which the micro-expression "
                   "corpora do not code"])
        plot_long_prediction(res, out)
    else:
        res = predict_video(info["model"], args.video, frame_shape=shape,
                            onset=args.onset, apex=args.apex, offset=args.offset,
                            spotter=args.spotter, upsample=args.upsample,
                            fps=args.fps, metadata=info["metadata"],
                            compensate=args.compensate)
        fps = f", {res.fps:g} fps" if res.fps else ""
        print(f"skmer predict: {res.source} ({res.n_frames} frames{fps})")
        how = ("given" if res.apex_given
               else f"spotted (search {res.onset}..{res.offset})")
        print(f"face found on frame {res.onset}; apex at frame {res.apex}, {how}")
        if res.compensated:
            print(f"head motion onset -> apex: {res.head_motion_removed:.2f} px, "
                  f"removed by registration ({res.head_motion:.2f} px left; local "
                  f"motion {res.local_motion:.2f} px)")
        else:
            print(f"head motion onset -> apex: {res.head_motion:.2f} px, not "
                  f"registered (local motion {res.local_motion:.2f} px)")
        print(f"predicted: {res.label}")
        probs = res.probabilities()
        if probs:
            _print_probs(probs)
        _warn(res.warnings)
        plot_prediction(res, out)
    print(f"wrote {out}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res.to_dict(), indent=2, default=str))
        print(f"wrote {args.json}")
    logging.getLogger(__name__).info("predict took %.1f s", time.perf_counter() - t0)
    return 0


def _positive(kind):
    """Return an argparse type: a number of ``kind`` (int or float) above 0."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a positive {'integer' if kind is int else 'number'}; got "
                f"{text!r}") from None
        if not value > 0 or (kind is float and value == float("inf")):
            raise argparse.ArgumentTypeError(
                f"must be a positive {'integer' if kind is int else 'number'}; got "
                f"{text}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``skmer`` command."""
    p = argparse.ArgumentParser(
        prog="skmer", description="scikit-learn micro-expression recognition.")
    p.add_argument("--verbose", "-v", action="count", default=0,
                   help="log progress (repeat for more)")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="LOSO of STSTNet on synthetic micro-expressions")
    d.add_argument("--n-clips", type=_positive(int), default=96)
    d.add_argument("--n-subjects", type=_positive(int), default=8)
    d.add_argument("--epochs", type=_positive(int), default=None,
                   help="training epochs of the network (default: its default)")
    d.add_argument("--seeds", type=_positive(int), default=1,
                   help="number of seeds")
    d.add_argument("--flow", choices=("farneback", "tvl1", "dis"),
                   default="farneback",
                   help="optical flow of the onset-apex pairs (TV-L1 is the most "
                        "accurate and the slowest)")
    d.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    d.add_argument("--n-jobs", type=int, default=None,
                   help="folds at once (default: one per core, each with one "
                        "torch/BLAS thread; -1: all cores; 0 is an error)")
    d.add_argument("--out", default="skmer_demo", help="output folder")
    d.set_defaults(func=cmd_demo)

    e = sub.add_parser("evaluate", help="honest LOSO on flow images or synthetic "
                                        "clips")
    e.add_argument("--flow-images", default=None,
                   help="folder of '<sub>_<clip> .png' flow images")
    e.add_argument("--synthetic", type=_positive(int), default=None, metavar="N",
                   help="evaluate on N synthetic clips (make_micro_expressions)")
    e.add_argument("--n-subjects", type=_positive(int), default=8,
                   help="subjects of the synthetic clips")
    e.add_argument("--labels", default=None,
                   help="labels CSV (dataset, sub, filename_o, label); default: "
                        "labels_3class.csv beside the folder")
    e.add_argument("--model", choices=MODELS, default="ststnet")
    e.add_argument("--recipe", choices=RECIPES, default=None,
                   help="evaluate a packaged recipe instead of --model, on "
                        "--flow-images: megc2019 = skmer.recipes.megc2019_composite "
                        "(the linear recipe, about 1 minute); megc2019-ensemble = "
                        "STSTNet x5 + the linear recipe, equal weights "
                        "(skmer.recipes.megc2019_ensemble, about 12 minutes per "
                        "seed on 2 cores)")
    e.add_argument("--seeds", type=_positive(int), default=1,
                   help="number of seeds (0..N-1)")
    e.add_argument("--epochs", type=_positive(int), default=None)
    e.add_argument("--lr", type=_positive(float), default=None)
    e.add_argument("--batch-size", type=_positive(int), default=None)
    e.add_argument("--n-jobs", type=int, default=None,
                   help="folds at once (default: one per core, each with one "
                        "torch/BLAS thread; -1: all cores; 0 is an error)")
    e.add_argument("--results-dir", default=None,
                   help="write finished folds here and resume from them")
    e.add_argument("--json", default=None, help="write the report as JSON here")
    e.add_argument("--out", default=None, help="write report + confusion matrix here")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.set_defaults(func=cmd_evaluate)

    t = sub.add_parser("train", help="fit and save a model that 'skmer predict' "
                                     "accepts")
    t.add_argument("--out", required=True, help="model file to write (.joblib)")
    t.add_argument("--classifier", choices=("ststnet", "offapexnet", "sssnet", "svm"),
                   default="ststnet",
                   help="network, or 'svm' (standardised flow pixels -> RBF SVM, "
                        "no torch, seconds to train)")
    t.add_argument("--recipe", choices=RECIPES, default=None,
                   help="train a packaged composite recipe instead of "
                        "--classifier (megc2019: skmer.recipes.megc2019_composite; "
                        "megc2019-ensemble: STSTNet x5 + it; needs --flow-images)")
    t.add_argument("--flow-images", default=None,
                   help="train on this folder of '<sub>_<clip> .png' flow images, "
                        "e.g. your copy of megc2019/flow_uvos_28 (default: "
                        "synthetic clips, a demo model only)")
    t.add_argument("--labels", default=None, help="labels CSV of --flow-images")
    t.add_argument("--exclude-subject", action="append", default=None,
                   metavar="SUBJECT",
                   help="hold out this dataset-qualified subject of --flow-images "
                        "(e.g. casme2/sub01); repeatable")
    t.add_argument("--n-clips", type=_positive(int), default=60,
                   help="synthetic clips")
    t.add_argument("--n-subjects", type=_positive(int), default=6,
                   help="synthetic subjects")
    t.add_argument("--face-size", type=_positive(int), default=None,
                   help="face-crop size in pixels (default 64 synthetic, 128 "
                        "flow images)")
    t.add_argument("--epochs", type=_positive(int), default=None,
                   help="network epochs (default: the network's)")
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(func=cmd_train)

    r = sub.add_parser("predict", help="recognise the micro-expression of a video "
                                       "with a saved model")
    r.add_argument("video", help="video file (mp4, avi, mov, ...) or frame folder")
    r.add_argument("--model", required=True,
                   help="model file from 'skmer train' or skmer.io.save_model "
                        "(a pickle: only load files you trust)")
    r.add_argument("--out", default=None,
                   help="picture to write (PNG; default <video>_skmer.png)")
    r.add_argument("--json", default=None, help="write the prediction as JSON here")
    r.add_argument("--spot", choices=("auto", "always", "never"), default="auto",
                   help="spot the micro-expressions of a long video and classify "
                        "each: 'auto' (default) does when no --onset/--apex/"
                        "--offset is given and the video lasts more than 0.5 s; "
                        "'never' predicts one clip")
    r.add_argument("--onset", type=int, default=None,
                   help="one clip: neutral frame the face is located on (default 0)")
    r.add_argument("--apex", type=int, default=None,
                   help="one clip: the apex frame (default: spotted)")
    r.add_argument("--offset", type=int, default=None,
                   help="one clip: last frame of the apex search (default: the "
                        "last)")
    r.add_argument("--spotter", choices=("flow", "diff"), default="flow",
                   help="one clip: apex spotting score (flow relative to the nose, "
                        "or the frame difference of skmer < 0.2)")
    r.add_argument("--fps", type=_positive(float), default=None,
                   help="frame rate (default: the video file's; needed to spot in "
                        "a folder of frames)")
    r.add_argument("--face-size", type=_positive(int), default=None,
                   help="face-crop size (default: the model's)")
    r.add_argument("--no-compensate", dest="compensate", action="store_false",
                   help="do not register the apex frame to the onset frame "
                        "(head-motion compensation) before the model")
    r.add_argument("--upsample", type=int, choices=(0, 1, 2), default=0,
                   help="dlib detector upsampling (1 finds smaller faces)")
    r.set_defaults(func=cmd_predict)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skmer`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"skmer {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
