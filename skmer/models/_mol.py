"""scikit-learn face (skorch classifier) of the MOL network, with its auxiliary targets.

MOL learns micro-expressions together with optical flow and facial landmarks. Only
the clips and their labels are given to :meth:`MOLClassifier.fit`; the flow between
consecutive frames (TV-L1 by default) and the 68 landmarks (from the clips'
metadata or dlib) are computed there, once per fit, by :func:`mol_aux_targets`.
"""

from __future__ import annotations

import logging
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetClassifier
from skorch.dataset import Dataset, unpack_data
from skorch.utils import TeeGenerator

from skmer.models._skorch import FlowNetClassifier
from skmer.models.nets.mol import (
    MOL,
    N_LANDMARKS,
    check_mol_input_size,
    landmarks_to_normalized,
    landmarks_to_pixels,
)
from skmer.utils._compat import Parallel, delayed
from skmer.utils._tags import with_skmer_tags
from skmer.utils.validation import check_clips

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence

    import joblib
    from numpy.typing import ArrayLike

    from skmer._core import Clip, ClipSequence

__all__ = [
    "MOLClassifier",
    "MOLLoss",
    "MOLBatchLoader",
    "mol_aux_targets",
    "softmax_logits",
]

logger = logging.getLogger(__name__)

_FLOW_METHODS = ("tvl1", "farneback", "dis")
_LANDMARK_SOURCES = ("auto", "clip", "detect", "none")
_RIGHT_EYE = slice(36, 42)
_LEFT_EYE = slice(42, 48)


# --------------------------------------------------------------------------------------
# auxiliary targets (a pure kernel per clip)
# --------------------------------------------------------------------------------------
def _data_range(frames):
    if np.issubdtype(frames.dtype, np.integer):
        return 255.0
    return 1.0 if float(np.max(frames)) <= 1.0 else 255.0


def mol_aux_targets(frames, *, landmarks=None, flow_method="tvl1", flow_params=None,
                    landmark_source="auto", data_range=None, predictor_path=None):
    """Auxiliary targets of one clip for MOL: consecutive flow and 68 landmarks.

    Parameters
    ----------
    frames : ndarray of shape (n_frames, height, width)
        A grey clip (uint8, or float in [0, 1] or [0, 255]).
    landmarks : array-like of shape (68, 2), default=None
        The clip's landmarks ``(x, y)`` in pixel coordinates of ``frames`` (e.g.
        ``clip.landmarks`` set by :class:`~skmer.preprocessing.FaceCropper`, which
        aligns every frame with one transform, so they hold for every frame).
    flow_method : {"tvl1", "farneback", "dis"}, default="tvl1"
        Flow method of :func:`~skmer.preprocessing.optical_flow` (the authors use
        TV-L1).
    flow_params : dict, default=None
        Its parameters.
    landmark_source : {"auto", "clip", "detect", "none"}, default="auto"
        ``"clip"``: ``landmarks`` for every frame (all frames masked when None);
        ``"detect"``: dlib on every frame (the face box found on the first frame
        in which the HOG detector finds one, the 68-point predictor on each
        frame), as the authors do; ``"auto"``: ``landmarks`` when given, else
        ``"detect"``; ``"none"``: no landmark targets.
    data_range : float, default=None
        Value of a white pixel; None: 255 for integer frames, for float frames
        1.0 if every value is <= 1, else 255.
    predictor_path : str or path-like, default=None
        dlib's 68-point model; None: the one of face-recognition-models.

    Returns
    -------
    flow : ndarray of shape (n_frames - 1, 2, height, width), dtype float32
        Flow from frame ``t`` to ``t + 1``: ``u`` (along x) and ``v`` (along y),
        in pixels.
    points : ndarray of shape (n_frames, 68, 2), dtype float32
        Landmarks ``(x, y)`` of every frame in pixels (NaN where masked).
    mask : ndarray of shape (n_frames,), dtype bool
        True where ``points`` holds a face's landmarks. When no face is found the
        whole clip is masked and the landmark loss ignores it.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> clip = rng.integers(0, 256, size=(3, 32, 32), dtype=np.uint8)
    >>> flow, points, mask = mol_aux_targets(clip, flow_method="dis",
    ...                                      landmark_source="none")
    >>> flow.shape, points.shape, mask.tolist()
    ((2, 2, 32, 32), (3, 68, 2), [False, False, False])
    """
    from skmer.preprocessing import optical_flow

    frames = np.asarray(frames)
    if frames.ndim != 3 or frames.shape[0] < 2:
        raise ValueError(
            "mol_aux_targets needs a grey clip of shape (n_frames >= 2, height, "
            f"width); got {frames.shape}."
        )
    if landmark_source not in _LANDMARK_SOURCES:
        raise ValueError(f"landmark_source must be one of {list(_LANDMARK_SOURCES)}; "
                         f"got {landmark_source!r}.")
    if data_range is None:
        data_range = _data_range(frames)
    params = dict(flow_params or {})
    t = frames.shape[0]
    flow = np.stack([
        optical_flow(frames[i], frames[i + 1], flow_method, data_range=data_range,
                     **params).transpose(2, 0, 1)
        for i in range(t - 1)
    ]).astype(np.float32)
    points = np.full((t, N_LANDMARKS, 2), np.nan, dtype=np.float32)
    mask = np.zeros(t, dtype=bool)
    source = landmark_source
    if source == "auto":
        source = "clip" if landmarks is not None else "detect"
    if source == "clip" and landmarks is not None:
        lm = np.asarray(landmarks, dtype=np.float32)
        if lm.shape != (N_LANDMARKS, 2) or not np.isfinite(lm).all():
            raise ValueError(
                f"clip landmarks must be a finite (68, 2) array; got shape {lm.shape}."
            )
        points[:] = lm
        mask[:] = True
    elif source == "detect":
        from skmer.preprocessing._face import detect_face, face_landmarks

        box = None
        for frame in frames:
            box = detect_face(frame, data_range=data_range)
            if box is not None:
                break
        if box is not None:
            for i, frame in enumerate(frames):
                points[i] = face_landmarks(frame, box, data_range=data_range,
                                           predictor_path=predictor_path)
            mask[:] = True
    return flow, points, mask


