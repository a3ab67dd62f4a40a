import importlib
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.ops.shape import sum_to
from tests.oracle import compare, gradcheck, randn


def shifted(*shape, seed=9):
    """Values with a mean far from zero against their spread: the case where a one-pass variance fails.
    (Not seed 0: the oracle's upstream gradient uses it, and a gradient along x itself is cancelled.)"""
    return randn(*shape, seed=seed) * 0.5 + 40.0


W, B = randn(5, seed=11) + 1.0, randn(5, seed=12)   # per-channel weight and bias for C = 5
W6, B6 = randn(6, seed=13) + 1.0, randn(6, seed=14)

# (name, gradkit fn, torch fn, inputs)
FUNCTIONAL = [
    ("batch_norm_2d_input", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), [randn(7, 5), W, B]),
    ("batch_norm_3d_input", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
     lambda x, w, b: TF.batch_norm(x, None, None, w, b, True), [randn(4, 5, 7), W, B]),
    ("batch_norm_4d_input", lambda x, w, b: F.batch_norm(x, None, None, w, b, True, eps=1e-3),
     lambda x, w, b: TF.batch_norm(x, None, None, w, b, True, eps=1e-3), [randn(3, 5, 4, 6), W, B]),
    ("batch_norm_5d_input", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
     lambda x, w, b: TF.batch_norm(x, None, None, w, b, True), [randn(2, 5, 3, 2, 3), W, B]),
    ("batch_norm_large_mean", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
     lambda x, w, b: TF.batch_norm(x, None, None, w, b, True), [shifted(6, 5, 9), W, B]),
    ("batch_norm_no_affine", lambda x: F.batch_norm(x, None, None, training=True),
     lambda x: TF.batch_norm(x, None, None, training=True), [randn(3, 5, 4, 3)]),
    ("batch_norm_weight_only", lambda x, w: F.batch_norm(x, None, None, w, training=True),
     lambda x, w: TF.batch_norm(x, None, None, w, training=True), [randn(3, 5, 7), W]),
    ("batch_norm_bias_only", lambda x, b: F.batch_norm(x, None, None, None, b, training=True),
     lambda x, b: TF.batch_norm(x, None, None, None, b, training=True), [randn(3, 5, 7), B]),
    ("batch_norm_eval", lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b),
     lambda x, m, v, w, b: TF.batch_norm(x, m, v, w, b), [randn(3, 5, 4, 2), randn(5, seed=3),
                                                          np.abs(randn(5, seed=4)) + 0.5, W, B], [0, 3, 4]),
    ("batch_norm_eval_no_affine", lambda x, m, v: F.batch_norm(x, m, v),
     lambda x, m, v: TF.batch_norm(x, m, v), [randn(6, 5), randn(5, seed=3), np.abs(randn(5, seed=4)) + 0.5], [0]),
    ("instance_norm_3d_input", lambda x: F.instance_norm(x), lambda x: TF.instance_norm(x), [randn(3, 5, 7)]),
    ("instance_norm_4d_affine", lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-3),
     lambda x, w, b: TF.instance_norm(x, weight=w, bias=b, eps=1e-3), [randn(2, 5, 4, 3), W, B]),
    ("instance_norm_running_stats_used", lambda x, m, v, w: F.instance_norm(x, m, v, w, use_input_stats=False),
     lambda x, m, v, w: TF.instance_norm(x, m, v, w, use_input_stats=False),
     [randn(2, 5, 4), randn(5, seed=3), np.abs(randn(5, seed=4)) + 0.5, W], [0, 3]),
    ("group_norm_groups_2", lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: TF.group_norm(x, 2, w, b),
     [randn(3, 6, 5), W6, B6]),
    ("group_norm_4d_one_group", lambda x, w, b: F.group_norm(x, 1, w, b, eps=1e-3),
     lambda x, w, b: TF.group_norm(x, 1, w, b, eps=1e-3), [randn(2, 6, 3, 4), W6, B6]),
    ("group_norm_group_per_channel", lambda x, w, b: F.group_norm(x, 6, w, b),
     lambda x, w, b: TF.group_norm(x, 6, w, b), [randn(2, 6, 3, 2), W6, B6]),
    ("group_norm_2d_input", lambda x, w, b: F.group_norm(x, 3, w, b), lambda x, w, b: TF.group_norm(x, 3, w, b),
     [randn(4, 6), W6, B6]),
    ("group_norm_no_affine", lambda x: F.group_norm(x, 3), lambda x: TF.group_norm(x, 3), [shifted(2, 6, 5)]),
    ("group_norm_weight_only", lambda x, w: F.group_norm(x, 2, w), lambda x, w: TF.group_norm(x, 2, w),
     [randn(3, 6, 5), W6]),
    # PyTorch's own backward fails without a weight here, so its oracle gets a weight of ones.
    ("group_norm_bias_only", lambda x, b: F.group_norm(x, 2, None, b),
     lambda x, b: TF.group_norm(x, 2, torch.ones(6), b), [randn(3, 6, 5), B6]),
    ("layer_norm_last_dim", lambda x, w, b: F.layer_norm(x, 5, w, b), lambda x, w, b: TF.layer_norm(x, (5,), w, b),
     [randn(3, 4, 5), W, B]),
    ("layer_norm_two_dims", lambda x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3),
     lambda x, w, b: TF.layer_norm(x, (3, 4), w, b, eps=1e-3),
     [randn(2, 3, 4), randn(3, 4, seed=5), randn(3, 4, seed=6)]),
    ("layer_norm_whole_input", lambda x, w, b: F.layer_norm(x, (2, 7), w, b),
     lambda x, w, b: TF.layer_norm(x, (2, 7), w, b), [randn(2, 7), randn(2, 7, seed=5), randn(2, 7, seed=6)]),
    ("layer_norm_no_affine", lambda x: F.layer_norm(x, (6,)), lambda x: TF.layer_norm(x, (6,)), [shifted(4, 6)]),
    ("layer_norm_weight_only", lambda x, w: F.layer_norm(x, (5,), w), lambda x, w: TF.layer_norm(x, (5,), w),
     [randn(3, 5), W]),
    ("layer_norm_bias_only", lambda x, b: F.layer_norm(x, (5,), None, b),
     lambda x, b: TF.layer_norm(x, (5,), None, b), [randn(3, 5), B]),
    ("lrn_3d", lambda x: F.local_response_norm(x, 3, alpha=0.1), lambda x: TF.local_response_norm(x, 3, alpha=0.1),
     [randn(2, 6, 5)]),
    ("lrn_4d_even_size", lambda x: F.local_response_norm(x, 4, alpha=0.2, beta=0.5, k=2.0),
     lambda x: TF.local_response_norm(x, 4, alpha=0.2, beta=0.5, k=2.0), [randn(2, 7, 3, 4)]),
    ("lrn_5d", lambda x: F.local_response_norm(x, 2, alpha=0.3), lambda x: TF.local_response_norm(x, 2, alpha=0.3),
     [randn(2, 5, 2, 3, 2)]),
    ("lrn_size_beyond_channels", lambda x: F.local_response_norm(x, 9, alpha=0.5),
     lambda x: TF.local_response_norm(x, 9, alpha=0.5), [randn(2, 3, 4)]),
    ("lrn_defaults", lambda x: F.local_response_norm(x, 5), lambda x: TF.local_response_norm(x, 5),
     [randn(2, 8, 3, 3) * 10]),
    ("normalize_default", F.normalize, TF.normalize, [randn(4, 5)]),
    ("normalize_p1_dim0", lambda x: F.normalize(x, 1, 0), lambda x: TF.normalize(x, 1, 0), [randn(4, 5)]),
    ("normalize_p3_last", lambda x: F.normalize(x, 3.0, -1), lambda x: TF.normalize(x, 3.0, -1), [randn(2, 3, 4)]),
    ("normalize_inf", lambda x: F.normalize(x, math.inf), lambda x: TF.normalize(x, math.inf), [randn(3, 4, 2)]),
    ("normalize_dims_tuple", lambda x: F.normalize(x, dim=(1, 2)), lambda x: TF.normalize(x, dim=(1, 2)),
     [randn(2, 3, 4)]),
    ("normalize_zero_rows", lambda x: F.normalize(x, eps=1e-3), lambda x: TF.normalize(x, eps=1e-3),
     [np.array([[0, 0, 0], [3, 4, 0], [1e-5, 0, 0]], np.float32)]),
]
# A fifth entry lists the inputs that require grad (running statistics do not); by default all of them.
FUNCTIONAL = [case if len(case) == 5 else case + (None,) for case in FUNCTIONAL]


