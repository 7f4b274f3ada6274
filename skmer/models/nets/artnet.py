"""ARTNet: amplification, optical flow and a transformer over amplification levels.

Wan et al. (2025) amplify the onset-to-apex motion of a micro-expression at several
factors ("AA" module), compute the optical flow of every amplified pair ("flow"
module, RAFT) and relate the features of the amplification levels with transformer
layers ("TBA" module) before classifying.  This module holds the torch pieces:

- :func:`pyr_down`, :func:`pyr_up` and :func:`amplify_pair`: a differentiable
  Laplacian-pyramid amplification equal to skmer's two-frame
  :func:`~skmer.preprocessing.magnify_pair` (same 5-tap binomial pyramid with
  reflected borders as OpenCV's ``pyrDown``/``pyrUp``, same per-level factors);
- :class:`PyramidAmplifier`, the AA layer (no parameters);
- :class:`ARTNet`, the network, on precomputed flow of the amplified pairs or on
  onset/apex frame pairs with a frozen, pretrained :class:`~skmer.models.nets.
  raft.RAFT` inside.
"""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from skmer.models.nets._api import load_weights, register_model
from skmer.preprocessing._amplified import DEFAULT_ALPHAS, check_alphas
from skmer.preprocessing._magnify import _resolve_levels, level_alphas

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping, Sequence

__all__ = [
    "ARTNet",
    "PyramidAmplifier",
    "amplify_pair",
    "artnet",
    "check_alphas",
    "pyr_down",
    "pyr_up",
    "DEFAULT_ALPHAS",
    "MIN_SIZE",
]

MIN_SIZE = 8  # the flow CNN pools twice by 2 before its 4x4 adaptive pooling
FLOW_SOURCES = ("precomputed", "raft")

_BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)


# --------------------------------------------------------------------------------------
# differentiable Laplacian pyramid (OpenCV's pyrDown / pyrUp in torch)
# --------------------------------------------------------------------------------------
def _reflect101_index(n, pad, device):
    """Return the indices of a reflect-101 padding of an axis of length ``n >= 1``."""
    idx = torch.arange(-pad, n + pad, device=device)
    if n == 1:
        return torch.zeros_like(idx)
    period = 2 * (n - 1)
    idx = torch.remainder(idx, period)
    return torch.where(idx > n - 1, period - idx, idx)


def _blur(x):
    """Separable 5-tap binomial blur of ``(N, C, H, W)`` with reflect-101 borders."""
    n, c, h, w = x.shape
    x = x.index_select(-1, _reflect101_index(w, 2, x.device))
    x = x.index_select(-2, _reflect101_index(h, 2, x.device))
    k = torch.tensor(_BINOMIAL, dtype=x.dtype, device=x.device) / 16
    x = x.reshape(n * c, 1, h + 4, w + 4)
    x = F.conv2d(x, k.view(1, 1, 1, 5))
    x = F.conv2d(x, k.view(1, 1, 5, 1))
    return x.reshape(n, c, h, w)


def pyr_down(x):
    """Blur and drop every other row and column, as ``cv2.pyrDown``.

    Parameters
    ----------
    x : torch.Tensor of shape (N, C, H, W)

    Returns
    -------
    y : torch.Tensor of shape (N, C, (H + 1) // 2, (W + 1) // 2)

    Examples
    --------
    >>> pyr_down(torch.ones(1, 1, 5, 6)).shape
    torch.Size([1, 1, 3, 3])
    """
    return _blur(x)[..., ::2, ::2]


def pyr_up(x, size):
    """Upsample by 2 to ``size`` (zero insertion, blur times 4), as ``cv2.pyrUp``.

    Parameters
    ----------
    x : torch.Tensor of shape (N, C, h, w)
    size : tuple of int
        ``(H, W)`` with ``H`` in ``{2 h - 1, 2 h}`` and ``W`` in ``{2 w - 1, 2 w}``.

    Returns
    -------
    y : torch.Tensor of shape (N, C, H, W)

    Examples
    --------
    >>> pyr_up(torch.ones(1, 1, 3, 3), (5, 6)).unique().tolist()
    [1.0]
    """
    n, c, h, w = x.shape
    z = x.new_zeros(n, c, 2 * h, 2 * w)
    z[..., ::2, ::2] = x
    return (4 * _blur(z))[..., : size[0], : size[1]]


