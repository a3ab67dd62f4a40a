import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import gradkit as gk
import gradkit.nn  # noqa: F401  (makes gk.nn available to the architecture factory below)
from gradkit import nn


def architecture(lib):
    """The same nested architecture written against ``lib`` (gradkit or torch): parameters, a
    persistent and a non-persistent buffer, an absent parameter, ModuleList, named Sequential."""

    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.nn.Parameter(lib.ones(3))
            self.fc = lib.nn.Linear(3, 3)
            self.register_buffer("running", lib.zeros(3))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.register_parameter("unused", None)
            self.act = lib.nn.ReLU()

        def forward(self, x):
            return self.act(self.fc(x)) * self.scale

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Linear(4, 3)
            self.blocks = lib.nn.ModuleList([Block(), Block()])
            self.head = lib.nn.Sequential(OrderedDict(drop=lib.nn.Dropout(0.1), out=lib.nn.Linear(3, 2)))

        def forward(self, x):
            x = self.embed(x)
            for block in self.blocks:
                x = block(x)
            return self.head(x)

    return Net()


def test_names_and_order_match_torch():
    net, tnet = architecture(gk), architecture(torch)
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert [n for n, _ in getattr(net, method)()] == [n for n, _ in getattr(tnet, method)()], method
    assert list(net.state_dict()) == list(tnet.state_dict())
    assert "blocks.0.scratch" not in net.state_dict() and "blocks.0.unused" not in net.state_dict()
    assert [n for n, _ in net.named_parameters(prefix="model", recurse=False)] == []
    assert [n for n, _ in net.blocks[0].named_parameters(prefix="b", recurse=False)] == ["b.scale"]


def test_repr_identical_to_torch():
    assert repr(architecture(gk)) == repr(architecture(torch))


def test_whole_model_matches_torch_after_loading_its_state_dict():
    torch.manual_seed(0)
    net, tnet = architecture(gk), architecture(torch)
    result = net.load_state_dict(tnet.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    net.eval(), tnet.eval()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    out, expected = net(gk.tensor(x)), tnet(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.backward(gk.ones(*out.shape))
    expected.backward(torch.ones_like(expected))
    for (name, p), (_, t) in zip(net.named_parameters(), tnet.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_our_state_dict_loads_into_torch():
    net, tnet = architecture(gk), architecture(torch)
    tnet.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in net.state_dict().items()})
    np.testing.assert_array_equal(tnet.embed.weight.detach().numpy(), net.embed.weight.detach().numpy())


def test_load_keeps_parameter_identity_and_copies_values():
    net = architecture(gk)
    weight = net.embed.weight
    state = {k: v.numpy() + 1.0 for k, v in net.state_dict().items()}  # NumPy arrays are accepted too
    expected = state["embed.weight"].copy()
    net.load_state_dict(state)
    assert net.embed.weight is weight
    np.testing.assert_array_equal(weight.detach().numpy(), expected)
    state["embed.weight"][...] = 0  # the model holds a copy, not the caller's array
    assert weight.detach().numpy().any()


def test_state_dict_is_detached_and_shares_memory():
    net = architecture(gk)
    state = net.state_dict()
    assert not state["embed.weight"].requires_grad and state["embed.weight"].grad_fn is None
    assert type(state["embed.weight"]) is gk.Tensor
    with gk.no_grad():
        net.embed.weight.fill_(2.0)
    assert (state["embed.weight"].numpy() == 2.0).all()
    kept = net.state_dict(keep_vars=True)
    assert kept["embed.weight"] is net.embed.weight


def test_load_errors_list_every_problem():
    net = architecture(gk)
    state = OrderedDict((k, v.numpy()) for k, v in net.state_dict().items())
    del state["embed.bias"], state["blocks.1.running"]
    state["head.out.weight"] = np.zeros((5, 3), np.float32)
    state["blocks.0.extra"] = np.zeros(1)
    state["nothing.weight"] = np.zeros(1)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "embed.bias", "blocks.1.running".' in message
    assert 'Unexpected key(s) in state_dict: "nothing.weight", "blocks.0.extra".' in message
    assert "size mismatch for head.out.weight: the model expects shape (2, 3), the state dict has shape (5, 3)" \
        in message


def test_non_strict_load_returns_keys_but_shape_mismatch_still_raises():
    net = architecture(gk)
    state = {k: v.numpy() for k, v in net.state_dict().items() if k != "embed.bias"}
    state["stray"] = np.zeros(1)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["embed.bias"] and result.unexpected_keys == ["stray"]
    assert result == (["embed.bias"], ["stray"])
    assert repr(net.load_state_dict(net.state_dict())) == "<All keys matched successfully>"
    state["embed.weight"] = np.zeros((1, 1))
    with pytest.raises(RuntimeError, match="size mismatch for embed.weight"):
        net.load_state_dict(state, strict=False)


def test_load_from_state_dict_hook_upgrades_old_checkpoints():
    class Renamed(nn.Module):
        _version = 2

        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(gk.ones(2))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
            if local_metadata.get("version", 1) < 2 and prefix + "gamma" in state_dict:
                state_dict[prefix + "scale"] = state_dict.pop(prefix + "gamma")
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)

    model = nn.Sequential(Renamed())
    model.load_state_dict({"0.gamma": np.array([3.0, 4.0], np.float32)})
    np.testing.assert_array_equal(model[0].scale.detach().numpy(), [3.0, 4.0])
    state = model.state_dict()
    assert state._metadata["0"] == {"version": 2}


