"""STSTNet: shallow triple-stream CNN on optical-flow images (Liong et al., 2019)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from skmer.models.nets._api import load_weights, register_model

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

__all__ = ["STSTNet", "ststnet"]


def _pooled_size(size: int) -> int:
    # conv 3x3, padding 2 -> size + 2; max-pool 3 / stride 3 / padding 1; avg-pool 2 / 2
    size = size + 2
    size = (size + 2 * 1 - 3) // 3 + 1
    return size // 2


class STSTNet(nn.Module):
    """Shallow Triple Stream Three-dimensional CNN (STSTNet).

    Three parallel 3x3 convolution streams with 3, 5 and 8 filters (padding 2) read
    the same three-channel flow image; each stream is conv -> ReLU -> BatchNorm ->
    MaxPool(3, stride 3, padding 1) -> Dropout(0.5). The 16 stream maps are
    concatenated, average-pooled (2, stride 2), flattened and classified by one
    linear layer (400 -> ``n_classes`` for a 28x28 input).

    Parameters
    ----------
    in_channels : int, default=3
        Channels of the input image (skmer's flow images: u, v, optical strain).
    n_classes : int, default=3
        Number of output logits.
    input_size : tuple of int, default=(28, 28)
        ``(height, width)`` of the input; sets the input size of ``fc``.
    dropout : float, default=0.5
        Dropout probability after each stream's pooling.

    Attributes
    ----------
    conv1, conv2, conv3 : torch.nn.Conv2d
        The three streams' convolutions (3, 5 and 8 filters).
    bn1, bn2, bn3 : torch.nn.BatchNorm2d
        The streams' batch normalisations.
    fc : torch.nn.Linear
        The classifier.

    Notes
    -----
    The layer order and attribute names follow the authors' PyTorch release
    (``christy1206/STSTNet``, ``main.py``) so that its per-subject state dicts load
    with ``strict=True``. With the defaults the network has exactly 1,683 trainable
    parameters (convolutions 84 + 140 + 224, batch norms 32, ``fc`` 1,203).

    The released checkpoints were trained on images read with ``cv2.imread``, i.e.
    channel order (strain, v, u) and pixel values in 0..255 (no scaling), and with
    Adam (lr 5e-5), batch 256, 800 epochs per LOSO fold. skmer's flow images are
    (u, v, strain) in [0, 1]: flip the channels and multiply by 255 to reuse them.

    Despite its name the network is two-dimensional: "three-dimensional" refers to
    the three input channels.

    References
    ----------
    .. [1] S.-T. Liong, Y. S. Gan, J. See, H.-Q. Khor and Y.-C. Huang, "Shallow
       triple stream three-dimensional CNN (STSTNet) for micro-expression
       recognition", FG 2019, :doi:`10.1109/FG.2019.8756567`.

    Examples
    --------
    >>> import torch
    >>> net = STSTNet()
    >>> net(torch.zeros(2, 3, 28, 28)).shape
    torch.Size([2, 3])
    >>> sum(p.numel() for p in net.parameters())
    1683
    """

    def __init__(self, in_channels: int = 3, n_classes: int = 3,
                 input_size: tuple[int, ...] = (28, 28), dropout: float = 0.5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 3, kernel_size=3, padding=2)
        self.conv2 = nn.Conv2d(in_channels, 5, kernel_size=3, padding=2)
        self.conv3 = nn.Conv2d(in_channels, 8, kernel_size=3, padding=2)
        self.relu = nn.ReLU()
        self.bn1 = nn.BatchNorm2d(3)
        self.bn2 = nn.BatchNorm2d(5)
        self.bn3 = nn.BatchNorm2d(8)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=3, padding=1)
        self.avgpool = nn.AvgPool2d(kernel_size=2, stride=2)
        self.dropout = nn.Dropout(p=dropout)
        height, width = input_size
        n_features = 16 * _pooled_size(height) * _pooled_size(width)
        self.fc = nn.Linear(n_features, n_classes)

    def _stream(self, x, conv, bn):
        return self.dropout(self.maxpool(bn(self.relu(conv(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits of a batch ``x`` of shape ``(n, in_channels, H, W)``."""
        x = torch.cat(
            (
                self._stream(x, self.conv1, self.bn1),
                self._stream(x, self.conv2, self.bn2),
                self._stream(x, self.conv3, self.bn3),
            ),
            dim=1,
        )
        x = self.avgpool(x)
        return self.fc(torch.flatten(x, 1))


@register_model()
def ststnet(*, weights: str | os.PathLike | Mapping | None = None, **kwargs) -> STSTNet:
    """Build an :class:`STSTNet`, optionally loading local weights.

    Parameters
    ----------
    weights : str, os.PathLike, mapping or None, default=None
        A local state dict (path or mapping); never downloaded.
    **kwargs
        Passed to :class:`STSTNet`.

    Returns
    -------
    model : STSTNet
        The network.

    Examples
    --------
    >>> ststnet(n_classes=5).fc.out_features
    5
    """
    model = STSTNet(**kwargs)
    if weights is not None:
        load_weights(model, weights)
    return model