def _weighted_collapse(diff, level_factors):
    """``sum_l a_l * E_l(diff)``: Laplacian pyramid, per-level factors, collapse."""
    gauss = [diff]
    for _ in range(len(level_factors) - 1):
        gauss.append(pyr_down(gauss[-1]))
    out = level_factors[-1] * gauss[-1]
    for lv in range(len(level_factors) - 2, -1, -1):
        size = gauss[lv].shape[-2:]
        band = gauss[lv] - pyr_up(gauss[lv + 1], size)
        out = pyr_up(out, size) + level_factors[lv] * band
    return out


def amplify_pair(onset, apex, alphas, *, levels="auto", lambda_c=16.0,
                 exaggeration_factor=2.0):
    """Magnify the onset-to-apex change at several factors (differentiable).

    The torch counterpart of :func:`skmer.preprocessing.magnify_pair`: for every
    ``alpha`` the result is ``apex + sum_l alpha_l * E_l(apex - onset)``, with
    ``E_l`` level ``l`` of the Laplacian pyramid of the change expanded to full
    size and ``alpha_l`` the attenuated per-level factor of
    :func:`~skmer.preprocessing._magnify.level_alphas`.

    Parameters
    ----------
    onset, apex : torch.Tensor of shape (N, C, H, W)
        The two frames (every channel is amplified on its own: no chroma
        attenuation; use grey frames, or ``chrom_attenuation=1`` to compare with
        ``magnify_pair`` on colour).
    alphas : sequence of float
        Amplification factors (>= 0).
    levels : int or "auto", default="auto"
        Pyramid levels, residual included (see ``magnify_pair``).
    lambda_c : float or None, default=16.0
        Spatial cut-off wavelength in pixels; ``None`` amplifies every level by
        ``alpha``.
    exaggeration_factor : float, default=2.0
        Multiplier of the attenuated factors.

    Returns
    -------
    magnified : torch.Tensor of shape (N, n_alphas, C, H, W)
        The magnified apex frames (not clipped).

    Examples
    --------
    >>> onset = torch.zeros(1, 1, 16, 16)
    >>> apex = torch.full((1, 1, 16, 16), 2.0)
    >>> amplify_pair(onset, apex, [0.0, 4.0], lambda_c=None)[0, :, 0, 0, 0].tolist()
    [2.0, 10.0]
    """
    alphas = check_alphas(alphas)
    if onset.shape != apex.shape or onset.ndim != 4:
        raise ValueError(
            "onset and apex must be (N, C, H, W) tensors of one shape; got "
            f"{tuple(onset.shape)} and {tuple(apex.shape)}.")
    shape = tuple(onset.shape[-2:])
    n_levels = _resolve_levels(levels, shape)
    diff = apex - onset
    out = []
    cache = {}
    for a in alphas:
        factors = tuple(float(f) for f in level_alphas(
            a, shape, n_levels, lambda_c=lambda_c,
            exaggeration_factor=exaggeration_factor))
        if all(f == factors[-1] for f in factors):
            change = factors[-1] * diff
        else:
            if factors not in cache:
                cache[factors] = _weighted_collapse(diff, factors)
            change = cache[factors]
        out.append(apex + change)
    return torch.stack(out, dim=1)


