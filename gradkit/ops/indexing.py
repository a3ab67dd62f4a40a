"""Indexing ops: ``tensor[key]``, gather/scatter, index_select/index_add, masks and nonzero.

Each differentiable op comes with its adjoint, and the two are each other's backward: reading
elements (getitem, gather, index_select) has as gradient the accumulation of the incoming gradient
into zeros (index-put, scatter_add, index_add), and the accumulation has reading as gradient. Both
are linear, so second derivatives are exact.

Accumulating where indices repeat is done without ``np.add.at`` (slow): values are summed per
destination with one ``np.bincount`` over the distinct destinations (in float64, then rounded once,
so sums are at least as accurate as PyTorch's); unique destinations are written directly.
"""
import numpy as np

from gradkit import backend
from gradkit.autograd.function import Function
from gradkit.ops.elementwise import cast, where
from gradkit.ops.shape import broadcast_to, flatten, normalize_dim, reshape
from gradkit.tensor import Tensor

__all__ = ["getitem", "gather", "scatter", "scatter_add", "index_select", "index_add", "masked_fill",
           "masked_select", "take_along_dim", "take", "narrow", "select", "nonzero", "argwhere"]
TENSOR_METHODS = ("gather", "scatter", "scatter_add", "index_select", "index_add", "masked_fill", "masked_select",
                  "take_along_dim", "take", "narrow", "select", "nonzero", "argwhere", "masked_fill_", "scatter_",
                  "scatter_add_", "index_add_")


# ----- accumulation without np.add.at --------------------------------------------------------------------
def _add_at(out, positions, values):
    """``out[:, positions[i]] += values[:, i]`` for every ``i``, repeated positions summing.

    ``out`` is ``(P, A, R)``, ``positions`` ``(n,)`` with values in ``[0, A)``, ``values`` ``(P, n, R)``:
    the middle axis is the indexed one, so a contiguous tensor indexed along any dimension is a view.
    """
    n = positions.size
    if n == 0:
        return
    xp = backend.array_module(out)
    if xp is not np:
        import cupyx
        cupyx.scatter_add(out, (slice(None), positions), values)
        return
    if out.dtype.kind != "f":  # exact integer sums (bincount would go through float64); rare, never differentiated
        np.add.at(out, (slice(None), positions), values)
        return
    P, A, R = out.shape
    if P == R == 1 and 4 * n >= A:  # dense single elements: one counting pass over the whole output
        out[0, :, 0] += np.bincount(positions, weights=values[0, :, 0], minlength=A).astype(out.dtype)
        return
    unique, slot = np.unique(positions, return_inverse=True)
    if unique.size == n:  # unique destinations: a plain fancy-indexed update is exact
        out[:, positions] += values
        return
    # Sum the values of each destination with one bincount over the compacted (P, unique, R) grid.
    U = unique.size
    cell = (np.arange(P)[:, None, None] * U + slot.reshape(1, n, 1)) * R + np.arange(R)
    sums = np.bincount(cell.ravel(), weights=np.broadcast_to(values, (P, n, R)).ravel(), minlength=P * U * R)
    out[:, unique] += sums.reshape(P, U, R).astype(out.dtype)


