"""Behaviour of the autograd engine: order, release, accumulation, modes, hooks, custom Functions,
anomaly detection, the in-place guard and memory."""
import gc
import tracemalloc

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit.autograd import Function
from tests.oracle import randn


def leaf(array, dtype=None):
    return gk.tensor(np.asarray(array, dtype=dtype or np.float32), requires_grad=True)


def test_chain_100000_ops_deep_needs_no_recursion():
    x = leaf([1.0], np.float64)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward(gk.ones(1, dtype=gk.float64))
    np.testing.assert_allclose(x.grad.numpy(), [1.00001 ** 100_000], rtol=1e-9)


def test_diamond_graph_sums_both_paths():
    x = leaf([2.0, 3.0])
    a = x * x
    b = x.exp()
    y = a * b + a
    y.backward(gk.ones(2))
    xs = np.array([2.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * xs * np.exp(xs) + xs ** 2 * np.exp(xs) + 2 * xs, rtol=1e-5)


def test_second_backward_raises_and_explains_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).exp()
    y.backward(gk.ones(2))
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward(gk.ones(2))


def test_retain_graph_allows_second_backward_and_accumulates():
    x = leaf([1.0, 2.0])
    y = x * x
    y.backward(gk.ones(2), retain_graph=True)
    y.backward(gk.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_gradients_accumulate_across_backward_calls_and_zero_resets():
    x = leaf([1.0, -1.0])
    for _ in range(3):
        (x * 3.0).backward(gk.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), [9.0, 9.0])
    x.grad = None
    (x * 2.0).backward(gk.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_leaf_gradients_do_not_share_memory():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).backward(gk.ones(2))
    with gk.no_grad():
        a.grad.mul_(10)
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_user_gradient_is_not_aliased_into_grad():
    x = leaf([1.0, 2.0])
    g = gk.ones(2)
    x.backward(g)
    with gk.no_grad():
        x.grad.mul_(5)
    np.testing.assert_allclose(g.numpy(), [1.0, 1.0])


def test_non_scalar_backward_without_gradient_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()


def test_backward_on_tensor_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gk.ones(1).backward()


def test_no_grad_enable_grad_and_set_grad_enabled():
    x = leaf([1.0])
    with gk.no_grad():
        y = x * 2
        with gk.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @gk.no_grad()
    def inference(t):
        return t * 2

    assert not inference(x).requires_grad
    with gk.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    gk.set_grad_enabled(False)
    try:
        assert not gk.is_grad_enabled()
    finally:
        gk.set_grad_enabled(True)
    assert gk.is_grad_enabled()


def test_hooks_on_leaf_and_non_leaf_and_removal():
    x = leaf([1.0, 2.0])
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 3.0
    y.register_hook(lambda g: g * 2)  # doubles the gradient flowing into y's producer
    y.backward(gk.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
    np.testing.assert_allclose(seen[0], [6.0, 6.0])
    handle.remove()
    x.grad = None
    (x * 1.0).backward(gk.ones(2))
    assert len(seen) == 1


def test_retain_grad_keeps_non_leaf_gradient():
    x = leaf([1.0, 2.0])
    y = x * x
    y.retain_grad()
    (y * 3.0).backward(gk.ones(2))
    np.testing.assert_allclose(y.grad.numpy(), [3.0, 3.0])
    z = x * 2
    (z * 1.0).backward(gk.ones(2))
    assert z.grad is None


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 3 * x * x


def test_custom_function_forward_backward_and_second_order():
    x = leaf([1.0, -2.0, 0.5], np.float64)
    assert gk.autograd.gradcheck(Cube.apply, (x,))
    assert gk.autograd.gradgradcheck(Cube.apply, (x,))
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    assert y.grad_fn.needs_input_grad == (True,)


def test_autograd_grad_returns_without_touching_dot_grad():
    x = leaf([1.0, 2.0])
    y = x * x * x
    g, = gk.autograd.grad(y, x, gk.ones(2))
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])
    assert x.grad is None


def test_hessian_vector_product_matches_torch():
    a, v = randn(4, seed=1).astype(np.float64), randn(4, seed=2).astype(np.float64)
    x = gk.tensor(a, requires_grad=True)
    y = (x.exp() * x.sin() + x * x * x)
    g, = gk.autograd.grad(y, x, gk.ones(4, dtype=gk.float64), create_graph=True)
    hv, = gk.autograd.grad(g, x, gk.tensor(v))
    tx = torch.tensor(a, requires_grad=True)
    ty = tx.exp() * tx.sin() + tx ** 3
    tg, = torch.autograd.grad(ty, tx, torch.ones(4, dtype=torch.float64), create_graph=True)
    thv, = torch.autograd.grad(tg, tx, torch.tensor(v))
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-12)


def test_autograd_grad_unused_input():
    x, z = leaf([1.0]), leaf([2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="not used"):
        gk.autograd.grad(y, [x, z], gk.ones(1), retain_graph=True)
    gx, gz = gk.autograd.grad(y, [x, z], gk.ones(1), allow_unused=True)
    assert gz is None and gx.item() == 2.0


def test_detect_anomaly_names_the_op():
    x = leaf([0.0, 1.0])
    with gk.autograd.detect_anomaly():
        y = x.sqrt()
        with pytest.raises(RuntimeError, match="SqrtBackward.*inf"):
            y.backward(gk.ones(2))


def test_inplace_change_of_saved_tensor_is_detected():
    a = gk.tensor([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = a * w
    a.mul_(2)  # allowed: a does not require grad...
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward(gk.ones(2))  # ...but MulBackward needs its old value


def test_inplace_on_leaf_requiring_grad_is_refused_while_recording_but_fine_under_no_grad():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="in place"):
        w.add_(1.0)
    with gk.no_grad():
        w.add_(1.0)
        w[0] = 10.0
    np.testing.assert_allclose(w.detach().numpy(), [10.0, 3.0])


def test_training_loop_memory_stays_flat():
    w = leaf(randn(64, 64) * 0.1)
    x = gk.tensor(randn(32, 64, seed=3))
    losses = []

    def step():
        h = (x @ w).tanh()
        loss = (h * h).mean()
        loss.backward()
        with gk.no_grad():
            w.sub_(w.grad * 0.01)
        w.grad = None
        losses.append(loss.item())

    gc.collect()
    tracemalloc.start()
    for _ in range(300):  # warm up: Python's free lists and caches fill during the first steps
        step()
    start, _ = tracemalloc.get_traced_memory()
    for _ in range(300):
        step()
    end, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # 300 floats in a list cost ~10 KB; one leaked graph of this loop holds ~40 KB, so a leak is
    # ~12 MB over 300 steps.
    assert end - start < 100_000, f"memory grew by {end - start} bytes over 300 steps"


def test_dropped_graph_is_freed_without_garbage_collector():
    import weakref
    gc.disable()
    try:
        x = leaf(randn(100))
        y = (x * 2).exp()
        ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_detach_and_requires_grad_rules():
    x = leaf([1.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.data is y.data
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        gk.tensor([1, 2]).requires_grad_()
