"""scikit-learn faces (skorch classifiers) of the flow-image networks."""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, LRScheduler
from skorch.dataset import Dataset, unpack_data
from skorch.utils import TeeGenerator, to_device, to_tensor
from torch.utils.data import DataLoader

from skmer.models._docs import fill_shared_params
from skmer.models.nets import OffApexNet, STSTNet
from skmer.utils._tags import with_skmer_tags

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from numpy.typing import ArrayLike
    from torch.utils.data import Dataset as TorchDataset

__all__ = ["FlowNetClassifier", "STSTNetClassifier", "OffApexNetClassifier"]

logger = logging.getLogger(__name__)


class _EpochProgressBar(Callback):
    """A ``tqdm.auto`` bar over the training epochs (one tick per epoch).

    Added by ``FlowNetClassifier.get_default_callbacks`` when ``verbose > 1``;
    skorch's own ``ProgressBar`` callback ticks per batch.  It only
    reports: training is unchanged.
    """

    def __init__(self):
        self.pbar_ = None

    def _close(self):
        if self.pbar_ is not None:
            self.pbar_.close()
        self.pbar_ = None

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        from tqdm.auto import tqdm

        self._close()
        self.pbar_ = tqdm(total=net.max_epochs, desc=type(net).__name__,
                          unit="epoch")

    def on_epoch_end(self, net, **kwargs):
        if self.pbar_ is not None:
            loss = net.history[-1].get("train_loss")
            if loss is not None:
                self.pbar_.set_postfix(train_loss=f"{loss:.4f}", refresh=False)
            self.pbar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self._close()

    def __getstate__(self):
        # a live tqdm bar does not pickle (a net saved mid-training): drop it
        state = self.__dict__.copy()
        state["pbar_"] = None
        return state


def _resolve_device(device):
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _is_cuda(device):
    return device is not None and torch.device(device).type == "cuda"


def _channels_last(module):
    """Put the convolutions of ``module`` in a channels-last memory format.

    2-D convolutions go to ``channels_last`` and 3-D ones to ``channels_last_3d``
    (a whole-module ``.to(memory_format=...)`` fails on rank-5 weights).
    """
    for m in module.modules():
        if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d):
            m.to(memory_format=torch.channels_last)
        elif isinstance(m, torch.nn.Conv3d | torch.nn.ConvTranspose3d):
            m.to(memory_format=torch.channels_last_3d)
    return module


def _as_channels_last(x):
    if x.ndim == 4:
        return x.contiguous(memory_format=torch.channels_last)
    if x.ndim == 5:
        return x.contiguous(memory_format=torch.channels_last_3d)
    return x


def _to_float(y):
    """Cast network outputs (a tensor, or a tuple/list/dict of them) to float32."""
    if isinstance(y, torch.Tensor):
        return y.float()
    if isinstance(y, tuple | list):
        return type(y)(_to_float(v) for v in y)
    if isinstance(y, dict):
        return {k: _to_float(v) for k, v in y.items()}
    return y


def canonical_layout(X: np.ndarray) -> np.ndarray:
    """Return ``X`` C-contiguous: the one memory layout the networks train on.

    The networks train on the memory layout of their input: convolution outputs
    follow it, and dropout draws its noise in that layout, so the same seed gives
    other masks on a channels-last array than on a C-contiguous one. One canonical
    layout makes a fit independent of how ``X`` was laid out or serialised (
    :func:`~skmer.datasets.load_flow_images` returns a transposed, channels-last
    view; a loky or dask worker receives a C-contiguous copy of it). C-contiguous is
    that layout: it is what the fold workers trained on when skmer's published
    composite figures were made, so those reproduce, and it is the faster one for
    these few-channel convolutions on the CPU (1.16x per STSTNet training step,
    ``benchmarks/loso_speed.py --part kernel``).
    """
    return np.ascontiguousarray(X)