# --------------------------------------------------------------------------------------
# loss and batch loader
# --------------------------------------------------------------------------------------
def _interocular(points):
    """Distance between the eye centres of landmarks ``(..., 68, 2)``."""
    right = points[..., _RIGHT_EYE, :].mean(dim=-2)
    left = points[..., _LEFT_EYE, :].mean(dim=-2)
    return (left - right).norm(dim=-1)


class MOLLoss(torch.nn.Module):
    """MOL's joint loss: cross-entropy + flow MSE + normalised landmark L1.

    ``loss = CE + lambda_flow * MSE(flow) + lambda_landmark * L_lm``, where ``L_lm``
    is, per frame, the mean absolute coordinate error divided by the inter-ocular
    distance (between the eye centres of the target), averaged over the frames whose
    landmarks are known (the authors' landmark loss).

    Parameters
    ----------
    lambda_flow : float, default=0.5
        Weight of the flow loss.
    lambda_landmark : float, default=0.5
        Weight of the landmark loss.
    weight : torch.Tensor of shape (n_classes,), default=None
        Class weights of the cross-entropy.

    Examples
    --------
    >>> import torch
    >>> loss = MOLLoss(lambda_flow=0.0, lambda_landmark=0.0)
    >>> pred = (torch.zeros(2, 3), torch.zeros(2, 1, 2, 4, 4), torch.zeros(2, 1, 68, 2))
    >>> target = {"y": torch.tensor([0, 1]), "flow": torch.zeros(2, 1, 2, 4, 4),
    ...           "landmarks": torch.zeros(2, 1, 68, 2),
    ...           "landmark_mask": torch.zeros(2, 1)}
    >>> round(float(loss(pred, target)), 4)  # log(3)
    1.0986
    """

    def __init__(self, lambda_flow=0.5, lambda_landmark=0.5, weight=None):
        super().__init__()
        self.lambda_flow = float(lambda_flow)
        self.lambda_landmark = float(lambda_landmark)
        self.register_buffer("weight", None if weight is None
                             else torch.as_tensor(weight, dtype=torch.float32))

    def components(self, y_pred, y_true):
        """Return the three unweighted losses ``(ce, flow, landmark)``."""
        logits, flow, landmarks = y_pred
        ce = F.cross_entropy(logits.float(), y_true["y"].long(), weight=self.weight)
        flow_loss = F.mse_loss(flow.float(), y_true["flow"].float())
        target = y_true["landmarks"].float()
        mask = y_true["landmark_mask"].float()
        err = (landmarks.float() - target).abs().mean(dim=(-1, -2))
        err = err / _interocular(target).clamp_min(1e-6)
        n_valid = mask.sum()
        lm_loss = (err * mask).sum() / n_valid.clamp_min(1.0)
        return ce, flow_loss, lm_loss

    def forward(self, y_pred, y_true):
        """Weighted sum of the three losses (a scalar)."""
        ce, flow_loss, lm_loss = self.components(y_pred, y_true)
        return ce + self.lambda_flow * flow_loss + self.lambda_landmark * lm_loss


