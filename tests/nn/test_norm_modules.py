import warnings

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from tests.oracle import randn


def randomise(reference, seed=0):
    """Non-trivial parameters and running statistics, so that loading them is actually tested."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(reference.named_parameters()) + list(reference.named_buffers()):
            if name.endswith("num_batches_tracked"):
                tensor.fill_(3)
            elif name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=generator))


def step_and_compare(module, reference, x, seed):
    """One forward and backward in both; compare output, input gradient, parameter gradients, buffers."""
    xg, xt = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yg, yt = module(xg), reference(xt)
    assert tuple(yg.shape) == tuple(yt.shape) and yg.dtype == gk.float32
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), atol=2e-5, rtol=1e-4)
    upstream = np.random.default_rng(seed + 100).standard_normal(tuple(yt.shape)).astype(np.float32)
    yg.backward(gk.tensor(upstream))
    yt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), atol=2e-5, rtol=1e-4, err_msg="input gradient")
    params = dict(module.named_parameters())
    for name, p in reference.named_parameters():
        np.testing.assert_allclose(params[name].grad.numpy(), p.grad.numpy(), atol=5e-5, rtol=1e-4, err_msg=name)
    buffers = dict(module.named_buffers())
    assert set(buffers) == {name for name, _ in reference.named_buffers()}
    for name, b in reference.named_buffers():
        assert buffers[name].dtype == b.numpy().dtype, name
        np.testing.assert_allclose(buffers[name].numpy(), b.numpy(), atol=1e-6, rtol=1e-5, err_msg=name)


# (name, constructor, input shape): the constructor text is evaluated in gradkit.nn and in torch.nn.
LAYERS = [
    ("bn1d_2d_input", "BatchNorm1d(5)", (7, 5)),
    ("bn1d_3d_input", "BatchNorm1d(5, momentum=0.3)", (4, 5, 6)),
    ("bn1d_cumulative_average", "BatchNorm1d(5, momentum=None)", (4, 5, 3)),
    ("bn2d", "BatchNorm2d(3)", (4, 3, 5, 6)),
    ("bn2d_eps_no_affine", "BatchNorm2d(3, eps=1e-3, affine=False)", (2, 3, 4, 5)),
    ("bn2d_no_bias", "BatchNorm2d(3, bias=False)", (2, 3, 3, 5)),
    ("bn2d_untracked", "BatchNorm2d(3, track_running_stats=False)", (3, 3, 4, 2)),
    ("bn3d", "BatchNorm3d(2)", (3, 2, 2, 3, 4)),
    ("instance1d", "InstanceNorm1d(4)", (3, 4, 7)),
    ("instance1d_unbatched_affine", "InstanceNorm1d(4, affine=True)", (4, 7)),
    ("instance2d_tracked", "InstanceNorm2d(3, affine=True, track_running_stats=True)", (2, 3, 4, 5)),
    ("instance3d", "InstanceNorm3d(2, affine=True)", (2, 2, 3, 2, 3)),
    ("group", "GroupNorm(3, 6)", (4, 6, 5)),
    ("group_4d_no_affine", "GroupNorm(2, 4, eps=1e-3, affine=False)", (2, 4, 3, 3)),
    ("group_no_bias", "GroupNorm(1, 4, bias=False)", (3, 4, 2, 2)),
    ("layer", "LayerNorm(6)", (3, 4, 6)),
    ("layer_two_dims", "LayerNorm((4, 6), eps=1e-3)", (2, 4, 6)),
    ("layer_no_affine", "LayerNorm([5], elementwise_affine=False)", (3, 5)),
    ("layer_no_bias", "LayerNorm(5, bias=False)", (3, 2, 5)),
    ("lrn", "LocalResponseNorm(3, alpha=0.1, beta=0.6, k=1.5)", (2, 6, 4, 3)),
]


@pytest.mark.parametrize("name, constructor, shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_against_torch_in_train_then_eval(name, constructor, shape):
    module, reference = eval("nn." + constructor), eval("torch.nn." + constructor)
    randomise(reference)
    assert list(module.state_dict()) == list(reference.state_dict())
    module.load_state_dict(reference.state_dict())
    for step in range(3):   # training: batch statistics, running statistics updated
        step_and_compare(module, reference, randn(*shape, seed=step) * 2 + 0.5, step)
    module.eval(), reference.eval()
    for step in range(3, 5):
        step_and_compare(module, reference, randn(*shape, seed=step) * 2 + 0.5, step)


@pytest.mark.parametrize("name, constructor, shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_repr_and_state_dict_layout_match_torch(name, constructor, shape):
    module, reference = eval("nn." + constructor), eval("torch.nn." + constructor)
    assert repr(module) == repr(reference)
    ours, theirs = module.state_dict(), reference.state_dict()
    assert list(ours) == list(theirs)
    for key in theirs:
        assert tuple(ours[key].shape) == tuple(theirs[key].shape), key
        assert ours[key].dtype == theirs[key].numpy().dtype, key
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy(), err_msg=key)   # initial values
    assert [n for n, _ in module.named_parameters()] == [n for n, _ in reference.named_parameters()]


def test_cumulative_average_uses_num_batches_tracked():
    module = nn.BatchNorm1d(2, momentum=None)
    batches = [randn(6, 2, seed=s) * (s + 1) + s for s in range(4)]
    for x in batches:
        module(gk.tensor(x))
    assert module.num_batches_tracked.item() == 4
    # With m = 1 / n at step n the running mean is the plain average of the batch means.
    expected = np.mean([x.mean(axis=0) for x in batches], axis=0)
    np.testing.assert_allclose(module.running_mean.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_eval_without_running_stats_normalises_with_the_batch():
    module = nn.BatchNorm2d(3, affine=False, track_running_stats=False).eval()
    y = module(gk.tensor(randn(4, 3, 2, 2) * 5 + 3)).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert module.running_mean is None and module.num_batches_tracked is None


def test_eval_does_not_touch_buffers():
    module = nn.BatchNorm1d(3).eval()
    module(gk.tensor(randn(5, 3)))
    assert module.num_batches_tracked.item() == 0
    np.testing.assert_array_equal(module.running_mean.numpy(), 0)


def test_old_checkpoint_without_num_batches_tracked_loads():
    reference = torch.nn.BatchNorm2d(3)
    randomise(reference)
    state = {k: v for k, v in reference.state_dict().items() if k != "num_batches_tracked"}
    module, fresh = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    module.num_batches_tracked.fill_(5)
    fresh.num_batches_tracked.fill_(5)
    module.load_state_dict(state)   # no metadata: an old-format checkpoint, the counter keeps its value
    fresh.load_state_dict(state)
    assert module.num_batches_tracked.item() == fresh.num_batches_tracked.item() == 5
    np.testing.assert_array_equal(module.running_var.numpy(), reference.running_var.numpy())


def test_missing_counter_in_a_current_checkpoint_is_an_error():
    state = nn.BatchNorm2d(3).state_dict()
    del state["num_batches_tracked"]
    with pytest.raises(RuntimeError, match="num_batches_tracked"):
        nn.BatchNorm2d(3).load_state_dict(state)   # metadata says version 2: the key must be there


def test_state_dict_round_trip_between_frameworks():
    module = nn.GroupNorm(2, 4)
    with gk.no_grad():
        module.weight.copy_(randn(4))
    reference = torch.nn.GroupNorm(2, 4)
    reference.load_state_dict({k: torch.tensor(v.numpy()) for k, v in module.state_dict().items()})
    np.testing.assert_array_equal(reference.weight.detach().numpy(), module.weight.detach().numpy())


# ----- errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("constructor, message", [
    (lambda: nn.BatchNorm2d(0), "num_features must be a positive int"),
    (lambda: nn.BatchNorm2d(4, eps=0), "eps must be a positive number"),
    (lambda: nn.BatchNorm1d(4, eps=-1e-5), "eps must be a positive number"),
    (lambda: nn.BatchNorm2d(4, momentum=1.5), r"momentum must be None or a number in \[0, 1\]"),
    (lambda: nn.InstanceNorm2d(4, momentum=-0.1), "momentum"),
    (lambda: nn.GroupNorm(4, 6), "num_channels must be divisible by num_groups"),
    (lambda: nn.GroupNorm(0, 6), "num_groups must be a positive int"),
    (lambda: nn.GroupNorm(2, 6, eps=0), "eps must be a positive number"),
    (lambda: nn.LayerNorm(0), "normalized_shape must be a positive int"),
    (lambda: nn.LayerNorm(()), "normalized_shape"),
    (lambda: nn.LayerNorm(4, eps=0.0), "eps must be a positive number"),
    (lambda: nn.LocalResponseNorm(0), "size must be a positive int"),
])
def test_invalid_constructor_arguments_raise(constructor, message):
    with pytest.raises(ValueError, match=message):
        constructor()


@pytest.mark.parametrize("module, shape, message", [
    (nn.BatchNorm2d(16), (8, 4, 32, 32), r"^BatchNorm2d\(16\): expected input with 16 channels, got \(8, 4, 32, 32\)$"),
    (nn.BatchNorm2d(16), (8, 16, 32), r"BatchNorm2d\(16\): expected a 4-D input, got shape \(8, 16, 32\)"),
    (nn.BatchNorm1d(3), (2, 3, 4, 5), r"BatchNorm1d\(3\): expected a 2-D or 3-D input"),
    (nn.BatchNorm1d(3), (2, 4), r"BatchNorm1d\(3\): expected input with 3 channels, got \(2, 4\)"),
    (nn.BatchNorm3d(3), (2, 3, 4, 5), r"BatchNorm3d\(3\): expected a 5-D input"),
    (nn.BatchNorm1d(3), (1, 3), "Expected more than 1 value per channel when training"),
    (nn.InstanceNorm2d(3, affine=True), (2, 4, 5, 5), r"InstanceNorm2d\(3\): expected input with 3 channels"),
    (nn.InstanceNorm1d(3), (2, 3, 4, 5), r"InstanceNorm1d\(3\): expected a 2-D or 3-D input"),
    (nn.InstanceNorm1d(3, affine=True), (4, 5), r"InstanceNorm1d\(3\): expected input with 3 channels, got \(4, 5\)"),
    (nn.GroupNorm(2, 4), (2, 6, 3), r"GroupNorm\(2, 4\): expected input with 4 channels, got \(2, 6, 3\)"),
    (nn.LayerNorm((3, 4)), (2, 4, 3), r"LayerNorm\(\(3, 4\)\): expected input with trailing dimensions \(3, 4\)"),
    (nn.LocalResponseNorm(2), (4, 5), "at least 3 dimensions"),
])
def test_bad_input_names_layer_and_shape(module, shape, message):
    with pytest.raises(ValueError, match=message):
        module(gk.zeros(*shape))


def test_instance_norm_without_state_warns_on_channel_mismatch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = nn.InstanceNorm1d(3)(gk.tensor(randn(2, 5, 4)))
    assert tuple(y.shape) == (2, 5, 4) and any("expected input with 3 channels" in str(w.message) for w in caught)


def test_train_eval_switch_changes_statistics():
    module = nn.BatchNorm1d(2)
    x = gk.tensor(randn(8, 2) * 3 + 2)
    y_train = module(x).detach().numpy()
    module.eval()
    y_eval = module(x).detach().numpy()
    assert not np.allclose(y_train, y_eval)
    np.testing.assert_allclose(y_train.mean(axis=0), 0, atol=1e-5)