# ----- getitem -------------------------------------------------------------------------------------------
class _Index:
    """A parsed key, applied in PyTorch's two stages.

    Integers, slices, None and Ellipsis are basic indexing (``basic``: a view). Integer and boolean
    arrays are then applied to that view (``advanced``: slices elsewhere), so integers never count as
    advanced indices when NumPy's rules place the broadcast dimensions (PyTorch selects them first).
    """

    def __init__(self, basic, advanced, has_arrays):
        self.basic, self.advanced, self.has_arrays = basic, advanced, has_arrays

    def apply(self, x):
        view = x[self.basic]
        return view if self.advanced is None else view[self.advanced]

    def accumulate(self, grad, shape):
        """The adjoint of ``apply``: ``grad`` summed into zeros of ``shape`` at the indexed places."""
        xp = backend.array_module(grad)
        out = xp.zeros(shape, dtype=grad.dtype)
        if self.advanced is None:  # basic indexing selects each element once
            out[self.basic] = grad
            return out
        target = out[self.basic]  # a view: writing into it writes into ``out``
        if not self.has_arrays:  # slices and boolean masks select each element once
            target[self.advanced] = grad
        elif grad.size:
            self._accumulate_arrays(target, grad, xp)
        return out

    def _accumulate_arrays(self, target, grad, xp):
        arrays, array_dims, dim = [], [], 0
        for item in self.advanced:
            if isinstance(item, slice):
                dim += 1
            elif item.dtype == bool:
                arrays.extend(xp.nonzero(item))
                array_dims.extend(range(dim, dim + item.ndim))
                dim += item.ndim
            else:
                arrays.append((item + target.shape[dim] * (item < 0)).astype(np.intp, copy=False))
                array_dims.append(dim)
                dim += 1
        arrays = xp.broadcast_arrays(*arrays)
        indexed_shape = [target.shape[d] for d in array_dims]
        positions = xp.ravel_multi_index(tuple(a.ravel() for a in arrays), indexed_shape)
        indexed = int(np.prod(indexed_shape))
        if array_dims == list(range(array_dims[0], array_dims[-1] + 1)):
            # NumPy's rule: adjacent array indices keep their place, so grad is (before, broadcast, after)
            # and the target, viewed as (before, indexed, after), takes it without any transposition.
            before = int(np.prod(target.shape[:array_dims[0]]))
            after = int(np.prod(target.shape[array_dims[-1] + 1:]))
            values = grad.reshape(before, positions.size, after)
            if target.flags.c_contiguous:
                _add_at(target.reshape(before, indexed, after), positions, values)
            else:
                sums = xp.zeros((before, indexed, after), dtype=grad.dtype)
                _add_at(sums, positions, values)
                target[...] = sums.reshape(target.shape)
            return
        # Separated array indices put the broadcast dimensions first: grad is (broadcast, others...).
        other_dims = [d for d in range(target.ndim) if d not in array_dims]
        other_shape = [target.shape[d] for d in other_dims]
        sums = xp.zeros((1, indexed, int(np.prod(other_shape))), dtype=grad.dtype)
        _add_at(sums, positions, grad.reshape(1, positions.size, sums.shape[2]))
        target[...] = sums.reshape(indexed_shape + other_shape).transpose(np.argsort(array_dims + other_dims))


def _parse_key(shape, key):
    kind = type(key)
    if kind is slice or (kind is int and shape and -shape[0] <= key < shape[0]):  # the common cases, fast
        return _Index((key,), None, False)
    if kind is not tuple:
        key = (key,)
    items = [_index_item(k) for k in key]
    ellipses = sum(1 for k in items if k is Ellipsis)
    if ellipses > 1:
        raise IndexError("getitem: an index can only have a single ellipsis ('...')")
    consumed = sum(k.ndim if _is_array(k) and k.dtype == bool else 1
                   for k in items if k is not None and k is not Ellipsis and not isinstance(k, bool))
    if consumed > len(shape):
        raise IndexError(f"getitem: too many indices for a tensor of shape {tuple(shape)}: {consumed} were given")
    basic, advanced, has_arrays, needs_second_stage, dim = [], [], False, False, 0
    for item in items:
        if item is Ellipsis:
            fill = len(shape) - consumed
            basic.extend([slice(None)] * fill)
            advanced.extend([slice(None)] * fill)
            dim += fill
        elif item is None or item is True:
            basic.append(None)
            advanced.append(slice(None))
        elif item is False:  # NumPy and PyTorch: a new dimension of size 0
            basic.append(None)
            advanced.append(slice(0, 0))
            needs_second_stage = True
        elif isinstance(item, slice):
            basic.append(item)
            advanced.append(slice(None))
            dim += 1
        elif isinstance(item, int):
            size = shape[dim]
            if not -size <= item < size:
                raise IndexError(f"getitem: index {item} is out of bounds for dim {dim} with size {size}")
            basic.append(item)
            dim += 1
        elif item.dtype == bool:
            covered = tuple(shape[dim:dim + item.ndim])
            if item.shape != covered:
                raise IndexError(f"getitem: boolean mask of shape {item.shape} does not match the indexed shape "
                                 f"{covered} at dim {dim} of a tensor of shape {tuple(shape)}")
            basic.extend([slice(None)] * item.ndim)
            advanced.append(item)
            needs_second_stage = True
            dim += item.ndim
        else:
            size = shape[dim]
            if item.size and (int(item.min()) < -size or int(item.max()) >= size):
                bad = int(item.max()) if int(item.max()) >= size else int(item.min())
                raise IndexError(f"getitem: index {bad} is out of bounds for dim {dim} with size {size}")
            basic.append(slice(None))
            advanced.append(item)
            has_arrays = needs_second_stage = True
            dim += 1
    arrays = [k for k in advanced if _is_array(k)]
    if len(arrays) > 1:  # a mask stands for the 1-D array of its true positions
        shapes = [(int(a.sum()),) if a.dtype == bool else a.shape for a in arrays]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise IndexError(f"getitem: index arrays of shapes {shapes} cannot be broadcast together") from None
    return _Index(tuple(basic), tuple(advanced) if needs_second_stage else None, has_arrays)


