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

The rooms: ``_protocol`` (fold seeds, metadata routes, one fold's fit and predict),
``_storage`` (resume files), ``_backend`` (joblib workers, thread limits, the
fold-batched engine hook), ``_report`` (:class:`LOSOReport`) and ``_evaluate``
(:func:`evaluate_loso`, which puts them together).  Nothing here imports torch.
"""

from skmer.model_selection._evaluate import evaluate_loso
from skmer.model_selection._protocol import (
    _groups_routes,  # noqa: F401 (recipes)
    fold_seed,
)
from skmer.model_selection._report import LOSOReport

__all__ = ["evaluate_loso", "LOSOReport", "fold_seed"]
