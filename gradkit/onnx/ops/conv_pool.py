"""ONNX convolution and pooling on gradkit's conv and pool ops.

ONNX allows what gradkit's layers do not (asymmetric pads, ``auto_pad``, pads wider than half the
kernel, dilated average pooling), so: pads are applied explicitly where they are not the symmetric
case, and pooling outside the fast path reads its windows as strided slices (one per kernel offset)
and combines them with maximum or sum; both stay differentiable.
"""
import itertools
import math

import numpy as np

import gradkit.nn.functional as F
import gradkit.ops as G
from gradkit.onnx.ops.shape import pad_axis
from gradkit.onnx.registry import OpTable, constant

ops = OpTable("Convolution and pooling")


def _window_pads(in_sizes, kernel, strides, dilations, pads, auto_pad):
    """Begin and end pads per spatial axis, with ``auto_pad`` resolved as ONNX defines it."""
    dims = len(kernel)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for size, k, s, d in zip(in_sizes, kernel, strides, dilations):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, large = total // 2, total - total // 2
            begin.append(small if auto_pad == "SAME_UPPER" else large)
            end.append(large if auto_pad == "SAME_UPPER" else small)
        return begin, end
    if auto_pad == "VALID" or pads is None:
        return [0] * dims, [0] * dims
    return list(pads[:dims]), list(pads[dims:])


def _geometry(x, kernel_shape, strides, dilations, pads, auto_pad):
    dims = x.ndim - 2
    strides = list(strides or [1] * dims)
    dilations = list(dilations or [1] * dims)
    begin, end = _window_pads(x.shape[2:], kernel_shape, strides, dilations, pads, auto_pad)
    return strides, dilations, begin, end


def _pad_explicitly(x, begin, end, fill=0.0):
    for axis, (b, e) in enumerate(zip(begin, end)):
        x = pad_axis(x, axis + 2, b, e, "constant", fill)
    return x


@ops("Conv")
def conv(node, x, weight, bias=None, *, auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None,
         pads=None, strides=None):
    dims = x.ndim - 2
    if dims not in (1, 2):
        raise NotImplementedError(f"{node}: only 1-D and 2-D convolution are supported, got input {x.shape}")
    kernel = kernel_shape or weight.shape[2:]
    strides, dilations, begin, end = _geometry(x, kernel, strides, dilations, pads, auto_pad)
    padding = begin
    if begin != end:
        x, padding = _pad_explicitly(x, begin, end), [0] * dims
    convolve = F.conv1d if dims == 1 else F.conv2d
    return convolve(x, weight, bias, tuple(strides), tuple(padding), tuple(dilations), group)


