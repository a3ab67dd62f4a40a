"""Shape ops: reshape, broadcast and its inverse ``sum_to``, transpose/permute, joining and splitting.

Every op here moves elements without changing them, so every backward is another shape op: reshape
undoes reshape, ``sum_to`` undoes broadcasting, ``cat`` undoes ``split`` and the reverse. Backward is
therefore differentiable again and second derivatives are exact. Forward results are NumPy views
where NumPy can give one (transpose, split, flip, expand), as PyTorch returns views.
"""
import numpy as np

from gradkit import backend
from gradkit.autograd.function import Function
from gradkit.tensor import Tensor

__all__ = ["sum_to", "broadcast_to", "reshape", "view", "view_as", "reshape_as", "flatten", "ravel", "unflatten",
           "squeeze", "unsqueeze", "transpose", "swapaxes", "swapdims", "permute", "t", "movedim", "moveaxis",
           "expand", "expand_as", "repeat", "tile", "cat", "concat", "concatenate", "stack", "split", "chunk",
           "unbind", "flip", "roll"]
TENSOR_METHODS = ("broadcast_to", "reshape", "view", "view_as", "reshape_as", "flatten", "ravel", "unflatten",
                  "squeeze", "unsqueeze", "transpose", "swapaxes", "swapdims", "permute", "t", "movedim",
                  "moveaxis", "expand", "expand_as", "repeat", "tile", "split", "chunk", "unbind", "flip", "roll")


# ----- argument helpers ------------------------------------------------------------------------------
def _normalize_shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _int_tuple(value):
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),)


def normalize_dim(op, dim, ndim, name="dim"):
    """``dim`` wrapped into ``[0, ndim)``; a 0-d tensor accepts -1 and 0, as in PyTorch."""
    size = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: {name} must be an int, got {dim!r}")
    if not -size <= dim < size:
        raise IndexError(f"{op}: {name} {dim} is out of range for a tensor of {ndim} dimensions "
                         f"(expected {-size} to {size - 1})")
    return int(dim) % size


def _normalize_dims(op, dims, ndim, name="dims"):
    dims = tuple(normalize_dim(op, d, ndim, name) for d in _int_tuple(dims))
    if len(set(dims)) != len(dims):
        raise ValueError(f"{op}: {name} {dims} contains a dimension more than once")
    return dims


def _check_tensors(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise TypeError(f"{op}: expected a sequence of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a sequence of tensors, got {type(t).__name__} at position {i}")
    return tuple(tensors)


def _joined_dtype(dtypes):
    """PyTorch's promotion for cat/stack: a float operand decides over integers (int64 + float32 -> float32)."""
    floats = [d for d in dtypes if d.kind in "fc"]
    return np.result_type(*(floats or dtypes))


def _match_dtype(grad, dtype):
    if dtype.kind not in "fc":
        return None
    if grad.dtype == dtype:
        return grad
    from gradkit.ops.elementwise import cast  # elementwise builds on this module
    return cast(grad, dtype)


# ----- sum_to, broadcast_to, reshape -------------------------------------------------------------------
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
        if len(shape) < input.ndim or np.broadcast_shapes(input.shape, shape) != shape:
            raise ValueError
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
    if shape.count(-1) > 1 or any(s < -1 for s in shape) or (-1 not in shape and known != size) \
            or (-1 in shape and (known == 0 or size % known)):
        raise ValueError(f"reshape: shape {shape} is invalid for input of shape {tuple(input.shape)} ({size} elements)")
    return _Reshape.apply(input, shape)


def view(input, *shape):
    """``reshape``: gradkit arrays need not be contiguous, so a view never fails where a reshape works.

    ``view(dtype)`` reinterprets the bytes as another dtype of the same size (not differentiable).
    """
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
        dtype = np.dtype(shape[0])
        if dtype.itemsize != input.data.itemsize:
            raise ValueError(f"view: dtype {dtype} has a different element size than the input's {input.dtype}")
        return Tensor._make(input.data.view(dtype))
    return reshape(input, *shape)


def view_as(input, other):
    """``input`` reshaped to ``other.shape``."""
    return reshape(input, tuple(other.shape))


reshape_as = view_as


def flatten(input, start_dim=0, end_dim=-1):
    r"""Merge dimensions ``start_dim..end_dim`` (inclusive) into one; a 0-d tensor becomes shape ``(1,)``."""
    if input.ndim == 0:
        return reshape(input, 1)
    start = normalize_dim("flatten", start_dim, input.ndim, "start_dim")
    end = normalize_dim("flatten", end_dim, input.ndim, "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {tuple(input.shape)}")
    shape = input.shape
    return reshape(input, shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:])


