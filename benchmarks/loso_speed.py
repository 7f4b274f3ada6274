"""How fast an honest LOSO of the small flow networks runs on this CPU, and why.

Two parts, each written to ``benchmarks/results/loso_speed.{md,json}``. A rerun of one
part keeps the other part's rows.

``--part kernel``
    One composite fold (435 training images, the STSTNet recipe: batch 64, 30 epochs,
    AdamW), on one thread, with the per-fold options this CPU offers. It compares:

    * skmer's fit against a bare PyTorch loop of the same recipe;
    * contiguous against channels-last input;
    * bf16 autocast (this CPU has AMX / avx512_bf16);
    * ``torch.compile``.

    * the multi-tensor optimizer path (``foreach``) against PyTorch's CPU default;
    * glibc's default allocator against larger mmap / trim thresholds (freed
      activation tensors kept in the heap), each in a fresh interpreter.

    It also fits the time of one training step against the batch size,
    ``t = a + b * batch``: ``a`` is the fixed per-step cost (operator dispatch, the
    optimiser) and ``b`` the per-sample cost. ``b`` is compared with the limit the
    memory bandwidth sets, measured here by a large-array copy.
``--part loso``
    Whole 68-fold LOSO runs of ``evaluate_loso`` on the composite flow images. Each
    row gives the wall time, training samples per second (folds x training images x
    epochs / wall), the pooled UF1/UAR, the peak memory and the load average before
    and after:

    * ``before``: the old defaults, the folds one after another with torch's default
      thread count. It runs ``--before-folds`` folds and extrapolates to 68 (labelled
      so).
    * ``defaults``: what ``evaluate_loso`` and ``skmer evaluate`` now do with no
      flags (folds in parallel over the cores, one thread per fold), for 1 and 5
      seeds.
    * ``engine``: the fold-batched engine forced on the CPU.
    * ``neighbour``: the defaults while another process keeps one core busy.
    * OFF-ApexNet with the defaults.

Run (quiet cores: nothing else running; the load is recorded)::

    SKMER_SHARED_DATA=../shared/data python benchmarks/loso_speed.py --part kernel
    SKMER_SHARED_DATA=../shared/data python benchmarks/loso_speed.py --part loso \
        [--rows before defaults1 defaults5 engine neighbour offapexnet]

The CLI equivalent of the ``defaults5`` row is
``skmer evaluate --flow-images DIR --model ststnet --seeds 5``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from skmer.datasets import load_flow_images  # noqa: E402
from skmer.model_selection import evaluate_loso  # noqa: E402
from skmer.utils._data import shared_data_dir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
N_FOLDS = 68


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "CPU"


def _peak_mb():
    """Resident-set high-water marks (MiB) of this process and its children."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(own, 1), round(kids, 1)


def _busy(stop):
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def _data():
    shared = shared_data_dir()
    if shared is None:
        raise SystemExit("shared data absent: set SKMER_SHARED_DATA")
    return load_flow_images(shared / "megc2019" / "flow_uvos_28")


# --------------------------------------------------------------------------- kernel
def _bandwidth_gbs(mb=512, repeats=5):
    """One core's copy bandwidth (read + write bytes per second), in GB/s."""
    a = np.ones(mb * 2**20 // 8)
    b = np.empty_like(a)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t)
    return 2 * a.nbytes / best / 1e9


def _stst_bytes_per_sample():
    """Bytes one STSTNet training sample moves through memory, counted by pass.

    The three branches write 3 + 5 + 8 = 16 channels of 30 x 30 float32 activations
    (57.6 kB). Forward, each of convolution, ReLU, batch-norm (statistics and
    normalisation) and max-pool reads and/or writes that tensor; backward does the
    same passes again with gradients, about twice the traffic. That gives about
    12 full reads or writes forward and 24 backward. The input, the pooled tensors
    and the 1,683 parameters are negligible.
    """
    act = 16 * 30 * 30 * 4
    return 36 * act


def _raw_loop(net, x, y, *, epochs, batch, autocast=None, seed=0):
    import torch

    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = len(x)
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            if autocast is None:
                out = net(x[idx])
            else:
                with torch.autocast("cpu", dtype=autocast):
                    out = net(x[idx])
            loss = loss_fn(out.float(), y[idx])
            loss.backward()
            opt.step()
    return time.perf_counter() - t


