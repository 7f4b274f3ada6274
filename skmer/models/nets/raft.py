"""RAFT optical flow (Teed & Deng, 2020) in pure torch, with user-supplied weights.

The network follows the reference design: a feature encoder applied to both frames
and a context encoder applied to the first, both at 1/8 resolution; a 4-level
all-pairs correlation pyramid; a convolutional GRU update operator (motion
encoder, GRU, flow head) iterated ``num_flow_updates`` times; and a convex
(learned) upsampling of the 1/8-resolution flow (bilinear upsampling for the
"small" variant).  Module and parameter names follow torchvision's
``torchvision.models.optical_flow.raft_large`` / ``raft_small``, so their state
dicts load as they are (``strict=True``); torchvision itself is not needed (and
is not a dependency of skmer).

Weights are never downloaded: :func:`raft_large`, :func:`raft_small` and
:func:`raft_flow` take a path to a local state dict, read with
``torch.load(path, weights_only=True)``.

Conventions
-----------
- Images are ``(N, 3, H, W)`` RGB scaled to ``[-1, 1]`` (torchvision's
  ``OpticalFlow`` preset: ``2 * x - 1`` for ``x`` in ``[0, 1]``); ``H`` and ``W``
  are multiples of 8 and at least 64 (the coarsest correlation level keeps one
  pixel).  Grey frames are repeated on the three channels by :func:`raft_flow`.
- Flow channel 0 is ``u`` (along x, columns, positive to the right) and channel 1
  is ``v`` (along y, rows, positive downwards): ``image1[y, x]`` matches
  ``image2[y + v, x + u]``, the convention of :func:`skmer.preprocessing.
  optical_flow`.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from skmer.models.nets._api import load_weights, register_model
from skmer.preprocessing._flow_registry import register_flow_method

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import ArrayLike

__all__ = [
    "RAFT",
    "raft_large",
    "raft_small",
    "raft_flow",
    "coords_grid",
    "correlation_pyramid",
    "lookup_correlation",
    "upsample_flow",
    "min_raft_size",
]

_MIN_SIZE = 64  # 8 (encoder stride) * 2 ** (4 levels - 1): the coarsest level >= 1 px


def min_raft_size(num_levels=4):
    """Smallest image side RAFT accepts with ``num_levels`` correlation levels.

    Parameters
    ----------
    num_levels : int, default=4
        Levels of the correlation pyramid.

    Returns
    -------
    size : int
        ``8 * 2 ** (num_levels - 1)`` pixels (64 for 4 levels).

    Examples
    --------
    >>> min_raft_size()
    64
    """
    return 8 * 2 ** (num_levels - 1)


# --------------------------------------------------------------------------------------
# building blocks (named as torchvision's, so that its checkpoints load)
# --------------------------------------------------------------------------------------
def _conv_norm_act(in_ch, out_ch, kernel_size, *, stride=1, norm=None, act=True):
    """Build conv (+ norm) (+ ReLU) as an ``nn.Sequential`` indexed 0, 1, 2.

    The indices are those of torchvision's ``Conv2dNormActivation`` (the conv
    always has a bias here).
    """
    layers = [nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride,
                        padding=(kernel_size - 1) // 2, bias=True)]
    if norm is not None:
        layers.append(norm(out_ch))
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _ResidualBlock(nn.Module):
    """Two 3x3 conv-norm-ReLU layers with a (projected when strided) skip."""

    def __init__(self, in_ch, out_ch, *, norm, stride=1):
        super().__init__()
        self.convnormrelu1 = _conv_norm_act(in_ch, out_ch, 3, stride=stride, norm=norm)
        self.convnormrelu2 = _conv_norm_act(out_ch, out_ch, 3, norm=norm)
        self.downsample = (nn.Identity() if stride == 1 else
                           _conv_norm_act(in_ch, out_ch, 1, stride=stride, norm=norm,
                                          act=False))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.downsample(x) + self.convnormrelu2(self.convnormrelu1(x)))


class _BottleneckBlock(nn.Module):
    """1x1 - 3x3 - 1x1 bottleneck (width ``out_ch // 4``) with a skip."""

    def __init__(self, in_ch, out_ch, *, norm, stride=1):
        super().__init__()
        mid = out_ch // 4
        self.convnormrelu1 = _conv_norm_act(in_ch, mid, 1, norm=norm)
        self.convnormrelu2 = _conv_norm_act(mid, mid, 3, stride=stride, norm=norm)
        self.convnormrelu3 = _conv_norm_act(mid, out_ch, 1, norm=norm)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Identity() if stride == 1 else
                           _conv_norm_act(in_ch, out_ch, 1, stride=stride, norm=norm,
                                          act=False))

    def forward(self, x):
        y = self.convnormrelu3(self.convnormrelu2(self.convnormrelu1(x)))
        return self.relu(self.downsample(x) + y)


