"""How hard is ``make_micro_expressions``?  Pooled LOSO UF1/UAR against alpha.

Two settings of the generator, 96 clips of 8 subjects, ``random_state=0``:

* ``before``: the defaults of skmer's first generator, passed explicitly (48x48,
  12 frames, 1 px apex, no head motion, no blinks, every subject moving alike);
* ``after``: today's defaults (calibrated to real micro-expressions, see the
  docstring of :func:`skmer.datasets.make_micro_expressions`).

For each setting and each magnification factor alpha (0, 2, 5, 10, 20, 40):
``Magnifier(alpha, mode="two-frame") -> FlowExtractor("farneback", strain,
28x28, minmax) -> flatten -> StandardScaler -> LogisticRegression`` (a cheap,
documented stand-in for the README pipeline), as one Pipeline under
:func:`skmer.model_selection.evaluate_loso` (pooled UF1/UAR).  Then the README
pipeline itself (TV-L1 flow, strain, 28x28, minmax -> STSTNet, seeds 0-2) at
alpha = 0 (exactly the README's example) and at the best alpha of the cheap
grid; its flow stage learns nothing, so the flows are computed once outside the
folds (identical to computing them in every fold) to keep the run short.

Run from the repository root::

    .venv/bin/python benchmarks/synthetic_difficulty.py

It writes ``benchmarks/results/synthetic_difficulty.{json,md,png}``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skmer.datasets import make_micro_expressions
from skmer.model_selection import evaluate_loso
from skmer.preprocessing import FlowExtractor, Magnifier

ALPHAS = (0.0, 2.0, 5.0, 10.0, 20.0, 40.0)
OLD_DEFAULTS = dict(n_frames=12, frame_shape=(48, 48), duration=None, amplitude=1.0,
                    intensity=(0.8, 1.0), noise=2.0, flicker=0.0, head_motion=0.0,
                    blinks=0.0, style=0.0, mixing=0.0)
SETTINGS = {"before": OLD_DEFAULTS, "after": {}}
OUT = Path(__file__).parent / "results"


def _flatten(X):
    return np.asarray(X).reshape(len(X), -1)


def cheap_pipeline(alpha):
    """Magnifier -> Farneback flow + strain -> linear classifier."""
    return Pipeline([
        ("magnify", Magnifier(alpha=alpha, mode="two-frame")),
        ("flow", FlowExtractor("farneback", mode="onset-apex", strain=True,
                               output_size=(28, 28), scale="minmax")),
        ("flatten", FunctionTransformer(_flatten)),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(C=0.01, max_iter=2000)),
    ])


def readme_scores(X, y, groups, alpha, seeds):
    """The README pipeline (TV-L1 -> STSTNet) after a two-frame magnifier."""
    from skmer.models import STSTNetClassifier

    t0 = time.perf_counter()
    mag = Magnifier(alpha=alpha, mode="two-frame").fit_transform(X)
    flows = FlowExtractor("tvl1", mode="onset-apex", strain=True,
                          output_size=(28, 28), scale="minmax").fit_transform(mag)
    report = evaluate_loso(STSTNetClassifier(), flows, y, groups, seeds=seeds)
    return _row(report, time.perf_counter() - t0)


def _row(report, seconds):
    overall = report.to_dict()["summary"]["overall"]
    n_seeds = len(report.to_dict()["seeds"])
    return {"uf1": round(overall["uf1_mean"], 4),
            "uf1_std": round(overall["uf1_std"], 4) if n_seeds > 1 else None,
            "uar": round(overall["uar_mean"], 4),
            "uar_std": round(overall["uar_std"], 4) if n_seeds > 1 else None,
            "seconds": round(seconds, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-clips", type=int, default=96)
    parser.add_argument("--n-subjects", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3,
                        help="seeds of the README pipeline's network")
    parser.add_argument("--no-readme", action="store_true",
                        help="skip the README pipeline (TV-L1 -> STSTNet)")
    args = parser.parse_args(argv)
    results = {"n_clips": args.n_clips, "n_subjects": args.n_subjects,
               "random_state": 0, "alphas": list(ALPHAS),
               "old_defaults": {k: v for k, v in OLD_DEFAULTS.items()},
               "machine": platform.platform(), "cheap": {}, "readme": {}}
    for name, params in SETTINGS.items():
        X, y, groups = make_micro_expressions(args.n_clips, n_subjects=args.n_subjects,
                                              random_state=0, **params)
        rows = {}
        for alpha in ALPHAS:
            t0 = time.perf_counter()
            report = evaluate_loso(cheap_pipeline(alpha), X, y, groups)
            rows[alpha] = _row(report, time.perf_counter() - t0)
            print(name, "cheap alpha", alpha, rows[alpha], flush=True)
        results["cheap"][name] = rows
        if args.no_readme:
            continue
        best = max(ALPHAS, key=lambda a: rows[a]["uf1"])
        seeds = tuple(range(args.seeds))
        readme = {}
        for alpha in sorted({0.0, best}):
            readme[alpha] = readme_scores(X, y, groups, alpha, seeds)
            print(name, "README alpha", alpha, readme[alpha], flush=True)
        results["readme"][name] = readme
    OUT.mkdir(exist_ok=True)
    (OUT / "synthetic_difficulty.json").write_text(
        json.dumps(results, indent=2, default=str))
    _write_md(results)
    _plot(results)


def _fmt(row):
    if row["uf1_std"]:
        return (f"{row['uf1']:.3f} ± {row['uf1_std']:.3f} | "
                f"{row['uar']:.3f} ± {row['uar_std']:.3f}")
    return f"{row['uf1']:.3f} | {row['uar']:.3f}"


def _write_md(results):
    lines = ["# How hard is the synthetic data? (`benchmarks/synthetic_difficulty.py`)",
             "",
             "Command: `.venv/bin/python benchmarks/synthetic_difficulty.py` "
             f"({results['n_clips']} clips, {results['n_subjects']} subjects, "
             "random_state=0, LOSO, pooled UF1/UAR; machine: "
             f"{results['machine']}).",
             "", "`before` = the first generator's defaults passed explicitly: "
             f"`{results['old_defaults']}`; `after` = today's defaults.", "",
             "## Cheap pipeline: Magnifier(two-frame) → Farnebäck flow + strain "
             "(28×28, min-max) → StandardScaler → LogisticRegression(C=0.01)", "",
             "| alpha | before UF1 | before UAR | after UF1 | after UAR |",
             "|---:|---:|---:|---:|---:|"]
    for a in results["alphas"]:
        b, f = results["cheap"]["before"][a], results["cheap"]["after"][a]
        lines.append(f"| {a:g} | {_fmt(b)} | {_fmt(f)} |")
    if results["readme"]:
        lines += ["", "## README pipeline: TV-L1 flow + strain (28×28, min-max) → "
                  "STSTNet, seeds 0-2 (mean ± std), after a two-frame Magnifier", "",
                  "| setting | alpha | UF1 | UAR | seconds |",
                  "|---|---:|---:|---:|---:|"]
        for name, rows in results["readme"].items():
            for a, row in rows.items():
                lines.append(f"| {name} | {a:g} | {_fmt(row)} | {row['seconds']} |")
    lines += ["", "![UF1 against alpha](synthetic_difficulty.png)", ""]
    (OUT / "synthetic_difficulty.md").write_text("\n".join(lines))


def _plot(results):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    x = np.arange(len(results["alphas"]))
    for name, style in (("before", "o--"), ("after", "s-")):
        uf1 = [results["cheap"][name][a]["uf1"] for a in results["alphas"]]
        ax.plot(x, uf1, style, label=f"{name}: flow + linear")
        for a, row in results["readme"].get(name, {}).items():
            ax.errorbar(results["alphas"].index(a), row["uf1"],
                        yerr=row["uf1_std"] or 0, fmt="*", ms=11, capsize=3,
                        label=f"{name}: README (STSTNet), alpha={a:g}")
    ax.set_xticks(x, [f"{a:g}" for a in results["alphas"]])
    ax.set_xlabel("Magnifier alpha (two-frame)")
    ax.set_ylabel("pooled LOSO UF1")
    ax.set_ylim(0.3, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("make_micro_expressions: before / after calibration", fontsize=9)
    fig.tight_layout()
    fig.savefig(OUT / "synthetic_difficulty.png", dpi=120)


if __name__ == "__main__":
    main()
