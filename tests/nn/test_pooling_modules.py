import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from tests.oracle import compare, randn

# (name, layer class name, constructor arguments, input shape)
LAYERS = [
    ("maxpool2d", "MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 8, 7)),
    ("maxpool2d_dilation_indices", "MaxPool2d", ((2, 3),), dict(stride=1, dilation=2, return_indices=True),
     (2, 3, 7, 9)),
    ("maxpool1d", "MaxPool1d", (3,), dict(stride=2, padding=1), (2, 3, 10)),
    ("avgpool2d", "AvgPool2d", (3,), dict(stride=2, padding=1, count_include_pad=False, ceil_mode=True), (2, 3, 8, 7)),
    ("avgpool2d_divisor", "AvgPool2d", ((2, 3),), dict(divisor_override=3), (2, 3, 8, 7)),
    ("avgpool1d", "AvgPool1d", (4,), dict(stride=3, padding=2), (2, 3, 11)),
    ("adaptive_avg2d", "AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 8, 7)),
    ("adaptive_avg1d", "AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("adaptive_max2d", "AdaptiveMaxPool2d", (3,), dict(return_indices=True), (2, 3, 8, 7)),
    ("adaptive_max1d", "AdaptiveMaxPool1d", (3,), {}, (2, 3, 8)),
    ("upsample_nearest", "Upsample", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("upsample_bilinear", "Upsample", (), dict(size=(7, 9), mode="bilinear"), (2, 3, 4, 5)),
    ("upsample_bicubic_align", "Upsample", (), dict(scale_factor=1.5, mode="bicubic", align_corners=True),
     (2, 3, 4, 5)),
    ("upsample_linear", "Upsample", (), dict(scale_factor=2.5, mode="linear"), (2, 3, 5)),
    ("upsampling_nearest2d", "UpsamplingNearest2d", (), dict(size=(6, 7)), (2, 3, 4, 5)),
    ("upsampling_bilinear2d", "UpsamplingBilinear2d", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("pixel_shuffle", "PixelShuffle", (2,), {}, (2, 8, 3, 4)),
    ("pixel_unshuffle", "PixelUnshuffle", (2,), {}, (2, 2, 4, 6)),
]


@pytest.mark.parametrize("name, cls, args, kwargs, shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_against_torch(name, cls, args, kwargs, shape):
    compare(getattr(nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs), [randn(*shape)])


@pytest.mark.parametrize("name, cls, args, kwargs, shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_repr_matches_torch(name, cls, args, kwargs, shape):
    assert repr(getattr(nn, cls)(*args, **kwargs)) == repr(getattr(torch.nn, cls)(*args, **kwargs))


def test_layers_have_no_parameters_or_state():
    for cls, args in [("MaxPool2d", (2,)), ("AvgPool2d", (2,)), ("Upsample", ()), ("PixelShuffle", (2,))]:
        module = getattr(nn, cls)(*args, **({"scale_factor": 2} if cls == "Upsample" else {}))
        assert list(module.parameters()) == [] and module.state_dict() == {}


def test_max_unpool2d_layer_inverts_max_pool2d():
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    values, indices = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(randn(2, 3, 8, 6)))
    compare(unpool, torch.nn.MaxUnpool2d(2), [values.numpy(), indices.numpy()])
    values, indices = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(randn(2, 3, 9, 7)))
    compare(lambda v, i: unpool(v, i, output_size=(9, 7)),
            lambda v, i: torch.nn.MaxUnpool2d(2)(v, i, output_size=(9, 7)), [values.numpy(), indices.numpy()])
    x = gk.tensor(np.abs(randn(1, 2, 4, 6)) + 1)
    out, idx = pool(x)
    np.testing.assert_array_equal(pool(unpool(out, idx))[0].numpy(), out.numpy())


CONSTRUCTION_ERRORS = [
    ("pool_padding", lambda: nn.MaxPool2d(2, padding=2), r"MaxPool2d: padding 2 must be at most half"),
    ("pool_kernel", lambda: nn.AvgPool2d(0), r"AvgPool2d: kernel_size must be"),
    ("pool_stride", lambda: nn.MaxPool1d(2, stride=0), r"MaxPool1d: stride must be"),
    ("divisor", lambda: nn.AvgPool2d(2, divisor_override=-1), r"divisor_override must be a positive int"),
    ("adaptive", lambda: nn.AdaptiveAvgPool2d((2, 3, 4)), r"AdaptiveAvgPool2d: output_size must be"),
    ("upsample_mode", lambda: nn.Upsample(scale_factor=2, mode="cubic"), r"Upsample: mode must be one of"),
    ("upsample_align", lambda: nn.Upsample(scale_factor=2, align_corners=True), r"align_corners can only be set"),
    ("upsample_size", lambda: nn.Upsample(), r"exactly one of size or scale_factor"),
    ("shuffle", lambda: nn.PixelShuffle(0), r"PixelShuffle: upscale_factor must be a positive int"),
]


@pytest.mark.parametrize("name, build, message", CONSTRUCTION_ERRORS, ids=[e[0] for e in CONSTRUCTION_ERRORS])
def test_bad_hyperparameters_raise_at_construction(name, build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_wrong_input_rank_names_the_layer():
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2.*\): expected a 3-D \(unbatched\) or 4-D"):
        nn.MaxPool2d(2)(gk.ones(4, 4))