@pytest.mark.parametrize("name, gk_fn, torch_fn, inputs, grad", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional_against_torch(name, gk_fn, torch_fn, inputs, grad):
    compare(gk_fn, torch_fn, inputs, grad=grad, atol=2e-5, rtol=2e-4)


# Second order: the backward of a backward goes through the differentiable (composite) formula, except
# for the non-smooth norms normalize(p=1) and normalize(p=inf), whose first derivative is piecewise constant.
FIRST_ORDER_ONLY = ("normalize_p1_dim0", "normalize_inf", "normalize_zero_rows")


@pytest.mark.parametrize("name, gk_fn, torch_fn, inputs, grad", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional_gradcheck(name, gk_fn, torch_fn, inputs, grad):
    inputs = [a.astype(np.float64) for a in inputs]
    gradcheck(gk_fn, inputs, grad=grad, second_order=name not in FIRST_ORDER_ONLY)


def _double_backward(framework, fn, arrays):
    """d/d(inputs) of sum((dL/dx)^2) for L = sum(u * fn(inputs)): a second-order quantity to compare."""
    grad = framework.autograd.grad
    tensors = [framework.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    u = framework.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
    first = grad([out], tensors, [u], create_graph=True)
    total = sum(((g * g).reshape(-1) @ framework.ones(g.numel(), dtype=g.dtype)) for g in first)
    second = grad([total], tensors, allow_unused=True)   # the bias does not enter the first derivatives
    return [np.zeros(a.shape) if g is None else g.detach().numpy() for g, a in zip(second, arrays)]


SECOND_ORDER = [
    ("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
     lambda x, w, b: TF.batch_norm(x, None, None, w, b, True), [randn(4, 3, 5), randn(3, seed=1), randn(3, seed=2)]),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: TF.group_norm(x, 2, w, b),
     [randn(2, 4, 5), randn(4, seed=1), randn(4, seed=2)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (5,), w, b), lambda x, w, b: TF.layer_norm(x, (5,), w, b),
     [randn(3, 5), randn(5, seed=1), randn(5, seed=2)]),
    ("lrn", lambda x: F.local_response_norm(x, 3, alpha=0.5), lambda x: TF.local_response_norm(x, 3, alpha=0.5),
     [randn(2, 5, 3)]),
    ("normalize", lambda x: F.normalize(x, 3.0), lambda x: TF.normalize(x, 3.0), [randn(3, 4)]),
]


@pytest.mark.parametrize("name, gk_fn, torch_fn, arrays", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_derivatives_match_torch(name, gk_fn, torch_fn, arrays):
    arrays = [a.astype(np.float64) for a in arrays]
    for got, expected in zip(_double_backward(gk, gk_fn, arrays), _double_backward(torch, torch_fn, arrays)):
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


# ----- the fused primitive against the same normalisation built from primitives ----------------------------
def composite_normalize(x, weight, bias, view, axes, affine, eps):
    """Reference: mean, biased variance and affine map from sum_to and element-wise ops only."""
    stats = tuple(1 if i in axes else s for i, s in enumerate(view))
    count = math.prod(view[a] for a in axes)
    xv = x.reshape(view)
    centred = xv - sum_to(xv, stats) / count
    out = centred / gk.sqrt(sum_to(centred * centred, stats) / count + eps)
    if weight is not None:
        out = out * weight.reshape(affine)
    if bias is not None:
        out = out + bias.reshape(affine)
    return out.reshape(x.shape)


# (name, gradkit fn, the same through the composite, inputs)
FUSED_CASES = [
    ("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
     lambda x, w, b: composite_normalize(x, w, b, (4, 3, 10), (0, 2), (1, 3, 1), 1e-5),
     [randn(4, 3, 2, 5), randn(3, seed=1), randn(3, seed=2)]),
    ("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
     lambda x, w, b: composite_normalize(x, w, b, (4, 3, 6), (2,), (1, 3, 1), 1e-5),
     [randn(4, 3, 6), randn(3, seed=1), randn(3, seed=2)]),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b),
     lambda x, w, b: composite_normalize(x, w, b, (3, 2, 3, 4), (2, 3), (1, 2, 3, 1), 1e-5),
     [randn(3, 6, 2, 2), randn(6, seed=1), randn(6, seed=2)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (2, 3), w, b),
     lambda x, w, b: composite_normalize(x, w, b, (4, 6), (1,), (1, 6), 1e-5),
     [randn(4, 2, 3), randn(2, 3, seed=1), randn(2, 3, seed=2)]),
]


def _gradients(fn, arrays, create_graph=False):
    tensors = [gk.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    u = gk.tensor(np.random.default_rng(2).standard_normal(tuple(out.shape)))
    grads = gk.autograd.grad([out], tensors, [u], create_graph=create_graph)
    return out.detach().numpy(), [g.detach().numpy() for g in grads]


@pytest.mark.parametrize("name, fused, composite, arrays", FUSED_CASES, ids=[c[0] for c in FUSED_CASES])
def test_fused_primitive_matches_composite(name, fused, composite, arrays):
    arrays = [a.astype(np.float64) for a in arrays]
    out, grads = _gradients(fused, arrays)
    out_ref, grads_ref = _gradients(composite, arrays)
    np.testing.assert_allclose(out, out_ref, rtol=1e-10, atol=1e-12)
    for g, r in zip(grads, grads_ref):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-11)
    # The graph-building backward (used under create_graph=True) computes the same numbers.
    _, grads_graph = _gradients(fused, arrays, create_graph=True)
    for g, r in zip(grads_graph, grads_ref):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-11)


