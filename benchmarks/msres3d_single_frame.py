"""MSRes3D on single flow images: the 2-D fast path against plain 3-D convolutions.

On a one-frame input (``T = 1``, the MEGC2019 composite's flow images) every 3-D
(transposed) convolution of :class:`skmer.models.nets.msres3d.MSRes3D` runs as
the 2-D convolution of its one live temporal slice.  This script times training
steps (forward, backward, AdamW step) of one network both ways in one process,
alternating, and checks that the two give the same logits: the reference
disables the fast path (the 3-D convolutions of ``torch.nn.Conv3d``).

It also gives the cost of one training epoch over a composite LOSO fold (435
images, fast path): what a 68-fold LOSO of ``max_epochs`` epochs costs.

Run: ``python benchmarks/msres3d_single_frame.py [--widths 0.25 1.0]
[--batch-size 16] [--repeats 7]``; writes
``benchmarks/results/msres3d_single_frame.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import skmer.models.nets.msres3d  # noqa: E402,F401

RESULTS = ROOT / "benchmarks" / "results"
FOLD_IMAGES = 435  # training images of a MEGC2019 composite LOSO fold (442 - 7 at most)
# the module, not the registry function of the same name in skmer.models.nets
NETS = sys.modules["skmer.models.nets.msres3d"]


def _steps(net, opt, x, y, n):
    t0 = time.perf_counter()
    for _ in range(n):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(x).mean(dim=1), y).backward()
        opt.step()
    return (time.perf_counter() - t0) / n


def _measure(width, args):
    torch.manual_seed(0)
    net = NETS.MSRes3D(width=width, temporal_strides=False)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x = torch.randn(args.batch_size, 3, 1, args.size, args.size)
    y = torch.randint(0, 3, (args.batch_size,))
    fast_tap = NETS._single_frame_tap

    def plain(*a, **k):
        return None

    def set_fast(on):
        NETS._single_frame_tap = fast_tap if on else plain

    times = {True: [], False: []}
    try:
        net.eval()
        with torch.no_grad():
            set_fast(True)
            fast_out = net(x)
            set_fast(False)
            max_diff = float((fast_out - net(x)).abs().max())
        net.train()
        for on in (True, False):  # warm-up
            set_fast(on)
            _steps(net, opt, x, y, 1)
        for r in range(args.repeats):
            for on in ((True, False) if r % 2 else (False, True)):
                set_fast(on)
                times[on].append(_steps(net, opt, x, y, args.steps))
    finally:
        set_fast(True)
    fast, ref = statistics.median(times[True]), statistics.median(times[False])
    return {
        "width": width, "n_params": sum(p.numel() for p in net.parameters()),
        "plain_3d_step_s": ref, "fast_path_step_s": fast, "speedup": ref / fast,
        "speedup_per_repeat": [b / a for a, b in zip(times[True], times[False],
                                                     strict=True)],
        "fold_epoch_s": math.ceil(FOLD_IMAGES / args.batch_size) * fast,
        "max_abs_logit_diff": max_diff,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=float, nargs="+", default=[0.25, 1.0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load0 = os.getloadavg()[0]
    rows = [_measure(w, args) for w in args.widths]
    load1 = os.getloadavg()[0]
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    out = {"batch_size": args.batch_size, "size": args.size, "threads": args.threads,
           "steps": args.steps, "repeats": args.repeats, "machine": machine,
           "torch": torch.__version__, "load_average": [load0, load1], "rows": rows}
    md = [
        "# MSRes3D on single flow images: 2-D fast path vs 3-D convolutions", "",
        f"Input 3x1x{args.size}x{args.size}, batch {args.batch_size}, AdamW training "
        f"steps, {args.threads} torch thread(s); median of {args.repeats} "
        f"alternating repeats of {args.steps} steps; {machine}, torch "
        f"{torch.__version__}, load average {load0:.1f} -> {load1:.1f}.", "",
        "| width | parameters | 3-D convolutions (s/step) | fast path (s/step) | "
        "speed-up | per repeat | epoch of a 435-image fold (s) | max logit diff |",
        "|---:|---:|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        md.append(
            f"| {r['width']} | {r['n_params']:,} | {r['plain_3d_step_s']:.4f} | "
            f"{r['fast_path_step_s']:.4f} | {r['speedup']:.2f} | "
            + ", ".join(f"{v:.2f}" for v in r["speedup_per_repeat"])
            + f" | {r['fold_epoch_s']:.1f} | {r['max_abs_logit_diff']:.1e} |")
    md += ["", "Epoch of a fold: ceil(435 / batch) fast-path steps (no data loading or "
           "augmentation).", "",
           "Command: `python benchmarks/msres3d_single_frame.py --widths "
           + " ".join(str(w) for w in args.widths)
           + f" --batch-size {args.batch_size} --repeats {args.repeats}`", ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "msres3d_single_frame.json").write_text(json.dumps(out, indent=2))
    (RESULTS / "msres3d_single_frame.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
