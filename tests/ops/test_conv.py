import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
import gradkit.nn.functional as F
from tests.oracle import compare, gradcheck, randn


def both(name, **kwargs):
    """The same call in both frameworks: (gradkit function, torch function)."""
    return (lambda *a: getattr(F, name)(*a, **kwargs)), (lambda *a: getattr(TF, name)(*a, **kwargs))


# (name, function name, keyword arguments, input, weight shape, bias?)
CASES = [
    ("conv2d_bias", "conv2d", {}, (2, 3, 7, 6), (4, 3, 3, 2), True),
    ("conv2d_stride_padding", "conv2d", dict(stride=2, padding=1), (2, 3, 9, 8), (5, 3, 3, 3), True),
    ("conv2d_stride_padding_tuples", "conv2d", dict(stride=(2, 3), padding=(2, 1)), (2, 3, 9, 11), (4, 3, 4, 3), False),
    ("conv2d_dilation2", "conv2d", dict(padding=2, dilation=2), (1, 2, 8, 9), (3, 2, 3, 3), True),
    ("conv2d_dilation3_stride2", "conv2d", dict(stride=2, padding=(1, 3), dilation=(3, 2)), (2, 2, 11, 10),
     (3, 2, 3, 3), True),
    ("conv2d_groups", "conv2d", dict(groups=3, padding=1), (2, 6, 5, 7), (9, 2, 3, 3), True),
    ("conv2d_depthwise", "conv2d", dict(groups=4, padding=1, stride=2), (2, 4, 7, 6), (4, 1, 3, 3), True),
    ("conv2d_depthwise_multiplier", "conv2d", dict(groups=3), (2, 3, 6, 5), (6, 1, 2, 3), False),
    ("conv2d_depthwise_dilated_same", "conv2d", dict(groups=3, padding="same", dilation=(2, 3)), (2, 3, 7, 8),
     (6, 1, 4, 3), True),
    ("conv2d_depthwise_row_stride", "conv2d", dict(groups=4, stride=(2, 1), padding=(0, 2)), (1, 4, 7, 6),
     (8, 1, 3, 3), False),
    ("conv2d_1x1", "conv2d", {}, (3, 5, 4, 3), (2, 5, 1, 1), True),
    # more than _PER_IMAGE_MAX_ROWS rows of columns (45): the slice-wide product; the cases above with few
    # input channels take the per-image one
    ("conv2d_many_channels", "conv2d", dict(padding=1), (3, 5, 6, 7), (6, 5, 3, 3), True),
    ("conv2d_same_even_kernel", "conv2d", dict(padding="same"), (2, 3, 7, 6), (4, 3, 4, 2), True),
    ("conv2d_same_dilated", "conv2d", dict(padding="same", dilation=(2, 3)), (1, 2, 7, 8), (3, 2, 3, 2), False),
    ("conv2d_valid", "conv2d", dict(padding="valid"), (2, 3, 7, 6), (4, 3, 3, 3), True),
    ("conv2d_kernel_fills_padded_input", "conv2d", dict(padding=1), (2, 2, 3, 4), (3, 2, 5, 6), True),
    ("conv2d_unbatched", "conv2d", dict(padding=1), (3, 6, 5), (4, 3, 3, 3), True),
    ("conv1d", "conv1d", {}, (2, 3, 11), (4, 3, 3), True),
    ("conv1d_stride_padding_dilation", "conv1d", dict(stride=2, padding=2, dilation=3), (2, 3, 17), (5, 3, 3), True),
    ("conv1d_groups_same", "conv1d", dict(groups=2, padding="same"), (2, 4, 9), (6, 2, 4), False),
    ("conv_transpose2d", "conv_transpose2d", {}, (2, 3, 4, 5), (3, 4, 3, 2), True),
    ("conv_transpose2d_stride_padding", "conv_transpose2d", dict(stride=2, padding=1), (2, 3, 5, 4), (3, 2, 3, 3),
     True),
    ("conv_transpose2d_output_padding", "conv_transpose2d", dict(stride=(2, 3), padding=1, output_padding=(1, 2)),
     (2, 4, 5, 4), (4, 3, 3, 4), True),
    ("conv_transpose2d_groups_dilation", "conv_transpose2d",
     dict(stride=2, padding=(1, 2), output_padding=1, groups=2, dilation=(2, 3)), (2, 4, 5, 4), (4, 3, 3, 2), True),
    ("conv_transpose2d_output_padding_below_dilation", "conv_transpose2d", dict(output_padding=1, dilation=2),
     (1, 2, 4, 3), (2, 3, 3, 3), False),
    ("conv_transpose2d_depthwise", "conv_transpose2d", dict(stride=2, padding=1, groups=6), (2, 6, 4, 5),
     (6, 1, 3, 3), True),
    ("conv_transpose2d_depthwise_multiplier", "conv_transpose2d", dict(stride=(1, 2), groups=3, dilation=2),
     (2, 6, 4, 5), (6, 1, 2, 3), True),
    ("conv_transpose2d_unbatched", "conv_transpose2d", dict(stride=2), (3, 4, 3), (3, 2, 2, 2), True),
    ("conv_transpose1d", "conv_transpose1d", dict(stride=3, padding=1, output_padding=2, groups=2), (2, 4, 6),
     (4, 1, 4), True),
]


