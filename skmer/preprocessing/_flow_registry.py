"""Flow methods implemented outside preprocessing: a registry that keeps the torch wall.

:func:`~skmer.preprocessing.optical_flow`, :class:`~skmer.preprocessing.FlowExtractor`
and :class:`~skmer.preprocessing.AmplifiedFlow` compute OpenCV's flow methods here,
but ``method="raft"`` needs a torch network, which lives in :mod:`skmer.models`.
Preprocessing must never import torch, nor the networks at import time, so the arrow
is inverted: :mod:`skmer.models.nets.raft` registers its flow function here when it
is imported, and preprocessing looks it up by name when a flow is computed.

The public surface is two functions:

- :func:`register_flow_method` (called by the package that implements a method);
- :func:`get_flow_method` (called by preprocessing): the registered function, or,
  for a method whose home is known but not yet imported (``"raft"``:
  :mod:`skmer.models`), that package imported on demand, so that
  ``FlowExtractor("raft")`` works without an explicit ``import skmer.models``.  When
  the method's requirements (torch) cannot be imported, a clear ``ImportError`` says
  what to install instead of a bare ``ModuleNotFoundError`` from deep inside.

The on-demand import is of ``skmer.models`` (the networks' public door), never of
torch itself; whether torch is present is found with :func:`importlib.util.find_spec`,
which locates a package without importing it.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["get_flow_method", "register_flow_method"]

# method -> (package that registers it on import, top-level packages it needs)
_PROVIDERS = {"raft": ("skmer.models", ("torch",))}

_METHODS: dict[str, Callable] = {}


def register_flow_method(name: str, func: Callable) -> Callable:
    """Register the function that computes the flow method ``name``.

    Parameters
    ----------
    name : str
        A method implemented outside preprocessing (``"raft"``).
    func : callable
        ``func(prev, next, params) -> flow``: ``prev`` and ``next`` are grey uint8
        frames ``(height, width)``, ``params`` the method's checked parameters (a
        dict) and ``flow`` an array ``(height, width, 2)`` with ``u`` then ``v``,
        in :func:`~skmer.preprocessing.optical_flow`'s conventions.  Registering
        a name again replaces the function (a reloaded module re-registers).

    Returns
    -------
    func : callable
        ``func`` unchanged.

    Examples
    --------
    >>> import skmer.models  # registers "raft"
    >>> from skmer.preprocessing._flow_registry import get_flow_method
    >>> get_flow_method("raft").__module__
    'skmer.models.nets.raft'
    """
    if name not in _PROVIDERS:
        raise ValueError(
            f"Only flow methods implemented outside skmer.preprocessing can be "
            f"registered: {sorted(_PROVIDERS)}; got {name!r}.")
    if not callable(func):
        raise TypeError(f"func must be callable; got {func!r}.")
    _METHODS[name] = func
    return func


def _missing(packages):
    """Return the packages of ``packages`` that cannot be found (none is imported)."""
    missing = []
    for pkg in packages:
        try:
            found = importlib.util.find_spec(pkg) is not None
        except (ImportError, ValueError):  # a blocking finder, a None in sys.modules
            found = False
        if not found:
            missing.append(pkg)
    return missing


def _install_message(name, provider, missing):
    return (
        f"optical flow method {name!r} needs {' and '.join(missing)}, which cannot "
        f"be imported: pip install {' '.join(missing)} (then {provider}, imported "
        f"on demand, provides {name!r}). The OpenCV methods 'tvl1', 'farneback' "
        "and 'dis' need no torch.")


def get_flow_method(name: str) -> Callable:
    """Return the registered function of flow method ``name``.

    A method that is known but not yet registered has its package imported
    (``"raft"``: ``skmer.models``, which registers it) when the packages it needs
    are installed.

    Parameters
    ----------
    name : str
        The method (``"raft"``).

    Returns
    -------
    func : callable
        ``func(prev, next, params) -> flow``, see :func:`register_flow_method`.

    Raises
    ------
    ImportError
        When the method needs packages that cannot be imported (``"raft"``:
        torch); the message says what to install.
    ValueError
        When ``name`` is no method implemented outside preprocessing.
    """
    func = _METHODS.get(name)
    if func is not None:
        return func
    if name not in _PROVIDERS:
        raise ValueError(
            f"{name!r} is not a flow method implemented outside "
            f"skmer.preprocessing; known: {sorted(_PROVIDERS)}.")
    provider, requires = _PROVIDERS[name]
    missing = _missing(requires)
    if missing:
        raise ImportError(_install_message(name, provider, missing))
    try:
        importlib.import_module(provider)
    except ImportError as exc:
        # found but not importable (a broken install): say what it needs
        root = (exc.name or "").split(".")[0]
        if root not in requires:
            raise
        raise ImportError(_install_message(name, provider, [root])) from exc
    func = _METHODS.get(name)
    if func is None:
        raise ImportError(
            f"{provider} was imported but registered no optical flow method "
            f"{name!r}.")
    return func
