r"""Pooling: max (with PyTorch's argmax indices), average and adaptive, 1-D and 2-D, and max-unpooling.

Every pooling window is separable (a range of rows times a range of columns), so one pair of
kernels in :mod:`gradkit.kernels.pool` serves strided, padded, dilated, ceil-mode and adaptive
pooling; this file only computes the windows. Tiled windows (stride = kernel, no padding or
dilation: ``MaxPool2d(2)``, global average pooling) take NumPy paths instead
(:mod:`gradkit.kernels.pool_tiles`), which spare a plain CNN the memory of numba's runtime. Backward
passes are primitives too, paired with
their adjoints, so gradients of any order are exact:

- max pooling's backward scatters the gradient to the argmax of each window (PyTorch's tie rule:
  the first maximum in row-major window order; a NaN always wins), and that scatter's backward
  gathers at the same indices;
- average pooling's backward spreads each gradient evenly over its window (and back).

Output size (per spatial dimension, PyTorch's formula):
:math:`L_{out} = \lfloor (L + 2p - d (k - 1) - 1 + (s - 1)[\text{ceil}]) / s \rfloor + 1`, minus one
when ceil mode would start the last window in the right padding.
"""
import functools

import numpy as np

from gradkit.autograd.function import Function
from gradkit.autograd.grad_mode import records_graph
from gradkit.ops.arguments import remembered
from gradkit.ops.shape import reshape
from gradkit.tensor import Tensor

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d"]
TENSOR_METHODS = ()


def _kernels():
    from gradkit.kernels import pool  # numba compiles on first use: keep `import gradkit` fast
    return pool


def _tiles():
    from gradkit.kernels import pool_tiles
    return pool_tiles


def _max_windows_of(planes, windows):
    """Window maxima and indices of ``planes``: tiled windows in NumPy (no numba runtime, see
    :mod:`gradkit.kernels.pool_tiles`), any other window, or a NaN maximum, in the loop kernel.
    Also says whether the windows are disjoint, so that the backward scatter needs no additions."""
    tiles = _tiles()
    kh, kw = tiles.tile(*windows[:3]), tiles.tile(*windows[3:])
    if kh and kw:
        found = tiles.max_tiles(planes, len(windows[0]), len(windows[3]), kh, kw,
                                tiles.index_dtype(planes.shape[1] * planes.shape[2]))
        if found is not None:
            return (*found, True)
    return (*_kernels().max_windows(planes, *windows), False)


def _max_values(x, windows):
    """Max pooling that no gradient will pass through (inference, evaluation): the maxima alone,
    without the argmax passes (the CNN bench's two pools at batch 1: 0.59 -> 0.36 ms; its inference
    1.86 -> 1.37 ms). A tensor without a graph."""
    planes = _planes(x.data)
    tiles = _tiles()
    kh, kw = tiles.tile(*windows[:3]), tiles.tile(*windows[3:])
    if kh and kw:
        out = tiles.max_tile_values(planes, len(windows[0]), len(windows[3]), kh, kw)
    else:
        out = _kernels().max_windows(planes, *windows)[0]
    return Tensor._make(out.reshape(x.shape[:2] + out.shape[1:]))


def _planes(x):
    """``(N, C, H, W)`` as contiguous ``(N C, H, W)``."""
    return np.ascontiguousarray(x).reshape((-1,) + x.shape[-2:])


# ----- primitives ------------------------------------------------------------------------------------------
class _MaxPool(Function):
    """Window maxima, and their flat indices (int64, as in PyTorch) if ``return_indices``;
    ``windows`` = (h_first, h_stop, h_step, w_first, w_stop, w_step)."""

    @staticmethod
    def forward(ctx, x, windows, return_indices=False):
        # The indices kept for backward use the smallest integer type that holds a flat index in one
        # plane (int16 up to 181x181): they live until backward, and as int64 they were as large as
        # half of the pooled input. Only indices handed to the caller are widened to int64.
        out, indices, ctx.disjoint = _max_windows_of(_planes(x), windows)
        shape = x.shape[:2] + out.shape[1:]
        ctx.input_shape, ctx.indices = x.shape, indices.reshape(shape)
        if return_indices:
            return out.reshape(shape), ctx.indices.astype(np.int64)
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        return _ScatterAdd.apply(grad, indices=ctx.indices, input_shape=ctx.input_shape, disjoint=ctx.disjoint)


