import numpy as np
import pytest

from skmer.datasets import Clip, ClipSequence
from skmer.utils.validation import check_clips, check_loso_inputs


def test_check_clips_wraps_without_copying():
    a = np.zeros((4, 8, 8), np.float32)
    clip = Clip(np.ones((3, 8, 8)), apex=1)
    out = check_clips([a, clip])
    assert out[0].frames is a and out[1] is clip
    out = check_clips(ClipSequence([clip]))
    assert out[0] is clip


def test_check_clips_batch_array():
    out = check_clips(np.zeros((2, 3, 4, 4)))
    assert len(out) == 2 and out[0].shape == (3, 4, 4)
    with pytest.raises(ValueError, match="n_clips, n_frames"):
        check_clips(np.zeros((3, 4, 4)))


@pytest.mark.parametrize(
    "X, kwargs, match",
    [
        ([], {}, "X is empty"),
        ([np.zeros((4, 4))], {}, "must have shape"),
        ([np.zeros((2, 4, 4, 3, 1))], {}, "must have shape"),
        ([np.zeros((1, 4, 4))], {"ensure_min_frames": 2}, "at least 2"),
        ([np.full((2, 4, 4), np.nan)], {}, "NaN"),
        ([np.zeros((2, 4, 4))], {"frame_shape": (5, 4)}, "fitted on frames"),
        ([np.zeros((2, 4, 4), dtype=object)], {}, "numeric"),
        ([np.zeros((2, 4, 4)), np.zeros((3, 4, 4)), np.zeros((2, 4, 5))],
         {"same_shape": True}, r"clip 2 has frame shape \(4, 5\) but clip 0 has"),
        ([np.zeros((2, 4, 4)), np.zeros((2, 4, 4, 3))],
         {"same_shape": True}, "share one frame size"),
    ],
)
def test_check_clips_errors(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_clips(X, **kwargs)


def test_check_clips_same_shape_allows_other_lengths():
    # one frame size, any number of frames; off by default (ragged sizes pass)
    X = [np.zeros((2, 4, 4)), np.zeros((5, 4, 4))]
    assert len(check_clips(X, same_shape=True)) == 2
    assert len(check_clips([np.zeros((2, 4, 4)), np.zeros((2, 6, 4))])) == 2


def test_check_clips_names_the_estimator_and_type_errors():
    with pytest.raises(ValueError, match="^Foo: X is empty"):
        check_clips([], estimator="Foo")
    with pytest.raises(TypeError, match="sequence of clips"):
        check_clips("abc")
    with pytest.raises(TypeError, match="element 1"):
        check_clips([np.zeros((2, 2, 2)), 3])


def test_check_clips_allows_nan_on_request_and_does_not_mutate():
    a = np.full((2, 4, 4), np.nan)
    check_clips([a], allow_nan=True)
    assert np.isnan(a).all()


def test_check_loso_inputs():
    X = np.zeros((4, 2))
    y, g = check_loso_inputs(X, [0, 1, 0, 1], ["a", "a", "b", "b"])
    assert y.shape == g.shape == (4,)
    with pytest.raises(ValueError, match="same length; got X=4, y=3, groups=4"):
        check_loso_inputs(X, [0, 1, 0], ["a", "a", "b", "b"])
    with pytest.raises(ValueError, match="datasets=2"):
        check_loso_inputs(X, [0, 1, 0, 1], ["a", "a", "b", "b"], ["x", "y"])
    with pytest.raises(ValueError, match="X is empty"):
        check_loso_inputs([], [], [])
    with pytest.raises(ValueError, match="at least 2 distinct groups"):
        check_loso_inputs(X, [0, 1, 0, 1], ["a"] * 4)
    with pytest.raises(ValueError, match="groups is required"):
        check_loso_inputs(X, [0, 1, 0, 1], None)
