import numpy as np
import pytest
import torch

import gradkit as gk
from tests.oracle import compare, gradcheck, randn


def positive(*shape, seed=0):
    return np.abs(randn(*shape, seed=seed)) + 0.5


# (name, gradkit fn, torch fn, inputs)
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [randn(3, 4), randn(4, seed=1)]),
    ("add_alpha", lambda a, b: gk.add(a, b, alpha=2.5), lambda a, b: torch.add(a, b, alpha=2.5), [randn(2, 3), randn(2, 1, seed=1)]),
    ("radd_scalar", lambda a: 2 + a, lambda a: 2 + a, [randn(5)]),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [randn(3, 1, 5), randn(4, 1, seed=1)]),
    ("rsub", lambda a: 1.5 - a, lambda a: 1.5 - a, [randn(2, 3)]),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [randn(2, 3, 4), randn(3, 1, seed=1)]),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [randn(3, 4), positive(4, seed=1)]),
    ("rdiv", lambda a: 2.0 / a, lambda a: 2.0 / a, [positive(3, 2)]),
    ("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, [randn(3, 4)]),
    ("pow_tensor", lambda a, b: a ** b, lambda a, b: a ** b, [positive(3, 4), randn(4, seed=1)]),
    ("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, [randn(5)]),
    ("maximum", gk.maximum, torch.maximum, [randn(3, 4), randn(4, seed=1)]),
    ("minimum", gk.minimum, torch.minimum, [randn(3, 4), randn(3, 1, seed=1)]),
    ("maximum_ties", gk.maximum, torch.maximum, [np.ones((2, 3), np.float32), np.ones((2, 3), np.float32)]),
    ("where", lambda a, b: gk.where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b), [randn(3, 4), randn(4, seed=1)]),
    ("lerp", lambda a, b: gk.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3), [randn(3, 4), randn(3, 4, seed=1)]),
    ("lerp_tensor_weight", gk.lerp, torch.lerp, [randn(3, 4), randn(3, 4, seed=1), randn(3, 4, seed=2)]),
]

UNARY = [
    ("neg", gk.neg, torch.neg, randn(3, 4)),
    ("abs", gk.abs, torch.abs, randn(3, 4)),
    ("reciprocal", gk.reciprocal, torch.reciprocal, positive(3, 4)),
    ("exp", gk.exp, torch.exp, randn(3, 4)),
    ("log", gk.log, torch.log, positive(3, 4)),
    ("log2", gk.log2, torch.log2, positive(3, 4)),
    ("log10", gk.log10, torch.log10, positive(3, 4)),
    ("log1p", gk.log1p, torch.log1p, positive(3, 4)),
    ("expm1", gk.expm1, torch.expm1, randn(3, 4)),
    ("sqrt", gk.sqrt, torch.sqrt, positive(3, 4)),
    ("rsqrt", gk.rsqrt, torch.rsqrt, positive(3, 4)),
    ("square", gk.square, torch.square, randn(3, 4)),
    ("sin", gk.sin, torch.sin, randn(3, 4)),
    ("cos", gk.cos, torch.cos, randn(3, 4)),
    ("tan", gk.tan, torch.tan, randn(3, 4) * 0.5),
    ("tanh", gk.tanh, torch.tanh, randn(3, 4)),
    ("sigmoid", gk.sigmoid, torch.sigmoid, randn(3, 4) * 4),
    ("relu", gk.relu, torch.relu, randn(3, 4)),
    ("clamp_both", lambda x: gk.clamp(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5), randn(3, 4)),
    ("clamp_min", lambda x: x.clamp(min=0.1), lambda x: x.clamp(min=0.1), randn(5)),
    ("clip_max", lambda x: x.clip(max=0.2), lambda x: x.clip(max=0.2), randn(5)),
    ("sign", gk.sign, torch.sign, randn(3, 4)),
    ("floor", gk.floor, torch.floor, randn(3, 4) * 3),
    ("ceil", gk.ceil, torch.ceil, randn(3, 4) * 3),
    ("trunc", gk.trunc, torch.trunc, randn(3, 4) * 3),
]


