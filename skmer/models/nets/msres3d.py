"""MSRes3D: multi-scale 3-D residual CNN on stacked optical flow (Jin et al., 2024)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional as F

from skmer.models.nets._api import load_weights, register_model

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

__all__ = [
    "MSRes3D",
    "msres3d",
    "MultiHeadCrossEntropyLoss",
    "TemporalSpatialAttention",
    "MultiScaleBlock",
    "ChannelAttention",
    "AttentionFeatureFusion",
    "mean_softmax",
    "min_input_size",
    "select_confident_head",
]

_BASE_WIDTHS = (64, 128, 256, 512)
_UNITS = (3, 4, 6, 3)  # residual units of blocks 2-5 (6, 8, 12 and 6 conv layers)


def min_input_size(temporal_strides=True):
    """Smallest ``(n_frames, height, width)`` that :class:`MSRes3D` accepts.

    The network halves the spatial size five times (block 1's stride-2
    convolution, the max-pooling that opens block 2, and blocks 3, 4 and 5) and,
    with ``temporal_strides=True``, the number of frames four times (all but
    block 1). An input is accepted when the input of the last stage (block 5) is
    still at least 2 along every downsampled axis, i.e. when no stride-2 stage
    before the last one sees a single position, whose output would be computed
    from zero padding rather than from the input. Each stride-2 stage maps a size
    ``s`` to ``ceil(s / 2)``, so the condition is ``ceil(H / 16) >= 2``
    (``H >= 17``) spatially and ``ceil(T / 8) >= 2`` (``T >= 9``) in time.

    Parameters
    ----------
    temporal_strides : bool, default=True
        Whether the network downsamples the time axis (see :class:`MSRes3D`).

    Returns
    -------
    size : tuple of int
        ``(min_frames, min_height, min_width)``: ``(9, 17, 17)`` with temporal
        strides, ``(1, 17, 17)`` without.

    Examples
    --------
    >>> min_input_size()
    (9, 17, 17)
    >>> min_input_size(temporal_strides=False)
    (1, 17, 17)
    """
    return (9 if temporal_strides else 1), 17, 17


def _single_frame_tap(x, kernel, stride, padding, dilation, out_t):
    """Return the temporal tap that alone sees a one-frame input, or ``None``.

    With ``T = 1`` and an output of one frame, every temporal tap of a 3-D
    kernel but one meets the zero padding; the convolution is then exactly the
    2-D convolution with that tap's slice of the kernel.
    """
    if x.shape[2] != 1 or out_t != 1 or dilation[0] != 1:
        return None
    tap = padding[0]
    return tap if tap < kernel[0] else None


class _Conv3d(nn.Conv3d):
    """``nn.Conv3d`` (same parameters and state dict) with a one-frame fast path.

    On single flow images (``T = 1``, the MEGC2019 composite) a 3-D convolution
    spends most of its work, and most of its backward pass, on the zero
    padding of the time axis: this runs the equivalent 2-D convolution with the
    one live temporal slice of the kernel instead (a third of the multiply-adds
    for ``k_t = 3``; a whole training step at 28x28 on a CPU is 1.1-1.4x
    faster, ``benchmarks/msres3d_single_frame.py``; the same result up to float
    rounding; the other slices get the zero gradient they would get anyway).
    """

    def forward(self, x):
        if self.padding_mode == "zeros" and not isinstance(self.padding, str):
            out_t = (x.shape[2] + 2 * self.padding[0] - self.kernel_size[0]) \
                // self.stride[0] + 1
            tap = _single_frame_tap(x, self.kernel_size, self.stride, self.padding,
                                    self.dilation, out_t)
            if tap is not None:
                return F.conv2d(x[:, :, 0], self.weight[:, :, tap], self.bias,
                                self.stride[1:], self.padding[1:],
                                self.dilation[1:], self.groups).unsqueeze(2)
        return super().forward(x)


class _ConvTranspose3d(nn.ConvTranspose3d):
    """``nn.ConvTranspose3d`` with the one-frame fast path of :class:`_Conv3d`."""

    def forward(self, x, output_size=None):
        output_padding = self._output_padding(
            x, output_size, self.stride, self.padding, self.kernel_size, 3,
            self.dilation)
        out_t = ((x.shape[2] - 1) * self.stride[0] - 2 * self.padding[0]
                 + self.dilation[0] * (self.kernel_size[0] - 1)
                 + output_padding[0] + 1)
        tap = _single_frame_tap(x, self.kernel_size, self.stride, self.padding,
                                self.dilation, out_t)
        if tap is None:
            return super().forward(x, output_size)
        return F.conv_transpose2d(
            x[:, :, 0], self.weight[:, :, tap], self.bias, self.stride[1:],
            self.padding[1:], output_padding[1:], self.groups,
            self.dilation[1:]).unsqueeze(2)


def _conv_bn(in_ch, out_ch, kernel, stride=1, relu=True):
    kernel = (kernel,) * 3 if isinstance(kernel, int) else tuple(kernel)
    padding = tuple(k // 2 for k in kernel)
    layers = [
        _Conv3d(in_ch, out_ch, kernel, stride=stride, padding=padding, bias=False),
        nn.BatchNorm3d(out_ch),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _BasicUnit(nn.Module):
    """Residual unit of two 3x3x3 convolutions (with a 1x1x1 projection shortcut)."""

    def __init__(self, in_ch, out_ch, stride=1):
        super().__init__()
        self.conv1 = _conv_bn(in_ch, out_ch, 3, stride=stride)
        self.conv2 = _conv_bn(out_ch, out_ch, 3, relu=False)
        self.shortcut = None
        if stride != 1 and stride != (1, 1, 1) or in_ch != out_ch:
            self.shortcut = _conv_bn(in_ch, out_ch, 1, stride=stride, relu=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        identity = x if self.shortcut is None else self.shortcut(x)
        return self.relu(self.conv2(self.conv1(x)) + identity)


class TemporalSpatialAttention(nn.Module):
    """Temporal, then spatial, attention on a ``(N, C, T, H, W)`` feature map.

    Temporal attention: every frame is described by the spatial average and the
    spatial maximum of each channel; a shared two-layer 1x1 perceptron
    (``C -> C / reduction -> 1``) scores both descriptors, their sum goes through
    a sigmoid and rescales the frame. Spatial attention (as in CBAM): the channel
    mean and channel maximum of each position go through a ``1 x k x k``
    convolution and a sigmoid that rescales the position. Both work for any
    number of frames, including one.

    Parameters
    ----------
    channels : int
        Channels ``C`` of the feature map.
    reduction : int, default=16
        Channel reduction of the temporal scorer.
    spatial_kernel : int, default=7
        Spatial kernel size of the spatial attention convolution (odd).
    """

    def __init__(self, channels, reduction=16, spatial_kernel=7):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.temporal = nn.Sequential(
            nn.Conv1d(channels, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv1d(hidden, 1, 1),
        )
        k = spatial_kernel
        self.spatial = _Conv3d(2, 1, (1, k, k), padding=(0, k // 2, k // 2))

    def forward(self, x):
        """Return ``x`` rescaled by its temporal and spatial attention maps."""
        score = self.temporal(x.mean(dim=(3, 4))) + self.temporal(x.amax(dim=(3, 4)))
        x = x * torch.sigmoid(score)[:, :, :, None, None]
        desc = torch.cat(
            (x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)), dim=1
        )
        return x * torch.sigmoid(self.spatial(desc))


class _GlobalBranch(nn.Module):
    """Global average pooling over ``(H, W)``, broadcast back to the input's shape.

    The fourth branch of RC1 and RC2 and the fourth branch of RC3 (Jin et al.
    2024, Sec. 3, text of Figs. 4-6: "a global average pooling layer"): no
    parameters; its fusion weight scales it.
    """

    def forward(self, x):
        return [x.mean(dim=(3, 4), keepdim=True).expand_as(x)]


class _Branch(nn.Module):
    """A sequential trunk followed by one or more parallel output convolutions."""

    def __init__(self, trunk, heads):
        super().__init__()
        self.trunk = trunk
        self.heads = nn.ModuleList(heads)

    def forward(self, x):
        x = self.trunk(x)
        return [head(x) for head in self.heads]


def _factorised(in_ch, out_ch, n, relu_last=True):
    """``1 x 1 x n``, ``1 x n x 1``, ``n x 1 x 1`` convolutions (a factorised n^3)."""
    return nn.Sequential(
        _conv_bn(in_ch, out_ch, (1, 1, n)),
        _conv_bn(out_ch, out_ch, (1, n, 1)),
        _conv_bn(out_ch, out_ch, (n, 1, 1), relu=relu_last),
    )


class MultiScaleBlock(nn.Module):
    """Multi-scale module RC1, RC2 or RC3 with adaptively weighted branch fusion.

    The module's paths ``P_i`` (all ``C -> C`` channels, sizes kept by zero
    padding) read the same input ``X``; their outputs are fused with learnable
    scalar weights, ``K = sum_i w_i P_i(X)`` (eq. 3.8 of [1]_ for the four
    outputs of RC1 and RC2, eq. 3.9 for the eight outputs of RC3), and the module
    returns ``ReLU(X + K)``. The weights are plain parameters updated by
    back-propagation ("updated by network adaptive learning"), not normalised
    (the paper gives no normalisation); they start equal, ``w_i = 1 / n_paths``.

    ``kind="rc1"`` (Fig. 4): 1x1x1; 1x1x1 -> 3x3x3; 1x1x1 -> 3x3x3 -> 3x3x3 (two
    stacked 3x3x3 in place of a 5x5x5); global average pooling (4 paths).

    ``kind="rc2"`` (Fig. 5): 1x1x1; global average pooling; 1x1x1 -> (1x1x7,
    1x7x1, 7x1x1), the factorised 7x7x7; 1x1x1 -> two such factorised stacks
    (the paper's replacement of a 9x9x9) (4 paths).

    ``kind="rc3"`` (Fig. 6): branch 1, 1x1x1 -> (1x1x3, 1x3x1, 3x1x1) -> three
    parallel directional convolutions 1x1x3 (transverse), 1x3x1 (longitudinal)
    and 3x1x1 (radial); branch 2, 1x1x1 -> the same three directional
    convolutions; branch 3, 1x1x1; branch 4, global average pooling: eight
    outputs from four branches (8 paths).

    Parameters
    ----------
    channels : int
        Input and output channels ``C``.
    kind : {"rc1", "rc2", "rc3"}
        Which module.
    reduction : int, default=2
        Inner paths work on ``C / reduction`` channels (the 1x1x1 dimensionality
        reduction; the paper gives no ratio).

    Attributes
    ----------
    branches : torch.nn.ModuleList
        The branches; each returns a list of path outputs.
    branch_weights : torch.nn.Parameter of shape (n_paths,)
        The fusion weights ``w_i`` (``alpha, beta, gamma, delta, ...`` of eqs.
        3.8-3.9).

    Notes
    -----
    Jin et al. 2024, Sec. 3, eqs. 3.8-3.9 and Figs. 4-6. skmer's choices where
    the text is silent or inconsistent: the module keeps an identity shortcut,
    ``ReLU(X + K)`` (the modules are "integrated into" residual blocks; the
    figures are not in the text we have); the inner paths reduce to ``C / 2``
    channels with a 1x1x1 convolution and expand back with their last
    convolution (RC2's factorised paths with a final 1x1x1); the pooling branch
    averages over space only ("global spatial information") and is broadcast
    back; RC2's fourth branch stacks two factorised 7x7x7 as the text says,
    a 13x13x13 receptive field although the text calls it a replacement of a
    9x9x9; eq. 3.9 writes the eighth output without a weight, here all eight
    have one; "depth-separable" is read as the factorisation into 1-D kernels
    that the text describes (full convolutions, not depthwise).

    References
    ----------
    .. [1] H. Jin, N. He, Z. Li and P. Yang, "Micro-expression recognition based
       on multi-scale 3D residual convolutional neural network", Mathematical
       Biosciences and Engineering 21(4), 5007-5031, 2024,
       :doi:`10.3934/mbe.2024221`.

    Examples
    --------
    >>> import torch
    >>> rc3 = MultiScaleBlock(8, "rc3")
    >>> rc3.branch_weights.shape
    torch.Size([8])
    >>> rc3(torch.zeros(1, 8, 2, 5, 5)).shape
    torch.Size([1, 8, 2, 5, 5])
    """

    def __init__(self, channels, kind, reduction=2):
        super().__init__()
        c, m = channels, max(channels // reduction, 1)

        def reduce_():
            return _conv_bn(c, m, 1)

        def directional():
            return [_conv_bn(m, c, k, relu=False)
                    for k in ((1, 1, 3), (1, 3, 1), (3, 1, 1))]

        if kind == "rc1":
            branches = [
                _Branch(nn.Identity(), [_conv_bn(c, c, 1, relu=False)]),
                _Branch(reduce_(), [_conv_bn(m, c, 3, relu=False)]),
                _Branch(nn.Sequential(reduce_(), _conv_bn(m, m, 3)),
                        [_conv_bn(m, c, 3, relu=False)]),
                _GlobalBranch(),
            ]
        elif kind == "rc2":
            branches = [
                _Branch(nn.Identity(), [_conv_bn(c, c, 1, relu=False)]),
                _GlobalBranch(),
                _Branch(nn.Sequential(reduce_(), _factorised(m, m, 7)),
                        [_conv_bn(m, c, 1, relu=False)]),
                _Branch(nn.Sequential(reduce_(), _factorised(m, m, 7),
                                      _factorised(m, m, 7)),
                        [_conv_bn(m, c, 1, relu=False)]),
            ]
        elif kind == "rc3":
            branches = [
                _Branch(nn.Sequential(reduce_(), _factorised(m, m, 3)),
                        directional()),
                _Branch(reduce_(), directional()),
                _Branch(nn.Identity(), [_conv_bn(c, c, 1, relu=False)]),
                _GlobalBranch(),
            ]
        else:
            raise ValueError(f"kind must be 'rc1', 'rc2' or 'rc3'; got {kind!r}.")
        self.kind = kind
        self.branches = nn.ModuleList(branches)
        n_paths = sum(len(getattr(b, "heads", [None])) for b in branches)
        self.branch_weights = nn.Parameter(torch.full((n_paths,), 1.0 / n_paths))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        """Return ``ReLU(x + sum_i w_i P_i(x))``."""
        paths = [p for branch in self.branches for p in branch(x)]
        k = sum(w.to(p.dtype) * p
                for w, p in zip(self.branch_weights, paths, strict=True))
        return self.relu(x + k)


class _PooledBatchNorm(nn.BatchNorm3d):
    """BatchNorm of pooled ``(N, C, 1, 1, 1)`` maps that also takes one sample.

    With a single value per channel (a training batch of one sample, e.g. the
    last mini-batch of an epoch) batch statistics do not exist; that batch is
    then normalised with the running statistics instead of raising.
    """

    def forward(self, x):
        if self.training and x.numel() == x.shape[1]:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight,
                                self.bias, False, 0.0, self.eps)
        return super().forward(x)


def _cam_branch(channels, hidden):
    return nn.Sequential(
        nn.Conv3d(channels, hidden, 1, bias=False), _PooledBatchNorm(hidden),
        nn.ReLU(inplace=True),
        nn.Conv3d(hidden, channels, 1, bias=False), _PooledBatchNorm(channels),
    )


class ChannelAttention(nn.Module):
    """Channel attention map (CAM) ``M(X) = sigmoid(L_avg(X) + L_max(X))``.

    Eq. 3.10 of Jin et al. (2024): ``L_avg(X) = B(f(ReLU(B(f(AvgPool(X))))))``,
    where ``f`` are 1x1x1 (point-wise) convolutions, the first reducing the
    channels to ``C / r`` and the second restoring them, and ``B`` batch
    normalisation; the second branch ``L_max`` is the same on global max
    pooling, with its own convolutions. Pooling is over ``(T, H, W)``; the
    output has shape ``(N, C, 1, 1, 1)``.

    Parameters
    ----------
    channels : int
        Channels ``C``.
    reduction : int, default=16
        Channel scaling ratio ``r``: hidden width ``max(C // r, 1)`` (the paper
        gives no value).

    Attributes
    ----------
    avg_branch, max_branch : torch.nn.Sequential
        ``L_avg`` and ``L_max`` (convolution, BN, ReLU, convolution, BN).

    Notes
    -----
    A training batch of a single sample is normalised with the running
    statistics (batch statistics of one value per channel do not exist).
    """

    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.avg_branch = _cam_branch(channels, hidden)
        self.max_branch = _cam_branch(channels, hidden)

    def forward(self, x):
        """Return the attention weights in (0, 1), shape ``(N, C, 1, 1, 1)``."""
        avg = x.mean(dim=(2, 3, 4), keepdim=True)
        mx = x.amax(dim=(2, 3, 4), keepdim=True)
        return torch.sigmoid(self.avg_branch(avg) + self.max_branch(mx))


class AttentionFeatureFusion(nn.Module):
    """Attention feature fusion (AFFA): two fusion operations of eq. 3.11.

    Eq. 3.11 of Jin et al. (2024), ``Z = M(X + Y) X + (1 - M(X + Y)) Y`` with
    ``M`` a :class:`ChannelAttention` map, applied twice as the paper says ("two
    attentional feature networks", "one AFFA corresponds to 2 fusion
    operations", "Z is the output after two fusion operations"): the first fusion
    ``Z1 = M1(X + Y) X + (1 - M1(X + Y)) Y`` replaces the plain sum in the second,
    ``Z = M2(Z1) X + (1 - M2(Z1)) Y`` (the iterative attentional feature fusion
    of Dai et al., WACV 2021).

    Parameters
    ----------
    channels : int
        Channels of ``X`` and ``Y``.
    reduction : int, default=16
        Reduction of the channel attention.

    Attributes
    ----------
    cam1, cam2 : ChannelAttention
        The attention maps of the first and the second fusion.
    """

    def __init__(self, channels, reduction=16):
        super().__init__()
        self.cam1 = ChannelAttention(channels, reduction)
        self.cam2 = ChannelAttention(channels, reduction)

    def forward(self, x, y):
        """Fuse two maps of one shape."""
        m1 = self.cam1(x + y)
        z1 = m1 * x + (1.0 - m1) * y
        m2 = self.cam2(z1)
        return m2 * x + (1.0 - m2) * y


class MSRes3D(nn.Module):
    """Multi-scale 3-D residual CNN (MSRes3D) for micro-expression recognition.

    A 3-D residual backbone reads stacked optical-flow maps ``(N, C, T, H, W)``
    (the paper: 16 flow frames of 134x134):

    - block 1: a 3x7x7 convolution (stride 1x2x2) -> BN -> ReLU, followed by a
      temporal + spatial attention module (:class:`TemporalSpatialAttention`);
    - blocks 2-5: 3x3x3 max-pooling (stride 2) then 3, 4, 6 and 3 residual units
      of two 3x3x3 convolutions (6, 8, 12 and 6 convolution layers), with
      ``64, 128, 256, 512`` channels times ``width``; blocks 3-5 start with
      stride 2;
    - the multi-scale modules RC1, RC2 and RC3 (:class:`MultiScaleBlock`) after
      blocks 2, 3 and 4;
    - the multi-scale temporal fusion: each of blocks 5, 4 and 3 is upsampled
      by a stride-2 transposed convolution to the size of the block before it
      and fused with that block by attention feature fusion
      (:class:`AttentionFeatureFusion`): ``AFFA(up(X5), X4)``, ``AFFA(up(X4),
      X3)``, ``AFFA(up(X3), X2)``;
    - four outputs (block 5's map and the three fused maps), each with two fully
      connected layers (global average pooling -> FC -> ReLU -> dropout -> FC);
      training takes a cross-entropy per output, and the discriminative rule
      :func:`select_confident_head` picks, for every sample, the output that
      decides.

    Parameters
    ----------
    in_channels : int, default=3
        Channels of the input (skmer's flow: u, v, optical strain).
    n_classes : int, default=3
        Number of output logits of each head.
    width : float, default=1.0
        Channel multiplier: blocks 1-5 get ``round(64 * width)``, ... ,
        ``round(512 * width)`` channels (at least 1).
    hidden_features : int, default=256
        Width of each head's first fully connected layer.
    dropout : float, default=0.5
        Dropout probability inside each head.
    temporal_strides : bool, default=True
        Downsample time with the space (strides 2x2x2). ``False`` keeps the time
        axis (strides 1x2x2): the variant for single flow images (``T = 1``), see
        Notes.
    reduction : int, default=16
        Channel reduction of the attention modules.

    Attributes
    ----------
    stem : torch.nn.Sequential
        Block 1's 3x7x7 convolution.
    attention : TemporalSpatialAttention
        The attention module after block 1.
    layer2, layer3, layer4, layer5 : torch.nn.Sequential
        Blocks 2-5.
    rc1, rc2, rc3 : MultiScaleBlock
        The multi-scale modules.
    up5, up4, up3 : torch.nn.ConvTranspose3d
        The transposed convolutions of the top-down path.
    fuse4, fuse3, fuse2 : AttentionFeatureFusion
        The AFFA modules.
    heads : torch.nn.ModuleList
        The four heads, deepest first (block 5, fused 4, fused 3, fused 2).
    n_heads : int
        4.

    See Also
    --------
    skmer.models.MSRes3DClassifier : the scikit-learn (skorch) classifier.

    Notes
    -----
    ``forward`` returns the logits of all heads as one tensor of shape
    ``(N, 4, n_classes)`` (deepest head first). Training sums the four heads'
    cross-entropies (:class:`MultiHeadCrossEntropyLoss`); the decision takes, for
    every sample, the softmax of the most confident head
    (:func:`select_confident_head`; :func:`mean_softmax`, the mean over the
    heads, is the alternative).

    With the defaults (3 input channels, 3 classes, ``width=1``) the network has
    69,748,328 trainable parameters (4,420,106 at ``width=0.25``); the count does
    not depend on the input size (global pooling before the heads).

    Sizes: every stride-2 stage maps a size ``s`` to ``ceil(s / 2)``. The
    paper's 16x134x134 input gives 16x67x67 after block 1, 8x34x34 (block 2),
    4x17x17, 2x9x9 and 1x5x5 (block 5). :func:`min_input_size` gives the smallest
    accepted input (9 frames, 17x17); smaller inputs raise a ``ValueError``.

    Single flow images (the MEGC2019 composite's onset-apex flow, ``(N, 3, H,
    W)``): a 4-D input is read as ``T = 1``. This needs ``temporal_strides=False``
    (otherwise 1 < 9 frames is refused): the time axis then stays 1 everywhere,
    and every 3-D kernel acts through its central temporal slice (the other
    slices meet the zero padding only), i.e. the network is its own 2-D
    counterpart with the same number of parameters (and it is run as such: on a
    one-frame input each 3-D convolution calls the 2-D convolution of its live
    temporal slice, the same result without the work on the padding). The
    spatial size is not changed: 28x28 images pass the 17x17 minimum (block 5
    sees 1x1), and upsampling them to the paper's 134x134 would multiply the cost
    by about 23 without adding information; resample beforehand to try it.

    Fidelity to Jin et al. 2024 [1]_ (Sec. 3; the network of Fig. 3). As in the
    paper: the 134x134x16 input it was designed for (any size from
    :func:`min_input_size` up is accepted); block 1 a 3x7x7 convolution; blocks
    2-5 with 6, 8, 12 and 6 convolution layers, every two forming a residual
    unit (the 3-4-6-3 layout of two-convolution units, although the paper calls
    the backbone "3D-ResNet50"); temporal and spatial attention after block 1;
    RC1, RC2 and RC3 after blocks 2, 3 and 4 with learned fusion weights (eqs.
    3.8-3.9, see :class:`MultiScaleBlock`); CAM (eq. 3.10) and the two-operation
    AFFA (eq. 3.11); the pairwise transposed-convolution fusion of blocks 5/4,
    4/3 and 3/2; four outputs with two fully connected layers and a
    cross-entropy each. skmer's choices where the text is silent: channel widths
    ``64, 128, 256, 512`` (times ``width``) and strides as in the 3-D ResNets of
    [2]_ (block 1 stride 1x2x2, a 3x3x3 max-pooling opening block 2, blocks 3-5
    stride 2), projection (1x1x1) shortcuts where the shape changes; the RC
    modules sit inline (their output feeds the next block and is the block's
    ``X_b`` in the fusion); the design of the temporal and spatial attention (a
    per-frame channel-pooled score, then CBAM's spatial map: the paper names
    them only); transposed convolutions 3x3x3, stride 2 (1x2x2 without temporal
    strides), followed by BN and ReLU, producing exactly the lateral map's size;
    the heads pool globally before their two fully connected layers (the paper
    applies the layers to the 5-D maps, whose flattened sizes would tie the
    parameter count to the input size: 151 M weights in the first layer of the
    block-2 head alone at 134x134x16), with a hidden width of 256 and dropout
    0.5; the rule choosing the output (the paper's "discriminative network"
    compares the four softmax outputs and their cross-entropies, which needs
    labels; at prediction the most confident output is taken, see
    :func:`select_confident_head`).

    References
    ----------
    .. [1] H. Jin, N. He, Z. Li and P. Yang, "Micro-expression recognition based
       on multi-scale 3D residual convolutional neural network", Mathematical
       Biosciences and Engineering 21(4), 5007-5031, 2024,
       :doi:`10.3934/mbe.2024221`.
    .. [2] K. Hara, H. Kataoka and Y. Satoh, "Can spatiotemporal 3D CNNs retrace
       the history of 2D CNNs and ImageNet?", CVPR 2018,
       :doi:`10.1109/CVPR.2018.00685`.

    Examples
    --------
    >>> import torch
    >>> net = MSRes3D(width=0.125, hidden_features=16).eval()
    >>> net(torch.zeros(2, 3, 9, 20, 20)).shape
    torch.Size([2, 4, 3])
    >>> flat = MSRes3D(width=0.125, hidden_features=16, temporal_strides=False)
    >>> flat.eval()(torch.zeros(2, 3, 28, 28)).shape
    torch.Size([2, 4, 3])
    """

    n_heads = 4

    def __init__(self, in_channels: int = 3, n_classes: int = 3, width: float = 1.0,
                 hidden_features: int = 256, dropout: float = 0.5,
                 temporal_strides: bool = True, reduction: int = 16) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.temporal_strides = temporal_strides
        c1, c2, c3, c4 = (max(int(round(b * width)), 1) for b in _BASE_WIDTHS)
        self.widths = (c1, c2, c3, c4)
        down = (2, 2, 2) if temporal_strides else (1, 2, 2)
        self.stem = nn.Sequential(
            _Conv3d(in_channels, c1, (3, 7, 7), stride=(1, 2, 2),
                      padding=(1, 3, 3), bias=False),
            nn.BatchNorm3d(c1),
            nn.ReLU(inplace=True),
        )
        self.attention = TemporalSpatialAttention(c1, reduction=reduction)
        self.pool = nn.MaxPool3d(3, stride=down, padding=1)
        self.layer2 = self._stage(c1, c1, _UNITS[0], 1)
        self.rc1 = MultiScaleBlock(c1, "rc1")
        self.layer3 = self._stage(c1, c2, _UNITS[1], down)
        self.rc2 = MultiScaleBlock(c2, "rc2")
        self.layer4 = self._stage(c2, c3, _UNITS[2], down)
        self.rc3 = MultiScaleBlock(c3, "rc3")
        self.layer5 = self._stage(c3, c4, _UNITS[3], down)
        self.up5 = _ConvTranspose3d(c4, c3, 3, stride=down, padding=1, bias=False)
        self.up4 = _ConvTranspose3d(c3, c2, 3, stride=down, padding=1, bias=False)
        self.up3 = _ConvTranspose3d(c2, c1, 3, stride=down, padding=1, bias=False)
        self.up_bn5 = nn.BatchNorm3d(c3)
        self.up_bn4 = nn.BatchNorm3d(c2)
        self.up_bn3 = nn.BatchNorm3d(c1)
        self.fuse4 = AttentionFeatureFusion(c3, reduction)
        self.fuse3 = AttentionFeatureFusion(c2, reduction)
        self.fuse2 = AttentionFeatureFusion(c1, reduction)
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.AdaptiveAvgPool3d(1), nn.Flatten(),
                nn.Linear(c, hidden_features), nn.ReLU(inplace=True),
                nn.Dropout(dropout), nn.Linear(hidden_features, n_classes),
            )
            for c in (c4, c3, c2, c1)
        )
        self._init_weights()

    @staticmethod
    def _stage(in_ch, out_ch, n_units, stride):
        units = [_BasicUnit(in_ch, out_ch, stride)]
        units += [_BasicUnit(out_ch, out_ch) for _ in range(n_units - 1)]
        return nn.Sequential(*units)

    def _init_weights(self):
        for mod in self.modules():
            if isinstance(mod, (nn.Conv3d, nn.ConvTranspose3d)):
                nn.init.kaiming_normal_(mod.weight, mode="fan_out",
                                        nonlinearity="relu")
            elif isinstance(mod, nn.BatchNorm3d):
                nn.init.ones_(mod.weight)
                nn.init.zeros_(mod.bias)
        # zero-init the last BN of each residual unit (the unit starts as identity)
        for mod in self.modules():
            if isinstance(mod, _BasicUnit):
                nn.init.zeros_(mod.conv2[1].weight)

    def _check_input(self, x):
        if x.ndim == 4:
            x = x.unsqueeze(2)
        if x.ndim != 5:
            raise ValueError(
                "MSRes3D takes a batch of shape (N, C, T, H, W) or, for single flow "
                f"images, (N, C, H, W); got shape {tuple(x.shape)}."
            )
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"MSRes3D was built for in_channels={self.in_channels} but the input "
                f"has {x.shape[1]} channels (shape {tuple(x.shape)})."
            )
        min_t, min_h, min_w = min_input_size(self.temporal_strides)
        t, h, w = x.shape[2:]
        if t < min_t or h < min_h or w < min_w:
            hint = (" Single images (T=1) need temporal_strides=False."
                    if self.temporal_strides and t < min_t else "")
            raise ValueError(
                f"MSRes3D(temporal_strides={self.temporal_strides}) needs at least "
                f"{min_t} frames and {min_h}x{min_w} pixels; got T={t}, H={h}, "
                f"W={w}.{hint}"
            )
        return x

    @staticmethod
    def _up(deconv, bn, x, like):
        return F.relu(bn(deconv(x, output_size=like.shape[2:])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits of the four heads, shape ``(N, 4, n_classes)``."""
        x = self._check_input(x)
        x = self.attention(self.stem(x))
        x2 = self.rc1(self.layer2(self.pool(x)))
        x3 = self.rc2(self.layer3(x2))
        x4 = self.rc3(self.layer4(x3))
        x5 = self.layer5(x4)
        # pairwise, not cascaded (Sec. 3): each block's own output is upsampled and
        # fused with the block before it
        f4 = self.fuse4(self._up(self.up5, self.up_bn5, x5, x4), x4)
        f3 = self.fuse3(self._up(self.up4, self.up_bn4, x4, x3), x3)
        f2 = self.fuse2(self._up(self.up3, self.up_bn3, x3, x2), x2)
        logits = [head(f) for head, f in zip(self.heads, (x5, f4, f3, f2),
                                             strict=True)]
        return torch.stack(logits, dim=1)


def mean_softmax(logits):
    """Alternative decision rule: the mean of the heads' softmax outputs.

    Parameters
    ----------
    logits : torch.Tensor of shape (N, n_heads, n_classes) or (N, n_classes)
        Head logits; a 2-D input is one head.

    Returns
    -------
    proba : torch.Tensor of shape (N, n_classes)
        Class probabilities (rows sum to 1).

    Examples
    --------
    >>> import torch
    >>> mean_softmax(torch.zeros(2, 4, 3))
    tensor([[0.3333, 0.3333, 0.3333],
            [0.3333, 0.3333, 0.3333]])
    """
    proba = torch.softmax(logits.float(), dim=-1)
    return proba.mean(dim=1) if proba.ndim == 3 else proba


def select_confident_head(logits):
    """Discriminative output selection of :class:`MSRes3D`: the most confident head.

    For every sample, the head whose softmax output has the highest top
    probability (equivalently, the lowest cross-entropy against its own
    decision) is chosen, and its softmax output is returned. Ties go to the
    deepest head (the first).

    Parameters
    ----------
    logits : torch.Tensor of shape (N, n_heads, n_classes) or (N, n_classes)
        Head logits; a 2-D input is one head.

    Returns
    -------
    proba : torch.Tensor of shape (N, n_classes)
        The chosen head's class probabilities (rows sum to 1).

    Notes
    -----
    Jin et al. 2024 (Sec. 3, "discriminative network", Fig. 9) pass each of the
    four outputs through two fully connected layers and a softmax and compute a
    cross-entropy per output, so that the optimal one of the four results can be
    chosen and given as the final result. The loss of an output needs the label;
    on unlabelled samples the comparable quantity is each output's cross-entropy
    against its own predicted class, ``-log max_c p_c``, and the output with the
    lowest one is chosen. The paper does not say more.

    Examples
    --------
    >>> import torch
    >>> logits = torch.zeros(1, 4, 3)
    >>> logits[0, 2] = torch.tensor([0.0, 3.0, 0.0])  # head 2 is the surest
    >>> select_confident_head(logits).argmax(dim=1).tolist()
    [1]
    """
    proba = torch.softmax(logits.float(), dim=-1)
    if proba.ndim == 2:
        return proba
    best = proba.amax(dim=-1).argmax(dim=1)  # first maximum: the deepest head
    return proba[torch.arange(proba.shape[0], device=proba.device), best]


class MultiHeadCrossEntropyLoss(nn.Module):
    """Sum of the cross-entropies of every head of a multi-head output.

    Jin et al. 2024 (Sec. 3, discriminative network) compute a cross-entropy
    loss for each of the four outputs; they do not say how the four are
    combined, and skmer trains on their sum (all outputs learn).

    Parameters
    ----------
    head_weights : sequence of float, default=None
        Weight of each head's loss; all 1 when None (the plain sum).
    **kwargs
        Passed to :class:`torch.nn.CrossEntropyLoss` (``weight=``,
        ``label_smoothing=``; ``reduction`` stays ``"mean"`` over the batch).

    Examples
    --------
    >>> import math
    >>> import torch
    >>> loss = MultiHeadCrossEntropyLoss()
    >>> out = loss(torch.zeros(2, 4, 3), torch.tensor([0, 2]))
    >>> round(float(out), 4) == round(4 * math.log(3), 4)
    True
    """

    def __init__(self, head_weights=None, **kwargs):
        super().__init__()
        self.head_weights = head_weights
        self.ce = nn.CrossEntropyLoss(**kwargs)

    def forward(self, logits, target):
        """Return ``sum_h w_h CE(logits[:, h], target)``."""
        if logits.ndim == 2:
            return self.ce(logits, target)
        n_heads = logits.shape[1]
        weights = self.head_weights or [1.0] * n_heads
        if len(weights) != n_heads:
            raise ValueError(
                f"head_weights has {len(weights)} entries for {n_heads} heads."
            )
        return sum(w * self.ce(logits[:, h].float(), target)
                   for h, w in enumerate(weights))


@register_model()
def msres3d(*, weights: str | os.PathLike | Mapping | None = None, **kwargs) -> MSRes3D:
    """Build an :class:`MSRes3D`, optionally loading local weights.

    Parameters
    ----------
    weights : str, os.PathLike, mapping or None, default=None
        A local state dict (path or mapping); never downloaded.
    **kwargs
        Passed to :class:`MSRes3D`.

    Returns
    -------
    model : MSRes3D
        The network.

    Examples
    --------
    >>> msres3d(width=0.125, n_classes=5).heads[0][-1].out_features
    5
    """
    model = MSRes3D(**kwargs)
    if weights is not None:
        load_weights(model, weights)
    return model

