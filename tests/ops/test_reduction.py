import math

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit.ops import reduction
from tests.oracle import compare, gradcheck, randn


def ties(*shape, seed=0):
    """Small integers as floats: many equal elements, to exercise tie-breaking."""
    return np.random.default_rng(seed).integers(0, 3, shape).astype(np.float32)


def with_zeros(*shape, count=1, seed=0):
    """Random values with ``count`` zeros in the first slice along dim 1 (and one elsewhere)."""
    x = randn(*shape, seed=seed)
    x[0, :count, 0] = 0
    x[-1, -1, -1] = 0
    return x


def rows_with_special_values():
    x = randn(3, 4) * 3
    x[0] = 1000.0 + x[0]            # would overflow exp without the shift
    x[1, 1] = -np.inf               # one -inf element: finite result
    x[2] = -np.inf                  # all -inf: result -inf
    return x


INF = math.inf

# (name, gradkit fn, torch fn, inputs, indices of inputs that need grad or None for all floats)
CASES = [
    # sum
    ("sum_all", lambda x: x.sum(), lambda x: x.sum(), [randn(3, 4, 5)]),
    ("sum_dim", lambda x: gk.sum(x, 1), lambda x: torch.sum(x, 1), [randn(3, 4, 5)]),
    ("sum_neg_keepdim", lambda x: x.sum(-1, keepdim=True), lambda x: x.sum(-1, keepdim=True), [randn(3, 4, 5)]),
    ("sum_tuple", lambda x: x.sum((0, 2)), lambda x: x.sum((0, 2)), [randn(3, 4, 5)]),
    ("sum_tuple_neg_keepdim", lambda x: x.sum(dim=(-1, 0), keepdim=True),
     lambda x: x.sum(dim=(-1, 0), keepdim=True), [randn(3, 4, 5)]),
    ("sum_all_keepdim", lambda x: x.sum(dim=None, keepdim=True), lambda x: x.sum(dim=None, keepdim=True),
     [randn(3, 4, 5)]),
    ("sum_empty_tuple_is_all", lambda x: x.sum(()), lambda x: x.sum(()), [randn(3, 4, 5)]),
    ("sum_dtype", lambda x: x.sum(1, dtype=gk.float64), lambda x: x.sum(1, dtype=torch.float64), [randn(3, 4)]),
    ("sum_0d", lambda x: x.sum(0), lambda x: x.sum(0), [np.array(1.5, np.float32)]),
    ("sum_int32", lambda x: x.sum(0), lambda x: x.sum(0), [np.arange(12, dtype=np.int32).reshape(3, 4)]),
    ("sum_bool", lambda x: x.sum(), lambda x: x.sum(), [np.array([True, False, True])]),
    ("sum_float64", lambda x: x.sum(2), lambda x: x.sum(2), [randn(3, 4, 5, dtype=np.float64)]),
    # mean
    ("mean_all", gk.mean, torch.mean, [randn(3, 4, 5)]),
    ("mean_dim", lambda x: x.mean(0), lambda x: x.mean(0), [randn(3, 4, 5)]),
    ("mean_tuple_keepdim", lambda x: x.mean((1, -1), keepdim=True), lambda x: x.mean((1, -1), keepdim=True),
     [randn(3, 4, 5)]),
    ("mean_int_with_dtype", lambda x: x.mean(dtype=gk.float32), lambda x: x.mean(dtype=torch.float32),
     [np.arange(7)]),
    # prod
    ("prod_all", lambda x: x.prod(), lambda x: x.prod(), [randn(2, 3, 2) + 1]),
    ("prod_dim", lambda x: gk.prod(x, 1), lambda x: torch.prod(x, 1), [randn(3, 4, 5)]),
    ("prod_neg_keepdim", lambda x: x.prod(-1, keepdim=True), lambda x: x.prod(-1, keepdim=True), [randn(3, 4, 5)]),
    ("prod_one_zero", lambda x: x.prod(1), lambda x: x.prod(1), [with_zeros(3, 4, 5, count=1)]),
    ("prod_two_zeros", lambda x: x.prod(1), lambda x: x.prod(1), [with_zeros(3, 4, 5, count=2)]),
    ("prod_three_zeros", lambda x: x.prod(1), lambda x: x.prod(1), [with_zeros(3, 4, 5, count=3)]),
    ("prod_all_two_zeros", lambda x: x.prod(), lambda x: x.prod(), [with_zeros(2, 3, 2, count=1)]),
    ("prod_int", lambda x: x.prod(0), lambda x: x.prod(0), [np.arange(1, 7, dtype=np.int32).reshape(2, 3)]),
    # max / min
    ("max_all", lambda x: x.max(), lambda x: x.max(), [randn(3, 4, 5)]),
    ("max_all_ties", gk.max, torch.max, [ties(3, 4, 5)]),
    ("max_dim", lambda x: tuple(x.max(1)), lambda x: tuple(x.max(1)), [randn(3, 4, 5)]),
    ("max_dim_neg_keepdim", lambda x: tuple(gk.max(x, -1, keepdim=True)),
     lambda x: tuple(torch.max(x, -1, keepdim=True)), [randn(3, 4, 5)]),
    ("max_dim_ties", lambda x: tuple(x.max(dim=0)), lambda x: tuple(x.max(dim=0)), [ties(3, 4, 5)]),
    ("max_other", lambda a, b: gk.max(a, b), lambda a, b: torch.max(a, b), [randn(3, 4), randn(4, seed=1)]),
    ("min_all_ties", lambda x: x.min(), lambda x: x.min(), [ties(3, 4, 5)]),
    ("min_dim", lambda x: tuple(gk.min(x, 2)), lambda x: tuple(torch.min(x, 2)), [randn(3, 4, 5)]),
    ("min_dim_ties_keepdim", lambda x: tuple(x.min(1, True)), lambda x: tuple(x.min(1, True)), [ties(3, 4, 5)]),
    ("min_other", lambda a, b: a.min(b), lambda a, b: a.min(b), [randn(3, 4), randn(3, 1, seed=1)]),
    ("max_dim_int", lambda x: tuple(x.max(0)), lambda x: tuple(x.max(0)), [np.arange(12).reshape(3, 4) % 5]),
    # amax / amin
    ("amax_default_all", gk.amax, torch.amax, [randn(3, 4, 5)]),
    ("amax_tuple", lambda x: x.amax((0, 2)), lambda x: x.amax((0, 2)), [ties(3, 4, 5)]),
    ("amax_neg_keepdim", lambda x: gk.amax(x, -2, keepdim=True), lambda x: torch.amax(x, -2, keepdim=True),
     [ties(3, 4, 5)]),
    ("amin_tuple_keepdim", lambda x: x.amin((1, 2), True), lambda x: x.amin((1, 2), True), [ties(3, 4, 5)]),
    ("amin_dim", lambda x: gk.amin(x, 0), lambda x: torch.amin(x, 0), [randn(3, 4, 5)]),
    # var / std
    ("var_all", lambda x: x.var(), lambda x: x.var(), [randn(3, 4, 5)]),
    ("var_dim", lambda x: x.var(1), lambda x: x.var(1), [randn(3, 4, 5)]),
    ("var_biased_keepdim", lambda x: gk.var(x, 0, False, True), lambda x: torch.var(x, 0, False, True),
     [randn(3, 4, 5)]),
    ("var_unbiased_positional", lambda x: x.var(False), lambda x: x.var(False), [randn(3, 4, 5)]),
    ("var_correction_tuple", lambda x: x.var((0, -1), correction=2, keepdim=True),
     lambda x: x.var((0, -1), correction=2, keepdim=True), [randn(3, 4, 5)]),
    ("var_correction_float", lambda x: x.var(1, correction=0.5), lambda x: x.var(1, correction=0.5),
     [randn(3, 4, 5)]),
    ("var_float64", lambda x: x.var(-1), lambda x: x.var(-1), [randn(3, 4, 5, dtype=np.float64)]),
    ("std_all", lambda x: x.std(), lambda x: x.std(), [randn(3, 4, 5)]),
    ("std_tuple_keepdim", lambda x: gk.std(x, (1, 2), keepdim=True), lambda x: torch.std(x, (1, 2), keepdim=True),
     [randn(3, 4, 5)]),
    ("std_biased", lambda x: x.std(0, unbiased=False), lambda x: x.std(0, unbiased=False), [randn(3, 4, 5)]),
    ("std_constant_slice", lambda x: x.std(1), lambda x: x.std(1), [np.ones((3, 4), np.float32)]),
    ("var_mean", lambda x: gk.var_mean(x, 1), lambda x: torch.var_mean(x, 1), [randn(3, 4, 5)]),
    ("std_mean", lambda x: gk.std_mean(x, (0, 2), correction=0, keepdim=True),
     lambda x: torch.std_mean(x, (0, 2), correction=0, keepdim=True), [randn(3, 4, 5)]),
    # logsumexp
    ("logsumexp_dim", lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), [randn(3, 4, 5)]),
    ("logsumexp_tuple_keepdim", lambda x: gk.logsumexp(x, (0, -1), keepdim=True),
     lambda x: torch.logsumexp(x, (0, -1), keepdim=True), [randn(3, 4, 5)]),
    ("logsumexp_large_and_inf", lambda x: gk.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1),
     [rows_with_special_values()]),
    ("logsumexp_int", lambda x: gk.logsumexp(x, 0), lambda x: torch.logsumexp(x, 0), [np.arange(6).reshape(2, 3)]),
    # norm
    ("norm_default", lambda x: x.norm(), lambda x: x.norm(), [randn(3, 4, 5)]),
    ("norm_fro_two_dims", lambda x: x.norm("fro", (0, 2), keepdim=True),
     lambda x: x.norm("fro", (0, 2), keepdim=True), [randn(3, 4, 5)]),
    ("norm_2_dim", lambda x: reduction.norm(x, 2, 1), lambda x: torch.norm(x, 2, 1), [randn(3, 4, 5)]),
    ("norm_2_zero_vector", lambda x: x.norm(dim=1), lambda x: x.norm(dim=1), [np.zeros((2, 3), np.float32)]),
    ("norm_1", lambda x: x.norm(1, dim=-1), lambda x: x.norm(1, dim=-1), [randn(3, 4, 5)]),
    ("norm_3", lambda x: x.norm(3, dim=(0, 1)), lambda x: x.norm(3, dim=(0, 1)), [randn(3, 4, 5)]),
    ("norm_1_5", lambda x: x.norm(1.5, dim=2, keepdim=True), lambda x: x.norm(1.5, dim=2, keepdim=True),
     [randn(3, 4, 5)]),
    ("norm_0_5", lambda x: x.norm(0.5, dim=1), lambda x: x.norm(0.5, dim=1), [randn(3, 4, 5)]),
    ("norm_inf_ties", lambda x: x.norm(INF, dim=1), lambda x: x.norm(INF, dim=1), [ties(3, 4, 5) - 1]),
    ("norm_neg_inf", lambda x: x.norm(-INF), lambda x: x.norm(-INF), [randn(3, 4, 5)]),
    ("norm_0", lambda x: x.norm(0, dim=0), lambda x: x.norm(0, dim=0), [ties(3, 4, 5)]),
    ("norm_dtype", lambda x: x.norm(dim=0, dtype=gk.float64), lambda x: x.norm(dim=0, dtype=torch.float64),
     [randn(3, 4)]),
    # cumulative
    ("cumsum_dim", lambda x: x.cumsum(1), lambda x: x.cumsum(1), [randn(3, 4, 5)]),
    ("cumsum_neg", lambda x: gk.cumsum(x, -1), lambda x: torch.cumsum(x, -1), [randn(3, 4, 5)]),
    ("cumsum_int", lambda x: x.cumsum(0), lambda x: x.cumsum(0), [np.arange(6, dtype=np.int32)]),
    ("cumsum_dtype", lambda x: x.cumsum(0, dtype=gk.float64), lambda x: x.cumsum(0, dtype=torch.float64),
     [randn(5)]),
    ("cumsum_0d", lambda x: x.cumsum(0), lambda x: x.cumsum(0), [np.array(2.0, np.float32)]),
    ("cumprod_dim", lambda x: x.cumprod(1), lambda x: x.cumprod(1), [randn(3, 4, 5)]),
    ("cumprod_zeros", lambda x: gk.cumprod(x, 1), lambda x: torch.cumprod(x, 1), [with_zeros(3, 4, 5, count=2)]),
    ("cumprod_int", lambda x: x.cumprod(-1), lambda x: x.cumprod(-1), [np.arange(1, 7, dtype=np.int32)]),
]


