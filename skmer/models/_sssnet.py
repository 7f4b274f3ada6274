"""scikit-learn face (skorch classifier) of SSSNet."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from skmer.models._skorch import ArrayBatchLoader, FlowNetClassifier
from skmer.models.nets.sssnet import SSSNet

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

__all__ = ["SSSNetClassifier"]


class _SGDMomentum(torch.optim.SGD):
    """:class:`torch.optim.SGD` whose momentum defaults to 0.9 (SSSNet's recipe).

    A class rather than a ``functools.partial``: ``sklearn.base.clone`` keeps a
    class as it is but would copy a partial and then refuse the copy.
    """

    def __init__(self, params, lr: float = 1e-2, momentum: float = 0.9, **kwargs):
        super().__init__(params, lr=lr, momentum=momentum, **kwargs)


class SSSNetClassifier(FlowNetClassifier):
    """SSSNet micro-expression classifier on optical-flow images (skorch).

    Trains :class:`~skmer.models.nets.SSSNet` on ``(n, 3, H, W)`` flow images
    (skmer's composite images: u, v, optical strain in [0, 1], 28x28) with the
    authors' recipe: SGD with momentum 0.9 (lr 0.01, weight decay 1e-3), batch
    128, 200 epochs, constant learning rate, plain cross-entropy.

    Parameters
    ----------
    module : type or torch.nn.Module, default=SSSNet
        The network; architecture options travel as ``module__in_channels``,
        ``module__input_size`` (default ``(28, 28)``; ``(64, 64)`` is the original
        size), ``module__n_classes``, ``module__dropout``.
    criterion : type, default=torch.nn.CrossEntropyLoss
        The loss.
    optimizer : type, default=SGD with momentum 0.9
        The optimiser: a thin subclass of :class:`torch.optim.SGD` whose
        ``momentum`` defaults to 0.9 (``optimizer__momentum`` changes it). Any
        torch optimiser that takes ``weight_decay`` can replace it, e.g.
        ``torch.optim.Adam``.
    %(lr)s
    optimizer__weight_decay : float, default=1e-3
        L2 weight decay of the optimiser.
    %(max_epochs)s
    %(batch_size)s
    %(lr_schedule)s
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
    module_ : SSSNet
        The trained network.
    device_ : str
        The device actually used.
    input_shape_ : tuple of int
        ``(channels, height, width)`` seen in ``fit``.

    See Also
    --------
    STSTNetClassifier : Shallow triple-stream network on (u, v, strain).

    Notes
    -----
    The recipe is that of the authors' MEGC2019 composite experiment in their
    ``meb`` repository (notebook ``RCN-A and SSSNet for megc.ipynb``: SGD,
    momentum 0.9, lr 0.01, weight decay 1e-3, batch 128, 200 epochs, 64x64 flow),
    whose runs report pooled UF1 0.70 to 0.76 under leave-one-subject-out. The
    later ``meb`` benchmarks (action-unit detection) train SSSNet with Adam (lr
    1e-4, weight decay 1e-3, 200 epochs):
    ``SSSNetClassifier(optimizer=torch.optim.Adam, lr=1e-4)``.
    skmer's flow-network recipe (that of :class:`STSTNetClassifier`) is
    ``SSSNetClassifier(optimizer=torch.optim.AdamW, lr=1e-3,
    optimizer__weight_decay=1e-2, batch_size=64, max_epochs=30,
    lr_schedule="cosine", class_weight="balanced")``.

    On the composite's 28x28 images the network has 169,603 parameters (1,349,251
    at 64x64). On a CPU an epoch costs several times an epoch of STSTNet, and the
    200 epochs make a fold far slower than :class:`STSTNetClassifier`'s 30-epoch
    recipe.

    References
    ----------
    .. [1] T. Varanka, W. Peng and G. Zhao, "Micro-expression recognition with
       noisy labels", IS&T International Symposium on Electronic Imaging 2021,
       Human Vision and Electronic Imaging.
    .. [2] T. Varanka, Y. Li, W. Peng and G. Zhao, "Data leakage and evaluation
       issues in micro-expression analysis", IEEE Transactions on Affective
       Computing (2024), arXiv:2211.11425.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((8, 3, 28, 28), dtype=np.float32)
    >>> y = np.array(["neg", "pos"] * 4)
    >>> clf = SSSNetClassifier(max_epochs=2, device="cpu", random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape
    (8, 2)
    >>> clf.classes_.tolist()
    ['neg', 'pos']
    """

    def __init__(
        self,
        module: type | torch.nn.Module = SSSNet,
        *,
        criterion: type = torch.nn.CrossEntropyLoss,
        optimizer: type = _SGDMomentum,
        lr: float = 1e-2,
        optimizer__weight_decay: float = 1e-3,
        max_epochs: int = 200,
        batch_size: int = 128,
        lr_schedule: str | None = None,
        class_weight: str | None = None,
        iterator_train: type = ArrayBatchLoader,
        iterator_valid: type = ArrayBatchLoader,
        iterator_train__shuffle: bool = True,
        train_split: Callable | None = None,
        classes: ArrayLike | None = None,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        **kwargs,
    ) -> None:
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            optimizer__weight_decay=optimizer__weight_decay,
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
            **kwargs,
        )
