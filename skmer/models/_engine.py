"""Fold-batched training of the leave-one-subject-out fold models of a small network.

All the fold models are trained at once, as one vectorised model.

A per-fold LOSO run of STSTNet trains 68 copies of a 1,683-parameter network one
after another; on a GPU each of them is bound by kernel launches, not by arithmetic.
This engine stacks K such models (all folds x seeds still to run) along the channel
axis and trains them together:

- parameters live in one ``(K, P)`` leaf tensor; the convolutions run as one grouped
  convolution (``groups=K``) over channel-stacked inputs, the classifier as one
  batched matrix product, so no model ever sees another model's activations;
- batch normalisation keeps per-model statistics (each channel belongs to one model)
  and ignores the padding rows of a model's short batches;
- each model starts from the weights the per-fold path gives for
  ``random_state=fold_seed(seed, fold)`` and draws its own mini-batches, only from
  its own training indices, from its own generator, seeded as the per-fold path
  seeds its loader;
- AdamW is elementwise, so a stacked AdamW with a per-model step count is exactly
  K separate optimisers; a model with no batch at a step (a smaller training set)
  is not updated at all, so every model does exactly its own number of optimiser
  steps with its own batch sizes.

On the CPU the engine draws every model's shuffles and dropout masks from a CPU
generator in the per-fold path's order, so it reproduces the per-fold fit up to
floating-point rounding (grouped vs separate convolutions). On CUDA dropout masks
are drawn on the device (one generator for the whole call, seeded from the models'
seeds) for speed; the results then are deterministic for a given call but not
bit-identical to the per-fold path, which on CUDA also trains in mixed precision.

Only :class:`~skmer.models.STSTNetClassifier` (and its ``STSTNet`` module) is
supported, with the settings its recipe uses; anything else raises ``ValueError``.
"""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils import check_random_state
from skorch import NeuralNet
from skorch.callbacks import LRScheduler

from skmer._core._utils import _plain
from skmer.models.nets.ststnet import STSTNet

__all__ = ["check_fold_batching", "fit_predict_folds"]

# per-fold path, ``FlowNetClassifier.initialize``: the int seed given to torch
_INT32_MAX = np.iinfo(np.int32).max


def _resolved_device(estimator):
    from skmer.models._skorch import _resolve_device

    return torch.device(_resolve_device(estimator.device))


# ------------------------------------------------------------------- settings
def check_fold_batching(estimator):
    """Raise ``ValueError`` if the engine cannot train ``estimator`` as configured.

    Parameters
    ----------
    estimator : STSTNetClassifier
        The (unfitted) classifier whose fold models are to be batched.

    Raises
    ------
    ValueError
        Naming the first setting the engine does not reproduce.
    """
    from skmer.models._skorch import ArrayBatchLoader, STSTNetClassifier

    name = type(estimator).__name__

    def fail(what):
        raise ValueError(
            f"The fold-batched engine cannot train {name} with {what}; use the "
            "per-fold path (evaluate_loso(..., engine='per-fold')).")

    if not isinstance(estimator, STSTNetClassifier):
        fail("this estimator type (only STSTNetClassifier is supported)")
    module = estimator.module
    if not (isinstance(module, type) and issubclass(module, STSTNet)
            and module.forward is STSTNet.forward):
        fail(f"module={module!r} (only the STSTNet class)")
    if not (isinstance(estimator.criterion, type)
            and estimator.criterion is torch.nn.CrossEntropyLoss):
        fail(f"criterion={estimator.criterion!r} (only CrossEntropyLoss)")
    if estimator.optimizer is not torch.optim.AdamW:
        fail(f"optimizer={estimator.optimizer!r} (only torch.optim.AdamW)")
    opt = NeuralNet.get_params_for(estimator, "optimizer")
    extra = set(opt) - {"weight_decay", "betas", "eps"}
    if extra:
        fail(f"optimizer__{sorted(extra)[0]}")
    crit = NeuralNet.get_params_for(estimator, "criterion")
    if crit:
        fail(f"criterion__{sorted(crit)[0]}")
    if estimator.iterator_train is not ArrayBatchLoader:
        fail(f"iterator_train={estimator.iterator_train!r}")
    loader = NeuralNet.get_params_for(estimator, "iterator_train")
    if set(loader) - {"shuffle"}:
        fail(f"iterator_train__{sorted(set(loader) - {'shuffle'})[0]}")
    if estimator.train_split is not None:
        fail("an internal train_split")
    if estimator.callbacks not in (None, [], ()):
        fail("user callbacks")
    if estimator.warm_start:
        fail("warm_start=True")
    if getattr(estimator, "compile", False):
        fail("compile=True")
    if estimator.lr_schedule not in (None, "cosine"):
        fail(f"lr_schedule={estimator.lr_schedule!r}")
    if estimator.class_weight not in (None, "balanced"):
        fail(f"class_weight={estimator.class_weight!r}")
    if not (isinstance(estimator.batch_size, int | np.integer)
            and (estimator.batch_size > 0 or estimator.batch_size == -1)):
        fail(f"batch_size={estimator.batch_size!r}")
    device = _resolved_device(estimator)
    if device.type not in ("cpu", "cuda"):
        fail(f"device={estimator.device!r}")
    return estimator


