"""Tests of the pure-torch RAFT (structure, golden values, weights handling)."""

import math

import numpy as np
import pytest
import torch

from skmer.models.nets import get_model
from skmer.models.nets.raft import (
    RAFT,
    coords_grid,
    correlation_pyramid,
    load_raft,
    lookup_correlation,
    raft_flow,
    raft_large,
    raft_small,
    upsample_flow,
)


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("variant, expected", [("large", 5_257_536),
                                               ("small", 990_162)])
def test_parameter_counts_equal_published_figures(variant, expected):
    # torchvision's raft_large / raft_small metadata: 5,257,536 and 990,162
    assert _n_params(RAFT(variant)) == expected


def test_state_dict_uses_torchvision_names():
    large = RAFT("large").state_dict()
    for key in ["feature_encoder.convnormrelu.0.weight",
                "feature_encoder.layer2.0.downsample.0.weight",
                "context_encoder.convnormrelu.1.running_var",
                "update_block.motion_encoder.convcorr2.0.weight",
                "update_block.motion_encoder.conv.0.bias",
                "update_block.recurrent_block.convgru2.convq.weight",
                "update_block.flow_head.conv2.bias",
                "mask_predictor.convrelu.0.weight",
                "mask_predictor.conv.bias"]:
        assert key in large
    assert large["update_block.motion_encoder.convcorr1.0.weight"].shape[1] == 324
    assert large["mask_predictor.conv.weight"].shape[0] == 576
    small = RAFT("small").state_dict()
    assert "mask_predictor.conv.weight" not in small
    assert "update_block.recurrent_block.convgru2.convz.weight" not in small
    assert small["update_block.motion_encoder.convcorr1.0.weight"].shape[1] == 196
    assert small["feature_encoder.layer1.0.convnormrelu3.0.weight"].shape[:2] == (32, 8)


@pytest.mark.parametrize("variant", ["large", "small"])
def test_forward_shapes_random_weights(variant):
    torch.manual_seed(0)
    net = RAFT(variant).eval()
    img1, img2 = torch.rand(2, 1, 3, 64, 72).unbind(0)
    with torch.no_grad():
        flows = net(img1 * 2 - 1, img2 * 2 - 1, num_flow_updates=2)
    assert len(flows) == 2
    assert flows[-1].shape == (1, 2, 64, 72)
    assert flows[-1].dtype == torch.float32
    assert torch.isfinite(flows[-1]).all()


def test_forward_rejects_bad_sizes():
    net = RAFT("small")
    with pytest.raises(ValueError, match="multiples of 8"):
        net(torch.zeros(1, 3, 60, 64), torch.zeros(1, 3, 60, 64))
    with pytest.raises(ValueError, match="at least 64"):
        net(torch.zeros(1, 3, 56, 64), torch.zeros(1, 3, 56, 64))
    with pytest.raises(ValueError, match="one shape"):
        net(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 72))
    with pytest.raises(ValueError, match="variant"):
        RAFT("medium")


