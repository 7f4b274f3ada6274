"""Cost of MOL: training throughput, inference latency and peak memory.

:func:`benchmark_mol` times :class:`skmer.models.nets.mol.MOL` at the paper's input
size (8 grey frames of 128x128, ``width=1``, 3 classes) as ``MOLClassifier`` trains
it: AdamW, the joint loss (cross-entropy + flow MSE + masked landmark L1) on random
targets of the right shapes, and on CUDA ``channels_last`` 2-D convolutions with or
without float16 mixed precision (autocast + gradient scaling). It reports

- training throughput (clips per second, forward + backward + step, median over
  timed steps after warm-up),
- inference latency (ms for one clip, and per clip in a batch),
- peak memory (CUDA: ``torch.cuda.max_memory_allocated`` during training; CPU:
  growth of the process's maximum resident set size, a rough figure).

The reference row, in the same process, is plain fp32 of the same input and
batch; every row gives its ratio to it. (fp32 convolutions use TF32 on Ampere and
later by default.)

Run: ``python benchmarks/networks_mol.py [--cpu-width 0.125] [--batch-size 8]``
(writes ``benchmarks/results/networks_mol.{md,json}``). Without CUDA the rows use
``--cpu-width`` and a batch of 2 to stay short.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from _timing import time_training  # noqa: E402

from skmer.models._mol import MOLLoss  # noqa: E402
from skmer.models.nets.mol import MOL  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PAPER_INPUT = (8, 128, 128)


def _targets(n, t, h, w, n_classes, device):
    g = torch.Generator().manual_seed(0)
    lm = torch.rand(n, t - 1, 68, 2, generator=g) - 0.5
    return {
        "y": torch.randint(0, n_classes, (n,), generator=g).to(device),
        "flow": torch.randn(n, t - 1, 2, h, w, generator=g).to(device),
        "landmarks": lm.to(device),
        "landmark_mask": torch.ones(n, t - 1).to(device),
    }


def benchmark_mol(device="cuda", amp=True, *, width=1.0, batch_size=8,
                  input_shape=PAPER_INPUT, n_classes=3, steps=10, warmup=3,
                  latency_repeats=20):
    """Time MOL's training step and inference on one device.

    Parameters
    ----------
    device : str, default="cuda"
        Torch device.
    amp : bool, default=True
        float16 autocast with gradient scaling (CUDA only; ignored on the CPU).
    width : float, default=1.0
        Width of the network (1.0 is the paper's).
    batch_size : int, default=8
        Clips per training step.
    input_shape : tuple of int, default=(8, 128, 128)
        ``(frames, height, width)`` of a clip.
    n_classes : int, default=3
        Classes.
    steps : int, default=10
        Timed training steps.
    warmup : int, default=3
        Untimed steps first.
    latency_repeats : int, default=20
        Timed single-clip and batch forwards.

    Returns
    -------
    result : dict
        ``train_clips_per_s``, ``latency_ms_1``, ``latency_ms_per_clip_batch``,
        ``peak_mem_mb``, ``params`` and the settings.
    """
    device = torch.device(device)
    cuda = device.type == "cuda"
    amp = bool(amp and cuda)
    t, h, w = input_shape
    torch.manual_seed(0)
    if cuda:
        torch.backends.cudnn.benchmark = True
    net = MOL(n_classes=n_classes, n_frames=t, input_size=(h, w), width=width)
    net = net.to(device)
    if cuda:
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d):
                m.to(memory_format=torch.channels_last)
    params = sum(p.numel() for p in net.parameters())
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=1e-3)
    x = torch.randn(batch_size, 1, t, h, w, device=device)
    y = _targets(batch_size, t, h, w, n_classes, device)
    timing = time_training(net, x, y, MOLLoss().to(device), opt, device=device,
                           amp=amp, warmup=warmup, steps=steps,
                           latency_repeats=latency_repeats, forward_warmup=3)
    return {
        "device": str(device),
        "amp": amp,
        "width": width,
        "batch_size": batch_size,
        "input_shape": list(input_shape),
        "params": params,
        "train_step_s": timing["train_step_s"],
        "train_clips_per_s": timing["train_clips_per_s"],
        "latency_ms_1": timing["latency_ms_1"],
        "latency_ms_per_clip_batch": timing["latency_ms_per_clip_batch"],
        "peak_mem_mb": timing["peak_memory_mb"],
    }


def _device_name(device):
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    return platform.processor() or platform.machine()


def main(argv=None):
    """Run the benchmark and write ``benchmarks/results/networks_mol.{md,json}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-width", type=float, default=0.125)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    width = 1.0 if cuda else args.cpu_width
    batch = args.batch_size or (16 if cuda else 2)
    steps = args.steps or (10 if cuda else 2)
    rows = [benchmark_mol(device, amp=False, width=width, batch_size=batch,
                          steps=steps, warmup=2 if cuda else 1,
                          latency_repeats=20 if cuda else 2)]
    if cuda:
        rows.append(benchmark_mol(device, amp=True, width=width, batch_size=batch,
                                  steps=steps, warmup=2))
    ref = rows[0]
    for r in rows:
        r["train_speedup_vs_fp32"] = r["train_clips_per_s"] / ref["train_clips_per_s"]
        r["latency_ratio_vs_fp32"] = r["latency_ms_1"] / ref["latency_ms_1"]
        r["memory_ratio_vs_fp32"] = (r["peak_mem_mb"] / ref["peak_mem_mb"]
                                     if ref["peak_mem_mb"] > 0 else float("nan"))
    meta = {"device_name": _device_name(device), "torch": torch.__version__,
            "python": platform.python_version()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "networks_mol.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    lines = [
        "# MOL: training throughput, inference latency, peak memory",
        "",
        f"Device: {meta['device_name']} (torch {meta['torch']}). Input: "
        f"{'x'.join(map(str, PAPER_INPUT))} grey clips, 3 classes, joint loss, "
        "AdamW. Reference row: fp32 in the same process.",
        "",
        "| precision | width | params | batch | train clips/s | speed-up | "
        "latency 1 clip (ms) | per clip in batch (ms) | peak memory (MiB) | "
        "memory ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {'AMP fp16' if r['amp'] else 'fp32'} | {r['width']} | "
            f"{r['params']:,} | {r['batch_size']} | {r['train_clips_per_s']:.1f} | "
            f"{r['train_speedup_vs_fp32']:.2f} | {r['latency_ms_1']:.1f} | "
            f"{r['latency_ms_per_clip_batch']:.2f} | {r['peak_mem_mb']:.0f} | "
            f"{r['memory_ratio_vs_fp32']:.2f} |"
        )
    lines += ["", "MOL reads raw frames (plus flow and landmark targets made from "
              "them), so it cannot run on the MEGC2019 composite's onset-apex flow "
              "images: no LOSO row on that data. Command: `python "
              "benchmarks/networks_mol.py --batch-size 16 --steps 10`."]
    if not cuda:
        lines += ["", f"No CUDA: CPU rows at width {width} (not the paper's network; "
                  "CPU peak memory is the growth of the maximum RSS, rough)."]
    (RESULTS / "networks_mol.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))  # a script: the table is its output
    return rows


if __name__ == "__main__":
    main()
