"""Networks for micro-expression recognition: torch modules and skorch classifiers.

This is the only subpackage of skmer that imports torch.
"""

from skmer.models._artnet import (
    AmplifiedFlow,
    ARTNetClassifier,
    OnsetApexPairs,
    amplified_flow,
    make_artnet_pipeline,
)
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
    RAFT,
    ARTNet,
    MSRes3D,
    OffApexNet,
    STSTNet,
    artnet,
    get_model,
    list_models,
    mol,
    msres3d,
    offapexnet,
    raft_flow,
    raft_large,
    raft_small,
    register_model,
    ststnet,
)

__all__ = [
    "MOL",
    "RAFT",
    "ARTNet",
    "ARTNetClassifier",
    "AmplifiedFlow",
    "OnsetApexPairs",
    "amplified_flow",
    "artnet",
    "make_artnet_pipeline",
    "raft_flow",
    "raft_large",
    "raft_small",
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
