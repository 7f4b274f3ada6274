"""The ``skmer`` command.

``skmer demo``
    Synthetic micro-expressions -> onset-apex optical flow -> STSTNet, evaluated
    leave-one-subject-out; prints the pooled report and writes a confusion matrix.
``skmer evaluate``
    Honest LOSO of a flow-image network on STSTNet-format flow images (e.g. the
    MEGC2019 composite).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

__all__ = ["main"]

MODELS = ("ststnet", "offapexnet")


def _make_flow_net(model, *, max_epochs=None, lr=None, batch_size=None):
    from skmer.models import OffApexNetClassifier, STSTNetClassifier

    cls = {"ststnet": STSTNetClassifier, "offapexnet": OffApexNetClassifier}[model]
    params = {}
    if max_epochs is not None:
        params["max_epochs"] = max_epochs
    if lr is not None:
        params["lr"] = lr
    if batch_size is not None:
        params["batch_size"] = batch_size
    return cls(**params)


def _save_outputs(report, out, *, display_labels=None, title=None):
    import matplotlib

    matplotlib.use("Agg")
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


def cmd_demo(args):
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
        ("flow", FlowExtractor(method="tvl1", mode="onset-apex", strain=True,
                               output_size=(28, 28), scale="minmax")),
        ("net", _make_flow_net("ststnet", max_epochs=args.epochs)),
    ])
    print("pipeline: " + " -> ".join(type(s).__name__ for _, s in pipe.steps))
    report = evaluate_loso(pipe, data.data, data.target, data.groups,
                           seeds=range(args.seeds), n_jobs=args.n_jobs, progress=True)
    print()
    print(report.to_markdown(title="skmer demo (synthetic data)"))
    out = _save_outputs(report, args.out, title="skmer demo: STSTNet on TV-L1 flow")
    print(f"\nwrote {out / 'confusion_matrix.png'}, {out / 'report.json'} "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def cmd_evaluate(args):
    """Run LOSO on flow images."""
    from skmer.datasets import load_flow_images
    from skmer.model_selection import evaluate_loso

    data = load_flow_images(args.flow_images, args.labels)
    est = _make_flow_net(args.model, max_epochs=args.epochs, lr=args.lr,
                         batch_size=args.batch_size)
    print(f"{args.model}: {data.data.shape[0]} samples, "
          f"{len(set(data.groups))} subjects, {args.seeds} seed(s)")
    report = evaluate_loso(est, data.data, data.target, data.groups,
                           datasets=data.datasets, seeds=range(args.seeds),
                           n_jobs=args.n_jobs, results_dir=args.results_dir,
                           progress=not args.quiet)
    print(report.to_markdown(title=f"{args.model} on {args.flow_images}"))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2,
                                              default=str))
        print(f"wrote {args.json}")
    if args.out:
        _save_outputs(report, args.out, display_labels=data.target_names,
                      title=f"{args.model}, pooled LOSO")
    return 0


def build_parser():
    """The argument parser of the ``skmer`` command."""
    p = argparse.ArgumentParser(
        prog="skmer", description="scikit-learn micro-expression recognition.")
    p.add_argument("--verbose", "-v", action="count", default=0,
                   help="log progress (repeat for more)")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="LOSO of STSTNet on synthetic micro-expressions")
    d.add_argument("--n-clips", type=int, default=96)
    d.add_argument("--n-subjects", type=int, default=8)
    d.add_argument("--epochs", type=int, default=None,
                   help="training epochs of the network (default: its default)")
    d.add_argument("--seeds", type=int, default=1, help="number of seeds")
    d.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    d.add_argument("--n-jobs", type=int, default=None, help="parallel folds")
    d.add_argument("--out", default="skmer_demo", help="output folder")
    d.set_defaults(func=cmd_demo)

    e = sub.add_parser("evaluate", help="LOSO on STSTNet-format flow images")
    e.add_argument("--flow-images", required=True,
                   help="folder of '<sub>_<clip> .png' flow images")
    e.add_argument("--labels", default=None,
                   help="labels CSV (dataset, sub, filename_o, label); default: "
                        "labels_3class.csv beside the folder")
    e.add_argument("--model", choices=MODELS, default="ststnet")
    e.add_argument("--seeds", type=int, default=1, help="number of seeds (0..N-1)")
    e.add_argument("--epochs", type=int, default=None)
    e.add_argument("--lr", type=float, default=None)
    e.add_argument("--batch-size", type=int, default=None)
    e.add_argument("--n-jobs", type=int, default=None, help="parallel folds")
    e.add_argument("--results-dir", default=None,
                   help="write finished folds here and resume from them")
    e.add_argument("--json", default=None, help="write the report as JSON here")
    e.add_argument("--out", default=None, help="write report + confusion matrix here")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.set_defaults(func=cmd_evaluate)
    return p


def main(argv=None):
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