class ArrayBatchLoader:
    """A light replacement of :class:`torch.utils.data.DataLoader` for arrays in memory.

    skorch's default loader indexes samples one by one and collates them; for the
    small flow images of micro-expression corpora that per-sample overhead dominates
    training time. This loader converts ``X`` and ``y`` to tensors once and yields
    slices (shuffled with torch's global generator when ``shuffle=True``). Datasets
    that are not skorch ``Dataset`` objects over arrays fall back to a ``DataLoader``.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Dataset
        The data.
    batch_size : int, default=128
        Samples per batch.
    shuffle : bool, default=False
        Draw a new permutation every epoch.
    drop_last : bool, default=False
        Drop the last incomplete batch.
    **kwargs
        Passed to the ``DataLoader`` fallback.
    """

    def __init__(self, dataset: Dataset | TorchDataset, batch_size: int = 128,
                 shuffle: bool = False, drop_last: bool = False, **kwargs) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        fast = (
            isinstance(dataset, Dataset)
            and isinstance(dataset.X, np.ndarray | torch.Tensor)
            and (dataset.y is None or isinstance(dataset.y, np.ndarray | torch.Tensor))
            and not kwargs
        )
        self._loader = None
        if not fast:
            self._loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                                      drop_last=drop_last, **kwargs)
            return
        self._X = self._as_tensor(dataset.X)
        self._y = None if dataset.y is None else self._as_tensor(dataset.y)

    @staticmethod
    def _as_tensor(a):
        if isinstance(a, np.ndarray) and not a.flags.writeable:
            a = a.copy()
        return torch.as_tensor(a)

    def __len__(self):
        if self._loader is not None:
            return len(self._loader)
        n = len(self._X)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        if self._loader is not None:
            yield from self._loader
            return
        n = len(self._X)
        order = torch.randperm(n) if self.shuffle else None
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            if order is None:
                idx = slice(start, start + self.batch_size)
            else:
                idx = order[start : start + self.batch_size]
            yield self._X[idx], (None if self._y is None else self._y[idx])