class _ScatterAdd(Function):
    """``out[n, c].flat[indices[n, c, ...]] += grad[n, c, ...]``: max pooling's backward. ``disjoint``:
    no index repeats within a plane (disjoint windows), so a NumPy put does it without the loop kernel."""

    @staticmethod
    def forward(ctx, grad, indices, input_shape, disjoint=False):
        ctx.indices, ctx.disjoint = indices, disjoint
        lead = indices.shape[0] * indices.shape[1]
        scatter = _tiles().scatter_unique if disjoint else _kernels().scatter_add
        plane_size = input_shape[-2] * input_shape[-1]
        planes = scatter(_planes(grad).reshape(lead, -1), indices.reshape(lead, -1), plane_size)
        return planes.reshape(input_shape)

    @staticmethod
    def backward(ctx, grad_grad):
        return _Gather.apply(grad_grad, indices=ctx.indices, disjoint=ctx.disjoint)


class _Gather(Function):
    """``out[n, c, ...] = x[n, c].flat[indices[n, c, ...]]``: the adjoint of the scatters."""

    @staticmethod
    def forward(ctx, x, indices, disjoint=False):
        ctx.input_shape, ctx.indices, ctx.disjoint = x.shape, indices, disjoint
        lead = indices.shape[0] * indices.shape[1]
        out = _tiles().gather(_planes(x).reshape(lead, -1), indices.reshape(lead, -1))
        return out.reshape(indices.shape)

    @staticmethod
    def backward(ctx, grad):
        return _ScatterAdd.apply(grad, indices=ctx.indices, input_shape=ctx.input_shape, disjoint=ctx.disjoint)


class _Unpool(Function):
    """``out[n, c].flat[indices[n, c, ...]] = x[n, c, ...]`` into zeros (max_unpool)."""

    @staticmethod
    def forward(ctx, x, indices, output_shape, op):
        ctx.indices = indices
        lead = indices.shape[0] * indices.shape[1]
        plane_size = output_shape[-2] * output_shape[-1]
        out, bad = _kernels().scatter(_planes(x).reshape(lead, -1), indices.reshape(lead, -1), plane_size)
        if bad != -1:
            raise ValueError(f"{op}: index {bad} is out of range for an output plane of {plane_size} elements "
                             f"(output size {tuple(output_shape[-2:])})")
        return out.reshape(output_shape)

    @staticmethod
    def backward(ctx, grad):
        return _Gather.apply(grad, indices=ctx.indices)


class _AvgPool(Function):
    """Window means; ``windows`` = (h_first, h_stop, h_div, w_first, w_stop, w_div, divisor_override)."""

    @staticmethod
    def forward(ctx, x, windows):
        ctx.input_shape, ctx.windows = x.shape, windows
        tiled = _average_tiles(windows)
        if tiled is not None:   # tiled windows in NumPy: see gradkit.kernels.pool_tiles
            out = _tiles().average_tiles(_planes(x), len(windows[0]), len(windows[3]), *tiled)
        else:
            out = _kernels().average_windows(_planes(x), *windows)
        return out.reshape(x.shape[:2] + out.shape[1:])

    @staticmethod
    def backward(ctx, grad):
        return _AvgPoolTranspose.apply(grad, windows=ctx.windows, input_shape=ctx.input_shape)


class _AvgPoolTranspose(Function):
    @staticmethod
    def forward(ctx, grad, windows, input_shape):
        ctx.windows = windows
        tiled = _average_tiles(windows)
        if tiled is not None:
            out = _tiles().average_tiles_transpose(_planes(grad), input_shape[-2], input_shape[-1], *tiled)
        else:
            out = _kernels().average_windows_transpose(_planes(grad), *windows, input_shape[-2], input_shape[-1])
        return out.reshape(input_shape)

    @staticmethod
    def backward(ctx, grad_grad):
        return _AvgPool.apply(grad_grad, windows=ctx.windows)


