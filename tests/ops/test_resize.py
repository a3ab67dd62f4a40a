import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.ops.resize import focus_space_to_depth
from tests.oracle import compare, gradcheck, randn

# (name, input shape, interpolate keyword arguments)
INTERPOLATE = [
    ("nearest_x2", (2, 3, 5, 7), dict(scale_factor=2)),
    ("nearest_size", (2, 3, 5, 7), dict(size=(9, 4))),
    ("nearest_fractional_scale", (2, 3, 5, 7), dict(scale_factor=1.7)),
    ("nearest_scale_per_axis", (2, 3, 6, 7), dict(scale_factor=(0.5, 2.3))),
    ("nearest_recompute", (2, 3, 5, 7), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ("nearest_exact", (2, 3, 5, 7), dict(size=(9, 4), mode="nearest-exact")),
    ("nearest_1d", (2, 3, 9), dict(scale_factor=2.5)),
    ("bilinear_up", (2, 3, 5, 7), dict(size=(9, 13), mode="bilinear")),
    ("bilinear_down", (2, 3, 9, 8), dict(size=(4, 3), mode="bilinear")),
    ("bilinear_align_corners", (2, 3, 5, 7), dict(size=(9, 13), mode="bilinear", align_corners=True)),
    ("bilinear_align_corners_to_one", (1, 2, 5, 7), dict(size=(1, 3), mode="bilinear", align_corners=True)),
    ("bilinear_scale", (2, 3, 5, 7), dict(scale_factor=(1.5, 0.6), mode="bilinear")),
    ("bilinear_scale_recompute", (2, 3, 5, 7), dict(scale_factor=(1.5, 0.6), mode="bilinear",
                                                    recompute_scale_factor=True)),
    ("bicubic", (2, 3, 5, 7), dict(size=(9, 13), mode="bicubic")),
    ("bicubic_align_corners_down", (2, 3, 6, 7), dict(size=(3, 13), mode="bicubic", align_corners=True)),
    ("linear", (2, 3, 9), dict(size=14, mode="linear")),
    ("linear_align_corners", (2, 3, 9), dict(scale_factor=0.7, mode="linear", align_corners=True)),
    ("area", (2, 3, 8, 7), dict(size=(3, 5), mode="area")),
    ("area_1d", (2, 3, 10), dict(size=4, mode="area")),
]


@pytest.mark.parametrize("name, shape, kwargs", INTERPOLATE, ids=[c[0] for c in INTERPOLATE])
def test_interpolate_against_torch(name, shape, kwargs):
    compare(lambda x: F.interpolate(x, **kwargs), lambda x: TF.interpolate(x, **kwargs), [randn(*shape)])


@pytest.mark.parametrize("name, shape, kwargs", INTERPOLATE, ids=[c[0] for c in INTERPOLATE])
def test_interpolate_gradcheck(name, shape, kwargs):
    gradcheck(lambda x: F.interpolate(x, **kwargs), [randn(1, *shape[1:], dtype=np.float64)], second_order=True)


def test_nearest_indices_exact_on_a_large_awkward_ratio():
    # Long axes make float32 rounding of i * scale matter: the indices must be PyTorch's, bit for bit.
    x = np.arange(1 * 1 * 3 * 997, dtype=np.float32).reshape(1, 1, 3, 997)
    for kwargs in (dict(size=(3, 1733)), dict(scale_factor=(1.0, 1.37)), dict(size=(3, 411), mode="nearest-exact")):
        got = F.interpolate(gk.tensor(x), **kwargs).numpy()
        np.testing.assert_array_equal(got, TF.interpolate(torch.tensor(x), **kwargs).numpy())


def test_pixel_shuffle_and_unshuffle():
    compare(lambda x: F.pixel_shuffle(x, 2), lambda x: TF.pixel_shuffle(x, 2), [randn(2, 12, 3, 5)])
    compare(lambda x: F.pixel_shuffle(x, 3), lambda x: TF.pixel_shuffle(x, 3), [randn(2, 1, 9, 2, 4)])
    compare(lambda x: F.pixel_unshuffle(x, 3), lambda x: TF.pixel_unshuffle(x, 3), [randn(2, 2, 6, 9)])
    gradcheck(lambda x: F.pixel_shuffle(x, 2), [randn(1, 8, 2, 3, dtype=np.float64)], second_order=True)
    x = gk.tensor(randn(2, 3, 4, 6))
    np.testing.assert_array_equal(F.pixel_shuffle(F.pixel_unshuffle(x, 2), 2).numpy(), x.numpy())


def test_focus_space_to_depth_is_yolov5_slicing():
    def slices(x):
        return torch.cat([x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]], 1)
    compare(focus_space_to_depth, slices, [randn(2, 3, 6, 4)])
    gradcheck(focus_space_to_depth, [randn(1, 2, 4, 2, dtype=np.float64)], second_order=True)


ERRORS = [
    ("both_size_and_scale", lambda: F.interpolate(gk.ones(1, 1, 4, 4), size=2, scale_factor=2), r"exactly one of"),
    ("neither", lambda: F.interpolate(gk.ones(1, 1, 4, 4)), r"exactly one of"),
    ("mode", lambda: F.interpolate(gk.ones(1, 1, 4, 4), size=2, mode="trilinear"), r"mode must be one of"),
    ("mode_dims", lambda: F.interpolate(gk.ones(1, 1, 4, 4), size=2, mode="linear"), r"needs a 3-D input"),
    ("align_corners_nearest", lambda: F.interpolate(gk.ones(1, 1, 4, 4), size=2, align_corners=True),
     r"align_corners can only be set"),
    ("empty_output", lambda: F.interpolate(gk.ones(1, 1, 4, 4), scale_factor=0.1), r"empty output"),
    ("shuffle_channels", lambda: F.pixel_shuffle(gk.ones(1, 6, 2, 2), 2), r"channels 6 must be divisible by"),
    ("unshuffle_size", lambda: F.pixel_unshuffle(gk.ones(1, 1, 5, 4), 2), r"height 5 and width 4"),
    ("focus_odd", lambda: focus_space_to_depth(gk.ones(1, 3, 5, 4)), r"Focus: height and width must be even"),
]


@pytest.mark.parametrize("name, call, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_argument(name, call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_antialias_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="antialias"):
        F.interpolate(gk.ones(1, 1, 4, 4), size=2, mode="bilinear", antialias=True)
