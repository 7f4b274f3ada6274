"""LOSO speed-up on a dask.distributed cluster (2 local workers) vs sequential.

Workload: the honest 68-fold LOSO of standardised flow-image pixels -> RBF SVM
(C=10, class-balanced) on the MEGC2019 composite flow images (442 samples), the
reference model of the shared data's README.  Every fold is one joblib task; with
``joblib.parallel_config(backend="dask")`` the folds run on the cluster's workers.
Also timed: joblib's default ``loky`` backend with 2 processes (the local reference).
The predictions of every run must equal the sequential ones.

Run: ``python benchmarks/scale.py [--repeats 3] [--workers 2]`` (needs
``pip install 'skmer[dask]'``; without the shared data, falls back to synthetic clips).
Writes ``benchmarks/results/scale.md`` and ``scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def _workload(n_synthetic=None):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.svm import SVC

    from skmer._predict import flatten_samples
    from skmer.utils._data import shared_data_dir

    est = Pipeline([("flatten", FunctionTransformer(flatten_samples)),
                    ("scale", StandardScaler()),
                    ("svc", SVC(C=10.0, class_weight="balanced"))])
    root = shared_data_dir()
    flow = None if root is None else root / "megc2019" / "flow_uvos_28"
    if n_synthetic is None and flow is not None and flow.is_dir():
        from skmer.datasets import load_flow_images

        d = load_flow_images(flow)
        return est, d.data, d.target, d.groups, f"MEGC2019 composite {flow}"
    from skmer.datasets import make_micro_expressions
    from skmer.preprocessing import FlowExtractor

    n = n_synthetic or 400
    X, y, groups = make_micro_expressions(n_clips=n, n_subjects=40,
                                          frame_shape=(48, 48), random_state=0)
    Xf = FlowExtractor("farneback", output_size=(28, 28), scale="minmax",
                       n_jobs=-1).fit_transform(X)
    return est, Xf, y, groups, f"synthetic flow images ({n} clips, 40 subjects)"


def _time(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), times, out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--synthetic", type=int, default=None, metavar="N_CLIPS",
                   help="use N_CLIPS synthetic clips instead of the MEGC2019 "
                        "flow images (the default when the shared data is absent)")
    p.add_argument("--results", default=str(RESULTS), help="output folder")
    args = p.parse_args(argv)

    import joblib
    from distributed import Client, LocalCluster

    from skmer.model_selection import evaluate_loso

    est, X, y, groups, what = _workload(args.synthetic)
    n_folds = len(np.unique(groups))
    print(f"workload: {what}; {len(y)} samples, {n_folds} folds")

    def run(n_jobs=None):
        return evaluate_loso(est, X, y, groups, n_jobs=n_jobs)

    t_seq, seq_all, ref = _time(run, args.repeats)
    print(f"sequential: {t_seq:.2f} s  {np.round(seq_all, 2).tolist()}")

    with joblib.parallel_config(backend="loky"):
        run(args.workers)  # warm the process pool
        t_loky, loky_all, r_loky = _time(lambda: run(args.workers), args.repeats)
    print(f"loky x{args.workers}: {t_loky:.2f} s  {np.round(loky_all, 2).tolist()}")

    t0 = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        t_start = time.perf_counter() - t0
        with joblib.parallel_config(backend="dask"):
            run(-1)  # warm-up: workers import skmer, X is scattered once per call
            t_dask, dask_all, r_dask = _time(lambda: run(-1), args.repeats)
        n_workers = len(client.scheduler_info()["workers"])
    print(f"dask x{n_workers}: {t_dask:.2f} s  {np.round(dask_all, 2).tolist()} "
          f"(cluster start {t_start:.1f} s, not counted)")

    same = {
        "loky": bool(r_loky.predictions.equals(ref.predictions)),
        "dask": bool(r_dask.predictions.equals(ref.predictions)),
    }
    result = {
        "workload": what, "n_samples": int(len(y)), "n_folds": int(n_folds),
        "uf1": ref.uf1, "uar": ref.uar, "workers": n_workers,
        "repeats": args.repeats, "sequential_s": t_seq, "loky_s": t_loky,
        "dask_s": t_dask, "speedup_dask": t_seq / t_dask,
        "speedup_loky": t_seq / t_loky, "cluster_start_s": t_start,
        "identical_predictions": same, "all_times": {
            "sequential": seq_all, "loky": loky_all, "dask": dask_all},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU(s), "
                   f"load average {os.getloadavg()[0]:.1f} at the end",
    }
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(result, indent=2))
    md = [
        "# LOSO scale-out: dask.distributed vs sequential", "",
        f"Workload: {what}: standardised pixels -> RBF SVM (C=10, class-balanced), "
        f"{n_folds}-fold LOSO, pooled UF1 {ref.uf1:.4f} / UAR {ref.uar:.4f}.",
        f"Median of {args.repeats} runs; machine: {result['machine']}.", "",
        "| run | wall (s) | speed-up | predictions = sequential |",
        "|---|---:|---:|---|",
        f"| sequential (n_jobs=None) | {t_seq:.2f} | 1.00 | - |",
        f"| joblib loky, {args.workers} processes | {t_loky:.2f} | "
        f"{t_seq / t_loky:.2f} | {same['loky']} |",
        f"| dask LocalCluster, {n_workers} workers x 1 thread | {t_dask:.2f} | "
        f"{t_seq / t_dask:.2f} | {same['dask']} |", "",
        f"Cluster start-up ({t_start:.1f} s) and one warm-up run are not counted. "
        "Timings on a shared machine are noisy.",
    ]
    (out / "scale.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return result


if __name__ == "__main__":
    main()