def test_fused_backward_is_stable_for_large_means():
    # The backward reuses x - mean from the forward instead of expanding sum((x - mean) g).
    x = shifted(8, 3, 50).astype(np.float32)
    compare(lambda x: F.batch_norm(x, None, None, training=True), lambda x: TF.batch_norm(x, None, None, training=True),
            [x], atol=1e-4, rtol=1e-3)


# Batch norm runs row-wise passes split over the threads or, for short rows, passes over its input as
# a matrix (N, C x row) (gradkit.ops.norm._Columns). Each layout is checked on every shape here,
# whichever one the size rule would pick for it.
_norm_module = importlib.import_module("gradkit.ops.norm")
LAYOUTS = {"rows": {"_SHORT_ROW": 0, "_SHORTISH_ROW": 0}, "matrix": {"_SHORT_ROW": 1 << 30}}
BATCH_NORM_CASES = [
    ("features", lambda x, w, b: (x, w, b), [randn(7, 5), W, B]),
    ("sequence", lambda x, w, b: (x, w, b), [randn(4, 5, 7), W, B]),
    ("long_rows", lambda x, w, b: (x, w, b), [randn(2, 5, 16, 17), W, B]),
    ("large_mean", lambda x, w, b: (x, w, b), [shifted(6, 5, 9), W, B]),
    ("no_affine", lambda x: (x, None, None), [randn(3, 5, 4, 3)]),
    ("weight_only", lambda x, w: (x, w, None), [randn(3, 5, 7), W]),
    ("bias_only", lambda x, b: (x, None, b), [randn(6, 5), B]),
]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name, arguments, inputs", BATCH_NORM_CASES, ids=[c[0] for c in BATCH_NORM_CASES])
def test_batch_norm_layouts_match_torch(monkeypatch, layout, name, arguments, inputs):
    for constant, value in LAYOUTS[layout].items():
        monkeypatch.setattr(_norm_module, constant, value)
    def training_batch_norm(functional):
        def fn(*tensors):
            x, weight, bias = arguments(*tensors)
            return functional.batch_norm(x, None, None, weight, bias, training=True)
        return fn
    compare(training_batch_norm(F), training_batch_norm(TF), inputs, atol=2e-5, rtol=2e-4)
    gradcheck(training_batch_norm(F), [a.astype(np.float64) for a in inputs])