def _is_array(item):
    return backend.is_array(item)


def _index_item(item):
    """One entry of a key as an int, bool, slice, None, Ellipsis, or an integer or boolean array."""
    if isinstance(item, Tensor):
        item = item.data
    if item is None or item is Ellipsis or isinstance(item, slice):
        return item
    if isinstance(item, (bool, np.bool_)):
        return bool(item)
    if isinstance(item, (int, np.integer)):
        return int(item)
    if isinstance(item, (list, tuple)):
        item = np.asarray(item)
        if item.size == 0:
            item = item.astype(np.int64)
    if _is_array(item):
        if item.dtype == np.uint8:  # PyTorch reads uint8 index tensors as masks
            item = item.astype(bool)
        if item.dtype.kind not in "biu":
            raise IndexError(f"getitem: tensors used as indices must be integer or boolean, got {item.dtype}")
        if item.ndim == 0:
            return bool(item) if item.dtype == bool else int(item)
        return item
    raise IndexError(f"getitem: only integers, slices, None, Ellipsis and integer or boolean tensors are valid "
                     f"indices, got {type(item).__name__} {item!r}")


class _GetItem(Function):
    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.input_shape = index, x.shape
        return index.apply(x)

    @staticmethod
    def backward(ctx, grad):
        return _IndexAccumulate.apply(grad, ctx.index, ctx.input_shape)


class _IndexAccumulate(Function):
    @staticmethod
    def forward(ctx, grad, index, shape):
        ctx.index = index
        return index.accumulate(grad, shape)

    @staticmethod
    def backward(ctx, grad):
        return _GetItem.apply(grad, ctx.index)


def getitem(input, key):
    r"""``input[key]`` with NumPy's and PyTorch's semantics.

    ``key`` may combine ints, slices, None, Ellipsis, integer tensors/lists/arrays (advanced indexing)
    and boolean masks. As in PyTorch, integers are applied before advanced indices, so they never move
    the broadcast dimensions to the front. Basic indexing returns a view. If :math:`y_j = x_{k(j)}`,
    the gradient is :math:`\partial L / \partial x_i = \sum_{j : k(j) = i} \partial L / \partial y_j`:
    zeros where nothing was read, summed where an index repeats.

    Negative slice steps follow NumPy (PyTorch rejects them).

    A nested list such as ``x[[[0, 1], [1, 0]]]`` is read as one integer array (NumPy's rule and
    PyTorch's announced one), not as a tuple of indices (PyTorch's deprecated reading).
    """
    return _GetItem.apply(input, _parse_key(input.shape, key))


