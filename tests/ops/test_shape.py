import numpy as np
import pytest
import torch

import gradkit as gk
from tests.oracle import compare, gradcheck, randn

# (name, gradkit fn, torch fn, inputs); functions are called on tensors, so methods and gk.* both get exercised
SHAPE = [
    ("reshape", lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1), [randn(2, 3, 2)]),
    ("reshape_tuple", lambda x: gk.reshape(x, (3, 4)), lambda x: torch.reshape(x, (3, 4)), [randn(2, 6)]),
    ("view", lambda x: x.view(-1), lambda x: x.view(-1), [randn(3, 5)]),
    ("view_as", lambda x: x.view_as(gk.zeros(5, 3)), lambda x: x.view_as(torch.zeros(5, 3)), [randn(3, 5)]),
    ("ravel", gk.ravel, torch.ravel, [randn(2, 3, 2)]),
    ("flatten_all", gk.flatten, torch.flatten, [randn(2, 3, 4)]),
    ("flatten_range", lambda x: gk.flatten(x, 1, 2), lambda x: torch.flatten(x, 1, 2), [randn(2, 3, 4, 5)]),
    ("flatten_negative", lambda x: x.flatten(-3, -2), lambda x: x.flatten(-3, -2), [randn(2, 3, 4, 5)]),
    ("flatten_0d", gk.flatten, torch.flatten, [randn()]),
    ("unflatten", lambda x: x.unflatten(1, (2, -1)), lambda x: x.unflatten(1, (2, -1)), [randn(3, 6, 5)]),
    ("squeeze_all", gk.squeeze, torch.squeeze, [randn(1, 3, 1, 5)]),
    ("squeeze_dim", lambda x: x.squeeze(2), lambda x: x.squeeze(2), [randn(1, 3, 1, 5)]),
    ("squeeze_tuple", lambda x: x.squeeze((0, -2)), lambda x: x.squeeze((0, -2)), [randn(1, 3, 1, 5)]),
    ("squeeze_not_one", lambda x: x.squeeze(1), lambda x: x.squeeze(1), [randn(1, 3, 1, 5)]),
    ("unsqueeze_last", lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1), [randn(3, 5)]),
    ("unsqueeze_middle", lambda x: gk.unsqueeze(x, 1), lambda x: torch.unsqueeze(x, 1), [randn(3, 5)]),
    ("transpose", lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2), [randn(2, 3, 4)]),
    ("swapaxes", lambda x: gk.swapaxes(x, -1, 0), lambda x: torch.swapaxes(x, -1, 0), [randn(2, 3, 4)]),
    ("swapdims", lambda x: x.swapdims(1, 2), lambda x: x.swapdims(1, 2), [randn(2, 3, 4)]),
    ("permute", lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), [randn(2, 3, 4)]),
    ("permute_tuple", lambda x: gk.permute(x, (1, -1, 0)), lambda x: torch.permute(x, (1, -1, 0)), [randn(2, 3, 4)]),
    ("t", lambda x: x.t(), lambda x: x.t(), [randn(3, 5)]),
    ("t_1d", gk.t, torch.t, [randn(5)]),
    ("T", lambda x: x.T, lambda x: x.permute(2, 1, 0), [randn(2, 3, 4)]),
    ("mT", lambda x: x.mT, lambda x: x.mT, [randn(2, 3, 4)]),
    ("movedim", lambda x: x.movedim((0, 1), (2, 0)), lambda x: x.movedim((0, 1), (2, 0)), [randn(2, 3, 4)]),
    ("moveaxis", lambda x: gk.moveaxis(x, -1, 0), lambda x: torch.moveaxis(x, -1, 0), [randn(2, 3, 4)]),
    ("expand", lambda x: x.expand(2, -1, 4), lambda x: x.expand(2, -1, 4), [randn(3, 1)]),
    ("expand_list", lambda x: x.expand([5, 3]), lambda x: x.expand([5, 3]), [randn(1, 3)]),
    ("expand_as", lambda x: x.expand_as(gk.zeros(2, 3, 4)), lambda x: x.expand_as(torch.zeros(2, 3, 4)),
     [randn(3, 1)]),
    ("broadcast_to", lambda x: gk.broadcast_to(x, (2, 3, 5)), lambda x: torch.broadcast_to(x, (2, 3, 5)),
     [randn(3, 1)]),
    ("repeat", lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3), [randn(3, 2)]),
    ("repeat_same_rank", lambda x: x.repeat(3, 2), lambda x: x.repeat(3, 2), [randn(1, 3)]),
    ("repeat_zero", lambda x: x.repeat(0, 2), lambda x: x.repeat(0, 2), [randn(2, 3)]),
    ("tile_short", lambda x: x.tile((2,)), lambda x: x.tile((2,)), [randn(2, 3)]),
    ("tile_long", lambda x: gk.tile(x, (2, 1, 3)), lambda x: torch.tile(x, (2, 1, 3)), [randn(3, 2)]),
    ("flip", lambda x: x.flip((0, 2)), lambda x: x.flip((0, 2)), [randn(2, 3, 4)]),
    ("flip_negative", lambda x: gk.flip(x, [-1]), lambda x: torch.flip(x, [-1]), [randn(3, 5)]),
    ("roll_flat", lambda x: x.roll(2), lambda x: x.roll(2), [randn(3, 5)]),
    ("roll_dims", lambda x: x.roll((1, -2), (0, 2)), lambda x: x.roll((1, -2), (0, 2)), [randn(2, 3, 4)]),
    ("roll_large_shift", lambda x: gk.roll(x, 7, 1), lambda x: torch.roll(x, 7, 1), [randn(3, 5)]),
    ("cat", lambda a, b, c: gk.cat([a, b, c], 1), lambda a, b, c: torch.cat([a, b, c], 1),
     [randn(2, 1, 3), randn(2, 4, 3, seed=1), randn(2, 2, 3, seed=2)]),
    ("cat_negative_dim", lambda a, b: gk.cat((a, b), dim=-1), lambda a, b: torch.cat((a, b), dim=-1),
     [randn(3, 2), randn(3, 5, seed=1)]),
    ("concat", lambda a, b: gk.concat([a, b]), lambda a, b: torch.concat([a, b]), [randn(2, 3), randn(1, 3, seed=1)]),
    ("concatenate", lambda a, b: gk.concatenate([a, b], 1), lambda a, b: torch.concatenate([a, b], 1),
     [randn(2, 3), randn(2, 1, seed=1)]),
    ("cat_legacy_empty", lambda a, b: gk.cat([a, b]), lambda a, b: torch.cat([a, b]), [randn(0), randn(2, 3)]),
    ("cat_zero_size", lambda a, b: gk.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1), [randn(2, 0), randn(2, 3)]),
    ("stack", lambda a, b, c: gk.stack([a, b, c]), lambda a, b, c: torch.stack([a, b, c]),
     [randn(2, 3), randn(2, 3, seed=1), randn(2, 3, seed=2)]),
    ("stack_last", lambda a, b: gk.stack((a, b), dim=-1), lambda a, b: torch.stack((a, b), dim=-1),
     [randn(2, 3), randn(2, 3, seed=1)]),
    ("stack_middle", lambda a, b: gk.stack((a, b), 1), lambda a, b: torch.stack((a, b), 1),
     [randn(4, 3), randn(4, 3, seed=1)]),
    ("split_size", lambda x: x.split(2, 1), lambda x: x.split(2, 1), [randn(3, 5)]),
    ("split_sections", lambda x: gk.split(x, [1, 3, 1], dim=-1), lambda x: torch.split(x, [1, 3, 1], dim=-1),
     [randn(2, 5)]),
    ("split_one_used", lambda x: x.split(2)[1], lambda x: x.split(2)[1], [randn(5, 3)]),
    ("chunk", lambda x: x.chunk(3, 1), lambda x: x.chunk(3, 1), [randn(2, 5)]),
    ("chunk_fewer", lambda x: gk.chunk(x, 4), lambda x: torch.chunk(x, 4), [randn(6, 2)]),
    ("chunk_empty", lambda x: x.chunk(3), lambda x: x.chunk(3), [randn(0)]),
    ("unbind", lambda x: x.unbind(1), lambda x: x.unbind(1), [randn(2, 3, 4)]),
    ("unbind_partly_used", lambda x: gk.unbind(x)[2], lambda x: torch.unbind(x)[2], [randn(3, 2)]),
]