@pytest.mark.parametrize("shape, nbytes, matrix", [
    ((128, 512, 1), 128 * 512 * 4, True),               # BatchNorm1d: rows of one value
    ((64, 64, 16), 64 * 64 * 16 * 4, True),             # 4x4 images
    ((1024, 64, 4), 1024 * 64 * 4 * 4, True),           # rows of 4 values, however large the input
    ((32, 64, 196), 32 * 64 * 196 * 4, True),           # 14x14 images, 1.6 MB
    ((256, 64, 64), 256 * 64 * 64 * 4, False),          # 8x8 images, 4 MB: the threads' row-wise passes
    ((32, 32, 1024), 32 * 32 * 1024 * 4, False),        # 32x32 images: long rows
])
def test_batch_norm_works_on_a_matrix_for_short_rows(shape, nbytes, matrix):
    assert _norm_module._by_columns(shape, (0,), (1, shape[1], 1), nbytes) is matrix
    # Only batch norm: group and instance norm take their statistics along rows alone.
    assert not _norm_module._by_columns(shape, (), (1, shape[1], 1), nbytes)
    assert not _norm_module._by_columns(shape + (2,), (2,), (1, shape[1], 1, 1), nbytes)


# ----- running statistics -----------------------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0, 0.0])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 3, 3)])
def test_batch_norm_updates_running_stats_like_torch(momentum, shape):
    mean0, var0 = randn(4, seed=7), np.abs(randn(4, seed=8)) + 0.5
    gm, gv, tm, tv = gk.tensor(mean0), gk.tensor(var0), torch.tensor(mean0), torch.tensor(var0)
    for step in range(3):
        x = randn(*shape, seed=step) * 2 + 1
        F.batch_norm(gk.tensor(x), gm, gv, training=True, momentum=momentum)
        TF.batch_norm(torch.tensor(x), tm, tv, training=True, momentum=momentum)
        np.testing.assert_allclose(gm.numpy(), tm.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(gv.numpy(), tv.numpy(), rtol=1e-5, atol=1e-6)
    assert gm.dtype == gk.float32 and gv.dtype == gk.float32


def test_instance_norm_updates_running_stats_like_torch():
    mean0, var0 = randn(3, seed=7), np.abs(randn(3, seed=8)) + 0.5
    gm, gv, tm, tv = gk.tensor(mean0), gk.tensor(var0), torch.tensor(mean0), torch.tensor(var0)
    x = randn(4, 3, 5, 2) * 3 - 1
    compare(lambda x: F.instance_norm(x, gm, gv, momentum=0.3), lambda x: TF.instance_norm(x, tm, tv, momentum=0.3),
            [x])
    np.testing.assert_allclose(gm.numpy(), tm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gv.numpy(), tv.numpy(), rtol=1e-5, atol=1e-6)


def test_eval_mode_leaves_running_stats_alone():
    m, v = gk.tensor(randn(3)), gk.tensor(np.abs(randn(3, seed=1)) + 1)
    before = (m.numpy().copy(), v.numpy().copy())
    F.batch_norm(gk.tensor(randn(4, 3)), m, v, training=False)
    np.testing.assert_array_equal(m.numpy(), before[0])
    np.testing.assert_array_equal(v.numpy(), before[1])


def test_constant_upstream_gradient_gives_zero_input_gradient():
    x = gk.tensor(randn(4, 3), requires_grad=True)
    y = F.batch_norm(x, None, None, training=True)
    z = y * 2
    z.backward(gk.ones(4, 3))
    assert np.allclose(x.grad.numpy(), 0, atol=1e-5)   # a constant upstream gradient has no effect


# ----- errors -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda: F.batch_norm(gk.zeros(1, 3), None, None, training=True), "more than 1 value per channel"),
    (lambda: F.batch_norm(gk.zeros(4, 3, 2), gk.zeros(4), gk.ones(4)), r"running_mean of shape \(3,\)"),
    (lambda: F.batch_norm(gk.zeros(4, 3), None, None, gk.ones(2), training=True), r"weight of shape \(3,\)"),
    (lambda: F.batch_norm(gk.zeros(4, 3), None, None, training=False), "required when training=False"),
    (lambda: F.batch_norm(gk.zeros(4), None, None, training=True), "at least 2 dimensions"),
    (lambda: F.batch_norm(gk.zeros(4, 3), None, None, training=True, eps=-1e-5), "eps must be a non-negative"),
    (lambda: F.batch_norm(gk.zeros(4, 3), gk.zeros(3), gk.ones(3), training=True, momentum=None), "momentum must be"),
    (lambda: F.instance_norm(gk.zeros(2, 3, 1)), "more than 1 spatial element"),
    (lambda: F.group_norm(gk.zeros(2, 6, 4), 4), "num_groups=4 must be a positive divisor"),
    (lambda: F.layer_norm(gk.zeros(2, 3), (4,)), r"normalized_shape=\(4,\) must match"),
    (lambda: F.layer_norm(gk.zeros(2, 3), (3,), gk.ones(4)), r"expected weight of shape \(3,\)"),
    (lambda: F.local_response_norm(gk.zeros(2, 3), 2), "at least 3 dimensions"),
    (lambda: F.normalize(gk.zeros(2, 3), dim=2), "out of range"),
])
def test_errors_name_the_op_and_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_lrn_of_empty_input_returns_it():
    x = gk.zeros(0, 3, 4)
    assert F.local_response_norm(x, 2) is x


