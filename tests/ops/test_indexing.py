import numpy as np
import pytest
import torch

import gradkit as gk
from tests.oracle import compare, gradcheck, randn


def torch_key(key):
    """The same key for PyTorch: lists and arrays become tensors (PyTorch reads nested lists differently)."""
    items = key if isinstance(key, tuple) else (key,)
    converted = tuple(torch.tensor(np.asarray(k, dtype=None if len(k) else np.int64))
                      if isinstance(k, (list, np.ndarray)) else k for k in items)
    return converted if isinstance(key, tuple) else converted[0]


MASK = np.array([True, False, True])
MASK_2D = np.array([[True, False, True], [False, False, True]])
# (name, key, input shape); every key is applied to a random input by both frameworks
GETITEM = [
    ("int", 1, (3, 4)),
    ("negative_int", -1, (3, 4)),
    ("slice", slice(1, None), (5, 3)),
    ("slice_step", (slice(None), slice(0, 5, 2)), (3, 5)),
    ("negative_bounds", (slice(-3, -1), slice(None, -2)), (5, 4)),
    ("ints_everywhere", (0, 2, 1), (2, 3, 4)),
    ("none", (None, slice(None), None), (3, 2)),
    ("ellipsis", (Ellipsis, 1), (2, 3, 4)),
    ("ellipsis_middle", (0, Ellipsis, slice(1, 3)), (2, 3, 4)),
    ("bool_scalar", True, (2, 3)),
    ("int_list", [2, 0, 2], (3, 4)),
    ("int_array_repeats", (np.array([[1, 1], [0, 1]]),), (3, 4)),
    ("int_tensor_in_tuple", (slice(None), [3, 0, 3, 3]), (2, 4)),
    ("negative_indices", ([-1, 0, -1],), (3, 2)),
    ("two_arrays_broadcast", ([[0], [2]], [1, 3, 1]), (3, 4)),
    ("arrays_adjacent", (slice(None), [0, 1, 1], [2, 0, 2]), (2, 3, 4)),
    ("arrays_separated", ([0, 1, 1], slice(None), [2, 0, 2]), (2, 3, 4)),
    ("int_then_array", (slice(None), 0, slice(None), [1, 2]), (2, 3, 4, 5)),
    ("int_before_array", (1, slice(None), [0, 2, 2]), (2, 3, 4)),
    ("array_with_none", (None, [1, 0, 1], None), (2, 3)),
    ("mask", MASK, (3, 4)),
    ("mask_2d", MASK_2D, (2, 3, 4)),
    ("mask_inner", (slice(None), MASK), (2, 3, 4)),
    ("mask_and_array", (MASK, [1, 1]), (3, 4)),
    ("mask_full", np.array([[True, False], [True, True]]), (2, 2)),
    ("slice_and_array", (slice(1, None, 2), [2, 2, 0]), (5, 3)),
    ("empty_list", ([],), (3, 2)),
]


@pytest.mark.parametrize("name, key, shape", GETITEM, ids=[c[0] for c in GETITEM])
def test_getitem_against_torch(name, key, shape):
    compare(lambda x: x[key], lambda x: x[torch_key(key)], [randn(*shape)])


def test_getitem_accepts_gradkit_tensors_as_indices():
    index, mask = gk.tensor([[2, 0], [2, 2]]), gk.tensor(MASK)
    compare(lambda x: x[index, mask], lambda x: x[torch.tensor([[2, 0], [2, 2]]), torch.tensor(MASK)],
            [randn(3, 3)])
    compare(lambda x: x[gk.tensor(1)], lambda x: x[torch.tensor(1)], [randn(3, 2)])


def test_getitem_negative_step_follows_numpy():
    # PyTorch rejects negative steps; gradkit follows NumPy, and the gradient is the flipped one.
    x = gk.tensor(randn(5, 3), requires_grad=True)
    y = x[::-2]
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy()[::-2])
    y.backward(gk.ones(3, 3))
    np.testing.assert_array_equal(x.grad.numpy(), np.repeat([[1.0], [0.0], [1.0], [0.0], [1.0]], 3, axis=1))


def test_getitem_repeated_indices_accumulate_in_float32():
    weight = randn(50, 7)
    index = np.random.default_rng(1).integers(0, 50, size=(30, 11))
    out = compare(lambda w: w[index], lambda w: w[torch.tensor(index)], [weight])
    assert out[0].dtype == gk.float32


def test_getitem_basic_index_is_a_view():
    x = gk.tensor(randn(3, 4))
    assert np.shares_memory(x[1:, ::2].data, x.data)


