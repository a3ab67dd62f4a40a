"""The Tensor: an array, its gradient, and its place in the autograd graph.

A Tensor holds a NumPy (or CuPy) array in ``data``. When it is the result of an op that recorded a
graph, ``grad_fn`` is that op's node and ``output_nr`` says which of the node's outputs it is;
leaves (``grad_fn is None``) that ``requires_grad`` collect gradients in ``grad``.

Arithmetic and methods delegate to :mod:`gradkit.ops`, which is imported at the bottom of this file:
ops build on Tensor, and Tensor's operators call ops, so the binding is made once both exist.
"""
import numpy as np

from gradkit import backend


class RemovableHandle:
    """Returned by ``register_hook`` and the module hooks; ``remove()`` unregisters the hook."""

    def __init__(self, hooks, key):
        self._hooks, self._key = hooks, key

    def remove(self):
        self._hooks.pop(self._key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_next_hook_id = [0]


def _hook_id():
    _next_hook_id[0] += 1
    return _next_hook_id[0]


class Tensor:
    """A multi-dimensional array with reverse-mode automatic differentiation."""

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "output_nr", "_version", "_hooks",
                 "_retains_grad", "__weakref__")
    # NumPy must defer to our reflected operators (ndarray + Tensor -> Tensor.__radd__).
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.data
        elif not backend.is_array(data):
            data = _array_from_python(data)
        self.data = data
        self.grad = None
        self.grad_fn = None
        self.output_nr = 0
        self._version = 0
        self._hooks = None
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, output_nr=0):
        """Fast constructor for op results: no conversion, no checks."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = requires_grad
        t.grad_fn = grad_fn
        t.output_nr = output_nr
        t._version = 0
        t._hooks = None
        t._retains_grad = False
        return t

    # ----- attributes -------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def device(self):
        return backend.device_of(self.data)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def is_cuda(self):
        return self.device != "cpu"

    @property
    def T(self):
        return _ops.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        return _ops.transpose(self, -2, -1)

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return int(self.data.size)

    def dim(self):
        return self.data.ndim

    def element_size(self):
        return self.data.itemsize

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    __hash__ = object.__hash__

    # ----- conversion -------------------------------------------------------------------------
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return backend.to_device(self.data, "cpu")

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): a Tensor with {self.data.size} elements cannot be converted to a Python scalar")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of a Tensor with {self.data.size} elements is ambiguous; use .any() or .all()")
        return bool(self.data.item())

    def to(self, *args, dtype=None, device=None, copy=False):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype, device = arg.dtype, arg.device
            elif isinstance(arg, str) and (arg == "cpu" or arg.startswith("cuda")):
                device = arg
            else:
                dtype = arg
        out = self
        if device is not None and str(device) != self.device:
            out = _ops.to_device(out, str(device))
        if dtype is not None and np.dtype(dtype) != out.dtype:
            out = _ops.cast(out, np.dtype(dtype))
        if copy and out is self:
            out = _ops.clone(self)
        return out

    def astype(self, dtype):
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

    def long(self):
        return self.to(backend.int64)

    def int(self):
        return self.to(backend.int32)

    def bool(self):
        return self.to(backend.bool_)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=0):
        return self.to(f"cuda:{device}")

    def contiguous(self):
        return self

    # ----- autograd -----------------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False): only leaf tensors can stop requiring grad; use detach()")
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, got {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor._make(self.data)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self._retains_grad = True
            self.grad_fn.retain_output(self)

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn.register_output_hook(self.output_nr, hook)
        if self._hooks is None:
            self._hooks = {}
        key = _hook_id()
        self._hooks[key] = hook
        return RemovableHandle(self._hooks, key)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor with respect to the graph's leaves into their ``.grad``."""
        _engine.backward([self], None if gradient is None else [gradient], retain_graph, create_graph, inputs)

    # ----- in-place updates (outside the graph) --------------------------------------------------
    def _check_inplace(self, op):
        if self.requires_grad and _grad_state.grad_enabled:
            kind = "a leaf tensor that requires grad" if self.grad_fn is None else "a tensor that is part of a graph"
            raise RuntimeError(f"{op}: {kind} cannot be modified in place while gradients are recorded; "
                               "use the out-of-place op, or wrap the update in gk.no_grad()")
        self._version += 1

    def _assign(self, op, array):
        self._check_inplace(op)
        self.data[...] = array
        return self

    def _update(self, op, ufunc, other):
        # One pass writing straight into ``data``: an optimizer step runs this on every parameter, and
        # ``data[...] = data - other`` would allocate a temporary and copy it back (two extra passes).
        # The result is computed in the promoted dtype and cast back, exactly as that assignment did.
        self._check_inplace(op)
        ufunc(self.data, other, out=self.data, casting="unsafe")
        return self

    def add_(self, other, alpha=1):
        other = _raw(other)
        return self._update("add_", np.add, other if alpha == 1 else alpha * other)

    def sub_(self, other, alpha=1):
        other = _raw(other)
        return self._update("sub_", np.subtract, other if alpha == 1 else alpha * other)

    def mul_(self, other):
        return self._update("mul_", np.multiply, _raw(other))

    def div_(self, other):
        return self._update("div_", np.true_divide, _raw(other))

    def pow_(self, exponent):
        return self._assign("pow_", self.data ** _raw(exponent))

    def clamp_(self, min=None, max=None):
        xp = backend.array_module(self.data)
        return self._assign("clamp_", xp.clip(self.data, _raw(min), _raw(max)))

    def zero_(self):
        return self._assign("zero_", 0)

    def fill_(self, value):
        return self._assign("fill_", _raw(value))

    def copy_(self, src):
        src = _raw(src)
        if tuple(np.shape(src)) != self.shape and np.broadcast_shapes(np.shape(src), self.shape) != self.shape:
            raise ValueError(f"copy_: source of shape {tuple(np.shape(src))} does not broadcast to {self.shape}")
        return self._assign("copy_", src)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        rng = backend.generator_of(generator)
        return self._assign("uniform_", rng.uniform(a, b, self.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        rng = backend.generator_of(generator)
        return self._assign("normal_", rng.normal(mean, std, self.shape))

    def __setitem__(self, key, value):
        self._check_inplace("__setitem__")
        self.data[_raw_index(key)] = _raw(value)

    # ----- operators --------------------------------------------------------------------------
    def __getitem__(self, key):
        return _ops.getitem(self, key)

    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __eq__(self, other):
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __and__(self, other):
        return _ops.logical_and(self, other)

    def __or__(self, other):
        return _ops.logical_or(self, other)

    def __xor__(self, other):
        return _ops.logical_xor(self, other)

    def __invert__(self):
        return _ops.logical_not(self)

    # ----- printing -----------------------------------------------------------------------------
    def __repr__(self):
        data = backend.to_device(self.data, "cpu")
        prefix = "tensor("
        if data.dtype.kind == "f" and data.size and np.all(np.isfinite(data)) and np.all(data == np.round(data)) \
                and np.abs(data).max() < 1e8:
            body = np.array2string(data, separator=", ", prefix=prefix, floatmode="unique", threshold=1000)
        elif data.dtype.kind == "f":
            body = np.array2string(data, separator=", ", prefix=prefix, precision=4, floatmode="fixed",
                                   threshold=1000)
        else:
            body = np.array2string(data, separator=", ", prefix=prefix, threshold=1000)
        extras = []
        if data.dtype not in (backend.get_default_dtype(), backend.int64, backend.bool_):
            extras.append(f"dtype=gradkit.{data.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return prefix + body + "".join(", " + e for e in extras) + ")"


def _array_from_python(value):
    """PyTorch's rules: Python floats become the default float dtype, ints int64, NumPy scalars keep theirs."""
    if isinstance(value, np.generic):
        return np.asarray(value)
    array = np.asarray(value)
    if array.dtype == np.float64:
        return array.astype(backend.get_default_dtype())
    if array.dtype.kind in "iu" and array.dtype != np.uint8:
        return array.astype(np.int64, copy=False)
    return array


def _raw(value):
    """The array (or Python scalar) behind ``value``."""
    return value.data if isinstance(value, Tensor) else value


def _raw_index(key):
    if isinstance(key, tuple):
        return tuple(_raw(k) for k in key)
    return _raw(key)


# Late bindings (see the module docstring): the engine and the ops both build on Tensor.
from gradkit.autograd import engine as _engine  # noqa: E402
from gradkit.autograd.grad_mode import state as _grad_state  # noqa: E402
from gradkit import ops as _ops  # noqa: E402

for _name, _function in _ops.TENSOR_METHODS.items():
    setattr(Tensor, _name, _function)
