"""MSRes3D on single flow images: the 2-D fast path against plain 3-D convolutions.

On a one-frame input (``T = 1``, the MEGC2019 composite's flow images) every 3-D
(transposed) convolution of :class:`skmer.models.nets.msres3d.MSRes3D` runs as
the 2-D convolution of its one live temporal slice.  This script times training
steps (forward, backward, AdamW step) of one network both ways in one process,
alternating, and checks that the two give the same logits: the reference
disables the fast path (the 3-D convolutions of ``torch.nn.Conv3d``).

Run: ``python benchmarks/msres3d_single_frame.py [--width 0.25] [--batch-size 16]
[--repeats 7]``; writes ``benchmarks/results/msres3d_single_frame.{md,json}``.
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

import torch  # noqa: E402

import skmer.models.nets.msres3d  # noqa: E402,F401

RESULTS = ROOT / "benchmarks" / "results"
# the module, not the registry function of the same name in skmer.models.nets
NETS = sys.modules["skmer.models.nets.msres3d"]


def _steps(net, opt, x, y, n):
    t0 = time.perf_counter()
    for _ in range(n):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(x).mean(dim=1), y).backward()
        opt.step()
    return (time.perf_counter() - t0) / n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = NETS.MSRes3D(width=args.width, temporal_strides=False)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x = torch.randn(args.batch_size, 3, 1, args.size, args.size)
    y = torch.randint(0, 3, (args.batch_size,))
    fast_tap = NETS._single_frame_tap

    def plain(*a, **k):
        return None

    def set_fast(on):
        NETS._single_frame_tap = fast_tap if on else plain

    net.eval()
    with torch.no_grad():
        set_fast(True)
        fast_out = net(x)
        set_fast(False)
        plain_out = net(x)
    max_diff = float((fast_out - plain_out).abs().max())
    net.train()
    times = {True: [], False: []}
    load0 = os.getloadavg()[0]
    try:
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
    ratios = [b / a for a, b in zip(times[True], times[False], strict=True)]
    out = {
        "width": args.width, "batch_size": args.batch_size, "size": args.size,
        "threads": args.threads, "steps": args.steps, "repeats": args.repeats,
        "n_params": sum(p.numel() for p in net.parameters()),
        "plain_3d_step_s": ref, "fast_path_step_s": fast, "speedup": ref / fast,
        "speedup_per_repeat": ratios, "max_abs_logit_diff": max_diff,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "torch": torch.__version__,
        "load_average": [load0, os.getloadavg()[0]],
    }
    md = [
        "# MSRes3D on single flow images: 2-D fast path vs 3-D convolutions", "",
        f"Width {args.width} ({out['n_params']:,} parameters), input 3x1x{args.size}x"
        f"{args.size}, batch {args.batch_size}, AdamW training steps, "
        f"{args.threads} torch thread(s); median of {args.repeats} alternating "
        f"repeats of {args.steps} steps; {out['machine']}, torch {torch.__version__}, "
        f"load average {load0:.1f} -> {out['load_average'][1]:.1f}.", "",
        "| path | s per training step | speed-up |", "|---|---:|---:|",
        f"| plain 3-D convolutions (reference) | {ref:.4f} | 1.00 |",
        f"| 2-D fast path | {fast:.4f} | {ref / fast:.2f} |", "",
        "Per repeat: " + ", ".join(f"{r:.2f}" for r in ratios)
        + f".  Largest logit difference of the two paths: {max_diff:.2e}.", "",
        f"Command: `python benchmarks/msres3d_single_frame.py --width {args.width} "
        f"--batch-size {args.batch_size} --repeats {args.repeats}`", ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "msres3d_single_frame.json").write_text(json.dumps(out, indent=2))
    (RESULTS / "msres3d_single_frame.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