_SUBPROCESS_FIT = """
import sys, time, numpy as np, torch
torch.set_num_threads(1)
if sys.argv[1] == "1":
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-3, 256 * 2**20)  # M_MMAP_THRESHOLD
    libc.mallopt(-1, 512 * 2**20)  # M_TRIM_THRESHOLD
from skmer.models import STSTNetClassifier
from skmer.utils._data import shared_data_dir
from skmer.datasets import load_flow_images
d = load_flow_images(shared_data_dir() / "megc2019" / "flow_uvos_28")
train = np.flatnonzero(d.groups != d.groups[0])
X, y = np.ascontiguousarray(d.data[train]), d.target[train]
STSTNetClassifier(random_state=0, device="cpu", max_epochs=2).fit(X, y)  # warm-up
t = time.perf_counter()
STSTNetClassifier(random_state=0, device="cpu").fit(X, y)
print(time.perf_counter() - t)
"""


def _fit_in_subprocess(tune):
    """Seconds of one STSTNet fold fit in a fresh interpreter."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", _SUBPROCESS_FIT, "1" if tune else "0"],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return float(out.stdout.strip().splitlines()[-1])


def part_kernel(args):
    import torch

    from skmer.models import STSTNetClassifier
    from skmer.models.nets import STSTNet

    torch.set_num_threads(1)
    data = _data()
    X = data.data
    train = np.flatnonzero(data.groups != data.groups[0])
    Xtr, ytr = X[train], data.target[train]
    n, epochs, batch = len(train), 30, 64
    samples = n * epochs
    rows = {}

    def med(fn, repeats=args.repeats):
        times = [fn() for _ in range(repeats)]
        return statistics.median(times), times

    def skmer_fit(x):
        def run():
            clf = STSTNetClassifier(random_state=0, device="cpu")
            t = time.perf_counter()
            clf.fit(x, ytr)
            return time.perf_counter() - t
        return run

    x_cl = np.asarray(Xtr)              # load_flow_images: a channels-last view
    x_c = np.ascontiguousarray(Xtr)
    for name, x in (("skmer fit, contiguous X", x_c),
                    ("skmer fit, channels-last X", x_cl)):
        t, ts = med(skmer_fit(x))
        rows[name] = {"s": t, "all_s": ts, "samples_per_s": samples / t}

    def multi_tensor_optimizer():
        clf = STSTNetClassifier(random_state=0, device="cpu",
                                optimizer__foreach=True)
        t = time.perf_counter()
        clf.fit(x_c, ytr)
        return time.perf_counter() - t

    t, ts = med(multi_tensor_optimizer)
    rows["skmer fit, multi-tensor optimizer (optimizer__foreach=True)"] = {
        "s": t, "all_s": ts, "samples_per_s": samples / t}
    # glibc's allocator settings cannot be undone in a process: measure them in
    # fresh interpreters, with and without
    for name, tune in (("skmer fit, fresh process, glibc malloc defaults", False),
                       ("skmer fit, fresh process, mmap threshold 256 MiB, trim "
                        "threshold 512 MiB", True)):
        t, ts = med(lambda tune=tune: _fit_in_subprocess(tune))
        rows[name] = {"s": t, "all_s": ts, "samples_per_s": samples / t}

    yt = torch.as_tensor(np.unique(ytr, return_inverse=True)[1])

    def raw(fmt, autocast=None, compiled=False):
        def run():
            torch.manual_seed(0)
            net = STSTNet(n_classes=3)
            x = torch.as_tensor(x_c)
            if fmt == "channels_last":
                net = net.to(memory_format=torch.channels_last)
                x = x.contiguous(memory_format=torch.channels_last)
            if compiled:
                net = torch.compile(net)
            return _raw_loop(net, x, yt, epochs=epochs, batch=batch,
                             autocast=autocast)
        return run

    for name, fn in (("bare loop, contiguous", raw("contiguous")),
                     ("bare loop, channels-last", raw("channels_last")),
                     ("bare loop, channels-last, bf16 autocast",
                      raw("channels_last", torch.bfloat16))):
        t, ts = med(fn)
        rows[name] = {"s": t, "all_s": ts, "samples_per_s": samples / t}
    if not args.no_compile:
        t0 = time.perf_counter()
        raw("channels_last", compiled=True)()      # compile + first run
        first = time.perf_counter() - t0
        t, ts = med(raw("channels_last", compiled=True))
        rows["bare loop, channels-last, torch.compile"] = {
            "s": t, "all_s": ts, "samples_per_s": samples / t,
            "first_run_incl_compile_s": first}

    # step time against batch size: t = a + b * batch
    net = STSTNet(n_classes=3).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    xb_all = torch.as_tensor(x_c).contiguous(memory_format=torch.channels_last)
    sizes, per_step = [8, 16, 32, 64, 128, 256], []
    for bsz in sizes:
        xb, yb = xb_all[:bsz], yt[:bsz]
        for _ in range(5):
            opt.zero_grad()
            loss_fn(net(xb), yb).backward()
            opt.step()
        reps = max(10, 2000 // bsz)
        t = time.perf_counter()
        for _ in range(reps):
            opt.zero_grad()
            loss_fn(net(xb), yb).backward()
            opt.step()
        per_step.append((time.perf_counter() - t) / reps)
    b, a = np.polyfit(sizes, per_step, 1)
    bw = _bandwidth_gbs()
    limit = bw * 1e9 / _stst_bytes_per_sample()
    return {
        "rows": rows,
        "step_fit": {"batch_sizes": sizes, "step_s": per_step,
                     "fixed_s_per_step": a, "s_per_sample": b},
        "bandwidth_gbs_one_core": bw,
        "bytes_per_sample": _stst_bytes_per_sample(),
        "bandwidth_limit_samples_per_s_one_core": limit,
        "n_train": int(n), "epochs": epochs, "batch": batch,
        "load_end": os.getloadavg()[0],
    }


def kernel_markdown(res):
    rows = res["rows"]
    base = rows["skmer fit, channels-last X"]["s"]
    md = ["## One fold, one thread (STSTNet recipe)", "",
          f"{res['n_train']} training images x {res['epochs']} epochs, batch "
          f"{res['batch']}, median of the repeats; ratio = time of skmer's fit on "
          "the channels-last X that `load_flow_images` gives / time of the row.", "",
          "| configuration | s | samples/s | ratio |", "|---|---:|---:|---:|"]
    for name, r in rows.items():
        extra = (f" (first run with compilation {r['first_run_incl_compile_s']:.1f} s)"
                 if "first_run_incl_compile_s" in r else "")
        md.append(f"| {name}{extra} | {r['s']:.2f} | {r['samples_per_s']:.0f} | "
                  f"{base / r['s']:.2f}x |")
    fit = res["step_fit"]
    b = fit["s_per_sample"]
    md += ["", "Step time against batch size (channels-last, fp32): "
           + ", ".join(f"{s}: {t * 1e3:.2f} ms" for s, t in
                       zip(fit["batch_sizes"], fit["step_s"]))
           + f"; least squares t = {fit['fixed_s_per_step'] * 1e3:.2f} ms + "
           f"{b * 1e6:.1f} us x batch.", "",
           f"Memory bandwidth, one core (copy of 512 MiB): "
           f"{res['bandwidth_gbs_one_core']:.1f} GB/s. STSTNet training moves about "
           f"{res['bytes_per_sample'] / 1e6:.2f} MB per sample "
           "(`_stst_bytes_per_sample`), so DRAM bandwidth would allow about "
           f"{res['bandwidth_limit_samples_per_s_one_core']:.0f} samples/s per core. "
           f"The measured per-sample cost alone is {1 / b:.0f} samples/s per core, "
           "and at batch 64 the fixed per-step cost adds "
           f"{fit['fixed_s_per_step'] / (64 * b) * 100:.0f} % to it.", ""]
    return md


# ----------------------------------------------------------------------------- loso
def _before(est, data, n_folds):
    """The old defaults: folds one after another, torch's default threads."""
    import torch
    from sklearn.base import clone
    from sklearn.model_selection import LeaveOneGroupOut

    from skmer.model_selection import fold_seed

    threads = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count())
    try:
        splits = list(LeaveOneGroupOut().split(data.data, data.target, data.groups))
        t = time.perf_counter()
        for k, (tr, te) in enumerate(splits[:n_folds]):
            m = clone(est).set_params(random_state=fold_seed(0, k))
            m.fit(data.data[tr], data.target[tr])
            m.predict(data.data[te])
        return time.perf_counter() - t
    finally:
        torch.set_num_threads(threads)


