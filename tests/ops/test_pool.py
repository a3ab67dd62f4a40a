import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
import gradkit.nn.functional as F
from tests.oracle import compare, gradcheck, randn


def both(name, *args, **kwargs):
    return (lambda x: getattr(F, name)(x, *args, **kwargs)), (lambda x: getattr(TF, name)(x, *args, **kwargs))


# (name, function name, positional args, keyword args, input shape)
CASES = [
    ("max2d", "max_pool2d", (2,), {}, (2, 3, 8, 6)),
    ("max2d_odd_stride_padding", "max_pool2d", (3, 2, 1), {}, (2, 3, 9, 7)),
    ("max2d_ceil", "max_pool2d", (3, 2, 1), dict(ceil_mode=True), (2, 3, 8, 7)),
    ("max2d_ceil_no_padding", "max_pool2d", (2,), dict(ceil_mode=True), (1, 2, 5, 7)),
    ("max2d_nonsquare_dilation2", "max_pool2d", ((3, 2), (2, 1), (1, 1)), dict(dilation=2), (2, 2, 9, 8)),
    ("max2d_dilation3_ceil", "max_pool2d", (2, 2, 1), dict(dilation=(3, 2), ceil_mode=True), (1, 2, 10, 9)),
    ("max2d_indices", "max_pool2d", (3, 2, 1), dict(return_indices=True), (2, 3, 7, 8)),
    ("max2d_unbatched", "max_pool2d", (2,), {}, (3, 6, 5)),
    ("max1d", "max_pool1d", (3, 2, 1), dict(ceil_mode=True), (2, 3, 10)),
    ("max1d_indices_dilation", "max_pool1d", (2, 1, 1), dict(dilation=2, return_indices=True), (2, 3, 9)),
    ("avg2d", "avg_pool2d", (2,), {}, (2, 3, 8, 6)),
    ("avg2d_padding_include", "avg_pool2d", (3, 2, 1), {}, (2, 3, 9, 7)),
    ("avg2d_padding_exclude", "avg_pool2d", (3, 2, 1), dict(count_include_pad=False), (2, 3, 9, 7)),
    ("avg2d_ceil_include", "avg_pool2d", (3, 2, 1), dict(ceil_mode=True), (2, 3, 8, 7)),
    ("avg2d_ceil_exclude", "avg_pool2d", ((3, 2), (2, 3), (1, 1)), dict(ceil_mode=True, count_include_pad=False),
     (2, 3, 8, 10)),
    ("avg2d_divisor_override", "avg_pool2d", (3, 2, 1), dict(divisor_override=4), (2, 3, 8, 7)),
    ("avg1d", "avg_pool1d", (3, 2, 1), dict(ceil_mode=True, count_include_pad=False), (2, 3, 10)),
    ("adaptive_avg2d_down", "adaptive_avg_pool2d", ((3, 5),), {}, (2, 3, 8, 7)),
    ("adaptive_avg2d_up", "adaptive_avg_pool2d", ((10, 4),), {}, (2, 3, 7, 3)),
    ("adaptive_avg2d_none", "adaptive_avg_pool2d", ((2, None),), {}, (2, 3, 7, 5)),
    ("adaptive_avg2d_global", "adaptive_avg_pool2d", (1,), {}, (2, 3, 7, 5)),
    ("adaptive_avg1d", "adaptive_avg_pool1d", (4,), {}, (2, 3, 9)),
    ("adaptive_max2d", "adaptive_max_pool2d", ((3, 5),), dict(return_indices=True), (2, 3, 8, 7)),
    ("adaptive_max2d_up", "adaptive_max_pool2d", ((9, 4),), {}, (2, 3, 7, 3)),
    ("adaptive_max1d", "adaptive_max_pool1d", (4,), dict(return_indices=True), (2, 3, 9)),
]


@pytest.mark.parametrize("name, fn, args, kwargs, shape", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fn, args, kwargs, shape):
    compare(*both(fn, *args, **kwargs), [randn(*shape)])


