"""Honest leave-one-subject-out (LOSO) evaluation with pooled MEGC metrics.

:func:`evaluate_loso` is the protocol skmer reports numbers with:

* folds are :class:`~sklearn.model_selection.LeaveOneGroupOut` over dataset-qualified
  subjects; the estimator (a whole Pipeline, preprocessing included) is cloned and
  fitted on the training subjects of each fold only;
* every fold and every seed gets a fresh clone whose ``random_state`` parameters
  (at any depth of a Pipeline) are set from ``(seed, fold)``;
* UF1 / UAR / accuracy are computed **once on the pooled out-of-fold predictions**,
  overall and per dataset; with several seeds, mean and standard deviation over seeds
  are reported.  ``cross_val_score`` would average per-fold scores instead, which is
  wrong here: most LOSO folds hold one or two samples.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut

from skmer.metrics import megc_scores
from skmer.utils.validation import check_loso_inputs

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    import pandas as pd
    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike

    from skmer._core import Clip, ClipSequence

__all__ = ["evaluate_loso", "LOSOReport", "fold_seed"]

logger = logging.getLogger(__name__)

_FORMAT_VERSION = 1


def fold_seed(seed: int, fold: int) -> int:
    """The ``random_state`` given to fold ``fold`` of seed ``seed``.

    Derived with :class:`numpy.random.SeedSequence` so that folds and seeds get
    independent, reproducible streams.

    Examples
    --------
    >>> from skmer.model_selection import fold_seed
    >>> fold_seed(0, 3) == fold_seed(0, 3), fold_seed(0, 3) == fold_seed(1, 3)
    (True, False)
    """
    return int(np.random.SeedSequence([int(seed), int(fold)]).generate_state(1)[0]
               % (2**31 - 1))


def _random_state_params(estimator):
    """Names of every ``random_state`` parameter, at any nesting depth."""
    return [k for k in estimator.get_params(deep=True)
            if k == "random_state" or k.endswith("__random_state")]


def _wants_groups(estimator):
    """True if ``estimator.fit`` takes ``groups``: explicitly, or a scikit-learn
    search (``GridSearchCV`` & co. take ``groups`` through ``**params``).

    Other estimators with an inner ``cv`` and ``**fit_params`` (e.g.
    ``CalibratedClassifierCV``) forward those to their sub-estimator, not to the
    splitter, so they are not sent groups.
    """
    import inspect

    from sklearn.model_selection._search import BaseSearchCV

    if isinstance(estimator, BaseSearchCV):
        return True
    fit = getattr(estimator, "fit", None)
    try:
        params = inspect.signature(fit).parameters
    except (TypeError, ValueError):
        return False
    return "groups" in params


def _groups_routes(estimator):
    """Fit-parameter names through which training groups reach inner CVs.

    ``groups`` if the estimator's ``fit`` takes it (e.g. ``GridSearchCV``); for a
    Pipeline, ``<step>__groups`` for every step whose ``fit`` takes it.
    """
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        return [f"{name}__groups" for name, step in steps
                if step not in (None, "passthrough") and _wants_groups(step)]
    return ["groups"] if _wants_groups(estimator) else []


def _index(X, idx):
    """Index X (list, ndarray, ClipSequence, pandas) with an integer array."""
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if isinstance(X, (list, tuple)):
        return [X[i] for i in idx]
    return X[idx]


def _json_label(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def _atomic_write_json(path, obj):
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


def _fit_predict(estimator, X, y, groups, train, test, seed, fold, rs_params,
                 group_routes, out_path, run_key, nested_sequential=False):
    if nested_sequential:
        # parallel folds on a cluster backend (dask): joblib calls inside the fold
        # run here, not as one cluster task per clip (dask ignores n_jobs)
        from joblib import parallel_config

        with parallel_config(backend="sequential"):
            return _fit_predict(estimator, X, y, groups, train, test, seed, fold,
                                rs_params, group_routes, out_path, run_key)
    est = clone(estimator)
    rs = fold_seed(seed, fold)
    if rs_params:
        est.set_params(**{k: rs for k in rs_params})
    fit_params = {k: groups[train] for k in group_routes}
    t0 = time.perf_counter()
    est.fit(_index(X, train), y[train], **fit_params)
    t_fit = time.perf_counter() - t0
    y_pred = np.asarray(est.predict(_index(X, test)))
    if y_pred.shape != (len(test),):
        raise ValueError(
            f"{type(estimator).__name__}.predict returned shape {y_pred.shape} for "
            f"{len(test)} test samples."
        )
    result = {
        "version": _FORMAT_VERSION,
        "run_key": run_key,
        "seed": int(seed),
        "fold": int(fold),
        "random_state": rs,
        "test": [int(i) for i in test],
        "y_pred": [_json_label(v) for v in y_pred],
        "fit_time": t_fit,
        "total_time": time.perf_counter() - t0,
    }
    if out_path is not None:
        _atomic_write_json(out_path, result)
    return result


def _run_key(estimator, y, groups, splits):
    import joblib

    params = {k: repr(v) for k, v in sorted(estimator.get_params(deep=True).items())}
    return joblib.hash({
        "estimator": type(estimator).__qualname__,
        "params": params,
        "y": [str(v) for v in y],
        "groups": [str(g) for g in groups],
        "tests": [t.tolist() for _, t in splits],
    })


def evaluate_loso(estimator: Any,
                  X: Sequence[Clip | np.ndarray] | ClipSequence | ArrayLike,
                  y: ArrayLike, groups: ArrayLike, *, datasets: ArrayLike | None = None,
                  seeds: int | Sequence[int] = (0,), n_jobs: int | None = None,
                  results_dir: str | os.PathLike | None = None,
                  route_groups: str | list[str] | None = "auto", verbose: int = 0,
                  progress: bool | None = None) -> LOSOReport:
    """Leave-one-subject-out evaluation with pooled UF1/UAR, overall and per dataset.

    Parameters
    ----------
    estimator : estimator
        An unfitted estimator or Pipeline with ``fit``/``predict``.  It is cloned for
        every fold and seed; everything that learns (scalers, feature selection,
        alignment) must sit inside it, so it only ever sees training subjects.
    X : sequence of Clip, ClipSequence or array-like of shape (n_samples, ...)
        Samples, indexed with integer arrays.
    y : array-like of shape (n_samples,)
        Labels.
    groups : array-like of shape (n_samples,)
        Dataset-qualified subject ids (``"casme2/sub01"``); one fold per subject.
    datasets : array-like of shape (n_samples,), default=None
        Corpus of every sample; adds per-dataset rows to the report.
    seeds : int or sequence of int, default=(0,)
        Seeds of the repeated evaluation; fold ``k`` of seed ``s`` gets
        ``random_state = fold_seed(s, k)`` in every ``random_state`` parameter.
    n_jobs : int, default=None
        Folds (times seeds) run in parallel with joblib; the result does not depend
        on it.  ``joblib.parallel_config(backend=...)`` chooses the backend
        (``"loky"``, ``"dask"``, ``"ray"``).  When the folds run in parallel
        on a backend whose default is "all workers" (``"dask"``), the joblib
        calls inside a fold (per-clip steps, inner searches) run sequentially in
        the fold's worker rather than as cluster tasks.
    results_dir : str or path-like, default=None
        If given, each finished fold is written there atomically (one JSON file per
        seed and fold, in a sub-folder named after a hash of the estimator's
        parameters, labels, groups and folds); a rerun with the same arguments
        reuses the finished folds and computes only the missing ones, so an
        interrupted evaluation resumes.
    route_groups : "auto", list of str or None, default="auto"
        How the *training* subjects reach inner, subject-grouped CVs (grid search
        over ``magnifier__alpha``, early stopping on an inner split): the training
        part of ``groups`` is passed to ``fit`` under each of these names.
        ``"auto"``: ``groups`` if the estimator's ``fit`` takes a ``groups``
        argument (``GridSearchCV``), and ``<step>__groups`` for every Pipeline step
        whose ``fit`` takes one.  ``None`` passes nothing.  The test fold's groups
        never reach ``fit``.
    verbose : int, default=0
        Log progress at INFO level when > 0.
    progress : bool, default=None
        Show a tqdm progress bar over folds (default: when ``verbose > 0``).

    Returns
    -------
    report : LOSOReport
        Pooled scores per seed, their mean and std, per-sample predictions,
        confusion matrices.

    Raises
    ------
    ValueError
        Empty ``X``, lengths of ``X``, ``y``, ``groups`` (``datasets``) that differ,
        or fewer than two subjects.

    See Also
    --------
    skmer.metrics.uf1_score, skmer.metrics.uar_score

    Notes
    -----
    The number reported is the MEGC2019 one: predictions of all folds are pooled
    and UF1 (macro F1) and UAR (macro recall) are computed once.  The standard
    deviation over seeds uses ``ddof=1`` (0 for a single seed).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmer.model_selection import evaluate_loso
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 5)); y = (X[:, 0] > 0).astype(int)
    >>> groups = np.repeat([f"d/s{i}" for i in range(8)], 5)
    >>> report = evaluate_loso(LogisticRegression(), X, y, groups)
    >>> report.n_folds, round(report.uf1, 2) > 0.8
    (8, True)
    """
    y, groups, *rest = check_loso_inputs(X, y, groups, datasets)
    datasets = rest[0] if rest else None
    if isinstance(seeds, (int, np.integer)):
        seeds = (int(seeds),)
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct; got {seeds}.")
    splits = list(LeaveOneGroupOut().split(np.zeros(len(y)), y, groups))
    rs_params = _random_state_params(estimator)
    if route_groups == "auto":
        group_routes = _groups_routes(estimator)
    elif route_groups is None:
        group_routes = []
    elif isinstance(route_groups, str):
        raise ValueError(
            f"route_groups must be 'auto', None or a list of fit-parameter names; "
            f"got {route_groups!r}.")
    else:
        group_routes = list(route_groups)
    if len(seeds) > 1 and not rs_params:
        warnings.warn(
            f"{type(estimator).__name__} has no random_state parameter; repeated "
            "seeds will give identical results.", UserWarning, stacklevel=2)

    run_key = None
    out_dir = None
    done = {}
    if results_dir is not None:
        run_key = _run_key(estimator, y, groups, splits)
        out_dir = Path(results_dir) / f"loso-{run_key[:16]}"
        out_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write_json(out_dir / "run.json", {
            "run_key": run_key, "estimator": repr(estimator),
            "n_samples": len(y), "n_folds": len(splits), "seeds": list(seeds)})
        for f in out_dir.glob("seed*_fold*.json"):
            try:
                res = json.loads(f.read_text())
            except (OSError, json.JSONDecodeError):
                logger.warning("Ignoring unreadable fold file %s", f)
                continue
            if res.get("run_key") == run_key and res.get("version") == _FORMAT_VERSION:
                done[(res["seed"], res["fold"])] = res

    tasks = [(s, k) for s in seeds for k in range(len(splits)) if (s, k) not in done]
    if done:
        logger.info("Resuming: %d of %d fold(s) already done in %s", len(done),
                    len(done) + len(tasks), out_dir)

    def path_of(s, k):
        return None if out_dir is None else out_dir / f"seed{s}_fold{k:03d}.json"

    from sklearn.utils.parallel import Parallel, delayed

    if progress is None:
        progress = verbose > 0
    t0 = time.perf_counter()
    results = list(done.values())
    if tasks:
        from joblib import effective_n_jobs
        from joblib.parallel import get_active_backend

        try:
            parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        except ValueError:
            # a backend without result generators (ray, multiprocessing): a list,
            # the same results (a progress bar then fills at the end)
            parallel = Parallel(n_jobs=n_jobs)
        # Parallel folds already occupy the workers.  On a backend whose default
        # is "all workers" (dask, which also ignores n_jobs), a fold's nested
        # joblib calls would go back to the cluster, one task per clip of a
        # per-clip step; run them sequentially in the fold's worker instead.
        nested_sequential = bool(
            len(tasks) > 1 and effective_n_jobs(n_jobs) != 1
            and getattr(get_active_backend()[0], "default_n_jobs", 1) != 1)
        gen = parallel(
            delayed(_fit_predict)(estimator, X, y, groups, splits[k][0], splits[k][1],
                                  s, k, rs_params, group_routes, path_of(s, k),
                                  run_key, nested_sequential)
            for s, k in tasks
        )
        if progress:
            from tqdm.auto import tqdm

            gen = tqdm(gen, total=len(tasks), desc="LOSO folds", unit="fold")
        for res in gen:
            results.append(res)
            if verbose > 1:
                logger.info("seed %d fold %d done (%.1f s)", res["seed"], res["fold"],
                            res["total_time"])
    wall = time.perf_counter() - t0
    return LOSOReport._from_results(
        results, y=y, groups=groups, datasets=datasets, seeds=seeds,
        n_folds=len(splits), estimator_name=_estimator_name(estimator),
        wall_time=wall, n_reused=len(done))


def _estimator_name(estimator):
    steps = getattr(estimator, "steps", None)
    if steps:
        return " > ".join(type(s[1]).__name__ for s in steps
                          if s[1] not in (None, "passthrough"))
    return type(estimator).__name__


def _fmt(mean, std, n_seeds):
    return f"{mean:.4f}" if n_seeds == 1 else f"{mean:.4f} ± {std:.4f}"


class LOSOReport:
    """Result of :func:`evaluate_loso`.

    Attributes
    ----------
    predictions : pandas.DataFrame
        One row per sample and seed: ``sample``, ``seed``, ``fold``, ``group``,
        ``dataset``, ``y_true``, ``y_pred``.
    scores : pandas.DataFrame
        Pooled scores per seed and scope (``"overall"`` or a dataset):
        ``uf1``, ``uar``, ``accuracy``, ``n``.
    seeds : tuple of int
    n_folds : int
    labels : ndarray
        The classes (sorted unique ``y``), the order of the confusion matrices.
    estimator_name : str
    wall_time : float
        Seconds spent computing the folds of this call (reused folds excluded).
    fit_time : float
        Sum of the per-fold fit times, reused folds included.
    n_reused : int
        Folds read back from ``results_dir`` instead of computed.
    """

    def __init__(self, predictions: pd.DataFrame, scores: pd.DataFrame, *,
                 seeds: Sequence[int], n_folds: int, labels: ArrayLike,
                 estimator_name: str, wall_time: float, fit_time: float,
                 n_reused: int = 0) -> None:
        self.predictions = predictions
        self.scores = scores
        self.seeds = tuple(seeds)
        self.n_folds = n_folds
        self.labels = labels
        self.estimator_name = estimator_name
        self.wall_time = wall_time
        self.fit_time = fit_time
        self.n_reused = n_reused

    @classmethod
    def _from_results(cls, results, *, y, groups, datasets, seeds, n_folds,
                      estimator_name, wall_time, n_reused):
        import pandas as pd

        n = len(y)
        rows = []
        fit_time = 0.0
        for res in sorted(results, key=lambda r: (r["seed"], r["fold"])):
            fit_time += res["fit_time"]
            for i, p in zip(res["test"], res["y_pred"]):
                rows.append((i, res["seed"], res["fold"], p))
        pred = pd.DataFrame(rows, columns=["sample", "seed", "fold", "y_pred"])
        pred = pred.sort_values(["seed", "sample"]).reset_index(drop=True)
        if len(pred) != n * len(seeds):
            raise RuntimeError(
                f"Expected {n * len(seeds)} out-of-fold predictions, got {len(pred)}.")
        idx = pred["sample"].to_numpy()
        pred["group"] = groups[idx]
        pred["dataset"] = datasets[idx] if datasets is not None else "all"
        pred["y_true"] = y[idx]
        # predictions read back from JSON lose numpy dtypes: cast to y's dtype
        pred["y_pred"] = np.asarray(pred["y_pred"].tolist()).astype(y.dtype)
        labels = np.unique(y)
        score_rows = []
        for s in seeds:
            ps = pred[pred["seed"] == s]
            scopes = [("overall", ps)]
            if datasets is not None:
                scopes += [(d, ps[ps["dataset"] == d]) for d in np.unique(datasets)]
            for scope, sub in scopes:
                sc = megc_scores(sub["y_true"].to_numpy(), sub["y_pred"].to_numpy())
                score_rows.append({"seed": s, "scope": scope, **sc})
        scores = pd.DataFrame(score_rows)
        return cls(pred, scores, seeds=seeds, n_folds=n_folds, labels=labels,
                   estimator_name=estimator_name, wall_time=wall_time,
                   fit_time=fit_time, n_reused=n_reused)

    # -- headline numbers -----------------------------------------------------------
    def _overall(self, metric):
        return self.scores.loc[self.scores["scope"] == "overall", metric].to_numpy()

    @property
    def uf1(self) -> float:
        """float: pooled UF1, mean over seeds."""
        return float(np.mean(self._overall("uf1")))

    @property
    def uar(self) -> float:
        """float: pooled UAR, mean over seeds."""
        return float(np.mean(self._overall("uar")))

    @property
    def accuracy(self) -> float:
        """float: pooled accuracy, mean over seeds."""
        return float(np.mean(self._overall("accuracy")))

    def to_frame(self) -> pd.DataFrame:
        """Mean and std over seeds of the pooled scores, one row per scope.

        Returns
        -------
        pandas.DataFrame
            Index ``scope`` (``"overall"`` first, then datasets); columns
            ``uf1_mean, uf1_std, uar_mean, uar_std, accuracy_mean, accuracy_std, n``.
        """
        import pandas as pd

        ddof = 1 if len(self.seeds) > 1 else 0
        g = self.scores.groupby("scope", sort=False)
        out = pd.DataFrame({
            f"{m}_{stat}": getattr(g[m], stat)(**({"ddof": ddof} if stat == "std"
                                                   else {}))
            for m in ("uf1", "uar", "accuracy") for stat in ("mean", "std")
        })
        out["n"] = g["n"].first()
        out.index.name = "scope"
        return out

    def to_markdown(self, title: str | None = None) -> str:
        """A markdown table of the pooled scores (mean ± std over seeds)."""
        frame = self.to_frame()
        k = len(self.seeds)
        lines = []
        if title:
            lines += [f"### {title}", ""]
        lines += ["| scope | n | UF1 | UAR | accuracy |",
                  "|---|---:|---:|---:|---:|"]
        for scope, r in frame.iterrows():
            lines.append(
                f"| {scope} | {int(r['n'])} | {_fmt(r.uf1_mean, r.uf1_std, k)} | "
                f"{_fmt(r.uar_mean, r.uar_std, k)} | "
                f"{_fmt(r.accuracy_mean, r.accuracy_std, k)} |")
        lines += ["", f"{self.estimator_name}; {self.n_folds}-fold LOSO, pooled "
                  f"predictions, seeds {list(self.seeds)}; fold compute "
                  f"{self.wall_time:.1f} s wall"
                  + (f" ({self.n_reused} fold(s) reused)" if self.n_reused else "")]
        return "\n".join(lines)

    def __repr__(self):
        return (f"LOSOReport({self.estimator_name}, folds={self.n_folds}, "
                f"seeds={list(self.seeds)}, UF1={self.uf1:.4f}, UAR={self.uar:.4f})")

    def confusion_matrix(self, seed: int | None = None,
                         dataset: str | None = None) -> np.ndarray:
        """Pooled confusion matrix (rows true, columns predicted, order ``labels``).

        Parameters
        ----------
        seed : int, default=None
            One seed, or the sum over all seeds.
        dataset : str, default=None
            Restrict to one dataset.
        """
        from sklearn.metrics import confusion_matrix

        p = self.predictions
        if seed is not None:
            p = p[p["seed"] == seed]
        if dataset is not None:
            p = p[p["dataset"] == dataset]
        return confusion_matrix(p["y_true"], p["y_pred"], labels=self.labels)

    def per_subject(self) -> pd.DataFrame:
        """Accuracy and sample count per subject (informative only, not the metric)."""
        p = self.predictions
        ok = p["y_true"] == p["y_pred"]
        return (p.assign(correct=ok).groupby("group")
                .agg(n=("correct", "size"), accuracy=("correct", "mean")))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary: per-scope mean/std and per-seed scores."""
        frame = self.to_frame()
        return {
            "estimator": self.estimator_name,
            "n_folds": self.n_folds,
            "seeds": list(self.seeds),
            "wall_time_s": self.wall_time,
            "summary": {s: {k: float(v) for k, v in r.items()}
                        for s, r in frame.iterrows()},
            "per_seed": self.scores.to_dict(orient="records"),
            "labels": [_json_label(v) for v in self.labels],
            "confusion_matrix": self.confusion_matrix().tolist(),
        }

    def plot(self, ax: Axes | None = None, *, normalize: bool = True,
             display_labels: list[str] | None = None, title: str | None = None) -> Axes:
        """Plot the pooled confusion matrix (summed over seeds).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        normalize : bool, default=True
            Rows normalised to recall.
        display_labels : list of str, default=None
            Class names to show (default: ``labels``).
        title : str, default=None

        Returns
        -------
        ax : matplotlib Axes
        """
        import matplotlib.pyplot as plt

        cm = self.confusion_matrix().astype(float)
        if ax is None:
            _, ax = plt.subplots(figsize=(4.2, 3.8))
        shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
        im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
        names = display_labels if display_labels is not None else [
            str(v) for v in self.labels]
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                txt = f"{shown[i, j]:.2f}\n({int(cm[i, j])})" if normalize else \
                    f"{int(cm[i, j])}"
                ax.text(j, i, txt, ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > 0.6 * shown.max() else "black")
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        ax.set_title(title or f"UF1 {self.uf1:.3f}  UAR {self.uar:.3f}", fontsize=10)
        ax.figure.tight_layout()
        return ax
