"""Tensor factories: from data, filled, ranges and random (from the framework's generator)."""
import numpy as np

from gradkit import backend
from gradkit.tensor import Tensor, _array_from_python

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "rand",
           "randn", "randint", "randperm", "normal", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like",
           "randn_like", "randint_like"]
TENSOR_METHODS = ("new_zeros", "new_ones", "new_full", "new_empty", "new_tensor")


def _dtype(dtype, default=None):
    if dtype is None:
        return backend.get_default_dtype() if default is None else default
    return np.dtype(dtype)


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _finish(array, requires_grad, device=None):
    if device is not None and str(device) != "cpu":
        array = backend.to_device(array, device)
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays or a tensor).

    Python floats become float32 (the default dtype), Python ints int64, and a NumPy array keeps its
    dtype: ``gk.tensor(np.zeros(3))`` is float64, as in PyTorch.
    """
    if isinstance(data, Tensor):
        array = data.data.copy()
    elif backend.is_array(data):
        array = data.copy()
    else:
        array = _array_from_python(data)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return _finish(array, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """Like :func:`tensor` but shares memory with ``data`` when no conversion is needed."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if backend.is_array(data):
        return _finish(data if dtype is None else data.astype(dtype, copy=False), False, device)
    return tensor(data, dtype, device)


def from_numpy(array):
    """A tensor sharing memory with the NumPy array ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.zeros(_shape(size), _dtype(dtype)), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.ones(_shape(size), _dtype(dtype)), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.empty(_shape(size), _dtype(dtype)), requires_grad, device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = np.int64 if isinstance(fill_value, (int, np.integer)) and not isinstance(fill_value, bool) else \
            np.bool_ if isinstance(fill_value, bool) else None
    return _finish(np.full(_shape((size,)), fill_value, _dtype(dtype)), requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (excluded) by ``step``; int64 unless any argument is a float."""
    if end is None:
        start, end = 0, start
    is_float = any(isinstance(v, float) for v in (start, end, step))
    default = backend.get_default_dtype() if is_float else backend.int64
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    return _finish(np.arange(start, end, step).astype(_dtype(dtype, default)), requires_grad, device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end``, computed in the target dtype the way
    PyTorch does (the first half counted up from ``start``, the second down from ``end``), so the
    values match to the bit."""
    dtype, steps = _dtype(dtype), int(steps)
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    if steps == 1:
        return _finish(np.full(1, start, dtype), requires_grad, device)
    start_, end_ = dtype.type(start), dtype.type(end)
    step = np.float64((end_ - start_) / dtype.type(steps - 1))
    index = np.arange(steps, dtype=np.float64)
    # PyTorch's vectorised kernel uses fused multiply-adds: one rounding, emulated here in float64.
    values = np.where(index < steps // 2, np.float64(start_) + step * index,
                      np.float64(end_) - step * (steps - 1 - index))
    return _finish(values.astype(dtype), requires_grad, device)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=_dtype(dtype)), requires_grad, device)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1) from the framework generator (or ``generator``)."""
    array = backend.generator_of(generator).random(_shape(size), dtype=np.float64).astype(_dtype(dtype))
    return _finish(array, requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples from the framework generator (or ``generator``)."""
    array = backend.generator_of(generator).standard_normal(_shape(size)).astype(_dtype(dtype))
    return _finish(array, requires_grad, device)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform on [low, high); ``randint(high, size)`` starts at 0, like PyTorch."""
    if isinstance(high, (tuple, list)) and size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    size = () if size is None else size
    array = backend.generator_of(generator).integers(low, high, _shape((size,)))
    return _finish(array.astype(_dtype(dtype, backend.int64)), requires_grad, device)


def randperm(n, generator=None, dtype=None, device=None):
    return _finish(backend.generator_of(generator).permutation(n).astype(_dtype(dtype, backend.int64)), False, device)


def normal(mean, std, size, generator=None, dtype=None, device=None, requires_grad=False):
    array = backend.generator_of(generator).normal(mean, std, _shape((size,))).astype(_dtype(dtype))
    return _finish(array, requires_grad, device)


def _like(factory):
    def like(input, dtype=None, device=None, requires_grad=False, **kwargs):
        dtype = input.dtype if dtype is None else dtype
        device = input.device if device is None else device
        return factory(*input.shape, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)
    like.__name__ = factory.__name__ + "_like"
    like.__doc__ = f"``{factory.__name__}`` with the shape (and by default dtype and device) of ``input``."
    return like


zeros_like, ones_like, empty_like, rand_like, randn_like = (_like(f) for f in (zeros, ones, empty, rand, randn))


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=input.dtype if dtype is None else dtype,
                device=input.device if device is None else device, requires_grad=requires_grad)


def randint_like(input, low, high=None, dtype=None, device=None, generator=None):
    return randint(low, high, input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype,
                   device=input.device if device is None else device)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    return zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    return ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return empty(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
