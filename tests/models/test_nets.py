"""Tests of the torch modules (shapes, parameter counts, state-dict keys)."""

import pytest
import torch

from skmer.models.nets import (
    OffApexNet,
    STSTNet,
    get_model,
    list_models,
    load_weights,
    offapexnet,
    register_model,
    ststnet,
)

# The key set and shapes of the authors' released STSTNet state dicts
# (christy1206/STSTNet, STSTNet_Weights/<subject>.pth).
RELEASED_STSTNET_SHAPES = {
    "conv1.weight": (3, 3, 3, 3),
    "conv1.bias": (3,),
    "conv2.weight": (5, 3, 3, 3),
    "conv2.bias": (5,),
    "conv3.weight": (8, 3, 3, 3),
    "conv3.bias": (8,),
    **{
        f"bn{i}.{name}": shape
        for i, c in ((1, 3), (2, 5), (3, 8))
        for name, shape in (
            ("weight", (c,)),
            ("bias", (c,)),
            ("running_mean", (c,)),
            ("running_var", (c,)),
            ("num_batches_tracked", ()),
        )
    },
    "fc.weight": (3, 400),
    "fc.bias": (3,),
}


def _n_params(net):
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def test_ststnet_output_shape_and_param_count():
    net = STSTNet()
    assert net(torch.zeros(4, 3, 28, 28)).shape == (4, 3)
    # conv 84 + 140 + 224, batch norms 2 * 16, fc 400 * 3 + 3
    assert _n_params(net) == 1683
    assert net.fc.in_features == 400


@pytest.mark.parametrize("size", [(28, 28), (32, 32), (64, 48), (27, 29)])
def test_ststnet_other_input_sizes(size):
    net = STSTNet(in_channels=2, n_classes=5, input_size=size)
    assert net(torch.zeros(2, 2, *size)).shape == (2, 5)


def test_ststnet_loads_released_state_dict_strict():
    net = STSTNet()
    assert set(net.state_dict()) == set(RELEASED_STSTNET_SHAPES)
    released = {
        key: (
            torch.tensor(7)
            if key.endswith("num_batches_tracked")
            else torch.randn(shape)
        )
        for key, shape in RELEASED_STSTNET_SHAPES.items()
    }
    result = net.load_state_dict(released, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    torch.testing.assert_close(net.conv2.weight, released["conv2.weight"])
    torch.testing.assert_close(net.bn3.running_var, released["bn3.running_var"])
    assert int(net.bn1.num_batches_tracked) == 7
    for key, tensor in net.state_dict().items():
        assert tuple(tensor.shape) == RELEASED_STSTNET_SHAPES[key]


def test_offapexnet_output_shape_and_param_count():
    net = OffApexNet()
    assert net(torch.zeros(4, 3, 28, 28)).shape == (4, 3)
    assert net(torch.zeros(4, 2, 28, 28)).shape == (4, 3)
    # two streams of 156 + 2,416; FC 1568*1024+1024, 1024*1024+1024, 1024*3+3
    assert _n_params(net) == 2 * (156 + 2416) + 1_606_656 + 1_049_600 + 3075
    assert _n_params(net) == 2_664_475


def test_offapexnet_reads_only_u_and_v():
    net = OffApexNet().eval()
    x = torch.rand(3, 3, 28, 28)
    x2 = x.clone()
    x2[:, 2] = torch.rand(3, 28, 28)  # change the strain channel only
    torch.testing.assert_close(net(x), net(x2))
    swapped = OffApexNet(flow_channels=(1, 0)).eval()
    swapped.load_state_dict(net.state_dict())
    assert not torch.allclose(swapped(x), net(x))


@pytest.mark.parametrize("net", [STSTNet(), OffApexNet()], ids=type)
def test_forward_backward(net):
    x = torch.rand(5, 3, 28, 28)
    loss = torch.nn.functional.cross_entropy(net(x), torch.tensor([0, 1, 2, 0, 1]))
    loss.backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_registry(tmp_path):
    assert {"ststnet", "offapexnet"} <= set(list_models())
    assert isinstance(get_model("STSTNet"), STSTNet)
    assert get_model("offapexnet", n_classes=4).fc3.out_features == 4
    with pytest.raises(ValueError, match="Unknown model"):
        get_model("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_model("ststnet")(lambda **kw: None)
    # weights come from a local path only
    path = tmp_path / "w.pth"
    torch.save(STSTNet().state_dict(), path)
    net = ststnet(weights=path)
    torch.testing.assert_close(net.state_dict(), torch.load(path, weights_only=True))
    net2 = offapexnet(weights=OffApexNet().state_dict())
    assert isinstance(load_weights(net2, net2.state_dict()), OffApexNet)
