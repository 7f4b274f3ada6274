"""Train-time data augmentation for networks (not a scikit-learn step).

Augmentation changes the training samples every epoch; it must not change the
number of samples that a scikit-learn pipeline sees, nor touch the test fold.  So it
is a plain callable applied to mini-batches *inside* training (e.g. in a skorch
``collate_fn`` or dataset), never a ``Pipeline`` step.  It lives next to the networks
that use it (:class:`~skmer.models.MSRes3DClassifier`) because it augments
``torch.Tensor`` batches as well as arrays.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = ["RandomShiftFlip"]


class RandomShiftFlip:
    """Random translations and horizontal flips of a batch of images or clips.

    Every sample of a batch ``(N, C, H, W)`` or ``(N, C, T, H, W)`` gets its own
    integer shift ``(dy, dx)``, each drawn uniformly from
    ``[-max_shift, max_shift]``, and is flipped left-right with probability
    ``p_flip``; all frames and channels of a sample share the same shift and flip
    (the motion inside a clip is kept).  The flip is applied first, then the shift:
    ``out[..., y, x] = flipped[..., y - dy, x - dx]`` (content moves ``dx`` pixels
    right and ``dy`` pixels down).  Jin et al. [1]_ train with random shifts of up
    to 15 pixels and horizontal flips.

    Parameters
    ----------
    max_shift : int, default=15
        Largest shift, in pixels, along each axis (0 disables shifting).
    p_flip : float, default=0.5
        Probability of a horizontal flip of each sample.
    flow_channels : tuple of int, default=()
        Channels holding the horizontal flow component ``u`` (e.g. ``(0,)`` for
        ``u, v, strain`` flow images): a left-right flip mirrors the motion, so
        these channels are negated in flipped samples.  ``v``, strain and
        magnitude are unchanged by a horizontal flip.  Leave empty for images.
    flow_max : float, default=None
        How ``u`` is stored.  ``None``: signed values (0 = no motion), flipped to
        ``-u``.  A number: ``u`` was min-max scaled per image to ``[0, flow_max]``
        (the MEGC2019 composite flow images: 255; ``FlowExtractor(scale="minmax")``:
        1.0); flipped to ``flow_max - u``, which is exactly the min-max scaling of
        ``-u``.
    padding : {"zero", "edge"}, default="zero"
        What fills the pixels uncovered by a shift: zeros (no motion, for flow
        channels) or the nearest border pixel.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.  The generator is created on the first call and then
        advances, so successive batches get different draws, and the same seed
        gives the same sequence of batches.  :meth:`reset` starts the sequence
        again.

    Notes
    -----
    The input is never modified; the output has its type (ndarray or
    ``torch.Tensor``, same device), dtype and shape.  Draws come from a NumPy
    generator, so they do not depend on torch's global seed.

    Use it inside training, e.g. with skorch through the training iterator's
    ``collate_fn`` (a module-level function, so that the net pickles)::

        from torch.utils.data import default_collate

        AUG = RandomShiftFlip(max_shift=15, flow_channels=(0,), random_state=0)

        def augment_collate(batch):
            X, y = default_collate(batch)
            return AUG(X), y

        net = STSTNetClassifier(iterator_train__collate_fn=augment_collate)

    References
    ----------
    .. [1] H. Jin, N. He, Z. Li and P. Yang, "Micro-expression recognition based on
       multi-scale 3D residual convolutional neural network", Mathematical
       Biosciences and Engineering 21(4), 5007-5031, 2024,
       :doi:`10.3934/mbe.2024221`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.models import RandomShiftFlip
    >>> X = np.arange(2 * 3 * 8 * 8, dtype=np.float32).reshape(2, 3, 8, 8)
    >>> aug = RandomShiftFlip(max_shift=2, flow_channels=(0,), random_state=0)
    >>> aug(X).shape
    (2, 3, 8, 8)
    >>> flip = RandomShiftFlip(max_shift=0, p_flip=1.0, flow_channels=(0,))
    >>> out = flip(X)
    >>> bool((out[:, 0] == -X[:, 0, :, ::-1]).all())
    True
    >>> bool((out[:, 1] == X[:, 1, :, ::-1]).all())
    True
    """

    def __init__(self, max_shift: int = 15, p_flip: float = 0.5,
                 flow_channels: tuple[int, ...] = (), flow_max: float | None = None,
                 padding: str = "zero",
                 random_state: int | np.random.RandomState | None = None) -> None:
        self.max_shift = max_shift
        self.p_flip = p_flip
        self.flow_channels = flow_channels
        self.flow_max = flow_max
        self.padding = padding
        self.random_state = random_state

    def _check_params(self, n_channels):
        m = self.max_shift
        if isinstance(m, bool) or not isinstance(m, (Integral, np.integer)) or m < 0:
            raise ValueError(f"max_shift must be an int >= 0; got {m!r}.")
        p = self.p_flip
        if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"p_flip must be a number in [0, 1]; got {p!r}.")
        if self.padding not in ("zero", "edge"):
            raise ValueError(
                f"padding must be 'zero' or 'edge'; got {self.padding!r}."
            )
        chans = tuple(self.flow_channels or ())
        for c in chans:
            if (isinstance(c, bool) or not isinstance(c, (Integral, np.integer))
                    or not -n_channels <= c < n_channels):
                raise ValueError(
                    f"flow_channels must be channel indices in [0, {n_channels}) of "
                    f"the batch (axis 1); got {self.flow_channels!r}."
                )
        fm = self.flow_max
        if fm is not None and (isinstance(fm, bool) or not isinstance(fm, Real)
                               or not np.isfinite(fm) or fm <= 0):
            raise ValueError(f"flow_max must be None or a number > 0; got {fm!r}.")
        return int(m), float(p), sorted({int(c) % n_channels for c in chans})

    def reset(self) -> RandomShiftFlip:
        """Forget the generator: the next call starts the seeded sequence again.

        Returns
        -------
        self : RandomShiftFlip
        """
        self.__dict__.pop("_rng", None)
        return self

    def draw(self, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw the parameters of the next batch (advances the generator).

        Parameters
        ----------
        n_samples : int
            Batch size.

        Returns
        -------
        shifts : ndarray of shape (n_samples, 2), dtype int
            ``(dy, dx)`` of every sample.
        flips : ndarray of shape (n_samples,), dtype bool
            Which samples are flipped.
        """
        m, p, _ = self._check_params(1 << 30)
        if getattr(self, "_rng", None) is None:
            self._rng = check_random_state(self.random_state)
        shifts = self._rng.randint(-m, m + 1, size=(n_samples, 2))
        flips = self._rng.random_sample(n_samples) < p
        return shifts, flips

    def __call__(self, X):
        """Augment a batch.

        Parameters
        ----------
        X : ndarray or torch.Tensor of shape (N, C, H, W) or (N, C, T, H, W)
            The batch.

        Returns
        -------
        X_aug : ndarray or torch.Tensor of the same shape, type and dtype
            The augmented batch (a new array).
        """
        is_array = isinstance(X, np.ndarray)
        if not is_array and not (hasattr(X, "index_select") and hasattr(X, "ndim")):
            raise TypeError(
                "RandomShiftFlip takes an ndarray or a torch.Tensor batch of shape "
                f"(N, C, H, W) or (N, C, T, H, W); got {type(X).__name__}."
            )
        if X.ndim not in (4, 5):
            raise ValueError(
                "RandomShiftFlip takes a batch of shape (N, C, H, W) or "
                f"(N, C, T, H, W); got shape {tuple(X.shape)}."
            )
        _, _, chans = self._check_params(X.shape[1])
        dtype_name = str(X.dtype)
        if chans and self.flow_max is None and (
                "uint" in dtype_name or dtype_name in ("bool", "torch.bool")):
            raise ValueError(
                f"flow_channels negate u on flips, which an unsigned batch (dtype "
                f"{dtype_name}) cannot hold; pass signed flow values, or flow_max= "
                "for min-max scaled flow images."
            )
        n, h, w = X.shape[0], X.shape[-2], X.shape[-1]
        shifts, flips = self.draw(n)
        out = []
        for i in range(n):
            dy, dx = (int(s) for s in shifts[i])
            rows = np.arange(h) - dy
            cols = np.arange(w) - dx
            valid_r = (rows >= 0) & (rows < h)
            valid_c = (cols >= 0) & (cols < w)
            rows = np.clip(rows, 0, h - 1)
            cols = np.clip(cols, 0, w - 1)
            if flips[i]:
                cols = w - 1 - cols
            sample = _take(X[i], rows, -2, is_array)
            sample = _take(sample, cols, -1, is_array)
            if self.padding == "zero" and not (valid_r.all() and valid_c.all()):
                mask = valid_r[:, None] & valid_c[None, :]
                if is_array:
                    sample = np.where(mask, sample, np.zeros((), dtype=sample.dtype))
                else:
                    mask_t = torch.as_tensor(mask, device=sample.device)
                    sample = torch.where(mask_t, sample,
                                         torch.zeros((), dtype=sample.dtype,
                                                     device=sample.device))
            if flips[i] and chans:
                sample = sample.copy() if is_array else sample.clone()
                for c in chans:
                    sample[c] = (-sample[c] if self.flow_max is None
                                 else self.flow_max - sample[c])
            out.append(sample)
        if is_array:
            return np.stack(out).astype(X.dtype, copy=False)
        return torch.stack(out)

    def __repr__(self):
        return (f"RandomShiftFlip(max_shift={self.max_shift!r}, "
                f"p_flip={self.p_flip!r}, flow_channels={self.flow_channels!r}, "
                f"flow_max={self.flow_max!r}, "
                f"padding={self.padding!r}, random_state={self.random_state!r})")


def _take(a, idx, axis, is_array):
    """Gather ``idx`` along ``axis`` (always a new array / tensor)."""
    if is_array:
        return np.take(a, idx, axis=axis)
    return a.index_select(axis % a.ndim, torch.as_tensor(idx, device=a.device))
