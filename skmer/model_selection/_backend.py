"""Where the folds run: joblib workers, thread limits, the fold-batched engine.

torch is never imported here: a fold worker limits torch's threads only when the
estimator has already imported it (``sys.modules``).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from numbers import Integral

import numpy as np

from skmer.model_selection._protocol import _fit_predict, _fold_result

logger = logging.getLogger("skmer.model_selection")

_ENGINES = ("auto", "per-fold", "fold-batched")

# n_jobs=None: folds that would all run within this many seconds one after another
# stay in the calling process (worker start-up would cost more than it saves)
_SEQUENTIAL_BELOW_S = 10.0


# ------------------------------------------------------------------ thread limits
_LIMIT_LOCK = threading.Lock()
_LIMIT_DEPTH = 0
_LIMITER = None


@contextmanager
def _one_thread():
    """Run the block with one BLAS / OpenMP thread and one torch intra-op thread.

    The caller's settings are restored on exit.  Folds that run as threads of one
    process (a threaded dask worker) share the process-wide BLAS setting: it is
    set by the first fold to enter and restored by the last to leave.  torch's
    thread count is set and restored in the fold's own thread, as OpenMP keeps it
    per thread.
    """
    global _LIMIT_DEPTH, _LIMITER
    from threadpoolctl import threadpool_limits

    with _LIMIT_LOCK:
        if _LIMIT_DEPTH == 0:
            _LIMITER = threadpool_limits(limits=1)
        _LIMIT_DEPTH += 1
    torch = sys.modules.get("torch")
    previous = None
    try:
        if torch is not None:
            previous = torch.get_num_threads()
            if previous != 1:
                torch.set_num_threads(1)
        yield
    finally:
        if previous is not None and previous != 1:
            torch.set_num_threads(previous)
        with _LIMIT_LOCK:
            _LIMIT_DEPTH -= 1
            if _LIMIT_DEPTH == 0:
                _LIMITER.restore_original_limits()
                _LIMITER = None


# ------------------------------------------------------------------ n_jobs
def _check_n_jobs(n_jobs):
    if n_jobs is None:
        return
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, Integral) or (
            n_jobs == 0):
        raise ValueError(
            "n_jobs must be None (folds in parallel over the available cores), a "
            "positive int (at most that many folds at once) or a negative int "
            f"(-1: all cores, -2: all but one, ...); got {n_jobs!r}.")


def _user_parallel_config():
    """Tell whether a ``joblib.parallel_config`` sets a backend or n_jobs here.

    Also true in a joblib worker, where joblib sets the nested backend.
    """
    from joblib import parallel

    config = getattr(parallel._backend, "config", None)
    if config is None:
        return False
    defaults = parallel.default_parallel_config
    return any(config.get(k, defaults[k]) is not defaults[k]
               for k in ("backend", "n_jobs"))


@dataclass(frozen=True)
class _Plan:
    """How the folds of one call run."""

    n_jobs: int
    # our own loky backend with one thread per worker (None: the active backend)
    own_loky: bool
    nested_sequential: bool
    # n_jobs=None outside any parallel_config: time the first fold in place
    probe: bool = False


def _plan(n_jobs, n_tasks):
    """Workers for ``n_tasks`` folds: never more than the folds, never 0."""
    from joblib import cpu_count, effective_n_jobs
    from joblib.parallel import get_active_backend

    user_config = _user_parallel_config()
    if n_jobs is None and not user_config:
        n = cpu_count(only_physical_cores=False)
    else:
        n = effective_n_jobs(n_jobs)
    n = max(1, min(int(n), n_tasks))
    # Parallel folds already occupy the workers.  On a backend whose default is
    # "all workers" (dask, which also ignores n_jobs), a fold's nested joblib calls
    # would go back to the cluster, one task per clip of a per-clip step; run them
    # sequentially in the fold's worker instead.
    nested = bool(n > 1 and user_config
                  and getattr(get_active_backend()[0], "default_n_jobs", 1) != 1)
    return _Plan(n_jobs=n, own_loky=n > 1 and not user_config,
                 nested_sequential=nested,
                 probe=n > 1 and n_jobs is None and not user_config)


def _run_per_fold(tasks, X, n_jobs):
    """Run ``_fit_predict`` on every task; yields results as they finish."""
    from joblib import parallel_config
    from sklearn.utils.parallel import Parallel, delayed

    plan = _plan(n_jobs, len(tasks))
    if plan.probe:
        # Starting worker processes (and importing torch in each) takes seconds:
        # the default runs the first fold here, and the others in parallel only
        # when they would take longer than that one after another.
        t0 = time.perf_counter()
        yield _fit_predict(tasks[0], X)
        tasks = tasks[1:]
        if (time.perf_counter() - t0) * len(tasks) < _SEQUENTIAL_BELOW_S:
            plan = replace(plan, n_jobs=1)
        else:
            plan = _plan(n_jobs, len(tasks))
    if plan.n_jobs == 1:
        for task in tasks:
            yield _fit_predict(task, X)
        return
    if plan.nested_sequential:
        tasks = [replace(t, nested_sequential=True) for t in tasks]
    calls = (delayed(_fit_predict)(task, X) for task in tasks)
    # our loky backend sets OMP/MKL/OPENBLAS_NUM_THREADS=1 in the workers it
    # starts, so a library imported there starts with one thread as well
    context = (parallel_config(backend="loky", inner_max_num_threads=1)
               if plan.own_loky else nullcontext())
    with context:
        try:
            parallel = Parallel(n_jobs=plan.n_jobs, return_as="generator_unordered")
        except ValueError:
            # a backend without result generators (ray, multiprocessing): a list,
            # the same results (a progress bar then fills at the end)
            parallel = Parallel(n_jobs=plan.n_jobs)
        yield from parallel(calls)


# ------------------------------------------------------------------ fold-batched
def _check_engine(engine):
    if engine not in _ENGINES:
        raise ValueError(f"engine must be one of {_ENGINES}; got {engine!r}.")


def _declares_fold_batching(estimator):
    """Tell whether the estimator declares the fold-batched engine (tag + method)."""
    from sklearn.utils import get_tags

    try:
        tags = get_tags(estimator)
    except (AttributeError, TypeError):
        return False
    return bool(getattr(getattr(tags, "skmer", None), "fold_batching", False)
                and callable(getattr(estimator, "_fit_predict_folds", None)))


def _use_fold_batched(estimator, engine):
    """Resolve ``engine`` to ``"per-fold"`` or ``"fold-batched"``."""
    _check_engine(engine)
    if engine == "per-fold":
        return "per-fold"
    supported = _declares_fold_batching(estimator)
    if engine == "fold-batched":
        if not supported:
            raise ValueError(
                f"engine='fold-batched': {type(estimator).__name__} does not "
                "declare support for the fold-batched engine (its skmer tag "
                "fold_batching and a _fit_predict_folds method); use "
                "engine='per-fold' or 'auto'.")
        return "fold-batched"
    return ("fold-batched" if supported and estimator._fold_batched_available()
            else "per-fold")


def _run_fold_batched(estimator, X, y, splits, tasks, *, store, run_key):
    """All missing (seed, fold) tasks through ``estimator._fit_predict_folds``.

    Seeds missing the same folds share one engine call (on a fresh run: one call).
    """
    from sklearn.base import clone

    from skmer.model_selection._protocol import fold_seed

    by_folds = {}
    for s, k in tasks:
        by_folds.setdefault(s, []).append(k)
    calls = {}
    for s, ks in by_folds.items():
        calls.setdefault(tuple(ks), []).append(s)
    for ks, seeds in calls.items():
        folds = [(k, splits[k][0], splits[k][1]) for k in ks]
        t0 = time.perf_counter()
        out = clone(estimator)._fit_predict_folds(
            X, y, folds, seeds=tuple(seeds), fold_seed=fold_seed, return_proba=True)
        logger.info("fold-batched engine: %d fold(s) x %d seed(s) in %.1f s",
                    len(folds), len(seeds), time.perf_counter() - t0)
        expected = {(s, k) for s in seeds for k in ks}
        got = {(int(r["seed"]), int(r["fold"])) for r in out}
        if got != expected or len(out) != len(expected):
            raise RuntimeError(
                f"{type(estimator).__name__}._fit_predict_folds returned results for "
                f"{sorted(got)}; expected {sorted(expected)}.")
        for r in out:
            res = _fold_result(
                seed=r["seed"], fold=r["fold"], random_state=r["random_state"],
                test=r["test"], y_pred=r["y_pred"], proba=r.get("proba"),
                classes=r.get("classes"), fit_time=r["fit_time"],
                total_time=r["total_time"], run_key=run_key,
                engine="fold-batched")
            if store is not None:
                store.write(res)
            yield res
