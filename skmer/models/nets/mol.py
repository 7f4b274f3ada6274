"""MOL: joint micro-expression, optical flow and landmark network (Shao et al., 2025).

The network reads a raw grey clip ``(N, 1, T, H, W)`` (the paper: 8 frames of
128x128) and returns three outputs that are trained jointly:

- the micro-expression logits ``(N, n_classes)``,
- the optical flow between every pair of consecutive frames ``(N, T - 1, 2, H, W)``
  (``u`` along x, ``v`` along y, in input pixels),
- the 68 facial landmarks of frames 1 .. T-1 ``(N, T - 1, 68, 2)`` (``(x, y)`` in
  normalised coordinates, see :func:`landmarks_to_normalized`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from skmer.models.nets._api import load_weights, register_model

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

__all__ = [
    "MOL",
    "F5CBlock",
    "FullyConnectedConv",
    "ChannelCorrespondenceConv",
    "channel_knn",
    "correlation",
    "mol",
    "mol_feature_size",
    "check_mol_input_size",
    "landmarks_to_normalized",
    "landmarks_to_pixels",
    "MIN_INPUT_SIZE",
    "N_LANDMARKS",
]

N_LANDMARKS = 68
MIN_INPUT_SIZE = 24


# --------------------------------------------------------------------------------------
# geometry helpers
# --------------------------------------------------------------------------------------
def _stem_size(s):
    """Side of the shared stem's output for an input side ``s``."""
    a = (s - 4) // 2 + 1  # 4x4 stride 2
    b = (a - 3) // 2 + 1  # 3x3 stride 2
    return b // 2 + 1  # 2x2 stride 2, padding 1


def _flow_encoder_size(s):
    """Side of the flow encoder's third convolution for an input side ``s``."""
    s1 = (s - 2) // 2 + 1  # 6x6 stride 2, padding 2
    s2 = (s1 - 2) // 2 + 1  # 4x4 stride 2, padding 1
    return s2 // 2  # 2x2 stride 2


def mol_feature_size(size):
    """Return the side of MOL's feature maps for an input side ``size``.

    Parameters
    ----------
    size : int
        Input height or width in pixels.

    Returns
    -------
    feature_size : int
        Height or width of the F5C feature maps (16 for the paper's 128).

    Examples
    --------
    >>> mol_feature_size(128), mol_feature_size(64), mol_feature_size(32)
    (16, 8, 4)
    """
    return _stem_size(int(size))