def test_shared_parameters_listed_once():
    a = nn.Linear(3, 3)
    model = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(model.parameters())) == 2
    tied = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    tied[1].weight = tied[0].weight
    assert len(list(tied.parameters())) == 3
    assert list(tied.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_attribute_assignment_rules():
    m = nn.Module()
    m.p = nn.Parameter(gk.zeros(2))
    m.child = nn.Linear(2, 2)
    m.register_buffer("b", gk.zeros(1))
    assert list(m._parameters) == ["p"] and list(m._modules) == ["child"] and list(m._buffers) == ["b"]
    with pytest.raises(TypeError, match="parameter 'p'"):
        m.p = gk.zeros(2)
    m.p = None
    assert m.p is None and list(m.parameters()) == list(m.child.parameters())
    m.b = gk.ones(1)
    assert m._buffers["b"].numpy()[0] == 1
    with pytest.raises(TypeError, match="buffer 'b'"):
        m.b = 3
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("child", gk.zeros(1))
    with pytest.raises(KeyError):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError):
        m.register_parameter("q", gk.zeros(1))
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        m.missing
    del m.child
    assert "child" not in m._modules
    with pytest.raises(AttributeError, match="before Module.__init__"):
        class Early(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(gk.zeros(1))
        Early()


def test_train_eval_recursive():
    net = architecture(gk)
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.blocks.train(False)
    assert net.training and not net.blocks[1].fc.training
    with pytest.raises(ValueError):
        net.train("yes")


def test_eval_disables_dropout():
    gk.manual_seed(0)
    model = nn.Sequential(nn.Dropout(0.5))
    x = gk.ones(1000)
    assert (model(x).numpy() == 0).any()
    model.eval()
    np.testing.assert_array_equal(model(x).numpy(), x.numpy())


def test_forward_hooks_modify_and_remove():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda module, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda module, args, output: calls.append((module, output.shape)))
    out = layer(gk.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(layer.bias.detach().numpy(), (3, 2)))
    assert calls == [(layer, (3, 2))]
    pre.remove()
    post.remove()
    out = layer(gk.ones(3, 2))
    assert len(calls) == 1 and not np.allclose(out.detach().numpy(), layer.bias.detach().numpy())
    replaced = layer.register_forward_hook(lambda module, args, output: output * 0)
    assert (layer(gk.ones(1, 2)).detach().numpy() == 0).all()
    replaced.remove()


def test_hook_order_and_prepend():
    layer = nn.Identity()
    order = []
    layer.register_forward_pre_hook(lambda m, a: order.append("first"))
    layer.register_forward_pre_hook(lambda m, a: order.append("zeroth"), prepend=True)
    with layer.register_forward_hook(lambda m, a, o: order.append("after")):
        layer(gk.ones(1))
    layer(gk.ones(1))
    assert order == ["zeroth", "first", "after", "zeroth", "first"]


def test_zero_grad_requires_grad_and_apply():
    net = architecture(gk)
    net(gk.randn(2, 4)).backward(gk.ones(2, 2))
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all((p.grad.numpy() == 0).all() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[0] == "Linear"


def test_get_submodule_parameter_buffer():
    net = architecture(gk)
    assert net.get_submodule("blocks.1.fc") is net.blocks[1].fc
    assert net.get_submodule("") is net
    assert net.get_parameter("head.out.bias") is net.head.out.bias
    assert net.get_buffer("blocks.0.running") is net.blocks[0].running
    with pytest.raises(AttributeError, match="nope"):
        net.get_submodule("blocks.nope")
    with pytest.raises(AttributeError, match="is not an nn.Module"):
        net.get_submodule("embed.weight")


def test_to_dtype_keeps_identity_and_skips_integer_buffers():
    model = nn.Linear(3, 2)
    model.register_buffer("count", gk.tensor(3))
    weight = model.weight
    model(gk.randn(1, 3)).backward(gk.ones(1, 2))
    assert model.double() is model
    assert model.weight is weight and weight.dtype == gk.float64 and weight.grad.dtype == gk.float64
    assert model.count.dtype == gk.int64
    assert model(gk.randn(1, 3, dtype=gk.float64)).dtype == gk.float64
    model.to(gk.float32)
    assert weight.dtype == gk.float32
    model.to("cpu")
    with pytest.raises(TypeError, match="floating point"):
        model.to(gk.int64)


def test_parameter_basics():
    p = nn.Parameter(gk.tensor([1.0, 2.0]))
    assert isinstance(p, gk.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert type(p * 2) is gk.Tensor
    frozen = nn.Parameter(gk.zeros(2), requires_grad=False)
    assert not frozen.requires_grad
    t = gk.zeros(3)
    shared = nn.Parameter(t)
    with gk.no_grad():
        shared.fill_(1.0)
    assert (t.numpy() == 1).all()  # shares the tensor's memory, like torch.nn.Parameter
    assert nn.Parameter().shape == (0,)


def test_deepcopy_gives_independent_parameters():
    net = architecture(gk)
    clone = copy.deepcopy(net)
    assert list(clone.state_dict()) == list(net.state_dict())
    assert isinstance(clone.embed.weight, nn.Parameter)
    with gk.no_grad():
        clone.embed.weight.fill_(0.0)
    assert net.embed.weight.detach().numpy().any()


def test_forward_missing_raises():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(gk.ones(1))


def test_state_dict_round_trip_through_gk_save(tmp_path):
    net, other = architecture(gk), architecture(gk)
    gk.save(net.state_dict(), tmp_path / "model.safetensors")
    other.load_state_dict(gk.load(tmp_path / "model.safetensors"))
    for (name, a), (_, b) in zip(net.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