def _make(name):
    from skmer.models import OffApexNetClassifier, STSTNetClassifier

    return {"ststnet": STSTNetClassifier, "offapexnet": OffApexNetClassifier}[name]()


def part_loso(args):
    data = _data()
    n = len(data.target)
    per_seed_samples = (N_FOLDS - 1) * n * 30
    out = {}
    for row in args.rows:
        load0 = os.getloadavg()[0]
        model = "offapexnet" if row == "offapexnet" else "ststnet"
        est = _make(model)
        if row == "before":
            k = args.before_folds
            wall = _before(est, data, k) * N_FOLDS / k
            out[row] = {"model": model, "seeds": 1, "wall_s": wall,
                        "extrapolated_from_folds": k,
                        "samples_per_s": per_seed_samples / wall,
                        "load_start": load0, "load_end": os.getloadavg()[0]}
            print(row, out[row], flush=True)
            continue
        seeds = 5 if row == "defaults5" else 1
        kwargs = {"engine": "fold-batched"} if row == "engine" else {}
        stop = busy = None
        if row == "neighbour":
            stop = mp.Event()
            busy = mp.Process(target=_busy, args=(stop,), daemon=True)
            busy.start()
        try:
            t = time.perf_counter()
            rep = evaluate_loso(est, data.data, data.target, data.groups,
                                datasets=data.datasets, seeds=range(seeds),
                                progress=True, **kwargs)
            wall = time.perf_counter() - t
        finally:
            if busy is not None:
                stop.set()
                busy.join()
        frame = rep.to_frame().loc["overall"]
        out[row] = {"model": model, "seeds": seeds, "wall_s": wall,
                    "samples_per_s": seeds * per_seed_samples / wall,
                    "uf1": float(frame.uf1_mean), "uf1_std": float(frame.uf1_std),
                    "uar": float(frame.uar_mean), "uar_std": float(frame.uar_std),
                    "per_seed_uf1": rep.scores.query("scope == 'overall'")["uf1"]
                    .round(4).tolist(),
                    "peak_mb_self_children": _peak_mb(),
                    "load_start": load0, "load_end": os.getloadavg()[0]}
        print(row, out[row], flush=True)
    return out