GETITEM_GRADCHECK = [
    ("slices", (slice(1, None), slice(None, None, 2))),
    ("int_none_ellipsis", (1, None, Ellipsis)),
    ("repeated", ([2, 0, 2, 2],)),
    ("two_arrays", ([[0], [2]], [1, 1, 0])),
    ("mask", (slice(None), np.array([True, False, True]))),
    ("separated", ([0, 2], slice(None), [1, 1])),
]


@pytest.mark.parametrize("name, key", GETITEM_GRADCHECK, ids=[c[0] for c in GETITEM_GRADCHECK])
def test_getitem_gradcheck_and_second_order(name, key):
    gradcheck(lambda x: x[key] * x[key], [randn(3, 3, 2, dtype=np.float64)], second_order=True)


# ----- gather, scatter and friends -------------------------------------------------------------------------------
RNG = np.random.default_rng(7)
GATHER_INDEX = RNG.integers(0, 4, size=(2, 5))          # repeats along dim 1
COLUMN_PERMUTATION = np.argsort(RNG.random((3, 4)), axis=0)  # unique within each column
SCATTER_INDEX = RNG.integers(0, 3, size=(4, 2))
SELECT_INDEX = np.array([2, 0, 2, 1])

OPS = [
    ("gather_dim1", lambda x: gk.gather(x, 1, GATHER_INDEX), lambda x: torch.gather(x, 1, torch.tensor(GATHER_INDEX)),
     [randn(3, 4)]),
    ("gather_dim0", lambda x: x.gather(0, COLUMN_PERMUTATION[:2]),
     lambda x: x.gather(0, torch.tensor(COLUMN_PERMUTATION[:2])), [randn(3, 4)]),
    ("gather_negative_dim", lambda x: x.gather(-1, GATHER_INDEX[:, None, :]),
     lambda x: x.gather(-1, torch.tensor(GATHER_INDEX[:, None, :])), [randn(2, 3, 4)]),
    ("scatter_src", lambda x, s: x.scatter(0, COLUMN_PERMUTATION, s),
     lambda x, s: x.scatter(0, torch.tensor(COLUMN_PERMUTATION), s), [randn(3, 4), randn(3, 4, seed=1)]),
    ("scatter_partial_index", lambda x, s: gk.scatter(x, 0, COLUMN_PERMUTATION[:2], s),
     lambda x, s: torch.scatter(x, 0, torch.tensor(COLUMN_PERMUTATION[:2]), s), [randn(3, 4), randn(2, 4, seed=1)]),
    ("scatter_value", lambda x: x.scatter(1, SCATTER_INDEX, 2.5),
     lambda x: x.scatter(1, torch.tensor(SCATTER_INDEX), 2.5), [randn(4, 3)]),
    ("scatter_add", lambda x, s: x.scatter_add(1, SCATTER_INDEX, s),
     lambda x, s: x.scatter_add(1, torch.tensor(SCATTER_INDEX), s), [randn(4, 3), randn(4, 2, seed=1)]),
    # PyTorch cannot differentiate a src larger than index; gradkit gives its unused part zero gradient.
    ("scatter_add_big_src", lambda x, s: gk.scatter_add(x, 0, GATHER_INDEX[:, :3] % 2, s),
     lambda x, s: torch.scatter_add(x, 0, torch.tensor(GATHER_INDEX[:, :3] % 2), s[:2, :3]),
     [randn(2, 3), randn(3, 4, seed=1)]),
    ("scatter_reduce_add", lambda x, s: x.scatter(1, SCATTER_INDEX, s, reduce="add"),
     lambda x, s: x.scatter_add(1, torch.tensor(SCATTER_INDEX), s), [randn(4, 3), randn(4, 2, seed=1)]),
    ("index_select", lambda x: x.index_select(1, SELECT_INDEX),
     lambda x: x.index_select(1, torch.tensor(SELECT_INDEX)), [randn(2, 3, 4)]),
    ("index_select_dim0", lambda x: gk.index_select(x, 0, gk.tensor(SELECT_INDEX)),
     lambda x: torch.index_select(x, 0, torch.tensor(SELECT_INDEX)), [randn(3, 5)]),
    ("index_select_0d_index", lambda x: x.index_select(-1, gk.tensor(2)),
     lambda x: x.index_select(-1, torch.tensor(2)), [randn(3, 4)]),
    ("index_add", lambda x, s: x.index_add(1, SELECT_INDEX, s, alpha=1.5),
     lambda x, s: x.index_add(1, torch.tensor(SELECT_INDEX), s, alpha=1.5), [randn(2, 3, 5), randn(2, 4, 5, seed=1)]),
    ("index_add_dim0", lambda x, s: gk.index_add(x, 0, SELECT_INDEX, s),
     lambda x, s: torch.index_add(x, 0, torch.tensor(SELECT_INDEX), s), [randn(3, 2), randn(4, 2, seed=1)]),
    ("masked_fill", lambda x: x.masked_fill(gk.tensor(MASK_2D), -1.5),
     lambda x: x.masked_fill(torch.tensor(MASK_2D), -1.5), [randn(2, 3)]),
    ("masked_fill_broadcast_mask", lambda x: gk.masked_fill(x, MASK, 0.0),
     lambda x: torch.masked_fill(x, torch.tensor(MASK), 0.0), [randn(4, 3)]),
    ("masked_fill_broadcast_input", lambda x: x.masked_fill(gk.tensor(MASK_2D), 1.0),
     lambda x: x.masked_fill(torch.tensor(MASK_2D), 1.0), [randn(3)]),
    ("masked_fill_tensor_value", lambda x, v: x.masked_fill(gk.tensor(MASK_2D), v),
     lambda x, v: x.masked_fill(torch.tensor(MASK_2D), v), [randn(2, 3), randn()]),
    ("masked_select", lambda x: x.masked_select(gk.tensor(MASK_2D)),
     lambda x: x.masked_select(torch.tensor(MASK_2D)), [randn(2, 3)]),
    ("masked_select_broadcast", lambda x: gk.masked_select(x, MASK),
     lambda x: torch.masked_select(x, torch.tensor(MASK)), [randn(2, 3)]),
    ("take_along_dim", lambda x: x.take_along_dim(gk.tensor(GATHER_INDEX), 1),
     lambda x: x.take_along_dim(torch.tensor(GATHER_INDEX), 1), [randn(2, 4)]),
    ("take_along_dim_broadcast", lambda x: gk.take_along_dim(x, GATHER_INDEX[:1, :, None] - 4, dim=1),
     lambda x: torch.take_along_dim(x, torch.tensor(GATHER_INDEX[:1, :, None] - 4), dim=1), [randn(3, 4, 2)]),
    ("take_along_dim_flat", lambda x: x.take_along_dim(gk.tensor(GATHER_INDEX)),
     lambda x: x.take_along_dim(torch.tensor(GATHER_INDEX)), [randn(2, 3)]),
    ("take", lambda x: x.take(gk.tensor([[5, 0], [5, -1]])), lambda x: x.take(torch.tensor([[5, 0], [5, -1]])),
     [randn(2, 3)]),
    ("narrow", lambda x: x.narrow(1, 1, 2), lambda x: x.narrow(1, 1, 2), [randn(2, 4)]),
    ("narrow_negative_start", lambda x: gk.narrow(x, 0, -2, 2), lambda x: torch.narrow(x, 0, -2, 2), [randn(3, 2)]),
    ("select", lambda x: x.select(1, -1), lambda x: x.select(1, -1), [randn(2, 3, 4)]),
]