@pytest.mark.parametrize("name, gk_fn, torch_fn, inputs", BINARY, ids=[c[0] for c in BINARY])
def test_binary_against_torch(name, gk_fn, torch_fn, inputs):
    compare(gk_fn, torch_fn, inputs)


@pytest.mark.parametrize("name, gk_fn, torch_fn, x", UNARY, ids=[c[0] for c in UNARY])
def test_unary_against_torch(name, gk_fn, torch_fn, x):
    compare(gk_fn, torch_fn, [x])


SMOOTH = [c for c in BINARY if c[0] not in ("maximum_ties",)]


@pytest.mark.parametrize("name, gk_fn, torch_fn, inputs", SMOOTH, ids=[c[0] for c in SMOOTH])
def test_binary_gradcheck(name, gk_fn, torch_fn, inputs):
    gradcheck(gk_fn, [a.astype(np.float64) for a in inputs], second_order=name not in ("maximum", "minimum", "where"))


SMOOTH_UNARY = [c for c in UNARY if c[0] not in ("sign", "floor", "ceil", "trunc")]


@pytest.mark.parametrize("name, gk_fn, torch_fn, x", SMOOTH_UNARY, ids=[c[0] for c in SMOOTH_UNARY])
def test_unary_gradcheck_and_second_order(name, gk_fn, torch_fn, x):
    gradcheck(gk_fn, [x.astype(np.float64)], second_order=True)


@pytest.mark.parametrize("name, op", [("eq", "__eq__"), ("ne", "__ne__"), ("lt", "__lt__"), ("le", "__le__"),
                                      ("gt", "__gt__"), ("ge", "__ge__")])
def test_comparisons_are_bool_and_match(name, op):
    a, b = randn(3, 4), randn(4, seed=1)
    b[1] = a[0, 1]
    got = getattr(gk.tensor(a), op)(gk.tensor(b))
    expected = getattr(torch.tensor(a), op)(torch.tensor(b))
    assert got.dtype == gk.bool
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_logical_and_predicates():
    x = gk.tensor([1.0, float("nan"), float("inf"), -2.0])
    np.testing.assert_array_equal(gk.isnan(x).numpy(), [False, True, False, False])
    np.testing.assert_array_equal(gk.isfinite(x).numpy(), [True, False, False, True])
    np.testing.assert_array_equal(gk.isinf(x).numpy(), [False, False, True, False])
    a, b = gk.tensor([True, False, True]), gk.tensor([True, True, False])
    np.testing.assert_array_equal((a & b).numpy(), [True, False, False])
    np.testing.assert_array_equal((a | b).numpy(), [True, True, True])
    np.testing.assert_array_equal((a ^ b).numpy(), [False, True, True])
    np.testing.assert_array_equal((~a).numpy(), [False, True, False])


