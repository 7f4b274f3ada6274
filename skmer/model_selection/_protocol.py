"""The LOSO protocol: fold seeds, metadata routes and one fold's fit and predict."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import clone

from skmer.model_selection._storage import (
    _FORMAT_VERSION,
    _atomic_write_json,
    _json_label,
)

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


def fold_seed(seed: int, fold: int) -> int:
    """Return the ``random_state`` given to fold ``fold`` of seed ``seed``.

    Derived with :class:`numpy.random.SeedSequence` so that folds and seeds get
    independent, reproducible streams.

    Parameters
    ----------
    seed : int
        Seed of the repeated evaluation.
    fold : int
        Index of the fold (subjects in sorted order).

    Returns
    -------
    random_state : int
        A seed in ``[0, 2**31 - 1)``.

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
    return tuple(k for k in estimator.get_params(deep=True)
                 if k == "random_state" or k.endswith("__random_state"))


# ----------------------------------------------------------------- metadata routes
@dataclass(frozen=True)
class _Routes:
    """Which metadata each method of a fold's estimator receives.

    Each entry is ``(parameter name, metadata key)``: the training part of
    ``metadata[key]`` goes to ``fit(**{name: ...})``, the test part to
    ``predict`` / ``predict_proba``.
    """

    fit: tuple[tuple[str, str], ...] = ()
    predict: tuple[tuple[str, str], ...] = ()
    predict_proba: tuple[tuple[str, str], ...] = ()


def _wants_groups(estimator):
    """Tell whether ``estimator.fit`` takes ``groups`` (compatibility path).

    Explicitly, or a scikit-learn search (``GridSearchCV`` & co. take ``groups``
    through ``**params``).  Other estimators with an inner ``cv`` and
    ``**fit_params`` (e.g. ``CalibratedClassifierCV``) forward those to their
    sub-estimator, not to the splitter, so they are not sent groups.
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

    The compatibility path used while scikit-learn's metadata routing is off:
    ``groups`` if the estimator's ``fit`` takes it (e.g. ``GridSearchCV``); for a
    Pipeline, ``<step>__groups`` for every step whose ``fit`` takes it.
    """
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        return [f"{name}__groups" for name, step in steps
                if step not in (None, "passthrough") and _wants_groups(step)]
    return ["groups"] if _wants_groups(estimator) else []


def _requested(estimator, method, names):
    """Return the metadata of ``names`` that ``estimator.<method>`` requests."""
    from sklearn.utils.metadata_routing import get_routing_for_object

    return get_routing_for_object(estimator).consumes(method, list(names))


def _plan_routes(estimator, route_groups, *, has_datasets):
    """Build the :class:`_Routes` of ``evaluate_loso``'s ``route_groups``."""
    import sklearn

    if isinstance(route_groups, str) and route_groups != "auto":
        raise ValueError(
            f"route_groups must be 'auto', None or a list of fit-parameter names; "
            f"got {route_groups!r}.")
    routing = sklearn.get_config().get("enable_metadata_routing", False)
    available = ("groups", "datasets") if has_datasets else ("groups",)
    fit, predict, proba = [], [], []
    if routing:
        wanted = _requested(estimator, "fit", available)
        if route_groups == "auto" and "groups" in wanted:
            fit.append(("groups", "groups"))
        if "datasets" in wanted:
            fit.append(("datasets", "datasets"))
        if has_datasets:
            if "datasets" in _requested(estimator, "predict", ["datasets"]):
                predict.append(("datasets", "datasets"))
            if ("datasets" in _requested(estimator, "predict_proba", ["datasets"])
                    and hasattr(estimator, "predict_proba")):
                proba.append(("datasets", "datasets"))
    elif route_groups == "auto":
        fit += [(name, "groups") for name in _groups_routes(estimator)]
    if route_groups is not None and route_groups != "auto":
        fit += [(name, "groups") for name in route_groups]
    return _Routes(tuple(fit), tuple(predict), tuple(proba))


# ------------------------------------------------------------------ one fold
def _index(X, idx):
    """Index X (list, ndarray, ClipSequence, pandas) with an integer array."""
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if isinstance(X, (list, tuple)):
        return [X[i] for i in idx]
    return X[idx]


