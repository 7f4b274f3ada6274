"""Torch modules of skmer's networks, one file per architecture.

A tiny torchvision-style registry maps a lower-case name to a keyword-only builder:

>>> from skmer.models.nets import get_model, list_models
>>> {"ststnet", "offapexnet"} <= set(list_models())
True
>>> get_model("ststnet", n_classes=5).fc.out_features
5

Weights are never downloaded: a builder's ``weights`` argument takes a path to a
local state dict, loaded with ``torch.load(..., weights_only=True)``.
"""

from skmer.models.nets._api import (
    get_model,
    get_model_builder,
    list_models,
    load_weights,
    register_model,
)

# Importing an architecture module registers its builders with the registry.
from skmer.models.nets.artnet import ARTNet, artnet
from skmer.models.nets.mol import MOL, mol
from skmer.models.nets.msres3d import MSRes3D, msres3d
from skmer.models.nets.offapexnet import OffApexNet, offapexnet
from skmer.models.nets.raft import RAFT, raft_flow, raft_large, raft_small
from skmer.models.nets.sssnet import SSSNet, sssnet
from skmer.models.nets.ststnet import STSTNet, ststnet

__all__ = [
    "register_model",
    "get_model",
    "get_model_builder",
    "list_models",
    "load_weights",
    "STSTNet",
    "ststnet",
    "SSSNet",
    "sssnet",
    "OffApexNet",
    "offapexnet",
    "MSRes3D",
    "msres3d",
    "MOL",
    "mol",
    "ARTNet",
    "artnet",
    "RAFT",
    "raft_flow",
    "raft_large",
    "raft_small",
]