class _Encoder(nn.Module):
    """Feature / context encoder: 7x7 stem, three stages of two blocks, 1x1 head.

    Downsamples by 8 (strides 2, 1, 2, 2).
    """

    def __init__(self, *, block, widths, norm):
        super().__init__()
        self.convnormrelu = _conv_norm_act(3, widths[0], 7, stride=2, norm=norm)
        stages = []
        for i, stride in enumerate((1, 2, 2)):
            stages.append(nn.Sequential(
                block(widths[i], widths[i + 1], norm=norm, stride=stride),
                block(widths[i + 1], widths[i + 1], norm=norm, stride=1),
            ))
        self.layer1, self.layer2, self.layer3 = stages
        self.conv = nn.Conv2d(widths[3], widths[4], kernel_size=1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.conv(self.layer3(self.layer2(self.layer1(self.convnormrelu(x)))))


class _MotionEncoder(nn.Module):
    """Encodes the correlation features and the current flow (flow appended)."""

    def __init__(self, *, in_corr, corr_layers, flow_layers, out_channels):
        super().__init__()
        self.convcorr1 = _conv_norm_act(in_corr, corr_layers[0], 1)
        self.convcorr2 = (_conv_norm_act(corr_layers[0], corr_layers[1], 3)
                          if len(corr_layers) == 2 else nn.Identity())
        self.convflow1 = _conv_norm_act(2, flow_layers[0], 7)
        self.convflow2 = _conv_norm_act(flow_layers[0], flow_layers[1], 3)
        self.conv = _conv_norm_act(corr_layers[-1] + flow_layers[-1],
                                   out_channels - 2, 3)
        self.out_channels = out_channels

    def forward(self, flow, corr):
        c = self.convcorr2(self.convcorr1(corr))
        f = self.convflow2(self.convflow1(flow))
        return torch.cat([self.conv(torch.cat([c, f], dim=1)), flow], dim=1)


class _ConvGRU(nn.Module):
    """Convolutional GRU cell: gates ``z``, ``r`` and candidate ``q`` are convs."""

    def __init__(self, *, input_size, hidden_size, kernel_size, padding):
        super().__init__()
        n = input_size + hidden_size
        self.convz = nn.Conv2d(n, hidden_size, kernel_size, padding=padding)
        self.convr = nn.Conv2d(n, hidden_size, kernel_size, padding=padding)
        self.convq = nn.Conv2d(n, hidden_size, kernel_size, padding=padding)

    def forward(self, h, x):
        hx = torch.cat([h, x], dim=1)
        z = torch.sigmoid(self.convz(hx))
        r = torch.sigmoid(self.convr(hx))
        q = torch.tanh(self.convq(torch.cat([r * h, x], dim=1)))
        return (1 - z) * h + z * q


class _RecurrentBlock(nn.Module):
    """One GRU (small) or a separable pair, 1x5 then 5x1 (large)."""

    def __init__(self, *, input_size, hidden_size, kernel_sizes, paddings):
        super().__init__()
        self.convgru1 = _ConvGRU(input_size=input_size, hidden_size=hidden_size,
                                 kernel_size=kernel_sizes[0], padding=paddings[0])
        self.convgru2 = (_ConvGRU(input_size=input_size, hidden_size=hidden_size,
                                  kernel_size=kernel_sizes[1], padding=paddings[1])
                         if len(kernel_sizes) == 2 else None)
        self.hidden_size = hidden_size

    def forward(self, h, x):
        h = self.convgru1(h, x)
        return h if self.convgru2 is None else self.convgru2(h, x)


class _FlowHead(nn.Module):
    def __init__(self, *, in_channels, hidden_size):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, hidden_size, 3, padding=1)
        self.conv2 = nn.Conv2d(hidden_size, 2, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.conv2(self.relu(self.conv1(x)))


class _UpdateBlock(nn.Module):
    def __init__(self, *, motion_encoder, recurrent_block, flow_head):
        super().__init__()
        self.motion_encoder = motion_encoder
        self.recurrent_block = recurrent_block
        self.flow_head = flow_head
        self.hidden_state_size = recurrent_block.hidden_size

    def forward(self, h, context, corr, flow):
        x = torch.cat([context, self.motion_encoder(flow, corr)], dim=1)
        h = self.recurrent_block(h, x)
        return h, self.flow_head(h)


class _MaskPredictor(nn.Module):
    """Predicts the 8x8x9 convex-combination logits (scaled by 0.25)."""

    def __init__(self, *, in_channels, hidden_size=256, multiplier=0.25):
        super().__init__()
        self.convrelu = _conv_norm_act(in_channels, hidden_size, 3)
        self.conv = nn.Conv2d(hidden_size, 8 * 8 * 9, 1)
        self.multiplier = multiplier

    def forward(self, x):
        return self.multiplier * self.conv(self.convrelu(x))


# --------------------------------------------------------------------------------------
# functional pieces (golden-tested)
# --------------------------------------------------------------------------------------
def coords_grid(batch_size, height, width, *, device=None, dtype=torch.float32):
    """Pixel coordinates ``(N, 2, H, W)``: channel 0 is x (column), 1 is y (row).

    Parameters
    ----------
    batch_size, height, width : int
        Output shape.
    device : torch.device, default=None
        Device of the result.
    dtype : torch.dtype, default=torch.float32
        Its dtype.

    Returns
    -------
    coords : torch.Tensor of shape (batch_size, 2, height, width)

    Examples
    --------
    >>> coords_grid(1, 2, 3)[0, 0].tolist()
    [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
    """
    ys = torch.arange(height, device=device, dtype=dtype)
    xs = torch.arange(width, device=device, dtype=dtype)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([xx, yy])[None].expand(batch_size, 2, height, width).clone()


def correlation_pyramid(fmap1, fmap2, num_levels=4):
    """All-pairs correlation volume and its average-pooled pyramid.

    Parameters
    ----------
    fmap1, fmap2 : torch.Tensor of shape (N, C, h, w)
        Features of the two frames.
    num_levels : int, default=4
        Pyramid levels; level ``k`` pools the last two axes by ``2 ** k``.

    Returns
    -------
    pyramid : list of torch.Tensor
        Level ``k`` has shape ``(N * h * w, 1, h // 2**k, w // 2**k)``: for every
        pixel ``(y1, x1)`` of frame 1 (row-major), the map of
        ``<fmap1[:, y1, x1], fmap2[:, y2, x2]> / sqrt(C)`` over ``(y2, x2)``,
        computed in float32.

    Examples
    --------
    >>> f = torch.ones(1, 4, 2, 2)
    >>> correlation_pyramid(f, f, num_levels=2)[0].shape
    torch.Size([4, 1, 2, 2])
    """
    if fmap1.shape != fmap2.shape:
        raise ValueError(
            f"fmap1 and fmap2 must have the same shape; got {tuple(fmap1.shape)} "
            f"and {tuple(fmap2.shape)}.")
    n, c, h, w = fmap1.shape
    if min(h, w) // 2 ** (num_levels - 1) < 1:
        raise ValueError(
            f"feature maps of {h}x{w} are too small for {num_levels} correlation "
            f"levels (the coarsest would have no pixel); images must be at least "
            f"{min_raft_size(num_levels)}x{min_raft_size(num_levels)}.")
    a = fmap1.float().reshape(n, c, h * w)
    b = fmap2.float().reshape(n, c, h * w)
    corr = torch.bmm(a.transpose(1, 2), b) / math.sqrt(c)
    corr = corr.reshape(n * h * w, 1, h, w)
    pyramid = [corr]
    for _ in range(num_levels - 1):
        corr = F.avg_pool2d(corr, kernel_size=2, stride=2)
        pyramid.append(corr)
    return pyramid


def lookup_correlation(pyramid, coords, radius):
    """Sample the correlation pyramid around ``coords`` (bilinear, zeros outside).

    Parameters
    ----------
    pyramid : list of torch.Tensor
        Output of :func:`correlation_pyramid`.
    coords : torch.Tensor of shape (N, 2, h, w)
        Where every pixel of frame 1 currently points in frame 2, in level-0
        pixels (channel 0 = x, 1 = y); divided by ``2 ** k`` at level ``k``.
    radius : int
        Neighbourhood radius ``r`` (an infinity-norm square of side ``2 r + 1``).

    Returns
    -------
    features : torch.Tensor of shape (N, L * (2 r + 1) ** 2, h, w)
        Level after level; inside a level, channel ``i * (2 r + 1) + j`` holds the
        offset ``dx = i - r``, ``dy = j - r`` (x varies slowest, the layout the
        reference weights expect).

    Examples
    --------
    >>> f = torch.randn(1, 8, 8, 8)
    >>> pyr = correlation_pyramid(f, f)
    >>> lookup_correlation(pyr, coords_grid(1, 8, 8), radius=3).shape
    torch.Size([1, 196, 8, 8])
    """
    n, _, h, w = coords.shape
    side = 2 * radius + 1
    d = torch.arange(-radius, radius + 1, device=coords.device, dtype=torch.float32)
    offsets = torch.stack([d.repeat_interleave(side), d.repeat(side)], dim=-1)
    offsets = offsets.reshape(1, side, side, 2)
    centres = coords.float().permute(0, 2, 3, 1).reshape(n * h * w, 1, 1, 2)
    out = []
    for level, corr in enumerate(pyramid):
        pts = centres / 2 ** level + offsets
        lh, lw = corr.shape[-2:]
        # absolute pixel coordinates -> grid_sample's align_corners=False frame;
        # identical sampling to align_corners=True with (size - 1), valid for size 1
        grid = torch.stack([(2 * pts[..., 0] + 1) / lw - 1,
                            (2 * pts[..., 1] + 1) / lh - 1], dim=-1)
        sampled = F.grid_sample(corr, grid, mode="bilinear", padding_mode="zeros",
                                align_corners=False)
        out.append(sampled.reshape(n, h, w, side * side))
    return torch.cat(out, dim=-1).permute(0, 3, 1, 2).contiguous()


def upsample_flow(flow, mask=None):
    """Upsample a 1/8-resolution flow by 8 (vectors multiplied by 8).

    Parameters
    ----------
    flow : torch.Tensor of shape (N, 2, h, w)
        Flow in 1/8-resolution pixels.
    mask : torch.Tensor of shape (N, 576, h, w), default=None
        Convex-combination logits: channel ``k * 64 + a * 8 + b`` weighs the
        neighbour ``k`` (row-major over the 3x3 window, zero outside the image) of
        coarse pixel ``(i, j)`` for the fine pixel ``(8 i + a, 8 j + b)``; softmax
        over ``k``.  ``None``: bilinear interpolation (``align_corners=True``).

    Returns
    -------
    flow_up : torch.Tensor of shape (N, 2, 8 h, 8 w)

    Examples
    --------
    >>> up = upsample_flow(torch.ones(1, 2, 2, 2))
    >>> tuple(up.shape), bool(torch.allclose(up, torch.full_like(up, 8.0)))
    ((1, 2, 16, 16), True)
    """
    n, _, h, w = flow.shape
    if mask is None:
        return 8 * F.interpolate(flow, size=(8 * h, 8 * w), mode="bilinear",
                                 align_corners=True)
    weights = torch.softmax(mask.reshape(n, 1, 9, 8, 8, h, w).float(), dim=2)
    patches = F.unfold(8 * flow.float(), kernel_size=3, padding=1)
    patches = patches.reshape(n, 2, 9, 1, 1, h, w)
    up = (weights * patches).sum(dim=2)  # (n, 2, 8, 8, h, w)
    return up.permute(0, 1, 4, 2, 5, 3).reshape(n, 2, 8 * h, 8 * w)


# --------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------
_CONFIGS = {
    "large": dict(
        feature=dict(block=_ResidualBlock, widths=(64, 64, 96, 128, 256),
                     norm=nn.InstanceNorm2d),
        context=dict(block=_ResidualBlock, widths=(64, 64, 96, 128, 256),
                     norm=nn.BatchNorm2d),
        radius=4, corr_layers=(256, 192), flow_layers=(128, 64), motion_out=128,
        hidden=128, kernel_sizes=((1, 5), (5, 1)), paddings=((0, 2), (2, 0)),
        head_hidden=256, mask=True),
    "small": dict(
        feature=dict(block=_BottleneckBlock, widths=(32, 32, 64, 96, 128),
                     norm=nn.InstanceNorm2d),
        context=dict(block=_BottleneckBlock, widths=(32, 32, 64, 96, 160),
                     norm=None),
        radius=3, corr_layers=(96,), flow_layers=(64, 32), motion_out=82,
        hidden=96, kernel_sizes=((3, 3),), paddings=((1, 1),),
        head_hidden=128, mask=False),
}


class RAFT(nn.Module):
    """RAFT: Recurrent All-Pairs Field Transforms for optical flow.

    Parameters
    ----------
    variant : {"large", "small"}, default="large"
        ``"large"``: residual encoders (instance norm for features, batch norm for
        context), radius-4 lookups, a separable (1x5, 5x1) ConvGRU of 128
        channels and convex upsampling, 5,257,536 parameters.  ``"small"``:
        bottleneck encoders, radius 3, a 3x3 ConvGRU of 96 channels and bilinear
        upsampling, 990,162 parameters.
    num_levels : int, default=4
        Levels of the correlation pyramid.

    Attributes
    ----------
    feature_encoder, context_encoder : torch.nn.Module
        The two encoders (1/8 resolution).
    update_block : torch.nn.Module
        Motion encoder, recurrent block and flow head.
    mask_predictor : torch.nn.Module or None
        Convex-upsampling mask head (``"large"`` only).

    Notes
    -----
    The parameter names are those of torchvision's ``raft_large`` and
    ``raft_small``, so their checkpoints load with ``strict=True``; the parameter
    counts equal theirs.  As in the reference code, the correlation volume and the
    coordinates stay in float32 under mixed precision, and no gradient flows
    through the coordinates between iterations.

    References
    ----------
    .. [1] Z. Teed and J. Deng, "RAFT: Recurrent All-Pairs Field Transforms for
       Optical Flow", ECCV 2020, :doi:`10.1007/978-3-030-58536-5_24`.

    Examples
    --------
    >>> import torch
    >>> net = RAFT("small").eval()
    >>> img = torch.zeros(1, 3, 64, 64)
    >>> with torch.no_grad():
    ...     flows = net(img, img, num_flow_updates=2)
    >>> len(flows), tuple(flows[-1].shape)
    (2, (1, 2, 64, 64))
    """

    def __init__(self, variant: str = "large", *, num_levels: int = 4) -> None:
        super().__init__()
        if variant not in _CONFIGS:
            raise ValueError(
                f"variant must be one of {sorted(_CONFIGS)}; got {variant!r}.")
        cfg = _CONFIGS[variant]
        self.variant = variant
        self.num_levels = num_levels
        self.radius = cfg["radius"]
        self.feature_encoder = _Encoder(**cfg["feature"])
        self.context_encoder = _Encoder(**cfg["context"])
        motion = _MotionEncoder(in_corr=num_levels * (2 * self.radius + 1) ** 2,
                                corr_layers=cfg["corr_layers"],
                                flow_layers=cfg["flow_layers"],
                                out_channels=cfg["motion_out"])
        context_channels = cfg["context"]["widths"][-1] - cfg["hidden"]
        recurrent = _RecurrentBlock(input_size=cfg["motion_out"] + context_channels,
                                    hidden_size=cfg["hidden"],
                                    kernel_sizes=cfg["kernel_sizes"],
                                    paddings=cfg["paddings"])
        head = _FlowHead(in_channels=cfg["hidden"], hidden_size=cfg["head_hidden"])
        self.update_block = _UpdateBlock(motion_encoder=motion,
                                         recurrent_block=recurrent, flow_head=head)
        self.mask_predictor = (_MaskPredictor(in_channels=cfg["hidden"])
                               if cfg["mask"] else None)

    def forward(self, image1: torch.Tensor, image2: torch.Tensor,
                num_flow_updates: int = 12) -> list[torch.Tensor]:
        """Estimate the flow from ``image1`` to ``image2``.

        Parameters
        ----------
        image1, image2 : torch.Tensor of shape (N, 3, H, W)
            RGB in ``[-1, 1]``; ``H`` and ``W`` multiples of 8, at least 64.
        num_flow_updates : int, default=12
            Iterations of the update operator.

        Returns
        -------
        flows : list of torch.Tensor of shape (N, 2, H, W)
            The upsampled estimate after every iteration (the last is the
            result), float32, channel 0 = u (x), 1 = v (y).
        """
        if image1.shape != image2.shape or image1.ndim != 4 or image1.shape[1] != 3:
            raise ValueError(
                "image1 and image2 must be RGB batches of one shape (N, 3, H, W); got "
                f"{tuple(image1.shape)} and {tuple(image2.shape)}.")
        n, _, h, w = image1.shape
        low = min_raft_size(self.num_levels)
        if h % 8 or w % 8 or h < low or w < low:
            raise ValueError(
                f"RAFT needs images whose height and width are multiples of 8 and at "
                f"least {low}; got {h}x{w}. Pad or resize the frames (raft_flow "
                "does this for you).")
        if isinstance(num_flow_updates, bool) or int(num_flow_updates) < 1:
            raise ValueError(
                f"num_flow_updates must be a positive int; got {num_flow_updates!r}.")
        fmaps = self.feature_encoder(torch.cat([image1, image2], dim=0))
        fmap1, fmap2 = fmaps.chunk(2, dim=0)
        pyramid = correlation_pyramid(fmap1, fmap2, self.num_levels)
        hidden_size = self.update_block.hidden_state_size
        ctx = self.context_encoder(image1)
        hidden, context = ctx.split([hidden_size, ctx.shape[1] - hidden_size], dim=1)
        hidden, context = torch.tanh(hidden), F.relu(context)
        coords0 = coords_grid(n, h // 8, w // 8, device=image1.device)
        coords1 = coords0.clone()
        flows = []
        for _ in range(int(num_flow_updates)):
            coords1 = coords1.detach()
            corr = lookup_correlation(pyramid, coords1, self.radius)
            flow = coords1 - coords0
            hidden, delta = self.update_block(hidden, context, corr.to(hidden.dtype),
                                              flow.to(hidden.dtype))
            coords1 = coords1 + delta.float()
            mask = None if self.mask_predictor is None else self.mask_predictor(hidden)
            flows.append(upsample_flow(coords1 - coords0, mask))
        return flows


def _build(variant, weights):
    model = RAFT(variant)
    if weights is not None:
        load_weights(model, weights)
    return model


@register_model()
def raft_large(*, weights: str | os.PathLike | Mapping | None = None) -> RAFT:
    """RAFT (large, 5.3 M parameters), optionally with local weights.

    Parameters
    ----------
    weights : str, os.PathLike or mapping, default=None
        A local state dict (e.g. torchvision's ``raft_large_C_T_SKHT_V2`` file),
        read with ``torch.load(..., weights_only=True)``.  Never downloaded.

    Returns
    -------
    model : RAFT

    Examples
    --------
    >>> sum(p.numel() for p in raft_large().parameters())
    5257536
    """
    return _build("large", weights)


@register_model()
def raft_small(*, weights: str | os.PathLike | Mapping | None = None) -> RAFT:
    """RAFT (small, 1.0 M parameters), optionally with local weights.

    Parameters
    ----------
    weights : str, os.PathLike or mapping, default=None
        A local state dict (e.g. torchvision's ``raft_small_C_T_V2`` file), read
        with ``torch.load(..., weights_only=True)``.  Never downloaded.

    Returns
    -------
    model : RAFT

    Examples
    --------
    >>> sum(p.numel() for p in raft_small().parameters())
    990162
    """
    return _build("small", weights)


# --------------------------------------------------------------------------------------
# a kernel with optical_flow's conventions
# --------------------------------------------------------------------------------------
def _variant_of(state_dict):
    return "large" if "mask_predictor.conv.weight" in state_dict else "small"


@functools.lru_cache(maxsize=4)
def _load_cached(path, mtime_ns, size, device):
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not hasattr(state, "keys"):
        raise ValueError(f"{path} does not hold a state dict (got {type(state)}).")
    model = RAFT(_variant_of(state))
    model.load_state_dict(state)
    return model.to(device).eval()


def load_raft(weights, device="cpu"):
    """Return a RAFT in eval mode from local weights (path, state dict or RAFT).

    The variant (large or small) is read from the state dict.  Models loaded from
    a path are cached per (path, modification time, device).

    Parameters
    ----------
    weights : str, os.PathLike, mapping or RAFT
        Local weights.  ``None`` raises ``ValueError``: skmer never downloads.
    device : str or torch.device, default="cpu"
        Where the model lives.

    Returns
    -------
    model : RAFT
    """
    if weights is None:
        raise ValueError(
            "RAFT needs pretrained weights: pass weights=<path to a local state dict> "
            "(e.g. torchvision's raft_large_C_T_SKHT_V2-ff5fadd5.pth or "
            "raft_small_C_T_V2-01064c6d.pth, downloaded by you). skmer never "
            "downloads weights, and a randomly initialised RAFT gives meaningless "
            "flow.")
    if isinstance(weights, RAFT):
        return weights.to(device).eval()
    if hasattr(weights, "keys"):
        model = RAFT(_variant_of(weights))
        model.load_state_dict(weights)
        return model.to(device).eval()
    if not isinstance(weights, str | os.PathLike):
        raise ValueError(
            "weights must be a path, a state dict or a RAFT module; got "
            f"{type(weights).__name__}.")
    path = Path(weights)
    if not path.is_file():
        raise ValueError(f"RAFT weights file not found: {str(path)!r}.")
    stat = path.stat()
    return _load_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size,
                        str(torch.device(device)))


def _frames_to_unit(frames, data_range):
    a = np.asarray(frames)
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number) \
            or np.issubdtype(a.dtype, np.complexfloating):
        raise ValueError(f"frames must be real numbers; got dtype {a.dtype}.")
    a = a.astype(np.float32)
    if not np.isfinite(a).all():
        raise ValueError("frames contain NaN or infinite values.")
    if data_range is None:
        data_range = 255.0 if (np.issubdtype(np.asarray(frames).dtype, np.integer)
                               or a.max() > 1.0) else 1.0
    return np.clip(a / np.float32(data_range), 0.0, 1.0)


