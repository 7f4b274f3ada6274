"""Amplified optical flow: the onset/apex pair magnified at several factors.

The torch-free input stages of ARTNet (Wan et al. 2025), usable in front of any
model:

- :func:`amplified_flow` (kernel) and :class:`AmplifiedFlow` (clip transformer):
  onset and apex of every clip, the apex magnified at several factors
  (:func:`~skmer.preprocessing.magnify_pair`), and the optical flow from the onset
  to every magnified apex (TV-L1, Farnebäck, DIS or a pretrained RAFT): the
  precomputed input of :class:`~skmer.models.ARTNetClassifier`,
  ``(n, n_alphas, C, H, W)``.
- :class:`OnsetApexPairs` (clip transformer): the onset and apex frames as grey
  ``(n, 2, H, W)`` floats in ``[0, 1]``, the input of the in-network (RAFT) path.
- :func:`check_alphas`: validation of amplification factors, shared with the
  network (:mod:`skmer.models.nets.artnet`).

RAFT (``method="raft"``) is found through the flow-method registry
(:mod:`skmer.preprocessing._flow_registry`), so this module never imports torch.
"""

from __future__ import annotations

import os
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from skmer._core._validation import _check_index
from skmer.preprocessing._flow import (
    FLOW_METHODS,
    _check_flow_params,
    _flow_grey,
    _postprocess,
    _to_grey_uint8,
)
from skmer.preprocessing._flow_registry import get_flow_method
from skmer.preprocessing._magnify import _resolve_levels, magnify_pair
from skmer.utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    delayed,
)
from skmer.utils._progress import parallel_map, track
from skmer.utils._tags import with_skmer_tags
from skmer.utils.validation import check_clips

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import ArrayLike

    from skmer._core import Clip, ClipSequence

__all__ = [
    "AmplifiedFlow",
    "OnsetApexPairs",
    "amplified_flow",
    "check_alphas",
    "DEFAULT_ALPHAS",
]

DEFAULT_ALPHAS = (0.0, 2.0, 4.0, 8.0)
AMPLIFIED_FLOW_METHODS = tuple(dict.fromkeys((*FLOW_METHODS, "raft")))


def check_alphas(alphas: Sequence[float], name: str = "alphas") -> tuple[float, ...]:
    """Validate amplification factors: a non-empty sequence of finite floats >= 0.

    Parameters
    ----------
    alphas : sequence of float
        The factors.
    name : str, default="alphas"
        Name used in error messages.

    Returns
    -------
    alphas : tuple of float

    Examples
    --------
    >>> check_alphas([0, 2.5])
    (0.0, 2.5)
    """
    if isinstance(alphas, str) or not hasattr(alphas, "__len__"):
        raise ValueError(
            f"{name} must be a non-empty sequence of amplification factors >= 0; got "
            f"{alphas!r}.")
    values = []
    for a in alphas:
        if isinstance(a, bool) or not isinstance(a, Real | np.number) \
                or not np.isfinite(a) or a < 0:
            raise ValueError(
                f"{name} must hold finite amplification factors >= 0 (0 keeps the "
                f"original motion); got {list(alphas)!r}.")
        values.append(float(a))
    if not values:
        raise ValueError(f"{name} must not be empty.")
    return tuple(values)


# --------------------------------------------------------------------------------------
# kernel
# --------------------------------------------------------------------------------------
def _check_method(method, flow_params, raft_weights, where=""):
    if not isinstance(method, str) or method not in AMPLIFIED_FLOW_METHODS:
        raise ValueError(
            f"{where}method must be one of {list(AMPLIFIED_FLOW_METHODS)}; got "
            f"{method!r}.")
    if method == "raft":
        get_flow_method("raft")  # torch missing: a clear ImportError, here in fit
        if flow_params:
            raise ValueError(
                f"{where}method='raft' takes no flow_params; got "
                f"{sorted(flow_params)}.")
        if raft_weights is None:
            raise ValueError(
                f"{where}method='raft' needs raft_weights=<path to a local RAFT state "
                "dict> (torchvision's raft_large / raft_small weights; skmer never "
                "downloads them). Use method='tvl1' without weights.")
    else:
        _check_flow_params(method, dict(flow_params or {}))


def _magnified_u8(onset, apex, alphas, amp):
    """Grey uint8 onset/apex -> (n_alphas, H, W) magnified apex, rounded to uint8."""
    mags = magnify_pair(onset, apex, alphas, **amp)
    return np.clip(np.rint(mags), 0, 255).astype(np.uint8)


