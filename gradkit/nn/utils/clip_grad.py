r"""Gradient clipping, in place on ``.grad``, with PyTorch's numbers.

``clip_grad_norm_`` rescales all gradients together when their global norm exceeds ``max_norm``:

.. math::
    \|g\| = \Big\| \big(\|g_1\|_p, \dots, \|g_n\|_p\big) \Big\|_p, \qquad
    g_i \leftarrow g_i \cdot \min\Big(1, \frac{\text{max\_norm}}{\|g\| + 10^{-6}}\Big)

so the direction of the update is kept and only its length is capped (Pascanu et al., 2013).
"""
import math

import numpy as np

from gradkit import backend
from gradkit.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(array, norm_type):
    """The p-norm of all elements of ``array``, in its own dtype (as PyTorch computes it)."""
    xp = backend.array_module(array)
    flat = array.reshape(-1)
    if flat.size == 0:
        return array.dtype.type(0)
    if norm_type == math.inf:
        return xp.abs(flat).max()
    if norm_type == -math.inf:
        return xp.abs(flat).min()
    if norm_type == 0:
        return array.dtype.type(xp.count_nonzero(flat))
    if norm_type == 1:
        return xp.abs(flat).sum()
    if norm_type == 2:
        return xp.sqrt(xp.dot(flat, flat))
    p = array.dtype.type(norm_type)
    return (xp.abs(flat) ** p).sum() ** (array.dtype.type(1) / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The p-norm of the per-tensor p-norms of ``tensors`` (gradients): a 0-d tensor."""
    tensors = [t for t in _as_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return Tensor(np.array(0.0, dtype=backend.get_default_dtype()))
    norms = [_vector_norm(t.data, norm_type) for t in tensors]
    xp = backend.array_module(tensors[0].data)
    stacked = xp.stack([xp.asarray(n, dtype=np.result_type(*[t.dtype for t in tensors])) for n in norms])
    total = _vector_norm(stacked, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is non-finite, so it cannot be "
                           "clipped; pass error_if_nonfinite=False to clip anyway (the gradients then become NaN)")
    return Tensor._make(xp.asarray(total))


def clip_grads_with_norm_(parameters, max_norm, total_norm):
    """Scale the gradients of ``parameters`` by ``min(1, max_norm / (total_norm + 1e-6))``, in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm.data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    # The coefficient is computed in the norm's dtype, as PyTorch does, so the clipped values match.
    coefficient = total.dtype.type(max_norm) / (total + total.dtype.type(1e-6))
    coefficient = min(coefficient, total.dtype.type(1.0))
    for grad in grads:
        grad.data[...] = grad.data * grad.dtype.type(coefficient)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of ``parameters`` so that their global ``norm_type``-norm is at most
    ``max_norm`` (see the module docstring), in place. Returns the norm before clipping, a 0-d tensor.

    ``foreach`` is accepted for compatibility and ignored.
    """
    parameters = _as_list(parameters)
    if max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be non-negative, got {max_norm}")
    total = get_total_norm([p.grad for p in parameters], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element of ``parameters`` into ``[-clip_value, clip_value]``, in place."""
    clip_value = float(clip_value)
    for param in _as_list(parameters):
        if param.grad is not None:
            xp = backend.array_module(param.grad.data)
            xp.clip(param.grad.data, -clip_value, clip_value, out=param.grad.data)