@ops("ConvTranspose")
def conv_transpose(node, x, weight, bias=None, *, auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None,
                   output_padding=None, output_shape=None, pads=None, strides=None):
    dims = x.ndim - 2
    if dims not in (1, 2):
        raise NotImplementedError(f"{node}: only 1-D and 2-D transposed convolution are supported")
    kernel = kernel_shape or weight.shape[2:]
    strides = list(strides or [1] * dims)
    dilations = list(dilations or [1] * dims)
    output_padding = list(output_padding or [0] * dims)
    full = [s * (i - 1) + (k - 1) * d + 1 for i, k, s, d in zip(x.shape[2:], kernel, strides, dilations)]
    if output_shape is not None or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        target = list(output_shape[-dims:]) if output_shape is not None else [i * s for i, s in
                                                                               zip(x.shape[2:], strides)]
        totals = [f + op - t for f, op, t in zip(full, output_padding, target)]
        upper_first = auto_pad != "SAME_UPPER"  # ONNX puts the odd pad at the end for SAME_UPPER
        begin = [(t + 1) // 2 if upper_first else t // 2 for t in totals]
        end = [t - b for t, b in zip(totals, begin)]
    else:
        begin, end = ([0] * dims, [0] * dims) if pads is None or auto_pad == "VALID" else \
            (list(pads[:dims]), list(pads[dims:]))
    # The full transposed convolution, then output_padding (rows no input reaches), then the pads cropped.
    transpose = F.conv_transpose1d if dims == 1 else F.conv_transpose2d
    out = transpose(x, weight, None, tuple(strides), 0, 0, group, tuple(dilations))
    for axis in range(dims):
        out = pad_axis(out, axis + 2, -begin[axis], output_padding[axis] - end[axis])
    if bias is not None:
        out = out + G.reshape(bias, (-1,) + (1,) * dims)
    return out


def _pooled_sizes(in_sizes, kernel, strides, dilations, begin, end, ceil_mode):
    sizes = []
    for size, k, s, d, b, e in zip(in_sizes, kernel, strides, dilations, begin, end):
        span = size + b + e - (k - 1) * d - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= size + b:  # the last window must start inside the input or left pad
            out -= 1
        sizes.append(out)
    return sizes


def _window_slices(kernel, strides, dilations, out_sizes):
    """One key per kernel offset: the strided slice of the padded input that the offset reads."""
    for offset in itertools.product(*(range(k) for k in kernel)):
        yield (slice(None), slice(None)) + tuple(
            slice(o * d, o * d + (n - 1) * s + 1, s) for o, d, s, n in zip(offset, dilations, strides, out_sizes))


def _pool(node, x, kernel, strides, dilations, begin, end, ceil_mode, kind, count_include_pad=0):
    out_sizes = _pooled_sizes(x.shape[2:], kernel, strides, dilations, begin, end, ceil_mode)
    needed = [(n - 1) * s + (k - 1) * d + 1 for n, s, k, d in zip(out_sizes, strides, kernel, dilations)]
    extra = [max(need - (size + b + e), 0) for need, size, b, e in zip(needed, x.shape[2:], begin, end)]
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    fill = lowest if kind == "max" else 0.0
    padded = _pad_explicitly(x, begin, [e + extra_end for e, extra_end in zip(end, extra)], fill)
    windows = [G.getitem(padded, key) for key in _window_slices(kernel, strides, dilations, out_sizes)]
    combine = G.maximum if kind == "max" else G.add
    out = windows[0]
    for window in windows[1:]:
        out = combine(out, window)
    if kind == "max":
        return out
    # The divisor counts the input positions (and the pads, with count_include_pad) each window covers.
    counted = np.ones(x.shape[2:], x.dtype)
    if count_include_pad:
        counted = np.pad(counted, list(zip(begin, end)), constant_values=1)
        counted = np.pad(counted, [(0, e) for e in extra])
    else:
        counted = np.pad(counted, list(zip(begin, [e + extra_end for e, extra_end in zip(end, extra)])))
    counted = counted[None, None]
    divisor = sum(counted[key] for key in _window_slices(kernel, strides, dilations, out_sizes))
    return out / constant(divisor.astype(x.dtype))


def _fast_path(x, kernel, begin, end, ceil_mode):
    return (x.ndim in (3, 4) and x.dtype.kind == "f" and begin == end and not ceil_mode
            and all(p <= k // 2 for p, k in zip(begin, kernel)))


@ops("MaxPool")
def max_pool(node, x, *, kernel_shape, auto_pad="NOTSET", ceil_mode=0, dilations=None, pads=None,
             storage_order=0, strides=None):
    if node.num_outputs > 1:
        raise NotImplementedError(f"{node}: the Indices output of MaxPool is not supported")
    strides, dilations, begin, end = _geometry(x, kernel_shape, strides, dilations, pads, auto_pad)
    if _fast_path(x, kernel_shape, begin, end, ceil_mode):
        pool = F.max_pool1d if x.ndim == 3 else F.max_pool2d
        return pool(x, tuple(kernel_shape), tuple(strides), tuple(begin), tuple(dilations))
    return _pool(node, x, kernel_shape, strides, dilations, begin, end, ceil_mode, "max")


@ops("AveragePool")
def average_pool(node, x, *, kernel_shape, auto_pad="NOTSET", ceil_mode=0, count_include_pad=0, dilations=None,
                 pads=None, strides=None):
    strides, dilations, begin, end = _geometry(x, kernel_shape, strides, dilations, pads, auto_pad)
    if _fast_path(x, kernel_shape, begin, end, ceil_mode) and set(dilations) == {1} \
            and (count_include_pad or not any(begin)):
        pool = F.avg_pool1d if x.ndim == 3 else F.avg_pool2d
        return pool(x, tuple(kernel_shape), tuple(strides), tuple(begin))
    return _pool(node, x, kernel_shape, strides, dilations, begin, end, ceil_mode, "avg", count_include_pad)


@ops("GlobalAveragePool")
def global_average_pool(node, x):
    return G.mean(x, tuple(range(2, x.ndim)), keepdim=True)


@ops("GlobalMaxPool")
def global_max_pool(node, x):
    return G.amax(x, tuple(range(2, x.ndim)), keepdim=True)