@pytest.mark.parametrize("name, gk_fn, torch_fn, inputs", OPS, ids=[c[0] for c in OPS])
def test_indexing_ops_against_torch(name, gk_fn, torch_fn, inputs):
    compare(gk_fn, torch_fn, inputs)


OPS_GRADCHECK = [
    ("gather", lambda x: x.gather(1, GATHER_INDEX), [randn(2, 4)]),
    ("scatter", lambda x, s: x.scatter(0, COLUMN_PERMUTATION[:2], s), [randn(3, 4), randn(2, 4, seed=1)]),
    ("scatter_value", lambda x: x.scatter(1, SCATTER_INDEX, 0.5), [randn(4, 3)]),
    ("scatter_add", lambda x, s: x.scatter_add(1, SCATTER_INDEX, s), [randn(4, 3), randn(4, 2, seed=1)]),
    ("scatter_add_big_src", lambda x, s: x.scatter_add(1, SCATTER_INDEX, s), [randn(4, 3), randn(4, 3, seed=1)]),
    ("index_select", lambda x: x.index_select(1, SELECT_INDEX), [randn(2, 3)]),
    ("index_add", lambda x, s: x.index_add(0, SELECT_INDEX, s, alpha=-2), [randn(3, 2), randn(4, 2, seed=1)]),
    ("masked_fill", lambda x, v: x.masked_fill(gk.tensor(MASK_2D), v), [randn(2, 3), randn()]),
    ("masked_select", lambda x: x.masked_select(gk.tensor(MASK)), [randn(2, 3)]),
    ("take_along_dim", lambda x: x.take_along_dim(gk.tensor(GATHER_INDEX[:1] - 2), 1), [randn(3, 4)]),
]