def _pair_flow(prev, next, method, params, raft):
    if method == "raft":
        # registered by skmer.models (imported on demand), see _flow_registry
        return get_flow_method("raft")(prev, next, dict(raft))
    return _flow_grey(prev, next, method, params)


def amplified_flow(onset: ArrayLike, apex: ArrayLike,
                   alphas: Sequence[float] = DEFAULT_ALPHAS, method: str = "tvl1", *,
                   levels: int | str = "auto", lambda_c: float | None = 16.0,
                   exaggeration_factor: float = 2.0, data_range: float | None = None,
                   raft_weights: str | os.PathLike | Mapping | None = None,
                   raft_iters: int = 12, device: str = "cpu", **params) -> np.ndarray:
    """Optical flow from the onset to the apex magnified at several factors.

    The frames are converted to 8-bit grey (as :func:`~skmer.preprocessing.
    optical_flow` does), the apex is magnified at every factor with
    :func:`~skmer.preprocessing.magnify_pair` (Laplacian-pyramid, two-frame),
    rounded and clipped to 0-255, and the flow from the onset to every magnified
    apex is computed.

    Parameters
    ----------
    onset, apex : ndarray of shape (height, width) or (height, width, channels)
        The two frames (colour is converted to grey, ITU-R BT.601).
    alphas : sequence of float, default=(0.0, 2.0, 4.0, 8.0)
        Amplification factors (>= 0; 0 gives the flow of the original pair).
    method : {"tvl1", "farneback", "dis", "raft"}, default="tvl1"
        Flow method: OpenCV's (see :func:`~skmer.preprocessing.optical_flow`) or
        RAFT with ``raft_weights`` (:func:`~skmer.models.nets.raft.raft_flow`).
    levels : int or "auto", default="auto"
        Pyramid levels of the magnification.
    lambda_c : float or None, default=16.0
        Spatial cut-off wavelength of the magnification.
    exaggeration_factor : float, default=2.0
        See :func:`~skmer.preprocessing._magnify.level_alphas`.
    data_range : float, default=None
        The value of a white pixel (see :func:`~skmer.preprocessing.optical_flow`).
    raft_weights : str, os.PathLike, mapping or None, default=None
        Local RAFT weights, required by ``method="raft"``.
    raft_iters : int, default=12
        RAFT update iterations.
    device : str, default="cpu"
        Device of RAFT.
    **params : dict
        Parameters of the OpenCV flow method.

    Returns
    -------
    flows : ndarray of shape (n_alphas, height, width, 2), dtype float32
        ``flows[j, ..., 0] = u`` (along x) and ``flows[j, ..., 1] = v`` (along y)
        for factor ``alphas[j]``; all zero when ``onset`` and ``apex`` are equal.

    References
    ----------
    .. [1] C. Wan, W. Zhang, Y. Chen, L. Song and P. Cheng, "ARTNet for
       Micro-Expression Recognition", Sensors 26(1):247, 2025,
       :doi:`10.3390/s26010247`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing import amplified_flow
    >>> rng = np.random.default_rng(0)
    >>> onset = rng.integers(0, 256, size=(32, 32), dtype=np.uint8)
    >>> amplified_flow(onset, onset, alphas=[0.0, 4.0]).shape
    (2, 32, 32, 2)
    """
    alphas = check_alphas(alphas)
    _check_method(method, params, raft_weights)
    onset, apex = np.asarray(onset), np.asarray(apex)
    if onset.shape != apex.shape or onset.ndim not in (2, 3):
        raise ValueError(
            "onset and apex must be frames of one shape (height, width[, channels]); "
            f"got {onset.shape} and {apex.shape}.")
    grey = _to_grey_uint8(np.stack([onset, apex]), colour=onset.ndim == 3,
                          data_range=data_range)
    amp = dict(levels=levels, lambda_c=lambda_c,
               exaggeration_factor=exaggeration_factor)
    raft = dict(weights=raft_weights, iters=raft_iters, device=device)
    return _flows_grey(grey[0], grey[1], alphas, method, params, amp, raft)


def _flows_grey(onset, apex, alphas, method, params, amp, raft):
    if np.array_equal(onset, apex):
        return np.zeros((len(alphas),) + onset.shape + (2,), dtype=np.float32)
    mags = _magnified_u8(onset, apex, alphas, amp)
    return np.stack([_pair_flow(onset, m, method, params, raft) for m in mags])