def narrow(input, dim, start, length):
    """``length`` elements of ``input`` along ``dim`` from ``start`` (a view)."""
    dim = normalize_dim("narrow", dim, input.ndim)
    size = input.shape[dim]
    begin = start + size if start < 0 else start
    if not 0 <= begin <= size or length < 0 or begin + length > size:
        raise IndexError(f"narrow: start {start} and length {length} are out of range for dim {dim} of size {size}")
    start = begin
    return getitem(input, (slice(None),) * dim + (slice(start, start + length),))


def select(input, dim, index):
    """``input`` at ``index`` along ``dim``, which is removed."""
    dim = normalize_dim("select", dim, input.ndim)
    return getitem(input, (slice(None),) * dim + (int(index),))


def take(input, index):
    """Elements of ``input`` read as if flattened, at ``index`` (output shape: ``index.shape``)."""
    return getitem(flatten(input), _int_array("take", "index", index))


# ----- gather / scatter ------------------------------------------------------------------------------------
def _int_array(op, name, index):
    array = index.data if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must be an integer tensor, got dtype {array.dtype}")
    return array


def _check_bounds(op, index, size, dim, negative_ok=False):
    if index.size == 0:
        return
    low, high = int(index.min()), int(index.max())
    if high >= size or low < (-size if negative_ok else 0):
        raise IndexError(f"{op}: index {high if high >= size else low} is out of bounds for dim {dim} with size {size}")


def _element_positions(shape, dim, index):
    """Flat position, in an array of ``shape``, of each element of ``index`` with its ``dim`` coordinate replaced
    by the index value: where ``scatter`` writes it and where ``gather`` reads it."""
    xp = backend.array_module(index)
    strides = np.cumprod((1,) + tuple(shape[:0:-1]))[::-1]
    positions = index.astype(np.int64) * int(strides[dim])
    for d in range(index.ndim):
        if d != dim:
            ramp = xp.arange(index.shape[d], dtype=np.int64) * int(strides[d])
            positions = positions + ramp.reshape([-1 if e == d else 1 for e in range(index.ndim)])
    return positions.ravel()


def _leading_part(tensor, shape, skip=None):
    """``tensor[:shape[0], :shape[1], ...]`` (dimension ``skip`` kept whole), or ``tensor`` when nothing is cut."""
    if all(d == skip or s == t for d, (s, t) in enumerate(zip(shape, tensor.shape))):
        return tensor
    return getitem(tensor, tuple(slice(None) if d == skip else slice(0, s) for d, s in enumerate(shape)))


class _Gather(Function):
    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.index, ctx.dim, ctx.input_shape = index, dim, x.shape
        return backend.array_module(x).take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return _ScatterAdd.apply(None, grad, ctx.index, ctx.dim, ctx.input_shape)


class _ScatterAdd(Function):
    @staticmethod
    def forward(ctx, x, src, index, dim, shape):
        ctx.index, ctx.dim = index, dim
        xp = backend.array_module(src)
        out = xp.zeros(shape, dtype=src.dtype) if x is None else x.copy()
        positions = _element_positions(out.shape, dim, index)
        _add_at(out.reshape(1, -1, 1), positions, src.reshape(1, -1, 1).astype(out.dtype, copy=False))
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_src = ctx.needs_input_grad[:2]
        return (grad if need_x else None,
                _Gather.apply(grad, ctx.index, ctx.dim) if need_src else None)


class _Scatter(Function):
    @staticmethod
    def forward(ctx, x, src, index, dim):
        ctx.index, ctx.dim = index, dim
        out = x.copy()
        positions = _element_positions(out.shape, dim, index)
        out.reshape(-1)[positions] = src.reshape(-1) if backend.is_array(src) else src
        ctx.overwritten = positions
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_src = ctx.needs_input_grad[:2]
        grad_x = None
        if need_x:
            keep = backend.array_module(grad.data).ones(grad.shape, dtype=grad.dtype)
            keep.reshape(-1)[ctx.overwritten] = 0
            grad_x = grad * Tensor._make(keep)
        return grad_x, _Gather.apply(grad, ctx.index, ctx.dim) if need_src else None


