"""Invariants shared by the six skorch classifiers (issue 11, point 4).

``fit`` never changes a hyper-parameter (``device="auto"`` is resolved into the
fitted ``device_``), and neither ``fit`` nor ``predict`` leaves a torch global flag
changed (``cudnn.benchmark``, the number of threads).
"""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skmer.datasets import make_micro_expressions
from skmer.models import (
    ARTNetClassifier,
    FlowNetClassifier,
    MOLClassifier,
    MSRes3DClassifier,
    OffApexNetClassifier,
    STSTNet,
    STSTNetClassifier,
)


def _images(n=8, c=3, size=12):
    rng = np.random.default_rng(0)
    return rng.random((n, c, size, size), dtype=np.float32), np.arange(n) % 2


def _case(name):
    size = (12, 12)
    if name == "FlowNetClassifier":
        clf = FlowNetClassifier(STSTNet, module__input_size=size)
        return clf, *_images()
    if name == "STSTNetClassifier":
        return STSTNetClassifier(module__input_size=size), *_images()
    if name == "OffApexNetClassifier":
        return OffApexNetClassifier(module__input_size=size), *_images(c=2)
    if name == "MSRes3DClassifier":
        rng = np.random.default_rng(0)
        X = rng.normal(size=(6, 3, 9, 17, 17)).astype(np.float32)
        clf = MSRes3DClassifier(module__width=0.0625, module__hidden_features=8)
        return clf, X, np.arange(6) % 2
    if name == "MOLClassifier":
        X, y, _ = make_micro_expressions(n_clips=6, n_subjects=3, n_frames=10,
                                         frame_shape=(32, 32), random_state=0)
        clf = MOLClassifier(module__width=0.125, module__corr_patch_size=3,
                            aux_flow_method="farneback", landmark_source="none")
        return clf, X, y
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2, 3, 12, 12)).astype(np.float32)
    return ARTNetClassifier(), X, np.arange(6) % 2


NAMES = ["FlowNetClassifier", "STSTNetClassifier", "OffApexNetClassifier",
         "MSRes3DClassifier", "MOLClassifier", "ARTNetClassifier"]


class _DeviceProbe(Callback):
    """Record the ``device`` parameter as seen during training."""

    def __init__(self):
        self.seen = []

    def on_batch_begin(self, net, **kwargs):
        self.seen.append(net.device)


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a is b or a == b


@pytest.mark.parametrize("name", NAMES)
def test_fit_mutates_no_param_and_no_global_flag(name):
    clf, X, y = _case(name)
    probe = _DeviceProbe()
    clf.set_params(max_epochs=1, batch_size=4, random_state=0, callbacks=[probe])
    assert clf.device == "auto"
    before = clf.get_params(deep=False)
    threads = torch.get_num_threads()
    benchmark = torch.backends.cudnn.benchmark
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), len(np.unique(y)))
    after = clf.get_params(deep=False)
    assert after.keys() == before.keys()
    changed = [k for k in before if not _same(before[k], after[k])]
    assert not changed, changed
    assert clf.device == "auto"
    assert probe.seen and set(probe.seen) == {"auto"}  # not even during fit
    assert clf.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    assert torch.get_num_threads() == threads
    assert torch.backends.cudnn.benchmark == benchmark


# ------------------------------------------------------------- shared docs
def _documented_params(doc):
    lines = doc.split("Parameters\n    ----------\n", 1)[1].split("\n\n    ")[0]
    out = {}
    for line in lines.splitlines():
        if line.startswith("    ") and not line.startswith("     "):
            name, _, rest = line.strip().partition(" : ")
            out[name] = rest
    return out


@pytest.mark.parametrize("cls", [ARTNetClassifier, FlowNetClassifier, MOLClassifier,
                                 MSRes3DClassifier, OffApexNetClassifier,
                                 STSTNetClassifier], ids=lambda c: c.__name__)
def test_docstring_parameters_filled_from_the_shared_docs(cls):
    import inspect

    from skmer.models._docs import SHARED_PARAMS, _format_default

    doc = cls.__doc__
    assert "%(" not in doc
    documented = _documented_params(doc)
    signature = inspect.signature(cls.__init__).parameters
    expected = [n if p.kind != p.VAR_KEYWORD else "**kwargs"
                for n, p in signature.items() if n != "self"]
    assert sorted(documented) == sorted(expected)
    shared = [n for n in SHARED_PARAMS if n in signature and n != "kwargs"]
    assert len(shared) >= 7
    for name in shared:
        # a shared entry (or the class's own one) states the default of the code
        default = signature[name].default
        stated = documented[name].rsplit("default=", 1)[1]
        if isinstance(default, float):
            assert float(stated) == default, (name, stated)
        else:
            assert stated == _format_default(default), (name, stated)
    # the shared text appears in every class that does not need its own words
    assert doc.count(SHARED_PARAMS["iterator_valid"][1]) == 1