class MOLBatchLoader:
    """Mini-batches of an in-memory clip array with a dict of targets.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        ``X`` an array ``(n, 1, T, H, W)``; ``y`` None, an array or a dict of
        arrays (the targets of :class:`MOLLoss`).
    batch_size : int, default=32
        Clips per batch.
    shuffle : bool, default=False
        A new permutation (torch's global generator) every epoch.
    drop_last : bool, default=False
        Drop the last incomplete batch.
    """

    def __init__(self, dataset, batch_size=32, shuffle=False, drop_last=False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._X = torch.as_tensor(np.asarray(dataset.X))
        y = dataset.y
        if isinstance(y, dict):
            self._y = {k: torch.as_tensor(np.asarray(v)) for k, v in y.items()}
        else:
            self._y = None if y is None else torch.as_tensor(np.asarray(y))

    def __len__(self):
        n = len(self._X)
        bs = n if self.batch_size in (-1, None) else self.batch_size
        return n // bs if self.drop_last else -(-n // bs)

    def __iter__(self):
        n = len(self._X)
        bs = n if self.batch_size in (-1, None) else self.batch_size
        order = torch.randperm(n) if self.shuffle else torch.arange(n)
        stop = n - n % bs if self.drop_last else n
        for start in range(0, stop, bs):
            idx = order[start : start + bs]
            if isinstance(self._y, dict):
                yield self._X[idx], {k: v[idx] for k, v in self._y.items()}
            else:
                yield self._X[idx], None if self._y is None else self._y[idx]


def softmax_logits(logits):
    """Softmax over the last axis (MOLClassifier's ``predict_nonlinearity``).

    Parameters
    ----------
    logits : torch.Tensor of shape (n, n_classes)
        The recognition head's output.

    Returns
    -------
    proba : torch.Tensor of shape (n, n_classes)
        Probabilities.
    """
    return torch.softmax(logits.float(), dim=-1)


# --------------------------------------------------------------------------------------
# the classifier
# --------------------------------------------------------------------------------------
class MOLClassifier(FlowNetClassifier):
    """MOL micro-expression classifier on raw grey clips (skorch) [1]_.

    Trains :class:`~skmer.models.nets.mol.MOL` jointly on the labels, the optical
    flow between consecutive frames and the 68 facial landmarks; only the clips and
    labels are needed: the auxiliary targets are computed inside :meth:`fit` (once
    per fit, never per epoch) by :func:`mol_aux_targets`. :meth:`predict` needs
    only clips.

    Parameters
    ----------
    module : type or torch.nn.Module, default=MOL
        The network; ``n_classes``, ``n_frames`` and ``input_size`` are set from the
        data and ``n_frames`` unless given; other options travel as
        ``module__width``, ``module__depth``, ``module__k``, ...
    criterion : type, default=MOLLoss
        The joint loss (gets ``lambda_flow``, ``lambda_landmark`` and the class
        weights).
    optimizer : type, default=torch.optim.AdamW
        The optimiser (the authors': AdamW, weight decay 1e-3, which is the default
        of ``optimizer__weight_decay`` here).
    lr : float, default=1e-4
        Learning rate (the authors').
    max_epochs : int, default=30
        Training epochs (fixed). The authors train 1000 steps of 32 clips on
        augmented data (five random 128-pixel crops of 144-pixel aligned faces per
        clip), about 30 epochs of CASME II.
    batch_size : int, default=32
        Clips per batch (the authors').
    n_frames : int, default=8
        Frames per clip seen by the network; longer clips are resampled to it
        (linear interpolation, :func:`~skmer.preprocessing.resample_frames`);
        shorter ones raise ``ValueError``.
    lambda_flow : float, default=0.5
        Weight of the flow loss (the authors' 0.5).
    lambda_landmark : float, default=0.5
        Weight of the landmark loss (the authors' 0.5).
    aux_flow_method : {"tvl1", "farneback", "dis"}, default="tvl1"
        Flow method of the flow targets (the authors: TV-L1).
    aux_flow_params : dict, default=None
        Its parameters (see :func:`~skmer.preprocessing.optical_flow`).
    landmark_source : {"auto", "clip", "detect", "none"}, default="auto"
        Where the landmark targets come from (see :func:`mol_aux_targets`):
        ``clip.landmarks`` (set by ``FaceCropper``) when present, else dlib's
        68-point predictor. Clips without a found face are masked out of the
        landmark loss.
    predictor_path : str or path-like, default=None
        dlib's 68-point model (None: the one of face-recognition-models).
    memory : str, joblib.Memory or None, default=None
        Cache the auxiliary targets per clip on disk (e.g. across the folds of a
        leave-one-subject-out evaluation, where every clip is a training clip in
        all folds but one).
    n_jobs : int, default=None
        Clips whose auxiliary targets are computed in parallel (joblib). The
        targets do not depend on it.
    predict_nonlinearity : callable, default=softmax_logits
        Maps the recognition logits to probabilities.
    lr_schedule : {"cosine", None}, default=None
        Learning-rate schedule (the authors: none).
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
    module_ : MOL
        The trained network.
    device_ : str
        The device actually used.
    frame_shape_ : tuple of int
        ``(height, width)`` of the frames seen in ``fit``.
    pixel_mean_ : float
        Mean pixel value of the training clips.
    pixel_scale_ : float
        The largest ``pixel - pixel_mean_`` of the training clips; the network
        reads ``(pixels - pixel_mean_) / pixel_scale_`` (the authors'
        normalisation).
    landmark_coverage_ : float
        Fraction of training clips with landmark targets.

    See Also
    --------
    skmer.models.nets.mol.MOL : The network.
    skmer.models.STSTNetClassifier : A shallow network on onset-apex flow images.

    Notes
    -----
    X is a sequence of grey clips ``(T, H, W)`` (or ``(T, H, W, 1)``), all of one
    frame size with ``T >= n_frames``: face crops, e.g. ``FaceCropper(
    output_size=(128, 128), color="grey")`` (which also stores the landmarks
    used as targets). The paper's input is 8 frames of 128x128; sides must be at
    least 24 pixels with ``side % 8`` in ``{0, 1, 2, 3}``
    (:func:`~skmer.models.nets.mol.check_mol_input_size`). Colour clips, too few
    frames, a frame size that does not fit, NaN, or (in ``predict``) another
    frame size than in ``fit`` raise ``ValueError``.

    MOL reads raw frames: it cannot run on the MEGC2019 composite's onset-apex
    flow images (:func:`~skmer.datasets.load_flow_images`), which hold neither
    the frames nor the consecutive flows and landmarks it learns from. It needs
    the raw corpora (CASME II, SAMM, SMIC) cropped to faces.

    Cost (``benchmarks/networks_mol.py``, H100, paper size, batch 16): 206
    training clips/s with mixed precision (10 GB peak) against 156 in fp32
    (25 GB); 1.5 ms per clip in batched inference. On a CPU the paper-size
    network trains at well under one clip per second; the auxiliary targets
    cost 7 TV-L1 flows per clip, once per fit (``memory`` caches them across
    fits).

    The authors select the epoch with the best accuracy on the test subject,
    which leaks the test fold; skmer trains a fixed number of epochs. They also
    augment the data (random crops, several temporal phases per clip), which
    skmer leaves to the user.

    References
    ----------
    .. [1] Z. Shao, Y. Cheng, F. Li, Y. Zhou, X. Lu, Y. Xie and L. Ma, "MOL: Joint
       Estimation of Micro-Expression, Optical Flow, and Landmark via
       Transformer-Graph-Style Convolution", IEEE TPAMI, 2025,
       :doi:`10.1109/TPAMI.2025.3581162` (arXiv:2506.14511).

    Examples
    --------
    >>> from skmer.datasets._synthetic import make_micro_expressions
    >>> X, y, groups = make_micro_expressions(n_clips=6, n_frames=10,
    ...                                       frame_shape=(24, 24), random_state=0)
    >>> clf = MOLClassifier(module__width=0.125, module__corr_patch_size=3,
    ...                     aux_flow_method="dis", landmark_source="none",
    ...                     max_epochs=1, device="cpu", random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape
    (6, 3)
    """

    def __init__(
        self,
        module: type | torch.nn.Module = MOL,
        *,
        criterion: type = MOLLoss,
        optimizer: type = torch.optim.AdamW,
        lr: float = 1e-4,
        max_epochs: int = 30,
        batch_size: int = 32,
        n_frames: int = 8,
        lambda_flow: float = 0.5,
        lambda_landmark: float = 0.5,
        aux_flow_method: str = "tvl1",
        aux_flow_params: dict | None = None,
        landmark_source: str = "auto",
        predictor_path: str | os.PathLike | None = None,
        memory: str | joblib.Memory | None = None,
        n_jobs: int | None = None,
        predict_nonlinearity: Callable = softmax_logits,
        lr_schedule: str | None = None,
        class_weight: str | None = None,
        iterator_train: type = MOLBatchLoader,
        iterator_valid: type = MOLBatchLoader,
        iterator_train__shuffle: bool = True,
        train_split: Callable | None = None,
        classes: ArrayLike | None = None,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        **kwargs,
    ) -> None:
        kwargs.setdefault("optimizer__weight_decay", 1e-3)
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
            predict_nonlinearity=predict_nonlinearity,
            **kwargs,
        )
        self.n_frames = n_frames
        self.lambda_flow = lambda_flow
        self.lambda_landmark = lambda_landmark
        self.aux_flow_method = aux_flow_method
        self.aux_flow_params = aux_flow_params
        self.landmark_source = landmark_source
        self.predictor_path = predictor_path
        self.memory = memory
        self.n_jobs = n_jobs

    # ------------------------------------------------------------ validation
    def _check_own_params(self):
        name = type(self).__name__
        n = self.n_frames
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 4:
            raise ValueError(f"{name}: n_frames must be an int >= 4; got {n!r}.")
        for key in ("lambda_flow", "lambda_landmark"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, Real) or not v >= 0:
                raise ValueError(f"{name}: {key} must be a real number >= 0; got "
                                 f"{v!r}.")
        if self.aux_flow_method not in _FLOW_METHODS:
            raise ValueError(f"{name}: aux_flow_method must be one of "
                             f"{list(_FLOW_METHODS)}; got {self.aux_flow_method!r}.")
        if self.aux_flow_params is not None and not isinstance(
                self.aux_flow_params, dict):
            raise ValueError(f"{name}: aux_flow_params must be a dict or None; got "
                             f"{self.aux_flow_params!r}.")
        if self.landmark_source not in _LANDMARK_SOURCES:
            raise ValueError(f"{name}: landmark_source must be one of "
                             f"{list(_LANDMARK_SOURCES)}; got "
                             f"{self.landmark_source!r}.")

    def _prepare(self, X, *, reset):
        """Validate the clips; return the list of Clip and the frames (n, T, H, W)."""
        from skmer.preprocessing import resample_frames

        name = type(self).__name__
        clips = check_clips(X, estimator=self)
        frames = []
        shape = None if reset else tuple(self.frame_shape_)
        for i, clip in enumerate(clips):
            f = np.asarray(clip.frames)
            if f.ndim == 4:
                if f.shape[-1] != 1:
                    raise ValueError(
                        f"{name}: clip {i} has {f.shape[-1]} channels (shape "
                        f"{f.shape}); MOL reads grey frames of shape (n_frames, "
                        "height, width) or (n_frames, height, width, 1). Convert "
                        "them, e.g. with FaceCropper(color='grey')."
                    )
                f = f[..., 0]
            if f.shape[0] < self.n_frames:
                raise ValueError(
                    f"{name}: clip {i} has {f.shape[0]} frames; MOL needs at least "
                    f"n_frames={self.n_frames} (longer clips are resampled to "
                    f"{self.n_frames} frames)."
                )
            if shape is None:
                shape = tuple(f.shape[1:])
                if reset:
                    check_mol_input_size(shape, where=name)
            elif tuple(f.shape[1:]) != shape:
                where = "clip 0" if reset else "fit"
                raise ValueError(
                    f"{name}: clip {i} has frames of {f.shape[1]}x{f.shape[2]} "
                    f"pixels but {where} had {shape[0]}x{shape[1]}; all clips must "
                    "share one frame size (crop or resize them first)."
                )
            if f.shape[0] > self.n_frames:
                f = resample_frames(f, self.n_frames, method="linear")
            frames.append(f)
        return clips, frames

    def _normalise(self, frames):
        x = np.stack([np.asarray(f, dtype=np.float32) for f in frames])
        x = (x - np.float32(self.pixel_mean_)) / np.float32(self.pixel_scale_)
        return np.ascontiguousarray(x[:, None], dtype=np.float32)

    # ----------------------------------------------------- auxiliary targets
    def _aux_targets(self, clips, frames):
        """Flow and landmark targets of the training clips (once per fit)."""
        import joblib

        kernel = mol_aux_targets
        if self.memory is not None:
            memory = self.memory
            if not isinstance(memory, joblib.Memory):
                memory = joblib.Memory(location=memory, verbose=0)
            kernel = memory.cache(mol_aux_targets)
        source = self.landmark_source
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(kernel)(
                f, landmarks=clip.landmarks if source in ("auto", "clip") else None,
                flow_method=self.aux_flow_method, flow_params=self.aux_flow_params,
                landmark_source=source, data_range=_data_range(np.asarray(clip.frames)),
                predictor_path=self.predictor_path,
            )
            for clip, f in zip(clips, frames)
        )
        flow = np.stack([r[0] for r in results])
        points = np.stack([r[1] for r in results])[:, 1:]  # frames 1 .. T-1
        mask = np.stack([r[2] for r in results])[:, 1:]
        norm = landmarks_to_normalized(np.nan_to_num(points), self.frame_shape_)
        return {
            "flow": np.ascontiguousarray(flow, dtype=np.float32),
            "landmarks": np.ascontiguousarray(norm, dtype=np.float32),
            "landmark_mask": mask.astype(np.float32),
        }

    # ------------------------------------------------------ skorch plumbing
    def get_params_for(self, prefix: str) -> dict:
        """Collect init parameters for ``prefix`` (adds the data-derived ones).

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
            params.setdefault("n_frames", self.n_frames)
            if "frame_shape_" in self.__dict__:
                params.setdefault("input_size", tuple(self.frame_shape_))
        if prefix == "criterion" and isinstance(self.criterion, type) and issubclass(
                self.criterion, MOLLoss):
            params.setdefault("lambda_flow", self.lambda_flow)
            params.setdefault("lambda_landmark", self.lambda_landmark)
        return params

    def check_data(self, X: np.ndarray, y: dict | None) -> None:
        """Skip skorch's class inference (labels are encoded in ``fit``).

        Parameters
        ----------
        X : ndarray
            Clips.
        y : dict or None
            Targets.
        """

    def infer(self, x: torch.Tensor, **fit_params) -> tuple[torch.Tensor, ...]:
        """Forward a batch ``(N, 1, T, H, W)``.

        Parameters
        ----------
        x : torch.Tensor
            A batch.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        y_infer : tuple of torch.Tensor
            ``(logits, flow, landmarks)``.
        """
        return self._infer_on_device(x, fit_params, channels_last=False)

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
            return NeuralNetClassifier.train_step(self, batch, **fit_params)
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
        return {"loss": loss.detach().float(),
                "y_pred": tuple(p.detach().float() for p in y_pred)}

    def evaluation_step(self, batch: tuple,
                        training: bool = False) -> tuple[torch.Tensor, ...]:
        """Forward a batch without gradients (autocast on CUDA, float32 output).

        Parameters
        ----------
        batch : tuple
            ``(X, y)`` batch.
        training : bool, default=False
            Train mode when True.

        Returns
        -------
        y_infer : tuple of torch.Tensor
            ``(logits, flow, landmarks)``.
        """
        if not self._on_cuda():
            return NeuralNetClassifier.evaluation_step(self, batch, training=training)
        with torch.autocast("cuda", dtype=torch.float16):
            out = NeuralNetClassifier.evaluation_step(self, batch, training=training)
        return tuple(p.float() for p in out)

    # --------------------------------------------------------------- training
    def _fit_arrays(self, X, y, *, reset):
        self._check_own_params()
        clips, frames = self._prepare(X, reset=reset)
        if reset:
            self.frame_shape_ = tuple(frames[0].shape[1:])
            stacked = np.stack([np.asarray(f, dtype=np.float32) for f in frames])
            mean = float(stacked.mean())
            scale = float((stacked - mean).max())
            self.pixel_mean_ = mean
            self.pixel_scale_ = scale if scale > 0 else 1.0
            self._set_classes(y)
        y_enc = self._encode(y, len(clips))
        targets = self._aux_targets(clips, frames)
        targets["y"] = y_enc
        if reset:
            self.landmark_coverage_ = float(targets["landmark_mask"].any(axis=1).mean())
            self._loss_weight_ = self._class_weights(y_enc)
        return self._normalise(frames), targets

    def fit(self, X: Sequence[Clip | np.ndarray] | ClipSequence, y: ArrayLike,
            **fit_params) -> MOLClassifier:
        """Compute the auxiliary targets and train the network from scratch.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, 1])
            Grey clips of one frame size, each with at least ``n_frames`` frames.
        y : array-like of shape (n_clips,)
            Labels (ints or strings).
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        Xa, targets = self._fit_arrays(X, y, reset=True)
        if not self.warm_start or not self.initialized_:
            self.initialize()
        NeuralNetClassifier.partial_fit(self, Xa, targets, **fit_params)
        return self

    def partial_fit(self, X: Sequence[Clip | np.ndarray] | ClipSequence, y: ArrayLike,
                    classes: None = None, **fit_params) -> MOLClassifier:
        """Continue training for ``max_epochs`` epochs (initialising if needed).

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, 1])
            Grey clips with the frame size seen in ``fit``.
        y : array-like of shape (n_clips,)
            Labels, among ``classes_``.
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
        Xa, targets = self._fit_arrays(X, y, reset=False)
        NeuralNetClassifier.partial_fit(self, Xa, targets, **fit_params)
        return self

    # -------------------------------------------------------------- prediction
    def _predict_arrays(self, X):
        check_is_fitted(self)
        _, frames = self._prepare(X, reset=False)
        return self._normalise(frames)

    def predict_proba(self,
                      X: Sequence[Clip | np.ndarray] | ClipSequence) -> np.ndarray:
        """Return class probabilities (columns in the order of ``classes_``).

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, 1])
            Grey clips with the frame size seen in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_clips, n_classes)
            Softmax probabilities; rows sum to 1.
        """
        Xa = self._predict_arrays(X)
        return NeuralNetClassifier.predict_proba(self, Xa).astype(np.float32,
                                                                 copy=False)

    def predict_auxiliary(
        self,
        X: Sequence[Clip | np.ndarray] | ClipSequence,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predict the flow and landmarks of clips (the auxiliary heads).

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, 1])
            Grey clips with the frame size seen in ``fit``.

        Returns
        -------
        flow : ndarray of shape (n_clips, n_frames - 1, 2, height, width)
            Flow from frame ``t`` to ``t + 1`` (``u``, ``v``) in pixels.
        landmarks : ndarray of shape (n_clips, n_frames - 1, 68, 2)
            Landmarks ``(x, y)`` of frames 1 .. n_frames-1, in pixels.
        """
        Xa = self._predict_arrays(X)
        flows, points = [], []
        for _, flow, lm in self.forward_iter(Xa, training=False):
            flows.append(flow.numpy())
            points.append(lm.numpy())
        points = landmarks_to_pixels(np.concatenate(points), self.frame_shape_)
        return np.concatenate(flows), points.astype(np.float32)

    def get_dataset(self, X: np.ndarray, y: dict | np.ndarray | None = None) -> Dataset:
        """Wrap arrays in a skorch ``Dataset`` (``y`` may be a dict of targets).

        Parameters
        ----------
        X : ndarray
            Clips ``(n, 1, T, H, W)``.
        y : dict, ndarray or None, default=None
            Targets.

        Returns
        -------
        dataset : skorch.dataset.Dataset
            The dataset.
        """
        if isinstance(X, Dataset):
            return X
        return Dataset(X, y)

    def __sklearn_tags__(self):
        tags = with_skmer_tags(
            super().__sklearn_tags__(), min_frames=int(self.n_frames))
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
