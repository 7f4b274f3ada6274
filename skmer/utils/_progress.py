"""Progress bars for the per-clip loops of skmer's stages (tqdm, opt-in)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from skmer.utils._compat import Parallel


def track(iterable: Iterable, *, verbose: int, total: int | None = None,
          desc: str | None = None, unit: str = "clip") -> Iterable:
    """Wrap ``iterable`` in a ``tqdm.auto`` bar when ``verbose > 0``.

    The items and their order are unchanged; with ``verbose`` falsy the iterable is
    returned as is (tqdm is not even imported).
    """
    if not verbose:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit)


def parallel_map(tasks: Iterable, *, n_jobs: int | None, verbose: int,
                 total: int | None = None, desc: str | None = None) -> list[Any]:
    """Run joblib ``delayed`` tasks in order, with a progress bar if ``verbose``.

    ``Parallel(n_jobs)(tasks)`` when ``verbose`` is falsy; otherwise the results are
    consumed through ``return_as="generator"`` (still in input order) so that the bar
    advances as clips finish.  The returned list is the same either way.
    """
    from joblib import effective_n_jobs

    if effective_n_jobs(n_jobs) == 1:
        # one worker: call the tasks here, without joblib's per-task dispatch cost
        # (it dominated fast per-clip kernels such as DIS flow)
        # (sklearn's ``delayed`` wraps the function to carry the config to other
        # workers; here we are in the caller's thread, so call the function itself)
        return [getattr(func, "function", func)(*args, **kwargs)
                for func, args, kwargs in
                track(tasks, verbose=verbose, total=total, desc=desc)]
    if not verbose:
        return Parallel(n_jobs=n_jobs)(tasks)
    gen = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    return list(track(gen, verbose=verbose, total=total, desc=desc))