@pytest.mark.parametrize("name, fn, inputs", OPS_GRADCHECK, ids=[c[0] for c in OPS_GRADCHECK])
def test_indexing_gradcheck_and_second_order(name, fn, inputs):
    # Squared so that the second derivative is not zero and the double backward is really exercised.
    gradcheck(lambda *xs: fn(*xs) ** 2, [a.astype(np.float64) for a in inputs], second_order=True)


def test_integer_inputs_work_without_gradients():
    x = np.arange(12).reshape(3, 4)
    index = GATHER_INDEX[:, :4] % 4
    compare(lambda t: t.gather(1, index), lambda t: t.gather(1, torch.tensor(index)), [x[:2]], grad=[])
    compare(lambda t: t.scatter_add(1, SCATTER_INDEX[:3], t[:, :2]),
            lambda t: t.scatter_add(1, torch.tensor(SCATTER_INDEX[:3]), t[:, :2]), [x], grad=[])
    mask = np.array([True, False, False, True])
    compare(lambda t: t.masked_fill(gk.tensor(mask), 7), lambda t: t.masked_fill(torch.tensor(mask), 7), [x], grad=[])


@pytest.mark.parametrize("shape", [(3, 4), (5,), (), (2, 0, 3)])
def test_nonzero_and_argwhere_match_torch(shape):
    x = np.where(randn(*shape) > 0.3, randn(*shape, seed=1), 0).astype(np.float32)
    got, expected = gk.nonzero(gk.tensor(x)), torch.nonzero(torch.tensor(x))
    assert got.dtype == gk.int64 and tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    np.testing.assert_array_equal(gk.tensor(x).argwhere().numpy(), torch.argwhere(torch.tensor(x)).numpy())
    got_tuple = gk.tensor(x).nonzero(as_tuple=True)
    expected_tuple = torch.tensor(x).nonzero(as_tuple=True)
    assert len(got_tuple) == len(expected_tuple)
    for g, e in zip(got_tuple, expected_tuple):
        np.testing.assert_array_equal(g.numpy(), e.numpy())


def test_in_place_variants_match_torch_and_refuse_graph_leaves():
    x, src = randn(4, 3), randn(4, 2, seed=1)
    pairs = [
        (lambda t: t.masked_fill_(gk.tensor(MASK), 3.0), lambda t: t.masked_fill_(torch.tensor(MASK), 3.0)),
        (lambda t: t.scatter_(1, SCATTER_INDEX[:, :1], 9.0),
         lambda t: t.scatter_(1, torch.tensor(SCATTER_INDEX[:, :1]), 9.0)),
        (lambda t: t.scatter_add_(1, SCATTER_INDEX, gk.tensor(src)),
         lambda t: t.scatter_add_(1, torch.tensor(SCATTER_INDEX), torch.tensor(src))),
        (lambda t: t.index_add_(0, np.array([3, 3]), gk.tensor(x[:2])),
         lambda t: t.index_add_(0, torch.tensor([3, 3]), torch.tensor(x[:2]))),
    ]
    for gk_fn, torch_fn in pairs:
        got, expected = gk.tensor(x.copy()), torch.tensor(x.copy())
        assert gk_fn(got) is got
        torch_fn(expected)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="masked_fill_"):
        gk.tensor(x, requires_grad=True).masked_fill_(gk.tensor(MASK), 0.0)


def test_embedding_like_lookup_gradient_with_many_repeats():
    weight = randn(10, 16)
    index = np.random.default_rng(3).integers(0, 10, size=500)
    compare(lambda w: w.index_select(0, index), lambda w: w.index_select(0, torch.tensor(index)), [weight])
    compare(lambda w: w[index], lambda w: w[torch.tensor(index)], [weight])


