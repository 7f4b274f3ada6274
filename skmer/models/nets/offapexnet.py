"""OFF-ApexNet: two-stream CNN on apex optical flow (Gan et al., 2019)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from skmer.models.nets._api import load_weights, register_model

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

__all__ = ["OffApexNet", "offapexnet"]


class _Stream(nn.Sequential):
    def __init__(self):
        super().__init__(
            nn.Conv2d(1, 6, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2, stride=2),
        )


class OffApexNet(nn.Module):
    """Optical Flow Features from Apex frame Network (OFF-ApexNet).

    Two identical streams read the horizontal (u) and vertical (v) optical flow
    between onset and apex: conv 5x5 (6 filters) -> ReLU -> max-pool 2 -> conv 5x5
    (16 filters) -> ReLU -> max-pool 2 ("same" padding, so 28 -> 14 -> 7). The two
    16x7x7 maps are flattened, concatenated (1,568 features) and classified by
    FC 1024 -> ReLU -> dropout -> FC 1024 -> ReLU -> dropout -> FC ``n_classes``.

    Parameters
    ----------
    n_classes : int, default=3
        Number of output logits.
    input_size : tuple of int, default=(28, 28)
        ``(height, width)`` of the input; sets the input size of the first FC layer.
    dropout : float, default=0.5
        Dropout probability after each hidden FC layer.
    flow_channels : tuple of int, default=(0, 1)
        Input channels holding u and v. skmer's flow images are ordered
        (u, v, optical strain), so any input with at least two channels works and
        the strain channel is ignored.

    Attributes
    ----------
    stream_u, stream_v : torch.nn.Sequential
        The two convolutional streams.
    fc1, fc2, fc3 : torch.nn.Linear
        The fully connected layers.

    Notes
    -----
    Facts taken from the paper [1]_ (and consistent with the re-implementation in
    the Off-TANet repository, 2.66 M parameters): two streams of
    conv(5x5, 6) -> pool(2) -> conv(5x5, 16) -> pool(2) on 28x28 u and v images,
    concatenation, two FC layers of 1,024 units with dropout, softmax output.
    Choices of this implementation, where the sources are silent or differ: "same"
    zero padding (needed for the 2.66 M count), ReLU after every convolution and
    hidden FC layer (the Off-TANet re-implementation has no activation after its
    convolutions), dropout 0.5, PyTorch default initialisation. With the defaults
    the network has exactly 2,664,475 trainable parameters.

    References
    ----------
    .. [1] Y. S. Gan, S.-T. Liong, W.-C. Yau, Y.-C. Huang and L.-K. Tan,
       "OFF-ApexNet on micro-expression recognition system", Signal Processing:
       Image Communication 74 (2019) 129-139, :doi:`10.1016/j.image.2019.02.005`.

    Examples
    --------
    >>> import torch
    >>> net = OffApexNet()
    >>> net(torch.zeros(2, 3, 28, 28)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_classes: int = 3, input_size: tuple[int, ...] = (28, 28),
                 dropout: float = 0.5, flow_channels: tuple[int, ...] = (0, 1)) -> None:
        super().__init__()
        self.flow_channels = tuple(flow_channels)
        self.stream_u = _Stream()
        self.stream_v = _Stream()
        height, width = input_size
        n_features = 2 * 16 * (height // 4) * (width // 4)
        self.fc1 = nn.Linear(n_features, 1024)
        self.fc2 = nn.Linear(1024, 1024)
        self.fc3 = nn.Linear(1024, n_classes)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits of a batch ``x`` of shape ``(n, C >= 2, H, W)``."""
        cu, cv = self.flow_channels
        u = self.stream_u(x[:, cu : cu + 1])
        v = self.stream_v(x[:, cv : cv + 1])
        x = torch.cat((torch.flatten(u, 1), torch.flatten(v, 1)), dim=1)
        x = self.dropout(self.relu(self.fc1(x)))
        x = self.dropout(self.relu(self.fc2(x)))
        return self.fc3(x)


@register_model()
def offapexnet(*, weights: str | os.PathLike | Mapping | None = None,
               **kwargs) -> OffApexNet:
    """Build an :class:`OffApexNet`, optionally loading local weights.

    Parameters
    ----------
    weights : str, os.PathLike, mapping or None, default=None
        A local state dict (path or mapping); never downloaded.
    **kwargs
        Passed to :class:`OffApexNet`.

    Returns
    -------
    model : OffApexNet
        The network.

    Examples
    --------
    >>> offapexnet(n_classes=5).fc3.out_features
    5
    """
    model = OffApexNet(**kwargs)
    if weights is not None:
        load_weights(model, weights)
    return model