@fill_shared_params
class FlowNetClassifier(NeuralNetClassifier):
    """Shared skorch base of skmer's flow-image classifiers.

    Adds to :class:`skorch.NeuralNetClassifier`: label encoding (any labels, e.g.
    strings, with ``predict`` returning them), input validation, ``random_state``,
    ``device="auto"``, mixed precision and ``channels_last`` on CUDA, an optional
    cosine learning-rate schedule and class-balanced loss, and a fast in-memory
    batch loader. Subclasses fix the ``module`` default and the recipe defaults.

    Parameters
    ----------
    module : type or torch.nn.Module
        The network. ``n_classes`` is set from the classes found in ``fit`` unless
        given as ``module__n_classes``.
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
    %(kwargs)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, in the order of the ``predict_proba`` columns.
    module_ : torch.nn.Module
        The trained network.
    device_ : str
        The device actually used.
    input_shape_ : tuple of int
        ``(channels, height, width)`` of the samples seen in ``fit``.
    """

    def __init__(
        self,
        module: type | torch.nn.Module,
        *,
        criterion: type = torch.nn.CrossEntropyLoss,
        optimizer: type = torch.optim.AdamW,
        lr: float = 1e-3,
        max_epochs: int = 30,
        batch_size: int = 64,
        lr_schedule: str | None = None,
        class_weight: str | None = None,
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
            iterator_train=iterator_train,
            iterator_valid=iterator_valid,
            iterator_train__shuffle=iterator_train__shuffle,
            train_split=train_split,
            classes=classes,
            device=device,
            verbose=verbose,
            **kwargs,
        )
        self.lr_schedule = lr_schedule
        self.class_weight = class_weight
        self.random_state = random_state

    def __init_subclass__(cls, **kwargs):
        # the subclasses' docstrings name shared parameters as %(name)s lines
        super().__init_subclass__(**kwargs)
        fill_shared_params(cls)

    # ------------------------------------------------------------------ device
    # skorch reads the ``device`` parameter wherever it moves a module or a batch.
    # ``device="auto"`` is no torch device, and a hyper-parameter must keep the
    # value the user gave: the device is resolved once into ``device_`` in
    # ``initialize``, and the few skorch methods that read ``self.device`` are
    # overridden below to read ``_compute_device()`` instead.
    def _compute_device(self):
        """Return the concrete device: ``device_`` if initialised, else resolved now."""
        device = self.__dict__.get("device_")
        return device if device is not None else _resolve_device(self.device)

    def _on_cuda(self):
        return _is_cuda(self._compute_device())

    def _place(self, names):
        device = self._compute_device()
        for name in names:
            part = getattr(self, name + "_")
            if isinstance(part, torch.nn.Module):
                part = self.torch_compile(to_device(part, device), name=name)
                setattr(self, name + "_", part)

    def _reinit_message(self, kind, names, reason):
        if not (self.initialized_ and self.verbose):
            return
        kwargs = {}
        for name in names:
            kwargs.update(self.get_params_for(name))
        # skorch prints this message; skmer's library code logs
        logger.info("%s", reason or self._format_reinit_msg(kind, kwargs))

    def _initialize_module(self, reason=None):
        # skorch's own version moves the modules to ``self.device``
        with self._current_init_context("module"):
            self._reinit_message("module", self._modules, reason)
            self.initialize_module()
            self._place(self._modules)
        return self

    def _initialize_criterion(self, reason=None):
        with self._current_init_context("criterion"):
            self._reinit_message("criterion", self._criteria, reason)
            self.initialize_criterion()
            self._place(self._criteria)
        return self

    def get_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor,
                 X: ArrayLike | None = None, training: bool = False) -> torch.Tensor:
        """Return the loss of a batch (on the resolved device).

        Parameters
        ----------
        y_pred : torch.Tensor
            The module's outputs.
        y_true : torch.Tensor or array-like
            The targets.
        X : array-like, default=None
            The inputs (unused).
        training : bool, default=False
            Whether in training mode (unused).

        Returns
        -------
        loss : torch.Tensor
            The criterion's value.
        """
        y_true = to_tensor(y_true, device=self._compute_device())
        if isinstance(self.criterion_, torch.nn.NLLLoss):
            # skorch's NeuralNetClassifier: the module outputs probabilities
            y_pred = torch.log(y_pred + torch.finfo(y_pred.dtype).eps)
        return self.criterion_(y_pred, y_true)

    # ------------------------------------------------------------ input checks
    def _module_params(self):
        params = {}
        if isinstance(self.module, type):
            for name, p in inspect.signature(self.module).parameters.items():
                if p.default is not inspect.Parameter.empty:
                    params[name] = p.default
        params.update(super().get_params_for("module"))
        return params

    def _expected_channels(self):
        """Return ``(n_channels, exact)``; subclasses override."""
        return self._module_params().get("in_channels", None), True

    def _expected_shape_text(self):
        channels, exact = self._expected_channels()
        size = self._module_params().get("input_size", ("height", "width"))
        c = "channels" if channels is None else (
            str(channels) if exact else f"channels >= {channels}"
        )
        return f"(n_samples, {c}, {size[0]}, {size[1]})"

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
        shape_msg = (
            f"{name}: X must be an array of shape {self._expected_shape_text()}; "
            f"got shape {X.shape}."
        )
        if X.ndim != 4 or X.shape[0] == 0:
            raise ValueError(shape_msg)
        if reset:
            channels, exact = self._expected_channels()
            if channels is not None and (
                X.shape[1] != channels if exact else X.shape[1] < channels
            ):
                raise ValueError(shape_msg)
            size = self._module_params().get("input_size", None)
            if size is not None and tuple(X.shape[2:]) != tuple(size):
                raise ValueError(shape_msg)
        elif tuple(X.shape[1:]) != tuple(self.input_shape_):
            expected = ", ".join(map(str, self.input_shape_))
            raise ValueError(
                f"{name}: X must have shape (n_samples, {expected}) as in fit; got "
                f"shape {X.shape}."
            )
        X = canonical_layout(X.astype(np.float32, copy=False))
        if not np.isfinite(X).all():
            raise ValueError(f"{name}: X contains NaN or infinity.")
        return X

    # ------------------------------------------------------------------ labels
    @property
    def classes_(self) -> np.ndarray:
        try:
            return self.__dict__["_label_classes_"]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute 'classes_' before fit."
            ) from None

    def _set_classes(self, y):
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D; got shape {y.shape}.")
        classes = np.unique(y) if self.classes is None else np.asarray(self.classes)
        if len(classes) < 2 and self.classes is None:
            raise ValueError("y must hold at least two classes; got " f"{classes}.")
        self._label_classes_ = classes

    def _encode(self, y, n_samples):
        y = np.asarray(y)
        if y.shape != (n_samples,):
            raise ValueError(
                f"y must have shape ({n_samples},) like X; got shape {y.shape}."
            )
        classes = self.classes_
        lookup = {c: i for i, c in enumerate(classes.tolist())}
        try:
            return np.fromiter((lookup[v] for v in y.tolist()), dtype=np.int64,
                               count=n_samples)
        except KeyError as exc:
            raise ValueError(
                f"y holds label {exc.args[0]!r}, which is not in classes="
                f"{classes.tolist()}."
            ) from None

    def _class_weights(self, y_enc):
        if self.class_weight is None:
            return None
        if self.class_weight != "balanced":
            raise ValueError(
                f"class_weight must be 'balanced' or None; got {self.class_weight!r}."
            )
        counts = np.bincount(y_enc, minlength=len(self.classes_)).astype(np.float64)
        present = counts > 0
        weights = np.zeros_like(counts)
        weights[present] = counts.sum() / (present.sum() * counts[present])
        return torch.as_tensor(weights, dtype=torch.float32)

    # ---------------------------------------------------------- initialisation
    def get_params_for(self, prefix: str) -> dict:
        """Collect init parameters for ``prefix`` (adds ``n_classes`` and weights).

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
        if (
            prefix == "module"
            and isinstance(self.module, type)
            and "n_classes" not in params
            and "_label_classes_" in self.__dict__
        ):
            params["n_classes"] = len(self.classes_)
        if (
            prefix == "criterion"
            and "weight" not in params
            and self.__dict__.get("_loss_weight_") is not None
        ):
            params["weight"] = self._loss_weight_
        return params

    def get_default_callbacks(self) -> list[tuple[str, Any]]:
        """Return skorch's default callbacks plus the learning-rate schedule.

        With ``verbose > 1``, a callback showing a tqdm bar over the epochs is
        added as well.

        Returns
        -------
        callbacks : list of (str, Callback)
            Named callbacks.
        """
        callbacks = list(super().get_default_callbacks())
        if self.verbose > 1:
            callbacks.append(("epoch_progress", _EpochProgressBar()))
        if self.lr_schedule == "cosine":
            callbacks.append((
                "lr_schedule",
                LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR,
                            T_max=self.max_epochs),
            ))
        elif self.lr_schedule is not None:
            raise ValueError(
                f"lr_schedule must be 'cosine' or None; got {self.lr_schedule!r}."
            )
        return callbacks

    def initialize(self) -> FlowNetClassifier:
        """Seed torch, resolve the device and initialise the components.

        Returns
        -------
        self : object
            The initialised net.
        """
        if self.random_state is not None:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            torch.manual_seed(seed)
        self.device_ = _resolve_device(self.device)
        super().initialize()
        if _is_cuda(self.device_):
            self.module_ = _channels_last(self.module_)
            self.grad_scaler_ = torch.amp.GradScaler("cuda")
        else:
            self.grad_scaler_ = None
        return self

    # --------------------------------------------------------------- training
    def fit(self, X: ArrayLike, y: ArrayLike, **fit_params) -> FlowNetClassifier:
        """Train the network from scratch for ``max_epochs`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)
            Flow images, float.
        y : array-like of shape (n_samples,)
            Labels (ints or strings).
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        X = self._validate_X(X, reset=True)
        self._set_classes(y)
        y_enc = self._encode(y, len(X))
        self._loss_weight_ = self._class_weights(y_enc)
        n_classes = super().get_params_for("module").get("n_classes")
        if n_classes is not None and n_classes != len(self.classes_):
            raise ValueError(
                f"module__n_classes={n_classes} does not match the "
                f"{len(self.classes_)} classes {self.classes_.tolist()}; leave it "
                "unset (it is taken from the classes) or pass classes=."
            )
        if not self.warm_start or not self.initialized_:
            self.initialize()
        self.input_shape_ = tuple(X.shape[1:])
        super().partial_fit(X, y_enc, **fit_params)
        return self

    def partial_fit(self, X: ArrayLike, y: ArrayLike, classes: None = None,
                    **fit_params) -> FlowNetClassifier:
        """Continue training for ``max_epochs`` epochs (initialising if needed).

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)
            Flow images, float.
        y : array-like of shape (n_samples,)
            Labels, among ``classes_`` once fitted.
        classes : None
            Unused; pass ``classes`` to the constructor instead.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        if not self.initialized_ or "_label_classes_" not in self.__dict__:
            return self.fit(X, y, **fit_params)
        X = self._validate_X(X, reset=False)
        y_enc = self._encode(y, len(X))
        super().partial_fit(X, y_enc, **fit_params)
        return self

    def infer(self, x: torch.Tensor, **fit_params) -> torch.Tensor:
        """Forward ``x`` (``channels_last`` on CUDA).

        Parameters
        ----------
        x : torch.Tensor
            A batch.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        y_infer : torch.Tensor
            The logits.
        """
        return self._infer_on_device(x, fit_params, channels_last=True)

    def _infer_on_device(self, x, fit_params, *, channels_last):
        """Run skorch's ``infer`` on the resolved device (``channels_last`` on CUDA)."""
        device = self._compute_device()
        if isinstance(x, torch.Tensor):
            x = x.to(device, non_blocking=True)
            if channels_last and _is_cuda(device):
                x = _as_channels_last(x)
        x = to_tensor(x, device=device)
        if isinstance(x, Mapping):
            return self.module_(**self._merge_x_and_fit_params(x, fit_params))
        return self.module_(x, **fit_params)

    def train_step(self, batch: tuple, **fit_params) -> dict:
        """One optimisation step; mixed precision with gradient scaling on CUDA.

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
        scaler = getattr(self, "grad_scaler_", None)
        if scaler is None:
            return super().train_step(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        self._zero_grad_optimizer()
        with torch.autocast("cuda", dtype=torch.float16):
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        scaler.scale(loss).backward()
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        for name in self._optimizers:
            scaler.step(getattr(self, name + "_"))
        scaler.update()
        return {"loss": loss.detach().float(), "y_pred": _to_float(y_pred)}

    def evaluation_step(self, batch: tuple, training: bool = False) -> torch.Tensor:
        """Forward a batch without gradients (autocast on CUDA, float32 output).

        Parameters
        ----------
        batch : tuple
            ``(X, y)`` batch.
        training : bool, default=False
            Train mode (dropout, batch statistics) when True.

        Returns
        -------
        y_infer : torch.Tensor
            The logits.
        """
        if not self._on_cuda():
            return super().evaluation_step(batch, training=training)
        with torch.autocast("cuda", dtype=torch.float16):
            return _to_float(super().evaluation_step(batch, training=training))

    # -------------------------------------------------------------- prediction
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
        if device == "auto":  # skorch's scoring callbacks pass ``net.device``
            device = self._compute_device()
        yield from super().forward_iter(X, training=training, device=device)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Return class probabilities (columns in the order of ``classes_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)
            Flow images, with the shape seen in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Softmax probabilities; rows sum to 1.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return super().predict_proba(X).astype(np.float32, copy=False)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Return the predicted labels (as given in ``fit``).

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)
            Flow images, with the shape seen in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __getstate__(self):
        state = super().__getstate__()
        # skorch maps only module_, criterion_ and optimizer_ to the CPU on load;
        # anything else that holds CUDA tensors would fail to unpickle without
        # CUDA.  An LRScheduler callback holds the torch scheduler, which holds the
        # optimizer (CUDA state): drop it, skorch rebuilds it at the next fit.
        callbacks = state.get("callbacks_")
        if callbacks:
            kept = []
            for name, cb in callbacks:
                if getattr(cb, "lr_scheduler_", None) is not None:
                    cb = copy.copy(cb)
                    cb.lr_scheduler_ = None
                kept.append((name, cb))
            state["callbacks_"] = kept
        scaler = state.get("grad_scaler_")
        if scaler is not None:
            # a GradScaler holds CUDA tensors that plain pickle cannot map to the
            # CPU on a machine without CUDA: keep its plain-Python state instead
            state["grad_scaler_"] = None
            state["_grad_scaler_state"] = scaler.state_dict()
        return state

    def __setstate__(self, state):
        scaler_state = state.pop("_grad_scaler_state", None)
        requested = state.get("device")
        if requested == "auto":
            state["device"] = _resolve_device(requested)
        # skorch maps the module, criterion and optimizer to the CPU (and sets
        # device="cpu" with a DeviceWarning) when CUDA is not available
        super().__setstate__(state)
        actual = self.device
        if requested == "auto":
            self.device = requested
        if "device_" in self.__dict__:
            self.device_ = str(actual)
            self.grad_scaler_ = None
            if _is_cuda(actual):
                self.grad_scaler_ = torch.amp.GradScaler("cuda")
                if scaler_state:
                    self.grad_scaler_.load_state_dict(scaler_state)


class STSTNetClassifier(FlowNetClassifier):
    """STSTNet micro-expression classifier on optical-flow images (skorch).

    Trains :class:`~skmer.models.nets.STSTNet` on ``(n, 3, 28, 28)`` flow images
    (u, v, optical strain, scaled to [0, 1]) with a fixed recipe: AdamW (lr 1e-3,
    weight decay 1e-2), batch 64, 30 epochs, cosine schedule, class-balanced loss.

    Parameters
    ----------
    module : type or torch.nn.Module, default=STSTNet
        The network; architecture options travel as ``module__in_channels``,
        ``module__input_size``, ``module__n_classes``, ``module__dropout``.
    criterion : type, default=torch.nn.CrossEntropyLoss
        The loss.
    optimizer : type, default=torch.optim.AdamW
        The optimiser (``optimizer__weight_decay`` sets its weight decay).
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
    %(kwargs)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, in the order of the ``predict_proba`` columns.
    module_ : STSTNet
        The trained network.
    device_ : str
        The device actually used.
    input_shape_ : tuple of int
        ``(channels, height, width)`` seen in ``fit``.

    See Also
    --------
    OffApexNetClassifier : Two-stream network on u and v.

    Notes
    -----
    The authors' recipe (Adam 5e-5, batch 256, 800 epochs) is about 20 times
    slower; this default reaches a comparable pooled UF1 on the MEGC2019 composite
    under leave-one-subject-out (see ``benchmarks/composite_flow.py``).

    References
    ----------
    .. [1] S.-T. Liong, Y. S. Gan, J. See, H.-Q. Khor and Y.-C. Huang, "Shallow
       triple stream three-dimensional CNN (STSTNet) for micro-expression
       recognition", FG 2019, :doi:`10.1109/FG.2019.8756567`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((8, 3, 28, 28), dtype=np.float32)
    >>> y = np.array(["neg", "pos"] * 4)
    >>> clf = STSTNetClassifier(max_epochs=2, device="cpu", random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape
    (8, 2)
    >>> clf.classes_.tolist()
    ['neg', 'pos']
    """

    def __init__(
        self,
        module: type | torch.nn.Module = STSTNet,
        *,
        criterion: type = torch.nn.CrossEntropyLoss,
        optimizer: type = torch.optim.AdamW,
        lr: float = 1e-3,
        max_epochs: int = 30,
        batch_size: int = 64,
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


    def __sklearn_tags__(self):
        # the fold-batched engine (skmer.models._engine) trains this network's
        # LOSO folds x seeds at once; evaluate_loso chooses it by this tag
        return with_skmer_tags(super().__sklearn_tags__(), fold_batching=True)

    def _fold_batched_available(self) -> bool:
        """Whether ``evaluate_loso(engine="auto")`` should use the engine.

        True on CUDA when the engine supports these settings. On the CPU the
        per-fold path is as fast or faster (the engine's work is memory-bound
        there, see issue 12), so the answer is False.

        Returns
        -------
        available : bool
            Use the fold-batched engine.
        """
        from skmer.models._engine import check_fold_batching

        if not _is_cuda(_resolve_device(self.device)):
            return False
        try:
            check_fold_batching(self)
        except ValueError:
            return False
        return True

    def _fit_predict_folds(self, X: ArrayLike, y: ArrayLike, folds: list, *,
                           seeds, fold_seed: Callable,
                           return_proba: bool = True) -> list[dict]:
        """Train all ``folds`` x ``seeds`` models at once and predict their tests.

        See :func:`skmer.models._engine.fit_predict_folds`: each model starts from
        the weights the per-fold path gives for ``random_state=fold_seed(seed,
        fold)`` and trains only on its own training indices.

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)
            All samples.
        y : array-like of shape (n_samples,)
            All labels.
        folds : list of (int, array-like, array-like)
            ``(fold_index, train_idx, test_idx)``.
        seeds : sequence of int
            One model per (seed, fold).
        fold_seed : callable
            ``fold_seed(seed, fold)`` is each model's ``random_state``.
        return_proba : bool, default=True
            Include each model's test probabilities.

        Returns
        -------
        results : list of dict
            One per (seed, fold): ``seed, fold, random_state, test, y_pred, proba,
            classes, fit_time, total_time``.

        Raises
        ------
        ValueError
            When the engine cannot reproduce these settings (see
            :func:`skmer.models._engine.check_fold_batching`).
        """
        from skmer.models._engine import fit_predict_folds

        return fit_predict_folds(self, X, y, folds, seeds=seeds, fold_seed=fold_seed,
                                 return_proba=return_proba)


class OffApexNetClassifier(FlowNetClassifier):
    """OFF-ApexNet micro-expression classifier on optical-flow images (skorch).

    Trains :class:`~skmer.models.nets.OffApexNet` on ``(n, C >= 2, 28, 28)`` flow
    images whose channels 0 and 1 are u and v (skmer's (u, v, strain) images work
    as they are; the strain channel is ignored).

    Parameters
    ----------
    module : type or torch.nn.Module, default=OffApexNet
        The network; architecture options travel as ``module__input_size``,
        ``module__n_classes``, ``module__dropout``, ``module__flow_channels``.
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
    %(kwargs)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, in the order of the ``predict_proba`` columns.
    module_ : OffApexNet
        The trained network.
    device_ : str
        The device actually used.
    input_shape_ : tuple of int
        ``(channels, height, width)`` seen in ``fit``.

    See Also
    --------
    STSTNetClassifier : Shallow triple-stream network on (u, v, strain).

    References
    ----------
    .. [1] Y. S. Gan, S.-T. Liong, W.-C. Yau, Y.-C. Huang and L.-K. Tan,
       "OFF-ApexNet on micro-expression recognition system", Signal Processing:
       Image Communication 74 (2019) 129-139, :doi:`10.1016/j.image.2019.02.005`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((8, 2, 28, 28), dtype=np.float32)
    >>> y = np.array([0, 1] * 4)
    >>> clf = OffApexNetClassifier(max_epochs=1, device="cpu", random_state=0)
    >>> clf.fit(X, y).predict(X).shape
    (8,)
    """

    def __init__(
        self,
        module: type | torch.nn.Module = OffApexNet,
        *,
        criterion: type = torch.nn.CrossEntropyLoss,
        optimizer: type = torch.optim.AdamW,
        lr: float = 1e-4,
        max_epochs: int = 30,
        batch_size: int = 64,
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

    def _expected_channels(self):
        flow_channels = self._module_params().get("flow_channels", (0, 1))
        return max(flow_channels) + 1, False
