"""Tests of the train-time augmentation RandomShiftFlip."""

import numpy as np
import pytest
import torch

from skmer.models import RandomShiftFlip


def _batch(shape=(6, 3, 10, 12), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _expected(x, dy, dx, flip, padding="zero"):
    """Reference: out[..., y, x] = flipped[..., y - dy, x - dx] by explicit loops."""
    h, w = x.shape[-2:]
    src = x[..., :, ::-1] if flip else x
    out = np.zeros_like(x)
    for yy in range(h):
        for xx in range(w):
            sy, sx = yy - dy, xx - dx
            inside = 0 <= sy < h and 0 <= sx < w
            if padding == "zero" and not inside:
                continue
            out[..., yy, xx] = src[..., min(max(sy, 0), h - 1), min(max(sx, 0), w - 1)]
    return out


@pytest.mark.parametrize("shape", [(6, 3, 10, 12), (4, 2, 5, 8, 9)])
@pytest.mark.parametrize("padding", ["zero", "edge"])
def test_shift_and_flip_follow_the_drawn_parameters(shape, padding):
    X = _batch(shape)
    X_before = X.copy()
    aug = RandomShiftFlip(max_shift=3, padding=padding, random_state=0)
    out = aug(X)
    shifts, flips = RandomShiftFlip(max_shift=3, random_state=0).draw(shape[0])
    assert out.shape == X.shape and out.dtype == X.dtype
    np.testing.assert_array_equal(X, X_before)  # input untouched
    assert flips.any() and (~flips).any() and np.abs(shifts).max() > 0
    for i in range(shape[0]):
        dy, dx = shifts[i]
        # the same shift and flip for every channel and every frame of a sample
        np.testing.assert_array_equal(out[i], _expected(X[i], dy, dx, flips[i],
                                                        padding))


def test_shift_moves_a_dot_by_the_drawn_amount():
    X = np.zeros((8, 1, 31, 31), dtype=np.float32)
    X[:, 0, 15, 15] = 1.0
    aug = RandomShiftFlip(max_shift=15, p_flip=0.0, random_state=3)
    shifts, _ = RandomShiftFlip(max_shift=15, random_state=3).draw(8)
    out = aug(X)
    assert np.abs(shifts).max() <= 15
    for i, (dy, dx) in enumerate(shifts):
        assert out[i, 0].sum() == 1.0
        assert out[i, 0, 15 + dy, 15 + dx] == 1.0
    # zero padding: uncovered border is 0; edge padding repeats the border
    ones = np.ones((1, 1, 6, 6), dtype=np.float32)
    shift = RandomShiftFlip(max_shift=5, p_flip=0.0, random_state=0)
    dy, dx = RandomShiftFlip(max_shift=5, random_state=0).draw(1)[0][0]
    assert (dy, dx) != (0, 0)
    assert shift(ones).sum() == (6 - abs(dy)) * (6 - abs(dx))
    edge = RandomShiftFlip(max_shift=5, p_flip=0.0, padding="edge", random_state=0)
    np.testing.assert_array_equal(edge(ones), ones)


def test_flip_negates_u_only():
    X = _batch((3, 3, 4, 5, 6))
    out = RandomShiftFlip(max_shift=0, p_flip=1.0, flow_channels=(0,))(X)
    np.testing.assert_array_equal(out[:, 0], -X[:, 0, ..., ::-1])
    np.testing.assert_array_equal(out[:, 1:], X[:, 1:, ..., ::-1])
    # min-max scaled flow images: u -> flow_max - u
    scaled = np.random.default_rng(1).random((2, 3, 5, 5)).astype(np.float32)
    out = RandomShiftFlip(max_shift=0, p_flip=1.0, flow_channels=(0,),
                          flow_max=1.0)(scaled)
    np.testing.assert_allclose(out[:, 0], 1.0 - scaled[:, 0, :, ::-1])
    np.testing.assert_array_equal(out[:, 2], scaled[:, 2, :, ::-1])
    # no flip: nothing negated; p_flip=0 and max_shift=0 is the identity
    same = RandomShiftFlip(max_shift=0, p_flip=0.0, flow_channels=(0,))(X)
    np.testing.assert_array_equal(same, X)


def test_flow_flip_matches_flipping_the_motion():
    # a blob moving right (u > 0) becomes, after a flip, a blob moving left
    from skmer.preprocessing._flow import optical_flow

    yy, xx = np.mgrid[0:32, 0:32]
    frames = [np.rint(200 * np.exp(-((xx - cx) ** 2 + (yy - 16) ** 2) / 18.0))
              .astype(np.uint8) for cx in (14, 16)]
    flow = optical_flow(frames[0], frames[1], method="farneback")
    flow_of_flipped = optical_flow(frames[0][:, ::-1], frames[1][:, ::-1],
                                   method="farneback")
    batch = np.moveaxis(flow, -1, 0)[None].astype(np.float32)
    out = RandomShiftFlip(max_shift=0, p_flip=1.0, flow_channels=(0,))(batch)[0]
    ref = np.moveaxis(flow_of_flipped, -1, 0)
    centre = (slice(10, 22), slice(8, 24))
    assert np.sign(out[0][centre].mean()) == np.sign(ref[0][centre].mean()) == -1
    np.testing.assert_allclose(out[0][centre].mean(), ref[0][centre].mean(),
                               rtol=0.2)


def test_reproducible_with_a_seed():
    X = _batch()
    a1, a2 = RandomShiftFlip(random_state=7), RandomShiftFlip(random_state=7)
    first = a1(X)
    np.testing.assert_array_equal(first, a2(X))
    second = a1(X)
    np.testing.assert_array_equal(second, a2(X))
    assert not np.array_equal(first, second)  # successive batches differ
    np.testing.assert_array_equal(a1.reset()(X), first)
    assert not np.array_equal(RandomShiftFlip(random_state=8)(X), first)


def test_torch_tensors_match_numpy():
    X = _batch((5, 2, 3, 8, 8))
    ref = RandomShiftFlip(max_shift=4, flow_channels=(0,), random_state=1)(X)
    t = torch.from_numpy(X.copy())
    out = RandomShiftFlip(max_shift=4, flow_channels=(0,), random_state=1)(t)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), ref)
    np.testing.assert_array_equal(t.numpy(), X)  # input untouched


def test_integer_images_keep_their_dtype():
    X = np.random.default_rng(2).integers(0, 256, (4, 3, 8, 8)).astype(np.uint8)
    out = RandomShiftFlip(max_shift=2, random_state=0)(X)
    assert out.dtype == np.uint8 and out.shape == X.shape


def test_bad_input():
    X = _batch()
    with pytest.raises(ValueError, match="max_shift"):
        RandomShiftFlip(max_shift=-1)(X)
    with pytest.raises(ValueError, match="p_flip"):
        RandomShiftFlip(p_flip=1.5)(X)
    with pytest.raises(ValueError, match="padding"):
        RandomShiftFlip(padding="reflect")(X)
    with pytest.raises(ValueError, match="flow_channels"):
        RandomShiftFlip(flow_channels=(3,))(X)
    with pytest.raises(ValueError, match="flow_max"):
        RandomShiftFlip(flow_channels=(0,), flow_max=0)(X)
    with pytest.raises(ValueError, match="unsigned"):
        RandomShiftFlip(flow_channels=(0,))(X.astype(np.uint8))
    with pytest.raises(ValueError, match="shape"):
        RandomShiftFlip()(X[0])
    with pytest.raises(TypeError, match="ndarray or a torch.Tensor"):
        RandomShiftFlip()(X.tolist())