def _clip_amplified_flow(frames, onset, apex, *, where, alphas, method, params,
                         amp, raft, data_range, post):
    """One clip -> (n_alphas, C, h, w) float32."""
    # the value range is read from the whole clip, as FlowExtractor reads it
    grey = _to_grey_uint8(frames, colour=frames.ndim == 4, data_range=data_range,
                          where=where, index=[onset, apex])
    flows = _flows_grey(grey[0], grey[1], alphas, method, params, amp, raft)
    return np.stack([_postprocess(f, **post) for f in flows])


def _onset_apex(clip, i, prefix):
    n = clip.frames.shape[0]
    onset = 0 if clip.onset is None else clip.onset
    apex = n // 2 if clip.apex is None else clip.apex
    onset = _check_index(onset, "onset", n, f"{prefix}clip {i}: ")
    apex = _check_index(apex, "apex", n, f"{prefix}clip {i}: ")
    if apex < onset:
        raise ValueError(
            f"{prefix}clip {i} has apex={apex} before onset={onset}; the motion is "
            "taken from the onset to the apex.")
    return onset, apex


def _check_clip_batch(estimator, X, frame_shape=None):
    clips = check_clips(X, ensure_min_frames=2, frame_shape=frame_shape,
                        same_shape=True, estimator=estimator)
    return clips, tuple(clips[0].frames.shape[1:])