def test_python_scalars_keep_float32_and_ints_promote_like_torch():
    x = gk.tensor([1.0, 2.0])
    assert (x * 2.5).dtype == gk.float32
    assert (2.5 * x).dtype == gk.float32
    i = gk.tensor([1, 2])
    assert i.dtype == gk.int64
    assert (i / 2).dtype == gk.float32 == torch.tensor([1, 2]).div(2).numpy().dtype
    assert (i * 2.5).dtype == gk.float32
    assert gk.tensor(np.zeros(2)).dtype == gk.float64


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize("left, right", [
    (np.array([[1.5, -2.0, 3.25]], np.float32), np.array([[0.5], [4.0]], np.float32)),
    (np.array([1, 2, 3]), 2.5),
    (np.array([1, 2, 3]), np.array([2, 4, 8])),
    (3, np.array([1.0, 2.0], np.float64)),
    (np.array([1.0, 2.0], np.float16), np.array([3.0, 4.0], np.float32)),
    (np.array(2.0, np.float32), 0.1),
])
def test_arithmetic_without_a_graph_equals_the_recorded_op(op, left, right):
    # Ops that record nothing (no_grad, or no input requiring grad) skip the node: same values and dtypes.
    def run(requires_grad):
        a = left
        if isinstance(left, np.ndarray):
            a = gk.tensor(left, requires_grad=requires_grad and left.dtype.kind == "f")
        return getattr(gk, op)(a, gk.tensor(right) if isinstance(right, np.ndarray) else right)

    plain = run(False)
    with gk.no_grad():
        unrecorded = run(True)
    recorded = run(True)
    torch_out = getattr(torch, op)(torch.tensor(left) if isinstance(left, np.ndarray) else left,
                                   torch.tensor(right) if isinstance(right, np.ndarray) else right)
    for out in (plain, unrecorded, recorded):
        assert out.dtype == torch_out.numpy().dtype
        assert np.array_equal(out.detach().numpy(), recorded.detach().numpy())
        assert type(out.data) is np.ndarray
    assert plain.grad_fn is None and unrecorded.grad_fn is None and not unrecorded.requires_grad


@pytest.mark.parametrize("name, gk_fn, torch_fn, x", UNARY, ids=[c[0] for c in UNARY])
def test_unary_without_a_graph_equals_the_recorded_op(name, gk_fn, torch_fn, x):
    recorded = gk_fn(gk.tensor(x, requires_grad=True))
    with gk.no_grad():
        unrecorded = gk_fn(gk.tensor(x, requires_grad=True))
    for out in (unrecorded, gk_fn(gk.tensor(x))):
        assert out.grad_fn is None and out.dtype == recorded.dtype and type(out.data) is np.ndarray
        np.testing.assert_array_equal(out.numpy(), recorded.detach().numpy())
    integers = gk.tensor(np.arange(1, 4))   # integer inputs give float32, as in torch
    if name not in ("floor", "ceil", "trunc", "sign", "neg", "abs", "square", "clamp_both", "clamp_min", "clip_max"):
        assert gk_fn(integers).dtype == torch_fn(torch.arange(1, 4)).numpy().dtype


def test_floor_divide_and_remainder_match_torch():
    a, b = randn(3, 4) * 5, positive(4, seed=1)
    compare(gk.floor_divide, torch.floor_divide, [a, b], grad=[])
    compare(gk.remainder, torch.remainder, [a, b], grad=[0])


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        gk.ones(2, 3) * gk.ones(4)


def test_sigmoid_extreme_inputs_are_finite():
    x = gk.tensor([-1e4, 1e4], requires_grad=True)
    y = gk.sigmoid(x)
    y.sum().backward() if hasattr(y, "sum") else y.backward(gk.ones(2))
    assert np.all(np.isfinite(y.detach().numpy())) and np.all(np.isfinite(x.grad.numpy()))


def test_cast_is_differentiable():
    compare(lambda x: x.double() * 2, lambda x: x.double() * 2, [randn(3)])


@pytest.mark.parametrize("threads", [1, 2])
def test_relu_matches_torch_bit_for_bit_on_special_values_and_large_inputs(threads):
    # -0.0 stays -0.0 and NaN stays NaN, as in PyTorch; the large input is split over the threads.
    special = np.array([np.nan, -np.nan, -0.0, 0.0, -np.inf, np.inf, 1e-45, -1e-45, 3.4e38, -2.0], np.float32)
    large = np.concatenate([randn(600_000, seed=3), special])
    before = gk.get_num_threads()
    gk.set_num_threads(threads)
    try:
        for x in (special, large):
            ours, theirs = gk.relu(gk.tensor(x)).numpy(), torch.relu(torch.tensor(x)).numpy()
            np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
            np.testing.assert_array_equal(ours, theirs)
    finally:
        gk.set_num_threads(before)
