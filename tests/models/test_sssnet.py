"""SSSNet: the torch module, its builder and SSSNetClassifier (CPU smoke tests)."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback

from skmer.models import SSSNet, SSSNetClassifier, get_model, list_models, sssnet
from skmer.models._sssnet import _SGDMomentum

SIZE = (16, 16)  # the smallest input SSSNet accepts: keeps the tests fast

# name, type and output shape (without the batch axis) of every layer, in call
# order, for a 28x28 and a 64x64 input
LAYERS = ["conv1", "relu1", "pool1", "bn1", "drop1",
          "conv2", "relu2", "pool2", "bn2", "drop2",
          "flatten", "fc1", "relu3", "drop3", "fc2"]
TYPES = [torch.nn.Conv2d, torch.nn.ReLU, torch.nn.MaxPool2d, torch.nn.BatchNorm2d,
         torch.nn.Dropout2d] * 2 + [torch.nn.Flatten, torch.nn.Linear, torch.nn.ReLU,
                                   torch.nn.Dropout, torch.nn.Linear]


def _shapes(side1, side2):
    a, b = side1, side2
    return [(32, a, a)] * 2 + [(32, b, b)] * 3


SHAPES = {
    28: _shapes(24, 8) + [(64, 6, 6)] * 2 + [(64, 3, 3)] * 3
    + [(576,), (256,), (256,), (256,), (3,)],
    64: _shapes(60, 20) + [(64, 18, 18)] * 2 + [(64, 9, 9)] * 3
    + [(5184,), (256,), (256,), (256,), (3,)],
}


# ---------------------------------------------------------------------- module
@pytest.mark.parametrize(("size", "n_params", "n_features"),
                         [(28, 169_603, 576), (64, 1_349_251, 5184)])
def test_parameter_count_and_output_shape(size, n_params, n_features):
    net = SSSNet(input_size=(size, size))
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == n_params
    assert net.n_features == n_features
    assert net.fc1.in_features == n_features
    assert net(torch.zeros(4, 3, size, size)).shape == (4, 3)
    # 28x28: conv1 2,432 + bn1 64 + conv2 18,496 + bn2 128 + fc1 147,712 + fc2 771
    if size == 28:
        counts = {name: sum(p.numel() for p in getattr(net, name).parameters())
                  for name in ("conv1", "bn1", "conv2", "bn2", "fc1", "fc2")}
        assert counts == {"conv1": 2432, "bn1": 64, "conv2": 18496, "bn2": 128,
                          "fc1": 147712, "fc2": 771}


@pytest.mark.parametrize("size", [28, 64])
def test_layer_order_and_shapes_with_forward_hooks(size):
    net = SSSNet(input_size=(size, size)).train()
    seen = []
    for name, layer in net.named_children():
        layer.register_forward_hook(
            lambda mod, inp, out, name=name: seen.append(
                (name, type(mod), tuple(out.shape[1:]))))
    net(torch.randn(2, 3, size, size))
    assert [s[0] for s in seen] == LAYERS
    assert [s[1] for s in seen] == TYPES
    assert [s[2] for s in seen] == SHAPES[size]


def test_layer_settings():
    net = SSSNet(dropout=0.3)
    assert (net.conv1.in_channels, net.conv1.out_channels) == (3, 32)
    assert net.conv1.kernel_size == (5, 5) and net.conv1.stride == (1, 1)
    assert net.conv1.padding == (0, 0)
    assert (net.conv2.in_channels, net.conv2.out_channels) == (32, 64)
    assert net.conv2.kernel_size == (3, 3) and net.conv2.stride == (1, 1)
    assert (net.pool1.kernel_size, net.pool1.stride) == (3, 3)
    assert (net.pool2.kernel_size, net.pool2.stride) == (2, 2)
    assert net.bn1.num_features == 32 and net.bn2.num_features == 64
    assert net.drop1.p == net.drop2.p == net.drop3.p == 0.3
    assert (net.fc1.out_features, net.fc2.in_features) == (256, 256)


def test_other_shapes_and_classes():
    net = SSSNet(in_channels=2, n_classes=5, input_size=(40, 30))
    assert net(torch.zeros(3, 2, 40, 30)).shape == (3, 5)
    # 40: 36 -> 12 -> 10 -> 5; 30: 26 -> 8 -> 6 -> 3
    assert net.n_features == 64 * 5 * 3
    assert SSSNet(input_size=(16, 16)).n_features == 64


@pytest.mark.parametrize("size", [(15, 15), (15, 28), (28, 8), (4, 4)])
def test_too_small_input_size_raises(size):
    with pytest.raises(ValueError, match="too small; both sides must be at least 16"):
        SSSNet(input_size=size)


@pytest.mark.parametrize("size", [28, (28,), "28x28", None])
def test_malformed_input_size_raises(size):
    with pytest.raises(ValueError, match="input_size must be a pair"):
        SSSNet(input_size=size)


def test_forward_checks_the_input_shape():
    net = SSSNet()
    with pytest.raises(ValueError, match=r"expected input of shape \(n, 3, 28, 28\)"):
        net(torch.zeros(2, 2, 28, 28))  # wrong channels
    with pytest.raises(ValueError, match=r"got \(2, 3, 32, 32\)"):
        net(torch.zeros(2, 3, 32, 32))  # other size
    with pytest.raises(ValueError, match="expected input"):
        net(torch.zeros(3, 28, 28))  # no batch axis


def test_registry_and_local_weights(tmp_path):
    assert "sssnet" in list_models()
    assert isinstance(get_model("SSSNet"), SSSNet)
    assert get_model("sssnet", n_classes=5, input_size=(64, 64)).fc2.out_features == 5
    net = SSSNet()
    path = tmp_path / "sssnet.pt"
    torch.save(net.state_dict(), path)
    loaded = sssnet(weights=path)
    for key, value in net.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)


# ------------------------------------------------------------------ classifier
def _make(**params):
    defaults = dict(max_epochs=2, batch_size=8, device="cpu", random_state=0,
                    module__input_size=SIZE)
    return SSSNetClassifier(**{**defaults, **params})


def _data(n=12, n_classes=3, seed=0, labels=None, size=SIZE):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3, *size), dtype=np.float32)
    y = np.arange(n) % n_classes
    if labels is not None:
        y = np.asarray(labels)[y]
    return X, y


def test_defaults_are_the_published_recipe():
    clf = SSSNetClassifier()
    assert clf.module is SSSNet
    assert clf.optimizer is _SGDMomentum and issubclass(_SGDMomentum,
                                                        torch.optim.SGD)
    assert clf.lr == 1e-2 and clf.optimizer__weight_decay == 1e-3
    assert (clf.batch_size, clf.max_epochs) == (128, 200)
    assert clf.lr_schedule is None and clf.class_weight is None
    assert clf.criterion is torch.nn.CrossEntropyLoss
    assert clf.device == "auto" and clf.train_split is None
    assert clf.random_state is None and clf.classes is None and clf.verbose == 0
    X, y = _data(size=(28, 28))
    fitted = SSSNetClassifier(max_epochs=1, device="cpu", random_state=0).fit(X, y)
    group = fitted.optimizer_.param_groups[0]
    assert type(fitted.optimizer_) is _SGDMomentum
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (1e-2, 0.9,
                                                                       1e-3)
    assert fitted.module_.input_size == (28, 28)


def test_clone_get_set_params():
    clf = _make(module__n_classes=3)
    params = clf.get_params()
    assert params["module__n_classes"] == 3
    assert params["optimizer__weight_decay"] == 1e-3
    clf.set_params(module__n_classes=4, lr=0.05, random_state=3)
    cloned = clone(clf)
    assert cloned is not clf
    assert cloned.get_params()["module__n_classes"] == 4
    assert cloned.lr == 0.05 and cloned.random_state == 3
    assert cloned.optimizer is _SGDMomentum
    X, y = _data(n_classes=4)
    assert cloned.fit(X, y).predict_proba(X).shape == (12, 4)


def test_fit_predict_proba():
    X, y = _data()
    X_orig = X.copy()
    clf = _make()
    assert clf.fit(X, y) is clf
    np.testing.assert_array_equal(X, X_orig)  # input not mutated
    proba = clf.predict_proba(X)
    assert proba.shape == (12, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert set(clf.predict(X)) <= {0, 1, 2}
    assert clf.input_shape_ == (3, *SIZE)
    assert len(clf.history) == 2


def test_fit_predict_64x64():
    X, y = _data(n=6, size=(64, 64))
    clf = _make(max_epochs=1, module__input_size=(64, 64)).fit(X, y)
    assert clf.predict_proba(X).shape == (6, 3)
    assert clf.module_.n_features == 5184


def test_device_auto_is_resolved_without_mutating_the_param():
    X, y = _data()
    clf = _make(device="auto").fit(X, y)
    assert clf.device == "auto"
    assert clf.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    assert clone(clf).device == "auto"


def test_pickle_round_trip():
    X, y = _data()
    clf = _make().fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_not_fitted():
    X, _ = _data()
    clf = _make()
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    with pytest.raises(NotFittedError):
        clf.predict_proba(X)
    assert not hasattr(clf, "classes_")


def test_grid_search_with_loso_groups():
    X, y = _data()
    groups = np.repeat(np.arange(3), 4)
    search = GridSearchCV(_make(max_epochs=1, classes=[0, 1, 2]),
                          {"lr": [1e-3, 1e-2]}, cv=LeaveOneGroupOut())
    search.fit(X, y, groups=groups)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.best_estimator_.predict(X).shape == (12,)


def test_random_state_reproducible():
    X, y = _data()
    p1 = _make(random_state=7).fit(X, y).predict_proba(X)
    p2 = _make(random_state=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    p3 = _make(random_state=8).fit(X, y).predict_proba(X)
    assert not np.array_equal(p1, p3)


def test_string_labels_and_classes():
    X, y = _data(labels=["negative", "positive", "surprise"])
    clf = _make().fit(X, y)
    assert clf.classes_.tolist() == ["negative", "positive", "surprise"]
    assert clf.predict(X).dtype.kind == "U"
    X, y = _data(n_classes=2)
    clf = _make(classes=[0, 1, 2]).fit(X, y)
    assert clf.predict_proba(X).shape == (12, 3)


def test_learns_easy_problem():
    rng = np.random.default_rng(0)
    n = 30
    y = np.arange(n) % 3
    X = rng.normal(0.0, 0.05, (n, 3, *SIZE)).astype(np.float32)
    for k in range(3):  # a bright block at a class-specific place in u and v
        X[y == k, :2, 5 * k : 5 * k + 5, :] += 1.0
    clf = _make(max_epochs=20, batch_size=10)
    assert clf.fit(X, y).score(X, y) >= 0.9


def test_other_optimizer():
    X, y = _data()
    clf = _make(optimizer=torch.optim.Adam, lr=1e-4).fit(X, y)
    assert type(clf.optimizer_) is torch.optim.Adam
    assert clf.optimizer_.param_groups[0]["weight_decay"] == 1e-3


def test_bad_input_raises():
    X, y = _data()
    clf = _make()
    with pytest.raises(ValueError, match=r"shape \(n_samples, 3, 16, 16\)"):
        clf.fit(X[:, :2], y)  # wrong number of channels
    with pytest.raises(ValueError, match=r"shape \(n_samples"):
        clf.fit(X[:, None], y)  # 5-D
    with pytest.raises(ValueError, match=r"shape \(n_samples"):
        clf.fit(np.zeros((12, 3, 20, 20), np.float32), y)  # not the input_size
    with pytest.raises(ValueError, match=r"shape \(n_samples"):
        clf.fit(X[:0], y[:0])  # empty
    with pytest.raises(ValueError, match="too small"):  # the size itself too small
        _make(module__input_size=(12, 12)).fit(X[:, :, :12, :12], y)
    X_nan = X.copy()
    X_nan[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_nan, y)
    with pytest.raises(ValueError, match="y must have shape"):
        clf.fit(X, y[:-1])
    with pytest.raises(ValueError, match="n_classes"):
        _make(module__n_classes=2).fit(X, y)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="as in fit"):
        clf.predict(X[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(X_nan)


def test_channel_count_follows_the_module():
    X, y = _data()
    with pytest.raises(ValueError, match=r"\(n_samples, 2, 16, 16\)"):
        _make(module__in_channels=2).fit(X, y)
    clf = _make(module__in_channels=2).fit(X[:, :2], y)
    assert clf.predict(X[:, :2]).shape == (12,)


class _DeviceProbe(Callback):
    def __init__(self):
        self.seen = []

    def on_batch_begin(self, net, **kwargs):
        self.seen.append(net.device)


def test_fit_mutates_no_param_and_no_global_flag():
    X, y = _data(n=8)
    probe = _DeviceProbe()
    clf = SSSNetClassifier(module__input_size=SIZE, max_epochs=1, batch_size=4,
                           random_state=0, callbacks=[probe])
    before = clf.get_params(deep=False)
    threads = torch.get_num_threads()
    benchmark = torch.backends.cudnn.benchmark
    clf.fit(X, y).predict_proba(X)
    after = clf.get_params(deep=False)
    assert after.keys() == before.keys()
    assert all(before[k] is after[k] or before[k] == after[k] for k in before)
    assert probe.seen and set(probe.seen) == {"auto"}
    assert torch.get_num_threads() == threads
    assert torch.backends.cudnn.benchmark == benchmark


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_mixed_precision():
    X, y = _data()
    clf = _make(device="auto").fit(X, y)
    assert clf.device_ == "cuda" and clf.grad_scaler_ is not None
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-3)


def test_docstring_documents_every_parameter_with_its_default():
    import inspect

    doc = SSSNetClassifier.__doc__
    assert "%(" not in doc  # the shared entries were filled in
    section = doc.split("Parameters\n    ----------\n", 1)[1].split("\n\n    ")[0]
    documented = {}
    for line in section.splitlines():
        if line.startswith("    ") and not line.startswith("     "):
            name, _, rest = line.strip().partition(" : ")
            documented[name] = rest
    signature = inspect.signature(SSSNetClassifier.__init__).parameters
    expected = {n if p.kind != p.VAR_KEYWORD else "**kwargs"
                for n, p in signature.items() if n != "self"}
    assert set(documented) == expected
    assert documented["lr"].endswith("default=0.01")
    assert documented["max_epochs"].endswith("default=200")
    assert documented["batch_size"].endswith("default=128")
    assert documented["optimizer__weight_decay"].endswith("default=1e-3")
