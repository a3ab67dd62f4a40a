"""Shape ops: reshape, broadcast and its inverse ``sum_to``, transpose/permute, and friends."""
from gradkit import backend
from gradkit.autograd.function import Function

__all__ = ["sum_to", "broadcast_to", "reshape"]
TENSOR_METHODS = ("broadcast_to", "reshape")


def _normalize_shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


class _SumTo(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return _sum_to_array(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(grad, ctx.input_shape)


def _sum_to_array(x, shape):
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1)
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(shape) if lead else out


def sum_to(x, shape):
    """Sum ``x`` down to ``shape``: the inverse of broadcasting, used by every broadcasting op's backward."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return _SumTo.apply(x, shape)


class _BroadcastTo(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return backend.array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.input_shape)


def broadcast_to(input, *shape):
    """Broadcast ``input`` to ``shape`` (a read-only view, like NumPy's)."""
    shape = _normalize_shape(shape)
    if input.shape == shape:
        return input
    try:
        backend.array_module(input.data).broadcast_shapes(input.shape, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: shape {tuple(input.shape)} cannot be broadcast to {shape}") from None
    return _BroadcastTo.apply(input, shape)


class _Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.input_shape)


def reshape(input, *shape):
    """Return ``input`` with a new shape of the same number of elements; one dimension may be -1."""
    shape = _normalize_shape(shape)
    if input.shape == shape:
        return input
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    size = input.data.size
    if shape.count(-1) > 1 or (-1 not in shape and known != size) or (-1 in shape and (known == 0 or size % known)):
        raise ValueError(f"reshape: shape {shape} is invalid for input of shape {tuple(input.shape)} ({size} elements)")
    return _Reshape.apply(input, shape)
