"""Tests of the amplified-flow stages AmplifiedFlow and OnsetApexPairs (torch-free;
their RAFT path is tested with ARTNet in tests/models/test_artnet.py)."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from scipy.ndimage import shift as nd_shift

from skmer.datasets import Clip
from skmer.datasets._synthetic import make_micro_expressions
from skmer.preprocessing import (
    AmplifiedFlow,
    FlowExtractor,
    OnsetApexPairs,
    amplified_flow,
    check_alphas,
)
from skmer.utils.estimator_checks import parametrize_with_clip_checks


@pytest.fixture(scope="module")
def me_data():
    return make_micro_expressions(12, n_subjects=3, n_classes=3, n_frames=6,
                                  frame_shape=(24, 24), random_state=0)


def test_check_alphas():
    assert check_alphas((0, 2, 4.5)) == (0.0, 2.0, 4.5)
    for bad in ([], "2", 3.0, [1.0, -1.0], [np.nan], [True]):
        with pytest.raises(ValueError, match="alphas"):
            check_alphas(bad)


# --------------------------------------------------------------------------------------
# AmplifiedFlow / OnsetApexPairs
# --------------------------------------------------------------------------------------
@parametrize_with_clip_checks([AmplifiedFlow(alphas=(0.0, 4.0), method="dis",
                                             output_size=(12, 12)),
                               OnsetApexPairs()])
def test_clip_estimator_suite(estimator, check):
    check(estimator)


def test_amplified_flow_alpha_zero_equals_flow_extractor(me_data):
    X = me_data[0][:4]
    got = AmplifiedFlow(alphas=(0.0,)).fit_transform(X)
    want = FlowExtractor().fit_transform(X)
    assert got.shape == (4, 1, 3, 24, 24)
    np.testing.assert_array_equal(got[:, 0], want)


def test_amplified_flow_magnifies_the_motion():
    rng = np.random.default_rng(0)
    texture = gaussian_filter(rng.random((48, 48)), 3.0, mode="wrap")
    texture = 40 + 170 * (texture - texture.min()) / np.ptp(texture)
    apex = nd_shift(texture, (0.0, 0.2), mode="wrap")  # 0.2 px to the right
    flows = amplified_flow(texture, apex, [0.0, 4.0], method="farneback",
                           lambda_c=None)
    u = np.median(flows[:, 12:-12, 12:-12, 0], axis=(1, 2))
    v = np.median(flows[:, 12:-12, 12:-12, 1], axis=(1, 2))
    assert 0.1 < u[0] < 0.3
    assert 3.5 < u[1] / u[0] < 6.5  # about 1 + alpha = 5 times the motion
    assert np.all(np.abs(v) < 0.1)
    assert np.all(amplified_flow(texture, texture, [0.0, 4.0]) == 0)


def test_amplified_flow_bad_parameters(me_data):
    X = me_data[0][:3]
    with pytest.raises(ValueError, match=">= 0"):
        AmplifiedFlow(alphas=(0.0, -1.0)).fit(X)
    with pytest.raises(ValueError, match="raft_weights"):
        AmplifiedFlow(method="raft").fit(X)
    with pytest.raises(ValueError, match="Unknown parameter"):
        AmplifiedFlow(flow_params={"bogus": 1}).fit(X)
    frames = np.zeros((5, 24, 24), dtype=np.uint8)
    with pytest.raises(ValueError, match="before onset"):
        AmplifiedFlow().fit([frames]).transform([Clip(frames, onset=3, apex=1)])
