"""The model registry of :mod:`skmer.models.nets` (torchvision's ``_api`` layout).

Architecture modules import :func:`register_model` from here and register their
builders when they are imported; the registry never imports an architecture.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = [
    "register_model",
    "get_model",
    "get_model_builder",
    "list_models",
    "load_weights",
]

_MODELS: dict[str, Callable[..., torch.nn.Module]] = {}


def register_model(name: str | None = None) -> Callable:
    """Register a model builder under ``name`` (default: the function's name).

    Parameters
    ----------
    name : str, default=None
        Registry key; the builder's ``__name__`` when None.

    Returns
    -------
    decorator : callable
        A decorator that registers and returns the builder unchanged.
    """

    def wrapper(fn):
        key = (name or fn.__name__).lower()
        if key in _MODELS:
            raise ValueError(f"A model is already registered under {key!r}.")
        _MODELS[key] = fn
        return fn

    return wrapper


def get_model_builder(name: str) -> Callable[..., torch.nn.Module]:
    """Return the builder registered under ``name``.

    Parameters
    ----------
    name : str
        Registry key (case-insensitive), see :func:`list_models`.

    Returns
    -------
    builder : callable
        The keyword-only builder, e.g. :func:`ststnet`.
    """
    key = name.lower()
    if key not in _MODELS:
        raise ValueError(f"Unknown model {name!r}; expected one of {list_models()}.")
    return _MODELS[key]


def get_model(name: str, **kwargs) -> torch.nn.Module:
    """Build the model registered under ``name``.

    Parameters
    ----------
    name : str
        Registry key (case-insensitive), see :func:`list_models`.
    **kwargs
        Passed to the builder (``weights=`` and the module's constructor arguments).

    Returns
    -------
    model : torch.nn.Module
        The constructed network.
    """
    return get_model_builder(name)(**kwargs)


def list_models() -> list[str]:
    """Return the sorted names of the registered models.

    Returns
    -------
    names : list of str
        Registry keys.
    """
    return sorted(_MODELS)


def load_weights(model: torch.nn.Module, weights, *, strict: bool = True):
    """Load a local state dict (a path or a mapping) into ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        The network to fill.
    weights : str, os.PathLike or mapping
        A path to a file saved with ``torch.save(state_dict)`` (read with
        ``weights_only=True``, on the CPU) or a state dict.
    strict : bool, default=True
        Passed to :meth:`torch.nn.Module.load_state_dict`.

    Returns
    -------
    model : torch.nn.Module
        ``model``, with the weights loaded.
    """
    if not hasattr(weights, "keys"):
        weights = torch.load(weights, map_location="cpu", weights_only=True)
    model.load_state_dict(weights, strict=strict)
    return model