@dataclass(frozen=True)
class _FoldTask:
    """Everything one (seed, fold) needs except ``X``.

    ``X`` travels as its own argument of :func:`_fit_predict`, so that joblib's
    cluster backends (dask) send it to the workers once rather than once per fold.
    """

    estimator: Any
    y: np.ndarray
    train: np.ndarray
    test: np.ndarray
    seed: int
    fold: int
    rs_params: tuple[str, ...] = ()
    routes: _Routes = field(default_factory=_Routes)
    metadata: dict[str, np.ndarray] = field(default_factory=dict)
    out_path: Path | None = None
    run_key: str | None = None
    # run the fold's own joblib calls in place (a fold on a cluster worker)
    nested_sequential: bool = False

    def params(self, method, idx):
        """Metadata routed to ``method``, restricted to the samples ``idx``."""
        return {name: self.metadata[key][idx]
                for name, key in getattr(self.routes, method)}


def _fit_predict(task: _FoldTask, X) -> dict[str, Any]:
    """Fit a fresh clone on the training subjects of one fold, predict the test fold.

    Runs with one BLAS / OpenMP / torch thread (restored afterwards): parallel
    folds then cannot oversubscribe the cores, and the thread count, which
    changes floating-point reductions, is the same whatever ``n_jobs``.
    """
    from skmer.model_selection._backend import _one_thread

    if task.nested_sequential:
        # parallel folds on a cluster backend (dask): joblib calls inside the fold
        # run here, not as one cluster task per clip (dask ignores n_jobs)
        from joblib import parallel_config

        with parallel_config(backend="sequential"), _one_thread():
            return _run_fold(task, X)
    with _one_thread():
        return _run_fold(task, X)


def _run_fold(task, X):
    est = clone(task.estimator)
    rs = fold_seed(task.seed, task.fold)
    if task.rs_params:
        est.set_params(**{k: rs for k in task.rs_params})
    train, test = task.train, task.test
    t0 = time.perf_counter()
    est.fit(_index(X, train), task.y[train], **task.params("fit", train))
    t_fit = time.perf_counter() - t0
    X_test = _index(X, test)
    y_pred = np.asarray(est.predict(X_test, **task.params("predict", test)))
    if y_pred.shape != (len(test),):
        raise ValueError(
            f"{type(task.estimator).__name__}.predict returned shape {y_pred.shape} "
            f"for {len(test)} test samples."
        )
    proba, classes = _predict_proba(est, X_test, task.params("predict_proba", test),
                                    len(test))
    result = _fold_result(seed=task.seed, fold=task.fold, random_state=rs,
                          test=test, y_pred=y_pred, proba=proba, classes=classes,
                          fit_time=t_fit, total_time=time.perf_counter() - t0,
                          run_key=task.run_key, engine="per-fold")
    if task.out_path is not None:
        _atomic_write_json(task.out_path, result)
    return result


def _predict_proba(est, X_test, params, n_test):
    """Return the test fold's class probabilities and their labels, or Nones.

    ``predict_proba`` is called on its own (``predict`` gave ``y_pred``), so the
    predictions are exactly what they are without it.
    """
    if not hasattr(est, "predict_proba"):
        return None, None
    classes = getattr(est, "classes_", None)
    if classes is None:
        return None, None
    proba = np.asarray(est.predict_proba(X_test, **params), dtype=float)
    if proba.shape != (n_test, len(classes)):
        raise ValueError(
            f"{type(est).__name__}.predict_proba returned shape {proba.shape} for "
            f"{n_test} test samples and {len(classes)} classes.")
    return proba, classes


def _fold_result(*, seed, fold, random_state, test, y_pred, proba, classes,
                 fit_time, total_time, run_key, engine):
    """One fold's JSON-able result dict (the resume files' format)."""
    return {
        "version": _FORMAT_VERSION,
        "run_key": run_key,
        "engine": engine,
        "seed": int(seed),
        "fold": int(fold),
        "random_state": int(random_state),
        "test": [int(i) for i in test],
        "y_pred": [_json_label(v) for v in np.asarray(y_pred)],
        "proba": None if proba is None else np.asarray(proba, float).tolist(),
        "classes": None if classes is None else [_json_label(v) for v in classes],
        "fit_time": float(fit_time),
        "total_time": float(total_time),
    }