@pytest.mark.parametrize("stats_dtype", [np.float32, np.float64])
def test_batch_norm_evaluation_without_a_graph_equals_the_recorded_ops(stats_dtype):
    # Inference runs the affine map on the arrays; with a gradient wanted it is built from ops. Same bits.
    x = randn(2, 3, 4, 5)
    mean, var = randn(3, seed=1).astype(stats_dtype), (np.abs(randn(3, seed=2)) + 0.5).astype(stats_dtype)
    w, b = randn(3, seed=3), randn(3, seed=4)
    args = [gk.tensor(mean), gk.tensor(var), gk.tensor(w), gk.tensor(b)]
    with gk.no_grad():
        plain = F.batch_norm(gk.tensor(x, requires_grad=True), *args, training=False, eps=1e-3)
    recorded = F.batch_norm(gk.tensor(x, requires_grad=True), *args, training=False, eps=1e-3)
    assert plain.grad_fn is None and recorded.grad_fn is not None
    assert plain.dtype == recorded.dtype
    np.testing.assert_array_equal(plain.numpy(), recorded.detach().numpy())
    if stats_dtype is np.float64:   # PyTorch refuses mixed dtypes; the two paths above still agree
        return
    expected = TF.batch_norm(torch.tensor(x), *(torch.tensor(a) for a in (mean, var, w, b)), training=False, eps=1e-3)
    np.testing.assert_allclose(plain.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    no_affine = F.batch_norm(gk.tensor(x), args[0], args[1], training=False)
    np.testing.assert_allclose(no_affine.numpy(), TF.batch_norm(torch.tensor(x), torch.tensor(mean), torch.tensor(var),
                                                                training=False).numpy(), rtol=1e-6, atol=1e-6)