def _adamw_defaults(estimator):
    sig = inspect.signature(torch.optim.AdamW)
    opt = {k: p.default for k, p in sig.parameters.items()
           if k in ("weight_decay", "betas", "eps")}
    opt.update(NeuralNet.get_params_for(estimator, "optimizer"))
    betas = tuple(float(b) for b in opt["betas"])
    return float(opt["weight_decay"]), betas, float(opt["eps"])


def _epoch_lrs(estimator):
    """Return every epoch's learning rate, as the per-fold path's callback sets it."""
    n = int(estimator.max_epochs)
    if estimator.lr_schedule is None:
        return [float(estimator.lr)] * n
    sched = LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=n)
    return [float(v) for v in sched.simulate(n, estimator.lr)]


# ------------------------------------------------------------- the models
@dataclass
class _Task:
    """One fold model: its seed, fold, indices, label encoding and generator."""

    seed: int
    fold: int
    random_state: object
    train: np.ndarray
    test: np.ndarray
    classes: np.ndarray
    y_enc: np.ndarray  # training labels, encoded in ``classes``
    loss_weight: np.ndarray | None
    state: dict
    generator: torch.Generator
    torch_seed: int | None


def _make_task(estimator, X, y, seed, fold, train, test, random_state):
    """Set a fold model up exactly as ``STSTNetClassifier.fit`` would."""
    from sklearn.base import clone

    net = clone(estimator).set_params(random_state=random_state, device="cpu")
    net._set_classes(y[train])
    y_enc = net._encode(y[train], len(train))
    weight = net._class_weights(y_enc)
    n_classes = NeuralNet.get_params_for(net, "module").get("n_classes")
    if n_classes is not None and n_classes != len(net.classes_):
        raise ValueError(
            f"module__n_classes={n_classes} does not match the "
            f"{len(net.classes_)} classes {net.classes_.tolist()} of fold {fold}.")
    kwargs = net.get_params_for("module")
    torch_seed = None
    if random_state is not None:
        torch_seed = int(check_random_state(random_state).randint(_INT32_MAX))
    with torch.random.fork_rng(devices=[]):
        # FlowNetClassifier.initialize: seed torch, then skorch builds the module
        if torch_seed is not None:
            torch.manual_seed(torch_seed)
        module = net.module(**kwargs)
        # the loader's first permutation comes next from the same generator
        gen = torch.Generator()
        gen.set_state(torch.get_rng_state())
    return _Task(
        seed=int(seed), fold=int(fold), random_state=random_state,
        train=np.asarray(train), test=np.asarray(test), classes=net.classes_,
        y_enc=y_enc, loss_weight=None if weight is None else weight.numpy(),
        state={k: v.detach().clone() for k, v in module.state_dict().items()},
        generator=gen, torch_seed=torch_seed)


