"""House-keeping across the package: progress bars, logging, type hints."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import joblib
import numpy as np
import pytest

import skmer
from skmer.datasets._synthetic import make_micro_expressions

PACKAGE_DIR = Path(skmer.__file__).parent

# ----------------------------------------------------------------------- verbose


def _stages():
    from skmer.features import LBPTOP, BiWOOF
    from skmer.preprocessing import (
        AmplifiedFlow,
        FaceCropper,
        FlowExtractor,
        KeyframeSelector,
        Magnifier,
        OnsetApexPairs,
        TemporalResampler,
    )

    return [
        FaceCropper(output_size=24, on_missing="center"),
        KeyframeSelector(),
        TemporalResampler(n_frames=6),
        Magnifier(alpha=5.0),
        FlowExtractor(method="farneback", output_size=(16, 16)),
        LBPTOP(n_blocks=(2, 2), radii=(1, 1, 1)),
        BiWOOF(n_blocks=2, flow_method="farneback"),
        AmplifiedFlow(alphas=(0.0, 2.0), method="farneback", output_size=(16, 16)),
        OnsetApexPairs(),
    ]


def _assert_same(a, b):
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
        return
    assert len(a) == len(b)
    for ca, cb in zip(a, b):
        np.testing.assert_array_equal(np.asarray(ca), np.asarray(cb))
        for key in ("onset", "apex", "offset", "id", "label"):
            assert getattr(ca, key, None) == getattr(cb, key, None)


@pytest.fixture(scope="module")
def clips():
    X, _, _ = make_micro_expressions(n_clips=3, n_subjects=3, n_frames=8,
                                     frame_shape=(32, 32), random_state=0)
    return X


@pytest.mark.parametrize("stage", _stages(), ids=lambda s: type(s).__name__)
def test_verbose_shows_a_bar_and_keeps_the_output(stage, clips, capsys):
    assert stage.get_params()["verbose"] == 0
    quiet = stage.fit_transform(clips)
    assert capsys.readouterr().err == ""
    loud = stage.set_params(verbose=1).fit_transform(clips)
    err = capsys.readouterr().err
    assert type(stage).__name__ in err and "3/3" in err
    _assert_same(quiet, loud)


def test_verbose_with_n_jobs_keeps_the_order(clips, capsys):
    from skmer.preprocessing import TemporalResampler

    ref = TemporalResampler(n_frames=5, output="array").fit_transform(clips)
    with joblib.parallel_backend("threading", n_jobs=2):
        out = TemporalResampler(n_frames=5, output="array", n_jobs=2,
                                verbose=1).fit_transform(clips)
    assert "3/3" in capsys.readouterr().err
    np.testing.assert_array_equal(ref, out)


def test_verbose_is_validated(clips):
    from skmer.preprocessing import TemporalResampler

    with pytest.raises(ValueError, match="verbose"):
        TemporalResampler(verbose=-1).fit(clips)


# ------------------------------------------------------------------------ logging


def test_no_print_in_the_library():
    offenders = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if path.name == "cli.py" and path.parent == PACKAGE_DIR:
            continue  # the command line is the user interface: it may print
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "print"):
                offenders.append(f"{path.relative_to(PACKAGE_DIR)}:{node.lineno}")
    assert not offenders, f"print() in the library (use logging): {offenders}"


# --------------------------------------------------------------------- type hints

PUBLIC_MODULES = ["skmer.datasets", "skmer.preprocessing", "skmer.features",
                  "skmer.models", "skmer.metrics", "skmer.model_selection"]


def _ours(obj):
    return getattr(obj, "__module__", "").startswith("skmer")


def _public_callables():
    """(label, function) of every public function and method defined by skmer."""
    seen = {}
    for modname in PUBLIC_MODULES:
        mod = importlib.import_module(modname)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) and _ours(obj):
                seen.setdefault(obj, f"{modname}.{name}")
            elif inspect.isclass(obj):
                for klass in obj.__mro__:
                    if not _ours(klass):  # inherited from sklearn/skorch/torch
                        continue
                    for attr, val in vars(klass).items():
                        if attr.startswith("_") and attr != "__init__":
                            continue
                        if isinstance(val, (staticmethod, classmethod)):
                            val = val.__func__
                        elif isinstance(val, property):
                            val = val.fget
                        if inspect.isfunction(val):
                            seen.setdefault(val, f"{klass.__module__}."
                                                 f"{klass.__qualname__}.{attr}")
    return [(label, func) for func, label in seen.items()]


def _missing_annotations(func):
    sig = inspect.signature(inspect.unwrap(func))
    missing = [
        p.name for i, p in enumerate(sig.parameters.values())
        if p.annotation is inspect.Parameter.empty
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        and not (i == 0 and p.name in ("self", "cls"))
    ]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_the_walk_finds_the_public_api():
    labels = {label for label, _ in _public_callables()}
    assert "skmer.preprocessing.FaceCropper.transform" in {
        label.replace("._face", "") for label in labels}
    assert "skmer.model_selection.evaluate_loso" in labels
    assert len(labels) > 150


def test_missing_annotations_are_detected():
    def bare(self, a, b: int, *args, c=1, **kwargs) -> None:
        pass

    def no_return(x: int):
        pass

    assert _missing_annotations(bare) == ["a", "c"]
    assert _missing_annotations(no_return) == ["return"]


def test_public_api_is_annotated():
    missing = {label: m for label, func in _public_callables()
               if (m := _missing_annotations(func))}
    assert not missing, f"public functions/methods without type hints: {missing}"


def test_cli_main_is_annotated():
    from skmer import cli

    assert _missing_annotations(cli.main) == []


def test_skorch_epoch_bar_with_verbose_2(capsys):
    from skmer.models import STSTNetClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 3, 28, 28)).astype(np.float32)
    y = np.array(["a", "b"] * 4)
    kw = dict(max_epochs=2, batch_size=4, random_state=0, device="cpu")
    quiet = STSTNetClassifier(**kw).fit(X, y)
    assert "epoch_progress" not in dict(quiet.callbacks_)
    capsys.readouterr()
    loud = STSTNetClassifier(verbose=2, **kw).fit(X, y)
    out = capsys.readouterr()
    assert "STSTNetClassifier" in out.err and "2/2" in out.err
    assert dict(loud.callbacks_)["epoch_progress"].pbar_ is None  # closed
    np.testing.assert_allclose(quiet.predict_proba(X), loud.predict_proba(X),
                               rtol=1e-5, atol=1e-6)