ERRORS = [
    ("int_out_of_range", lambda: gk.ones(2, 3)[0, 3], IndexError,
     r"getitem: index 3 is out of bounds for dim 1 with size 3"),
    ("array_out_of_range", lambda: gk.ones(2, 3)[[0, -3]], IndexError, r"getitem: index -3 is out of bounds for dim 0"),
    ("too_many", lambda: gk.ones(2, 3)[0, 1, 2], IndexError,
     r"getitem: too many indices for a tensor of shape \(2, 3\)"),
    ("two_ellipses", lambda: gk.ones(2, 3)[..., 0, ...], IndexError, r"getitem: an index can only have a single"),
    ("float_index", lambda: gk.ones(2, 3)[1.5], IndexError, r"getitem: only integers, .* got float 1.5"),
    ("float_tensor_index", lambda: gk.ones(2, 3)[gk.tensor([0.0])], IndexError,
     r"getitem: .* integer or boolean, got float32"),
    ("mask_shape", lambda: gk.ones(2, 3)[gk.tensor([True, False, True])], IndexError,
     r"getitem: boolean mask of shape \(3,\) does not match the indexed shape \(2,\) at dim 0"),
    ("arrays_broadcast", lambda: gk.ones(3, 3)[[0, 1], [0, 1, 2]], IndexError,
     r"getitem: index arrays of shapes \[\(2,\), \(3,\)\] cannot be broadcast"),
    ("gather_bounds", lambda: gk.ones(3, 4).gather(1, np.array([[4]])), IndexError,
     r"gather: index 4 is out of bounds for dim 1 with size 4"),
    ("gather_negative", lambda: gk.ones(3, 4).gather(1, np.array([[-1]])), IndexError, r"gather: index -1"),
    ("gather_float_index", lambda: gk.ones(3, 4).gather(1, gk.ones(3, 1)), TypeError,
     r"gather: index must be an integer tensor, got dtype float32"),
    ("gather_rank", lambda: gk.ones(3, 4).gather(1, np.array([0, 1])), ValueError,
     r"gather: index must have as many dimensions as input \(3, 4\), got index \(2,\)"),
    ("gather_too_large", lambda: gk.ones(3, 4).gather(1, np.zeros((4, 1), int)), ValueError,
     r"gather: index of shape \(4, 1\) must not be larger than input \(3, 4\)"),
    ("scatter_src_and_value", lambda: gk.ones(3).scatter(0, np.array([0]), gk.ones(1), value=2.0), ValueError,
     r"scatter: give exactly one of src"),
    ("scatter_src_small", lambda: gk.ones(3, 4).scatter(0, np.zeros((2, 2), int), gk.ones(1, 2)), ValueError,
     r"scatter: index of shape \(2, 2\) .* nor than src \(1, 2\)"),
    ("scatter_reduce", lambda: gk.ones(3).scatter(0, np.array([0]), gk.ones(1), reduce="multiply"), ValueError,
     r"scatter: reduce must be None or 'add'"),
    ("index_select_2d", lambda: gk.ones(3, 4).index_select(0, np.zeros((2, 2), int)), ValueError,
     r"index_select: index must be 0-d or 1-d, got shape \(2, 2\)"),
    ("index_select_bounds", lambda: gk.ones(3, 4).index_select(0, np.array([3])), IndexError,
     r"index_select: index 3 is out of bounds for dim 0 with size 3"),
    ("index_add_source", lambda: gk.ones(3, 4).index_add(0, np.array([0, 1]), gk.ones(3, 4)), ValueError,
     r"index_add: source must have shape \(2, 4\) .* got \(3, 4\)"),
    ("masked_fill_mask_dtype", lambda: gk.ones(3).masked_fill(gk.ones(3), 0.0), TypeError,
     r"masked_fill: mask must be a bool tensor, got dtype float32"),
    ("masked_fill_shape", lambda: gk.ones(3).masked_fill(gk.tensor([True, False]), 0.0), ValueError,
     r"masked_fill: mask of shape \(2,\) cannot be broadcast with the input of shape \(3,\)"),
    ("masked_fill_value_shape", lambda: gk.ones(3).masked_fill(gk.tensor([True, False, True]), gk.ones(2)),
     ValueError, r"masked_fill: value must be a number or a 0-d tensor, got shape \(2,\)"),
    ("masked_select_shape", lambda: gk.ones(3).masked_select(gk.tensor([True, False])), ValueError,
     r"masked_select: mask of shape \(2,\)"),
    ("take_along_dim_broadcast", lambda: gk.ones(3, 4).take_along_dim(np.zeros((2, 1), int), 1), ValueError,
     r"take_along_dim: input \(3, 4\) and indices \(2, 1\) cannot be broadcast outside dim 1"),
    ("narrow_range", lambda: gk.ones(3, 4).narrow(1, 3, 2), IndexError,
     r"narrow: start 3 and length 2 are out of range for dim 1 of size 4"),
    ("select_range", lambda: gk.ones(3, 4).select(0, 3), IndexError, r"getitem: index 3 is out of bounds for dim 0"),
]


@pytest.mark.parametrize("name, call, error, message", ERRORS, ids=[c[0] for c in ERRORS])
def test_indexing_errors_name_op_and_values(name, call, error, message):
    with pytest.raises(error, match=message):
        call()