def _check_scatter_shapes(op, input, dim, index, other, other_name):
    if index.ndim != input.ndim or (other is not None and other.ndim != input.ndim):
        raise ValueError(f"{op}: index{' and ' + other_name if other is not None else ''} must have as many "
                         f"dimensions as input {tuple(input.shape)}, got index {index.shape}"
                         + (f" and {other_name} {tuple(other.shape)}" if other is not None else ""))
    for d in range(index.ndim):
        if (d != dim and index.shape[d] > input.shape[d]) or (other is not None and index.shape[d] > other.shape[d]):
            raise ValueError(f"{op}: index of shape {index.shape} must not be larger than input {tuple(input.shape)} "
                             f"in dims other than {dim}" + (f", nor than {other_name} {tuple(other.shape)}"
                                                            if other is not None else ""))


def gather(input, dim, index, sparse_grad=False):
    r"""Read along ``dim`` at ``index``: for ``dim = 1``, :math:`y_{ijk} = x_{i,\,\text{index}_{ijk},\,k}`.

    ``index`` has the tensor's rank and is at most as large as ``input`` in the other dimensions; the
    output has ``index``'s shape. The gradient is ``scatter_add`` of the incoming gradient into zeros.
    """
    index = _int_array("gather", "index", index)
    dim = normalize_dim("gather", dim, input.ndim)
    _check_scatter_shapes("gather", input, dim, index, None, None)
    _check_bounds("gather", index, input.shape[dim], dim)
    return _Gather.apply(_leading_part(input, index.shape, skip=dim), index, dim)


def scatter_add(input, dim, index, src):
    r"""``input`` plus ``src`` summed at ``index`` along ``dim``: for ``dim = 0``,
    :math:`y_{\text{index}_{ij},\,j} \mathrel{+}= \text{src}_{ij}` (repeated indices accumulate).

    Only the leading ``index.shape`` part of ``src`` is used. Gradients: ``grad`` for ``input``,
    ``gather(grad, dim, index)`` for ``src``.
    """
    index = _int_array("scatter_add", "index", index)
    dim = normalize_dim("scatter_add", dim, input.ndim)
    _check_scatter_shapes("scatter_add", input, dim, index, src, "src")
    _check_bounds("scatter_add", index, input.shape[dim], dim)
    return _ScatterAdd.apply(input, _leading_part(src, index.shape), index, dim, input.shape)


def scatter(input, dim, index, src=None, value=None, reduce=None):
    r"""``input`` with ``src`` (or the scalar ``value``) written at ``index`` along ``dim``: for ``dim = 0``,
    :math:`y_{\text{index}_{ij},\,j} = \text{src}_{ij}`.

    Where an index repeats, which write wins is unspecified (as in PyTorch). The gradient of ``input``
    is zero at written places; that of ``src`` is ``gather(grad, dim, index)``. ``reduce="add"`` is
    ``scatter_add``. Unlike PyTorch, a ``src`` larger than ``index`` is differentiable (its unused part
    gets zero gradient).
    """
    if not isinstance(src, Tensor) and src is not None:
        src, value = None, src
    if (src is None) == (value is None):
        raise ValueError("scatter: give exactly one of src (a tensor) and value (a number)")
    if reduce == "add" and src is not None:
        return scatter_add(input, dim, index, src)
    if reduce is not None:
        raise ValueError(f"scatter: reduce must be None or 'add' (with src), got {reduce!r}")
    index = _int_array("scatter", "index", index)
    dim = normalize_dim("scatter", dim, input.ndim)
    _check_scatter_shapes("scatter", input, dim, index, src, "src")
    _check_bounds("scatter", index, input.shape[dim], dim)
    if src is None:
        return _Scatter.apply(input, value, index, dim)
    return _Scatter.apply(input, _leading_part(src, index.shape), index, dim)


