"""LEAKY, for comparison only: the final composite recipe, test-subject epoch choice.

Most composite figures above 0.80 UF1 in the literature train each LOSO fold for many
epochs and report, per held-out subject, the epoch whose predictions score best *on
that subject* (or, equivalently, stop training when the test subject is best). This
script measures how much that practice inflates skmer's final recipe, so the honest
number and the leaky one can be read side by side.

For STSTNet seeds 0-4 (the members of the round-1 ensemble of
``benchmarks/composite_ensemble.py``), each of the 68 folds is trained exactly as
:func:`skmer.model_selection.evaluate_loso` trains it (same fold seeds, one thread
per fold worker), but a callback also records the held-out subject's class
probabilities after every epoch. Switching the network to evaluation mode for that
costs no random numbers, so training is unchanged: the script checks that the last
epoch reproduces the honest out-of-fold probabilities bit for bit.

Rows (pooled UF1/UAR over the 68 folds):

* ``honest, last epoch``: the fixed recipe (30 epochs), what skmer reports;
* ``LEAKY: best epoch per test subject``: per fold, the epoch whose predictions have
  the highest accuracy on the held-out subject (ties: the latest such epoch);
  STSTNet alone (mean over the five seeds) and the five-seed deep ensemble;
* ``LEAKY ensemble``: the final vote (STSTNet x5 + the linear recipe, equal weights)
  with one epoch per fold, shared by the five networks, chosen on the held-out
  subject; the linear recipe's probabilities are the honest ones.

Run (about 12 minutes on two quiet cores; results cached in ``--cache``)::

    SKMER_SHARED_DATA=../shared/data python benchmarks/composite_leaky.py

It writes ``benchmarks/results/composite_leaky.{md,json}``. It needs the honest
reports of ``benchmarks/composite_ensemble.py`` in the same results directory (run
that first).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import sklearn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from composite_sota import load_composite  # noqa: E402

from skmer.metrics import uar_score, uf1_score  # noqa: E402
from skmer.model_selection import evaluate_loso, fold_seed  # noqa: E402
from skmer.utils._data import shared_data_dir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SEEDS = (0, 1, 2, 3, 4)


def _fold_epochs(X, y, train, test, random_state):
    """Train one fold as evaluate_loso does; (epochs, n_test, 3) probabilities."""
    from skorch.callbacks import Callback

    from skmer.model_selection._backend import _one_thread
    from skmer.models import STSTNetClassifier

    class TestSubjectProbe(Callback):   # LEAKY: looks at the held-out subject
        def __init__(self):
            self.probas = []

        def on_epoch_end(self, net, **kwargs):
            self.probas.append(net.predict_proba(X[test]))

    probe = TestSubjectProbe()
    with _one_thread():
        STSTNetClassifier(random_state=random_state,
                          callbacks=[("leaky_probe", probe)]).fit(X[train], y[train])
    return np.stack(probe.probas)


def _leaky_choice(per_fold, folds, y):
    """Per fold, the epoch with the best held-out accuracy (ties: the latest)."""
    out = np.zeros((len(y), per_fold[0].shape[-1]))
    for probas, (_, test) in zip(per_fold, folds):
        acc = (probas.argmax(-1) == y[test][None]).mean(-1)
        best = len(acc) - 1 - int(np.argmax(acc[::-1]))
        out[test] = probas[best]
    return out


def _scores(proba, y):
    pred = proba.argmax(1)
    return {"uf1": float(uf1_score(y, pred)), "uar": float(uar_score(y, pred))}


def main(argv=None):
    from joblib import Parallel, delayed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir",
                        default=str(Path.home() / ".cache" / "skmer" / "ensemble"))
    parser.add_argument("--cache",
                        default=str(Path.home() / ".cache" / "skmer" / "leaky"))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS),
                        help="STSTNet seeds (the ensemble rows need all five)")
    args = parser.parse_args(argv)
    shared = shared_data_dir()
    if shared is None:
        print("shared data absent: set SKMER_SHARED_DATA")
        return 1
    sklearn.set_config(enable_metadata_routing=True)
    d, X_comp = load_composite(shared)
    X = np.ascontiguousarray(d.data)
    classes = np.unique(d.target)
    y = np.searchsorted(classes, d.target)
    subjects = np.unique(d.groups)             # evaluate_loso: sorted subjects
    folds = [(np.flatnonzero(d.groups != g), np.flatnonzero(d.groups == g))
             for g in subjects]
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    seeds = tuple(args.seeds)
    per_seed, wall = {}, 0.0
    for s in seeds:
        path = cache / f"ststnet_seed{s}.npz"
        if path.is_file():
            with np.load(path) as z:
                per_seed[s] = [z[f"f{f}"] for f in range(len(folds))]
            continue
        t = time.perf_counter()
        per_seed[s] = Parallel(n_jobs=args.n_jobs, verbose=5)(
            delayed(_fold_epochs)(X, d.target, tr, te, fold_seed(s, f))
            for f, (tr, te) in enumerate(folds))
        wall += time.perf_counter() - t
        np.savez(path, **{f"f{f}": p for f, p in enumerate(per_seed[s])})

    # the honest reports (cached by composite_ensemble.py): the check and the recipe
    from skmer.models import STSTNetClassifier
    from skmer.recipes import megc2019_composite

    def honest(est, Xm, name, seed):
        return evaluate_loso(est, Xm, d.target, d.groups, datasets=d.datasets,
                             seeds=(seed,), progress=False,
                             results_dir=Path(args.results_dir) / name)

    def oof(rep):
        return rep.probabilities[classes].to_numpy()  # rows sorted by sample

    recipe = oof(honest(megc2019_composite(), X_comp, "recipe", 0))
    last, leaky, honest_p = [], [], []
    for s in seeds:
        hp = oof(honest(STSTNetClassifier(), X, "ststnet", s))
        lp = np.zeros_like(hp)
        for probas, (_, te) in zip(per_seed[s], folds):
            lp[te] = probas[-1]
        if not np.array_equal(lp.astype(np.float32), hp.astype(np.float32)):
            raise RuntimeError(f"seed {s}: the last epoch does not reproduce the "
                               "honest out-of-fold probabilities")
        honest_p.append(hp)
        last.append(_scores(lp, y))
        leaky.append(_scores(_leaky_choice(per_seed[s], folds, y), y))
    ens_per_fold = [np.mean([per_seed[s][f] for s in seeds], axis=0)
                    for f in range(len(folds))]
    vote_per_fold = [(p + recipe[te][None]) / 2
                     for p, (_, te) in zip(ens_per_fold, folds)]
    honest_vote = (np.mean(honest_p, axis=0) + recipe) / 2

    def mean_std(rows, key):
        v = [r[key] for r in rows]
        return float(np.mean(v)), float(np.std(v))

    rows = [
        {"name": f"STSTNet, honest, last epoch (mean of {len(seeds)} seeds)",
         **{k: mean_std(last, k) for k in ("uf1", "uar")}},
        {"name": f"STSTNet, LEAKY: best epoch per test subject (mean of "
                 f"{len(seeds)} seeds)",
         **{k: mean_std(leaky, k) for k in ("uf1", "uar")}},
    ]
    if seeds == SEEDS:
        rows += [
        {"name": "STSTNet x5, honest, last epoch",
         **{k: (v, 0.0) for k, v in _scores(np.mean(honest_p, 0), y).items()}},
        {"name": "STSTNet x5, LEAKY: best epoch per test subject",
         **{k: (v, 0.0) for k, v in
            _scores(_leaky_choice(ens_per_fold, folds, y), y).items()}},
        {"name": "STSTNet x5 + recipe, honest (the final vote)",
         **{k: (v, 0.0) for k, v in _scores(honest_vote, y).items()}},
        {"name": "STSTNet x5 + recipe, LEAKY: best epoch per test subject",
         **{k: (v, 0.0) for k, v in
            _scores(_leaky_choice(vote_per_fold, folds, y), y).items()}},
        ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"rows": rows, "wall_s": wall, "seeds": list(seeds),
           "load_end": os.getloadavg()[0]}
    (RESULTS / "composite_leaky.json").write_text(json.dumps(out, indent=1))
    md = ["# LEAKY: test-subject epoch choice on the composite (comparison only)", "",
          "68-fold LOSO, pooled. Command: `python benchmarks/composite_leaky.py`. "
          "The last epoch reproduces the honest out-of-fold probabilities bit for "
          f"bit (checked). Training wall time {wall:.0f} s (0 when cached).", "",
          "| configuration | UF1 | UAR |", "|---|---:|---:|"]
    for r in rows:
        md.append(f"| {r['name']} | {r['uf1'][0]:.4f} +- {r['uf1'][1]:.4f} | "
                  f"{r['uar'][0]:.4f} +- {r['uar'][1]:.4f} |")
    (RESULTS / "composite_leaky.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