def raft_flow(prev: ArrayLike, next: ArrayLike,
              weights: str | os.PathLike | Mapping | RAFT, *, iters: int = 12,
              device: str = "cpu", data_range: float | None = None) -> np.ndarray:
    """Dense optical flow from ``prev`` to ``next`` with a pretrained RAFT.

    Same conventions as :func:`skmer.preprocessing.optical_flow`: ``flow[..., 0]
    = u`` along x (columns) and ``flow[..., 1] = v`` along y (rows), with
    ``prev[y, x] ~= next[y + v, x + u]``.

    Parameters
    ----------
    prev, next : ndarray of shape (height, width) or (height, width, 3)
        Grey or RGB frames of one shape (grey is repeated on 3 channels).  Integer
        frames are read on 0-255, float frames on [0, 1] when all values are <= 1
        and on 0-255 otherwise (or pass ``data_range``).
    weights : str, os.PathLike, mapping or RAFT
        Local RAFT weights (torchvision's ``raft_large`` / ``raft_small`` state
        dicts load as they are; the variant is detected), or a loaded
        :class:`RAFT`.  Required: ``None`` raises ``ValueError``.
    iters : int, default=12
        Iterations of the update operator.
    device : str, default="cpu"
        Device of the computation.
    data_range : float, default=None
        The value of a white pixel.

    Returns
    -------
    flow : ndarray of shape (height, width, 2), dtype float32

    Notes
    -----
    Frames are padded by edge replication to multiples of 8 (and to at least 64
    pixels, the smallest size of the 4-level correlation pyramid), and the flow is
    cropped back, so that pixel ``(y, x)`` of the result is pixel ``(y, x)`` of
    ``prev``.

    References
    ----------
    .. [1] Z. Teed and J. Deng, "RAFT: Recurrent All-Pairs Field Transforms for
       Optical Flow", ECCV 2020, :doi:`10.1007/978-3-030-58536-5_24`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.models.nets.raft import RAFT, raft_flow
    >>> frame = np.zeros((40, 50), dtype=np.uint8)
    >>> raft_flow(frame, frame, RAFT("small"), iters=1).shape
    (40, 50, 2)
    """
    model = load_raft(weights, device)
    prev = np.asarray(prev)
    next = np.asarray(next)
    if prev.shape != next.shape:
        raise ValueError(
            f"prev and next must have the same shape; got {prev.shape} and "
            f"{next.shape}.")
    if prev.ndim == 3 and prev.shape[-1] == 1:
        prev, next = prev[..., 0], next[..., 0]
    if prev.ndim not in (2, 3) or (prev.ndim == 3 and prev.shape[-1] != 3):
        raise ValueError(
            "frames must have shape (height, width) or (height, width, 3); got "
            f"{prev.shape}.")
    if min(prev.shape[:2]) < 2:
        raise ValueError(f"frames must be at least 2x2 pixels; got {prev.shape[:2]}.")
    pair = _frames_to_unit(np.stack([prev, next]), data_range)
    if pair.ndim == 3:
        pair = np.repeat(pair[..., None], 3, axis=-1)
    x = torch.from_numpy(np.ascontiguousarray(pair)).permute(0, 3, 1, 2)
    h, w = x.shape[-2:]
    low = min_raft_size(model.num_levels)
    ph = max(low, -(-h // 8) * 8) - h
    pw = max(low, -(-w // 8) * 8) - w
    x = F.pad(x, (0, pw, 0, ph), mode="replicate") * 2 - 1
    x = x.to(device)
    with torch.no_grad():
        flow = model(x[:1], x[1:], num_flow_updates=iters)[-1]
    flow = flow[0, :, :h, :w].permute(1, 2, 0).float().cpu().numpy()
    return np.ascontiguousarray(flow, dtype=np.float32)


def _grey_pair_flow(prev, next, params):
    """``method="raft"`` of :func:`skmer.preprocessing.optical_flow`.

    ``prev`` and ``next`` are grey uint8 frames; ``params`` holds the checked
    ``weights`` and the optional ``iters`` (12) and ``device`` ("cpu").
    """
    return raft_flow(prev, next, params["weights"], iters=params.get("iters", 12),
                     device=params.get("device", "cpu"), data_range=255.0)


# preprocessing finds RAFT through its registry (it never imports torch itself)
register_flow_method("raft", _grey_pair_flow)