def _case_inputs(fn_name, kwargs, x_shape, w_shape, bias, dtype=np.float32):
    inputs = [randn(*x_shape, dtype=dtype), randn(*w_shape, seed=1, dtype=dtype)]
    if bias:
        groups = kwargs.get("groups", 1)
        out_channels = w_shape[1] * groups if "transpose" in fn_name else w_shape[0]
        inputs.append(randn(out_channels, seed=2, dtype=dtype))
    return inputs


@pytest.mark.parametrize("name, fn_name, kwargs, x_shape, w_shape, bias", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fn_name, kwargs, x_shape, w_shape, bias):
    gk_fn, torch_fn = both(fn_name, **kwargs)
    compare(gk_fn, torch_fn, _case_inputs(fn_name, kwargs, x_shape, w_shape, bias), atol=2e-5)


@pytest.mark.parametrize("name, fn_name, kwargs, x_shape, w_shape, bias", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_first_and_second_order(name, fn_name, kwargs, x_shape, w_shape, bias):
    gk_fn, _ = both(fn_name, **kwargs)
    # Small batch keeps the finite differences quick; second order exercises the three-map design.
    x_shape = (1,) + tuple(x_shape[1:]) if len(x_shape) == len(w_shape) else x_shape
    gradcheck(gk_fn, _case_inputs(fn_name, kwargs, x_shape, w_shape, bias, np.float64), second_order=True)


def test_float64_stays_float64():
    compare(F.conv2d, TF.conv2d, [randn(2, 3, 5, 5, dtype=np.float64), randn(2, 3, 3, 3, seed=1, dtype=np.float64)])


def test_larger_case_against_torch():
    kwargs = dict(stride=1, padding=1)
    compare(lambda x, w, b: F.conv2d(x, w, b, **kwargs), lambda x, w, b: TF.conv2d(x, w, b, **kwargs),
            [randn(8, 16, 14, 13), randn(24, 16, 3, 3, seed=1) * 0.1, randn(24, seed=2)], atol=1e-4)


def test_gradient_of_input_only_and_weight_only():
    x, w = randn(2, 3, 6, 5), randn(4, 3, 3, 3, seed=1)
    compare(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1), [x, w], grad=[0])
    compare(lambda x, w: F.conv2d(x, w, stride=2), lambda x, w: TF.conv2d(x, w, stride=2), [x, w], grad=[1])


def test_no_grad_forward_matches():
    x, w = randn(2, 3, 6, 5), randn(4, 3, 3, 3, seed=1)
    with gk.no_grad():
        out = F.conv2d(gk.tensor(x), gk.tensor(w, requires_grad=True), padding=1)
    assert out.grad_fn is None
    np.testing.assert_allclose(out.numpy(), TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy(), atol=1e-5)