class PyramidAmplifier(nn.Module):
    """ARTNet's amplification ("AA") layer: the apex magnified at several factors.

    A module wrapper of :func:`amplify_pair` (no parameters, differentiable).

    Parameters
    ----------
    alphas : sequence of float, default=(0.0, 2.0, 4.0, 8.0)
        Amplification factors (>= 0).
    levels : int or "auto", default="auto"
        Pyramid levels.
    lambda_c : float or None, default=16.0
        Spatial cut-off wavelength in pixels.
    exaggeration_factor : float, default=2.0
        Multiplier of the attenuated factors.

    Examples
    --------
    >>> amp = PyramidAmplifier([1.0, 3.0])
    >>> amp(torch.zeros(2, 1, 16, 16), torch.ones(2, 1, 16, 16)).shape
    torch.Size([2, 2, 1, 16, 16])
    """

    def __init__(self, alphas=DEFAULT_ALPHAS, *, levels="auto", lambda_c=16.0,
                 exaggeration_factor=2.0):
        super().__init__()
        self.alphas = check_alphas(alphas)
        self.levels = levels
        self.lambda_c = lambda_c
        self.exaggeration_factor = exaggeration_factor

    def forward(self, onset, apex):
        """Magnify the onset-to-apex change at every factor of :attr:`alphas`.

        Parameters
        ----------
        onset, apex : torch.Tensor of shape (N, C, H, W)
            The two frames.

        Returns
        -------
        magnified : torch.Tensor of shape (N, n_alphas, C, H, W)
            The magnified apex frames, as :func:`amplify_pair` returns them.
        """
        return amplify_pair(onset, apex, self.alphas, levels=self.levels,
                            lambda_c=self.lambda_c,
                            exaggeration_factor=self.exaggeration_factor)


def _strain(flow):
    """Optical strain of ``(M, 2, H, W)`` flow, as :func:`optical_strain`."""
    u_y, u_x = torch.gradient(flow[:, 0], dim=(-2, -1))
    v_y, v_x = torch.gradient(flow[:, 1], dim=(-2, -1))
    return torch.sqrt(u_x**2 + v_y**2 + 0.5 * (u_y + v_x) ** 2)[:, None]


class _FlowEncoder(nn.Module):
    """Small CNN: one flow field ``(C, H, W)`` -> one token of ``d_model``."""

    def __init__(self, in_channels, d_model, widths=(16, 32, 64)):
        super().__init__()
        layers = []
        prev = in_channels
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(prev, w, 3, padding=1, bias=False),
                       nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            prev = w
        layers.append(nn.AdaptiveAvgPool2d(4))
        self.features = nn.Sequential(*layers)
        self.proj = nn.Linear(prev * 16, d_model)

    def forward(self, x):
        return self.proj(self.features(x).flatten(1))