def check_mol_input_size(size, *, where="MOL"):
    """Raise ``ValueError`` unless ``(height, width)`` fits MOL's receptive path.

    The shared stem and the flow encoder reduce the frames by 8 along different
    paths; their outputs are concatenated, so both must have the same size. That
    holds for sides ``s >= 24`` with ``s % 8 in {0, 1, 2, 3}`` (e.g. 24, 32, 64,
    128); 24 is the smallest side the landmark and recognition heads accept.

    Parameters
    ----------
    size : tuple of (int, int)
        ``(height, width)`` of the frames.
    where : str, default="MOL"
        Named in the error message.

    Returns
    -------
    size : tuple of (int, int)
        The size, as ints.

    Examples
    --------
    >>> check_mol_input_size((128, 128))
    (128, 128)
    >>> check_mol_input_size((20, 20))
    Traceback (most recent call last):
    ...
    ValueError: MOL: frames of 20x20 pixels are too small ...
    """
    try:
        h, w = (int(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: input_size must be a (height, width) pair; got "
                         f"{size!r}.") from None
    for name, s in (("height", h), ("width", w)):
        if s < MIN_INPUT_SIZE:
            raise ValueError(
                f"{where}: frames of {h}x{w} pixels are too small for MOL's receptive "
                f"path; height and width must be at least {MIN_INPUT_SIZE} (the "
                "paper uses 128x128; resize the face crops, e.g. "
                "FaceCropper(output_size=(128, 128)))."
            )
        if _stem_size(s) != _flow_encoder_size(s):
            ok = [v for v in range(max(MIN_INPUT_SIZE, s - 8), s + 9)
                  if _stem_size(v) == _flow_encoder_size(v)]
            raise ValueError(
                f"{where}: a frame {name} of {s} pixels does not fit MOL's two "
                f"encoders (they give {_stem_size(s)} and {_flow_encoder_size(s)} "
                "feature rows); use a side s >= 24 with s % 8 in {0, 1, 2, 3}, "
                f"e.g. one of {ok} (the paper uses 128)."
            )
    return h, w


def landmarks_to_normalized(points, frame_shape):
    """Map pixel landmarks ``(..., 2)`` (x, y) to MOL's normalised coordinates.

    The centre of the frame maps to 0 and the coordinates are divided by half the
    longer side (one scale for x and y, so distances keep their ratios).

    Parameters
    ----------
    points : torch.Tensor or ndarray of shape (..., 2)
        ``(x, y)`` pixel coordinates.
    frame_shape : tuple of (int, int)
        ``(height, width)``.

    Returns
    -------
    normalized : same type as ``points``
        Normalised coordinates.

    Examples
    --------
    >>> import numpy as np
    >>> landmarks_to_normalized(np.array([[31.5, 0.0]]), (64, 64)).tolist()
    [[0.0, -0.984375]]
    """
    h, w = frame_shape
    half = max(h, w) / 2.0
    centre = [(w - 1) / 2.0, (h - 1) / 2.0]
    if isinstance(points, torch.Tensor):
        centre = torch.as_tensor(centre, dtype=points.dtype, device=points.device)
    return (points - centre) / half


def landmarks_to_pixels(normalized, frame_shape):
    """Inverse of :func:`landmarks_to_normalized`.

    Parameters
    ----------
    normalized : torch.Tensor or ndarray of shape (..., 2)
        Normalised ``(x, y)``.
    frame_shape : tuple of (int, int)
        ``(height, width)``.

    Returns
    -------
    points : same type as ``normalized``
        ``(x, y)`` pixel coordinates.

    Examples
    --------
    >>> import numpy as np
    >>> landmarks_to_pixels(np.array([[0.0, -0.984375]]), (64, 64)).tolist()
    [[31.5, 0.0]]
    """
    h, w = frame_shape
    half = max(h, w) / 2.0
    centre = [(w - 1) / 2.0, (h - 1) / 2.0]
    if isinstance(normalized, torch.Tensor):
        centre = torch.as_tensor(centre, dtype=normalized.dtype,
                                 device=normalized.device)
    return normalized * half + centre


# --------------------------------------------------------------------------------------
# F5C: fully-connected convolution + channel correspondence convolution
# --------------------------------------------------------------------------------------
def _circular_conv(x, weight, bias, dim):
    """Depthwise convolution with a kernel as long as ``x`` along ``dim`` (circular).

    ``x`` is padded by wrapping its first ``L - 1`` rows (``dim=2``) or columns
    (``dim=3``) around, so that every output sees the whole row/column.
    """
    length = x.shape[dim]
    if dim == 2:
        x = torch.cat((x, x[:, :, : length - 1]), dim=2)
    else:
        x = torch.cat((x, x[:, :, :, : length - 1]), dim=3)
    return F.conv2d(x, weight, bias, groups=x.shape[1])


class FullyConnectedConv(nn.Module):
    """Transformer-style fully-connected convolution (FCC) of MOL.

    Half of the channels are convolved along the columns (H) and then along the rows
    (W), the other half in the opposite order, each with a depthwise *global* kernel
    as long as the feature map and circular padding, so that every output position
    sees the whole map (a global receptive field, like self-attention) while the
    kernels stay spatially ordered (local structure, like convolution). Learned
    position embeddings are added before each stage (the convolution is otherwise
    translation-equivariant), with pre-normalisation and a residual connection as in
    a transformer block.

    Parameters
    ----------
    channels : int
        Number of channels (even).
    size : tuple of (int, int)
        ``(height, width)`` of the feature maps (the kernel lengths).
    init_std : float, default=0.02
        Standard deviation of the normal initialisation of the position
        embeddings and kernel biases (the authors' code: 1.0).
    """

    def __init__(self, channels, size, init_std=0.02):
        super().__init__()
        if channels % 2:
            raise ValueError(f"FullyConnectedConv needs an even channel count; got "
                             f"{channels}.")
        h, w = size
        half = channels // 2
        self.size = (int(h), int(w))

        def kernel(shape):
            # the default initialisation of a depthwise nn.Conv2d of that shape
            weight = torch.empty(half, 1, *shape)
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
            return nn.Parameter(weight)

        self.norm_1 = nn.BatchNorm2d(half)
        self.norm_2 = nn.BatchNorm2d(half)
        # branch 1: H then W; branch 2: W then H
        self.kernel_1_h = kernel((h, 1))
        self.kernel_1_w = kernel((1, w))
        self.kernel_2_w = kernel((1, w))
        self.kernel_2_h = kernel((h, 1))
        def normal(*shape):
            return nn.Parameter(torch.randn(*shape) * init_std)

        self.bias_1_h = normal(half)
        self.bias_1_w = normal(half)
        self.bias_2_w = normal(half)
        self.bias_2_h = normal(half)
        self.pe_1_h = normal(1, half, h, 1)
        self.pe_1_w = normal(1, half, 1, w)
        self.pe_2_w = normal(1, half, 1, w)
        self.pe_2_h = normal(1, half, h, 1)

    def forward(self, x):
        """Apply the block to ``x`` of shape ``(N, channels, height, width)``."""
        x_1, x_2 = torch.chunk(x, 2, dim=1)
        res_1, res_2 = x_1, x_2
        x_1 = self.norm_1(x_1 + self.pe_1_h)
        x_2 = self.norm_2(x_2 + self.pe_1_w)
        x_1 = _circular_conv(x_1, self.kernel_1_h, self.bias_1_h, dim=2)
        x_2 = _circular_conv(x_2, self.kernel_2_w, self.bias_2_w, dim=3)
        x_1 = _circular_conv(x_1 + self.pe_2_w, self.kernel_1_w, self.bias_1_w, dim=3)
        x_2 = _circular_conv(x_2 + self.pe_2_h, self.kernel_2_h, self.bias_2_h, dim=2)
        return torch.cat((res_1 + x_1, res_2 + x_2), dim=1)


def channel_knn(x, k):
    """Return the indices of the ``k`` most similar channels of every channel (cosine).

    Parameters
    ----------
    x : torch.Tensor of shape (N, channels, n_features)
        Every channel's flattened feature map is one graph node.
    k : int
        Number of neighbours (a channel is its own nearest neighbour, as in
        DGCNN's k-NN graph).

    Returns
    -------
    idx : torch.Tensor of shape (N, channels, k), dtype int64
        ``idx[n, i]`` lists the neighbours of channel ``i``, most similar first.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]])
    >>> channel_knn(x, 2).tolist()
    [[[0, 1], [1, 0], [2, 1]]]
    """
    xn = F.normalize(x.float(), p=2, dim=-1)
    sim = xn @ xn.transpose(1, 2)
    return sim.topk(k, dim=-1).indices


class ChannelCorrespondenceConv(nn.Module):
    """Graph-style channel correspondence convolution (CCC) of MOL.

    Every channel is a node whose feature is its flattened ``H * W`` map; each node
    is joined to its ``k`` most similar channels (cosine similarity, recomputed for
    every sample: a dynamic graph) and an EdgeConv (DGCNN) updates it:
    ``x_i' = max_j ReLU(theta (x_j - x_i) + phi x_i)``, with ``theta`` and ``phi``
    linear maps shared by all channels. The block returns ``x + x'`` (a residual).

    Parameters
    ----------
    n_features : int
        ``H * W`` of the feature maps.
    k : int, default=4
        Number of neighbours.
    """

    def __init__(self, n_features, k=4):
        super().__init__()
        self.k = int(k)
        self.phi = nn.Linear(n_features, n_features)
        self.theta = nn.Linear(n_features, n_features)

    def forward(self, x):
        """Apply the block to ``x`` of shape ``(N, channels, height, width)``."""
        n, c, h, w = x.shape
        k = min(self.k, c)
        flat = x.reshape(n, c, h * w)
        idx = channel_knn(flat, k)  # (N, C, k)
        neighbours = torch.gather(
            flat.unsqueeze(1).expand(n, c, c, h * w), 2,
            idx.unsqueeze(-1).expand(n, c, k, h * w),
        )  # (N, C, k, HW): neighbours[n, i, j] = flat[n, idx[n, i, j]]
        edge = F.relu(self.phi(flat).unsqueeze(2)
                      + self.theta(neighbours - flat.unsqueeze(2)))
        return x + edge.amax(dim=2).reshape(n, c, h, w)


class F5CBlock(nn.Module):
    """F5C block: fully-connected convolution then channel correspondence convolution.

    Parameters
    ----------
    channels : int
        Number of channels (even).
    size : tuple of (int, int)
        ``(height, width)`` of the feature maps.
    k : int, default=4
        Neighbours of the channel graph.
    init_std : float, default=0.02
        See :class:`FullyConnectedConv`.
    """

    def __init__(self, channels, size, k=4, init_std=0.02):
        super().__init__()
        self.fcc = FullyConnectedConv(channels, size, init_std)
        self.ccc = ChannelCorrespondenceConv(size[0] * size[1], k=k)

    def forward(self, x):
        """Apply the block to ``x`` of shape ``(N, channels, height, width)``."""
        return self.ccc(self.fcc(x))


# --------------------------------------------------------------------------------------
# optical flow head (FlowNetC-style)
# --------------------------------------------------------------------------------------
def correlation(f1, f2, patch_size=21, dilation=2):
    """FlowNetC correlation of two feature maps (pure torch).

    Parameters
    ----------
    f1, f2 : torch.Tensor of shape (N, C, H, W)
        Feature maps.
    patch_size : int, default=21
        Displacements per axis (odd).
    dilation : int, default=2
        Step between displacements: they range over
        ``[-(patch_size // 2) * dilation, (patch_size // 2) * dilation]``.

    Returns
    -------
    corr : torch.Tensor of shape (N, patch_size ** 2, H, W)
        ``corr[:, iy * patch_size + ix, y, x] = mean_c f1[c, y, x] * f2[c, y + dy,
        x + dx]`` (zero outside ``f2``), then a leaky ReLU (slope 0.1).

    Examples
    --------
    >>> import torch
    >>> f = torch.ones(1, 2, 3, 3)
    >>> correlation(f, f, patch_size=3, dilation=1)[0, :, 1, 1].tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    """
    n, c, h, w = f1.shape
    r = (patch_size // 2) * dilation
    f2p = F.pad(f2, (r, r, r, r))
    rows = []
    for i in range(patch_size):
        dy = i * dilation
        window = f2p[:, :, dy : dy + h].unfold(3, w, dilation)  # (N, C, H, P, W)
        rows.append(torch.einsum("nchw,nchpw->nphw", f1, window))
    corr = torch.stack(rows, dim=1).reshape(n, patch_size * patch_size, h, w)
    return F.leaky_relu(corr / c, 0.1)


def _conv_bn(c_in, c_out, kernel_size=3, stride=1):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size, stride, padding=(kernel_size - 1) // 2,
                  bias=False),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.1, inplace=True),
    )