# --------------------------------------------------------------------------------------
# clip transformers
# --------------------------------------------------------------------------------------
class AmplifiedFlow(TransformerMixin, BaseEstimator):
    """Flow of the onset/apex pair of every clip, magnified at several factors.

    For every clip the apex is magnified at each factor of ``alphas``
    (Laplacian-pyramid two-frame magnification, :func:`~skmer.preprocessing.
    magnify_pair`) and the optical flow from the onset to each magnified apex
    becomes channels ``u, v[, strain]`` (:func:`amplified_flow`), the input of
    :class:`~skmer.models.ARTNetClassifier` with ``flow_source="precomputed"``.

    Parameters
    ----------
    alphas : sequence of float, default=(0.0, 2.0, 4.0, 8.0)
        Amplification factors (>= 0), one output level each; grid-searchable.
    method : {"tvl1", "farneback", "dis", "raft"}, default="tvl1"
        Flow method (``"raft"`` needs ``raft_weights``).
    strain : bool, default=True
        Append the optical strain channel.
    output_size : tuple of (int, int), default=None
        ``(height, width)`` of the output flow (area interpolation); ``None``
        keeps the frame size.
    rescale_vectors : bool, default=True
        When resizing, express the vectors in output pixels.
    scale : {"none", "minmax"}, default="none"
        ``"minmax"`` scales every channel of every level to [0, 1] (which
        discards the amplitude differences between levels; ``"none"`` keeps them).
    levels : int or "auto", default="auto"
        Pyramid levels of the magnification.
    lambda_c : float or None, default=16.0
        Spatial cut-off wavelength of the magnification in pixels.
    exaggeration_factor : float, default=2.0
        Multiplier of the attenuated per-level factors.
    data_range : float, default=None
        The value of a white pixel (see :func:`~skmer.preprocessing.optical_flow`).
    flow_params : dict, default=None
        Parameters of the OpenCV flow method.
    raft_weights : str or os.PathLike, default=None
        Local RAFT weights for ``method="raft"``.
    raft_iters : int, default=12
        RAFT update iterations.
    device : str, default="cpu"
        Device of RAFT.
    n_jobs : int, default=None
        Clips processed in parallel (joblib); the output does not depend on it.
    verbose : int, default=0
        Show a ``tqdm`` progress bar over the clips in :meth:`transform` when
        positive; the output does not depend on it.

    Attributes
    ----------
    frame_shape_ : tuple of int
        ``(height, width[, channels])`` of the frames seen during :term:`fit`.
    n_levels_ : int
        Pyramid levels of the magnification for that frame shape.
    channel_names_ : tuple of str
        ``("u", "v")`` or ``("u", "v", "strain")``.

    See Also
    --------
    skmer.models.ARTNetClassifier : The network on these flows.
    skmer.preprocessing.FlowExtractor : Flow of the unmagnified pair.

    Notes
    -----
    Frames are converted to 8-bit grey before magnification, and the magnified
    apex is rounded and clipped to 0-255, so ``alphas=(0,)`` gives exactly
    :class:`~skmer.preprocessing.FlowExtractor`'s onset-apex flow.  A missing
    onset means frame 0, a missing apex the middle frame; ``onset == apex`` gives
    zero flow at every level.

    References
    ----------
    .. [1] C. Wan, W. Zhang, Y. Chen, L. Song and P. Cheng, "ARTNet for
       Micro-Expression Recognition", Sensors 26(1):247, 2025,
       :doi:`10.3390/s26010247`.
    .. [2] H.-Y. Wu, M. Rubinstein, E. Shih, J. Guttag, F. Durand and W. T.
       Freeman, "Eulerian video magnification for revealing subtle changes in the
       world", ACM Transactions on Graphics 31(4), 2012,
       :doi:`10.1145/2185520.2185561`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.datasets import Clip
    >>> from skmer.preprocessing import AmplifiedFlow
    >>> rng = np.random.default_rng(0)
    >>> frames = rng.integers(0, 256, size=(6, 32, 32), dtype=np.uint8)
    >>> X = [Clip(frames, onset=0, apex=3), frames]
    >>> AmplifiedFlow(alphas=(0.0, 2.0, 4.0)).fit_transform(X).shape
    (2, 3, 3, 32, 32)
    """

    _parameter_constraints = {
        "alphas": ["array-like"],
        "method": [StrOptions(set(AMPLIFIED_FLOW_METHODS))],
        "strain": ["boolean"],
        "output_size": [tuple, list, None],
        "rescale_vectors": ["boolean"],
        "scale": [StrOptions({"none", "minmax"})],
        "levels": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "lambda_c": [Interval(Real, 0, None, closed="neither"), None],
        "exaggeration_factor": [Interval(Real, 0, None, closed="left")],
        "data_range": [Interval(Real, 0, None, closed="neither"), None],
        "flow_params": [dict, None],
        "raft_weights": [str, os.PathLike, None],
        "raft_iters": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, alphas: Sequence[float] = DEFAULT_ALPHAS, method: str = "tvl1",
                 *, strain: bool = True, output_size: tuple[int, int] | None = None,
                 rescale_vectors: bool = True, scale: str = "none",
                 levels: int | str = "auto", lambda_c: float | None = 16.0,
                 exaggeration_factor: float = 2.0, data_range: float | None = None,
                 flow_params: dict | None = None,
                 raft_weights: str | os.PathLike | None = None, raft_iters: int = 12,
                 device: str = "cpu", n_jobs: int | None = None,
                 verbose: int = 0) -> None:
        self.alphas = alphas
        self.method = method
        self.strain = strain
        self.output_size = output_size
        self.rescale_vectors = rescale_vectors
        self.scale = scale
        self.levels = levels
        self.lambda_c = lambda_c
        self.exaggeration_factor = exaggeration_factor
        self.data_range = data_range
        self.flow_params = flow_params
        self.raft_weights = raft_weights
        self.raft_iters = raft_iters
        self.device = device
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _output_size(self):
        size = self.output_size
        if size is None:
            return None
        if len(size) != 2 or any(isinstance(s, bool) or not isinstance(
                s, Integral | np.integer) or s < 2 for s in size):
            raise ValueError(
                "output_size must be None or a (height, width) pair of ints >= 2; "
                f"got {size!r}.")
        return int(size[0]), int(size[1])

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Sequence[Clip | np.ndarray] | ClipSequence,
            y: None = None) -> AmplifiedFlow:
        """Check the parameters and record the frame shape.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips (at least 2 frames each, one frame shape).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        prefix = f"{type(self).__name__}: "
        check_alphas(self.alphas)
        self._output_size()
        _check_method(self.method, self.flow_params, self.raft_weights, prefix)
        clips, shape = _check_clip_batch(self, X)
        self.n_levels_ = _resolve_levels(self.levels, shape[:2], prefix)
        self.frame_shape_ = shape
        self.channel_names_ = ("u", "v", "strain") if self.strain else ("u", "v")
        return self

    def transform(self, X: Sequence[Clip | np.ndarray] | ClipSequence) -> np.ndarray:
        """Compute the flow of every amplification level.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips, with the frame shape seen in :term:`fit`.

        Returns
        -------
        X_flow : ndarray of shape (n_clips, n_alphas, n_channels, height, width), \