def ravel(input):
    """``input`` as a 1-D tensor."""
    return reshape(input, -1)


def unflatten(input, dim, sizes):
    """Split dimension ``dim`` into ``sizes`` (whose product is its size; one entry may be -1)."""
    dim = normalize_dim("unflatten", dim, input.ndim)
    sizes = _int_tuple(sizes)
    length = input.shape[dim]
    known = int(np.prod([s for s in sizes if s != -1]))
    if sizes.count(-1) > 1 or not sizes or (-1 in sizes and (known == 0 or length % known)) \
            or (-1 not in sizes and known != length):
        raise ValueError(f"unflatten: sizes {list(sizes)} don't multiply up to the size of dim {dim} ({length}) "
                         f"of the input of shape {tuple(input.shape)}")
    sizes = tuple(length // known if s == -1 else s for s in sizes)
    return reshape(input, input.shape[:dim] + sizes + input.shape[dim + 1:])


def squeeze(input, dim=None):
    """Remove dimensions of size 1: all of them, or those among ``dim`` (an int or a tuple).

    A listed dimension whose size is not 1 is left as it is, as in PyTorch.
    """
    if dim is None:
        dims = range(input.ndim)
    else:
        dims = _normalize_dims("squeeze", dim, input.ndim, "dim")
    drop = {d for d in dims if d < input.ndim and input.shape[d] == 1}
    return reshape(input, tuple(s for d, s in enumerate(input.shape) if d not in drop))


def unsqueeze(input, dim):
    """Insert a dimension of size 1 at ``dim`` (in ``[-ndim - 1, ndim]``)."""
    dim = normalize_dim("unsqueeze", dim, input.ndim + 1)
    return reshape(input, input.shape[:dim] + (1,) + input.shape[dim:])


# ----- permutations --------------------------------------------------------------------------------------
class _Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return permute(grad, *np.argsort(ctx.dims).tolist())


def permute(input, *dims):
    """Reorder the dimensions: output dimension ``i`` is input dimension ``dims[i]`` (a view)."""
    dims = _normalize_shape(dims)
    if len(dims) != input.ndim:
        raise ValueError(f"permute: dims {dims} must list each of the {input.ndim} dimensions of the input "
                         f"of shape {tuple(input.shape)}")
    dims = _normalize_dims("permute", dims, input.ndim)
    if dims == tuple(range(input.ndim)):
        return input
    return _Permute.apply(input, dims)


def transpose(input, dim0, dim1):
    """Swap dimensions ``dim0`` and ``dim1`` (a view)."""
    dim0 = normalize_dim("transpose", dim0, input.ndim, "dim0")
    dim1 = normalize_dim("transpose", dim1, input.ndim, "dim1")
    if dim0 == dim1 or input.ndim < 2:
        return input
    dims = list(range(input.ndim))
    dims[dim0], dims[dim1] = dim1, dim0
    return _Permute.apply(input, tuple(dims))


swapaxes = swapdims = transpose


def t(input):
    """Transpose of a tensor with at most 2 dimensions (0-d and 1-d tensors are returned as they are)."""
    if input.ndim > 2:
        raise ValueError(f"t: expects a tensor with <= 2 dimensions, got shape {tuple(input.shape)}; "
                         "use transpose(dim0, dim1) or .mT")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def movedim(input, source, destination):
    """Move dimensions ``source`` to positions ``destination``; the others keep their order."""
    source = _normalize_dims("movedim", source, input.ndim, "source")
    destination = _normalize_dims("movedim", destination, input.ndim, "destination")
    if len(source) != len(destination):
        raise ValueError(f"movedim: source {source} and destination {destination} must have the same length")
    rest = [d for d in range(input.ndim) if d not in source]
    order = [None] * input.ndim
    for s, d in zip(source, destination):
        order[d] = s
    for i in range(input.ndim):
        if order[i] is None:
            order[i] = rest.pop(0)
    return permute(input, *order)


moveaxis = movedim


# ----- expand and repeat ---------------------------------------------------------------------------------
def expand(input, *sizes):
    """Broadcast to ``sizes`` (a view); -1 keeps a dimension, and new leading dimensions may be added."""
    sizes = _normalize_shape(sizes)
    shape = tuple(input.shape)
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise ValueError(f"expand: the number of sizes {sizes} must be at least the number of dimensions of the "
                         f"input of shape {shape}")
    target = []
    for i, size in enumerate(sizes):
        if i < lead:
            if size < 0:
                raise ValueError(f"expand: size {size} is not allowed in a new leading dimension {i} "
                                 f"(input shape {shape}, sizes {sizes})")
            target.append(size)
            continue
        old = shape[i - lead]
        if size == -1:
            size = old
        if size != old and old != 1 or size < 0:
            raise ValueError(f"expand: the expanded size {size} must match the existing size {old} at dim {i} "
                             f"(input shape {shape}, sizes {sizes})")
        target.append(size)
    return broadcast_to(input, tuple(target))


def expand_as(input, other):
    """``expand(input, other.shape)``."""
    return expand(input, tuple(other.shape))


class _Repeat(Function):
    @staticmethod
    def forward(ctx, x, repeats):
        ctx.input_shape, ctx.repeats = x.shape, repeats
        padded = x.reshape((1,) * (len(repeats) - x.ndim) + x.shape)
        return backend.array_module(x).tile(padded, repeats)

    @staticmethod
    def backward(ctx, grad):
        # Output dim i is (repeats[i] copies) x (size[i]): split each into a pair and sum the copies away.
        repeats = ctx.repeats
        sizes = (1,) * (len(repeats) - len(ctx.input_shape)) + ctx.input_shape
        pairs = tuple(v for r, s in zip(repeats, sizes) for v in (r, s))
        ones = tuple(v for s in sizes for v in (1, s))
        return reshape(sum_to(reshape(grad, pairs), ones), ctx.input_shape)


def repeat(input, *sizes):
    r"""Tile ``input`` ``sizes[i]`` times along dimension ``i`` (new leading dimensions allowed).

    Output shape: :math:`(r_0 s_0, r_1 s_1, \dots)`; the gradient sums the copies.
    """
    sizes = _normalize_shape(sizes)
    if len(sizes) < input.ndim:
        raise ValueError(f"repeat: the number of repeats {sizes} must be at least the number of dimensions of "
                         f"the input of shape {tuple(input.shape)}")
    if any(s < 0 for s in sizes):
        raise ValueError(f"repeat: repeats must be non-negative, got {sizes}")
    return _Repeat.apply(input, sizes)


def tile(input, dims):
    """Like ``repeat``, but ``dims`` shorter than the tensor's rank is padded with leading 1s."""
    dims = _int_tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


# ----- joining and splitting -----------------------------------------------------------------------------
class _Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, dim, skipped):
        ctx.dim, ctx.skipped = dim, skipped
        ctx.dtypes = [a.dtype for a in arrays]
        kept = [a for a, skip in zip(arrays, skipped) if not skip]
        ctx.sizes = [a.shape[dim] for a in kept]
        return backend.array_module(*arrays).concatenate(kept, axis=dim, dtype=_joined_dtype(ctx.dtypes))

    @staticmethod
    def backward(ctx, grad):
        pieces = iter(_split_at(grad, ctx.sizes, ctx.dim))
        grads = []
        for skip, dtype, need in zip(ctx.skipped, ctx.dtypes, ctx.needs_input_grad):
            piece = Tensor._make(np.zeros(0, dtype)) if skip else next(pieces)
            grads.append(_match_dtype(piece, dtype) if need else None)
        return tuple(grads)


