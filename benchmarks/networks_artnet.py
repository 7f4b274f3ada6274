"""Cost of ARTNet: training throughput, inference latency and peak memory.

:func:`benchmark_artnet` times :class:`skmer.models.nets.artnet.ARTNet` as
``ARTNetClassifier`` trains it (AdamW, cross-entropy; on CUDA ``channels_last``
and, with ``amp=True``, float16 autocast with gradient scaling) on random inputs:

- ``flow_source="raft"``: onset/apex grey pairs, amplified at 4 factors inside the
  network, a frozen RAFT (large or small, random weights: the cost of pretrained
  ones is the same) on every amplified pair, then the token CNN and the
  transformer.  The paper's input size could not be read (only its abstract was
  available); 224 x 224 frames are used as the "paper size" here (the size of the
  MEGC2019 apex crops; RAFT needs multiples of 8).
- ``flow_source="precomputed"``: 4 levels of (u, v, strain) flow, at 28 x 28 (the
  MEGC2019 composite size) and 224 x 224.

It reports training throughput (clips per second, forward + backward + step,
median over timed steps after warm-up), inference latency (one clip, and per clip
in a batch) and peak memory (CUDA: ``torch.cuda.max_memory_allocated`` during
training; CPU: growth of the maximum resident set size, rough).  Rows with
``amp=True`` give their speed-up over the fp32 row of the same configuration,
measured in the same process.

Run: ``python benchmarks/networks_artnet.py [--steps N]`` (writes
``benchmarks/results/networks_artnet.{md,json}``).  Without CUDA the RAFT rows use
RAFT-small at 64 x 64 and small batches to stay short.
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

from skmer.models.nets.artnet import ARTNet  # noqa: E402
from skmer.models.nets.raft import RAFT  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
ALPHAS = (0.0, 2.0, 4.0, 8.0)
PAPER_SIZE = 224
COMPOSITE_SIZE = 28


def benchmark_artnet(device="cuda", amp=True, *, flow_source="raft", raft="large",
                     size=PAPER_SIZE, alphas=ALPHAS, batch_size=8, raft_iters=12,
                     n_classes=3, warmup=2, steps=5, latency_repeats=5, seed=0):
    """Time training and inference of ARTNet on random inputs.

    Parameters
    ----------
    device : str or torch.device, default="cuda"
        Where to run.
    amp : bool, default=True
        float16 autocast with gradient scaling (CUDA only; ignored on the CPU).
    flow_source : {"raft", "precomputed"}, default="raft"
        In-network amplification + RAFT on ``(N, 2, size, size)`` frame pairs, or
        precomputed ``(N, n_alphas, 3, size, size)`` flow.
    raft : {"large", "small"}, default="large"
        RAFT variant (random weights) of the ``"raft"`` path.
    size : int, default=224
        Frame / flow side in pixels.
    alphas : sequence of float, default=(0, 2, 4, 8)
        Amplification factors (one token each).
    batch_size : int, default=8
        Training batch size.
    raft_iters : int, default=12
        RAFT update iterations.
    n_classes : int, default=3
        Classes.
    warmup, steps : int, default=2, 5
        Untimed and timed training steps.
    latency_repeats : int, default=5
        Timed single-clip and batch forwards.
    seed : int, default=0
        Seed of the weights and inputs.

    Returns
    -------
    result : dict
        ``train_clips_per_s``, ``latency_ms_1``, ``latency_ms_per_clip_batch``,
        ``peak_memory_mb``, ``n_params`` (trainable), ``n_params_frozen`` and the
        settings.
    """
    import tempfile

    device = torch.device(device)
    cuda = device.type == "cuda"
    amp = bool(amp and cuda)
    torch.manual_seed(seed)
    kwargs = dict(n_classes=n_classes, alphas=tuple(alphas), flow_source=flow_source)
    if flow_source == "raft":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "raft.pth"
            torch.save(RAFT(raft).state_dict(), path)
            net = ARTNet(raft_weights=path, raft_iters=raft_iters, **kwargs)
        x = torch.rand(batch_size, 2, size, size)
    else:
        net = ARTNet(in_channels=3, **kwargs)
        x = torch.randn(batch_size, len(alphas), 3, size, size)
    net = net.to(device)
    if cuda:
        net = net.to(memory_format=torch.channels_last)
    x = x.to(device)
    y = torch.randint(0, n_classes, (batch_size,), device=device)
    n_params = sum(p.numel() for p in net.parameters() if p.requires_grad)
    n_frozen = sum(p.numel() for p in net.parameters() if not p.requires_grad)
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-3)
    timing = time_training(net, x, y, torch.nn.CrossEntropyLoss(), opt,
                           device=device, amp=amp, warmup=warmup, steps=steps,
                           latency_repeats=latency_repeats)
    return {
        "device": str(device), "amp": amp, "flow_source": flow_source,
        "raft": raft if flow_source == "raft" else None, "size": size,
        "n_alphas": len(alphas), "batch_size": batch_size,
        "raft_iters": raft_iters if flow_source == "raft" else None,
        "n_params": n_params, "n_params_frozen": n_frozen,
        **{k: v for k, v in timing.items() if k != "train_step_s"},
    }


def main(argv=None):
    """Run the benchmark and write ``benchmarks/results/networks_artnet.*``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    if cuda:
        base = [
            ("RAFT-large path, 2x224x224 pairs", dict(flow_source="raft",
                                                      raft="large", batch_size=8)),
            ("RAFT-small path, 2x224x224 pairs", dict(flow_source="raft",
                                                      raft="small", batch_size=8)),
            ("precomputed 4x3x224x224 flow", dict(flow_source="precomputed",
                                                  batch_size=32)),
            ("precomputed 4x3x28x28 flow (composite size)",
             dict(flow_source="precomputed", size=COMPOSITE_SIZE, batch_size=64)),
        ]
        configs = [(f"{n}, {'mixed' if a else 'fp32'}", dict(c, amp=a))
                   for n, c in base for a in (False, True)]
        steps = args.steps or 5
    else:
        configs = [
            ("RAFT-small path, 2x64x64 pairs, 4 iters, fp32",
             dict(flow_source="raft", raft="small", size=64, batch_size=2,
                  raft_iters=4, amp=False)),
            ("precomputed 4x3x28x28 flow (composite size), fp32",
             dict(flow_source="precomputed", size=COMPOSITE_SIZE, batch_size=64,
                  amp=False)),
        ]
        steps = args.steps or 3
    rows = []
    for name, cfg in configs:
        res = benchmark_artnet(device, steps=steps, **cfg)
        res["name"] = name
        rows.append(res)
        print(name, {k: round(v, 3) if isinstance(v, float) else v
                     for k, v in res.items()}, flush=True)
    keys = ("flow_source", "raft", "size", "batch_size", "raft_iters")
    for res in rows:
        ref = next((r for r in rows if not r["amp"]
                    and all(r[k] == res[k] for k in keys)), None)
        res["speedup_vs_fp32"] = (res["train_clips_per_s"] / ref["train_clips_per_s"]
                                  if ref else None)
    meta = {
        "platform": platform.platform(), "python": platform.python_version(),
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "cpu_threads": torch.get_num_threads(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "networks_artnet.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = [
        "# ARTNet cost",
        "",
        f"Device: {meta['gpu'] or 'CPU'} ({meta['platform']}, torch {meta['torch']}, "
        f"{meta['cpu_threads']} CPU threads). 4 amplification levels "
        f"{list(ALPHAS)}; RAFT with random weights (same cost as pretrained).",
        "",
        "| configuration | trainable params | frozen params | batch | train clips/s | "
        "x fp32 | latency 1 clip (ms) | per clip in batch (ms) | peak memory (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        sp = "" if r["speedup_vs_fp32"] is None else f"{r['speedup_vs_fp32']:.2f}"
        lines.append(
            f"| {r['name']} | {r['n_params']:,} | {r['n_params_frozen']:,} | "
            f"{r['batch_size']} | {r['train_clips_per_s']:.1f} | {sp} | "
            f"{r['latency_ms_1']:.1f} | {r['latency_ms_per_clip_batch']:.2f} | "
            f"{r['peak_memory_mb']:.0f} |")
    lines += [
        "",
        "The paper's input size and recipe could not be read (abstract only); 224 x "
        "224 is skmer's choice. Peak memory on the CPU is the growth of the "
        "process's maximum RSS (rough).",
    ]
    (RESULTS / "networks_artnet.md").write_text("\n".join(lines) + "\n")
    return rows


if __name__ == "__main__":
    main()
