""":func:`evaluate_loso`: the protocol, its resume files and its workers together."""

from __future__ import annotations

import logging
import os
import time
import warnings
from typing import TYPE_CHECKING

import numpy as np
from sklearn.model_selection import LeaveOneGroupOut

from skmer.model_selection._backend import (
    _check_engine,
    _check_n_jobs,
    _run_fold_batched,
    _run_per_fold,
    _use_fold_batched,
)
from skmer.model_selection._protocol import (
    _FoldTask,
    _plan_routes,
    _random_state_params,
)
from skmer.model_selection._report import LOSOReport, _estimator_name
from skmer.model_selection._storage import _ResultStore, _run_key
from skmer.utils.validation import check_loso_inputs

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from numpy.typing import ArrayLike

    from skmer._core import Clip, ClipSequence

logger = logging.getLogger("skmer.model_selection")


def _check_seeds(seeds):
    if isinstance(seeds, (int, np.integer)):
        seeds = (int(seeds),)
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct; got {seeds}.")
    return seeds


def evaluate_loso(estimator: Any,
                  X: Sequence[Clip | np.ndarray] | ClipSequence | ArrayLike,
                  y: ArrayLike, groups: ArrayLike, *, datasets: ArrayLike | None = None,
                  seeds: int | Sequence[int] = (0,), n_jobs: int | None = None,
                  results_dir: str | os.PathLike | None = None,
                  route_groups: str | list[str] | None = "auto",
                  engine: str = "auto", verbose: int = 0,
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
        Corpus of every sample; adds per-dataset rows to the report and, with
        metadata routing on, is passed to the methods that request it (see
        ``route_groups``).
    seeds : int or sequence of int, default=(0,)
        Seeds of the repeated evaluation; fold ``k`` of seed ``s`` gets
        ``random_state = fold_seed(s, k)`` in every ``random_state`` parameter.
    n_jobs : int, default=None
        Folds (times seeds) run in parallel with joblib; the result does not depend
        on it.  ``None`` (the default): as many folds at once as there are cores
        (``joblib.cpu_count()``), or what an enclosing
        ``joblib.parallel_config(backend=..., n_jobs=...)`` sets; outside such a
        block the first fold runs in the calling process and is timed, and the
        others stay there too when they would take less than about 10 s one
        after another (starting worker processes costs seconds).  A positive int:
        at most that many folds at once; a negative int: all cores but
        ``-n_jobs - 1`` (``-1``: all).  More workers than folds are capped to the
        number of folds; ``0`` is an error.  Every fold runs with one BLAS /
        OpenMP thread and one torch intra-op thread (restored afterwards, also
        when the folds run one after another in the calling process): parallel
        folds then cannot oversubscribe the cores, and the thread count, which
        changes floating-point reductions, is the same whatever ``n_jobs``, so a
        seed gives the same predictions with any ``n_jobs`` and backend.
        ``joblib.parallel_config(backend=...)`` chooses the backend (``"loky"``,
        ``"dask"``, ``"ray"``).  When the folds run in parallel on a backend whose
        default is "all workers" (``"dask"``), the joblib calls inside a fold
        (per-clip steps, inner searches) run sequentially in the fold's worker
        rather than as cluster tasks.  (Earlier skmer versions ran one fold at a
        time with ``None``.)
    results_dir : str or path-like, default=None
        If given, each finished fold (predictions, and probabilities when the
        estimator has ``predict_proba``) is written there atomically (one JSON
        file per seed and fold, in a sub-folder named after a hash of the
        estimator's parameters, labels, groups, folds, routed metadata and
        engine); a rerun with the same arguments reuses the finished folds and
        computes only the missing ones, so an interrupted evaluation resumes.
        Files of an older format are ignored (their folds are computed again).
    route_groups : "auto", list of str or None, default="auto"
        How the *training* subjects reach inner, subject-grouped CVs (grid search
        over ``magnifier__alpha``, early stopping on an inner split).  The test
        fold's groups never reach ``fit``.

        With scikit-learn's metadata routing on
        (``sklearn.set_config(enable_metadata_routing=True)``), ``"auto"`` asks
        the estimator's routing which metadata it requests and passes exactly
        those: ``groups`` (the training part) to ``fit``, e.g. to a
        ``GridSearchCV(cv=GroupKFold())`` step of a Pipeline, or to any step that
        says ``set_fit_request(groups=True)``; and, when ``datasets`` is given,
        ``datasets`` (the training part to ``fit``, the test part to ``predict``
        / ``predict_proba``) where requested.

        With routing off (scikit-learn's default), a compatibility path keeps
        the behaviour of earlier skmer versions: ``"auto"`` passes the training
        ``groups`` to ``fit`` as ``groups`` if the estimator's ``fit`` takes a
        ``groups`` argument (``GridSearchCV``), and as ``<step>__groups`` for
        every Pipeline step whose ``fit`` takes one; ``datasets`` is not passed.

        A list of names passes the training groups to ``fit`` under each of
        these names, as given (with routing on, a Pipeline accepts only plain
        names of metadata it routes, so prefer ``"auto"`` there); ``None``
        passes no groups.
    engine : {"auto", "per-fold", "fold-batched"}, default="auto"
        ``"per-fold"``: one clone per fold and seed, as described above.
        ``"fold-batched"``: all missing folds and seeds at once through the
        estimator's own engine (networks that declare it through their
        ``skmer`` tag ``fold_batching``, trained as one stacked model; the
        engine runs in the calling process, ``n_jobs`` does not apply); a
        ``ValueError`` if the estimator does not declare it.  ``"auto"``: the
        fold-batched engine when the estimator declares it and says it pays on
        its device (CUDA), else per fold.
    verbose : int, default=0
        Log progress at INFO level when > 0.
    progress : bool, default=None
        Show a tqdm progress bar over folds (default: when ``verbose > 0``).

    Returns
    -------
    report : LOSOReport
        Pooled scores per seed, their mean and std, per-sample predictions and
        (when the estimator has ``predict_proba``) out-of-fold probabilities,
        confusion matrices.

    Raises
    ------
    ValueError
        Empty ``X``, lengths of ``X``, ``y``, ``groups`` (``datasets``) that differ,
        fewer than two subjects, ``n_jobs=0``, an unknown ``engine``, or
        ``engine="fold-batched"`` for an estimator without the engine.

    See Also
    --------
    skmer.metrics.uf1_score, skmer.metrics.uar_score
    LOSOReport.soft_vote : Ensembles of reports from their probabilities.

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
    >>> report = evaluate_loso(LogisticRegression(), X, y, groups, n_jobs=1)
    >>> report.n_folds, round(report.uf1, 2) > 0.8
    (8, True)
    """
    y, groups, *rest = check_loso_inputs(X, y, groups, datasets)
    datasets = rest[0] if rest else None
    seeds = _check_seeds(seeds)
    _check_n_jobs(n_jobs)
    _check_engine(engine)
    splits = list(LeaveOneGroupOut().split(np.zeros(len(y)), y, groups))
    rs_params = _random_state_params(estimator)
    routes = _plan_routes(estimator, route_groups, has_datasets=datasets is not None)
    engine = _use_fold_batched(estimator, engine)
    if len(seeds) > 1 and not rs_params:
        warnings.warn(
            f"{type(estimator).__name__} has no random_state parameter; repeated "
            "seeds will give identical results.", UserWarning, stacklevel=2)

    store, run_key, done = None, None, {}
    if results_dir is not None:
        run_key = _run_key(estimator, y, groups, splits, engine=engine, routes=routes)
        store = _ResultStore(results_dir, run_key).open(
            estimator=estimator, n_samples=len(y), n_folds=len(splits), seeds=seeds)
        # the folder may hold other seeds' folds (an earlier run with more seeds)
        done = {k: v for k, v in store.load().items() if k[0] in seeds}
    todo = [(s, k) for s in seeds for k in range(len(splits)) if (s, k) not in done]
    if done:
        logger.info("Resuming: %d of %d fold(s) already done in %s", len(done),
                    len(done) + len(todo), store.directory)

    t0 = time.perf_counter()
    results = list(done.values())
    if todo:
        if engine == "fold-batched":
            new = _run_fold_batched(estimator, X, y, splits, todo, store=store,
                                    run_key=run_key)
        else:
            metadata = {"groups": groups}
            if datasets is not None:
                metadata["datasets"] = datasets
            tasks = [_FoldTask(estimator=estimator, y=y, train=splits[k][0],
                               test=splits[k][1], seed=s, fold=k,
                               rs_params=rs_params, routes=routes, metadata=metadata,
                               out_path=None if store is None else store.path_of(s, k),
                               run_key=run_key)
                     for s, k in todo]
            new = _run_per_fold(tasks, X, n_jobs)
        if progress if progress is not None else verbose > 0:
            from tqdm.auto import tqdm

            new = tqdm(new, total=len(todo), desc="LOSO folds", unit="fold")
        for res in new:
            results.append(res)
            if verbose > 1:
                logger.info("seed %d fold %d done (%.1f s)", res["seed"], res["fold"],
                            res["total_time"])
    return LOSOReport._from_results(
        results, y=y, groups=groups, datasets=datasets, seeds=seeds,
        n_folds=len(splits), estimator_name=_estimator_name(estimator),
        wall_time=time.perf_counter() - t0, n_reused=len(done))