def take_along_dim(input, indices, dim=None):
    """``gather`` with broadcasting: ``input`` and ``indices`` are broadcast in every dimension but ``dim``.

    Without ``dim`` both are flattened. Negative indices count from the end, as in PyTorch.
    """
    indices = _int_array("take_along_dim", "indices", indices)
    if dim is None:
        input, indices, dim = flatten(input), indices.reshape(-1), 0
    else:
        dim = normalize_dim("take_along_dim", dim, input.ndim)
        if indices.ndim != input.ndim:
            raise ValueError(f"take_along_dim: indices of shape {indices.shape} must have as many dimensions as "
                             f"input {tuple(input.shape)}")
        try:
            common = list(np.broadcast_shapes(input.shape[:dim] + (1,) + input.shape[dim + 1:],
                                              indices.shape[:dim] + (1,) + indices.shape[dim + 1:]))
        except ValueError:
            raise ValueError(f"take_along_dim: input {tuple(input.shape)} and indices {indices.shape} cannot be "
                             f"broadcast outside dim {dim}") from None
        input = broadcast_to(input, tuple(common[:dim] + [input.shape[dim]] + common[dim + 1:]))
        indices = np.broadcast_to(indices, tuple(common[:dim] + [indices.shape[dim]] + common[dim + 1:]))
    size = input.shape[dim]
    _check_bounds("take_along_dim", indices, size, dim, negative_ok=True)
    return _Gather.apply(input, indices + size * (indices < 0), dim)


# ----- index_select / index_add ------------------------------------------------------------------------------
class _IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.index, ctx.dim, ctx.input_shape = index, dim, x.shape
        return backend.array_module(x).take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return _IndexAdd.apply(None, grad, ctx.index, ctx.dim, 1, ctx.input_shape)


class _IndexAdd(Function):
    @staticmethod
    def forward(ctx, x, source, index, dim, alpha, shape):
        ctx.index, ctx.dim, ctx.alpha = index, dim, alpha
        xp = backend.array_module(source)
        out = xp.zeros(shape, dtype=source.dtype) if x is None else x.copy()
        before, after = int(np.prod(shape[:dim])), int(np.prod(shape[dim + 1:]))
        values = (source * alpha if alpha != 1 else source).astype(out.dtype, copy=False)
        _add_at(out.reshape(before, shape[dim], after), index, values.reshape(before, index.size, after))
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_source = ctx.needs_input_grad[:2]
        grad_source = None
        if need_source:
            grad_source = _IndexSelect.apply(grad, ctx.index, ctx.dim)
            if ctx.alpha != 1:
                grad_source = grad_source * ctx.alpha
        return grad if need_x else None, grad_source


def _vector_index(op, index, size, dim):
    index = _int_array(op, "index", index)
    if index.ndim > 1:
        raise ValueError(f"{op}: index must be 0-d or 1-d, got shape {index.shape}")
    index = index.reshape(-1)
    _check_bounds(op, index, size, dim)
    return index


def index_select(input, dim, index):
    """The entries of ``input`` at ``index`` (0-d or 1-d) along ``dim``; the gradient is ``index_add``."""
    dim = normalize_dim("index_select", dim, input.ndim)
    index = _vector_index("index_select", index, input.shape[dim] if input.ndim else 1, dim)
    if input.ndim == 0:
        return reshape(input, -1)[index].reshape(())
    return _IndexSelect.apply(input, index, dim)


def index_add(input, dim, index, source, alpha=1):
    r"""``input`` with :math:`\alpha \cdot` ``source`` added at ``index`` along ``dim`` (repeats accumulate):
    :math:`y_{\text{index}_i} \mathrel{+}= \alpha\, \text{source}_i` for ``dim = 0``."""
    dim = normalize_dim("index_add", dim, input.ndim)
    index = _vector_index("index_add", index, input.shape[dim], dim)
    expected = input.shape[:dim] + (index.size,) + input.shape[dim + 1:]
    if tuple(source.shape) != expected:
        raise ValueError(f"index_add: source must have shape {expected} for input {tuple(input.shape)} and "
                         f"{index.size} indices along dim {dim}, got {tuple(source.shape)}")
    return _IndexAdd.apply(input, source, index, dim, alpha, input.shape)