@pytest.mark.parametrize("name, gk_fn, torch_fn, inputs", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, gk_fn, torch_fn, inputs):
    compare(gk_fn, torch_fn, inputs)


NOT_DIFFERENTIABLE = [
    ("argmax_flat", lambda x: x.argmax(), lambda x: x.argmax(), [ties(3, 4, 5)]),
    ("argmax_flat_keepdim", lambda x: gk.argmax(x, keepdim=True), lambda x: torch.argmax(x, keepdim=True),
     [randn(3, 4, 5)]),
    ("argmax_dim_ties", lambda x: x.argmax(1), lambda x: x.argmax(1), [ties(3, 4, 5)]),
    ("argmin_neg_keepdim", lambda x: gk.argmin(x, -1, True), lambda x: torch.argmin(x, -1, True), [ties(3, 4, 5)]),
    ("argmin_flat", lambda x: x.argmin(), lambda x: x.argmin(), [randn(3, 4, 5)]),
    ("all", lambda x: x.all(), lambda x: x.all(), [ties(3, 4, 5)]),
    ("all_dim", lambda x: gk.all(x, 1), lambda x: torch.all(x, 1), [ties(3, 4, 5)]),
    ("any_tuple_keepdim", lambda x: x.any((0, 2), keepdim=True), lambda x: x.any((0, 2), keepdim=True),
     [ties(3, 4, 5) > 1]),
    ("any_uint8", lambda x: x.any(0), lambda x: x.any(0), [np.array([[0, 1], [0, 0]], np.uint8)]),
    ("count_nonzero", lambda x: gk.count_nonzero(x), lambda x: torch.count_nonzero(x), [ties(3, 4, 5)]),
    ("count_nonzero_tuple", lambda x: x.count_nonzero((0, -1)), lambda x: x.count_nonzero((0, -1)),
     [ties(3, 4, 5)]),
]


