"""The result of a LOSO evaluation: pooled scores, predictions, probabilities."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from skmer.metrics import megc_scores
from skmer.model_selection._storage import _json_label

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    import pandas as pd
    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike


def _estimator_name(estimator):
    steps = getattr(estimator, "steps", None)
    if steps:
        return " > ".join(type(s[1]).__name__ for s in steps
                          if s[1] not in (None, "passthrough"))
    return type(estimator).__name__


def _fmt(mean, std, n_seeds):
    return f"{mean:.4f}" if n_seeds == 1 else f"{mean:.4f} ± {std:.4f}"


def _predictions(results, *, y, groups, datasets, seeds):
    """Build the predictions frame and the aligned probability matrix (or None)."""
    import pandas as pd

    n = len(y)
    rows = []
    for res in sorted(results, key=lambda r: (r["seed"], r["fold"])):
        for i, p in zip(res["test"], res["y_pred"]):
            rows.append((i, res["seed"], res["fold"], p))
    pred = pd.DataFrame(rows, columns=["sample", "seed", "fold", "y_pred"])
    proba = _probability_matrix(results, pred, y)
    pred = pred.sort_values(["seed", "sample"])
    if proba is not None:
        proba = proba.iloc[pred.index.to_numpy()].reset_index(drop=True)
    pred = pred.reset_index(drop=True)
    if len(pred) != n * len(seeds):
        raise RuntimeError(
            f"Expected {n * len(seeds)} out-of-fold predictions, got {len(pred)}.")
    idx = pred["sample"].to_numpy()
    pred["group"] = groups[idx]
    pred["dataset"] = datasets[idx] if datasets is not None else "all"
    pred["y_true"] = y[idx]
    # predictions read back from JSON lose numpy dtypes: cast to y's dtype
    pred["y_pred"] = np.asarray(pred["y_pred"].tolist()).astype(y.dtype)
    return pred, proba


def _probability_matrix(results, pred, y):
    """Out-of-fold probabilities in the row order of ``pred`` (before sorting).

    Columns are the sorted labels of ``y`` (and any other class an estimator
    knew); a class a fold's estimator did not know gets probability 0.
    """
    import pandas as pd

    ordered = sorted(results, key=lambda r: (r["seed"], r["fold"]))
    if not ordered or any(r.get("proba") is None for r in ordered):
        return None
    classes = [np.asarray(r["classes"]).astype(y.dtype) for r in ordered]
    columns = np.unique(np.concatenate([np.unique(y), *classes]))
    where = {c: j for j, c in enumerate(columns.tolist())}
    out = np.zeros((len(pred), len(columns)))
    start = 0
    for r, cls in zip(ordered, classes):
        block = np.asarray(r["proba"], dtype=float).reshape(len(r["test"]), len(cls))
        cols = [where[c] for c in cls.tolist()]
        out[start:start + len(block), cols] = block
        start += len(block)
    return pd.DataFrame(out, columns=pd.Index(columns))


def _scores(pred, seeds, scopes):
    """Pooled scores per seed, overall and per scope (dataset)."""
    import pandas as pd

    rows = []
    for s in seeds:
        ps = pred[pred["seed"] == s]
        parts = [("overall", ps)] + [(d, ps[ps["dataset"] == d]) for d in scopes]
        for scope, sub in parts:
            sc = megc_scores(sub["y_true"].to_numpy(), sub["y_pred"].to_numpy())
            rows.append({"seed": s, "scope": scope, **sc})
    return pd.DataFrame(rows)


class LOSOReport:
    """Result of :func:`evaluate_loso`.

    Parameters
    ----------
    predictions : pandas.DataFrame
        One row per sample and seed (see Attributes).
    scores : pandas.DataFrame
        Pooled scores per seed and scope (see Attributes).
    seeds : sequence of int
        The seeds of the evaluation.
    n_folds : int
        Number of folds (subjects).
    labels : array-like
        The classes, in the order of the confusion matrices.
    estimator_name : str
        A short name of the evaluated estimator.
    wall_time : float
        Seconds spent computing the folds.
    fit_time : float
        Sum of the per-fold fit times.
    n_reused : int, default=0
        Folds read back from the resume files.
    probabilities : pandas.DataFrame or None, default=None
        Out-of-fold class probabilities aligned with ``predictions``.

    Attributes
    ----------
    predictions : pandas.DataFrame
        One row per sample and seed, sorted by seed then sample: ``sample``,
        ``seed``, ``fold``, ``group``, ``dataset``, ``y_true``, ``y_pred``.
    probabilities : pandas.DataFrame or None
        The out-of-fold ``predict_proba`` of the fold that held each sample out,
        row for row aligned with ``predictions`` (same index), one column per
        class label (sorted; a class the fold's estimator did not know has
        probability 0).  ``None`` when the estimator has no ``predict_proba``.
        ``y_pred`` comes from ``predict``, which need not be the argmax of these
        (e.g. an SVC's Platt probabilities).
    scores : pandas.DataFrame
        Pooled scores per seed and scope (``"overall"`` or a dataset):
        ``uf1``, ``uar``, ``accuracy``, ``n``.
    seeds : tuple of int
        The seeds of the evaluation.
    n_folds : int
        Number of folds (subjects).
    labels : ndarray
        The classes (sorted unique ``y``), the order of the confusion matrices.
    estimator_name : str
        A short name of the evaluated estimator.
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
                 n_reused: int = 0,
                 probabilities: pd.DataFrame | None = None) -> None:
        self.predictions = predictions
        self.scores = scores
        self.seeds = tuple(seeds)
        self.n_folds = n_folds
        self.labels = labels
        self.estimator_name = estimator_name
        self.wall_time = wall_time
        self.fit_time = fit_time
        self.n_reused = n_reused
        self.probabilities = probabilities

    @classmethod
    def _from_results(cls, results, *, y, groups, datasets, seeds, n_folds,
                      estimator_name, wall_time, n_reused):
        pred, proba = _predictions(results, y=y, groups=groups, datasets=datasets,
                                   seeds=seeds)
        scopes = list(np.unique(datasets)) if datasets is not None else []
        return cls(pred, _scores(pred, seeds, scopes), seeds=seeds, n_folds=n_folds,
                   labels=np.unique(y), estimator_name=estimator_name,
                   wall_time=wall_time,
                   fit_time=float(sum(r["fit_time"] for r in results)),
                   n_reused=n_reused, probabilities=proba)

    @classmethod
    def soft_vote(cls, reports: Iterable[LOSOReport],
                  weights: ArrayLike | None = None) -> LOSOReport:
        """Average the out-of-fold probabilities of several reports (no retraining).

        The ensemble predicts, for every sample, the class of highest weighted
        mean probability (ties go to the first label in sorted order); its scores
        are pooled as :func:`evaluate_loso` pools them.  Each sample's
        probabilities come from folds that never trained on its subject, so the
        ensemble is as honest as its members, provided the members and the
        weights were not chosen by looking at these LOSO scores.

        Parameters
        ----------
        reports : iterable of LOSOReport
            Reports of the same samples, labels, subjects (hence folds) and, where
            given, datasets, each with ``probabilities``.
        weights : array-like of shape (n_reports,), default=None
            Non-negative weights of the reports (``None``: equal weights).

        Returns
        -------
        report : LOSOReport
            The soft vote, with its ``probabilities``.  Seeds: reports with
            several seeds must have the same seeds, and a report with a single
            seed is used for every one of them (seed ``s`` of the vote averages
            seed ``s`` of the multi-seed reports with the single seed of the
            others); when every report has one seed, the vote has the first
            report's seed.

        Raises
        ------
        ValueError
            A report without probabilities, reports of different samples,
            labels, subjects, folds or datasets, multi-seed reports with
            different seeds, or bad weights.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn.naive_bayes import GaussianNB
        >>> from skmer.model_selection import LOSOReport, evaluate_loso
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(40, 5)); y = (X[:, 0] > 0).astype(int)
        >>> groups = np.repeat([f"d/s{i}" for i in range(8)], 5)
        >>> lr = evaluate_loso(LogisticRegression(), X, y, groups, n_jobs=1)
        >>> nb = evaluate_loso(GaussianNB(), X, y, groups, n_jobs=1)
        >>> vote = LOSOReport.soft_vote([lr, nb], weights=[2, 1])
        >>> vote.probabilities.shape, vote.n_folds
        ((40, 2), 8)
        """
        import pandas as pd

        reports = list(reports)
        if not reports:
            raise ValueError("soft_vote needs at least one report.")
        for i, r in enumerate(reports):
            if not isinstance(r, LOSOReport):
                raise ValueError(f"reports[{i}] is a {type(r).__name__}, not a "
                                 "LOSOReport.")
            if r.probabilities is None:
                raise ValueError(
                    f"reports[{i}] ({r.estimator_name}) has no probabilities: its "
                    "estimator has no predict_proba.")
        w = np.ones(len(reports)) if weights is None else np.asarray(weights, float)
        if (w.shape != (len(reports),) or not np.all(np.isfinite(w))
                or np.any(w < 0) or w.sum() <= 0):
            raise ValueError(
                f"weights must be {len(reports)} finite non-negative numbers, not "
                f"all zero; got {weights!r}.")
        multi = [r.seeds for r in reports if len(r.seeds) > 1]
        if any(s != multi[0] for s in multi):
            raise ValueError(
                "reports with several seeds must have the same seeds; got "
                f"{[list(r.seeds) for r in reports]}.")
        seeds = multi[0] if multi else reports[0].seeds

        def rows(r, s):
            mask = (r.predictions["seed"] == (s if len(r.seeds) > 1 else r.seeds[0]))
            return r.predictions[mask], r.probabilities[mask.to_numpy()]

        ref, _ = rows(reports[0], seeds[0])
        for i, r in enumerate(reports[1:], start=1):
            p, _ = rows(r, seeds[0])
            for col in ("sample", "y_true", "group", "fold", "dataset"):
                if len(p) != len(ref) or not np.array_equal(
                        p[col].to_numpy(), ref[col].to_numpy()):
                    raise ValueError(
                        f"reports[{i}] ({r.estimator_name}) does not match "
                        f"reports[0] ({reports[0].estimator_name}): different "
                        f"{'number of samples' if len(p) != len(ref) else col}.")
        columns = np.unique(np.concatenate(
            [np.asarray(r.probabilities.columns) for r in reports]))
        y_dtype = ref["y_true"].to_numpy().dtype
        parts, probas = [], []
        for s in seeds:
            acc = np.zeros((len(ref), len(columns)))
            for r, wi in zip(reports, w):
                acc += wi * rows(r, s)[1].reindex(
                    columns=pd.Index(columns), fill_value=0.0).to_numpy()
            acc /= w.sum()
            part = ref.copy()
            part["seed"] = s
            part["y_pred"] = columns[np.argmax(acc, axis=1)].astype(y_dtype)
            parts.append(part)
            probas.append(acc)
        pred = pd.concat(parts, ignore_index=True)
        proba = pd.DataFrame(np.vstack(probas), columns=pd.Index(columns))
        scopes = [sc for sc in pd.unique(reports[0].scores["scope"])
                  if sc != "overall"]
        names = ", ".join(r.estimator_name for r in reports)
        if weights is not None:
            names += "; weights " + ", ".join(f"{v:g}" for v in w)
        return cls(pred, _scores(pred, seeds, scopes), seeds=seeds,
                   n_folds=reports[0].n_folds, labels=reports[0].labels,
                   estimator_name=f"soft vote ({names})", wall_time=0.0,
                   fit_time=float(sum(r.fit_time for r in reports)),
                   probabilities=proba)

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
        """Return a markdown table of the pooled scores (mean ± std over seeds)."""
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

        Drawn by :func:`skmer.plotting.plot_confusion_matrix`.

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
        from skmer.plotting import plot_confusion_matrix

        names = display_labels if display_labels is not None else [
            str(v) for v in self.labels]
        return plot_confusion_matrix(
            self.confusion_matrix(), names, ax=ax, normalize=normalize,
            title=title or f"UF1 {self.uf1:.3f}  UAR {self.uar:.3f}")