# ----- masks and nonzero --------------------------------------------------------------------------------------
def _bool_mask(op, mask):
    mask = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"{op}: mask must be a bool tensor, got dtype {mask.dtype}")
    return mask


def masked_fill(input, mask, value):
    """``value`` where ``mask`` is true, ``input`` elsewhere (``mask`` and ``input`` broadcast together).

    ``value`` is a number or a 0-d tensor, converted to ``input``'s dtype; a 0-d tensor gets the sum of
    the gradient at the filled places.
    """
    mask = _bool_mask("masked_fill", mask)
    try:
        np.broadcast_shapes(mask.shape, input.shape)
    except ValueError:
        raise ValueError(f"masked_fill: mask of shape {mask.shape} cannot be broadcast with the input of shape "
                         f"{tuple(input.shape)}") from None
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {tuple(value.shape)}")
        value = cast(value, input.dtype) if input.dtype.kind in "fc" else value.data.astype(input.dtype)
    else:
        value = backend.array_module(input.data).asarray(value, dtype=input.dtype)
    return where(Tensor._make(mask), value, input)


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is true, as a 1-D tensor (the two broadcast together)."""
    mask = _bool_mask("masked_select", mask)
    try:
        shape = np.broadcast_shapes(mask.shape, input.shape)
    except ValueError:
        raise ValueError(f"masked_select: mask of shape {mask.shape} cannot be broadcast with the input of shape "
                         f"{tuple(input.shape)}") from None
    if shape == ():
        input, mask, shape = reshape(input, 1), mask.reshape(1), (1,)
    return getitem(broadcast_to(input, shape), backend.array_module(mask).broadcast_to(mask, shape))


def nonzero(input, as_tuple=False):
    """Indices of the non-zero elements: an ``(n, ndim)`` int64 tensor, or a tuple of ``ndim`` 1-D ones.

    Not differentiable. A 0-d input is treated as 1-d by ``as_tuple=True`` and gives ``(n, 0)`` otherwise,
    as in PyTorch.
    """
    data = input.data if isinstance(input, Tensor) else np.asarray(input)
    xp = backend.array_module(data)
    found = xp.nonzero(data.reshape(-1) if data.ndim == 0 else data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in found)
    if data.ndim == 0:
        return Tensor._make(xp.zeros((found[0].size, 0), dtype=np.int64))
    return Tensor._make(xp.stack(found, axis=1).astype(np.int64))


def argwhere(input):
    """``nonzero(input)``: the ``(n, ndim)`` indices of the non-zero elements."""
    return nonzero(input)


# ----- in-place variants (no graph, like the other in-place methods) ---------------------------------------------
def masked_fill_(self, mask, value):
    """In-place ``masked_fill`` (outside the graph); ``mask`` must broadcast to this tensor's shape."""
    mask = _bool_mask("masked_fill_", mask)
    if np.broadcast_shapes(mask.shape, self.shape) != self.shape:
        raise ValueError(f"masked_fill_: mask of shape {mask.shape} does not broadcast to the tensor's shape "
                         f"{tuple(self.shape)}")
    return self._assign("masked_fill_", masked_fill(self.detach(), mask, _detached(value)).data)


def scatter_(self, dim, index, src=None, value=None, reduce=None):
    """In-place ``scatter`` (outside the graph)."""
    return self._assign("scatter_", scatter(self.detach(), dim, index, _detached(src), value, reduce).data)


def scatter_add_(self, dim, index, src):
    """In-place ``scatter_add`` (outside the graph)."""
    return self._assign("scatter_add_", scatter_add(self.detach(), dim, index, src.detach()).data)


def index_add_(self, dim, index, source, alpha=1):
    """In-place ``index_add`` (outside the graph)."""
    return self._assign("index_add_", index_add(self.detach(), dim, index, source.detach(), alpha).data)


def _detached(value):
    return value.detach() if isinstance(value, Tensor) else value
