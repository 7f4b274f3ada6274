"""CPU smoke tests of the skorch classifiers (STYLE.md section 7.3)."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.utils.validation import check_is_fitted
from skorch.exceptions import NotInitializedError

from skmer.models import (
    ArrayBatchLoader,
    OffApexNet,
    OffApexNetClassifier,
    STSTNet,
    STSTNetClassifier,
)

SIZE = (12, 12)
CLASSIFIERS = [STSTNetClassifier, OffApexNetClassifier]


def _make(cls, **params):
    defaults = dict(max_epochs=2, batch_size=8, device="cpu", random_state=0,
                    module__input_size=SIZE)
    return cls(**{**defaults, **params})


def _data(n=12, n_classes=3, seed=0, labels=None):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3, *SIZE), dtype=np.float32)
    y = np.arange(n) % n_classes
    if labels is not None:
        y = np.asarray(labels)[y]
    groups = np.repeat(np.arange(n // 2), 2)
    return X, y, groups


@pytest.fixture(params=CLASSIFIERS, ids=lambda c: c.__name__)
def cls(request):
    return request.param


def test_defaults_and_module(cls):
    clf = cls()
    assert clf.device == "auto"
    assert clf.train_split is None
    assert clf.verbose == 0
    assert clf.random_state is None
    assert clf.classes is None
    assert clf.iterator_train__shuffle is True
    assert clf.module is {STSTNetClassifier: STSTNet,
                          OffApexNetClassifier: OffApexNet}[cls]


def test_clone_get_set_params(cls):
    clf = _make(cls, module__n_classes=3)
    params = clf.get_params()
    assert params["module__n_classes"] == 3
    assert params["random_state"] == 0
    assert params["lr_schedule"] == "cosine"
    clf.set_params(module__n_classes=4, lr=0.01, random_state=3)
    assert clf.get_params()["module__n_classes"] == 4
    cloned = clone(clf)
    assert cloned is not clf
    assert cloned.get_params()["module__n_classes"] == 4
    assert cloned.lr == 0.01 and cloned.random_state == 3
    X, y, _ = _data(n_classes=4)
    cloned.fit(X, y)
    assert cloned.module_.state_dict()  # built with 4 outputs
    assert cloned.predict_proba(X).shape == (12, 4)


def test_fit_predict_proba(cls):
    X, y, _ = _data()
    X_orig = X.copy()
    clf = _make(cls)
    assert clf.fit(X, y) is clf
    np.testing.assert_array_equal(X, X_orig)  # input not mutated
    proba = clf.predict_proba(X)
    assert proba.shape == (12, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert set(clf.predict(X)) <= {0, 1, 2}
    assert clf.device == "auto" or clf.device == "cpu"
    assert clf.input_shape_ == (3, *SIZE)
    assert len(clf.history) == 2


def test_device_auto_is_resolved_without_mutating_the_param(cls):
    X, y, _ = _data()
    clf = _make(cls, device="auto").fit(X, y)
    assert clf.device == "auto"
    assert clf.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    assert clf.predict(X).shape == (12,)
    assert clone(clf).device == "auto"


def test_pickle_round_trip(cls):
    X, y, _ = _data()
    clf = _make(cls).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_not_fitted(cls):
    X, _, _ = _data()
    clf = _make(cls)
    assert issubclass(NotInitializedError, NotFittedError)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    with pytest.raises(NotFittedError):
        clf.predict_proba(X)
    assert not hasattr(clf, "classes_")


def test_grid_search_with_loso_groups(cls):
    X, y, _ = _data()
    groups = np.repeat(np.arange(3), 4)
    search = GridSearchCV(
        _make(cls, max_epochs=1, classes=[0, 1, 2]),
        {"lr": [1e-3, 1e-2]},
        cv=LeaveOneGroupOut(),
    )
    search.fit(X, y, groups=groups)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.best_estimator_.predict(X).shape == (12,)


def test_random_state_reproducible(cls):
    X, y, _ = _data()
    p1 = _make(cls, random_state=7, max_epochs=1).fit(X, y).predict_proba(X)
    p2 = _make(cls, random_state=7, max_epochs=1).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    p3 = _make(cls, random_state=8, max_epochs=1).fit(X, y).predict_proba(X)
    assert not np.array_equal(p1, p3)


def test_string_labels_round_trip(cls):
    X, y, _ = _data(labels=["negative", "positive", "surprise"])
    clf = _make(cls).fit(X, y)
    assert clf.classes_.tolist() == ["negative", "positive", "surprise"]
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.predict(X).dtype.kind == "U"
    assert 0.0 <= clf.score(X, y) <= 1.0


def test_classes_fix_proba_columns(cls):
    X, y, _ = _data(n_classes=2)  # labels 0 and 1 only
    clf = _make(cls, classes=[0, 1, 2]).fit(X, y)
    assert clf.classes_.tolist() == [0, 1, 2]
    assert clf.predict_proba(X).shape == (12, 3)
    with pytest.raises(ValueError, match="not in classes"):
        _make(cls, classes=[0, 1]).fit(X, np.r_[y[:-1], 5])


def test_learns_easy_problem(cls):
    rng = np.random.default_rng(0)
    n = 30
    y = np.arange(n) % 3
    X = rng.normal(0.0, 0.05, (n, 3, *SIZE)).astype(np.float32)
    for k in range(3):  # a bright block at a class-specific place in u and v
        X[y == k, :2, 4 * k : 4 * k + 4, :] += 1.0
    clf = _make(cls, max_epochs=15, batch_size=10,
                lr={STSTNetClassifier: 3e-2, OffApexNetClassifier: 1e-3}[cls])
    assert clf.fit(X, y).score(X, y) >= 0.9


def test_bad_input_raises(cls):
    X, y, _ = _data()
    clf = _make(cls)
    with pytest.raises(ValueError, match=r"shape \(n_samples"):
        clf.fit(X[:, :1], y)  # one channel: too few for both nets
    with pytest.raises(ValueError, match=r"shape \(n_samples"):
        clf.fit(X[:, None], y)  # 5-D
    with pytest.raises(ValueError, match=r"shape \(n_samples"):
        clf.fit(X[:, :, :6, :6], y)  # other image size
    with pytest.raises(ValueError, match=r"shape \(n_samples"):
        clf.fit(X[:0], y[:0])  # empty
    X_nan = X.copy()
    X_nan[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_nan, y)
    with pytest.raises(ValueError, match="y must have shape"):
        clf.fit(X, y[:-1])
    clf.fit(X, y)
    with pytest.raises(ValueError, match="as in fit"):
        clf.predict(X[:, :, :6, :6])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(X_nan)


def test_ststnet_channel_count_must_match():
    X, y, _ = _data()
    with pytest.raises(ValueError, match=r"\(n_samples, 2, 12, 12\)"):
        _make(STSTNetClassifier, module__in_channels=2).fit(X, y)
    clf = _make(STSTNetClassifier, module__in_channels=2).fit(X[:, :2], y)
    assert clf.predict(X[:, :2]).shape == (12,)


def test_bad_options_raise():
    X, y, _ = _data()
    with pytest.raises(ValueError, match="class_weight"):
        _make(STSTNetClassifier, class_weight="nope").fit(X, y)
    with pytest.raises(ValueError, match="lr_schedule"):
        _make(STSTNetClassifier, lr_schedule="nope").fit(X, y)
    with pytest.raises(ValueError, match="n_classes"):
        _make(STSTNetClassifier, module__n_classes=2).fit(X, y)


def test_balanced_class_weight_reaches_the_loss():
    X, y, _ = _data()
    y = np.r_[np.zeros(8, int), np.ones(4, int)]
    clf = _make(STSTNetClassifier, class_weight="balanced").fit(X, y)
    torch.testing.assert_close(clf.criterion_.weight, torch.tensor([0.75, 1.5]))
    clf = _make(STSTNetClassifier, class_weight=None).fit(X, y)
    assert clf.criterion_.weight is None


def test_array_batch_loader():
    from skorch.dataset import Dataset

    X = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)
    loader = ArrayBatchLoader(Dataset(X, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    assert len(ArrayBatchLoader(Dataset(X, y), batch_size=4, drop_last=True)) == 2
    torch.manual_seed(0)
    shuffled = torch.cat([b[1] for b in ArrayBatchLoader(Dataset(X, y),
                                                         batch_size=3, shuffle=True)])
    assert sorted(shuffled.tolist()) == list(range(10))
    assert list(next(iter(ArrayBatchLoader(Dataset(X), batch_size=2)))[0].shape) == [
        2, 1]
    # anything else goes through torch's DataLoader
    fallback = ArrayBatchLoader(torch.utils.data.TensorDataset(torch.as_tensor(X)),
                                batch_size=5)
    assert len(list(fallback)) == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_mixed_precision(cls):
    X, y, _ = _data()
    clf = _make(cls, device="auto").fit(X, y)
    assert clf.device_ == "cuda"
    assert clf.grad_scaler_ is not None
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-3)


def test_import_skmer_does_not_import_torch():
    code = (
        "import sys, skmer, skmer.datasets; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