class StackedSTSTNet:
    """K STSTNet models with their parameters stacked (see the module docstring).

    Parameters
    ----------
    states : list of dict
        The models' ``STSTNet`` state dicts (same architecture; the classifiers may
        have different numbers of outputs, padded to the largest).
    n_outputs : list of int
        Each model's number of classes.
    dropout : float
        Dropout probability.
    device : torch.device
        Where the parameters live.
    """

    _STREAMS = ("1", "2", "3")

    def __init__(self, states, n_outputs, dropout, device):
        self.k = k = len(states)
        self.dropout = float(dropout)
        self.device = device
        s0 = states[0]
        self.in_channels = s0["conv1.weight"].shape[1]
        self.widths = [s0[f"conv{i}.weight"].shape[0] for i in self._STREAMS]
        self.width = sum(self.widths)
        self.n_features = s0["fc.weight"].shape[1]
        self.n_out = max(n_outputs)
        c, w, f, o = self.in_channels, self.width, self.n_features, self.n_out
        self._shapes = {"conv_w": (w, c, 3, 3), "conv_b": (w,), "bn_w": (w,),
                        "bn_b": (w,), "fc_w": (o, f), "fc_b": (o,)}
        self._slices, start = {}, 0
        for name, shape in self._shapes.items():
            size = math.prod(shape)
            self._slices[name] = slice(start, start + size)
            start += size
        flat = torch.zeros(k, start)
        for i, s in enumerate(states):
            n = s["fc.weight"].shape[0]
            parts = {
                "conv_w": torch.cat([s[f"conv{j}.weight"] for j in self._STREAMS]),
                "conv_b": torch.cat([s[f"conv{j}.bias"] for j in self._STREAMS]),
                "bn_w": torch.cat([s[f"bn{j}.weight"] for j in self._STREAMS]),
                "bn_b": torch.cat([s[f"bn{j}.bias"] for j in self._STREAMS]),
                "fc_w": F.pad(s["fc.weight"], (0, 0, 0, o - n)),
                "fc_b": F.pad(s["fc.bias"], (0, o - n)),
            }
            for name, v in parts.items():
                flat[i, self._slices[name]] = v.reshape(-1)
        self.flat = flat.to(device).requires_grad_(True)
        self.running_mean = torch.cat([
            torch.cat([s[f"bn{j}.running_mean"] for j in self._STREAMS])
            for s in states]).to(device)
        self.running_var = torch.cat([
            torch.cat([s[f"bn{j}.running_var"] for j in self._STREAMS])
            for s in states]).to(device)
        self.batches_tracked = torch.stack([
            s["bn1.num_batches_tracked"] for s in states]).to(device)
        # logits of classes a model does not have are masked out
        out_mask = torch.zeros(k, o, dtype=torch.bool)
        for i, n in enumerate(n_outputs):
            out_mask[i, n:] = True
        self.out_mask = out_mask.to(device)

    def _param(self, name):
        return self.flat[:, self._slices[name]].unflatten(1, self._shapes[name])

    def state_dict(self, i):
        """Return model ``i``'s weights as an ``STSTNet`` state dict.

        Parameters
        ----------
        i : int
            The model.

        Returns
        -------
        state : dict of str to torch.Tensor
            On the CPU; the classifier has the model's own number of outputs.
        """
        with torch.no_grad():
            p = {name: self._param(name)[i].cpu() for name in self._shapes}
        n = int((~self.out_mask[i]).sum())
        state, start = {}, 0
        w = self.width
        rm = self.running_mean.view(self.k, w)[i].cpu()
        rv = self.running_var.view(self.k, w)[i].cpu()
        for j, width in zip(self._STREAMS, self.widths, strict=True):
            sl = slice(start, start + width)
            state[f"conv{j}.weight"] = p["conv_w"][sl]
            state[f"conv{j}.bias"] = p["conv_b"][sl]
            state[f"bn{j}.weight"] = p["bn_w"][sl]
            state[f"bn{j}.bias"] = p["bn_b"][sl]
            state[f"bn{j}.running_mean"] = rm[sl]
            state[f"bn{j}.running_var"] = rv[sl]
            state[f"bn{j}.num_batches_tracked"] = self.batches_tracked[i].cpu()
            start += width
        state["fc.weight"] = p["fc_w"][:n]
        state["fc.bias"] = p["fc_b"][:n]
        return state

    def _batch_norm(self, h, rows, active, training):
        """Per-model batch normalisation of ``h`` (B, K*W, H, W).

        ``rows`` (B, K) marks each model's real rows (the rest is padding), and
        ``active`` (K,) the models that have a batch at this step.
        """
        w, b = self._param("bn_w").reshape(-1), self._param("bn_b").reshape(-1)
        if not training:
            return F.batch_norm(h, self.running_mean, self.running_var, w, b,
                                training=False, eps=1e-5)
        if bool(rows.all()):
            # every model has a full batch: plain batch norm is already per model
            # (each channel belongs to one model), running statistics included
            self.batches_tracked += 1
            return F.batch_norm(h, self.running_mean, self.running_var, w, b,
                                training=True, momentum=0.1, eps=1e-5)
        bsz, kw, hh, ww = h.shape
        m = rows.to(h.dtype).repeat_interleave(self.width, dim=1)[:, :, None, None]
        count = (m.sum(0) * (hh * ww)).reshape(kw)
        safe = count.clamp_min(1.0)
        mean = (h * m).sum((0, 2, 3)) / safe
        d = h - mean[None, :, None, None]
        var = ((d * m) ** 2).sum((0, 2, 3)) / safe
        out = d * torch.rsqrt(var + 1e-5)[None, :, None, None]
        out = out * w[None, :, None, None] + b[None, :, None, None]
        with torch.no_grad():
            upd = active.repeat_interleave(self.width)
            unbiased = var * count / (count - 1).clamp_min(1.0)
            self.running_mean.copy_(torch.where(
                upd, 0.9 * self.running_mean + 0.1 * mean, self.running_mean))
            self.running_var.copy_(torch.where(
                upd, 0.9 * self.running_var + 0.1 * unbiased, self.running_var))
            self.batches_tracked += active.to(self.batches_tracked.dtype)
        return out

    def forward(self, x, rows, active, drop=None, training=False):
        """Logits ``(K, B, n_out)`` of the channel-stacked batch ``x``.

        Parameters
        ----------
        x : torch.Tensor of shape (B, K * in_channels, H, W)
            Model ``k``'s samples in channels ``k * in_channels ...``.
        rows : torch.Tensor of shape (B, K), bool
            Real (not padding) rows of each model.
        active : torch.Tensor of shape (K,), bool
            Models that train on this batch.
        drop : torch.Tensor of shape (B, K * width, h, w) or None
            Dropout multipliers (0 or ``1 / (1 - p)``); None: no dropout.
        training : bool, default=False
            Batch statistics (training) or running statistics.

        Returns
        -------
        logits : torch.Tensor of shape (K, B, n_out)
            Masked (``-inf``) for the classes a model does not have.
        """
        bsz = x.shape[0]
        h = F.conv2d(x, self._param("conv_w").reshape(-1, self.in_channels, 3, 3),
                     self._param("conv_b").reshape(-1), padding=2, groups=self.k)
        h = self._batch_norm(F.relu(h), rows, active, training)
        h = F.max_pool2d(h, kernel_size=3, stride=3, padding=1)
        if drop is not None:
            h = h * drop
        h = F.avg_pool2d(h, kernel_size=2, stride=2)
        h = h.reshape(bsz, self.k, -1).transpose(0, 1)
        logits = torch.baddbmm(self._param("fc_b").unsqueeze(1), h,
                               self._param("fc_w").transpose(1, 2))
        return logits.masked_fill(self.out_mask[:, None, :], float("-inf"))


