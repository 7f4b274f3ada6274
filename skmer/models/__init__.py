"""Networks for micro-expression recognition: torch modules and skorch classifiers.

This is the only subpackage of skmer that imports torch.
"""

from skmer.models._artnet import ARTNetClassifier, make_artnet_pipeline
from skmer.models._augment import RandomShiftFlip
from skmer.models._mol import MOLClassifier
from skmer.models._msres3d import MSRes3DClassifier
from skmer.models._skorch import (
    ArrayBatchLoader,
    FlowNetClassifier,
    OffApexNetClassifier,
    STSTNetClassifier,
)
from skmer.models._sssnet import SSSNetClassifier
from skmer.models.nets import (
    MOL,
    RAFT,
    ARTNet,
    MSRes3D,
    OffApexNet,
    SSSNet,
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
    sssnet,
    ststnet,
)

# ARTNet's input stages are torch-free and live in skmer.preprocessing; they are
# re-exported here (outside __all__) only so that older code importing them from
# skmer.models keeps working.  Import them from skmer.preprocessing.
from skmer.preprocessing import AmplifiedFlow as AmplifiedFlow
from skmer.preprocessing import OnsetApexPairs as OnsetApexPairs
from skmer.preprocessing import amplified_flow as amplified_flow

__all__ = [
    "MOL",
    "RAFT",
    "ARTNet",
    "ARTNetClassifier",
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
    "RandomShiftFlip",
    "SSSNet",
    "SSSNetClassifier",
    "STSTNet",
    "STSTNetClassifier",
    "get_model",
    "list_models",
    "mol",
    "msres3d",
    "offapexnet",
    "register_model",
    "sssnet",
    "ststnet",
]
