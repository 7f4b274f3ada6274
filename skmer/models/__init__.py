"""Networks for micro-expression recognition: torch modules and skorch classifiers.

This is the only subpackage of skmer that imports torch.
"""

from skmer.models._mol import MOLClassifier
from skmer.models._msres3d import MSRes3DClassifier
from skmer.models._skorch import (
    ArrayBatchLoader,
    FlowNetClassifier,
    OffApexNetClassifier,
    STSTNetClassifier,
)
from skmer.models.nets import (
    MOL,
    MSRes3D,
    OffApexNet,
    STSTNet,
    get_model,
    list_models,
    mol,
    msres3d,
    offapexnet,
    register_model,
    ststnet,
)

__all__ = [
    "MOL",
    "ArrayBatchLoader",
    "FlowNetClassifier",
    "MOLClassifier",
    "MSRes3D",
    "MSRes3DClassifier",
    "OffApexNet",
    "OffApexNetClassifier",
    "STSTNet",
    "STSTNetClassifier",
    "get_model",
    "list_models",
    "mol",
    "msres3d",
    "offapexnet",
    "register_model",
    "ststnet",
]
