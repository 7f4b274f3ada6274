"""ARTNet's scikit-learn face: the skorch classifier and its pipeline.

- :class:`ARTNetClassifier`: skorch classifier of :class:`~skmer.models.nets.
  artnet.ARTNet` on either input: the amplified flow of
  :class:`~skmer.preprocessing.AmplifiedFlow` or the grey onset/apex pairs of
  :class:`~skmer.preprocessing.OnsetApexPairs`.
- :func:`make_artnet_pipeline`: ``AmplifiedFlow`` + ``ARTNetClassifier``.

The input stages are torch-free and live in :mod:`skmer.preprocessing`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
import torch
from sklearn.pipeline import Pipeline

from skmer.models._skorch import ArrayBatchLoader, FlowNetClassifier
from skmer.models.nets.artnet import FLOW_SOURCES, MIN_SIZE, ARTNet
from skmer.preprocessing._amplified import (
    DEFAULT_ALPHAS,
    AmplifiedFlow,
    check_alphas,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import ArrayLike

__all__ = ["ARTNetClassifier", "make_artnet_pipeline"]


# --------------------------------------------------------------------------------------
# the classifier
# --------------------------------------------------------------------------------------
class ARTNetClassifier(FlowNetClassifier):
    """ARTNet micro-expression classifier (skorch).

    Trains :class:`~skmer.models.nets.artnet.ARTNet`: a shared CNN turns the flow
    of every amplification level into a token and a transformer relates the
    levels.  Two inputs:

    - ``flow_source="precomputed"`` (default, CPU-friendly, no pretrained
      weights): ``(n, n_alphas, C, H, W)`` flow of the amplified pairs from
      :class:`~skmer.preprocessing.AmplifiedFlow` (TV-L1 by default).
      Grid-search the factors on the Pipeline's ``AmplifiedFlow``
      (``amplify__alphas``, see :func:`make_artnet_pipeline`).
    - ``flow_source="raft"``: ``(n, 2, H, W)`` grey onset/apex pairs in [0, 1]
      (:class:`~skmer.preprocessing.OnsetApexPairs`); the network amplifies them
      at ``alphas`` and runs a frozen RAFT with ``raft_weights``; ``alphas`` is
      then grid-searchable on the classifier itself.

    Parameters
    ----------
    module : type or torch.nn.Module, default=ARTNet
        The network; architecture options travel as ``module__d_model``,
        ``module__n_layers``, ``module__n_heads``, ``module__dropout``,
        ``module__raft_iters``, ``module__raft_size``, ``module__lambda_c``, ...
        ``n_classes``, ``alphas``, ``flow_source``, ``in_channels`` and
        ``raft_weights`` are set by the classifier.
    criterion : type, default=torch.nn.CrossEntropyLoss
        The loss.
    optimizer : type, default=torch.optim.AdamW
        The optimiser.
    %(lr)s
    %(max_epochs)s
    %(batch_size)s
    %(lr_schedule)s
    %(class_weight)s
    %(iterator_train)s
    %(iterator_valid)s
    %(iterator_train__shuffle)s
    %(train_split)s
    %(classes)s
    %(device)s
    %(random_state)s
    %(verbose)s
    alphas : sequence of float or None, default=None
        Amplification factors (>= 0).  ``"precomputed"``: ``None`` takes the number
        of levels from ``X``; factors given must be as many as ``X`` has levels.
        ``"raft"``: the factors of the in-network amplification, ``None`` meaning
        ``(0, 2, 4, 8)``.
    flow_source : {"precomputed", "raft"}, default="precomputed"
        The input (see above).
    raft_weights : str, os.PathLike or None, default=None
        Local RAFT weights (torchvision's ``raft_large``/``raft_small`` state
        dicts), required by ``flow_source="raft"``; never downloaded.
    %(kwargs)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, in the order of the ``predict_proba`` columns.
    module_ : ARTNet
        The trained network.
    device_ : str
        The device actually used.
    input_shape_ : tuple of int
        Shape of one sample seen in ``fit``.
    alphas_ : tuple of float or None
        The factors used (None: precomputed levels of unknown factors).

    See Also
    --------
    skmer.preprocessing.AmplifiedFlow : The precomputed input.
    make_artnet_pipeline : AmplifiedFlow + ARTNetClassifier.

    Notes
    -----
    The training recipe of the paper could not be consulted (only its abstract
    was available); the defaults (AdamW, lr 1e-3, cosine schedule, 30 epochs,
    batch 32, class-balanced loss) are skmer's, as for its other flow networks.

    References
    ----------
    .. [1] C. Wan, W. Zhang, Y. Chen, L. Song and P. Cheng, "ARTNet for
       Micro-Expression Recognition", Sensors 26(1):247, 2025,
       :doi:`10.3390/s26010247`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 3, 3, 16, 16)).astype(np.float32)
    >>> y = np.array(["neg", "pos"] * 4)
    >>> clf = ARTNetClassifier(max_epochs=2, device="cpu", random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape
    (8, 2)
    >>> clf.alphas_ is None, clf.module_.n_levels
    (True, 3)
    """

    def __init__(
        self,
        module: type | torch.nn.Module = ARTNet,
        *,
        criterion: type = torch.nn.CrossEntropyLoss,
        optimizer: type = torch.optim.AdamW,
        lr: float = 1e-3,
        max_epochs: int = 30,
        batch_size: int = 32,
        lr_schedule: str | None = "cosine",
        class_weight: str | None = "balanced",
        iterator_train: type = ArrayBatchLoader,
        iterator_valid: type = ArrayBatchLoader,
        iterator_train__shuffle: bool = True,
        train_split: Callable | None = None,
        classes: ArrayLike | None = None,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        alphas: Sequence[float] | None = None,
        flow_source: str = "precomputed",
        raft_weights: str | os.PathLike | None = None,
        **kwargs,
    ) -> None:
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr_schedule=lr_schedule,
            class_weight=class_weight,
            iterator_train=iterator_train,
            iterator_valid=iterator_valid,
            iterator_train__shuffle=iterator_train__shuffle,
            train_split=train_split,
            classes=classes,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )
        self.alphas = alphas
        self.flow_source = flow_source
        self.raft_weights = raft_weights

    # ------------------------------------------------------------ validation
    def _expected_shape_text(self):
        if self.flow_source == "raft":
            return "(n_samples, 2, height, width) onset/apex grey pairs in [0, 1]"
        return "(n_samples, n_alphas, channels, height, width) amplified flow"

    def _check_params(self):
        name = type(self).__name__
        if self.flow_source not in FLOW_SOURCES:
            raise ValueError(
                f"{name}: flow_source must be one of {list(FLOW_SOURCES)}; got "
                f"{self.flow_source!r}.")
        alphas = None if self.alphas is None else check_alphas(self.alphas)
        if self.flow_source == "raft":
            if self.raft_weights is None:
                raise ValueError(
                    f"{name}: flow_source='raft' needs raft_weights=<path to a local "
                    "RAFT state dict> (torchvision's raft_large / raft_small weights; "
                    "skmer never downloads them). Without weights, use "
                    "flow_source='precomputed' after AmplifiedFlow(method='tvl1').")
            alphas = DEFAULT_ALPHAS if alphas is None else alphas
        return alphas

    def _validate_X(self, X, *, reset):
        name = type(self).__name__
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        X = np.asarray(X)
        if X.dtype == object or not np.issubdtype(X.dtype, np.number):
            raise ValueError(
                f"{name}: X must be a numeric array of shape "
                f"{self._expected_shape_text()}; got dtype {X.dtype}.")
        ndim = 4 if self.flow_source == "raft" else 5
        if X.ndim != ndim or X.shape[0] == 0 or (ndim == 4 and X.shape[1] != 2):
            raise ValueError(
                f"{name}: with flow_source={self.flow_source!r}, X must be an array "
                f"of shape {self._expected_shape_text()}; got shape {X.shape}.")
        if reset:
            alphas = self._check_params()
            if ndim == 5:
                if alphas is not None and len(alphas) != X.shape[1]:
                    raise ValueError(
                        f"{name}: X holds {X.shape[1]} amplification levels but "
                        f"alphas={list(alphas)} has {len(alphas)}; pass the "
                        "AmplifiedFlow's alphas, or alphas=None.")
                params = self._explicit_module_params()
                channels = params.get("in_channels")
                if channels is not None and channels != X.shape[2]:
                    raise ValueError(
                        f"{name}: X has {X.shape[2]} channels per level but "
                        f"module__in_channels={channels}; got shape {X.shape}.")
            if min(X.shape[-2:]) < MIN_SIZE:
                raise ValueError(
                    f"{name}: ARTNet needs inputs of at least {MIN_SIZE}x{MIN_SIZE} "
                    f"pixels; got {X.shape[-2]}x{X.shape[-1]}. Resize the frames or "
                    "flow (e.g. AmplifiedFlow(output_size=...)).")
        elif tuple(X.shape[1:]) != tuple(self.input_shape_):
            raise ValueError(
                f"{name}: X must have shape (n_samples, "
                f"{', '.join(map(str, self.input_shape_))}) as in fit; got shape "
                f"{X.shape}.")
        X = X.astype(np.float32, copy=False)
        if not np.isfinite(X).all():
            raise ValueError(f"{name}: X contains NaN or infinity.")
        if reset:
            self._artnet_data_ = (alphas, X.shape)
        return X

    def _explicit_module_params(self):
        from skorch import NeuralNetClassifier

        return NeuralNetClassifier.get_params_for(self, "module")

    def get_params_for(self, prefix: str) -> dict:
        """Collect init parameters for ``prefix`` (adds the ARTNet arguments).

        Parameters
        ----------
        prefix : str
            E.g. ``"module"``.

        Returns
        -------
        kwargs : dict
            Keyword arguments for the component.
        """
        params = super().get_params_for(prefix)
        data = self.__dict__.get("_artnet_data_")
        if prefix != "module" or not isinstance(self.module, type) or data is None:
            return params
        alphas, shape = data
        params.setdefault("flow_source", self.flow_source)
        if self.flow_source == "raft":
            params.setdefault("raft_weights", self.raft_weights)
            params.setdefault("alphas", alphas)
        else:
            params.setdefault("alphas", shape[1] if alphas is None else alphas)
            params.setdefault("in_channels", shape[2])
        return params

    def fit(self, X: ArrayLike, y: ArrayLike, **fit_params) -> ARTNetClassifier:
        """Train the network from scratch for ``max_epochs`` epochs.

        Parameters
        ----------
        X : array-like
            ``(n_samples, n_alphas, channels, height, width)`` amplified flow
            (``"precomputed"``) or ``(n_samples, 2, height, width)`` grey pairs in
            [0, 1] (``"raft"``).
        y : array-like of shape (n_samples,)
            Labels (ints or strings).
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        super().fit(X, y, **fit_params)
        self.alphas_ = self._artnet_data_[0]
        return self


def make_artnet_pipeline(alphas: Sequence[float] = DEFAULT_ALPHAS, method: str = "tvl1",
                         *, output_size: tuple[int, int] | None = None,
                         amplify_params: dict | None = None,
                         **classifier_params) -> Pipeline:
    """AmplifiedFlow + ARTNetClassifier (the CPU-friendly precomputed-flow path).

    Parameters
    ----------
    alphas : sequence of float, default=(0.0, 2.0, 4.0, 8.0)
        Amplification factors; grid-search them as ``amplify__alphas``.
    method : {"tvl1", "farneback", "dis", "raft"}, default="tvl1"
        Flow method of :class:`~skmer.preprocessing.AmplifiedFlow`.
    output_size : tuple of (int, int), default=None
        Size of the flow images.
    amplify_params : dict, default=None
        Other :class:`~skmer.preprocessing.AmplifiedFlow` parameters.
    **classifier_params : dict
        :class:`ARTNetClassifier` parameters.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"amplify"`` and ``"net"``.

    Examples
    --------
    >>> pipe = make_artnet_pipeline(alphas=(0.0, 4.0), max_epochs=5)
    >>> [name for name, _ in pipe.steps]
    ['amplify', 'net']
    """
    return Pipeline([
        ("amplify", AmplifiedFlow(alphas=alphas, method=method,
                                  output_size=output_size, **(amplify_params or {}))),
        ("net", ARTNetClassifier(**classifier_params)),
    ])
