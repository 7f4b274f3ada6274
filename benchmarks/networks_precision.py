"""MSRes3D training throughput: IEEE fp32 vs TF32 vs mixed precision (CUDA).

PyTorch runs fp32 convolutions on Hopper's TF32 tensor cores by default
(``torch.backends.cudnn.allow_tf32 = True``), which is already a reduced-precision
mode.  This script times :func:`benchmarks.networks_msres3d.benchmark_msres3d` at the
paper's input size (3 x 16 x 134 x 134, batch 32) three ways in one process:

1. IEEE fp32 (``allow_tf32 = False`` for cuDNN and matmul) -- the reference,
2. fp32 with PyTorch's default TF32 convolutions,
3. float16 mixed precision + ``channels_last_3d`` + ``cudnn.benchmark`` (what
   ``MSRes3DClassifier`` does on CUDA),

and writes ``benchmarks/results/networks_precision.{md,json}`` with ratios to the
reference.  Run: ``python benchmarks/networks_precision.py`` (needs CUDA).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402
from networks_msres3d import benchmark_msres3d  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def main():
    if not torch.cuda.is_available():
        print("CUDA is not available: nothing to measure.")
        return 1
    rows = []
    for name, tf32, amp, cl, bench in [
        ("IEEE fp32 (TF32 off), contiguous (reference)", False, False, False, False),
        ("fp32, TF32 convolutions (PyTorch default)", True, False, False, False),
        ("mixed fp16 + channels_last_3d + cudnn.benchmark", True, True, True, True),
    ]:
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
        r = benchmark_msres3d("cuda", amp, batch_size=32, steps=8, warmup=3,
                              latency_repeats=5, channels_last=cl,
                              cudnn_benchmark=bench)
        rows.append({"configuration": name, **{k: r[k] for k in (
            "train_clips_per_s", "peak_memory_mb", "latency_ms_1")}})
        print(rows[-1], flush=True)
    ref = rows[0]["train_clips_per_s"]
    for r in rows:
        r["ratio"] = r["train_clips_per_s"] / ref
    device = torch.cuda.get_device_name(0)
    lines = ["# MSRes3D training throughput by precision", "",
             f"Device: {device}, torch {torch.__version__}; paper input "
             "3x16x134x134, batch 32, width 1 (71,110,692 parameters).", "",
             "| configuration | train clips/s | x IEEE fp32 | peak memory (MiB) |",
             "|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['configuration']} | {r['train_clips_per_s']:.1f} | "
                     f"{r['ratio']:.2f} | {r['peak_memory_mb']:.0f} |")
    lines += ["", "Command: `python benchmarks/networks_precision.py`"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "networks_precision.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "networks_precision.json").write_text(json.dumps(
        {"device": device, "torch": torch.__version__, "rows": rows}, indent=2))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
