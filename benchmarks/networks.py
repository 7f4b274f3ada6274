"""Cost of skmer's networks: training throughput, inference latency, peak memory.

One command for every network in :mod:`skmer.models.nets`, on the current device
(CUDA when available, else the CPU), at the papers' input sizes:

- MSRes3D: 3 x 16 x 134 x 134 stacked flow, ``width=1``
  (:func:`networks_msres3d.benchmark_msres3d`);
- ARTNet: onset/apex grey pairs of 224 x 224 through the in-network amplification
  and a frozen RAFT, as ``benchmarks/networks_artnet.py`` defines its "paper size"
  (:func:`networks_artnet.benchmark_artnet`);
- MOL: 8 grey frames of 128 x 128, ``width=1``, joint loss
  (:func:`networks_mol.benchmark_mol`);
- STSTNet (3 x 28 x 28 flow) and OFF-ApexNet (2 x 28 x 28 flow) as small
  references (:func:`benchmark_flow_cnn`, the same loop as the classifiers).

For each it records training throughput (clips per second, forward + backward +
optimiser step, median over timed steps after warm-up), inference latency (one
clip, and per clip in a batch), peak memory and parameter counts, in fp32 and, on
CUDA, in float16 mixed precision (autocast + gradient scaling, what the skmer
classifiers use on CUDA). Every row gives its ratio to the fp32 reference of the
same network, input and batch, measured in the same process; on CUDA MSRes3D also
gets an IEEE fp32 row (TF32 off), because PyTorch runs fp32 convolutions on TF32
tensor cores on Ampere and later by default.

Peak memory: on CUDA ``torch.cuda.max_memory_allocated`` during training; on the
CPU the growth of the process's resident-set high-water mark over the run
(weights, optimiser state and activations; the mark is reset through
``/proc/self/clear_refs`` before each run, so rows do not hide behind earlier
ones).

Results go to ``benchmarks/results/networks.{md,json}``, keyed by device name
(the GPU's name, or the CPU model and core count). Sections of other devices
already in ``networks.json`` are kept, and GPU rows measured in an earlier session
by the per-network scripts (``networks_msres3d.json``, ``networks_artnet.json``,
``networks_mol.json``, ``networks_precision.json``) are imported as their
device's section, labelled with their source files. The Markdown file opens with
the MSRes3D target of skmer issue 5 (mixed precision >= 1.8x fp32 training
throughput on an H100) and whether the recorded H100 numbers meet it.

Run: ``python benchmarks/networks.py [--steps N] [--batch-size B]
[--networks msres3d,artnet,mol,ststnet,offapexnet] [--out-dir DIR] [--tiny]``.
On the CPU the defaults are short (batch 2 for the large networks, one warm-up
and one timed step, one timed forward, ARTNet with RAFT-small unless
``--artnet-raft large``); ``--tiny`` shrinks widths and inputs for a smoke test
(its rows are not the papers' networks). ``--threads 1`` avoids oversubscribing
a loaded CPU.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import gc
import json
import os
import platform
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402
from _timing import time_training  # noqa: E402
from networks_artnet import PAPER_SIZE as ARTNET_SIZE  # noqa: E402
from networks_artnet import benchmark_artnet  # noqa: E402
from networks_mol import PAPER_INPUT as MOL_INPUT  # noqa: E402
from networks_mol import benchmark_mol  # noqa: E402
from networks_msres3d import PAPER_INPUT as MSRES3D_INPUT  # noqa: E402
from networks_msres3d import benchmark_msres3d  # noqa: E402

from skmer.models.nets.offapexnet import OffApexNet  # noqa: E402
from skmer.models.nets.ststnet import STSTNet  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
NETWORKS = ("msres3d", "artnet", "mol", "ststnet", "offapexnet")
LABELS = {"msres3d": "MSRes3D", "artnet": "ARTNet", "mol": "MOL",
          "ststnet": "STSTNet", "offapexnet": "OFF-ApexNet"}
FLOW_INPUT = {"ststnet": (3, 28, 28), "offapexnet": (2, 28, 28)}
PER_NETWORK_FILES = ("networks_msres3d.json", "networks_artnet.json",
                     "networks_mol.json", "networks_precision.json")
TARGET_RATIO = 1.8
FP32, FP32_IEEE, MIXED = "fp32", "fp32 IEEE (TF32 off)", "mixed fp16"


# --------------------------------------------------------------------- timing


def benchmark_flow_cnn(device="cuda", amp=True, *, network="ststnet",
                       batch_size=64, warmup=3, steps=10, latency_repeats=10,
                       seed=0):
    """Time training and inference of STSTNet or OFF-ApexNet on random flow.

    The step is the classifiers' (``STSTNetClassifier``, ``OffApexNetClassifier``):
    AdamW, cross-entropy, and on CUDA ``channels_last`` with, if ``amp``, float16
    autocast and gradient scaling.

    Parameters
    ----------
    device : str or torch.device, default="cuda"
        Where to run.
    amp : bool, default=True
        float16 mixed precision (CUDA only; ignored on the CPU).
    network : {"ststnet", "offapexnet"}, default="ststnet"
        STSTNet on ``(3, 28, 28)`` (u, v, strain) or OFF-ApexNet on ``(2, 28, 28)``
        (u, v) flow images, the papers' input sizes.
    batch_size : int, default=64
        Training batch size (the classifiers' default).
    warmup, steps : int, default=3, 10
        Untimed and timed training steps.
    latency_repeats : int, default=10
        Timed single-clip and batch forwards.
    seed : int, default=0
        Seed of the weights and inputs.

    Returns
    -------
    result : dict
        ``train_clips_per_s``, ``latency_ms_1``, ``latency_ms_per_clip_batch``,
        ``peak_memory_mb`` (CUDA only, else ``None``), ``n_params`` and settings.

    References
    ----------
    .. [1] S.-T. Liong et al., "Shallow triple stream three-dimensional CNN
       (STSTNet) for micro-expression recognition", FG 2019,
       :doi:`10.1109/FG.2019.8756567`.
    .. [2] Y. S. Gan et al., "OFF-ApexNet on micro-expression recognition
       system", Signal Process. Image Commun. 74, 2019,
       :doi:`10.1016/j.image.2019.02.005`.
    """
    if network not in FLOW_INPUT:
        raise ValueError(f"network must be one of {sorted(FLOW_INPUT)}; "
                         f"got {network!r}.")
    device = torch.device(device)
    cuda = device.type == "cuda"
    amp = bool(amp and cuda)
    torch.manual_seed(seed)
    shape = FLOW_INPUT[network]
    net = (STSTNet(in_channels=shape[0]) if network == "ststnet"
           else OffApexNet()).to(device)
    fmt = torch.channels_last if cuda else torch.contiguous_format
    net = net.to(memory_format=fmt)
    x = torch.randn(batch_size, *shape, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, 3, (batch_size,), device=device)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    timing = time_training(net, x, y, torch.nn.CrossEntropyLoss(), opt,
                           device=device, amp=amp, warmup=warmup, steps=steps,
                           latency_repeats=latency_repeats, cpu_peak=False)
    return {
        "device": str(device), "amp": amp, "batch_size": batch_size,
        "input_shape": list(shape),
        "n_params": sum(p.numel() for p in net.parameters()),
        **{k: v for k, v in timing.items() if k != "train_step_s"},
    }


def _proc_status_mb(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_rss_peak():
    """Reset the resident-set high-water mark (Linux >= 4.0); True if done.

    Freed heap memory is first handed back to the system (glibc ``malloc_trim``),
    so that the next run's growth is not hidden in the previous run's free lists.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _shape(seq):
    return "x".join(str(s) for s in seq)


def _configs(device, args):
    """Return ``(network, precision, label, callable)`` for this device."""
    cuda = device == "cuda"
    tiny = args.tiny
    steps = args.steps or (10 if cuda else 1)
    warmup = 3 if cuda else 0 if tiny else 1
    reps = 10 if cuda else 1

    def batch(cuda_default, cpu_default):
        return args.batch_size or (cuda_default if cuda else cpu_default)

    common = dict(steps=steps, warmup=warmup, latency_repeats=reps)
    precisions = [FP32, MIXED] if cuda else [FP32]
    out = []
    if "msres3d" in args.networks:
        width = 0.0625 if tiny else 1.0
        shape = (3, 9, 17, 17) if tiny else MSRES3D_INPUT
        b = batch(32, 2)
        variants = ([(FP32_IEEE, dict(amp=False, channels_last=False))] if cuda
                    else [])
        variants += [(FP32, dict(amp=False, channels_last=False))]
        if cuda:  # the classifier's CUDA setting
            variants += [(MIXED, dict(amp=True, channels_last=True,
                                      cudnn_benchmark=True))]
        for prec, kw in variants:
            out.append((
                "msres3d", prec,
                dict(input=_shape(shape), width=width, batch_size=b,
                     configuration="contiguous" if not kw["channels_last"]
                     else "channels_last_3d, cudnn.benchmark (classifier)"),
                partial(benchmark_msres3d, device, width=width, batch_size=b,
                        input_shape=shape, **kw, **common),
            ))
    if "artnet" in args.networks:
        size = 32 if tiny else ARTNET_SIZE
        raft = args.artnet_raft or ("large" if cuda else "small")
        iters = 1 if tiny else 12
        b = batch(8, 2)
        for prec in precisions:
            out.append((
                "artnet", prec,
                dict(input=f"2x{size}x{size} pairs, RAFT-{raft} ({iters} iters), "
                     "4 amplification levels", width=1.0, batch_size=b,
                     configuration="in-network flow"),
                partial(benchmark_artnet, device, prec == MIXED,
                        flow_source="raft", raft=raft, size=size, batch_size=b,
                        raft_iters=iters, **common),
            ))
    if "mol" in args.networks:
        width = 0.0625 if tiny else 1.0
        shape = (4, 24, 24) if tiny else MOL_INPUT
        b = batch(16, 2)
        for prec in precisions:
            out.append((
                "mol", prec,
                dict(input=f"{_shape(shape)} grey", width=width, batch_size=b,
                     configuration="joint loss"),
                partial(benchmark_mol, device, prec == MIXED, width=width,
                        batch_size=b, input_shape=shape, **common),
            ))
    for name in ("ststnet", "offapexnet"):
        if name not in args.networks:
            continue
        b = batch(64, 16 if tiny else 64)
        for prec in precisions:
            out.append((
                name, prec,
                dict(input=f"{_shape(FLOW_INPUT[name])} flow", width=1.0,
                     batch_size=b, configuration="classifier step"),
                partial(benchmark_flow_cnn, device, prec == MIXED, network=name,
                        batch_size=b, steps=steps, warmup=warmup,
                        latency_repeats=max(reps, 5)),
            ))
    return out


def _run(device, network, precision, info, fn):
    """Run one configuration; return a consolidated row."""
    cuda = device == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = False  # functions that want it set it
        ieee = precision == FP32_IEEE
        torch.backends.cudnn.allow_tf32 = not ieee
        torch.backends.cuda.matmul.allow_tf32 = not ieee
    gc.collect()
    reset = not cuda and _reset_rss_peak()
    rss0 = _proc_status_mb("VmRSS")
    try:
        res = fn()
    finally:
        if cuda:
            torch.backends.cudnn.allow_tf32 = True
            torch.backends.cuda.matmul.allow_tf32 = True
    if cuda:
        peak = res.get("peak_memory_mb", res.get("peak_mem_mb"))
        memory = "torch.cuda.max_memory_allocated (training)"
    elif reset and rss0 is not None:
        peak = max(0.0, _proc_status_mb("VmHWM") - rss0)
        memory = "RSS high-water growth (whole run)"
    else:  # the function's own figure: growth of ru_maxrss after the model
        peak = res.get("peak_memory_mb", res.get("peak_mem_mb"))
        memory = "ru_maxrss growth (rough)"
    return {
        "network": LABELS[network], **info, "precision": precision,
        "reference": precision == FP32,
        "classifier_setting": precision == MIXED or not cuda,
        "n_params": res.get("n_params", res.get("params")),
        "n_params_frozen": res.get("n_params_frozen", 0),
        "train_clips_per_s": res["train_clips_per_s"],
        "latency_ms_1": res["latency_ms_1"],
        "latency_ms_per_clip_batch": res["latency_ms_per_clip_batch"],
        "peak_memory_mb": peak, "peak_memory_kind": memory,
        "source": "benchmarks/networks.py",
    }


# -------------------------------------------------------- ratios and imports


def _add_ratios(rows):
    """Ratios of each row to the fp32 (and IEEE fp32) row of its group."""
    def key(r):
        return (r["source"], r["network"], r["input"], r["batch_size"], r["width"])

    for r in rows:
        group = [q for q in rows if key(q) == key(r)]
        ref = next((q for q in group if q["precision"] == FP32 and q["reference"]),
                   None)
        ieee = next((q for q in group if q["precision"] == FP32_IEEE), None)
        r["train_ratio_vs_fp32"] = (r["train_clips_per_s"] / ref["train_clips_per_s"]
                                    if ref else None)
        r["train_ratio_vs_fp32_ieee"] = (
            r["train_clips_per_s"] / ieee["train_clips_per_s"] if ieee else None)
        r["memory_ratio_vs_fp32"] = (
            r["peak_memory_mb"] / ref["peak_memory_mb"]
            if ref and r["peak_memory_mb"] is not None
            and ref["peak_memory_mb"] else None)
    return rows


def _load(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def import_per_network(results_dir=RESULTS):
    """GPU sections from the per-network scripts' JSON files, by device name.

    Parameters
    ----------
    results_dir : path-like, default=benchmarks/results
        Where ``networks_{msres3d,artnet,mol,precision}.json`` live.

    Returns
    -------
    sections : dict
        Device name -> section (``rows`` in the consolidated format, ``sources``,
        ``meta``). CPU results of those scripts are not imported.
    """
    d = Path(results_dir)
    sections = {}

    def add(device, fname, meta, rows):
        sec = sections.setdefault(device, {
            "device": device, "kind": "cuda",
            "measured_by": "per-network scripts, earlier session (imported)",
            "sources": [], "meta": meta, "rows": []})
        sec["sources"].append(f"benchmarks/results/{fname}")
        for r in rows:
            r.update(source=f"benchmarks/results/{fname}",
                     peak_memory_kind="torch.cuda.max_memory_allocated (training)")
        sec["rows"] += rows

    ms = _load(d / "networks_msres3d.json")
    if ms and ms.get("meta", {}).get("gpu"):
        rows = []
        for r in ms["rows"]:
            mixed = r["amp"]
            rows.append({
                "network": "MSRes3D", "configuration": r["name"],
                "input": _shape(r["input_shape"]), "width": r["width"],
                "batch_size": r["batch_size"],
                "precision": MIXED if mixed else FP32,
                "reference": r["name"].endswith("(reference)"),
                "classifier_setting": bool(mixed and r["channels_last_3d"]
                                           and r["cudnn_benchmark"]),
                "n_params": r["n_params"], "n_params_frozen": 0,
                "train_clips_per_s": r["train_clips_per_s"],
                "latency_ms_1": r["latency_ms_1"],
                "latency_ms_per_clip_batch": r["latency_ms_per_clip_batch"],
                "peak_memory_mb": r["peak_memory_mb"]})
        add(ms["meta"]["gpu"], "networks_msres3d.json", ms["meta"], rows)
    pr = _load(d / "networks_precision.json")
    if pr and pr.get("device"):
        rows = []
        for r in pr["rows"]:
            name = r["configuration"]
            prec = (FP32_IEEE if name.startswith("IEEE") else
                    MIXED if name.startswith("mixed") else FP32)
            rows.append({
                "network": "MSRes3D", "configuration": name,
                "input": _shape(MSRES3D_INPUT), "width": 1.0, "batch_size": 32,
                "precision": prec, "reference": prec == FP32,
                "classifier_setting": prec == MIXED,
                "n_params": None, "n_params_frozen": 0,
                "train_clips_per_s": r["train_clips_per_s"],
                "latency_ms_1": r.get("latency_ms_1"),
                "latency_ms_per_clip_batch": None,
                "peak_memory_mb": r["peak_memory_mb"]})
        add(pr["device"], "networks_precision.json",
            {"torch": pr.get("torch")}, rows)
    art = _load(d / "networks_artnet.json")
    if art and art.get("meta", {}).get("gpu"):
        rows = []
        for r in art["rows"]:
            if r["flow_source"] == "raft":
                inp = (f"2x{r['size']}x{r['size']} pairs, RAFT-{r['raft']} "
                       f"({r['raft_iters']} iters), {r['n_alphas']} amplification "
                       "levels")
            else:
                inp = f"{r['n_alphas']}x3x{r['size']}x{r['size']} flow"
            rows.append({
                "network": "ARTNet", "configuration": r["name"], "input": inp,
                "width": 1.0, "batch_size": r["batch_size"],
                "precision": MIXED if r["amp"] else FP32,
                "reference": not r["amp"], "classifier_setting": r["amp"],
                "n_params": r["n_params"], "n_params_frozen": r["n_params_frozen"],
                "train_clips_per_s": r["train_clips_per_s"],
                "latency_ms_1": r["latency_ms_1"],
                "latency_ms_per_clip_batch": r["latency_ms_per_clip_batch"],
                "peak_memory_mb": r["peak_memory_mb"]})
        add(art["meta"]["gpu"], "networks_artnet.json", art["meta"], rows)
    mol = _load(d / "networks_mol.json")
    if mol and mol.get("rows") and mol["rows"][0]["device"].startswith("cuda"):
        rows = []
        for r in mol["rows"]:
            rows.append({
                "network": "MOL",
                "configuration": "AMP fp16" if r["amp"] else "fp32",
                "input": f"{_shape(r['input_shape'])} grey", "width": r["width"],
                "batch_size": r["batch_size"],
                "precision": MIXED if r["amp"] else FP32,
                "reference": not r["amp"], "classifier_setting": r["amp"],
                "n_params": r["params"], "n_params_frozen": 0,
                "train_clips_per_s": r["train_clips_per_s"],
                "latency_ms_1": r["latency_ms_1"],
                "latency_ms_per_clip_batch": r["latency_ms_per_clip_batch"],
                "peak_memory_mb": r["peak_mem_mb"]})
        add(mol["meta"]["device_name"], "networks_mol.json", mol["meta"], rows)
    for sec in sections.values():
        _add_ratios(sec["rows"])
    return sections


# ------------------------------------------------------------------- target


def target_verdict(devices, target=TARGET_RATIO):
    """Judge the MSRes3D mixed-precision target on the H100 sections.

    Parameters
    ----------
    devices : dict
        Device name -> section, as in ``networks.json``.
    target : float, default=1.8
        Minimum ratio of mixed-precision to fp32 training throughput.

    Returns
    -------
    verdict : dict
        ``pairs`` (every mixed-precision MSRes3D row in the classifier's
        setting at the paper's input size, against each fp32 row of its group),
        ``met_vs_ieee_fp32``, ``met_vs_default_fp32`` (``None`` without such
        pairs) and a one-line ``summary``.
    """
    pairs = []
    for name, sec in devices.items():
        if "H100" not in name:
            continue
        rows = sec["rows"]
        for r in rows:
            if not (r["network"] == "MSRes3D" and r["precision"] == MIXED
                    and r["classifier_setting"]
                    and r["input"] == _shape(MSRES3D_INPUT) and r["width"] == 1):
                continue
            for q in rows:
                if (q["source"] == r["source"] and q["network"] == "MSRes3D"
                        and q["input"] == r["input"]
                        and q["batch_size"] == r["batch_size"]
                        and (q["precision"] == FP32_IEEE
                             or q["precision"] == FP32 and q["reference"])):
                    ratio = r["train_clips_per_s"] / q["train_clips_per_s"]
                    pairs.append({
                        "device": name, "source": r["source"],
                        "batch_size": r["batch_size"],
                        "mixed_clips_per_s": r["train_clips_per_s"],
                        "fp32_kind": q["precision"],
                        "fp32_clips_per_s": q["train_clips_per_s"],
                        "ratio": ratio, "met": ratio >= target})

    def judge(kind):
        sel = [p["met"] for p in pairs if p["fp32_kind"] == kind]
        return all(sel) if sel else None

    ieee, default = judge(FP32_IEEE), judge(FP32)
    if not pairs:
        summary = "no H100 measurement of MSRes3D recorded: target not judged."
    elif ieee and default:
        summary = "met."
    elif ieee and default is False:
        summary = ("met against IEEE fp32 (TF32 off) only; NOT met against "
                   "PyTorch's default fp32, whose convolutions already run on "
                   "TF32 tensor cores on Hopper.")
    elif default:
        summary = "met against PyTorch's default fp32."
    else:
        summary = "NOT met."
    return {"target_ratio": target, "pairs": pairs, "met_vs_ieee_fp32": ieee,
            "met_vs_default_fp32": default, "summary": summary}


# ------------------------------------------------------------------ writing


def device_name(device):
    """The GPU's name, or the CPU model and the number of usable cores."""
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return f"{model} CPU ({cores} cores)"


def _f(v, fmt):
    return "–" if v is None else format(v, fmt)


def write_markdown(path, devices, verdict):
    """Write the consolidated table, the target and its verdict first."""
    lines = [
        "# Cost of skmer's networks",
        "",
        f"**Target** (skmer issue 5): on an H100, MSRes3D mixed-precision "
        f"training throughput >= {verdict['target_ratio']}x fp32 at the paper's "
        "input size (3x16x134x134).",
        "",
    ]
    if verdict["pairs"]:
        lines.append("Recorded H100 numbers (MSRes3D, width 1, mixed precision "
                     "in the classifier's setting: fp16 autocast + "
                     "channels_last_3d + cudnn.benchmark):")
        lines.append("")
        for p in verdict["pairs"]:
            lines.append(
                f"- batch {p['batch_size']}: {p['mixed_clips_per_s']:.1f} vs "
                f"{p['fp32_kind']} {p['fp32_clips_per_s']:.1f} clips/s = "
                f"**{p['ratio']:.2f}x** ({'meets' if p['met'] else 'misses'} "
                f"{verdict['target_ratio']}x; {p['source']})")
        lines.append("")
    lines += [f"**Verdict:** {verdict['summary']}", "",
              "\"fp32\" is PyTorch's default: on Ampere and later GPUs its "
              "convolutions run on TF32 tensor cores. \"fp32 IEEE\" turns TF32 "
              "off. \"x fp32\" / \"x IEEE\": training throughput over the fp32 / "
              "IEEE fp32 row of the same network, input and batch, from the same "
              "process (source file). Peak memory on CUDA is "
              "`torch.cuda.max_memory_allocated` during training; on the CPU the "
              "growth of the resident-set high-water mark over the run (rough).",
              ""]
    order = sorted(devices, key=lambda n: (devices[n]["kind"] != "cuda", n))
    for name in order:
        sec = devices[name]
        lines += [f"## {name}", ""]
        meta = sec.get("meta", {})
        if sec["measured_by"].startswith("benchmarks/networks.py"):
            lines.append(
                f"Measured by `{sec['command']}` on {sec['date']} (torch "
                f"{meta.get('torch')}, {meta.get('torch_threads')} threads; load "
                f"average {meta.get('loadavg_before')} before, "
                f"{meta.get('loadavg_after')} after; {sec['wall_s']:.0f} s).")
            if sec["kind"] == "cpu":
                lines.append("CPU: fp32 only (the skmer classifiers train in fp32 "
                             "there; no mixed-precision rows). Timings depend "
                             "on the machine's load (above): rough.")
            if meta.get("tiny"):
                lines.append("**--tiny: shrunken networks and inputs, a smoke "
                             "test, not the papers' networks.**")
        else:
            lines.append(
                "Imported from " + ", ".join(f"`{s}`" for s in sec["sources"])
                + f": measured in an earlier session by the per-network scripts "
                f"(torch {meta.get('torch')}), not by this script's run.")
        lines += [
            "",
            "| network | configuration | input | width | batch | precision | "
            "params (trainable / frozen) | train clips/s | x fp32 | x IEEE | "
            "latency 1 clip (ms) | per clip in batch (ms) | peak memory (MiB) | "
            "source |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in sec["rows"]:
            params = ("–" if r["n_params"] is None else f"{r['n_params']:,}"
                      + (f" / {r['n_params_frozen']:,}" if r["n_params_frozen"]
                         else ""))
            lines.append(
                f"| {r['network']} | {r['configuration']} | {r['input']} | "
                f"{r['width']} | {r['batch_size']} | {r['precision']} | {params} | "
                f"{_f(r['train_clips_per_s'], '.2f')} | "
                f"{_f(r['train_ratio_vs_fp32'], '.2f')} | "
                f"{_f(r['train_ratio_vs_fp32_ieee'], '.2f')} | "
                f"{_f(r['latency_ms_1'], '.1f')} | "
                f"{_f(r['latency_ms_per_clip_batch'], '.2f')} | "
                f"{_f(r['peak_memory_mb'], '.0f')} | "
                f"{Path(r['source']).name} |")
        lines.append("")
    lines += [
        "ARTNet's paper input size could not be read (abstract only); 224 x 224 "
        "frame pairs are skmer's choice (see networks_artnet.py). RAFT weights are "
        "random (same cost as pretrained). MSRes3D's 3x28x28 rows are its T=1 "
        "variant on MEGC2019 composite-size flow; the skorch end-to-end "
        "(MSRes3DClassifier.fit) rows are in networks_msres3d.md.",
    ]
    Path(path).write_text("\n".join(lines) + "\n")


def main(argv=None):
    """Run the benchmark; write ``networks.{md,json}``; return the JSON dict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="timed training steps (default 10 CUDA, 1 CPU)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="batch of every network (default per network)")
    parser.add_argument("--networks", default=",".join(NETWORKS),
                        help="comma-separated subset of " + ",".join(NETWORKS))
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    parser.add_argument("--import-dir", type=Path, default=RESULTS,
                        help="where the per-network JSON files are read")
    parser.add_argument("--tiny", action="store_true",
                        help="shrunken networks and inputs (smoke test)")
    parser.add_argument("--artnet-raft", choices=("large", "small"), default=None,
                        help="ARTNet's frozen RAFT (default large on CUDA, "
                        "small on the CPU)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default torch's; 1 suits a "
                        "loaded machine and --tiny)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"),
                        default="auto")
    args = parser.parse_args(argv)
    args.networks = [n.strip() for n in args.networks.split(",") if n.strip()]
    bad = sorted(set(args.networks) - set(NETWORKS))
    if bad:
        parser.error(f"unknown networks {bad}; allowed: {', '.join(NETWORKS)}")
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    name = device_name(device)
    load0 = [round(v, 2) for v in os.getloadavg()]
    threads0 = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    rows = []
    try:
        for network, prec, info, fn in _configs(device, args):
            row = _run(device, network, prec, info, fn)
            rows.append(row)
            print(f"{row['network']:12s} {prec:22s} "
                  f"{row['train_clips_per_s']:9.2f} clips/s  latency "
                  f"{row['latency_ms_1']:9.1f} ms  peak "
                  f"{_f(row['peak_memory_mb'], '.0f')} MiB", flush=True)
        threads = torch.get_num_threads()
    finally:
        torch.set_num_threads(threads0)
    _add_ratios(rows)
    wall = time.perf_counter() - t0
    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    old = _load(out / "networks.json") or {}
    devices = dict(old.get("devices", {}))
    for dev, sec in import_per_network(args.import_dir).items():
        if not devices.get(dev, {}).get("measured_by", "").startswith(
                "benchmarks/networks.py"):
            devices[dev] = sec  # refresh imports; never over a measured section
    argv_s = " ".join(sys.argv[1:] if argv is None else argv)
    devices[name] = {
        "device": name, "kind": device,
        "measured_by": "benchmarks/networks.py (this script)",
        "command": f"python benchmarks/networks.py {argv_s}".strip(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"),
        "wall_s": wall,
        "meta": {"platform": platform.platform(),
                 "python": platform.python_version(), "torch": torch.__version__,
                 "torch_threads": threads, "tiny": args.tiny,
                 "loadavg_before": load0,
                 "loadavg_after": [round(v, 2) for v in os.getloadavg()]},
        "rows": rows,
    }
    verdict = target_verdict(devices)
    result = {"target": verdict, "devices": devices}
    (out / "networks.json").write_text(json.dumps(result, indent=2) + "\n")
    write_markdown(out / "networks.md", devices, verdict)
    print(f"{name}: {wall:.0f} s; target: {verdict['summary']}")
    return result


if __name__ == "__main__":
    main()
