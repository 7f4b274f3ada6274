"""SSSNet: shallow single-stream CNN on optical-flow images (Varanka et al., 2021)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from skmer.models.nets._api import load_weights, register_model

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

__all__ = ["SSSNet", "sssnet"]

# the smallest side whose feature map survives conv 5 -> pool 3/3 -> conv 3 -> pool 2/2
_MIN_SIDE = 16


def _feature_side(side: int) -> int:
    """Side of the last feature map for an input side (0 when too small)."""
    side = side - 4  # conv 5x5, stride 1, no padding
    side = (side - 3) // 3 + 1 if side >= 3 else 0  # max-pool 3x3, stride 3
    side = side - 2  # conv 3x3, stride 1, no padding
    return max(side, 0) // 2  # max-pool 2x2, stride 2


def _check_input_size(input_size) -> tuple[int, int]:
    try:
        height, width = (int(s) for s in input_size)
    except (TypeError, ValueError):
        raise ValueError(
            f"SSSNet: input_size must be a pair (height, width) of ints; got "
            f"{input_size!r}."
        ) from None
    if min(height, width) < _MIN_SIDE:
        raise ValueError(
            f"SSSNet: input_size={tuple(input_size)!r} is too small; both sides must "
            f"be at least {_MIN_SIDE} (conv 5x5, max-pool 3/3, conv 3x3 and max-pool "
            "2/2 leave no feature map below that)."
        )
    return height, width


class SSSNet(nn.Module):
    """Shallow Single-Stream Network (SSSNet) for micro-expression recognition.

    One stream of two convolution blocks reads a three-channel onset-apex flow
    image; a two-layer perceptron classifies the flattened features::

        conv 5x5 (32) -> ReLU -> max-pool 3/3 -> BatchNorm -> Dropout2d
        conv 3x3 (64) -> ReLU -> max-pool 2/2 -> BatchNorm -> Dropout2d
        flatten -> linear (256) -> ReLU -> Dropout -> linear (n_classes)

    The convolutions have stride 1 and no padding. Batch normalisation comes after
    the pooling, as in the original network.

    Parameters
    ----------
    in_channels : int, default=3
        Channels of the input image (skmer's flow images: u, v, optical strain;
        the original uses u, v and the flow magnitude or strain).
    n_classes : int, default=3
        Number of output logits.
    input_size : tuple of int, default=(28, 28)
        ``(height, width)`` of the input; sets the input size of ``fc1``. The
        MEGC2019 composite's flow images are 28x28; the original network reads
        64x64 flow. Both sides must be at least 16.
    dropout : float, default=0.5
        Dropout probability of the two ``Dropout2d`` layers and of the dropout
        before ``fc2``.

    Attributes
    ----------
    conv1, conv2 : torch.nn.Conv2d
        The convolutions (32 filters 5x5, 64 filters 3x3).
    pool1, pool2 : torch.nn.MaxPool2d
        Max-pooling 3x3 stride 3 and 2x2 stride 2.
    bn1, bn2 : torch.nn.BatchNorm2d
        Batch normalisations after the pooling.
    drop1, drop2 : torch.nn.Dropout2d
        Channel dropout after the batch normalisations.
    fc1, fc2 : torch.nn.Linear
        The hidden (256 units) and output layers.
    n_features : int
        Length of the flattened feature vector (``64 * 3 * 3 = 576`` for 28x28,
        ``64 * 9 * 9 = 5184`` for 64x64).

    Notes
    -----
    With the defaults (3 channels, 3 classes, 28x28) the network has 169,603
    trainable parameters (``fc1`` holds 147,712 of them); at 64x64 it has
    1,349,251. On the composite's small images the second pooling leaves a 3x3
    map, so ``fc1`` sees 576 features instead of the original 5,184.

    References
    ----------
    .. [1] T. Varanka, W. Peng and G. Zhao, "Micro-expression recognition with
       noisy labels", IS&T International Symposium on Electronic Imaging 2021,
       Human Vision and Electronic Imaging.
    .. [2] T. Varanka, Y. Li, W. Peng and G. Zhao, "Data leakage and evaluation
       issues in micro-expression analysis", IEEE Transactions on Affective
       Computing (2024), arXiv:2211.11425; its ``meb`` toolkit holds the
       honest MEGC2019 composite evaluation of SSSNet.

    Examples
    --------
    >>> import torch
    >>> net = SSSNet()
    >>> net(torch.zeros(2, 3, 28, 28)).shape
    torch.Size([2, 3])
    >>> net.n_features
    576
    >>> SSSNet(input_size=(64, 64)).n_features
    5184
    """

    def __init__(self, in_channels: int = 3, n_classes: int = 3,
                 input_size: tuple[int, ...] = (28, 28), dropout: float = 0.5) -> None:
        super().__init__()
        height, width = _check_input_size(input_size)
        self.in_channels = int(in_channels)
        self.input_size = (height, width)
        self.conv1 = nn.Conv2d(in_channels, 32, kernel_size=5, stride=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(kernel_size=3, stride=3)
        self.bn1 = nn.BatchNorm2d(32)
        self.drop1 = nn.Dropout2d(p=dropout)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, stride=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.bn2 = nn.BatchNorm2d(64)
        self.drop2 = nn.Dropout2d(p=dropout)
        self.flatten = nn.Flatten()
        self.n_features = 64 * _feature_side(height) * _feature_side(width)
        self.fc1 = nn.Linear(self.n_features, 256)
        self.relu3 = nn.ReLU()
        self.drop3 = nn.Dropout(p=dropout)
        self.fc2 = nn.Linear(256, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits of a batch ``x`` of shape ``(n, in_channels, H, W)``."""
        if x.ndim != 4 or x.shape[1] != self.in_channels or tuple(
                x.shape[2:]) != self.input_size:
            raise ValueError(
                f"SSSNet: expected input of shape (n, {self.in_channels}, "
                f"{self.input_size[0]}, {self.input_size[1]}); got "
                f"{tuple(x.shape)}."
            )
        x = self.drop1(self.bn1(self.pool1(self.relu1(self.conv1(x)))))
        x = self.drop2(self.bn2(self.pool2(self.relu2(self.conv2(x)))))
        x = self.drop3(self.relu3(self.fc1(self.flatten(x))))
        return self.fc2(x)


@register_model()
def sssnet(*, weights: str | os.PathLike | Mapping | None = None, **kwargs) -> SSSNet:
    """Build an :class:`SSSNet`, optionally loading local weights.

    Parameters
    ----------
    weights : str, os.PathLike, mapping or None, default=None
        A local state dict (path or mapping); never downloaded.
    **kwargs
        Passed to :class:`SSSNet`.

    Returns
    -------
    model : SSSNet
        The network.

    Examples
    --------
    >>> sssnet(n_classes=5).fc2.out_features
    5
    """
    model = SSSNet(**kwargs)
    if weights is not None:
        load_weights(model, weights)
    return model
