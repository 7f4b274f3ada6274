"""Flow networks on the MEGC2019 composite flow images: honest LOSO.

STSTNet, OFF-ApexNet and the flow-input variants of two seed networks (ARTNet
with one amplification level, MSRes3D on single flow images); see
:func:`make_estimator` for each recipe.

Runs :func:`skmer.model_selection.evaluate_loso` (68 folds, leave one
dataset-qualified subject out, pooled UF1/UAR, per dataset) on the shared
``megc2019/flow_uvos_28`` images with the networks' fixed default recipes (no epoch
or hyper-parameter is chosen on a test fold), 3 seeds each, and writes
``benchmarks/results/composite_flow.{md,json}`` with the wall time of every run.

Run::

    SKMER_SHARED_DATA=../shared/data python benchmarks/composite_flow.py \
        [--seeds 3] [--n-jobs 2] [--models ststnet offapexnet artnet msres3d sssnet]

Equivalent CLI: ``skmer evaluate --flow-images DIR --model ststnet --seeds 3``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skmer.datasets import load_flow_images  # noqa: E402
from skmer.model_selection import evaluate_loso  # noqa: E402
from skmer.utils._data import shared_data_dir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def _one_level(X):
    """(n, C, H, W) flow images -> (n, 1, C, H, W): ARTNet's single-level input."""
    return X[:, None]


def make_estimator(name):
    """The classifier of ``name`` with its documented composite recipe (CPU).

    STSTNet, OFF-ApexNet and SSSNet: their defaults (SSSNet's are the authors'
    recipe: SGD, lr 1e-2, momentum 0.9, batch 128, 200 epochs).  ARTNet: its
    defaults on the one amplification level the composite holds (the images are
    unamplified flow, so the transformer sees a single token: the network's
    flow-input variant).
    MSRes3D: the flow-image variant (``T = 1``, no temporal strides) at a quarter
    of the paper's width (4.5 M instead of 71 M parameters: one epoch of the
    full-width net over a fold takes about 25 s on one core of this CPU,
    ``benchmarks/msres3d_single_frame.py``, so 68 folds x 100 epochs would take
    about a day on two cores) with skmer's flow-network recipe instead of the paper's
    (AdamW, lr 1e-3, cosine, 30 epochs, batch 32, class-balanced loss; the
    paper's lr 1e-5 over 100 epochs is for the full net on a GPU).  Every recipe
    is fixed in advance: no epoch or hyper-parameter is chosen on a test fold.
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from skmer.models import (
        ARTNetClassifier,
        MSRes3DClassifier,
        OffApexNetClassifier,
        SSSNetClassifier,
        STSTNetClassifier,
    )

    if name == "artnet":
        return make_pipeline(FunctionTransformer(_one_level),
                             ARTNetClassifier(device="cpu"))
    if name == "msres3d":
        import torch

        return MSRes3DClassifier(
            device="cpu", module__width=0.25, optimizer=torch.optim.AdamW,
            lr=1e-3, lr_schedule="cosine", max_epochs=30, batch_size=32,
            class_weight="balanced")
    cls = {"ststnet": STSTNetClassifier, "offapexnet": OffApexNetClassifier,
           "sssnet": SSSNetClassifier}[name]
    return cls(device="cpu")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=["ststnet", "offapexnet"],
                        choices=["ststnet", "offapexnet", "artnet", "msres3d",
                                 "sssnet"])
    parser.add_argument("--results-dir", default=None,
                        help="evaluate_loso's per-fold results folder (resumable)")
    args = parser.parse_args(argv)

    shared = shared_data_dir()
    if shared is None:
        print("shared data absent: set SKMER_SHARED_DATA")
        return 1
    data = load_flow_images(shared / "megc2019" / "flow_uvos_28")
    # one torch thread per fold worker: the folds are the parallel unit
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    md = ["# MEGC2019 composite flow images: honest LOSO", "",
          f"{len(data.target)} samples, {len(set(data.groups))} subjects, pooled "
          f"predictions of {len(set(data.groups))} leave-one-subject-out folds; "
          "seeds as given per model below; "
          f"{platform.processor() or 'CPU'}, "
          f"{os.cpu_count()} cores, n_jobs={args.n_jobs}.", ""]
    # results of models run earlier (e.g. one model per invocation) are kept
    json_path = RESULTS / "composite_flow.json"
    out = json.loads(json_path.read_text()) if json_path.exists() else {}
    for name in args.models:
        est = make_estimator(name)
        t0 = time.perf_counter()
        rep = evaluate_loso(est, data.data, data.target, data.groups,
                            datasets=data.datasets, seeds=range(args.seeds),
                            n_jobs=args.n_jobs, progress=True,
                            results_dir=(None if args.results_dir is None
                                         else Path(args.results_dir) / name))
        wall = time.perf_counter() - t0
        per_seed = rep.scores[rep.scores.scope == "overall"]
        block = [rep.to_markdown(title=name), "",
                 "per seed (overall): " + ", ".join(
                     f"seed {int(r.seed)}: UF1 {r.uf1:.4f} / UAR {r.uar:.4f}"
                     for r in per_seed.itertuples()),
                 f"wall time: {wall:.0f} s for {args.seeds} seed(s) "
                 f"({wall / args.seeds:.0f} s per 68-fold LOSO seed)", "",
                 f"Command: `python benchmarks/composite_flow.py --seeds {args.seeds} "
            f"--n-jobs {args.n_jobs} --models {name}` (load average at the end "
            f"{os.getloadavg()[0]:.1f}; other jobs shared the 2 cores when it was "
            "above 2)", ""]
        out[name] = {**rep.to_dict(), "wall_s": wall,
                     "wall_per_seed_s": wall / args.seeds, "params": repr(est),
                     "markdown": block}
        print("\n".join(block), flush=True)
    for name, res in out.items():
        if name != "notes":
            md += res.get("markdown", [f"### {name}", "(no table)", ""])
    md += out.get("notes", [])  # hand-written notes on runs outside this script
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "composite_flow.md").write_text("\n".join(md) + "\n")
    (RESULTS / "composite_flow.json").write_text(json.dumps(out, indent=2,
                                                            default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