LOSO_LABELS = {
    "before": "old defaults: folds in sequence, torch default threads",
    "defaults1": "defaults (no flags)",
    "defaults5": "defaults (no flags)",
    "engine": "fold-batched engine forced on the CPU (`engine='fold-batched'`)",
    "neighbour": "defaults, one CPU-bound neighbour process running",
    "offapexnet": "defaults (no flags)",
}


def loso_markdown(res):
    md = ["## Whole LOSO runs (68 folds, pooled)", "",
          "| row | model | seeds | wall s | s per seed | samples/s | UF1 | UAR | "
          "peak MiB (self / workers) | load start / end |",
          "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for row, r in res.items():
        label = LOSO_LABELS.get(row, row)
        if "extrapolated_from_folds" in r:
            label += f" ({r['extrapolated_from_folds']} folds, extrapolated to 68)"
        uf1 = (f"{r['uf1']:.4f}" + (f" ± {r['uf1_std']:.4f}" if r["seeds"] > 1
                                    else "")) if "uf1" in r else "–"
        uar = (f"{r['uar']:.4f}" + (f" ± {r['uar_std']:.4f}" if r["seeds"] > 1
                                    else "")) if "uar" in r else "–"
        peak = ("{} / {}".format(*r["peak_mb_self_children"])
                if "peak_mb_self_children" in r else "–")
        md.append(f"| {row}: {label} | {r['model']} | {r['seeds']} | "
                  f"{r['wall_s']:.0f} | {r['wall_s'] / r['seeds']:.0f} | "
                  f"{r['samples_per_s']:.0f} | {uf1} | {uar} | {peak} | "
                  f"{r['load_start']:.1f} / {r['load_end']:.1f} |")
    md.append("")
    return md


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["kernel", "loso"], required=True)
    parser.add_argument("--rows", nargs="+",
                        default=["before", "defaults1", "defaults5", "engine",
                                 "neighbour", "offapexnet"],
                        choices=list(LOSO_LABELS))
    parser.add_argument("--before-folds", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args(argv)

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "loso_speed.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved["machine"] = {"cpu": _cpu_name(), "cores": os.cpu_count(),
                        "python": platform.python_version()}
    if args.part == "kernel":
        saved["kernel"] = part_kernel(args)
    else:
        saved.setdefault("loso", {}).update(part_loso(args))
    path.write_text(json.dumps(saved, indent=1))
    md = ["# LOSO speed of the small flow networks", "",
          f"{saved['machine']['cpu']}, {saved['machine']['cores']} cores. Commands: "
          "`python benchmarks/loso_speed.py --part kernel` and "
          "`python benchmarks/loso_speed.py --part loso --rows ...`.", ""]
    if "kernel" in saved:
        md += kernel_markdown(saved["kernel"])
    if "loso" in saved:
        md += loso_markdown(saved["loso"])
    (RESULTS / "loso_speed.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
