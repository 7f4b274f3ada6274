"""Cost of MSRes3D: training throughput, inference latency and peak memory.

:func:`benchmark_msres3d` times :class:`skmer.models.nets.msres3d.MSRes3D` at the
paper's input size (3 x 16 x 134 x 134 stacked flow, ``width=1``, 3 classes) as
``MSRes3DClassifier`` runs it: Adam, the summed four-head cross-entropy, and on
CUDA ``channels_last_3d`` with or without float16 mixed precision (autocast +
gradient scaling). It reports

- training throughput (clips per second, forward + backward + step, median over
  timed steps after warm-up),
- inference latency (ms for one clip, and per clip in a batch),
- peak memory (CUDA: ``torch.cuda.max_memory_allocated`` during training; CPU:
  growth of the process's maximum resident set size, a rough figure).

The reference run in the same process is plain fp32 (contiguous layout, no
cuDNN autotuning) of the same input and batch; every row gives its ratio to it.
The classifier's CUDA setting is mixed precision + ``channels_last_3d`` +
``cudnn.benchmark``. (fp32 convolutions use TF32 tensor cores on Hopper by
default, so mixed precision gains little speed there; it saves memory.)
A second configuration times the T=1 variant on 3 x 28 x 28 flow images (the
MEGC2019 composite) to estimate the cost of a leave-one-subject-out run: one
epoch over 435 training samples per fold, times 68 folds. On CUDA,
:func:`benchmark_classifier_epoch` also times ``MSRes3DClassifier.fit`` end to
end (skorch, augmentation) and checks its mixed-precision and layout settings.

Run: ``python benchmarks/networks_msres3d.py [--cpu-width 0.25]`` (writes
``benchmarks/results/networks_msres3d.{md,json}``). Without CUDA the paper-size
rows use ``--cpu-width`` (default 0.25) and a small batch to stay short.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from _timing import time_training  # noqa: E402

from skmer.models.nets.msres3d import (  # noqa: E402
    MSRes3D,
    MultiHeadCrossEntropyLoss,
)

RESULTS = ROOT / "benchmarks" / "results"
PAPER_INPUT = (3, 16, 134, 134)
COMPOSITE_INPUT = (3, 28, 28)
LOSO_TRAIN, LOSO_FOLDS = 435, 68


def benchmark_msres3d(device="cuda", amp=True, *, width=1.0, batch_size=8,
                      input_shape=PAPER_INPUT, n_classes=3, warmup=3, steps=10,
                      latency_repeats=10, seed=0, channels_last=True,
                      cudnn_benchmark=False):
    """Time training and inference of MSRes3D on random inputs.

    Parameters
    ----------
    device : str or torch.device, default="cuda"
        Where to run.
    amp : bool, default=True
        float16 autocast with gradient scaling (CUDA only; ignored on the CPU).
    width : float, default=1.0
        ``MSRes3D(width=...)``.
    batch_size : int, default=8
        Training batch size.
    input_shape : tuple of int, default=(3, 16, 134, 134)
        ``(C, T, H, W)``, or ``(C, H, W)`` for the T=1 variant.
    n_classes : int, default=3
        Classes.
    warmup, steps : int, default=3, 10
        Untimed and timed training steps.
    latency_repeats : int, default=10
        Timed single-clip and batch forwards.
    seed : int, default=0
        Seed of the weights and inputs.
    channels_last : bool, default=True
        ``channels_last_3d`` weights and inputs on CUDA (as the classifier does).
    cudnn_benchmark : bool, default=False
        ``torch.backends.cudnn.benchmark`` during the run.

    Returns
    -------
    result : dict
        ``train_clips_per_s``, ``latency_ms_1`` (one clip),
        ``latency_ms_per_clip_batch`` (per clip in a batch of ``batch_size``),
        ``peak_memory_mb``, ``n_params`` and the settings.
    """
    device = torch.device(device)
    cuda = device.type == "cuda"
    amp = bool(amp and cuda)
    torch.manual_seed(seed)
    flat = len(input_shape) == 3
    net = MSRes3D(in_channels=input_shape[0], n_classes=n_classes, width=width,
                  temporal_strides=not flat).to(device)
    torch.backends.cudnn.benchmark = bool(cudnn_benchmark)
    fmt = (torch.channels_last_3d if cuda and channels_last
           else torch.contiguous_format)
    net = net.to(memory_format=fmt)
    n_params = sum(p.numel() for p in net.parameters())
    opt = torch.optim.Adam(net.parameters(), lr=1e-5)
    shape5 = (input_shape[0], 1, *input_shape[1:]) if flat else input_shape
    x = torch.randn(batch_size, *shape5, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, n_classes, (batch_size,), device=device)
    timing = time_training(net, x, y, MultiHeadCrossEntropyLoss(), opt,
                           device=device, amp=amp, warmup=warmup, steps=steps,
                           latency_repeats=latency_repeats, forward_warmup=2)
    return {
        "device": str(device), "amp": amp, "width": width,
        "channels_last_3d": fmt == torch.channels_last_3d,
        "cudnn_benchmark": bool(cudnn_benchmark),
        "batch_size": batch_size, "input_shape": list(input_shape),
        "n_params": n_params,
        **{k: v for k, v in timing.items() if k != "train_step_s"},
    }


def benchmark_classifier_epoch(device="cuda", *, n_samples=64, width=1.0,
                               input_shape=PAPER_INPUT, batch_size=16, seed=0):
    """Time one epoch of ``MSRes3DClassifier.fit`` end to end (skorch, augmentation).

    Parameters
    ----------
    device : str, default="cuda"
        Device of the classifier (mixed precision and ``channels_last_3d`` on CUDA).
    n_samples : int, default=64
        Random training clips.
    width : float, default=1.0
        ``module__width``.
    input_shape : tuple of int, default=(3, 16, 134, 134)
        Shape of one sample.
    batch_size : int, default=16
        Mini-batch size (the classifier's default).
    seed : int, default=0
        Seed of the data and of the classifier.

    Returns
    -------
    result : dict
        ``fit_clips_per_s`` (second epoch), ``predict_clips_per_s`` and whether the
        probabilities are finite and sum to 1.
    """
    import numpy as np

    from skmer.models._msres3d import MSRes3DClassifier

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, *input_shape)).astype(np.float32)
    y = np.arange(n_samples) % 3
    clf = MSRes3DClassifier(module__width=width, max_epochs=2, batch_size=batch_size,
                            device=device, random_state=seed)
    clf.fit(X, y)
    epoch_s = clf.history[-1]["dur"]
    t0 = time.perf_counter()
    proba = clf.predict_proba(X)
    pred_s = time.perf_counter() - t0
    return {
        "name": f"MSRes3DClassifier fit, {'x'.join(map(str, input_shape))}",
        "device": str(clf.device_), "amp": clf.grad_scaler_ is not None,
        "width": width, "batch_size": batch_size,
        "fit_clips_per_s": n_samples / epoch_s,
        "predict_clips_per_s": n_samples / pred_s,
        "proba_ok": bool(np.isfinite(proba).all()
                         and np.allclose(proba.sum(1), 1, atol=1e-4)),
        "weights_channels_last_3d": bool(
            clf.module_.stem[0].weight.is_contiguous(
                memory_format=torch.channels_last_3d)),
    }


def main(argv=None):
    """Run the benchmark and write ``benchmarks/results/networks_msres3d.*``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-width", type=float, default=0.25)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--explore", action="store_true",
                        help="CUDA: also layouts, cudnn.benchmark and batch 32")
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    rows = []
    if cuda:
        fast = dict(channels_last=True, cudnn_benchmark=True)
        configs = [
            ("paper 3x16x134x134, fp32 (reference)",
             dict(amp=False, channels_last=False)),
            ("paper, fp32, channels_last_3d, cudnn.benchmark",
             dict(amp=False, **fast)),
            ("paper, mixed, channels_last_3d, cudnn.benchmark (classifier)",
             dict(amp=True, **fast)),
            ("composite T=1 3x28x28, fp32 (reference)",
             dict(amp=False, batch_size=32, input_shape=COMPOSITE_INPUT,
                  channels_last=False)),
            ("composite T=1, mixed, channels_last_3d, cudnn.benchmark (classifier)",
             dict(amp=True, batch_size=32, input_shape=COMPOSITE_INPUT, **fast)),
        ]
        if args.explore:
            configs += [
                ("paper, mixed, contiguous", dict(amp=True, channels_last=False)),
                ("paper, mixed, channels_last_3d", dict(amp=True)),
                ("paper, fp32, batch 32 (reference)",
                 dict(amp=False, channels_last=False, batch_size=32)),
                ("paper, mixed, channels_last_3d, cudnn.benchmark, batch 32",
                 dict(amp=True, batch_size=32, **fast)),
            ]
        steps = args.steps or 10
    else:
        w = args.cpu_width
        configs = [
            (f"paper 3x16x134x134, fp32, width {w}",
             dict(amp=False, width=w, batch_size=2)),
            (f"composite T=1 3x28x28, fp32, width {w}",
             dict(amp=False, width=w, batch_size=32, input_shape=COMPOSITE_INPUT)),
        ]
        steps = args.steps or 3
    for name, cfg in configs:
        res = benchmark_msres3d(device, steps=steps, warmup=2, **cfg)
        res["name"] = name
        if cfg.get("input_shape") == COMPOSITE_INPUT:
            epoch_s = LOSO_TRAIN / res["train_clips_per_s"]
            res["loso_s_per_epoch_fold"] = epoch_s
        rows.append(res)
        print(name, {k: round(v, 3) if isinstance(v, float) else v
                     for k, v in res.items()}, flush=True)
    clf_rows = []
    try:
        import skorch  # noqa: F401
    except ImportError:
        print("skorch absent: classifier rows skipped", flush=True)
    else:
        kw = {} if cuda else {"width": args.cpu_width, "batch_size": 2,
                              "n_samples": 4}
        for shape in (PAPER_INPUT, COMPOSITE_INPUT):
            res = benchmark_classifier_epoch(device, input_shape=shape, **kw)
            clf_rows.append(res)
            print(res, flush=True)
    # ratios to the fp32 reference of the same configuration
    for res in rows:
        ref = next((r for r in rows if r["name"].endswith("(reference)") and all(
            r[k] == res[k] for k in ("input_shape", "batch_size"))), None)
        res["speedup_vs_fp32"] = (res["train_clips_per_s"] / ref["train_clips_per_s"]
                                  if ref else None)
    meta = {
        "platform": platform.platform(), "python": platform.python_version(),
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "cpu_threads": torch.get_num_threads(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "networks_msres3d.json").write_text(
        json.dumps({"meta": meta, "rows": rows, "classifier": clf_rows}, indent=2))
    lines = [
        "# MSRes3D cost",
        "",
        f"Device: {meta['gpu'] or 'CPU'} ({meta['platform']}, torch {meta['torch']}, "
        f"{meta['cpu_threads']} CPU threads).",
        "",
        "| configuration | params | batch | train clips/s | x reference | "
        "latency 1 clip (ms) | per clip in batch (ms) | peak memory (MiB) | "
        "LOSO epoch x fold (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        sp = "" if r["speedup_vs_fp32"] is None else f"{r['speedup_vs_fp32']:.2f}"
        loso = r.get("loso_s_per_epoch_fold")
        lines.append(
            f"| {r['name']} | {r['n_params']:,} | {r['batch_size']} | "
            f"{r['train_clips_per_s']:.1f} | {sp} | {r['latency_ms_1']:.1f} | "
            f"{r['latency_ms_per_clip_batch']:.2f} | {r['peak_memory_mb']:.0f} | "
            f"{'' if loso is None else f'{loso:.2f}'} |"
        )
    if clf_rows:
        lines += ["", "| classifier (skorch, random data) | device | mixed precision | "
                  "fit clips/s | predict clips/s | probabilities ok | "
                  "channels_last_3d |", "|---|---|---|---|---|---|---|"]
        for r in clf_rows:
            lines.append(
                f"| {r['name']}, width {r['width']}, batch {r['batch_size']} | "
                f"{r['device']} | {r['amp']} | {r['fit_clips_per_s']:.1f} | "
                f"{r['predict_clips_per_s']:.1f} | {r['proba_ok']} | "
                f"{r['weights_channels_last_3d']} |")
    lines += [
        "",
        "LOSO epoch x fold: seconds for one epoch over the 435 training images of a "
        "MEGC2019 composite fold; a run costs that x epochs x 68 folds. Peak memory "
        "on the CPU is the growth of the process's maximum RSS (rough).",
    ]
    (RESULTS / "networks_msres3d.md").write_text("\n".join(lines) + "\n")
    return rows


if __name__ == "__main__":
    main()