ERRORS = [
    ("channels", lambda: F.conv2d(gk.ones(8, 4, 5, 5), gk.ones(16, 3, 3, 3)),
     r"conv2d: input of shape \(8, 4, 5, 5\) has 4 channels, but weight of shape \(16, 3, 3, 3\) with groups=1 "
     r"expects 3"),
    ("groups", lambda: F.conv2d(gk.ones(1, 4, 5, 5), gk.ones(6, 2, 3, 3), groups=3), r"groups=3 must divide"),
    ("kernel_too_large", lambda: F.conv2d(gk.ones(1, 3, 4, 4), gk.ones(2, 3, 5, 5)),
     r"kernel size \(5, 5\) \(dilated to 5\) is larger than the padded input size 4"),
    ("dilated_kernel_too_large", lambda: F.conv2d(gk.ones(1, 3, 6, 6), gk.ones(2, 3, 3, 3), dilation=3),
     r"dilated to 7"),
    ("padding_string", lambda: F.conv2d(gk.ones(1, 3, 5, 5), gk.ones(2, 3, 3, 3), padding="full"),
     r"padding must be 'valid', 'same'.*got 'full'"),
    ("same_strided", lambda: F.conv2d(gk.ones(1, 3, 5, 5), gk.ones(2, 3, 3, 3), padding="same", stride=2),
     r"padding='same' is not supported for strided convolutions"),
    ("negative_padding", lambda: F.conv2d(gk.ones(1, 3, 5, 5), gk.ones(2, 3, 3, 3), padding=-1),
     r"padding must be at least 0"),
    ("zero_stride", lambda: F.conv2d(gk.ones(1, 3, 5, 5), gk.ones(2, 3, 3, 3), stride=0), r"stride must be at least 1"),
    ("bias_shape", lambda: F.conv2d(gk.ones(1, 3, 5, 5), gk.ones(2, 3, 3, 3), gk.ones(3)),
     r"expected bias of shape \(2,\), got \(3,\)"),
    ("weight_dims", lambda: F.conv2d(gk.ones(1, 3, 5, 5), gk.ones(2, 3, 3)), r"expected a 4-D weight"),
    ("input_dims", lambda: F.conv2d(gk.ones(5, 5), gk.ones(2, 3, 3, 3)), r"expected a 3-D \(unbatched\) or 4-D"),
    ("dtype", lambda: F.conv2d(gk.ones(1, 3, 5, 5), gk.tensor(np.ones((2, 3, 3, 3)))), r"same dtype"),
    ("output_padding", lambda: F.conv_transpose2d(gk.ones(1, 3, 5, 5), gk.ones(3, 2, 3, 3), stride=2, output_padding=2),
     r"output_padding \(2, 2\) must be smaller than either stride"),
    ("transpose_channels", lambda: F.conv_transpose2d(gk.ones(1, 4, 5, 5), gk.ones(3, 2, 3, 3)),
     r"has 4 channels, but weight of shape \(3, 2, 3, 3\) expects 3"),
    ("transpose_padding_string", lambda: F.conv_transpose2d(gk.ones(1, 3, 5, 5), gk.ones(3, 2, 3, 3), padding="same"),
     r"no string modes"),
]


