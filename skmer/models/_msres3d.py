"""scikit-learn face (skorch classifier) of the MSRes3D network."""

from __future__ import annotations

from contextlib import contextmanager
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
import torch
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils import check_random_state
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping
from skorch.dataset import unpack_data

from skmer.models._skorch import (
    ArrayBatchLoader,
    FlowNetClassifier,
    _is_cuda,
    _resolve_device,
)
from skmer.models.nets.msres3d import (
    MSRes3D,
    MultiHeadCrossEntropyLoss,
    min_input_size,
    select_confident_head,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from numpy.typing import ArrayLike
    from skorch.dataset import Dataset

__all__ = ["MSRes3DClassifier"]

_PAPER_SIZE = 134  # the paper's input size, at which it shifts by up to 15 px
_PAPER_SHIFT = 15


class MSRes3DClassifier(FlowNetClassifier):
    """MSRes3D micro-expression classifier on stacked optical flow (skorch).

    Trains :class:`~skmer.models.nets.msres3d.MSRes3D` with the recipe of Jin et
    al. [1]_ as defaults: Adam, learning rate 1e-5, 100 epochs, a cross-entropy
    per output (their sum is the loss), shifts of up to 15 pixels and mirror
    flips during training, and the discriminative choice of one output per
    sample (the most confident of the four) as the decision; see Notes for what
    differs from the paper.

    Parameters
    ----------
    module : type or torch.nn.Module, default=MSRes3D
        The network; architecture options travel as ``module__width``,
        ``module__hidden_features``, ``module__dropout``, ... ``n_classes`` and
        ``in_channels`` are set from the data in ``fit`` unless given
        (``module__in_channels`` then has to match ``X``).
    criterion : type, default=MultiHeadCrossEntropyLoss
        The loss: the sum of the heads' cross-entropies
        (``criterion__head_weights`` weights them).
    optimizer : type, default=torch.optim.Adam
        The optimiser.
    %(lr)s
    max_epochs : int, default=100
        Number of training epochs (the maximum with ``early_stopping=True``).
    batch_size : int, default=16
        Mini-batch size (the paper does not give it).
    lr_schedule : {"cosine", None}, default=None
        Learning-rate schedule over ``max_epochs``; the paper uses none.
    class_weight : {"balanced", None}, default=None
        Class weighting of every head's cross-entropy.
    augment : {"shift-flip"}, callable or None, default="shift-flip"
        Training-time augmentation of each mini-batch (never of the samples that
        are predicted). ``"shift-flip"``: :class:`~skmer.models.RandomShiftFlip`
        with ``max_shift``, ``p_flip=0.5``, ``flow_channels`` and
        ``flow_max``, seeded from ``random_state``. A callable takes and returns a
        ``torch.Tensor`` batch ``(B, C, T, H, W)`` or ``(B, C, H, W)``; it should be
        a module-level object so that the classifier pickles. None: no
        augmentation.
    max_shift : int or None, default=None
        Largest shift in pixels. None: the paper's 15 pixels at its 134-pixel input,
        scaled to the input, ``round(15 * min(H, W) / 134)`` (15 at 134 pixels, 3
        for the 28-pixel composite flow images).
    flow_channels : tuple of int, default=(0,)
        Channels holding the horizontal flow ``u``, which a flip negates.
    flow_max : float or None, default=None
        How ``u`` is stored: None for signed flow (``FlowExtractor(scale="none")``),
        1.0 for flow min-max scaled to [0, 1] (``load_flow_images``,
        ``FlowExtractor(scale="minmax")``); see ``RandomShiftFlip``.
    early_stopping : bool, default=False
        Hold out a subject-grouped inner validation split and stop when its loss
        has not improved for ``patience`` epochs, restoring the best weights. Needs
        ``groups`` in ``fit`` (with a Pipeline: ``pipe.fit(X, y,
        clf__groups=groups)``); the split is a ``GroupShuffleSplit`` of the
        training subjects only, so nothing looks at a test fold.
    validation_fraction : float, default=0.2
        Fraction of the training subjects held out when ``early_stopping``.
    patience : int, default=10
        Epochs without improvement of the inner validation loss before stopping.
    predict_nonlinearity : callable, default=select_confident_head
        Maps the ``(n, 4, n_classes)`` head logits to probabilities: the softmax
        of the most confident head of each sample (the paper's discriminative
        choice of one output); ``mean_softmax`` averages the four heads.
    %(iterator_train)s
    %(iterator_valid)s
    %(iterator_train__shuffle)s
    train_split : callable or None, default=None
        No internal validation split by default (under leave-one-subject-out it
        would eat training subjects); see ``early_stopping`` for a subject-grouped
        one.
    %(classes)s
    device : str, default="auto"
        CUDA when available, else the CPU. On CUDA: float16 mixed precision with
        gradient scaling, ``channels_last_3d`` weights and inputs, augmentation on
        the GPU, and ``torch.backends.cudnn.benchmark`` switched on during ``fit``
        and prediction (restored afterwards; fixed input sizes make its algorithm
        search pay, but CUDA results are then not bitwise reproducible); on the CPU
        plain float32 (slow but complete).
    random_state : int, RandomState instance or None, default=None
        Seeds torch (weights, dropout, shuffling), the augmentation and the inner
        split.
    %(verbose)s
    %(kwargs)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, in the order of the ``predict_proba`` columns.
    module_ : MSRes3D
        The trained network.
    device_ : str
        The device actually used.
    input_shape_ : tuple of int
        ``(channels, frames, height, width)`` (or ``(channels, height, width)``)
        of the samples seen in ``fit``.
    augmenter_ : callable or None
        The augmentation used in training.
    inner_split_ : tuple of ndarray or None
        ``(train, valid)`` indices of the inner split with ``early_stopping``.

    See Also
    --------
    skmer.models.nets.msres3d.MSRes3D : The network.
    skmer.models.STSTNetClassifier : A shallow network on single flow images.

    Notes
    -----
    Input: a float32 array ``(n, C, T, H, W)`` of stacked flow (e.g.
    ``FlowExtractor(mode="sequence")`` on clips resampled to 17 frames gives 16
    flow frames), at least 9 frames of 17x17 pixels (:func:`~skmer.models.nets.
    msres3d.min_input_size`). Smaller inputs, another channel count than in
    ``module__in_channels`` or in ``fit``, NaN or a wrong rank raise a
    ``ValueError``.

    Single flow images ``(n, C, H, W)`` (the MEGC2019 composite's onset-apex flow,
    :func:`~skmer.datasets.load_flow_images`) select the T=1 variant: unless
    ``module__temporal_strides`` is given, the network is built with
    ``temporal_strides=False`` and reads each image as a one-frame clip, which
    makes it the 2-D counterpart of MSRes3D with the same parameters (see
    :class:`~skmer.models.nets.msres3d.MSRes3D`). Images are not upsampled: 28x28
    passes the 17x17 minimum and upsampling costs about ``(134 / 28)**2 = 23``
    times more compute without adding information. Use ``flow_max=1.0`` with
    these [0, 1]-scaled images.

    The recipe is slow: at the paper's input size (3x16x134x134, ``width=1``,
    70 M parameters) a CPU trains a handful of clips per second; see
    ``benchmarks/networks_msres3d.py`` for GPU throughput.

    Fidelity to Jin et al. 2024 [1]_. As in the paper (Sec. 4, experimental
    setup): Adam, initial learning rate 1e-5 (0.00001), 100 epochs, the
    cross-entropy loss, computed for each of the four outputs (Sec. 3,
    discriminative network). Where skmer differs, and why:

    - Batch size 16: the paper does not give one. No learning-rate schedule and
      no weight decay (none is mentioned).
    - Augmentation (Sec. 3, preprocessing step 2): the paper expands the data
      set offline, shifting the face box by 15 pixels left, right, up and down
      and adding a "vertical flip", for a set "four times larger" (the count does
      not add up: four shifts and a flip give more than four copies). skmer
      draws a shift in ``[-max_shift, max_shift]`` on each axis and a flip with
      probability 0.5 for every sample of every training mini-batch, on the
      flow, inside ``fit`` (so nothing leaks into a test fold and the number of
      samples a scikit-learn pipeline sees does not change). The flip is a
      mirror about the vertical axis (left-right, which negates ``u``): an
      upside-down face is not a plausible sample, and the paper's "vertical
      flip" reads either way. ``max_shift=None`` keeps the paper's 15 pixels at
      its 134-pixel input and scales it with the input size. A callable
      ``augment`` can reproduce any other scheme.
    - The output choice: the paper's discriminative network compares the four
      outputs' softmax vectors and cross-entropies (Sec. 3, Fig. 9) without
      saying how the choice is made on unlabelled samples; skmer picks, per
      sample, the output with the highest top probability
      (:func:`~skmer.models.nets.msres3d.select_confident_head`). Pass
      ``predict_nonlinearity=``:func:`~skmer.models.nets.msres3d.mean_softmax`
      for the mean of the four (skmer's earlier rule).
    - Preprocessing is the pipeline's, not the classifier's: the paper's chain
      (Sec. 3) is a dlib 68-point face crop, spatio-temporal-slice key frames
      (eq. 3.1, ``KeyframeSelector(mode="sts")``), Eulerian magnification (eqs.
      3.2-3.7, ``Magnifier``) and TV-L1 flow (``FlowExtractor("tvl1")``), giving
      134x134x16 flow stacks.

    The paper's protocol and its Table 1 (Sec. 4): leave-one-out cross
    validation (one sample tested at a time, eq. 4.5, so a subject's other
    samples are in the training set) and the mean accuracy, reported as 74.6 %
    (F1 0.751) on SMIC, 84.77 % (0.793) on SAMM and 91.35 % (0.889) on CASME II
    with three or four merged classes. These are not comparable with skmer's
    leave-one-subject-out UF1/UAR on pooled out-of-fold predictions
    (:func:`~skmer.model_selection.evaluate_loso`), which keeps every subject
    out of its own training set.

    References
    ----------
    .. [1] H. Jin, N. He, Z. Li and P. Yang, "Micro-expression recognition based
       on multi-scale 3D residual convolutional neural network", Mathematical
       Biosciences and Engineering 21(4), 5007-5031, 2024,
       :doi:`10.3934/mbe.2024221`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(6, 3, 9, 17, 17)).astype(np.float32)
    >>> y = np.array(["neg", "pos", "sur"] * 2)
    >>> clf = MSRes3DClassifier(module__width=0.0625, module__hidden_features=8,
    ...                         max_epochs=1, device="cpu", random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape
    (6, 3)
    >>> clf.module_(torch.as_tensor(X)).shape  # the four heads' logits
    torch.Size([6, 4, 3])
    """

    def __init__(
        self,
        module: type | torch.nn.Module = MSRes3D,
        *,
        criterion: type = MultiHeadCrossEntropyLoss,
        optimizer: type = torch.optim.Adam,
        lr: float = 1e-5,
        max_epochs: int = 100,
        batch_size: int = 16,
        lr_schedule: str | None = None,
        class_weight: str | None = None,
        augment: str | Callable | None = "shift-flip",
        max_shift: int | None = None,
        flow_channels: tuple[int, ...] = (0,),
        flow_max: float | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.2,
        patience: int = 10,
        predict_nonlinearity: Callable = select_confident_head,
        iterator_train: type = ArrayBatchLoader,
        iterator_valid: type = ArrayBatchLoader,
        iterator_train__shuffle: bool = True,
        train_split: Callable | None = None,
        classes: ArrayLike | None = None,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
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
            predict_nonlinearity=predict_nonlinearity,
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
        self.augment = augment
        self.max_shift = max_shift
        self.flow_channels = flow_channels
        self.flow_max = flow_max
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience

    # ------------------------------------------------------------ input checks
    def _explicit_module_params(self):
        return NeuralNetClassifier.get_params_for(self, "module")

    def _temporal_strides(self, ndim):
        explicit = self._explicit_module_params()
        if "temporal_strides" in explicit:
            return bool(explicit["temporal_strides"])
        return ndim == 5

    def _expected_shape_text(self):
        c = self._explicit_module_params().get("in_channels", "channels")
        return (f"(n_samples, {c}, frames, height, width) or "
                f"(n_samples, {c}, height, width)")

    def _validate_X(self, X, *, reset):
        name = type(self).__name__
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        X = np.asarray(X)
        if X.dtype == object or not np.issubdtype(X.dtype, np.number):
            raise ValueError(
                f"{name}: X must be a numeric array of shape "
                f"{self._expected_shape_text()}; got dtype {X.dtype}."
            )
        if X.ndim not in (4, 5) or X.shape[0] == 0:
            raise ValueError(
                f"{name}: X must be a non-empty array of shape "
                f"{self._expected_shape_text()}; got shape {X.shape}."
            )
        if reset:
            channels = self._explicit_module_params().get("in_channels")
            if channels is not None and X.shape[1] != channels:
                raise ValueError(
                    f"{name}: X has {X.shape[1]} channels but module__in_channels="
                    f"{channels}; got shape {X.shape}."
                )
            strides = self._temporal_strides(X.ndim)
            min_t, min_h, min_w = min_input_size(strides)
            t = X.shape[2] if X.ndim == 5 else 1
            h, w = X.shape[-2:]
            if t < min_t:
                raise ValueError(
                    f"{name}: X has {t} frames; MSRes3D with temporal_strides="
                    f"{strides} needs at least {min_t} (its four temporal "
                    "downsamplings must leave at least 2 frames before block 5). "
                    "Resample the clips to more frames, or pass "
                    "module__temporal_strides=False."
                )
            if h < min_h or w < min_w:
                raise ValueError(
                    f"{name}: X has frames of {h}x{w} pixels; MSRes3D needs at least "
                    f"{min_h}x{min_w} (its spatial downsamplings by 16 must leave at "
                    "least 2x2 before block 5). Resize the flow maps."
                )
        elif tuple(X.shape[1:]) != tuple(self.input_shape_):
            raise ValueError(
                f"{name}: X must have shape (n_samples, "
                f"{', '.join(map(str, self.input_shape_))}) as in fit; got shape "
                f"{X.shape}."
            )
        X = X.astype(np.float32, copy=False)
        if not np.isfinite(X).all():
            raise ValueError(f"{name}: X contains NaN or infinity.")
        if reset:
            self._fit_ndim_ = X.ndim
            self._fit_channels_ = X.shape[1]
        return X

    def _check_recipe_params(self):
        name = type(self).__name__
        aug = self.augment
        if not (aug is None or aug == "shift-flip" or callable(aug)):
            raise ValueError(
                f"{name}: augment must be 'shift-flip', a callable or None; got "
                f"{aug!r}."
            )
        m = self.max_shift
        if m is not None and (isinstance(m, bool) or not isinstance(m, Integral)
                              or m < 0):
            raise ValueError(
                f"{name}: max_shift must be None or an int >= 0; got {m!r}."
            )
        if not isinstance(self.early_stopping, bool | np.bool_):
            raise ValueError(
                f"{name}: early_stopping must be a bool; got {self.early_stopping!r}."
            )
        f = self.validation_fraction
        if isinstance(f, bool) or not isinstance(f, Real) or not 0 < f < 1:
            raise ValueError(
                f"{name}: validation_fraction must be a number in (0, 1); got {f!r}."
            )
        p = self.patience
        if isinstance(p, bool) or not isinstance(p, Integral) or p < 1:
            raise ValueError(f"{name}: patience must be an int >= 1; got {p!r}.")

    # ---------------------------------------------------------- initialisation
    def get_params_for(self, prefix: str) -> dict:
        """Collect init parameters for ``prefix`` (adds data-derived defaults).

        Besides ``n_classes`` (and the class weights), the module gets
        ``in_channels`` from the data and ``temporal_strides=False`` for single
        flow images, unless given explicitly.

        Parameters
        ----------
        prefix : str
            E.g. ``"module"`` or ``"criterion"``.

        Returns
        -------
        kwargs : dict
            Keyword arguments for the component.
        """
        params = super().get_params_for(prefix)
        if prefix == "module" and isinstance(self.module, type):
            if "in_channels" not in params and "_fit_channels_" in self.__dict__:
                params["in_channels"] = self._fit_channels_
            if ("temporal_strides" not in params
                    and self.__dict__.get("_fit_ndim_") == 4):
                params["temporal_strides"] = False
        return params

    def get_default_callbacks(self) -> list[tuple[str, Any]]:
        """Return the base callbacks plus early stopping when asked for.

        Returns
        -------
        callbacks : list of (str, Callback)
            Named callbacks (without ``valid_acc`` when early stopping).
        """
        callbacks = list(super().get_default_callbacks())
        if self.early_stopping:
            # the inner split is scored by its loss only: skorch's ``valid_acc``
            # would compare encoded targets with decoded predictions
            callbacks = [(n, cb) for n, cb in callbacks if n != "valid_acc"]
            callbacks.append((
                "early_stopping",
                EarlyStopping(monitor="valid_loss", patience=self.patience,
                              load_best=True),
            ))
        return callbacks

    def _make_augmenter(self, shape, rng):
        if self.augment is None:
            return None
        if callable(self.augment):
            return self.augment
        from skmer.models._augment import RandomShiftFlip

        max_shift = self.max_shift
        if max_shift is None:
            max_shift = int(round(_PAPER_SHIFT * min(shape[-2:]) / _PAPER_SIZE))
        return RandomShiftFlip(
            max_shift=max_shift, p_flip=0.5, flow_channels=tuple(self.flow_channels),
            flow_max=self.flow_max, random_state=rng.randint(np.iinfo(np.int32).max),
        )

    def _make_inner_split(self, X, groups, rng):
        if not self.early_stopping:
            return None
        name = type(self).__name__
        if groups is None:
            raise ValueError(
                f"{name}: early_stopping=True needs the subjects: fit(X, y, "
                "groups=groups) (in a Pipeline: fit(X, y, <step>__groups=groups))."
            )
        groups = np.asarray(groups)
        if groups.shape != (len(X),):
            raise ValueError(
                f"{name}: groups must have shape ({len(X)},); got {groups.shape}."
            )
        if len(np.unique(groups)) < 2:
            raise ValueError(
                f"{name}: early_stopping=True needs at least two subjects in groups."
            )
        gss = GroupShuffleSplit(n_splits=1, test_size=self.validation_fraction,
                                random_state=rng.randint(np.iinfo(np.int32).max))
        train, valid = next(gss.split(X, groups=groups))
        return train, valid

    @contextmanager
    def _cudnn_benchmark(self):
        if not _is_cuda(_resolve_device(self.device)):
            yield
            return
        previous = torch.backends.cudnn.benchmark
        torch.backends.cudnn.benchmark = True
        try:
            yield
        finally:
            torch.backends.cudnn.benchmark = previous

    # --------------------------------------------------------------- training
    def fit(self, X: ArrayLike, y: ArrayLike, groups: ArrayLike | None = None,
            **fit_params) -> MSRes3DClassifier:
        """Train the network from scratch.

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, frames, height, width) or \
(n_samples, channels, height, width)
            Stacked optical flow (or single flow images), float.
        y : array-like of shape (n_samples,)
            Labels (ints or strings).
        groups : array-like of shape (n_samples,), default=None
            Subjects; used only by ``early_stopping`` (inner split).
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        self._check_recipe_params()
        X = self._validate_X(X, reset=True)
        rng = check_random_state(self.random_state)
        self.augmenter_ = self._make_augmenter(X.shape, rng)
        self.inner_split_ = self._make_inner_split(X, groups, rng)
        with self._cudnn_benchmark():
            return super().fit(X, y, **fit_params)

    def forward_iter(self, X: ArrayLike, training: bool = False,
                     device: str = "cpu") -> torch.Tensor:
        """Yield the module's outputs batch by batch (see skorch).

        Parameters
        ----------
        X : array-like
            Input data.
        training : bool, default=False
            Train mode when True.
        device : str, default="cpu"
            Where the outputs are put.

        Yields
        ------
        yp : torch.Tensor
            Outputs of one batch.
        """
        with self._cudnn_benchmark():
            yield from super().forward_iter(X, training=training, device=device)

    def get_split_datasets(self, X: ArrayLike, y: ArrayLike | None = None,
                           **fit_params) -> tuple[Dataset, Dataset | None]:
        """Training and inner-validation datasets (subject-grouped when asked).

        Parameters
        ----------
        X : array-like
            Training inputs.
        y : array-like, default=None
            Encoded targets.
        **fit_params : dict
            Passed to ``train_split`` when there is no inner split.

        Returns
        -------
        dataset_train, dataset_valid : Dataset
            ``dataset_valid`` is None without early stopping and ``train_split``.
        """
        split = self.__dict__.get("inner_split_")
        if split is None or y is None or len(X) != len(split[0]) + len(split[1]):
            return super().get_split_datasets(X, y, **fit_params)
        train, valid = split
        return (self.get_dataset(X[train], y[train]),
                self.get_dataset(X[valid], y[valid]))

    def train_step(self, batch: tuple, **fit_params) -> dict:
        """One optimisation step on an augmented mini-batch.

        Parameters
        ----------
        batch : tuple
            ``(X, y)`` batch.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        step : dict
            ``{"loss": loss, "y_pred": y_pred}``.
        """
        augmenter = self.__dict__.get("augmenter_")
        if augmenter is not None:
            Xi, yi = unpack_data(batch)
            if self._on_cuda() and isinstance(Xi, torch.Tensor):
                Xi = Xi.to(self.device_, non_blocking=True)  # augment on the GPU
            batch = (augmenter(Xi), yi)
        return super().train_step(batch, **fit_params)

    def infer(self, x: torch.Tensor, **fit_params) -> torch.Tensor:
        """Forward ``x``; single images become one-frame clips.

        On CUDA the batch is moved in ``channels_last_3d`` layout.

        Parameters
        ----------
        x : torch.Tensor
            A batch ``(B, C, T, H, W)`` or ``(B, C, H, W)``.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        y_infer : torch.Tensor of shape (B, 4, n_classes)
            The heads' logits.
        """
        if isinstance(x, torch.Tensor) and x.ndim == 4:
            x = x.unsqueeze(2)
        # on CUDA: moved without blocking, in channels_last_3d layout
        return self._infer_on_device(x, fit_params, channels_last=True)
