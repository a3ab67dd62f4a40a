import math

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from tests.oracle import randn, to_numpy


def check_layer(layer, torch_layer, inputs, atol=1e-5, rtol=1e-4, seed=3):
    """Load ``torch_layer``'s weights into ``layer``, run both on the same NumPy ``inputs``, backpropagate
    the same random upstream gradient, and compare the output, every input gradient and every
    parameter gradient (matched by name)."""
    layer.load_state_dict(torch_layer.state_dict())
    gk_inputs = [gk.tensor(a, requires_grad=True) for a in inputs]
    torch_inputs = [torch.tensor(a, requires_grad=True) for a in inputs]
    out, expected = layer(*gk_inputs), torch_layer(*torch_inputs)
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(to_numpy(out), to_numpy(expected), atol=atol, rtol=rtol, err_msg="output")
    upstream = np.random.default_rng(seed).standard_normal(tuple(expected.shape)).astype(np.float32)
    out.backward(gk.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    for i, (g, t) in enumerate(zip(gk_inputs, torch_inputs)):
        np.testing.assert_allclose(to_numpy(g.grad), to_numpy(t.grad), atol=atol, rtol=rtol,
                                   err_msg=f"gradient of input {i}")
    ours = dict(layer.named_parameters())
    theirs = dict(torch_layer.named_parameters())
    assert list(ours) == list(theirs)
    for name, t in theirs.items():
        np.testing.assert_allclose(to_numpy(ours[name].grad), to_numpy(t.grad), atol=atol, rtol=rtol,
                                   err_msg=f"gradient of parameter {name}")
    return out


CASES = [
    ("linear_2d", lambda: nn.Linear(7, 5), lambda: torch.nn.Linear(7, 5), [(9, 7)]),
    ("linear_1d_input", lambda: nn.Linear(7, 5), lambda: torch.nn.Linear(7, 5), [(7,)]),
    ("linear_leading_dims", lambda: nn.Linear(3, 4), lambda: torch.nn.Linear(3, 4), [(2, 5, 3)]),
    ("linear_no_bias", lambda: nn.Linear(6, 2, bias=False), lambda: torch.nn.Linear(6, 2, bias=False), [(4, 6)]),
    ("bilinear", lambda: nn.Bilinear(3, 4, 5), lambda: torch.nn.Bilinear(3, 4, 5), [(6, 3), (6, 4)]),
    ("bilinear_leading", lambda: nn.Bilinear(2, 3, 4, bias=False), lambda: torch.nn.Bilinear(2, 3, 4, bias=False),
     [(2, 5, 2), (2, 5, 3)]),
    ("identity", lambda: nn.Identity(3, unused=True), lambda: torch.nn.Identity(3, unused=True), [(2, 3)]),
    ("flatten", lambda: nn.Flatten(), lambda: torch.nn.Flatten(), [(2, 3, 4, 5)]),
    ("flatten_middle", lambda: nn.Flatten(1, 2), lambda: torch.nn.Flatten(1, 2), [(2, 3, 4, 5)]),
    ("flatten_negative", lambda: nn.Flatten(-3, -2), lambda: torch.nn.Flatten(-3, -2), [(2, 3, 4, 5)]),
    ("unflatten", lambda: nn.Unflatten(1, (2, 5)), lambda: torch.nn.Unflatten(1, (2, 5)), [(3, 10, 2)]),
    ("unflatten_inferred", lambda: nn.Unflatten(-1, (2, -1)), lambda: torch.nn.Unflatten(-1, (2, -1)), [(3, 8)]),
]


@pytest.mark.parametrize("name, make, make_torch, shapes", CASES, ids=[c[0] for c in CASES])
def test_layer_against_torch(name, make, make_torch, shapes):
    torch.manual_seed(0)
    check_layer(make(), make_torch(), [randn(*s, seed=i) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("layer, torch_layer", [
    (nn.Linear(3, 16), torch.nn.Linear(3, 16)),
    (nn.Linear(3, 16, bias=False), torch.nn.Linear(3, 16, bias=False)),
    (nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5)),
    (nn.Identity(), torch.nn.Identity()),
    (nn.Flatten(), torch.nn.Flatten()),
    (nn.Unflatten(1, (2, 5)), torch.nn.Unflatten(1, (2, 5))),
], ids=["linear", "linear_no_bias", "bilinear", "identity", "flatten", "unflatten"])
def test_repr_and_state_dict_keys_match_torch(layer, torch_layer):
    assert repr(layer) == repr(torch_layer)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())


def test_linear_default_init_statistics():
    """kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias uses the same bound."""
    gk.manual_seed(0)
    in_features, out_features = 400, 300
    layer = nn.Linear(in_features, out_features)
    bound = 1 / math.sqrt(in_features)
    w = layer.weight.detach().numpy()
    assert w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    # U(-b, b) has variance b^2/3; 120,000 samples put the sample std within 1% of it.
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound / math.sqrt(3)
    assert abs(w.mean()) < 0.01 * bound
    b = layer.bias.detach().numpy()
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    assert layer.weight.requires_grad and layer.bias.requires_grad


def test_bilinear_default_init_bound():
    gk.manual_seed(1)
    layer = nn.Bilinear(50, 7, 40)
    bound = 1 / math.sqrt(50)
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound


def test_init_is_reproducible_under_manual_seed():
    gk.manual_seed(5)
    a = nn.Linear(4, 3)
    gk.manual_seed(5)
    b = nn.Linear(4, 3)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    assert not np.array_equal(a.weight.detach().numpy(), nn.Linear(4, 3).weight.detach().numpy())


def test_linear_shape_error_names_layer_and_shapes():
    layer = nn.Linear(3, 16)
    with pytest.raises(ValueError) as info:
        layer(gk.randn(8, 4))
    assert str(info.value) == ("Linear(in_features=3, out_features=16, bias=True): expected input with last "
                               "dimension 3, got shape (8, 4)")


def test_bilinear_shape_error():
    with pytest.raises(ValueError, match=r"Bilinear\(in1_features=3.*got shapes \(2, 3\) and \(2, 5\)"):
        nn.Bilinear(3, 4, 5)(gk.randn(2, 3), gk.randn(2, 5))


def test_flatten_unflatten_errors():
    with pytest.raises(ValueError, match=r"Unflatten\(dim=1, unflattened_size=\(2, 5\)\).*\(3, 7\)"):
        nn.Unflatten(1, (2, 5))(gk.randn(3, 7))
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=3, end_dim=-1\).*\(2, 3\)"):
        nn.Flatten(3)(gk.randn(2, 3))
    with pytest.raises(ValueError):
        nn.Unflatten(1, (-1, -1))


@pytest.mark.parametrize("args", [(-1, 3), (3, 2.5), ("3", 2)])
def test_invalid_constructor_arguments(args):
    with pytest.raises(ValueError, match="Linear"):
        nn.Linear(*args)


def test_dtype_argument_and_double():
    layer = nn.Linear(3, 2, dtype=gk.float64)
    assert layer.weight.dtype == gk.float64 and layer.bias.dtype == gk.float64
    out = nn.Linear(3, 2).double()(gk.randn(4, 3, dtype=gk.float64))
    assert out.dtype == gk.float64