@pytest.mark.parametrize("name, fn, args, kwargs, shape", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_first_and_second_order(name, fn, args, kwargs, shape):
    kwargs = {k: v for k, v in kwargs.items() if k != "return_indices"}
    # Distinct, well-separated values: finite differences never cross a max-pool tie.
    x = np.random.default_rng(0).permutation(int(np.prod(shape))).reshape(shape).astype(np.float64) * 0.1
    gradcheck(both(fn, *args, **kwargs)[0], [x], second_order=True)


@pytest.mark.parametrize("fn, kwargs", [("max_pool2d", dict(kernel_size=3, stride=1, padding=1)),
                                        ("max_pool2d", dict(kernel_size=2, stride=1, dilation=2)),
                                        ("adaptive_max_pool2d", dict(output_size=(2, 3)))])
def test_ties_go_to_the_first_maximum(fn, kwargs):
    x = np.zeros((1, 2, 5, 6), np.float32)
    x[0, 1, ::2] = 1.0   # ties in every window, at several positions
    compare(lambda t: getattr(F, fn)(t, return_indices=True, **kwargs),
            lambda t: getattr(TF, fn)(t, return_indices=True, **kwargs), [x])


def test_nan_propagates_with_its_index():
    x = randn(1, 1, 4, 4)
    x[0, 0, 1, 2] = np.nan
    out, idx = F.max_pool2d(gk.tensor(x), 2, return_indices=True)
    expected, expected_idx = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(np.isnan(out.numpy()), np.isnan(expected.numpy()))
    np.testing.assert_array_equal(idx.numpy(), expected_idx.numpy())


def test_max_gradient_goes_to_argmax_only_and_overlaps_add():
    x = gk.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4), requires_grad=True)
    F.max_pool2d(x, 3, 1).backward(gk.ones(1, 1, 2, 2))
    expected = np.zeros((4, 4), np.float32)
    expected[2:, 2:] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_avg_gradient_spreads_evenly():
    x = gk.tensor(randn(1, 1, 4, 4), requires_grad=True)
    F.avg_pool2d(x, 2).backward(gk.ones(1, 1, 2, 2))
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 1, 4, 4), 0.25, np.float32))


UNPOOL = [
    ("unpool2d", dict(kernel_size=2), (2, 3, 8, 6), {}),
    ("unpool2d_stride_padding", dict(kernel_size=3, stride=2, padding=1), (2, 3, 9, 7), {}),
    ("unpool2d_output_size", dict(kernel_size=2), (2, 3, 9, 7), dict(output_size=(9, 7))),
    ("unpool2d_output_size_4d", dict(kernel_size=2), (2, 3, 9, 7), dict(output_size=(2, 3, 9, 7))),
]


@pytest.mark.parametrize("name, pool, shape, extra", UNPOOL, ids=[u[0] for u in UNPOOL])
def test_max_unpool2d_against_torch(name, pool, shape, extra):
    values, indices = TF.max_pool2d(torch.tensor(randn(*shape)), return_indices=True, **pool)
    compare(lambda v, i: F.max_unpool2d(v, i, **pool, **extra), lambda v, i: TF.max_unpool2d(v, i, **pool, **extra),
            [values.numpy(), indices.numpy()])
    flat = indices.numpy().reshape(-1, indices.shape[-2] * indices.shape[-1])
    if all(len(np.unique(row)) == row.size for row in flat):
        # With repeated indices the last write wins but every input still gets the gathered gradient
        # (PyTorch's rule too), which is not the derivative: finite differences apply to unique ones only.
        gradcheck(lambda v: F.max_unpool2d(v, gk.tensor(indices.numpy()), **pool, **extra),
                  [values.numpy().astype(np.float64)], second_order=True)


def test_max_unpool1d_against_torch():
    values, indices = TF.max_pool1d(torch.tensor(randn(2, 3, 9)), 2, return_indices=True)
    compare(lambda v, i: F.max_unpool1d(v, i, 2), lambda v, i: TF.max_unpool1d(v, i, 2),
            [values.numpy(), indices.numpy()])


def test_round_trip_through_unpool():
    x = gk.tensor(np.abs(randn(2, 3, 6, 8)) + 1)   # positive: the zeros unpool fills in never win
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    restored = F.max_unpool2d(values, indices, 2)
    again, _ = F.max_pool2d(restored, 2, return_indices=True)
    np.testing.assert_array_equal(again.numpy(), values.numpy())


