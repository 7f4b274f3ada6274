"""Shared parameter documentation of the skorch classifiers.

The six classifiers of :mod:`skmer.models` share most of their skorch parameters.
Their descriptions live here, once; a class docstring names a shared parameter by a
line holding only ``%(name)s`` (docrep's notation) in its Parameters section, and
:func:`fill_shared_params` replaces that line by the parameter's entry, with the
default read from the class's own ``__init__`` signature, so the rendered
docstring is plain numpydoc and its defaults cannot drift from the code.  A class
whose parameter needs its own words (a paper's recipe, another device policy)
documents it in place, as usual.

:class:`~skmer.models.FlowNetClassifier` fills its subclasses' docstrings in
``__init_subclass__``; nothing else is needed in a new classifier.
"""

from __future__ import annotations

import inspect
import re

__all__ = ["SHARED_PARAMS", "fill_shared_params"]

# name -> (type specification, description).  The default is taken from the class.
SHARED_PARAMS = {
    "lr": (
        "float",
        'Learning rate (the peak learning rate with ``lr_schedule="cosine"``).',
    ),
    "max_epochs": (
        "int",
        "Number of training epochs (fixed: nothing looks at a test fold).",
    ),
    "batch_size": (
        "int",
        "Mini-batch size; ``-1`` means the whole training set.",
    ),
    "lr_schedule": (
        '{"cosine", None}',
        '``"cosine"`` anneals the learning rate to 0 over ``max_epochs`` (one '
        "step per epoch); None keeps it constant.",
    ),
    "class_weight": (
        '{"balanced", None}',
        '``"balanced"`` weights the loss by ``n_samples / (n_classes * count)`` '
        "of the training labels; None weights all samples equally.",
    ),
    "iterator_train": (
        "type",
        "Training batch loader.",
    ),
    "iterator_valid": (
        "type",
        "Prediction batch loader.",
    ),
    "iterator_train__shuffle": (
        "bool",
        "Shuffle the training set every epoch.",
    ),
    "train_split": (
        "callable or None",
        "The internal validation split of skorch. None because under "
        "leave-one-subject-out an internal split eats training subjects; pass a "
        "subject-aware ``predefined_split`` for early stopping.",
    ),
    "classes": (
        "array-like or None",
        "The full label set. Pass it under cross-validation so that the columns "
        "of ``predict_proba`` are the same in every fold.",
    ),
    "device": (
        "str",
        '``"auto"`` uses CUDA when available, else the CPU; it is resolved into '
        "the fitted ``device_`` (the parameter keeps its value). On CUDA, training "
        "and prediction use mixed precision (float16 autocast with gradient "
        "scaling) and ``channels_last``; on the CPU everything is plain float32.",
    ),
    "random_state": (
        "int, RandomState instance or None",
        "Seeds torch's global generator when the net is initialised (weights, "
        "dropout, shuffling), for reproducible fits.",
    ),
    "verbose": (
        "int",
        "Verbosity: skorch's per-epoch log when positive; above 1, a tqdm progress "
        "bar over the epochs as well.",
    ),
    "kwargs": (
        None,
        "Other skorch parameters (``optimizer__weight_decay``, ``callbacks``, "
        "...).",
    ),
}

_LINE = re.compile(r"^(?P<indent>[ \t]*)%\((?P<name>\w+)\)s[ \t]*$", re.MULTILINE)


def _format_default(value):
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, type):
        return value.__name__
    return repr(value)


def _entry(name, default, indent):
    spec, text = SHARED_PARAMS[name]
    if name == "kwargs":
        header = "**kwargs"
    elif default is inspect.Parameter.empty:
        header = f"{name} : {spec}"
    else:
        header = f"{name} : {spec}, default={_format_default(default)}"
    lines = [indent + header]
    body, width = [], 80 - len(indent)
    for word in text.split():
        if body and len(" ".join([*body, word])) > width:
            lines.append(indent + "    " + " ".join(body))
            body = []
        body.append(word)
    lines.append(indent + "    " + " ".join(body))
    return "\n".join(lines)


def fill_shared_params(cls):
    """Replace the ``%(name)s`` lines of ``cls.__doc__`` by shared entries.

    Parameters
    ----------
    cls : type
        A class whose docstring names shared parameters (see
        :data:`SHARED_PARAMS`); the defaults come from ``cls.__init__``.

    Returns
    -------
    cls : type
        The same class, its docstring filled in.

    Raises
    ------
    KeyError
        A ``%(name)s`` line names no shared parameter.

    Examples
    --------
    >>> class Net:
    ...     '''A net.
    ...
    ...     Parameters
    ...     ----------
    ...     %(lr)s
    ...     '''
    ...     def __init__(self, lr=0.01):
    ...         self.lr = lr
    >>> print(fill_shared_params(Net).__doc__.splitlines()[4])
        lr : float, default=0.01
    """
    doc = cls.__doc__
    if not doc or "%(" not in doc:
        return cls
    params = inspect.signature(cls.__init__).parameters

    def render(match):
        name = match["name"]
        if name not in SHARED_PARAMS:
            raise KeyError(
                f"{cls.__name__}'s docstring names %({name})s, which is not a shared "
                f"parameter; known: {sorted(SHARED_PARAMS)}.")
        default = params[name].default if name in params else inspect.Parameter.empty
        return _entry(name, default, match["indent"])

    cls.__doc__ = _LINE.sub(render, doc)
    return cls
