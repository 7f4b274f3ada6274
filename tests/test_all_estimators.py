"""Every public estimator of skmer passes the check suite that fits its input.

Discovery walks skmer's public modules (as :func:`sklearn.utils.all_estimators`
does for scikit-learn) and collects the classes deriving from ``BaseEstimator``
that a module exports in ``__all__``.  Each gets one suite, chosen by its input:

* ``"sklearn"``: 2-D arrays (``input_tags.two_d_array``) -> scikit-learn's
  :func:`~sklearn.utils.estimator_checks.parametrize_with_checks`;
* ``"clip"``: sequences of clips (``two_d_array=False``) -> skmer's
  :func:`~skmer.utils.estimator_checks.clip_estimator_checks`;
* ``"array"``: fixed-shape arrays that scikit-learn's generic checks cannot build
  (flow images ``(n, C, H, W)``, videos ``(n, C, T, H, W)``, the recipes' column
  layout) -> :func:`~skmer.utils.estimator_checks.array_estimator_checks` on the
  data given in ``ARRAY_DATA``.

``INSTANCES`` gives the cheap settings each estimator is checked with (tiny networks,
one or two epochs).  A check that cannot apply to an estimator is listed in
``EXPECTED_FAILED`` (it must fail: strict xfail) or ``NOT_RUN`` (where it is covered
elsewhere), always with the reason; nothing is skipped silently.  The guard tests fail
when a public estimator has no instance or no suite.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

import skmer
from skmer.utils.estimator_checks import (
    array_estimator_checks,
    clip_estimator_checks,
)


def all_estimators():
    """Public estimator classes of skmer: ``[(name, class)]`` sorted by name."""
    found = {}
    for info in pkgutil.walk_packages(skmer.__path__, "skmer."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                found[obj.__name__] = obj
    return sorted(found.items())


# classes that are not estimators to check as they stand (abstract bases, ...);
# empty today: FlowNetClassifier, the base of the flow-image networks, is checked
# with an explicit module below
NOT_CHECKED: dict[str, str] = {}


def _instances():
    from skmer.features import LBPTOP, BiWOOF
    from skmer.models import (
        ARTNetClassifier,
        FlowNetClassifier,
        MOLClassifier,
        MSRes3DClassifier,
        OffApexNetClassifier,
        SSSNetClassifier,
        STSTNet,
        STSTNetClassifier,
    )
    from skmer.preprocessing import (
        AmplifiedFlow,
        FaceCropper,
        Flatten,
        FlowExtractor,
        HeadMotionCompensator,
        KeyframeSelector,
        Magnifier,
        OnsetApexPairs,
        OpticalStrain,
        TemporalResampler,
    )
    from skmer.recipes import (
        FlipAugmentedClassifier,
        FlowAligner,
        FlowRecentre,
        GroupScaler,
        SeedEnsembleClassifier,
        megc2019_composite,
    )
    from skmer.spotting import MicroExpressionSpotter

    tiny_net = dict(max_epochs=1, batch_size=6, device="cpu",
                    module__input_size=(8, 8))
    return {
        "LBPTOP": [LBPTOP()],
        "BiWOOF": [BiWOOF()],
        "AmplifiedFlow": [AmplifiedFlow(alphas=(0.0, 4.0), method="dis",
                                        output_size=(12, 12))],
        "OnsetApexPairs": [OnsetApexPairs()],
        "FaceCropper": [FaceCropper(output_size=16, on_missing="center",
                                    detect_width=None)],
        "FlowExtractor": [FlowExtractor(method="dis")],
        "Flatten": [Flatten()],
        "MicroExpressionSpotter": [MicroExpressionSpotter("lbp", face="full",
                                                          window=0.01)],
        # the check clips hold no face: they come back unregistered
        "HeadMotionCompensator": [HeadMotionCompensator(on_missing="interpolate")],
        # bare arrays (no apex, no fps) are among the check data
        "KeyframeSelector": [KeyframeSelector(apex="label-or-middle")],
        "Magnifier": [Magnifier(fps=200.0)],
        "TemporalResampler": [TemporalResampler(n_frames=4)],
        "OpticalStrain": [OpticalStrain()],
        "MOLClassifier": [MOLClassifier(
            max_epochs=1, batch_size=6, module__width=0.125,
            module__corr_patch_size=3, aux_flow_method="farneback",
            landmark_source="none", device="cpu")],
        "STSTNetClassifier": [STSTNetClassifier(**tiny_net)],
        "OffApexNetClassifier": [OffApexNetClassifier(**tiny_net)],
        "FlowNetClassifier": [FlowNetClassifier(STSTNet, **tiny_net)],
        "SSSNetClassifier": [SSSNetClassifier(**{**tiny_net,
                                                 "module__input_size": (16, 16)})],
        "ARTNetClassifier": [ARTNetClassifier(max_epochs=1, batch_size=6,
                                              device="cpu")],
        "MSRes3DClassifier": [MSRes3DClassifier(
            max_epochs=1, batch_size=6, module__width=0.0625,
            module__hidden_features=8, device="cpu")],
        "GroupScaler": [GroupScaler(), GroupScaler(per_corpus=False)],
        "FlowAligner": [FlowAligner()],
        "FlowRecentre": [FlowRecentre(magnitude=True)],
        "FlipAugmentedClassifier": [
            FlipAugmentedClassifier(DummyClassifier(strategy="prior")),
            FlipAugmentedClassifier(megc2019_composite(models=("lr",)),
                                    tta=False)],
        "SeedEnsembleClassifier": [SeedEnsembleClassifier(
            LogisticRegression(max_iter=200), n_seeds=2)],
    }


def _array_data():
    """Inputs of the ``"array"`` suite: ``{name: (X, y)}``."""
    from skmer.recipes import make_composite_X

    rng = np.random.default_rng(0)
    y = np.arange(12) % 3
    images = rng.random((12, 3, 8, 8), dtype=np.float32)
    images16 = rng.random((12, 3, 16, 16), dtype=np.float32)  # SSSNet's smallest
    flow = rng.random((12, 2, 8, 8))
    amplified = (0.3 * rng.standard_normal((12, 2, 3, 12, 12))).astype(np.float32)
    # MSRes3D needs at least 9 frames of 17x17
    video = rng.normal(size=(12, 3, 9, 17, 17)).astype(np.float32)
    lm = np.array([[x, 100 + 0.3 * x] for x in np.linspace(40, 180, 68)])
    composite = make_composite_X(rng.random((12, 3, 28, 28)),
                                 lm[None] + rng.normal(0, 2, (12, 68, 2)))
    return {
        "OpticalStrain": (flow, None),
        "STSTNetClassifier": (images, y),
        "OffApexNetClassifier": (images, y),
        "FlowNetClassifier": (images, y),
        "SSSNetClassifier": (images16, y),
        "ARTNetClassifier": (amplified, y),
        "MSRes3DClassifier": (video, y),
        "FlowAligner": (composite, None),
        "FlowRecentre": (composite, None),
        "FlipAugmentedClassifier": (composite, y),
    }


# estimators whose input is neither generic 2-D data nor clips
ARRAY_INPUT = {
    "OpticalStrain": "flow arrays (n, 2 or 3, H, W)",
    "STSTNetClassifier": "flow images (n, 3, H, W)",
    "OffApexNetClassifier": "flow images (n, 3, H, W)",
    "FlowNetClassifier": "flow images (n, 3, H, W)",
    "SSSNetClassifier": "flow images (n, 3, H, W)",
    "ARTNetClassifier": "amplified flow (n, n_alphas, C, H, W)",
    "MSRes3DClassifier": "videos (n, C, T, H, W)",
    "FlowAligner": "the recipes' composite layout (2488 columns)",
    "FlowRecentre": "the recipes' composite layout (2488 columns)",
    "FlipAugmentedClassifier": "the recipes' composite layout (2488 columns)",
}

_SKORCH = ("skorch's NeuralNet sets attributes in __init__ (history_, "
           "initialized_, the prefixed parameters) and type-checks parameters in "
           "set_params: true of every skorch classifier")
_NETS = ("STSTNetClassifier", "OffApexNetClassifier", "FlowNetClassifier",
         "SSSNetClassifier", "ARTNetClassifier", "MSRes3DClassifier", "MOLClassifier")
# {estimator name: {check name: reason}}: the check must fail (strict xfail)
EXPECTED_FAILED = {
    name: {"check_no_attributes_set_in_init": _SKORCH, "check_set_params": _SKORCH}
    for name in _NETS
}
# {estimator name: {check name: reason}}: not run here, covered elsewhere
_MOL_TRAINING = (
    "trains MOL several times (~1.5 min on 2 cores): the same suite, same settings, "
    "runs in tests/models/test_mol.py::test_clip_estimator_checks")
NOT_RUN = {
    "MicroExpressionSpotter": {
        "check_clip_no_input_mutation": (
            "the check's bare arrays carry no frame rate, which the spotter requires "
            "(durations matter); no mutation is tested in tests/spotting"),
    },
    "MOLClassifier": {
        "check_clip_n_jobs_invariance": (
            "n_jobs parallelises the auxiliary targets only; tested with threads in "
            "tests/models/test_mol.py (a process pool costs ~30 s here)"),
        **{check: _MOL_TRAINING for check in (
            "check_clip_fit_returns_self", "check_clip_no_input_mutation",
            "check_clip_fit_idempotent", "check_clip_sample_order_invariance",
            "check_clip_input_containers", "check_clip_ragged_lengths",
            "check_clip_pickle", "check_clip_random_state")},
    },
    "FaceCropper": {
        "check_clip_n_jobs_invariance": (
            "each worker process loads dlib's 100 MB shape predictor; tested with "
            "threads on real clips in tests/preprocessing/test_face.py"),
    },
}


def suite_of(estimator):
    """The suite an estimator instance gets: "sklearn", "clip" or "array"."""
    name = type(estimator).__name__
    if name in ARRAY_INPUT:
        return "array"
    if get_tags(estimator).input_tags.two_d_array:
        return "sklearn"
    return "clip"


def _marked(name, pairs, instance=0):
    out = []
    for est, check in pairs:
        check_name = check.func.__name__
        marks = ()
        if check_name in EXPECTED_FAILED.get(name, {}):
            marks = pytest.mark.xfail(reason=EXPECTED_FAILED[name][check_name],
                                      strict=True)
        elif check_name in NOT_RUN.get(name, {}):
            marks = pytest.mark.skip(reason=NOT_RUN[name][check_name])
        out.append(pytest.param(est, check, marks=marks,
                                id=f"{name}{instance or ''}-{check_name}"))
    return out


INSTANCES = _instances()
_ARRAY_DATA = _array_data()


def _params(suite, make_checks):
    """pytest params of ``suite``: every instance of that suite, every check."""
    out = []
    for name, ests in INSTANCES.items():
        for i, est in enumerate(ests):
            if suite_of(est) == suite:
                out += _marked(name, make_checks(est), i)
    return out


# --------------------------------------------------------------------------------------
# guards
# --------------------------------------------------------------------------------------
def test_discovery_finds_the_estimators():
    names = [name for name, _ in all_estimators()]
    assert len(names) >= 15, names
    for expected in ("FlowExtractor", "LBPTOP", "GroupScaler", "STSTNetClassifier"):
        assert expected in names


@pytest.mark.parametrize("name, cls", all_estimators(), ids=lambda v: (
    v if isinstance(v, str) else ""))
def test_every_public_estimator_has_a_suite(name, cls):
    assert not hasattr(cls, "__skmer_tags__"), (
        f"{name} defines __skmer_tags__: skmer tags go in __sklearn_tags__ "
        "(skmer.utils.with_skmer_tags).")
    if name in NOT_CHECKED:
        assert NOT_CHECKED[name], f"{name} is not checked without a reason"
        return
    assert name in INSTANCES, (
        f"{name} is public but has no instance in INSTANCES "
        "(tests/test_all_estimators.py): add cheap settings for it.")
    for est in INSTANCES[name]:
        assert type(est) is cls
        suite = suite_of(est)
        if suite == "array":
            assert name in _ARRAY_DATA, f"{name} has no data for the array suite"
        if suite == "clip":
            # the clip suite is meaningful only for estimators that say so
            assert not get_tags(est).input_tags.two_d_array


def test_no_unknown_names_in_the_tables():
    public = {name for name, _ in all_estimators()}
    for table in (INSTANCES, ARRAY_INPUT, EXPECTED_FAILED, NOT_RUN, NOT_CHECKED):
        assert set(table) <= public, set(table) - public


# --------------------------------------------------------------------------------------
# the suites
# --------------------------------------------------------------------------------------
@parametrize_with_checks(
    [est for ests in INSTANCES.values() for est in ests
     if suite_of(est) == "sklearn"],
    expected_failed_checks=lambda est: EXPECTED_FAILED.get(type(est).__name__, {}))
def test_sklearn_suite(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator, check",
                         _params("clip", clip_estimator_checks))
def test_clip_suite(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator, check", _params(
    "array", lambda est: array_estimator_checks(
        est, *_ARRAY_DATA[type(est).__name__])))
def test_array_suite(estimator, check):
    check(estimator)
