"""Flatten: flow images -> feature rows, inside a scikit-learn Pipeline."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmer.datasets import make_micro_expressions
from skmer.preprocessing import Flatten, FlowExtractor


@parametrize_with_checks([Flatten()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_flow_extractor_flatten_logistic_regression_pipeline():
    """The pipeline a new user writes, without a hand-made FunctionTransformer."""
    X, y, _ = make_micro_expressions(n_clips=12, n_subjects=3, random_state=0)
    pipe = Pipeline([
        ("flow", FlowExtractor(method="dis", output_size=(8, 8), scale="minmax")),
        ("flat", Flatten()),
        ("clf", LogisticRegression()),
    ])
    pipe.fit(X, y)
    proba = pipe.predict_proba(X)
    assert proba.shape == (12, len(np.unique(y)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    flat = pipe[:2].transform(X)
    images = pipe[:1].transform(X)
    assert flat.shape == (12, 3 * 8 * 8)
    np.testing.assert_array_equal(flat, images.reshape(12, -1))
    assert pipe.named_steps["flat"].sample_shape_ == (3, 8, 8)
    names = pipe.named_steps["flat"].get_feature_names_out()
    assert len(names) == 192 and names[0] == "flatten0"
    # pickles and clones like any scikit-learn pipeline
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(again.predict(X), pipe.predict(X))
    assert clone(pipe).named_steps["flat"].get_params() == {}


def test_stateless_and_shape_checked():
    X = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    out = Flatten().transform(X)  # no fit needed
    assert out.shape == (2, 60) and out.dtype == np.float32
    assert out[1, 0] == X[1, 0, 0, 0] and out[0, 59] == X[0, 2, 3, 4]
    flat = Flatten().fit(X)
    assert flat.n_features_in_ == 3
    with pytest.raises(ValueError, match=r"shape \(3, 4, 5\); got samples of shape "
                                         r"\(3, 5, 4\)"):
        flat.transform(X.transpose(0, 1, 3, 2))
    with pytest.raises(ValueError):
        Flatten().fit_transform(np.zeros(4))  # 1-D: no samples axis