@pytest.mark.parametrize("name, call, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_argument(name, call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


@pytest.mark.parametrize("kwargs, x_shape, w_shape", [
    (dict(padding=1), (5, 3, 6, 5), (4, 3, 3, 3)),                   # stride 1: input gradient as a conv
    (dict(stride=2, padding=1), (5, 3, 7, 6), (4, 3, 3, 3)),         # strided: input gradient via col2im
    (dict(groups=2, padding=1, stride=(1, 2)), (5, 4, 6, 7), (6, 2, 3, 2)),
], ids=["stride1", "stride2", "groups"])
def test_batch_slices_give_the_numbers_of_one_slice(monkeypatch, kwargs, x_shape, w_shape):
    """A budget below one image's columns runs every map image by image (slices of 1, plus a last one
    of a different size when the budget holds two images); numbers stay PyTorch's."""
    from gradkit.ops import conv
    inputs = [randn(*x_shape), randn(*w_shape, seed=1), randn(w_shape[0], seed=2)]
    torch_fn = lambda x, w, b: TF.conv2d(x, w, b, **kwargs)  # noqa: E731
    for images in (1, 2):
        per_image = x_shape[1] * w_shape[2] * w_shape[3] * x_shape[2] * x_shape[3] * 4
        monkeypatch.setattr(conv, "_COLS_BUDGET_BYTES", images * per_image)
        compare(lambda x, w, b: F.conv2d(x, w, b, **kwargs), torch_fn, inputs, atol=2e-5)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("kwargs, x_shape, w_shape", [
    (dict(padding=1), (6, 3, 9, 8), (5, 3, 3, 3)),
    (dict(padding=(2, 1), dilation=2), (4, 2, 8, 9), (3, 2, 3, 2)),
    (dict(stride=2, padding=1), (6, 3, 9, 8), (5, 3, 3, 3)),
    (dict(groups=2, padding=1), (5, 4, 6, 7), (6, 2, 3, 3)),
], ids=["stride1", "stride1_dilated", "stride2", "groups"])
def test_plain_backward_hands_both_gradients_slices_to_the_threads_together(monkeypatch, kwargs, x_shape, w_shape,
                                                                           threads):
    """On several threads the plain backward runs the batch slices of the input and weight gradients
    as one list of tasks (parallel.balanced); the numbers are those of the two maps run alone, and
    PyTorch's."""
    from gradkit.kernels import parallel
    from gradkit.ops import conv
    monkeypatch.setattr(conv, "_COLS_BUDGET_BYTES", 1)   # one image per slice: each map has several slices
    before = gk.get_num_threads()
    gk.set_num_threads(threads)
    counts = []
    original = parallel.balanced
    monkeypatch.setattr(parallel, "balanced", lambda fn, count: counts.append(count) or original(fn, count))
    try:
        splits = parallel.num_threads() == threads   # gradkit splits work only where it controls BLAS
        inputs = [randn(*x_shape), randn(*w_shape, seed=1), randn(w_shape[0], seed=2)]
        compare(lambda x, w, b: F.conv2d(x, w, b, **kwargs), lambda x, w, b: TF.conv2d(x, w, b, **kwargs), inputs,
                atol=2e-5)
        x, w = gk.tensor(inputs[0], requires_grad=True), gk.tensor(inputs[1], requires_grad=True)
        out = F.conv2d(x, w, **kwargs)
        grad = randn(*out.shape, seed=3)
        out.backward(gk.tensor(grad))
        geometry = out.grad_fn.geometry
        alone_x = conv.conv_input_grad_arrays(grad, inputs[1], geometry, x_shape[2:])
        alone_w = conv.conv_weight_grad_arrays(inputs[0], grad, geometry, w_shape[2:])
    finally:
        gk.set_num_threads(before)
    np.testing.assert_array_equal(x.grad.numpy(), alone_x)
    np.testing.assert_array_equal(w.grad.numpy(), alone_w)
    assert (len(counts) > 0 and all(c == 2 * x_shape[0] for c in counts)) if splits else counts == []


def test_batch_slices_bound_the_scratch_buffer():
    from gradkit.kernels import im2col
    from gradkit.ops import conv
    x = gk.tensor(randn(64, 16, 32, 32), requires_grad=True)
    w = gk.tensor(randn(16, 16, 3, 3, seed=1), requires_grad=True)
    whole_batch = 16 * 9 * 64 * 32 * 32 * 4
    assert whole_batch > 4 * conv._COLS_BUDGET_BYTES
    im2col._scratch.buffers = {}
    F.conv2d(x, w, padding=1).sum().backward()
    largest = max(buffer.nbytes for buffer in im2col._scratch.buffers.values())
    assert largest <= conv._COLS_BUDGET_BYTES


def test_empty_batch_gives_zero_weight_gradient():
    x = gk.tensor(np.zeros((0, 3, 5, 5), np.float32), requires_grad=True)
    w = gk.tensor(randn(4, 3, 3, 3, seed=1), requires_grad=True)
    out = F.conv2d(x, w, padding=1)
    assert tuple(out.shape) == (0, 4, 5, 5)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((4, 3, 3, 3), np.float32))