class _StackedAdamW:
    """AdamW over the rows of a ``(K, P)`` parameter tensor, one model per row.

    The same arithmetic as :class:`torch.optim.AdamW` (elementwise, so stacking
    changes nothing), with a per-model step count; rows of inactive models are not
    touched (no decay, no moment update).
    """

    def __init__(self, flat, *, weight_decay, betas, eps):
        self.flat = flat
        self.wd = weight_decay
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.m = torch.zeros_like(flat)
        self.v = torch.zeros_like(flat)
        self.t = torch.zeros(flat.shape[0], 1, dtype=torch.float64,
                             device=flat.device)

    @torch.no_grad()
    def step(self, lr, active):
        g = self.flat.grad
        act = active[:, None]
        self.t += act.to(self.t.dtype)
        t = self.t.clamp_min(1.0)
        p = self.flat * (1 - lr * self.wd)
        m = self.m.lerp(g, 1 - self.beta1)
        v = self.v * self.beta2 + (1 - self.beta2) * g * g
        bc1 = (1 - self.beta1 ** t).to(p.dtype)
        bc2_sqrt = ((1 - self.beta2 ** t) ** 0.5).to(p.dtype)
        denom = v.sqrt() / bc2_sqrt + self.eps
        p = p - (lr / bc1) * (m / denom)
        self.flat.copy_(torch.where(act, p, self.flat))
        self.m.copy_(torch.where(act, m, self.m))
        self.v.copy_(torch.where(act, v, self.v))