@pytest.mark.parametrize("name, gk_fn, torch_fn, inputs", NOT_DIFFERENTIABLE, ids=[c[0] for c in NOT_DIFFERENTIABLE])
def test_not_differentiable_against_torch(name, gk_fn, torch_fn, inputs):
    out = compare(gk_fn, torch_fn, inputs, grad=[])
    assert not out[0].requires_grad


def spread(*shape, seed=0):
    """float64 values at least 0.1 apart, so that max/min have no near-ties for finite differences."""
    values = np.random.default_rng(seed).permutation(math.prod(shape)) * 0.1 - 1.0
    return values.reshape(shape)


# (name, fn, inputs, second order)
GRADCHECK = [
    ("sum", lambda x: x.sum((0, 2), keepdim=True), [randn(3, 4, 5)], True),
    ("mean", lambda x: x.mean(-1), [randn(3, 4, 5)], True),
    ("prod", lambda x: x.prod(1), [randn(2, 4, 3)], True),
    ("prod_all", lambda x: x.prod(), [randn(2, 3)], True),
    ("prod_one_zero", lambda x: x.prod(1), [with_zeros(2, 4, 3, count=1)], True),
    ("prod_two_zeros", lambda x: x.prod(1), [with_zeros(2, 4, 3, count=2)], True),
    ("prod_three_zeros", lambda x: x.prod(1), [with_zeros(2, 4, 3, count=3)], True),
    ("var", lambda x: x.var(1), [randn(3, 4, 5)], True),
    ("var_correction", lambda x: x.var((0, 2), correction=0, keepdim=True), [randn(3, 4, 5)], True),
    ("std", lambda x: x.std(0), [randn(3, 4, 5)], True),
    ("std_all", lambda x: x.std(), [randn(3, 4)], True),
    ("logsumexp", lambda x: x.logsumexp((1, 2)), [randn(3, 4, 5)], True),
    ("norm_2", lambda x: x.norm(dim=1), [randn(3, 4, 5)], True),
    ("norm_all", lambda x: x.norm(), [randn(3, 4)], True),
    ("norm_3", lambda x: x.norm(3, dim=-1, keepdim=True), [randn(3, 4, 5)], True),
    ("norm_1_5", lambda x: x.norm(1.5, dim=0), [randn(3, 4)], True),
    ("norm_0_5", lambda x: x.norm(0.5, dim=0), [randn(3, 4)], True),
    ("norm_1", lambda x: x.norm(1, dim=1), [randn(3, 4)], False),
    ("norm_inf", lambda x: x.norm(INF, dim=1), [spread(3, 4)], False),
    ("max_all", lambda x: x.max(), [spread(3, 4)], False),
    ("max_dim", lambda x: x.max(1).values, [spread(3, 4, 5)], False),
    ("min_dim_keepdim", lambda x: x.min(-1, keepdim=True).values, [spread(3, 4, 5)], False),
    ("amax", lambda x: x.amax((0, 2)), [spread(3, 4, 5)], False),
    ("amin", lambda x: x.amin(1, keepdim=True), [spread(3, 4, 5)], False),
    ("cumsum", lambda x: x.cumsum(1), [randn(3, 4, 5)], True),
    ("cumprod", lambda x: x.cumprod(-1), [randn(3, 4)], True),
    ("cumprod_zeros", lambda x: x.cumprod(1), [with_zeros(2, 4, 3, count=2)], False),
]