class ARTNet(nn.Module):
    """ARTNet micro-expression network (amplification, flow, transformer).

    ``flow_source="precomputed"`` takes the flow of the amplified pairs,
    ``(N, n_alphas, in_channels, H, W)`` (e.g. from
    :class:`~skmer.preprocessing.AmplifiedFlow`: ``u, v[, strain]`` of onset -> apex
    magnified at every factor).  ``flow_source="raft"`` takes onset/apex grey
    frame pairs ``(N, 2, H, W)`` in ``[0, 1]``, amplifies them (AA layer,
    :class:`PyramidAmplifier`) and computes the flow of every amplified pair with
    a frozen pretrained RAFT (flow module).  Either way, a shared small CNN turns
    each level's flow field into a token, a learned level embedding is added, a
    class token is prepended, and a transformer encoder relates the levels (TBA
    module); the class token is classified.

    Parameters
    ----------
    n_classes : int, default=3
        Number of classes.
    alphas : sequence of float or int, default=(0.0, 2.0, 4.0, 8.0)
        Amplification factors (>= 0), one token each.  With
        ``flow_source="precomputed"`` an int gives only the number of levels (the
        factors were applied upstream).
    flow_source : {"precomputed", "raft"}, default="precomputed"
        Where the flow comes from (see above).
    in_channels : int, default=3
        Channels of each flow field: ``u, v`` (2) or ``u, v, strain`` (3; the
        RAFT path computes the strain as :func:`~skmer.preprocessing.
        optical_strain`).
    raft_weights : str, os.PathLike, mapping or None, default=None
        Local RAFT weights (torchvision's ``raft_large``/``raft_small`` state
        dicts; the variant is detected), required by ``flow_source="raft"``.
    raft_iters : int, default=12
        RAFT update iterations.
    raft_size : tuple of (int, int) or None, default=None
        Size the frames are resized to for RAFT (multiples of 8, >= 64); the
        flow is resized back and its vectors rescaled.  ``None``: each side
        rounded up to a multiple of 8, at least 64.
    levels : int or "auto", default="auto"
        Pyramid levels of the AA layer.
    lambda_c : float or None, default=16.0
        Spatial cut-off of the AA layer (see :func:`amplify_pair`).
    exaggeration_factor : float, default=2.0
        Exaggeration factor of the AA layer.
    d_model : int, default=64
        Token width.
    n_heads : int, default=4
        Attention heads.
    n_layers : int, default=2
        Transformer encoder layers.
    dim_feedforward : int, default=128
        Hidden width of the transformer's feed-forward blocks.
    dropout : float, default=0.1
        Dropout of the transformer and before the classifier.

    Attributes
    ----------
    amplifier : PyramidAmplifier or None
        The AA layer (``flow_source="raft"``).
    raft : RAFT or None
        The frozen flow network (``flow_source="raft"``), always in eval mode.
    flow_encoder : torch.nn.Module
        The per-level CNN.
    encoder : torch.nn.TransformerEncoder
        The TBA module.

    Notes
    -----
    Only the paper's abstract could be consulted; the design details are skmer's
    choices: the factors ``(0, 2, 4, 8)`` (0 keeps the original motion as one
    level), the Laplacian-pyramid amplification with the attenuation of Wu et al.
    (identical to :class:`~skmer.preprocessing.Magnifier`'s two-frame mode), the
    token CNN (three 3x3 conv-BN-ReLU layers of 16, 32, 64 channels, two 2x2 max
    pools, a 4x4 adaptive average pool and a linear projection, so that the token
    keeps a coarse spatial layout), learned level embeddings, a class token and a
    pre-norm GELU transformer encoder.  With the defaults, 3 classes, 3 input
    channels and 4 levels the network has 156,883 trainable parameters (plus
    RAFT's 5,257,536 or 990,162 frozen ones on the RAFT path).  The RAFT path
    feeds the grey frames repeated on RGB, clipped to ``[0, 1]``; RAFT runs in
    eval mode without gradients.

    References
    ----------
    .. [1] C. Wan, W. Zhang, Y. Chen, L. Song and P. Cheng, "ARTNet for
       Micro-Expression Recognition", Sensors 26(1):247, 2025,
       :doi:`10.3390/s26010247`.
    .. [2] Z. Teed and J. Deng, "RAFT: Recurrent All-Pairs Field Transforms for
       Optical Flow", ECCV 2020, :doi:`10.1007/978-3-030-58536-5_24`.
    .. [3] H.-Y. Wu, M. Rubinstein, E. Shih, J. Guttag, F. Durand and W. T.
       Freeman, "Eulerian video magnification for revealing subtle changes in the
       world", ACM Transactions on Graphics 31(4), 2012,
       :doi:`10.1145/2185520.2185561`.

    Examples
    --------
    >>> import torch
    >>> net = ARTNet(n_classes=3, alphas=(0.0, 2.0, 4.0, 8.0))
    >>> net(torch.randn(5, 4, 3, 28, 28)).shape
    torch.Size([5, 3])
    """

    def __init__(self, n_classes: int = 3, *,
                 alphas: Sequence[float] | int = DEFAULT_ALPHAS,
                 flow_source: str = "precomputed", in_channels: int = 3,
                 raft_weights: str | os.PathLike | Mapping | None = None,
                 raft_iters: int = 12, raft_size: tuple[int, int] | None = None,
                 levels: int | str = "auto", lambda_c: float | None = 16.0,
                 exaggeration_factor: float = 2.0, d_model: int = 64, n_heads: int = 4,
                 n_layers: int = 2, dim_feedforward: int = 128,
                 dropout: float = 0.1) -> None:
        super().__init__()
        if flow_source not in FLOW_SOURCES:
            raise ValueError(
                f"flow_source must be one of {list(FLOW_SOURCES)}; got "
                f"{flow_source!r}.")
        if isinstance(alphas, Integral) and not isinstance(alphas, bool):
            if flow_source != "precomputed" or alphas < 1:
                raise ValueError(
                    "alphas may be a number of levels (an int >= 1) only with "
                    f"flow_source='precomputed'; got alphas={alphas!r}.")
            self.alphas = None
            n_levels = int(alphas)
        else:
            self.alphas = check_alphas(alphas)
            n_levels = len(self.alphas)
        bad_channels = (isinstance(in_channels, bool)
                        or not isinstance(in_channels, Integral) or in_channels < 1
                        or (flow_source == "raft" and in_channels not in (2, 3)))
        if bad_channels:
            raise ValueError(
                "in_channels must be an int >= 1 (2 = u, v or 3 = u, v, strain with "
                f"flow_source='raft'); got {in_channels!r}.")
        if d_model % n_heads:
            raise ValueError(
                f"d_model={d_model} must be divisible by n_heads={n_heads}.")
        self.n_classes = n_classes
        self.n_levels = n_levels
        self.flow_source = flow_source
        self.in_channels = int(in_channels)
        self.raft_iters = raft_iters
        self.raft_size = None if raft_size is None else tuple(int(s) for s in raft_size)
        self.amplifier = None
        self.raft = None
        if flow_source == "raft":
            from skmer.models.nets.raft import RAFT, _variant_of, min_raft_size

            if raft_weights is None:
                raise ValueError(
                    "flow_source='raft' needs raft_weights=<path to a local RAFT "
                    "state dict> (torchvision's raft_large or raft_small weights, "
                    "which skmer never downloads); without pretrained weights use "
                    "flow_source='precomputed' with AmplifiedFlow(method='tvl1').")
            if self.raft_size is not None and (
                    len(self.raft_size) != 2 or any(s % 8 or s < min_raft_size()
                                                    for s in self.raft_size)):
                raise ValueError(
                    "raft_size must be None or (height, width), multiples of 8 and "
                    f">= {min_raft_size()}; got {raft_size!r}.")
            state = raft_weights
            if not hasattr(state, "keys"):
                state = torch.load(raft_weights, map_location="cpu", weights_only=True)
            self.raft = load_weights(RAFT(_variant_of(state)), state)
            self.raft.requires_grad_(False)
            self.raft.eval()
            self.amplifier = PyramidAmplifier(self.alphas, levels=levels,
                                              lambda_c=lambda_c,
                                              exaggeration_factor=exaggeration_factor)
        self.flow_encoder = _FlowEncoder(self.in_channels, d_model)
        self.level_embedding = nn.Parameter(torch.zeros(1, n_levels, d_model))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, dim_feedforward=dim_feedforward, dropout=dropout,
            activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers,
                                             enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(d_model, n_classes)
        nn.init.trunc_normal_(self.level_embedding, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def train(self, mode: bool = True) -> ARTNet:
        """Set train/eval mode; the frozen RAFT always stays in eval mode."""
        super().train(mode)
        if self.raft is not None:
            self.raft.eval()
        return self

    # ------------------------------------------------------------------ flow
    def _raft_flows(self, x):
        """(N, 2, H, W) onset/apex in [0, 1] -> (N * A, C, H, W) flow of each level."""
        from skmer.models.nets.raft import min_raft_size

        n, _, h, w = x.shape
        x = x.float()
        with torch.autocast(x.device.type, enabled=False):
            mags = self.amplifier(x[:, :1], x[:, 1:])  # (N, A, 1, H, W)
        a = mags.shape[1]
        onset = x[:, :1].repeat_interleave(a, dim=0)
        apex = mags.reshape(n * a, 1, h, w)
        if self.raft_size is None:
            low = min_raft_size()
            size = (max(low, -(-h // 8) * 8), max(low, -(-w // 8) * 8))
        else:
            size = self.raft_size
        pair = torch.cat([onset, apex], dim=0).clamp(0.0, 1.0)
        if size != (h, w):
            pair = F.interpolate(pair, size=size, mode="bilinear", align_corners=False,
                                 antialias=size[0] < h or size[1] < w)
        pair = pair.repeat(1, 3, 1, 1) * 2 - 1
        if x.is_cuda:
            pair = pair.contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            flow = self.raft(pair[: n * a], pair[n * a:],
                             num_flow_updates=self.raft_iters)[-1].float()
        if size != (h, w):
            flow = F.interpolate(flow, size=(h, w), mode="bilinear",
                                 align_corners=False,
                                 antialias=h < size[0] or w < size[1])
            scale = torch.tensor([w / size[1], h / size[0]], device=flow.device)
            flow = flow * scale.view(1, 2, 1, 1)
        if self.in_channels == 3:
            flow = torch.cat([flow, _strain(flow)], dim=1)
        return flow

    def _check_input(self, x):
        name = type(self).__name__
        if self.flow_source == "raft":
            ok = x.ndim == 4 and x.shape[1] == 2
            expected = "(N, 2, height, width) onset/apex grey frame pairs"
        else:
            ok = x.ndim == 5 and x.shape[1] == self.n_levels \
                and x.shape[2] == self.in_channels
            expected = (f"(N, {self.n_levels} levels, {self.in_channels} channels, "
                        "height, width) flow of the amplified pairs")
        if not ok:
            raise ValueError(
                f"{name} with flow_source={self.flow_source!r} takes {expected}; got "
                f"shape {tuple(x.shape)}.")
        if min(x.shape[-2:]) < MIN_SIZE:
            raise ValueError(
                f"{name} needs inputs of at least {MIN_SIZE}x{MIN_SIZE} pixels; got "
                f"{tuple(x.shape[-2:])}.")

    # --------------------------------------------------------------- forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Classify a batch.

        Parameters
        ----------
        x : torch.Tensor
            ``(N, n_levels, in_channels, H, W)`` flow (``"precomputed"``) or
            ``(N, 2, H, W)`` onset/apex frames in ``[0, 1]`` (``"raft"``).

        Returns
        -------
        logits : torch.Tensor of shape (N, n_classes)
        """
        self._check_input(x)
        n = x.shape[0]
        if self.flow_source == "raft":
            flows = self._raft_flows(x)
        else:
            flows = x.reshape(n * self.n_levels, *x.shape[2:])
        if flows.is_cuda:
            flows = flows.contiguous(memory_format=torch.channels_last)
        tokens = self.flow_encoder(flows).reshape(n, self.n_levels, -1)
        tokens = tokens + self.level_embedding.to(tokens.dtype)
        cls = self.cls_token.to(tokens.dtype).expand(n, -1, -1)
        z = self.encoder(torch.cat([cls, tokens], dim=1))
        return self.head(self.dropout(self.norm(z[:, 0])))


@register_model()
def artnet(*, weights: str | os.PathLike | Mapping | None = None, **kwargs) -> ARTNet:
    """Build :class:`ARTNet`, optionally with local weights.

    Parameters
    ----------
    weights : str, os.PathLike or mapping, default=None
        A local state dict of a trained ARTNet (``torch.load(...,
        weights_only=True)``); never downloaded.
    **kwargs
        Constructor arguments of :class:`ARTNet`.

    Returns
    -------
    model : ARTNet

    Examples
    --------
    >>> artnet(n_classes=5).head.out_features
    5
    """
    model = ARTNet(**kwargs)
    if weights is not None:
        load_weights(model, weights)
    return model


def _n_params(module, trainable=True):
    return sum(p.numel() for p in module.parameters()
               if p.requires_grad or not trainable)

