"""Saved models: joblib round trips, version records, CUDA -> CPU loading."""

import os
import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

from skmer.datasets._synthetic import make_micro_expressions
from skmer.io import ModelVersionWarning, load_model, model_info, save_model
from skmer.predict import flatten_samples
from skmer.preprocessing import FlowExtractor


@pytest.fixture(scope="module")
def clips():
    X, y, _ = make_micro_expressions(n_clips=12, n_subjects=2, frame_shape=(32, 32),
                                     random_state=0)
    return X, y


def _flow():
    return FlowExtractor(method="dis", output_size=(28, 28), scale="minmax")


@pytest.fixture(scope="module")
def flow_images(clips):
    X, y = clips
    return _flow().fit_transform(X), y


def test_svm_pipeline_round_trip(tmp_path, clips):
    X, y = clips
    pipe = Pipeline([("flow", _flow()),
                     ("flatten", FunctionTransformer(flatten_samples)),
                     ("scale", StandardScaler()), ("svc", SVC(C=10.0))]).fit(X, y)
    path = save_model(pipe, tmp_path / "svm.joblib", metadata={"frame_shape": [32, 32]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same versions: no warning at all
        loaded = load_model(path)
    assert loaded is not pipe
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    np.testing.assert_array_equal(loaded.decision_function(X),
                                  pipe.decision_function(X))
    info = model_info(path)
    assert info["metadata"] == {"frame_shape": [32, 32]}
    assert info["versions"]["scikit-learn"] is not None
    assert info["versions"]["skmer"] is not None


def test_ststnet_pipeline_round_trip(tmp_path, clips):
    from skmer.models import STSTNetClassifier

    X, y = clips
    pipe = Pipeline([("flow", _flow()),
                     ("net", STSTNetClassifier(max_epochs=2, device="cpu",
                                               random_state=0))]).fit(X, y)
    path = save_model(pipe, tmp_path / "net.joblib")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    assert model_info(path)["versions"]["torch"] is not None


def test_version_mismatch_warns(tmp_path, monkeypatch):
    import skmer.io as io

    clf = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    real = io._versions()
    monkeypatch.setattr(io, "_versions",
                        lambda: {**real, "skmer": "0.0.1", "scikit-learn": "1.5.0"})
    path = save_model(clf, tmp_path / "old.joblib")
    monkeypatch.setattr(io, "_versions", lambda: real)
    with pytest.warns(ModelVersionWarning, match=r"skmer 0\.0\.1 -> .*scikit-learn "
                                                 r"1\.5\.0 ->"):
        loaded = load_model(path)
    assert loaded.predict([[1.0]]).tolist() == [1]


def test_plain_pickle_and_bad_files(tmp_path):
    clf = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    joblib.dump(clf, tmp_path / "plain.joblib")
    with pytest.warns(ModelVersionWarning, match="plain joblib pickle"):
        assert load_model(tmp_path / "plain.joblib").predict([[0.0]]).tolist() == [0]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "missing.joblib")
    (tmp_path / "junk.joblib").write_bytes(b"not a pickle at all")
    with pytest.raises((ValueError, pickle.UnpicklingError)):
        load_model(tmp_path / "junk.joblib")
    with pytest.raises(ValueError, match="metadata must be a dict"):
        save_model(clf, tmp_path / "x.joblib", metadata=[1])
    assert not list(tmp_path.glob(".tmp-*"))  # no temporary file left behind


@pytest.mark.filterwarnings("ignore::skorch.exceptions.DeviceWarning")
@pytest.mark.parametrize("device", ["auto", "cuda"])
def test_cuda_trained_state_loads_on_cpu(tmp_path, flow_images, monkeypatch, device):
    """skorch's unpickling path for a net whose state says it lives on CUDA.

    What this covers: a pickled net whose ``device`` (explicit "cuda") or
    ``device_`` (``device="auto"`` resolved on a GPU machine) say CUDA is loaded
    where ``torch.cuda.is_available()`` is False; skorch then maps the tensors with
    ``map_location="cpu"`` and the net predicts on the CPU.  What it does not: the
    tensors inside are CPU tensors (no CUDA here to make real ones); the real
    CUDA-tensor case is ``test_gpu_trained_model_predicts_without_cuda`` below,
    which runs where a GPU is present.
    """
    import torch

    from skmer.models import STSTNetClassifier

    X, y = flow_images
    net = STSTNetClassifier(max_epochs=2, device="cpu", random_state=0).fit(X, y)
    expected = net.predict_proba(X)
    net.device = device  # the state a GPU-trained net is pickled with
    net.device_ = "cuda"
    path = save_model(net, tmp_path / "gpu.joblib")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if device == "cuda":
        from skorch.exceptions import DeviceWarning

        with pytest.warns(DeviceWarning, match="CUDA"):
            loaded = load_model(path)
        assert str(loaded.device) == "cpu"
    else:
        loaded = load_model(path)
        assert loaded.device == "auto" and loaded.device_ == "cpu"
        assert loaded.grad_scaler_ is None
    assert next(loaded.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=0, atol=1e-6)


def test_torch_checkpoint_loads_weights_only(tmp_path, flow_images):
    import torch

    from skmer.models import STSTNetClassifier

    X, y = flow_images
    net = STSTNetClassifier(max_epochs=2, device="cpu", random_state=0).fit(X, y)
    net.save_params(f_params=tmp_path / "w.pt")
    state = torch.load(tmp_path / "w.pt", map_location="cpu", weights_only=True)
    assert set(state) == set(net.module_.state_dict())
    fresh = STSTNetClassifier(device="cpu", classes=net.classes_).initialize()
    fresh.input_shape_ = net.input_shape_
    fresh.load_params(f_params=tmp_path / "w.pt")  # skorch: weights_only=True
    np.testing.assert_array_equal(fresh.predict_proba(X), net.predict_proba(X))


_GPU_SCRIPT = """
import sys, numpy as np, torch
from skmer.io import load_model
assert not torch.cuda.is_available()
m = load_model(sys.argv[1])
X = np.load(sys.argv[2])
print(m.device_, next(m.module_.parameters()).device)
np.save(sys.argv[3], m.predict_proba(X))
"""


def test_gpu_trained_model_predicts_without_cuda(tmp_path, flow_images):
    """Train on CUDA, save, load in a process that sees no GPU, predict there."""
    import torch

    from skmer.models import STSTNetClassifier

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU to train the model on (covered on CPU by "
                    "test_cuda_trained_state_loads_on_cpu)")
    X, y = flow_images
    net = STSTNetClassifier(max_epochs=2, random_state=0).fit(X, y)  # device="auto"
    assert net.device_ == "cuda"
    assert next(net.module_.parameters()).is_cuda
    path = save_model(net, tmp_path / "gpu.joblib")
    np.save(tmp_path / "X.npy", X)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, "-c", _GPU_SCRIPT, str(path),
                          str(tmp_path / "X.npy"), str(tmp_path / "p.npy")],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["cpu", "cpu"]
    cpu_proba = np.load(tmp_path / "p.npy")
    # the GPU predicts in float16 autocast; the CPU in float32
    np.testing.assert_allclose(cpu_proba, net.predict_proba(X), atol=5e-3)
    np.testing.assert_array_equal(net.classes_[cpu_proba.argmax(1)], net.predict(X))