def _average_tiles(windows):
    """``(kh, kw, divisor)`` when the average windows are tiles with one divisor, else None."""
    h_first, h_stop, h_div, w_first, w_stop, w_div, divisor_override = windows
    tiles = _tiles()
    kh, kw = tiles.tile(h_first, h_stop), tiles.tile(w_first, w_stop)
    if not (kh and kw):
        return None
    if divisor_override > 0:
        return kh, kw, divisor_override
    if np.all(h_div == kh) and np.all(w_div == kw):
        return kh, kw, kh * kw
    return None


# ----- windows -------------------------------------------------------------------------------------------
def _tuple_arg(op, name, value, size, minimum):
    items = (value,) * size if isinstance(value, (int, np.integer)) else tuple(value) \
        if isinstance(value, (tuple, list)) else None
    if items is not None and len(items) == 1 and size > 1:
        items = items * size
    if items is None or len(items) != size or not all(isinstance(v, (int, np.integer)) for v in items):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {size} ints, got {value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return tuple(int(v) for v in items)


def pooled_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's ``pooling_output_shape``."""
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1   # the last window would start inside the right padding
    return out


def _per_geometry(windows_of):
    """Compute a window function once per geometry (its arguments are ints): its few small NumPy
    calls cost as much as pooling a small input (the CNN bench's first pool at batch 1: 47 us of
    window functions and 21 of tile tests per call, against 69 us for the whole pooling now).
    The arrays are shared by every call, so they are made read-only."""
    @functools.lru_cache(maxsize=512)
    def cached(*args):
        result = windows_of(*args)
        for part in result:
            if isinstance(part, np.ndarray):
                part.flags.writeable = False
        return result
    return functools.wraps(windows_of)(cached)


@_per_geometry
def _max_windows(size, out, kernel, stride, padding, dilation):
    starts = np.arange(out, dtype=np.int64) * stride - padding
    stops = np.minimum(starts + (kernel - 1) * dilation + 1, size)
    # The first row of each window inside the image (PyTorch: `while (start < 0) start += dilation`).
    first = np.where(starts < 0, starts + (-starts + dilation - 1) // dilation * dilation, starts)
    return first, stops, dilation


@_per_geometry
def _avg_windows(size, out, kernel, stride, padding, count_include_pad):
    starts = np.arange(out, dtype=np.int64) * stride - padding
    stops = np.minimum(starts + kernel, size + padding)
    padded_extent = stops - starts
    first, stops = np.maximum(starts, 0), np.minimum(stops, size)
    return first, stops, padded_extent if count_include_pad else np.maximum(stops - first, 0)


@_per_geometry
def _adaptive_windows(size, out):
    """PyTorch's adaptive windows: ``[floor(i L / L_out), ceil((i + 1) L / L_out))``."""
    i = np.arange(out, dtype=np.int64)
    first = i * size // out
    stops = ((i + 1) * size + out - 1) // out
    return first, stops


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _batched(op, input, dims):
    """``input`` as a 4-D tensor ``(N, C, H, W)`` (1-D pooling gets H = 1), and how to undo that."""
    input = _as_tensor(input)
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input, "
                         f"got shape {tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {input.dtype}")
    shape = tuple(input.shape)
    batched = shape if input.ndim == dims + 2 else (1,) + shape
    if any(s == 0 for s in batched[2:]):
        raise ValueError(f"{op}: input of shape {shape} has an empty spatial dimension")
    four_d = batched[:2] + (1,) * (2 - dims) + batched[2:]
    x = reshape(input, four_d) if four_d != shape else input

    def restore(t):
        target = (t.shape[:2] if input.ndim == dims + 2 else t.shape[1:2]) + t.shape[4 - dims:]
        return reshape(t, target) if tuple(t.shape) != target else t
    return x, restore


@remembered
def _pool_geometry(op, dims, input_shape, kernel_size, stride, padding, dilation, ceil_mode):
    """Kernel, stride, padding, dilation, output and input sizes as 2-D tuples, checked; remembered per
    call signature (20-30 us a call, as much as pooling one small image)."""
    kernel = _tuple_arg(op, "kernel_size", kernel_size, dims, 1)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else _tuple_arg(op, "stride", stride, dims, 1)
    padding = _tuple_arg(op, "padding", padding, dims, 0)
    dilation = _tuple_arg(op, "dilation", dilation, dims, 1)
    spatial = input_shape[-dims:]
    out = []
    for size, k, s, p, d in zip(spatial, kernel, stride, padding, dilation):
        if p > k // 2:
            raise ValueError(f"{op}: padding {padding} must be at most half of kernel_size {kernel}")
        o = pooled_size(size, k, s, p, d, ceil_mode)
        if o < 1:
            raise ValueError(f"{op}: kernel_size {kernel} (dilation {dilation}) is larger than the padded input "
                             f"{tuple(spatial)} with padding {padding}; the output would be empty")
        out.append(o)
    # 1-D pooling runs as 2-D over a unit height.
    pad1 = lambda values, fill: (fill,) * (2 - dims) + tuple(values)  # noqa: E731
    return pad1(kernel, 1), pad1(stride, 1), pad1(padding, 0), pad1(dilation, 1), pad1(out, 1), pad1(spatial, 1)


# ----- public functions --------------------------------------------------------------------------------------
def _max_poolnd(op, dims, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, restore = _batched(op, input, dims)
    kernel, stride, padding, dilation, out, spatial = _pool_geometry(op, dims, x.shape, kernel_size, stride, padding,
                                                                    dilation, ceil_mode)
    windows = (*_max_windows(spatial[0], out[0], kernel[0], stride[0], padding[0], dilation[0]),
               *_max_windows(spatial[1], out[1], kernel[1], stride[1], padding[1], dilation[1]))
    if not return_indices:
        return restore(_MaxPool.apply(x, windows=windows) if records_graph(x) else _max_values(x, windows))
    values, indices = _MaxPool.apply(x, windows=windows, return_indices=True)
    return restore(values), restore(indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r"""2-D max pooling over :math:`(N, C, H, W)` (or unbatched :math:`(C, H, W)`).

    .. math:: y_{n,c,i,j} = \max_{u, v} x_{n, c,\, s_H i + d_H u - p_H,\, s_W j + d_W v - p_W}

    ``stride`` defaults to ``kernel_size``; padding (at most half the kernel) is :math:`-\infty`.
    ``return_indices=True`` also returns, per output, the flat index ``iy * W + ix`` of the maximum
    within its input plane (PyTorch's convention, the input of :func:`max_unpool2d`).
    """
    return _max_poolnd("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r"""1-D max pooling over :math:`(N, C, L)`; indices are positions in :math:`[0, L)`."""
    return _max_poolnd("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_poolnd(op, dims, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, restore = _batched(op, input, dims)
    kernel, stride, padding, _, out, spatial = _pool_geometry(op, dims, x.shape, kernel_size, stride, padding, 1,
                                                             ceil_mode)
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer)) or divisor_override < 1):
        raise ValueError(f"{op}: divisor_override must be a positive int or None, got {divisor_override!r}")
    windows = (*_avg_windows(spatial[0], out[0], kernel[0], stride[0], padding[0], count_include_pad),
               *_avg_windows(spatial[1], out[1], kernel[1], stride[1], padding[1], count_include_pad),
               int(divisor_override or 0))
    return restore(_AvgPool.apply(x, windows=windows))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    r"""2-D average pooling: each output is its window's sum divided by the window size.

    The divisor is ``divisor_override`` if given, else the window's size clipped to the padded input
    (``count_include_pad=True``) or to the input itself (``False``). Output size as for max pooling.
    """
    return _avg_poolnd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    r"""1-D average pooling over :math:`(N, C, L)`; see :func:`avg_pool2d`."""
    return _avg_poolnd("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def _adaptive_size(op, output_size, spatial, dims):
    sizes = (output_size,) * dims if isinstance(output_size, (int, np.integer)) or output_size is None \
        else tuple(output_size)
    if len(sizes) != dims:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {dims}, got {output_size!r}")
    sizes = tuple(s if s is not None else spatial[i] for i, s in enumerate(sizes))   # None keeps the input size
    if any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return tuple(int(s) for s in sizes)


def _adaptive_windows_2d(op, x, output_size, dims):
    spatial = tuple(x.shape[4 - dims:])
    out = _adaptive_size(op, output_size, spatial, dims)
    out, spatial = (1,) * (2 - dims) + out, tuple(x.shape[2:])
    return _adaptive_windows(spatial[0], out[0]), _adaptive_windows(spatial[1], out[1])


def _adaptive_avg_poolnd(op, dims, input, output_size):
    x, restore = _batched(op, input, dims)
    (h_first, h_stop), (w_first, w_stop) = _adaptive_windows_2d(op, x, output_size, dims)
    windows = (h_first, h_stop, h_stop - h_first, w_first, w_stop, w_stop - w_first, 0)
    return restore(_AvgPool.apply(x, windows=windows))


def adaptive_avg_pool2d(input, output_size):
    r"""Average pooling to a fixed output size :math:`(H_{out}, W_{out})` (an entry None keeps the input's).

    Output :math:`i` averages input rows :math:`[\lfloor iH/H_{out} \rfloor, \lceil (i+1)H/H_{out} \rceil)`,
    likewise columns.
    """
    return _adaptive_avg_poolnd("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool1d(input, output_size):
    r"""Average pooling of :math:`(N, C, L)` to length ``output_size``; windows as in :func:`adaptive_avg_pool2d`."""
    return _adaptive_avg_poolnd("adaptive_avg_pool1d", 1, input, output_size)


def _adaptive_max_poolnd(op, dims, input, output_size, return_indices):
    x, restore = _batched(op, input, dims)
    (h_first, h_stop), (w_first, w_stop) = _adaptive_windows_2d(op, x, output_size, dims)
    windows = (h_first, h_stop, 1, w_first, w_stop, 1)
    if not return_indices:
        return restore(_MaxPool.apply(x, windows=windows) if records_graph(x) else _max_values(x, windows))
    values, indices = _MaxPool.apply(x, windows=windows, return_indices=True)
    return restore(values), restore(indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    r"""Max pooling to a fixed output size, windows as in :func:`adaptive_avg_pool2d`; indices as in
    :func:`max_pool2d`."""
    return _adaptive_max_poolnd("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    r"""1-D adaptive max pooling of :math:`(N, C, L)`."""
    return _adaptive_max_poolnd("adaptive_max_pool1d", 1, input, output_size, return_indices)


def _max_unpoolnd(op, dims, input, indices, kernel_size, stride, padding, output_size):
    x, restore = _batched(op, input, dims)
    indices = _as_tensor(indices)
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"{op}: indices of shape {tuple(indices.shape)} must match the input's {tuple(input.shape)}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got {indices.dtype}")
    kernel = _tuple_arg(op, "kernel_size", kernel_size, dims, 1)
    stride = kernel if stride is None else _tuple_arg(op, "stride", stride, dims, 1)
    padding = _tuple_arg(op, "padding", padding, dims, 0)
    spatial = tuple(x.shape[4 - dims:])
    default = tuple((size - 1) * s - 2 * p + k for size, s, p, k in zip(spatial, stride, padding, kernel))
    if output_size is None:
        out = default
    else:
        out = tuple(int(s) for s in output_size)[-dims:]
        if len(tuple(output_size)) not in (dims, dims + 1, dims + 2):
            raise ValueError(f"{op}: output_size must have {dims} (or {dims + 2}) entries, got {output_size!r}")
        for o, d, s in zip(out, default, stride):
            if not d - s < o < d + s:
                raise ValueError(f"{op}: output_size {tuple(output_size)} must be within a stride of the default "
                                 f"size {default}")
    out4 = tuple(x.shape[:2]) + (1,) * (2 - dims) + out
    index4 = reshape(indices, tuple(x.shape)).data.astype(np.int64, copy=False)
    return restore(_Unpool.apply(x, indices=index4, output_shape=out4, op=op))


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    r"""The partial inverse of :func:`max_pool2d`: each value goes to the flat position ``indices`` names
    in its output plane, zeros elsewhere. Output size
    :math:`H_{out} = (H - 1) s_H - 2 p_H + k_H` unless ``output_size`` is given."""
    return _max_unpoolnd("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    r"""The partial inverse of :func:`max_pool1d`; :math:`L_{out} = (L - 1) s - 2p + k`."""
    return _max_unpoolnd("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)