def cat(tensors, dim=0):
    r"""Concatenate ``tensors`` along ``dim``; all other dimensions must agree.

    As in PyTorch, 1-D empty tensors (shape ``(0,)``) are skipped (their gradient is empty), and
    mixed dtypes are promoted (a floating dtype wins over integers).
    """
    tensors = _check_tensors("cat", tensors)
    skipped = tuple(x.shape == (0,) for x in tensors)
    kept = [x for x, skip in zip(tensors, skipped) if not skip]
    if not kept:
        kept, skipped = tensors, (False,) * len(tensors)
    first = kept[0]
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    dim = normalize_dim("cat", dim, first.ndim)
    for x in kept[1:]:
        if x.ndim != first.ndim or x.shape[:dim] != first.shape[:dim] or x.shape[dim + 1:] != first.shape[dim + 1:]:
            raise ValueError(f"cat: tensors must have the same shape except in dim {dim}, "
                             f"got {tuple(first.shape)} and {tuple(x.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return _Cat.apply(*tensors, dim=dim, skipped=skipped)


concat = concatenate = cat


class _Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.dtypes = [a.dtype for a in arrays]
        xp = backend.array_module(*arrays)
        return xp.stack(arrays, axis=dim, dtype=_joined_dtype(ctx.dtypes))

    @staticmethod
    def backward(ctx, grad):
        pieces = unbind(grad, ctx.dim)
        return tuple(_match_dtype(p, d) if need else None
                     for p, d, need in zip(pieces, ctx.dtypes, ctx.needs_input_grad))


def stack(tensors, dim=0):
    """Join same-shaped ``tensors`` along a new dimension ``dim`` (in ``[-ndim - 1, ndim]``)."""
    tensors = _check_tensors("stack", tensors)
    shape = tuple(tensors[0].shape)
    for i, x in enumerate(tensors[1:], 1):
        if tuple(x.shape) != shape:
            raise ValueError(f"stack: expected all tensors to have the same shape, got {shape} at entry 0 "
                             f"and {tuple(x.shape)} at entry {i}")
    dim = normalize_dim("stack", dim, len(shape) + 1)
    return _Stack.apply(*tensors, dim=dim)


class _Split(Function):
    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        bounds = np.cumsum((0,) + tuple(sizes)).tolist()
        before = (slice(None),) * dim
        return tuple(x[before + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:]))

    @staticmethod
    def backward(ctx, *grads):
        return cat(list(grads), ctx.dim)