@pytest.mark.parametrize("name, gk_fn, torch_fn, inputs", SHAPE, ids=[c[0] for c in SHAPE])
def test_shape_ops_against_torch(name, gk_fn, torch_fn, inputs):
    compare(gk_fn, torch_fn, inputs)


# Small inputs: the finite-difference Jacobian costs one forward per element.
GRADCHECK = [
    ("reshape", lambda x: x.reshape(-1, 2), [randn(2, 3)]),
    ("flatten", lambda x: x.flatten(1), [randn(2, 2, 3)]),
    ("squeeze_unsqueeze", lambda x: x.squeeze(0).unsqueeze(-1), [randn(1, 2, 3)]),
    ("permute", lambda x: x.permute(1, 2, 0), [randn(2, 3, 2)]),
    ("transpose", lambda x: x.transpose(0, 1), [randn(2, 3)]),
    ("movedim", lambda x: x.movedim(0, -1), [randn(2, 3, 2)]),
    ("expand", lambda x: x.expand(3, 2, 4), [randn(2, 1)]),
    ("repeat", lambda x: x.repeat(2, 1, 3), [randn(2, 2)]),
    ("tile", lambda x: x.tile((2,)), [randn(2, 3)]),
    ("cat", lambda a, b: gk.cat([a, b], 1), [randn(2, 1), randn(2, 3, seed=1)]),
    ("stack", lambda a, b: gk.stack([a, b], -1), [randn(2, 3), randn(2, 3, seed=1)]),
    ("split", lambda x: x.split([1, 2], 1), [randn(2, 3)]),
    ("chunk_partly_used", lambda x: x.chunk(3)[1], [randn(5, 2)]),
    ("unbind", lambda x: x.unbind(-1), [randn(2, 3)]),
    ("flip", lambda x: x.flip((0, 1)), [randn(2, 3)]),
    ("roll", lambda x: x.roll((1, 2), (0, 1)), [randn(2, 3)]),
    ("roll_flat", lambda x: x.roll(-4), [randn(2, 3)]),
    ("products_of_shapes", lambda a, b: gk.cat([a, b], 1).t() * gk.stack([b, a], 1).flatten(1).t(),
     [randn(2, 3), randn(2, 3, seed=1)]),
]


