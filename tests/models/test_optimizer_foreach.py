"""On the CPU the flow networks' optimiser takes the multi-tensor path, same result."""

import numpy as np
import pytest

from skmer.models import OffApexNetClassifier, STSTNetClassifier


def _data():
    rng = np.random.RandomState(0)
    X = rng.rand(48, 3, 28, 28).astype(np.float32)
    y = np.arange(48) % 3
    X[y == 1, 0] += 0.5
    return X, y


@pytest.mark.parametrize("cls", [STSTNetClassifier, OffApexNetClassifier])
def test_foreach_on_cpu_gives_identical_weights(cls):
    X, y = _data()
    kw = {"max_epochs": 4, "batch_size": 16, "device": "cpu", "random_state": 0}
    fast = cls(**kw).fit(X, y)
    plain = cls(**kw, optimizer__foreach=False).fit(X, y)
    assert fast.optimizer_.defaults["foreach"] is True
    assert plain.optimizer_.defaults["foreach"] is False
    np.testing.assert_array_equal(fast.predict_proba(X), plain.predict_proba(X))
    for (name, a), b in zip(fast.module_.state_dict().items(),
                            plain.module_.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    # the hyper-parameters are left as given
    assert "optimizer__foreach" not in fast.get_params()
