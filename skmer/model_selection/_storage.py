"""Resume files of :func:`~skmer.model_selection.evaluate_loso`.

One JSON file per finished (seed, fold), written atomically, in a folder named
after a hash of everything that decides the result (the run key).  A rerun with
the same arguments reads the finished folds back and computes only the others.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np

logger = logging.getLogger("skmer.model_selection")

# 2: per-fold out-of-fold probabilities ("proba", "classes") and "engine".
# Files of another version are ignored (their folds are computed again).
_FORMAT_VERSION = 2


def _json_label(v):
    """Return a label as a JSON-able Python scalar."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def _atomic_write_json(path, obj):
    """Write ``obj`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _stable_repr(value):
    """``repr`` without memory addresses (``<... object at 0x7f...>``), sets sorted.

    skorch's default callbacks are parameters whose ``repr`` holds the object's
    address, which changes from one process to the next: with it in the key, a
    network's results were never found again by another process. Their settings
    are parameters of their own (``callbacks__valid_acc__scoring``, ...), so the
    address carries nothing the key needs. A set (skorch's ``_params_to_validate``)
    prints in an order that changes with the process's hash seed: it is sorted.
    """
    if isinstance(value, (set, frozenset)):
        return repr(sorted(_stable_repr(v) for v in value))
    return _ADDRESS.sub("", repr(value))


def _run_key(estimator, y, groups, splits, *, engine, routes):
    """Hash of the estimator's parameters, labels, groups, folds and routing."""
    import joblib

    params = {k: _stable_repr(v)
              for k, v in sorted(estimator.get_params(deep=True).items())}
    return joblib.hash({
        "estimator": type(estimator).__qualname__,
        "params": params,
        "y": [str(v) for v in y],
        "groups": [str(g) for g in groups],
        "tests": [t.tolist() for _, t in splits],
        # the fold-batched engine agrees with the per-fold path on most but not
        # all samples, and routed metadata changes what the folds see
        "engine": engine,
        "routes": repr(routes),
    })


class _ResultStore:
    """The resume folder of one run: finished folds in, new folds out."""

    def __init__(self, results_dir, run_key):
        self.run_key = run_key
        self.directory = Path(results_dir) / f"loso-{run_key[:16]}"

    def open(self, *, estimator, n_samples, n_folds, seeds):
        """Create the folder and describe the run in ``run.json``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic_write_json(self.directory / "run.json", {
            "run_key": self.run_key, "estimator": repr(estimator),
            "n_samples": n_samples, "n_folds": n_folds, "seeds": list(seeds),
            "version": _FORMAT_VERSION})
        return self

    def path_of(self, seed, fold):
        """Return the file of fold ``fold`` of seed ``seed``."""
        return self.directory / f"seed{seed}_fold{fold:03d}.json"

    def load(self):
        """Finished folds of this run, ``{(seed, fold): result}``.

        Unreadable files, files of another run and files of another format
        version are skipped (those folds are computed again).
        """
        done = {}
        n_old = 0
        for f in self.directory.glob("seed*_fold*.json"):
            try:
                res = json.loads(f.read_text())
            except (OSError, json.JSONDecodeError):
                logger.warning("Ignoring unreadable fold file %s", f)
                continue
            if res.get("run_key") != self.run_key:
                continue
            if res.get("version") != _FORMAT_VERSION:
                n_old += 1
                continue
            done[(res["seed"], res["fold"])] = res
        if n_old:
            logger.info("Ignoring %d fold file(s) of another format version in %s "
                        "(they are computed again)", n_old, self.directory)
        return done

    def write(self, result):
        """Store one finished fold."""
        _atomic_write_json(self.path_of(result["seed"], result["fold"]), result)
