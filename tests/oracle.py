"""Comparison with PyTorch, the oracle of every numerical test.

``compare(gk_fn, torch_fn, inputs)`` runs both frameworks on the same NumPy inputs, then backpropagates
the same random upstream gradient through both and compares every output and every input gradient.
"""
import numpy as np
import torch

import gradkit as gk


def to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    if isinstance(x, gk.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def _tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def compare(gk_fn, torch_fn, inputs, grad=None, atol=1e-5, rtol=1e-4, seed=0):
    """Check ``gk_fn(*inputs)`` against ``torch_fn(*inputs)``, forward and backward.

    ``inputs`` are NumPy arrays (or Python scalars, passed as they are). ``grad`` lists the indices of
    the inputs that require grad; by default every floating array does.
    """
    if grad is None:
        grad = [i for i, a in enumerate(inputs) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    gk_inputs, torch_inputs = [], []
    for i, a in enumerate(inputs):
        if isinstance(a, np.ndarray):
            gk_inputs.append(gk.tensor(a, requires_grad=i in grad))
            torch_inputs.append(torch.tensor(a, requires_grad=i in grad))
        else:
            gk_inputs.append(a)
            torch_inputs.append(a)
    gk_out, torch_out = _tuple(gk_fn(*gk_inputs)), _tuple(torch_fn(*torch_inputs))
    assert len(gk_out) == len(torch_out), f"{len(gk_out)} outputs vs PyTorch's {len(torch_out)}"
    for k, (g, t) in enumerate(zip(gk_out, torch_out)):
        assert tuple(g.shape) == tuple(t.shape), f"output {k}: shape {tuple(g.shape)} vs PyTorch's {tuple(t.shape)}"
        assert to_numpy(g).dtype == to_numpy(t).dtype, f"output {k}: dtype {g.dtype} vs PyTorch's {t.dtype}"
        np.testing.assert_allclose(to_numpy(g), to_numpy(t), atol=atol, rtol=rtol, err_msg=f"output {k}")
    if not grad:
        return gk_out
    rng = np.random.default_rng(seed)
    differentiable = [(g, t) for g, t in zip(gk_out, torch_out) if t.requires_grad]
    if not differentiable:
        return gk_out
    upstream = [rng.standard_normal(t.shape).astype(to_numpy(t).dtype) for _, t in differentiable]
    gk.autograd.backward([g for g, _ in differentiable], [gk.tensor(u) for u in upstream])
    torch.autograd.backward([t for _, t in differentiable], [torch.tensor(u) for u in upstream])
    for i in grad:
        expected = torch_inputs[i].grad
        got = gk_inputs[i].grad
        if expected is None:
            assert got is None or np.allclose(to_numpy(got), 0), f"input {i}: gradient where PyTorch has none"
            continue
        assert got is not None, f"input {i}: no gradient, PyTorch has one"
        assert tuple(got.shape) == tuple(expected.shape), f"input {i}: grad shape {got.shape} vs {expected.shape}"
        np.testing.assert_allclose(to_numpy(got), to_numpy(expected), atol=atol, rtol=rtol,
                                   err_msg=f"gradient of input {i}")
    return gk_out


def gradcheck(fn, inputs, grad=None, eps=1e-6, atol=1e-5, rtol=1e-3, second_order=False):
    """float64 finite-difference check of ``fn`` at ``inputs`` (NumPy arrays), optionally second order."""
    if grad is None:
        grad = [i for i, a in enumerate(inputs) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    tensors = [gk.tensor(a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a,
                         requires_grad=i in grad) if isinstance(a, np.ndarray) else a for i, a in enumerate(inputs)]
    assert gk.autograd.gradcheck(fn, tensors, eps=eps, atol=atol, rtol=rtol)
    if second_order:
        assert gk.autograd.gradgradcheck(fn, tensors, eps=eps, atol=atol, rtol=rtol)


def randn(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)