@pytest.mark.parametrize("name, fn, inputs", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_shape_gradcheck_and_second_order(name, fn, inputs):
    gradcheck(fn, [a.astype(np.float64) for a in inputs], second_order=True)


def test_cat_and_stack_promote_dtypes_like_torch():
    a, b = np.arange(6).reshape(2, 3), randn(2, 3)
    got = gk.cat([gk.tensor(a), gk.tensor(b)])
    expected = torch.cat([torch.tensor(a), torch.tensor(b)])
    assert got.dtype == gk.float32 and str(expected.dtype) == "torch.float32"
    np.testing.assert_allclose(got.numpy(), expected.numpy())
    got = gk.stack([gk.tensor(b), gk.tensor(b.astype(np.float64))])
    assert got.dtype == gk.float64 == torch.stack([torch.tensor(b), torch.tensor(b.astype(np.float64))]).numpy().dtype


def test_cat_gradient_keeps_each_input_dtype():
    a = gk.tensor(randn(2, 3), requires_grad=True)
    b = gk.tensor(randn(1, 3).astype(np.float64), requires_grad=True)
    out = gk.cat([a, b])
    assert out.dtype == gk.float64
    out.backward(gk.ones(3, 3, dtype=gk.float64))
    assert a.grad.dtype == gk.float32 and b.grad.dtype == gk.float64


def test_integer_tensors_pass_through_shape_ops():
    x = gk.arange(12)
    y = x.reshape(3, 4).t().flip((0,)).repeat(1, 2)
    expected = torch.arange(12).reshape(3, 4).t().flip((0,)).repeat(1, 2)
    assert y.dtype == gk.int64
    np.testing.assert_array_equal(y.numpy(), expected.numpy())


def test_split_pieces_and_views_share_memory_like_torch():
    x = gk.tensor(randn(4, 3))
    pieces = x.split(3)
    assert [tuple(p.shape) for p in pieces] == [(3, 3), (1, 3)]
    assert np.shares_memory(pieces[0].data, x.data) and np.shares_memory(x.t().data, x.data)


def test_identity_shape_ops_keep_gradients():
    x = gk.tensor(randn(2, 3), requires_grad=True)
    y = x.reshape(2, 3).transpose(1, 1).squeeze(0).expand(2, 3).permute(0, 1)
    y.backward(gk.ones(2, 3))
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


ERRORS = [
    ("cat_shapes", lambda: gk.cat([gk.ones(2, 3), gk.ones(3, 3)], dim=1), ValueError,
     r"cat: tensors must have the same shape except in dim 1, got \(2, 3\) and \(3, 3\)"),
    ("cat_rank", lambda: gk.cat([gk.ones(2, 3), gk.ones(2, 3, 1)]), ValueError, r"cat: .*\(2, 3\) and \(2, 3, 1\)"),
    ("cat_empty_list", lambda: gk.cat([]), ValueError, r"cat: expected a non-empty sequence"),
    ("cat_not_tensors", lambda: gk.cat([gk.ones(2), np.ones(2)]), TypeError, r"cat: .*ndarray at position 1"),
    ("cat_tensor_not_list", lambda: gk.cat(gk.ones(2, 3)), TypeError, r"cat: expected a sequence of tensors"),
    ("cat_dim", lambda: gk.cat([gk.ones(2, 3), gk.ones(2, 3)], dim=2), IndexError, r"cat: dim 2 is out of range"),
    ("stack_shapes", lambda: gk.stack([gk.ones(2, 3), gk.ones(3, 3)]), ValueError,
     r"stack: expected all tensors to have the same shape, got \(2, 3\) at entry 0 and \(3, 3\) at entry 1"),
    ("reshape", lambda: gk.ones(2, 3).reshape(4, 2), ValueError, r"reshape: shape \(4, 2\) is invalid .*\(2, 3\)"),
    ("reshape_two_minus_one", lambda: gk.ones(2, 3).reshape(-1, -1), ValueError, r"reshape"),
    ("view_dtype_size", lambda: gk.ones(2).view(gk.float64), ValueError, r"view: dtype float64"),
    ("permute_length", lambda: gk.ones(2, 3).permute(1, 0, 2), ValueError, r"permute: dims \(1, 0, 2\)"),
    ("permute_repeat", lambda: gk.ones(2, 3).permute(1, 1), ValueError, r"permute: .*more than once"),
    ("transpose_range", lambda: gk.ones(2, 3).transpose(0, 2), IndexError, r"transpose: dim1 2 is out of range"),
    ("t_3d", lambda: gk.ones(2, 3, 4).t(), ValueError, r"t: expects a tensor with <= 2 dimensions, got shape"),
    ("squeeze_range", lambda: gk.ones(2, 3).squeeze(3), IndexError, r"squeeze: dim 3 is out of range"),
    ("unsqueeze_range", lambda: gk.ones(2, 3).unsqueeze(4), IndexError, r"unsqueeze: dim 4 is out of range"),
    ("flatten_order", lambda: gk.ones(2, 3, 4).flatten(2, 1), ValueError, r"flatten: start_dim 2 comes after"),
    ("unflatten_sizes", lambda: gk.ones(2, 3).unflatten(1, (2, 2)), ValueError,
     r"unflatten: sizes \[2, 2\] don't multiply up to the size of dim 1 \(3\)"),
    ("expand_mismatch", lambda: gk.ones(2, 3).expand(2, 4), ValueError,
     r"expand: the expanded size 4 must match the existing size 3 at dim 1"),
    ("expand_new_minus_one", lambda: gk.ones(3).expand(-1, 3), ValueError, r"expand: size -1 is not allowed"),
    ("expand_fewer", lambda: gk.ones(2, 3).expand(3), ValueError, r"expand: the number of sizes"),
    ("broadcast_to", lambda: gk.ones(3, 1).broadcast_to(2,), ValueError, r"broadcast_to: shape \(3, 1\)"),
    ("repeat_fewer", lambda: gk.ones(2, 3).repeat(2), ValueError, r"repeat: the number of repeats \(2,\)"),
    ("split_sections", lambda: gk.ones(5).split([2, 2]), ValueError, r"split: split sizes \[2, 2\] .* \(5\)"),
    ("split_zero", lambda: gk.ones(5).split(0), ValueError, r"split: split_size must be positive"),
    ("chunk_zero", lambda: gk.ones(5).chunk(0), ValueError, r"chunk: chunks must be positive, got 0"),
    ("flip_duplicates", lambda: gk.ones(2, 3).flip((0, -2)), ValueError, r"flip: dims \(0, 0\) contains"),
    ("roll_lengths", lambda: gk.ones(2, 3).roll((1, 2), 0), ValueError, r"roll: shifts \(1, 2\) and dims \(0,\)"),
    ("movedim_lengths", lambda: gk.ones(2, 3).movedim((0, 1), 0), ValueError, r"movedim: source \(0, 1\)"),
    ("dim_not_int", lambda: gk.ones(2, 3).transpose(0, 1.5), TypeError, r"transpose: dim1 must be an int"),
    ("unbind_0d", lambda: gk.tensor(1.0).unbind(), ValueError, r"unbind: a zero-dimensional tensor"),
]


@pytest.mark.parametrize("name, call, error, message", ERRORS, ids=[c[0] for c in ERRORS])
def test_shape_errors_name_op_and_shapes(name, call, error, message):
    with pytest.raises(error, match=message):
        call()