def _split_at(input, sizes, dim):
    if len(sizes) == 1:
        return (input,)
    return _Split.apply(input, tuple(sizes), dim)


def split(tensor, split_size_or_sections, dim=0):
    """Split along ``dim`` into pieces of ``split_size`` (the last may be smaller) or of the listed sizes.

    Returns a tuple of views.
    """
    dim = normalize_dim("split", dim, tensor.ndim)
    length = tensor.shape[dim]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = _int_tuple(split_size_or_sections)
        if sum(sizes) != length or any(s < 0 for s in sizes):
            raise ValueError(f"split: split sizes {list(sizes)} must be non-negative and sum to the size of "
                             f"dim {dim} ({length}) of the input of shape {tuple(tensor.shape)}")
    else:
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and length > 0):
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = (size,) * (length // size) + ((length % size,) if length % size else ()) if length else (0,)
    return _split_at(tensor, sizes, dim)


def chunk(input, chunks, dim=0):
    r"""Split into ``chunks`` pieces of :math:`\lceil n / \text{chunks} \rceil` along ``dim``.

    As in PyTorch, fewer pieces come back when the size does not allow ``chunks`` of them.
    """
    if int(chunks) <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    dim = normalize_dim("chunk", dim, input.ndim)
    length = input.shape[dim]
    if length == 0:
        return _split_at(input, (0,) * int(chunks), dim)
    return split(input, -(-length // int(chunks)), dim)


class _Unbind(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        before = (slice(None),) * dim
        return tuple(x[before + (i,)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), ctx.dim)


def unbind(input, dim=0):
    """The slices of ``input`` along ``dim``, as a tuple of views without that dimension."""
    if input.ndim == 0:
        raise ValueError("unbind: a zero-dimensional tensor cannot be unbound")
    dim = normalize_dim("unbind", dim, input.ndim)
    if input.shape[dim] == 0:
        return ()
    return _Unbind.apply(input, dim)


# ----- flip and roll -------------------------------------------------------------------------------------
class _Flip(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return backend.array_module(x).flip(x, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        return _Flip.apply(grad, ctx.dims)


def flip(input, dims):
    """Reverse the order of elements along each of ``dims``."""
    dims = _normalize_dims("flip", dims, input.ndim)
    if input.ndim == 0 or not dims:
        return input
    return _Flip.apply(input, dims)


class _Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return backend.array_module(x).roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        back = -ctx.shifts if ctx.dims is None else tuple(-s for s in ctx.shifts)
        return _Roll.apply(grad, back, ctx.dims)


def roll(input, shifts, dims=None):
    r"""Shift elements circularly: :math:`y_{(i + s) \bmod n} = x_i` along each of ``dims``.

    Without ``dims`` the tensor is rolled as if flattened, then restored to its shape.
    """
    if dims is None:
        shifts = _int_tuple(shifts)
        if len(shifts) != 1:
            raise ValueError(f"roll: without dims, shifts must be a single int, got {shifts}")
        return _Roll.apply(input, shifts[0], None)
    shifts = _int_tuple(shifts)
    dims = tuple(normalize_dim("roll", d, input.ndim, "dims") for d in _int_tuple(dims))
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    return _Roll.apply(input, shifts, dims)
