import warnings

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from tests.oracle import randn


def twin_parameters(shapes, scale=1.0, seed=0):
    """The same parameters with the same gradients in gradkit and torch."""
    ours, theirs = [], []
    for i, shape in enumerate(shapes):
        value, grad = randn(*shape, seed=seed + 2 * i), randn(*shape, seed=seed + 2 * i + 1) * scale
        p, t = nn.Parameter(gk.tensor(value)), torch.nn.Parameter(torch.tensor(value))
        p.grad, t.grad = gk.tensor(grad), torch.tensor(grad)
        ours.append(p), theirs.append(t)
    return ours, theirs


SHAPES = [(3, 4), (5,), (2, 3, 2)]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0, 0.5])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 1000.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = twin_parameters(SHAPES)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.shape == () and total.dtype == gk.float32
    np.testing.assert_allclose(total.numpy(), expected.numpy(), rtol=1e-6)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_caps_the_norm_and_keeps_direction():
    ours, _ = twin_parameters(SHAPES, scale=10.0)
    before = np.concatenate([p.grad.numpy().ravel() for p in ours])
    nn.utils.clip_grad_norm_(ours, 1.0)
    after = np.concatenate([p.grad.numpy().ravel() for p in ours])
    assert np.linalg.norm(after) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(after / np.linalg.norm(after), before / np.linalg.norm(before), rtol=1e-5)


def test_clip_grad_norm_edge_cases():
    single = nn.Parameter(gk.ones(4))
    single.grad = gk.full((4,), 2.0)
    assert nn.utils.clip_grad_norm_(single, 1.0).item() == pytest.approx(4.0)  # a lone tensor is accepted
    no_grad = [nn.Parameter(gk.ones(2))]
    assert nn.utils.clip_grad_norm_(no_grad, 1.0).item() == 0.0
    broken = nn.Parameter(gk.ones(2))
    broken.grad = gk.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([broken], 1.0, error_if_nonfinite=True)
    assert np.isnan(nn.utils.clip_grad_norm_([broken], 1.0).item())


def test_clip_grad_value_matches_torch():
    ours, theirs = twin_parameters(SHAPES)
    nn.utils.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    model.load_state_dict(tmodel.state_dict())
    vec = nn.utils.parameters_to_vector(model.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(),
                                  torch.nn.utils.parameters_to_vector(tmodel.parameters()).detach().numpy())
    weights = gk.tensor(np.arange(vec.shape[0], dtype=np.float32))
    (vec * weights).backward(gk.ones(vec.shape[0]))  # differentiable: each parameter gets its slice
    np.testing.assert_array_equal(model[0].weight.grad.numpy(), np.arange(12, dtype=np.float32).reshape(4, 3))
    weight = model[0].weight
    nn.utils.vector_to_parameters(gk.zeros(vec.shape[0]), model.parameters())
    assert model[0].weight is weight and not any(p.detach().numpy().any() for p in model.parameters())
    with pytest.raises(ValueError, match="1-D vector of 26 elements"):
        nn.utils.vector_to_parameters(gk.zeros(3), model.parameters())
    with pytest.raises(TypeError):
        nn.utils.vector_to_parameters(np.zeros(26), model.parameters())


def test_penalties_match_torch_values_and_gradients():
    values = [randn(3, 4), randn(5, seed=1)]
    ours = [gk.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    l1, l2 = nn.utils.l1_penalty(ours), nn.utils.l2_penalty(ours)
    t_l1 = sum(t.abs().sum() for t in theirs)
    t_l2 = sum((t * t).sum() for t in theirs)
    assert l1.shape == () and l2.shape == ()
    np.testing.assert_allclose(l1.detach().numpy(), t_l1.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(l2.detach().numpy(), t_l2.detach().numpy(), rtol=1e-6)
    (l1 * 0.5 + l2 * 0.25).backward()
    (t_l1 * 0.5 + t_l2 * 0.25).backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-6)
    model = nn.Linear(3, 2)
    assert nn.utils.l2_penalty(model.parameters()).item() == pytest.approx(
        sum(float((p.detach().numpy() ** 2).sum()) for p in model.parameters()), rel=1e-5)


def torch_weight_norm(module, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates the classic form in favour of parametrizations
        return torch.nn.utils.weight_norm(module, **kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": None}], ids=["dim0", "dim1", "whole"])
def test_weight_norm_matches_torch(kwargs):
    torch.manual_seed(0)
    layer, tlayer = nn.Linear(5, 3), torch.nn.Linear(5, 3)
    layer.load_state_dict(tlayer.state_dict())
    nn.utils.weight_norm(layer, **kwargs)
    torch_weight_norm(tlayer, **kwargs)
    assert list(layer.state_dict()) == list(tlayer.state_dict()) == ["bias", "weight_g", "weight_v"]
    for name, t in tlayer.state_dict().items():
        np.testing.assert_allclose(layer.state_dict()[name].numpy(), t.numpy(), rtol=1e-6, err_msg=name)
    # Change g and v, then check forward and the gradients of g, v and the input against torch.
    state = {k: v * 1.5 + 0.1 for k, v in tlayer.state_dict().items()}
    layer.load_state_dict(state), tlayer.load_state_dict(state)
    x = randn(4, 5, seed=2)
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = layer(gx), tlayer(tx)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    upstream = randn(4, 3, seed=3)
    out.backward(gk.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    for name in ("weight_g", "weight_v", "bias"):
        np.testing.assert_allclose(getattr(layer, name).grad.numpy(), getattr(tlayer, name).grad.numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=name)


def test_remove_weight_norm_folds_back_into_weight():
    layer = nn.Linear(4, 3)
    x = gk.randn(2, 4)
    before = layer(x).detach().numpy()
    nn.utils.weight_norm(layer)
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        nn.utils.weight_norm(layer)
    with gk.no_grad():
        layer.weight_g.mul_(2.0)
    assert np.allclose(layer(x).detach().numpy() - layer.bias.detach().numpy(),
                       2 * (before - layer.bias.detach().numpy()), atol=1e-5)
    nn.utils.remove_weight_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight"]
    assert isinstance(layer.weight, nn.Parameter) and not layer._forward_pre_hooks
    np.testing.assert_allclose(layer(x).detach().numpy() - layer.bias.detach().numpy(),
                               2 * (before - layer.bias.detach().numpy()), atol=1e-5)
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_weight_norm(layer)