@pytest.mark.parametrize("name, fn, inputs, second_order", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_gradcheck(name, fn, inputs, second_order):
    gradcheck(fn, [a.astype(np.float64) for a in inputs], second_order=second_order)


# Second derivatives where the input has zeros, against PyTorch's double backward.
SECOND_ORDER_AT_ZEROS = [
    ("prod_one_zero", lambda x: x.prod(1), with_zeros(3, 4, 5, count=1)),
    ("prod_two_zeros", lambda x: x.prod(1), with_zeros(3, 4, 5, count=2)),
    ("prod_all_two_zeros", lambda x: x.prod(), with_zeros(2, 3, 2, count=1)),
    ("std_constant", lambda x: x.std(1), np.ones((3, 4), np.float32)),
]


@pytest.mark.parametrize("name, fn, x", SECOND_ORDER_AT_ZEROS, ids=[c[0] for c in SECOND_ORDER_AT_ZEROS])
def test_second_derivative_matches_torch(name, fn, x):
    (grad_gk, hvp_gk), (grad_torch, hvp_torch) = _grad_and_hessian_vector_product(fn, x)
    np.testing.assert_allclose(grad_gk, grad_torch, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(hvp_gk, hvp_torch, rtol=1e-4, atol=1e-5)


def test_norm_second_derivative_at_zero_vector_is_zero_not_nan():
    x = np.concatenate([np.zeros((1, 3)), randn(2, 3)]).astype(np.float32)
    (grad_gk, hvp_gk), (grad_torch, hvp_torch) = _grad_and_hessian_vector_product(lambda t: t.norm(dim=1), x)
    np.testing.assert_allclose(grad_gk, grad_torch, rtol=1e-4, atol=1e-5)
    assert np.isnan(hvp_torch[0]).all()  # PyTorch's 0/0; gradkit keeps the subgradient's 0
    np.testing.assert_array_equal(hvp_gk[0], 0)
    np.testing.assert_allclose(hvp_gk[1:], hvp_torch[1:], rtol=1e-4, atol=1e-5)


def _grad_and_hessian_vector_product(fn, x):
    """For gradkit and PyTorch: the gradient of fn at x for a random upstream gradient, and the
    derivative of that gradient in a random direction (a second-order quantity)."""
    rng = np.random.default_rng(1)
    upstream = rng.standard_normal(fn(torch.tensor(x)).shape).astype(np.float32)
    direction = rng.standard_normal(x.shape).astype(np.float32)
    results = []
    for lib in (gk, torch):
        leaf = lib.tensor(x, requires_grad=True)
        grad, = lib.autograd.grad(fn(leaf), leaf, lib.tensor(upstream), create_graph=True)
        (grad * lib.tensor(direction)).sum().backward()
        results.append((grad.detach().numpy(), leaf.grad.numpy()))
    return results


def test_max_along_dim_is_a_named_tuple():
    x = gk.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])
    result = x.max(1)
    values, indices = result
    assert values is result.values and indices is result.indices
    np.testing.assert_array_equal(result.values.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(result.indices.numpy(), [1, 0])  # first maximum, as PyTorch picks
    assert result.indices.dtype == gk.int64
    assert x.min(dim=0).indices.tolist() == [0, 1, 0]


def test_float32_stays_float32():
    x = gk.tensor(randn(3, 4, 5), requires_grad=True)
    outputs = [x.sum(1), x.mean(), x.prod(0), x.max(), x.amax(1), x.var(0), x.std(), x.logsumexp(2), x.norm(),
               x.norm(3, 1), x.cumsum(0), x.cumprod(2)]
    assert all(out.dtype == gk.float32 for out in outputs)
    gk.autograd.backward([out.sum() for out in outputs])
    assert x.grad.dtype == gk.float32


def test_nan_propagates_through_max_and_its_index():
    x = randn(2, 4)
    x[0, 2] = np.nan
    compare(lambda t: tuple(t.max(1)), lambda t: tuple(t.max(1)), [x], grad=[])
    assert np.isnan(gk.tensor(x).amax().item()) and np.isnan(gk.tensor(x).max().item())


@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.sum(3), IndexError, r"sum: dim 3 is out of range for a tensor of shape \(3, 4, 5\) "
                                     r"\(expected in \[-3, 2\]\)"),
    (lambda x: x.mean((0, -4)), IndexError, r"mean: dim -4 is out of range"),
    (lambda x: x.amax(5), IndexError, r"amax: dim 5 is out of range"),
    (lambda x: x.max(3), IndexError, r"max: dim 3 is out of range"),
    (lambda x: x.argmax(-4), IndexError, r"argmax: dim -4 is out of range"),
    (lambda x: x.cumsum(3), IndexError, r"cumsum: dim 3 is out of range"),
    (lambda x: x.var(7), IndexError, r"var: dim 7 is out of range"),
    (lambda x: x.norm(dim=3), IndexError, r"norm: dim 3 is out of range"),
    (lambda x: x.sum((0, -3)), ValueError, r"sum: dim \(0, -3\) names the same dimension more than once"),
    (lambda x: x.sum(1.5), TypeError, r"sum: dim must be an int or a tuple of ints, got 1.5"),
    (lambda x: x.max((0, 1)), TypeError, r"max: dim must be an int, got \(0, 1\)"),
    (lambda x: x.cumsum((0, 1)), TypeError, r"cumsum: dim must be an int"),
    (lambda x: x.var(1, True, correction=0), TypeError, r"var: pass either unbiased or correction"),
    (lambda x: x.std(correction=-1), ValueError, r"std: correction must be a non-negative number, got -1"),
    (lambda x: x.norm("nuc"), ValueError, r"norm: p must be 'fro', a number, inf or -inf, got 'nuc'"),
    (lambda x: x.norm("fro", (0, 1, 2)), ValueError, r"norm: p='fro' takes at most 2 dims"),
    (lambda x: x.long().mean(), TypeError, r"mean: expected a floating point input, got dtype int64"),
    (lambda x: x.long().var(), TypeError, r"var: expected a floating point input, got dtype int64"),
    (lambda x: x.long().norm(), TypeError, r"norm: expected a floating point input, got dtype int64"),
    (lambda x: gk.sum([1.0, 2.0]), TypeError, r"sum: expected input to be a Tensor, got list"),
    (lambda x: gk.max(np.ones(3)), TypeError, r"max: expected input to be a Tensor, got ndarray"),
    (lambda x: gk.zeros(0).max(), ValueError, r"max: cannot reduce over an empty dimension of a tensor of shape \(0,\)"),
    (lambda x: gk.zeros(2, 0).amin(1), ValueError, r"amin: cannot reduce over an empty dimension"),
    (lambda x: gk.zeros(0, 3).argmax(0), ValueError, r"argmax: cannot reduce over an empty dimension"),
    (lambda x: gk.tensor(1.0).sum(1), IndexError, r"sum: dim 1 is out of range for a tensor of shape \(\) "
                                                  r"\(expected in \[-1, 0\]\)"),
])
def test_errors_name_op_argument_and_value(call, error, message):
    with pytest.raises(error, match=message):
        call(gk.tensor(randn(3, 4, 5)))


def test_empty_reductions_match_torch():
    for gk_fn, torch_fn in [(lambda x: x.sum(1), lambda x: x.sum(1)), (lambda x: x.prod(1), lambda x: x.prod(1)),
                            (lambda x: x.amax(0), lambda x: x.amax(0)),
                            (lambda x: x.logsumexp(1), lambda x: x.logsumexp(1))]:
        compare(gk_fn, torch_fn, [np.zeros((2, 0), np.float32)], grad=[])