# --------------------------------------------------------------- the engine
class FoldBatchedEngine:
    """Train and evaluate K STSTNet fold models at once.

    Parameters
    ----------
    estimator : STSTNetClassifier
        The configuration every fold model shares (checked with
        :func:`check_fold_batching`).
    X : ndarray of shape (n_samples, channels, height, width)
        All samples (validated as the classifier validates them).
    y : ndarray of shape (n_samples,)
        All labels.
    tasks : list of _Task
        The fold models.
    exact : bool or None, default=None
        Draw every model's dropout masks from its own CPU generator, in the
        per-fold path's order (reproduces the per-fold CPU fit up to rounding), or
        all at once on the device (fast). None: exact on the CPU, fast on CUDA.
    """

    def __init__(self, estimator, X, y, tasks, *, exact=None):
        self.estimator = estimator
        self.tasks = tasks
        self.device = _resolved_device(estimator)
        self.exact = self.device.type == "cpu" if exact is None else bool(exact)
        self.X = torch.as_tensor(X).to(self.device)
        self.n_classes = [len(t.classes) for t in tasks]
        dropout = estimator._module_params().get("dropout", 0.5)
        self.net = StackedSTSTNet([t.state for t in tasks], self.n_classes, dropout,
                                  self.device)
        wd, betas, eps = _adamw_defaults(estimator)
        self.opt = _StackedAdamW(self.net.flat, weight_decay=wd, betas=betas, eps=eps)
        k, o = len(tasks), self.net.n_out
        weights = torch.ones(k, o)
        for i, t in enumerate(tasks):
            if t.loss_weight is not None:
                weights[i, : len(t.loss_weight)] = torch.as_tensor(t.loss_weight)
        self.class_weight = weights.to(self.device)
        # per-model training labels, in the model's own class encoding, by sample
        self.y_model = torch.zeros(k, len(X), dtype=torch.long)
        for i, t in enumerate(tasks):
            self.y_model[i, torch.as_tensor(t.train)] = torch.as_tensor(t.y_enc)
        self.y_model = self.y_model.to(self.device)
        self._noise_format = torch.contiguous_format
        if self.exact:
            self._noise_format = self._per_fold_noise_format(X, tasks[0])
        self._drop_gen = None
        if not self.exact:
            seed = int(np.random.SeedSequence(
                [0 if t.torch_seed is None else t.torch_seed for t in tasks]
            ).generate_state(1)[0])
            self._drop_gen = torch.Generator(self.device).manual_seed(seed)

    def _per_fold_noise_format(self, X, task):
        """Return the memory format of the per-fold path's dropout noise.

        ``F.dropout`` draws its noise in the layout of the stream activations,
        which follow the layout of the input batch: an ``X`` strided as
        channels-last (what :func:`~skmer.datasets.load_flow_images` returns) gives
        channels-last activations, and the same generator state then yields a
        different mask. Probe it on two samples batched as the per-fold loader
        batches them.
        """
        seen = []
        rows = task.train[:2]
        batch = torch.as_tensor(np.asarray(X[rows], dtype=np.float32))
        batch = batch[torch.arange(len(rows))]
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            probe = STSTNet(in_channels=batch.shape[1], n_classes=2,
                            input_size=tuple(batch.shape[2:]))
            probe.dropout.register_forward_pre_hook(
                lambda module, args: seen.append(args[0]))
            probe.eval()(batch)
        h = seen[0]
        if not h.is_contiguous() and h.is_contiguous(
                memory_format=torch.channels_last):
            return torch.channels_last
        return torch.contiguous_format

    # -------------------------------------------------------------- batches
    def _epoch_batches(self):
        """Every model's batches of one epoch, padded into one index array.

        Returns
        -------
        idx : torch.Tensor of shape (K, n_steps, batch_size)
            Global sample indices; model ``i``'s step ``s`` uses the first
            ``sizes[i, s]`` of ``idx[i, s]``. Padding repeats the model's own first
            training sample (and is masked out), so no model ever receives a
            sample outside its training set.
        sizes : ndarray of shape (K, n_steps)
            Real batch sizes (0: the model has no batch at that step).
        """
        est = self.estimator
        shuffle = NeuralNet.get_params_for(est, "iterator_train").get("shuffle", True)
        n_train = [len(t.train) for t in self.tasks]
        bs = max(n_train) if est.batch_size == -1 else int(est.batch_size)
        n_steps = max(-(-n // (n if est.batch_size == -1 else bs)) for n in n_train)
        idx = np.empty((len(self.tasks), n_steps * bs), dtype=np.int64)
        sizes = np.zeros((len(self.tasks), n_steps), dtype=np.int64)
        for i, t in enumerate(self.tasks):
            n = len(t.train)
            # the per-fold loader's permutation, from the model's own generator
            order = (torch.randperm(n, generator=t.generator).numpy() if shuffle
                     else np.arange(n))
            idx[i] = t.train[0]
            own = n if est.batch_size == -1 else bs
            for s, start in enumerate(range(0, n, own)):
                part = t.train[order[start : start + own]]
                idx[i, s * bs : s * bs + len(part)] = part
                sizes[i, s] = len(part)
        return torch.as_tensor(idx).view(len(self.tasks), n_steps, bs), sizes

    def _dropout_masks(self, sizes, bsz, spatial):
        """Dropout multipliers ``(B, K * width, h, w)`` for one step.

        On the CPU each model draws its three streams' masks from its own
        generator, in the per-fold path's order; on CUDA one draw on the device.
        """
        p = self.net.dropout
        if p == 0.0:
            return None
        k, w = self.net.k, self.net.width
        if not self.exact:
            keep = torch.rand((bsz, k * w, *spatial), device=self.device,
                              generator=self._drop_gen) >= p
            return keep.to(torch.float32) / (1 - p)
        drop = torch.zeros(bsz, k, w, *spatial)
        for i, (t, n) in enumerate(zip(self.tasks, sizes, strict=True)):
            if n == 0:
                continue
            parts = [torch.empty((n, width, *spatial),
                                 memory_format=self._noise_format).bernoulli_(
                1 - p, generator=t.generator).div_(1 - p)
                for width in self.net.widths]
            drop[:n, i] = torch.cat(parts, dim=1)
        return drop.reshape(bsz, k * w, *spatial).to(self.device)

    def _gather(self, idx):
        """Channel-stack the samples ``idx`` (K, B) into ``(B, K * C, H, W)``."""
        x = self.X[idx.to(self.device)]  # (K, B, C, H, W)
        return x.transpose(0, 1).reshape(idx.shape[1], -1, *x.shape[3:])

    def _step(self, idx, sizes, lr):
        """One optimiser step of every model with a batch (``sizes > 0``)."""
        k = self.net.k
        bsz = int(sizes.max())
        idx = idx[:, :bsz]
        rows = torch.as_tensor(np.arange(bsz)[None, :] < sizes[:, None],
                               device=self.device)
        active = torch.as_tensor(sizes > 0, device=self.device)
        x = self._gather(idx)
        hh = (x.shape[2] + 2 + 2 - 3) // 3 + 1
        ww = (x.shape[3] + 2 + 2 - 3) // 3 + 1
        drop = self._dropout_masks(sizes.tolist(), bsz, (hh, ww))
        logits = self.net.forward(x, rows.T, active, drop, training=True)
        target = torch.gather(self.y_model, 1, idx.to(self.device))
        ce = F.cross_entropy(logits.reshape(k * bsz, -1), target.reshape(-1),
                             reduction="none").reshape(k, bsz)
        wts = torch.gather(self.class_weight, 1, target) * rows
        loss = ((wts * ce).sum(1) / wts.sum(1).clamp_min(1e-12)).sum()
        self.net.flat.grad = None
        loss.backward()
        self.opt.step(lr, active)

    def fit(self):
        """Train every model for ``max_epochs`` epochs.

        Returns
        -------
        self : FoldBatchedEngine
            The trained engine.
        """
        for lr in _epoch_lrs(self.estimator):
            idx, sizes = self._epoch_batches()
            idx = idx.to(self.device)
            for s in range(sizes.shape[1]):
                self._step(idx[:, s], sizes[:, s], lr)
        return self

    @torch.no_grad()
    def predict_proba(self, chunk=256):
        """Each model's class probabilities on its own test samples.

        Returns
        -------
        proba : list of ndarray
            ``proba[i]`` has shape ``(len(tasks[i].test), n_classes_i)``.
        """
        k = self.net.k
        n_test = max(len(t.test) for t in self.tasks)
        out = [[] for _ in range(k)]
        for start in range(0, n_test, chunk):
            stop = min(start + chunk, n_test)
            idx = torch.empty(k, stop - start, dtype=torch.long)
            for i, t in enumerate(self.tasks):
                part = t.test[start:stop]
                idx[i] = int(t.test[0])
                idx[i, : len(part)] = torch.as_tensor(part)
            rows = torch.ones(stop - start, k, dtype=torch.bool, device=self.device)
            active = torch.zeros(k, dtype=torch.bool, device=self.device)
            logits = self.net.forward(self._gather(idx), rows, active)
            proba = torch.softmax(logits.float(), dim=-1).cpu().numpy()
            for i, t in enumerate(self.tasks):
                n = max(0, min(len(t.test), stop) - start)
                out[i].append(proba[i, :n, : self.n_classes[i]])
        return [np.concatenate(p).astype(np.float32, copy=False) for p in out]


def _models_per_chunk(estimator, X, n_train):
    """How many models one engine trains at once (bounded by memory).

    About eight float32 copies of the widest activation (the convolutions' output)
    per model are alive during a step; keep them within half of the free CUDA
    memory, or 2 GiB on the CPU.
    """
    bs = n_train if estimator.batch_size == -1 else min(int(estimator.batch_size),
                                                         n_train)
    h, w = X.shape[2] + 2, X.shape[3] + 2
    per_model = 8 * 4 * bs * 16 * h * w
    device = _resolved_device(estimator)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        budget = free // 2
    else:
        budget = 2 * 2**30
    return max(1, int(budget // per_model))


def fit_predict_folds(estimator, X, y, folds, *, seeds, fold_seed, return_proba=True):
    """Train all ``folds`` x ``seeds`` models of ``estimator`` at once and predict.

    Parameters
    ----------
    estimator : STSTNetClassifier
        The configuration of every fold model.
    X : array-like of shape (n_samples, channels, height, width)
        All samples.
    y : array-like of shape (n_samples,)
        All labels.
    folds : list of (int, array-like, array-like)
        ``(fold_index, train_idx, test_idx)``.
    seeds : sequence of int
        The seeds; one model per (seed, fold).
    fold_seed : callable
        ``fold_seed(seed, fold)`` gives each model's ``random_state``.
    return_proba : bool, default=True
        Include each model's test-fold probabilities.

    Returns
    -------
    results : list of dict
        One per (seed, fold), seeds outermost: ``seed, fold, random_state, test,
        y_pred, proba, classes, fit_time, total_time``. The engine's wall time is
        shared equally among its models (their ``fit_time`` and ``total_time`` add
        up to the engine's). Models are trained in chunks that fit in memory;
        on the CPU each model's result does not depend on the chunking.
    """
    t0 = time.perf_counter()
    check_fold_batching(estimator)
    X = estimator._validate_X(X, reset=True)
    y = np.asarray(y)
    if y.shape != (len(X),):
        raise ValueError(f"y must have shape ({len(X)},); got {y.shape}.")
    seeds = [int(s) for s in seeds]
    folds = [(int(k), np.asarray(tr, dtype=np.intp), np.asarray(te, dtype=np.intp))
             for k, tr, te in folds]
    if not seeds or not folds:
        raise ValueError("fit_predict_folds needs at least one seed and one fold.")
    for k, tr, te in folds:
        if len(tr) == 0 or len(te) == 0:
            raise ValueError(f"fold {k} has an empty training or test set.")
        if np.intersect1d(tr, te).size:
            raise ValueError(f"fold {k}: training and test indices overlap.")
    tasks = [_make_task(estimator, X, y, s, k, tr, te, fold_seed(s, k))
             for s in seeds for k, tr, te in folds]
    size = _models_per_chunk(estimator, X, max(len(t.train) for t in tasks))
    proba, t_fit = [], 0.0
    for start in range(0, len(tasks), size):
        t1 = time.perf_counter()
        engine = FoldBatchedEngine(estimator, X, y, tasks[start : start + size])
        engine.fit()
        t_fit += time.perf_counter() - t1
        proba.extend(engine.predict_proba())
        del engine
    total = time.perf_counter() - t0
    results = []
    for t, p in zip(tasks, proba, strict=True):
        y_pred = t.classes[p.argmax(axis=1)]
        results.append({
            "seed": t.seed,
            "fold": t.fold,
            "random_state": _plain(t.random_state),
            "test": [int(i) for i in t.test],
            "y_pred": [_plain(v) for v in y_pred.tolist()],
            "proba": p.tolist() if return_proba else None,
            "classes": [_plain(c) for c in t.classes.tolist()],
            "fit_time": t_fit / len(tasks),
            "total_time": total / len(tasks),
        })
    return results