dtype float32
            Channels :attr:`channel_names_` of every level, in the order of
            ``alphas``.
        """
        check_is_fitted(self)
        clips, _ = _check_clip_batch(self, X, frame_shape=self.frame_shape_)
        prefix = f"{type(self).__name__}: "
        pairs = [_onset_apex(clip, i, prefix) for i, clip in enumerate(clips)]
        kw = dict(
            alphas=check_alphas(self.alphas), method=self.method,
            params=dict(self.flow_params or {}),
            amp=dict(levels=self.n_levels_, lambda_c=self.lambda_c,
                     exaggeration_factor=self.exaggeration_factor),
            raft=dict(weights=self.raft_weights, iters=self.raft_iters,
                      device=self.device),
            data_range=self.data_range,
            post=dict(output_size=self._output_size(),
                      rescale_vectors=self.rescale_vectors, strain=self.strain,
                      magnitude=False, scale=self.scale),
        )
        out = parallel_map(
            (delayed(_clip_amplified_flow)(clip.frames, a, b,
                                           where=f"{prefix}clip {i}", **kw)
             for i, (clip, (a, b)) in enumerate(zip(clips, pairs))),
            n_jobs=self.n_jobs, verbose=self.verbose, total=len(clips),
            desc=type(self).__name__)
        return np.ascontiguousarray(np.stack(out), dtype=np.float32)

    def __sklearn_tags__(self):
        tags = with_skmer_tags(super().__sklearn_tags__(), min_frames=2)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


class OnsetApexPairs(TransformerMixin, BaseEstimator):
    """The onset and apex frames of every clip, grey, as ``(n, 2, H, W)`` in [0, 1].

    The input of :class:`~skmer.models.ARTNetClassifier` with
    ``flow_source="raft"`` (the network amplifies the pair and runs RAFT itself).

    Parameters
    ----------
    data_range : float, default=None
        The value of a white pixel: by default 255 for integer frames and, per
        clip, 1.0 for float frames whose values are all <= 1, else 255.
    verbose : int, default=0
        Show a ``tqdm`` progress bar over the clips in :meth:`transform` when
        positive; the output does not depend on it.

    Attributes
    ----------
    frame_shape_ : tuple of int
        ``(height, width[, channels])`` of the frames seen during :term:`fit`.

    See Also
    --------
    AmplifiedFlow : Flow of the amplified pairs, computed outside the network.

    Notes
    -----
    Frames go through 8-bit grey (ITU-R BT.601 for colour) like
    :class:`~skmer.preprocessing.FlowExtractor`'s, then are divided by 255.  A
    missing onset means frame 0, a missing apex the middle frame.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing import OnsetApexPairs
    >>> frames = np.full((5, 16, 16), 255, dtype=np.uint8)
    >>> out = OnsetApexPairs().fit_transform([frames])
    >>> out.shape, float(out.max())
    ((1, 2, 16, 16), 1.0)
    """

    _parameter_constraints = {
        "data_range": [Interval(Real, 0, None, closed="neither"), None],
        "verbose": ["verbose"],
    }

    def __init__(self, data_range: float | None = None, verbose: int = 0) -> None:
        self.data_range = data_range
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Sequence[Clip | np.ndarray] | ClipSequence,
            y: None = None) -> OnsetApexPairs:
        """Record the frame shape.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips (at least 2 frames each, one frame shape).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        _, self.frame_shape_ = _check_clip_batch(self, X)
        return self

    def transform(self, X: Sequence[Clip | np.ndarray] | ClipSequence) -> np.ndarray:
        """Return the grey onset/apex pairs.

        Parameters
        ----------
        X : sequence of Clip or ndarray of shape (n_frames, height, width[, channels])
            The clips, with the frame shape seen in :term:`fit`.

        Returns
        -------
        pairs : ndarray of shape (n_clips, 2, height, width), dtype float32
            Onset then apex, in [0, 1].
        """
        check_is_fitted(self)
        clips, _ = _check_clip_batch(self, X, frame_shape=self.frame_shape_)
        prefix = f"{type(self).__name__}: "
        out = []
        for i, clip in enumerate(track(clips, verbose=self.verbose,
                                       total=len(clips), desc=type(self).__name__)):
            a, b = _onset_apex(clip, i, prefix)
            grey = _to_grey_uint8(clip.frames, colour=clip.frames.ndim == 4,
                                  data_range=self.data_range, where=f"{prefix}clip {i}",
                                  index=[a, b])
            out.append(grey.astype(np.float32) / np.float32(255.0))
        return np.stack(out)

    def __sklearn_tags__(self):
        tags = with_skmer_tags(super().__sklearn_tags__(), min_frames=2)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
