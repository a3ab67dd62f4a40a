import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from tests.nn.test_linear import check_layer
from tests.oracle import randn

# (name, gradkit layer, torch layer): each is run on an odd-shaped input, forward and backward.
LAYERS = [
    ("relu", lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    ("prelu_shared", lambda: nn.PReLU(), lambda: torch.nn.PReLU()),
    ("prelu_channels", lambda: nn.PReLU(6, init=0.1), lambda: torch.nn.PReLU(6, init=0.1)),
    ("elu", lambda: nn.ELU(alpha=0.7), lambda: torch.nn.ELU(alpha=0.7)),
    ("selu", lambda: nn.SELU(), lambda: torch.nn.SELU()),
    ("celu", lambda: nn.CELU(alpha=1.5), lambda: torch.nn.CELU(alpha=1.5)),
    ("gelu", lambda: nn.GELU(), lambda: torch.nn.GELU()),
    ("gelu_tanh", lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    ("sigmoid", lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    ("tanh", lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    ("softmax", lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    ("log_softmax", lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1)),
    ("softmin", lambda: nn.Softmin(dim=0), lambda: torch.nn.Softmin(dim=0)),
    ("softplus", lambda: nn.Softplus(beta=2, threshold=3), lambda: torch.nn.Softplus(beta=2, threshold=3)),
    ("softsign", lambda: nn.Softsign(), lambda: torch.nn.Softsign()),
    ("silu", lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    ("mish", lambda: nn.Mish(), lambda: torch.nn.Mish()),
    ("relu6", lambda: nn.ReLU6(), lambda: torch.nn.ReLU6()),
    ("hardsigmoid", lambda: nn.Hardsigmoid(), lambda: torch.nn.Hardsigmoid()),
    ("hardswish", lambda: nn.Hardswish(), lambda: torch.nn.Hardswish()),
    ("hardtanh", lambda: nn.Hardtanh(-0.5, 2.0), lambda: torch.nn.Hardtanh(-0.5, 2.0)),
    ("threshold", lambda: nn.Threshold(0.3, -1.0), lambda: torch.nn.Threshold(0.3, -1.0)),
    ("logsigmoid", lambda: nn.LogSigmoid(), lambda: torch.nn.LogSigmoid()),
    ("glu", lambda: nn.GLU(dim=1), lambda: torch.nn.GLU(dim=1)),
    ("tanhshrink", lambda: nn.Tanhshrink(), lambda: torch.nn.Tanhshrink()),
    ("softshrink", lambda: nn.Softshrink(0.3), lambda: torch.nn.Softshrink(0.3)),
    ("hardshrink", lambda: nn.Hardshrink(0.3), lambda: torch.nn.Hardshrink(0.3)),
]


@pytest.mark.parametrize("name, make, make_torch", LAYERS, ids=[c[0] for c in LAYERS])
def test_activation_layer_against_torch(name, make, make_torch):
    x = randn(4, 6, 5) * 3  # wide enough to reach every kink and saturation
    check_layer(make(), make_torch(), [x])


@pytest.mark.parametrize("name, make, make_torch", LAYERS, ids=[c[0] for c in LAYERS])
def test_activation_repr_matches_torch(name, make, make_torch):
    assert repr(make()) == repr(make_torch())


@pytest.mark.parametrize("layer, torch_layer", [
    (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
    (nn.LeakyReLU(inplace=True), torch.nn.LeakyReLU(inplace=True)),
    (nn.ELU(inplace=True), torch.nn.ELU(inplace=True)),
    (nn.ReLU6(inplace=True), torch.nn.ReLU6(inplace=True)),
    (nn.Hardtanh(inplace=True), torch.nn.Hardtanh(inplace=True)),
    (nn.Hardswish(inplace=True), torch.nn.Hardswish(inplace=True)),
    (nn.Threshold(0.1, 20, inplace=True), torch.nn.Threshold(0.1, 20, inplace=True)),
    (nn.Softmax(), torch.nn.Softmax()),
    (nn.GLU(), torch.nn.GLU()),
], ids=lambda m: type(m).__name__)
def test_inplace_and_default_reprs(layer, torch_layer):
    assert repr(layer) == repr(torch_layer)


def test_relu_derivative_at_zero_is_zero():
    x = gk.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    nn.ReLU()(x).backward(gk.ones(3))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])


def test_prelu_parameter_init_and_state_dict():
    layer = nn.PReLU(4, init=0.3)
    assert list(layer.state_dict()) == list(torch.nn.PReLU(4).state_dict()) == ["weight"]
    np.testing.assert_allclose(layer.weight.detach().numpy(), np.full(4, 0.3, np.float32))
    with pytest.raises(ValueError, match=r"PReLU\(num_parameters=4\): expected input with 4 channels"):
        layer(gk.randn(2, 3))
    with pytest.raises(ValueError):
        nn.PReLU(0)


def test_constructor_validation():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="max_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="pieces"):
        nn.Maxout(3, 2, 0)


def test_crelu_doubles_the_dimension():
    x = randn(2, 3, 4)
    out = nn.CReLU()(gk.tensor(x))
    np.testing.assert_allclose(out.numpy(), np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], axis=1))
    assert repr(nn.CReLU(dim=-1)) == "CReLU(dim=-1)"


def test_maxout_matches_linear_then_group_max_in_torch():
    layer = nn.Maxout(5, 3, pieces=4)
    assert repr(layer) == ("Maxout(\n  in_features=5, out_features=3, pieces=4\n"
                           "  (linear): Linear(in_features=5, out_features=12, bias=True)\n)")
    torch_linear = torch.nn.Linear(5, 12)
    layer.linear.load_state_dict(torch_linear.state_dict())
    x = randn(2, 7, 5)
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = layer(gx)
    expected = torch_linear(tx).view(2, 7, 3, 4).max(dim=-1).values
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    upstream = randn(2, 7, 3, seed=1)
    out.backward(gk.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.linear.weight.grad.numpy(), torch_linear.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match="expected input with last dimension 5"):
        layer(gk.randn(2, 4))