def _deconv(c_in, c_out):
    return nn.Sequential(
        nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
        nn.LeakyReLU(0.1, inplace=True),
    )


def _crop_like(x, target):
    return x[:, :, : target.shape[2], : target.shape[3]]


class _FlowHead(nn.Module):
    """FlowNetC-style flow decoder fed with the frames and the F5C features."""

    def __init__(self, ch, feature_channels, patch_size=21, dilation=2):
        super().__init__()
        self.patch_size = patch_size
        self.dilation = dilation
        self.conv1 = _conv_bn(1, ch(64), 6, 2)
        self.conv2 = _conv_bn(ch(64), ch(128), 4, 2)
        self.conv3 = _conv_bn(ch(128), ch(256), 2, 2)
        self.conv_redir = _conv_bn(ch(256), ch(32), 1, 1)
        c_in = ch(32) + patch_size**2 + 2 * feature_channels
        self.conv3_1 = _conv_bn(c_in, ch(256))
        self.conv4 = _conv_bn(ch(256), ch(512), stride=2)
        self.conv4_1 = _conv_bn(ch(512), ch(512))
        self.conv5 = _conv_bn(ch(512), ch(512), stride=2)
        self.conv5_1 = _conv_bn(ch(512), ch(512))
        self.conv6 = _conv_bn(ch(512), ch(1024), stride=2)
        self.conv6_1 = _conv_bn(ch(1024), ch(1024))
        self.deconv5 = _deconv(ch(1024), ch(512))
        c5 = ch(512) + ch(512) + 2
        self.deconv4 = _deconv(c5, ch(256))
        c4 = ch(512) + ch(256) + 2
        self.deconv3 = _deconv(c4, ch(128))
        c3 = ch(256) + ch(128) + 2
        self.deconv2 = _deconv(c3, ch(128))
        c2 = ch(128) + ch(128) + 2
        self.deconv1 = _deconv(c2, ch(64))
        c1 = ch(64) + ch(64) + 2
        self.deconv0 = _deconv(c1, ch(32))
        c0 = 1 + ch(32) + 2
        self.predict = nn.ModuleList(
            nn.Conv2d(c, 2, 3, 1, 1, bias=False)
            for c in (ch(1024), c5, c4, c3, c2, c1, c0)
        )
        self.upsample = nn.ModuleList(
            nn.ConvTranspose2d(2, 2, 4, 2, 1, bias=False) for _ in range(6)
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                nn.init.kaiming_normal_(m.weight, 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def encode(self, frames):
        """Encode single frames ``(N, 1, H, W)`` with the siamese encoder."""
        c1 = self.conv1(frames)
        c2 = self.conv2(c1)
        return c1, c2, self.conv3(c2)

    def forward(self, frame_1, enc_1, enc_2, features):
        """Flow from frame 1 to frame 2 at the input resolution ``(N, 2, H, W)``."""
        c1a, c2a, c3a = enc_1
        c3b = enc_2[2]
        corr = correlation(c3a, c3b, self.patch_size, self.dilation)
        x = self.conv3_1(torch.cat((self.conv_redir(c3a), corr, features), dim=1))
        c3 = x
        c4 = self.conv4_1(self.conv4(c3))
        c5 = self.conv5_1(self.conv5(c4))
        c6 = self.conv6_1(self.conv6(c5))
        skips = (c5, c4, c3, c2a, c1a, frame_1)
        deconvs = (self.deconv5, self.deconv4, self.deconv3, self.deconv2,
                   self.deconv1, self.deconv0)
        x = c6
        for i, (skip, deconv) in enumerate(zip(skips, deconvs)):
            flow = self.predict[i](x)
            up = _crop_like(self.upsample[i](flow), skip)
            x = torch.cat((skip, _crop_like(deconv(x), skip), up), dim=1)
        return self.predict[-1](x)


# --------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------
class MOL(nn.Module):
    """MOL: micro-expression, optical flow and landmarks from raw frames [1]_.

    A shared stem of four strided convolutions maps every grey frame to a
    ``C``-channel feature map (``C = 128``, 16x16 for 128x128 frames). For every
    pair of consecutive frames ``(t, t + 1)``, frame ``t`` goes through one branch
    of ``depth`` F5C blocks and frame ``t + 1`` through another (as in the authors'
    code: two F5C branches with their own weights). The ``2 (T - 1)`` pair features,
    stacked in time, feed the recognition head (a 3-D CNN); the features of frame
    ``t + 1`` feed the landmark head; the frames and both features feed a
    FlowNetC-style decoder that predicts the flow from ``t`` to ``t + 1``.

    Parameters
    ----------
    n_classes : int, default=3
        Number of micro-expression classes.
    n_frames : int, default=8
        Frames per clip (at least 4; the paper uses 8).
    input_size : tuple of (int, int), default=(128, 128)
        ``(height, width)`` of the frames; see :func:`check_mol_input_size`.
    width : float, default=1.0
        Multiplies every channel count (1.0 is the paper's network; e.g. 0.125
        for a tiny test network).
    depth : int, default=1
        F5C blocks in each of the two branches (the paper: 1).
    k : int, default=4
        Neighbours of the channel correspondence graph.
    corr_patch_size : int, default=21
        Displacements per axis of the flow head's correlation layer.
    corr_dilation : int, default=2
        Step between those displacements (feature pixels).
    dropout : float, default=0.5
        Dropout of the recognition head.
    init_std : float, default=0.02
        Standard deviation of the initial position embeddings and kernel biases
        of the FCC blocks; 1.0 reproduces the authors' code (see Notes).

    Attributes
    ----------
    feature_shape : tuple of int
        ``(channels, height, width)`` of the F5C features.

    See Also
    --------
    skmer.models.MOLClassifier : The scikit-learn classifier that trains it.

    Notes
    -----
    Sources: the paper [1]_ (its abstract; the body was not available to us) and
    the authors' released code (``github.com/CYF-cuber/MOL``). Where they differ
    or leave a detail open, skmer chooses as follows:

    - Stem: 1->8 (4x4, stride 2), 8->32 (3x3, stride 2), 32->64 (2x2, stride 2,
      padding 1), 64->128 (1x1) convolutions with no activation in between, as in
      the code.
    - FCC: the code's ParC-style block (position embeddings, pre-BatchNorm,
      depthwise global circular convolutions H->W on one half of the channels and
      W->H on the other, residual). The code keeps 32-long "meta" kernels and crops
      them to the map (16); skmer's kernels are exactly as long as the map, which
      is the same function with no unused weights. The code defines a
      feed-forward layer that its forward never calls; skmer leaves it out.
      The code draws the position embeddings and kernel biases from N(0, 1);
      the (linear) stem's output is about 0.05 in scale, so they swamp it and
      training stalls on small data (12 easy clips, ``width=0.125``: the loss
      fell from 1.22 to 1.08 in 25 epochs at lr 2e-3, against 1.11 to 0.002
      in 12 epochs at lr 1e-2 with 0.02). skmer draws them from
      N(0, 0.02**2) (ViT's convention) by default; ``init_std=1.0`` restores
      the code's.
    - CCC: the paper's graph over *channels* (nodes = channels, node features =
      flattened maps, k-NN by cosine similarity, EdgeConv with max aggregation,
      ``k = 4``, the default of the code's k-NN). The released code transposes
      the layout so that its k-NN compares spatial positions, and subtracts the
      centre node twice; skmer follows the paper's description instead.
    - Flow head: FlowNetC with BatchNorm, correlation of patch 21 and dilation 2
      (implemented in pure torch instead of the ``spatial_correlation_sampler``
      extension), fed with ``conv_redir``, the correlation and both F5C features;
      only the full-resolution flow is supervised, as in the code.
    - Landmark head: 3x3 convolution to 32 channels, ReLU, 512 hidden units, 136
      outputs, from the features of frame ``t + 1`` (frames 1 .. T-1). It
      predicts normalised coordinates (:func:`landmarks_to_normalized`) rather
      than pixels, which only rescales the target.
    - Recognition head: a 3-D convolution of kernel 5 (time) x 2 x 2, stride
      (1, 2, 2) to 32 channels, 2x2x2 max pooling (``ceil_mode`` so that inputs
      down to 24x24 work; identical at 128x128), dropout 0.5, 256 hidden units,
      dropout, ``n_classes`` logits.

    Parameter count: 44,086,685 at the paper's size (``width=1``, 8x128x128,
    3 classes; tested), 90 % of it in the flow head. The authors' code holds
    44,104,865 for the same setting: 8,192 more per FCC in kernel and embedding
    rows it crops away (16,384) and 898 per FCC in its unused feed-forward layer
    (1,796); the paper's text was not available to compare.

    References
    ----------
    .. [1] Z. Shao, Y. Cheng, F. Li, Y. Zhou, X. Lu, Y. Xie and L. Ma, "MOL: Joint
       Estimation of Micro-Expression, Optical Flow, and Landmark via
       Transformer-Graph-Style Convolution", IEEE TPAMI, 2025,
       :doi:`10.1109/TPAMI.2025.3581162` (arXiv:2506.14511).

    Examples
    --------
    >>> import torch
    >>> net = MOL(n_classes=3, input_size=(32, 32), width=0.125, corr_patch_size=3)
    >>> logits, flow, landmarks = net(torch.zeros(2, 1, 8, 32, 32))
    >>> logits.shape, flow.shape, landmarks.shape
    (torch.Size([2, 3]), torch.Size([2, 7, 2, 32, 32]), torch.Size([2, 7, 68, 2]))
    """

    def __init__(self, n_classes: int = 3, n_frames: int = 8,
                 input_size: tuple[int, int] = (128, 128), width: float = 1.0,
                 depth: int = 1, k: int = 4, corr_patch_size: int = 21,
                 corr_dilation: int = 2, dropout: float = 0.5,
                 init_std: float = 0.02) -> None:
        super().__init__()
        if int(n_classes) < 1:
            raise ValueError(f"n_classes must be >= 1; got {n_classes}.")
        if int(n_frames) < 4:
            raise ValueError(
                f"MOL needs n_frames >= 4 (its recognition head convolves 5 of the "
                f"2 (T - 1) pair features); got {n_frames}."
            )
        if not width > 0:
            raise ValueError(f"width must be > 0; got {width}.")
        if int(depth) < 1:
            raise ValueError(f"depth must be >= 1; got {depth}.")
        if int(k) < 1:
            raise ValueError(f"k must be >= 1; got {k}.")
        if int(corr_patch_size) < 1 or int(corr_patch_size) % 2 == 0:
            raise ValueError(
                f"corr_patch_size must be a positive odd int; got {corr_patch_size}.")
        h, w = check_mol_input_size(input_size)
        self.n_classes = int(n_classes)
        self.n_frames = int(n_frames)
        self.input_size = (h, w)

        def ch(n):
            return max(2, int(round(n * width)))

        c = 2 * max(1, int(round(64 * width)))  # even, for the FCC's two halves
        fh, fw = _stem_size(h), _stem_size(w)
        self.feature_shape = (c, fh, fw)
        self.stem = nn.Sequential(
            nn.Conv2d(1, ch(8), 4, 2),
            nn.Conv2d(ch(8), ch(32), 3, 2),
            nn.Conv2d(ch(32), ch(64), 2, 2, padding=1),
            nn.Conv2d(ch(64), c, 1, 1),
        )
        self.branch_1 = nn.Sequential(*(F5CBlock(c, (fh, fw), k, init_std)
                                        for _ in range(int(depth))))
        self.branch_2 = nn.Sequential(*(F5CBlock(c, (fh, fw), k, init_std)
                                        for _ in range(int(depth))))
        self.flow_head = _FlowHead(ch, c, int(corr_patch_size), int(corr_dilation))
        # landmark head
        self.landmark_conv = nn.Conv2d(c, ch(32), 3)
        self.landmark_fc = nn.Sequential(
            nn.Linear(ch(32) * (fh - 2) * (fw - 2), ch(512)),
            nn.ReLU(),
            nn.Linear(ch(512), 2 * N_LANDMARKS),
        )
        # recognition head, on (N, C, 2 (T - 1), fh, fw)
        self.mer_conv = nn.Conv3d(c, ch(32), (5, 2, 2), stride=(1, 2, 2))
        self.mer_pool = nn.MaxPool3d(2, ceil_mode=True)
        t_out = math.ceil((2 * (self.n_frames - 1) - 4) / 2)
        h_out = math.ceil(((fh - 2) // 2 + 1) / 2)
        w_out = math.ceil(((fw - 2) // 2 + 1) / 2)
        self.mer_fc = nn.Sequential(
            nn.Dropout(dropout),
            nn.Flatten(),
            nn.Linear(ch(32) * t_out * h_out * w_out, ch(256)),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(ch(256), self.n_classes),
        )

    def _check_input(self, x):
        if x.ndim != 5 or x.shape[1] != 1:
            raise ValueError(
                "MOL expects grey clips of shape (N, 1, T, H, W); got "
                f"{tuple(x.shape)}."
            )
        if x.shape[2] != self.n_frames or tuple(x.shape[3:]) != self.input_size:
            raise ValueError(
                f"MOL was built for clips of {self.n_frames} frames of "
                f"{self.input_size[0]}x{self.input_size[1]} pixels; got "
                f"{tuple(x.shape[2:])}."
            )

    def forward(self,
                x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run the three heads.

        Parameters
        ----------
        x : torch.Tensor of shape (N, 1, T, H, W)
            Grey clips (normalised pixels).

        Returns
        -------
        logits : torch.Tensor of shape (N, n_classes)
            Micro-expression logits.
        flow : torch.Tensor of shape (N, T - 1, 2, H, W)
            Flow from frame ``t`` to ``t + 1`` (``u``, ``v``) in input pixels.
        landmarks : torch.Tensor of shape (N, T - 1, 68, 2)
            Landmarks ``(x, y)`` of frames 1 .. T-1, normalised coordinates.
        """
        self._check_input(x)
        n, _, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(n * t, 1, h, w)
        if frames.is_cuda:
            frames = frames.contiguous(memory_format=torch.channels_last)
        feats = self.stem(frames)
        c, fh, fw = feats.shape[1:]
        feats = feats.reshape(n, t, c, fh, fw)
        first = self.branch_1(feats[:, :-1].reshape(n * (t - 1), c, fh, fw))
        second = self.branch_2(feats[:, 1:].reshape(n * (t - 1), c, fh, fw))
        # recognition: [f1(x0), f2(x1), f1(x1), f2(x2), ...] along time
        seq = torch.stack((first.reshape(n, t - 1, c, fh, fw),
                           second.reshape(n, t - 1, c, fh, fw)), dim=2)
        seq = seq.reshape(n, 2 * (t - 1), c, fh, fw).transpose(1, 2)
        logits = self.mer_fc(self.mer_pool(self.mer_conv(seq)))
        # landmarks of frames 1 .. T-1
        lm = F.relu(self.landmark_conv(second)).flatten(1)
        landmarks = self.landmark_fc(lm).reshape(n, t - 1, N_LANDMARKS, 2)
        # flow between consecutive frames
        enc = self.flow_head.encode(frames)
        enc = [e.reshape(n, t, *e.shape[1:]) for e in enc]
        enc_1 = [e[:, :-1].reshape(n * (t - 1), *e.shape[2:]) for e in enc]
        enc_2 = [e[:, 1:].reshape(n * (t - 1), *e.shape[2:]) for e in enc]
        frame_1 = frames.reshape(n, t, 1, h, w)[:, :-1].reshape(n * (t - 1), 1, h, w)
        flow = self.flow_head(frame_1, enc_1, enc_2,
                              torch.cat((first, second), dim=1))
        return logits, flow.reshape(n, t - 1, 2, h, w), landmarks


@register_model()
def mol(*, weights: str | os.PathLike | Mapping | None = None, **kwargs) -> MOL:
    """Build :class:`MOL` (weights are never downloaded).

    Parameters
    ----------
    weights : str, path-like, mapping or None, default=None
        A local state dict to load (``torch.load(..., weights_only=True)``).
    **kwargs
        Arguments of :class:`MOL`.

    Returns
    -------
    model : MOL
        The network.

    Examples
    --------
    >>> net = mol(n_classes=5, input_size=(32, 32), width=0.125)
    >>> net.mer_fc[-1].out_features
    5
    """
    model = MOL(**kwargs)
    if weights is not None:
        load_weights(model, weights)
    return model
