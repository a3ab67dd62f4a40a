import math

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from tests.oracle import randn


def check_against_torch(module, reference, x, forward_args=(), atol=2e-5):
    """Load the PyTorch module's weights, then compare output, input gradient and parameter gradients."""
    assert list(module.state_dict()) == list(reference.state_dict())
    module.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    xg, xt = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yg, yt = module(xg, *forward_args), reference(xt, *forward_args)
    assert tuple(yg.shape) == tuple(yt.shape)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=1e-4)
    upstream = np.random.default_rng(0).standard_normal(tuple(yt.shape)).astype(np.float32)
    yg.backward(gk.tensor(upstream))
    yt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), atol=atol, rtol=1e-4)
    params = dict(module.named_parameters())
    for name, p in reference.named_parameters():
        np.testing.assert_allclose(params[name].grad.numpy(), p.grad.numpy(), atol=1e-4, rtol=1e-4, err_msg=name)


# (name, layer class name, constructor arguments, input shape)
LAYERS = [
    ("conv2d", "Conv2d", (3, 5, 3), dict(), (2, 3, 8, 7)),
    ("conv2d_stride_padding_nobias", "Conv2d", (3, 4, (3, 2)), dict(stride=2, padding=(1, 2), bias=False),
     (2, 3, 9, 8)),
    ("conv2d_dilation_groups", "Conv2d", (4, 6, 3), dict(padding=2, dilation=2, groups=2), (2, 4, 7, 9)),
    ("conv2d_depthwise", "Conv2d", (4, 4, 3), dict(padding=1, groups=4), (2, 4, 6, 5)),
    ("conv2d_same", "Conv2d", (3, 4, 4), dict(padding="same", dilation=3), (1, 3, 11, 10)),
    ("conv1d", "Conv1d", (3, 5, 3), dict(stride=2, padding=1, dilation=2), (2, 3, 13)),
    ("conv1d_unbatched", "Conv1d", (3, 2, 2), dict(), (3, 7)),
    ("conv_transpose2d", "ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 5, 4)),
    ("conv_transpose2d_dilation_nobias", "ConvTranspose2d", (3, 2, (2, 3)), dict(stride=(1, 2), dilation=(2, 1),
                                                                                 bias=False), (2, 3, 4, 5)),
    ("conv_transpose1d", "ConvTranspose1d", (3, 4, 3), dict(stride=3, padding=1, output_padding=1), (2, 3, 6)),
]


@pytest.mark.parametrize("name, cls, args, kwargs, shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_against_torch(name, cls, args, kwargs, shape):
    torch.manual_seed(0)
    check_against_torch(getattr(nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs), randn(*shape))


@pytest.mark.parametrize("name, cls, args, kwargs, shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_repr_and_parameter_shapes_match_torch(name, cls, args, kwargs, shape):
    module, reference = getattr(nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)
    assert repr(module) == repr(reference)
    assert {k: tuple(v.shape) for k, v in module.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in reference.state_dict().items()}


@pytest.mark.parametrize("cls, args", [("Conv2d", (16, 64, 3)), ("ConvTranspose2d", (64, 16, 3)),
                                       ("Conv1d", (32, 48, 5))])
def test_default_init_is_kaiming_uniform_a_sqrt5(cls, args):
    gk.manual_seed(0)
    module = getattr(nn, cls)(*args)
    weight, bias = module.weight.detach().numpy(), module.bias.detach().numpy()
    fan_in = weight.shape[1] * int(np.prod(weight.shape[2:]))
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    assert abs(weight.std() / (bound / math.sqrt(3)) - 1) < 0.03   # uniform(-b, b) has std b / sqrt(3)
    assert abs(weight.mean()) < 0.03 * bound
    assert np.abs(bias).max() > 0.5 * bound and weight.dtype == np.float32


def test_init_is_reproducible_from_the_seed():
    gk.manual_seed(3)
    a = nn.Conv2d(3, 4, 3).weight.detach().numpy()
    gk.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Conv2d(3, 4, 3).weight.detach().numpy())


def test_conv_transpose_output_size():
    torch.manual_seed(0)
    reference = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    module = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    check_against_torch(module, reference, randn(2, 3, 4, 5), forward_args=((8, 10),))
    with pytest.raises(ValueError, match=r"output_size \(12, 10\) is not reachable"):
        module(gk.ones(2, 3, 4, 5), (12, 10))


def test_focus_matches_yolov5_slicing_then_conv():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(12, 8, 3, 1, 1)
    focus = nn.Focus(3, 8, 3)
    focus.load_state_dict({"conv." + k: v.detach().numpy() for k, v in conv.state_dict().items()})
    x = randn(2, 3, 8, 6)
    xt = torch.tensor(x)
    expected = conv(torch.cat([xt[..., ::2, ::2], xt[..., 1::2, ::2], xt[..., ::2, 1::2], xt[..., 1::2, 1::2]], 1))
    np.testing.assert_allclose(focus(gk.tensor(x)).detach().numpy(), expected.detach().numpy(), atol=1e-5)
    assert list(focus.state_dict()) == ["conv.weight", "conv.bias"]
    assert nn.Focus(3, 8, (3, 1), stride=2).conv.padding == (1, 0)


def test_input_channel_error_names_the_layer():
    with pytest.raises(ValueError, match=r"^Conv2d\(3, 16, kernel_size=3\): expected input with 3 channels, "
                                         r"got \(8, 4, 32, 32\)$"):
        nn.Conv2d(3, 16, kernel_size=3)(gk.ones(8, 4, 32, 32))
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(4, 2, kernel_size=2\): expected input with 4 channels"):
        nn.ConvTranspose2d(4, 2, kernel_size=2)(gk.ones(1, 3, 5, 5))
    with pytest.raises(ValueError, match=r"Focus\(3, 8\): expected input with 3 channels"):
        nn.Focus(3, 8)(gk.ones(1, 4, 4, 4))


CONSTRUCTION_ERRORS = [
    ("groups", lambda: nn.Conv2d(4, 6, 3, groups=3), r"groups=3 must divide in_channels=4"),
    ("padding_string", lambda: nn.Conv2d(3, 4, 3, padding="full"), r"padding must be 'same', 'valid'.*'full'"),
    ("same_strided", lambda: nn.Conv2d(3, 4, 3, padding="same", stride=2), r"not supported for strided"),
    ("kernel_size", lambda: nn.Conv2d(3, 4, 0), r"kernel_size must be at least 1, got 0"),
    ("kernel_tuple", lambda: nn.Conv2d(3, 4, (3, 3, 3)), r"kernel_size must be an int or a tuple of 2 ints"),
    ("channels", lambda: nn.Conv1d(0, 4, 3), r"in_channels must be a positive int, got 0"),
    ("transpose_padding_string", lambda: nn.ConvTranspose2d(3, 4, 3, padding="same"), r"padding must be an int"),
    ("output_padding", lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2),
     r"output_padding \(2, 2\) must be smaller than either stride"),
    ("padding_mode", lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"), r"padding_mode must be 'zeros'"),
]


@pytest.mark.parametrize("name, build, message", CONSTRUCTION_ERRORS, ids=[e[0] for e in CONSTRUCTION_ERRORS])
def test_bad_hyperparameters_raise_at_construction(name, build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_other_padding_modes_are_not_implemented(mode):
    with pytest.raises(NotImplementedError, match=f"padding_mode='{mode}' is not implemented"):
        nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode)


def test_kernel_larger_than_input_is_reported_at_call():
    with pytest.raises(ValueError, match=r"larger than the padded input"):
        nn.Conv2d(3, 4, 5)(gk.ones(1, 3, 4, 4))