ERRORS = [
    ("padding_over_half", lambda: F.max_pool2d(gk.ones(1, 1, 5, 5), 2, padding=2), r"padding .* at most half"),
    ("kernel_too_large", lambda: F.max_pool2d(gk.ones(1, 1, 3, 3), 4), r"kernel_size \(4, 4\).*larger than"),
    ("dilated_kernel_too_large", lambda: F.max_pool1d(gk.ones(1, 1, 5), 3, dilation=3), r"larger than the padded"),
    ("zero_kernel", lambda: F.avg_pool2d(gk.ones(1, 1, 5, 5), 0), r"kernel_size must be at least 1"),
    ("bad_kernel_type", lambda: F.avg_pool2d(gk.ones(1, 1, 5, 5), 2.5), r"kernel_size must be an int"),
    ("divisor_override", lambda: F.avg_pool2d(gk.ones(1, 1, 5, 5), 2, divisor_override=0), r"divisor_override"),
    ("input_dims", lambda: F.max_pool2d(gk.ones(5, 5), 2), r"max_pool2d: expected a 3-D \(unbatched\) or 4-D"),
    ("adaptive_size", lambda: F.adaptive_avg_pool2d(gk.ones(1, 1, 5, 5), (0, 2)), r"output_size must be positive"),
    ("unpool_index", lambda: F.max_unpool2d(gk.ones(1, 1, 2, 2), gk.tensor(np.full((1, 1, 2, 2), 99)), 2),
     r"index 99 is out of range"),
    ("unpool_output_size", lambda: F.max_unpool2d(gk.ones(1, 1, 2, 2), gk.zeros(1, 1, 2, 2).long(), 2,
                                                  output_size=(9, 9)), r"within a stride"),
]


@pytest.mark.parametrize("name, call, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_argument(name, call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_checked_geometry_is_remembered_but_errors_are_raised_every_time():
    x = gk.tensor(randn(1, 2, 6, 7))
    as_list = F.max_pool2d(x, [2, 3], stride=[2, 2])
    np.testing.assert_array_equal(as_list.numpy(), F.max_pool2d(x, (2, 3), stride=(2, 2)).numpy())
    np.testing.assert_array_equal(F.max_pool2d(x, (2, 3), stride=(2, 2)).numpy(), as_list.numpy())
    for _ in range(2):
        with pytest.raises(ValueError, match="at most half"):
            F.max_pool2d(x, 2, padding=2)
        with pytest.raises(ValueError, match="kernel_size must be an int"):
            F.max_pool2d(x, np.array([2, 2]))   # unhashable: checked afresh
        F.max_pool2d(x, 2)
        with pytest.raises(ValueError, match="kernel_size must be an int"):
            F.max_pool2d(x, 2.0)   # equal to 2 and hashed alike, but a float


@pytest.mark.parametrize("shape", [(2, 3, 8, 9), (1, 2, 3, 20000)], ids=["int16_planes", "int32_planes"])
def test_returned_indices_are_int64_whatever_is_kept_for_backward(shape):
    # Backward keeps the indices in the smallest type a plane needs; the caller still gets int64.
    x = randn(*shape)
    out = compare(lambda t: F.max_pool2d(t, (1, 2), return_indices=True),
                  lambda t: TF.max_pool2d(t, (1, 2), return_indices=True), [x])
    assert out[1].dtype == np.int64


@pytest.mark.parametrize("fn, torch_fn, kwargs", [
    (F.max_pool2d, TF.max_pool2d, dict(kernel_size=2)),                            # tiled windows
    (F.max_pool2d, TF.max_pool2d, dict(kernel_size=3, stride=2, padding=1)),       # any other window
    (F.max_pool1d, TF.max_pool1d, dict(kernel_size=2)),
    (F.adaptive_max_pool2d, TF.adaptive_max_pool2d, dict(output_size=(2, 3))),
])
@pytest.mark.parametrize("grad_mode", ["no_grad", "constant_input"])
def test_max_pool_without_a_graph_gives_the_same_values(fn, torch_fn, kwargs, grad_mode):
    # Inference computes the maxima alone (no indices); the values, NaN included, are PyTorch's.
    shape = (2, 3, 7, 9) if fn is not F.max_pool1d else (2, 3, 9)
    x = randn(*shape, seed=4)
    x.flat[5] = np.nan
    tx = torch.tensor(x)
    expected = torch_fn(tx, **kwargs).numpy()
    if grad_mode == "no_grad":
        with gk.no_grad():
            out = fn(gk.tensor(x, requires_grad=True), **kwargs)
    else:
        out = fn(gk.tensor(x), **kwargs)
    assert out.grad_fn is None
    np.testing.assert_array_equal(out.numpy(), expected)
    with_graph = fn(gk.tensor(x, requires_grad=True), **kwargs)
    np.testing.assert_array_equal(with_graph.detach().numpy(), expected)
