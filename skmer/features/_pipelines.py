"""Ready pipelines: hand-crafted features -> StandardScaler -> linear SVM."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skmer.features._biwoof import BiWOOF
from skmer.features._lbptop import LBPTOP

if TYPE_CHECKING:
    import joblib

__all__ = ["make_biwoof_pipeline", "make_lbptop_pipeline"]


def _svm(C, class_weight):
    return SVC(kernel="linear", C=C, class_weight=class_weight)


def make_lbptop_pipeline(*, C: float = 1.0, class_weight: dict | str | None = None,
                         memory: str | joblib.Memory | None = None,
                         **lbptop_params) -> Pipeline:
    """LBP-TOP features, standardisation and a linear SVM (the CASME II baseline).

    Parameters
    ----------
    C : float, default=1.0
        Regularisation of the linear SVM (``svm__C`` in a grid search).
    class_weight : dict or "balanced", default=None
        Class weights of the SVM.
    memory : str or joblib.Memory, default=None
        Caches the fitted feature step (see :class:`sklearn.pipeline.Pipeline`).
    **lbptop_params
        Parameters of :class:`~skmer.features.LBPTOP` (``n_blocks``, ``radii``,
        ``n_points``, ``interpolation``, ``overlap``, ``n_jobs``).

    Returns
    -------
    pipeline : Pipeline
        Steps ``"lbptop"``, ``"scaler"``, ``"svm"``; ``X`` is a sequence of clips.

    See Also
    --------
    make_biwoof_pipeline : The Bi-WOOF counterpart.
    skmer.model_selection.evaluate_loso : Honest LOSO evaluation of the pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.features import make_lbptop_pipeline
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.integers(0, 256, size=(9, 20, 20), dtype=np.uint8) for _ in range(6)]
    >>> y = [0, 1, 0, 1, 0, 1]
    >>> pipe = make_lbptop_pipeline(n_blocks=2, C=0.1).fit(X, y)
    >>> [name for name, _ in pipe.steps], pipe.predict(X[:2]).shape
    (['lbptop', 'scaler', 'svm'], (2,))
    """
    return Pipeline([
        ("lbptop", LBPTOP(**lbptop_params)),
        ("scaler", StandardScaler()),
        ("svm", _svm(C, class_weight)),
    ], memory=memory)


def make_biwoof_pipeline(*, C: float = 1.0, class_weight: dict | str | None = None,
                         memory: str | joblib.Memory | None = None,
                         **biwoof_params) -> Pipeline:
    """Bi-WOOF features, standardisation and a linear SVM.

    Parameters
    ----------
    C : float, default=1.0
        Regularisation of the linear SVM (``svm__C`` in a grid search).
    class_weight : dict or "balanced", default=None
        Class weights of the SVM.
    memory : str or joblib.Memory, default=None
        Caches the fitted feature step (see :class:`sklearn.pipeline.Pipeline`).
    **biwoof_params
        Parameters of :class:`~skmer.features.BiWOOF` (``n_blocks``, ``n_bins``,
        ``strain``, ``center``, ``strain_weight``, ``input``, ``flow_method``, ...).

    Returns
    -------
    pipeline : Pipeline
        Steps ``"biwoof"``, ``"scaler"``, ``"svm"``; ``X`` is flow images
        ``(n, 2 or 3, H, W)`` or clips.

    See Also
    --------
    make_lbptop_pipeline : The LBP-TOP counterpart.
    skmer.model_selection.evaluate_loso : Honest LOSO evaluation of the pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.features import make_biwoof_pipeline
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(6, 3, 28, 28)); y = [0, 1, 0, 1, 0, 1]
    >>> pipe = make_biwoof_pipeline(C=10.0).fit(X, y)
    >>> pipe.predict(X).shape
    (6,)
    """
    return Pipeline([
        ("biwoof", BiWOOF(**biwoof_params)),
        ("scaler", StandardScaler()),
        ("svm", _svm(C, class_weight)),
    ], memory=memory)