def test_state_dict_round_trip_weights_only(tmp_path):
    torch.manual_seed(1)
    src = RAFT("small")
    path = tmp_path / "raft_small.pth"
    torch.save(src.state_dict(), path)
    loaded = raft_small(weights=path)
    for (k, a), (k2, b) in zip(src.state_dict().items(),
                               loaded.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(a, b)
    # the variant is read from the keys; load_raft returns an eval-mode model
    model = load_raft(str(path))
    assert model.variant == "small" and not model.training
    with pytest.raises(RuntimeError):  # strict loading: a small dict does not fit
        raft_large(weights=path)
    assert get_model("raft_small").variant == "small"


def test_no_weights_is_a_clear_error(tmp_path):
    frame = np.zeros((64, 64), dtype=np.uint8)
    with pytest.raises(ValueError, match="never downloads"):
        raft_flow(frame, frame, None)
    with pytest.raises(ValueError, match="not found"):
        raft_flow(frame, frame, tmp_path / "missing.pth")


def test_coords_grid_is_x_then_y():
    g = coords_grid(2, 3, 4)
    assert g.shape == (2, 2, 3, 4)
    assert g[1, 0].tolist() == [[0, 1, 2, 3]] * 3  # x = column index
    assert g[1, 1].tolist() == [[0] * 4, [1] * 4, [2] * 4]  # y = row index


def test_correlation_volume_golden():
    f1 = torch.tensor([[[1.0, 2.0], [0.0, 1.0]],
                       [[0.0, 1.0], [3.0, -1.0]]])[None]  # (1, C=2, 2, 2)
    f2 = torch.tensor([[[2.0, 0.0], [1.0, 1.0]],
                       [[1.0, -1.0], [0.0, 2.0]]])[None]
    pyr = correlation_pyramid(f1, f2, num_levels=2)
    corr = pyr[0].reshape(2, 2, 2, 2)  # (y1, x1, y2, x2)
    for y1 in range(2):
        for x1 in range(2):
            for y2 in range(2):
                for x2 in range(2):
                    dot = float(f1[0, :, y1, x1] @ f2[0, :, y2, x2])
                    assert corr[y1, x1, y2, x2].item() == pytest.approx(
                        dot / math.sqrt(2))
    # level 1 averages the 2x2 map
    assert pyr[1].shape == (4, 1, 1, 1)
    assert torch.allclose(pyr[1].flatten(), pyr[0].mean(dim=(2, 3)).flatten())


def test_lookup_layout_and_bilinear_golden():
    torch.manual_seed(0)
    h, w = 3, 4
    f1, f2 = torch.randn(2, 1, 5, h, w).unbind(0)
    pyr = correlation_pyramid(f1, f2, num_levels=1)
    corr = pyr[0].reshape(h, w, h, w)
    feats = lookup_correlation(pyr, coords_grid(1, h, w), radius=1)
    assert feats.shape == (1, 9, h, w)
    for y in range(h):
        for x in range(w):
            for i in range(3):  # dx = i - 1 (slowest)
                for j in range(3):  # dy = j - 1
                    xx, yy = x + i - 1, y + j - 1
                    inside = 0 <= xx < w and 0 <= yy < h
                    want = corr[y, x, yy, xx].item() if inside else 0.0
                    assert feats[0, i * 3 + j, y, x].item() == pytest.approx(
                        want, abs=1e-5)
    # half a pixel to the right: the mean of two neighbours (centre channel 4)
    coords = coords_grid(1, h, w)
    coords[:, 0] += 0.5
    half = lookup_correlation(pyr, coords, radius=1)
    assert half[0, 4, 1, 1].item() == pytest.approx(
        0.5 * (corr[1, 1, 1, 1] + corr[1, 1, 1, 2]).item(), abs=1e-5)


def test_convex_upsampling_golden():
    torch.manual_seed(0)
    flow = torch.randn(1, 2, 3, 4)
    # all the weight on the centre neighbour (k = 4): block replication of 8 * flow
    mask = torch.full((1, 9, 64, 3, 4), -1e4)
    mask[:, 4] = 1e4
    up = upsample_flow(flow, mask.reshape(1, 576, 3, 4))
    want = 8 * flow.repeat_interleave(8, dim=2).repeat_interleave(8, dim=3)
    assert torch.allclose(up, want)
    # all the weight on the right neighbour (k = 5: row 1, column 2 of the 3x3)
    mask = torch.full((1, 9, 64, 3, 4), -1e4)
    mask[:, 5] = 1e4
    up = upsample_flow(flow, mask.reshape(1, 576, 3, 4))
    shifted = torch.cat([flow[..., 1:], torch.zeros(1, 2, 3, 1)], dim=-1)
    want = 8 * shifted.repeat_interleave(8, dim=2).repeat_interleave(8, dim=3)
    assert torch.allclose(up, want)
    # a constant flow stays 8 x constant away from the zero-padded border
    const = torch.full((1, 2, 4, 5), 0.75)
    up = upsample_flow(const, torch.randn(1, 576, 4, 5))
    inner = up[..., 8:-8, 8:-8]
    assert torch.allclose(inner, torch.full_like(inner, 6.0))
    bilinear = upsample_flow(const)
    assert torch.allclose(bilinear, torch.full_like(bilinear, 6.0))


class _StubRAFT(RAFT):
    """A RAFT whose estimate is u = x, v = 2 y (in padded-image pixels)."""

    def __init__(self):
        super().__init__("small")
        self.seen = []

    def forward(self, image1, image2, num_flow_updates=12):
        self.seen.append((image1.clone(), image2.clone(), num_flow_updates))
        n, _, h, w = image1.shape
        g = coords_grid(n, h, w)
        return [torch.stack([g[:, 0], 2 * g[:, 1]], dim=1)]


def test_raft_flow_axis_padding_and_scaling_conventions():
    stub = _StubRAFT()
    rng = np.random.default_rng(0)
    prev = rng.integers(0, 256, size=(20, 30), dtype=np.uint8)
    nxt = rng.integers(0, 256, size=(20, 30), dtype=np.uint8)
    flow = raft_flow(prev, nxt, stub, iters=3)
    assert flow.shape == (20, 30, 2) and flow.dtype == np.float32
    yy, xx = np.mgrid[0:20, 0:30]
    assert np.array_equal(flow[..., 0], xx)  # u: along x (columns)
    assert np.array_equal(flow[..., 1], 2 * yy)  # v: along y (rows)
    img1, img2, iters = stub.seen[-1]
    assert iters == 3
    assert img1.shape == (1, 3, 64, 64)  # padded to >= 64, multiple of 8
    assert torch.allclose(img1[0, 0, :20, :30],
                          torch.from_numpy(prev / 127.5 - 1).float(), atol=1e-6)
    assert torch.allclose(img2[0, 1, :20, :30],
                          torch.from_numpy(nxt / 127.5 - 1).float(), atol=1e-6)
    assert torch.equal(img1[0, :, :20, 30:], img1[0, :, :20, 29:30].expand(3, 20, 34))
    with pytest.raises(ValueError, match="same shape"):
        raft_flow(prev, nxt[:10], stub)


def test_raft_flow_identical_frames_random_weights_is_finite():
    torch.manual_seed(0)
    frame = np.random.default_rng(1).random((40, 48)).astype(np.float32)
    flow = raft_flow(frame, frame, RAFT("small"), iters=2)
    assert flow.shape == (40, 48, 2) and np.isfinite(flow).all()
