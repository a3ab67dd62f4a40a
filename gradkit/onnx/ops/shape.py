"""ONNX graph plumbing: constants, shapes, reshaping, joining, slicing, gathering, padding and casts.

Inputs that ONNX defines as shapes, axes or indices are read as static values (and initializers in those
places are buffers); the tensors being reshaped stay differentiable.
"""
import numpy as np

import gradkit.ops as G
from gradkit.onnx.registry import OpTable, constant, ints, normalize_axis, static_ints, values

ops = OpTable("Tensor plumbing")


@ops("Identity")
def identity(node, x):
    return x


@ops("Constant")
def constant_(node, **attrs):
    (kind, value), = attrs.items()
    if kind in ("value_float", "value_int"):
        value = np.array(value, np.float32 if kind == "value_float" else np.int64)
    elif kind in ("value_floats", "value_ints"):
        value = np.array(value, np.float32 if kind == "value_floats" else np.int64)
    elif kind != "value":
        raise NotImplementedError(f"{node}: Constant with '{kind}' is not supported")
    return constant(value)


@ops("Shape")
def shape(node, x, *, start=0, end=None):
    return constant(np.array(x.shape[start:end], np.int64))


@ops("Size")
def size(node, x):
    return constant(np.array(x.numel(), np.int64))


@ops("Cast")
def cast(node, x, *, to, saturate=1):
    from gradkit.onnx import _deps
    dtype = np.dtype(_deps.require("onnx").helper.tensor_dtype_to_np_dtype(to))
    if x.dtype.kind == "f" and dtype.kind == "f":
        return G.cast(x, dtype)
    return constant(values(x).astype(dtype))


@ops("Reshape", static=(1,))
def reshape(node, x, shape, *, allowzero=0):
    target = list(ints(shape))
    if not allowzero:  # 0 copies the input's size in that place
        target = [x.shape[i] if s == 0 else s for i, s in enumerate(target)]
    return G.reshape(x, tuple(target))


@ops("Flatten")
def flatten(node, x, *, axis=1):
    axis = normalize_axis(axis, x.ndim)
    return G.reshape(x, (int(np.prod(x.shape[:axis])), -1))


@ops("Transpose")
def transpose(node, x, *, perm=None):
    return G.permute(x, *(perm if perm is not None else reversed(range(x.ndim))))


@ops("Squeeze", static=(1,))
def squeeze(node, x, axes=None):
    axes = static_ints(axes)  # an attribute before opset 13, an optional input from then on
    if axes is None:
        axes = [i for i, s in enumerate(x.shape) if s == 1]
    keep = [s for i, s in enumerate(x.shape) if i not in {normalize_axis(a, x.ndim) for a in axes}]
    return G.reshape(x, tuple(keep))


@ops("Unsqueeze", static=(1,))
def unsqueeze(node, x, axes):
    axes = static_ints(axes)
    rank = x.ndim + len(axes)
    out_shape, sizes = [], iter(x.shape)
    inserted = {normalize_axis(a, rank) for a in axes}
    for i in range(rank):
        out_shape.append(1 if i in inserted else next(sizes))
    return G.reshape(x, tuple(out_shape))


@ops("Concat")
def concat(node, *tensors, axis):
    tensors = [t for t in tensors if t is not None]
    return G.cat(tensors, dim=normalize_axis(axis, tensors[0].ndim))


@ops("Split", static=(1,))
def split(node, x, split=None, *, axis=0, num_outputs=None):
    axis = normalize_axis(axis, x.ndim)
    sizes = static_ints(split)  # an attribute before opset 13
    if sizes is None:  # equal parts, the last one smaller when the length does not divide (opset 18)
        parts = num_outputs or node.num_outputs
        chunk = -(-x.shape[axis] // parts)
        sizes = [min(chunk, x.shape[axis] - i * chunk) for i in range(parts)]
    return tuple(G.split(x, list(sizes), dim=axis))


@ops("Slice", static=(1, 2, 3, 4))
def slice_(node, x, starts, ends, axes=None, steps=None):
    # Attributes before opset 10, inputs from then on.
    starts, ends, axes = static_ints(starts), static_ints(ends), static_ints(axes)
    axes = range(len(starts)) if axes is None else axes
    steps = ints(steps) if steps is not None else [1] * len(starts)
    key = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        size = x.shape[normalize_axis(axis, x.ndim)]
        # Python slices clamp out-of-range bounds as ONNX does; only the "before the first" end of a
        # backward slice needs spelling out, since -1 would mean the last element.
        end = None if step < 0 and end < -size else max(min(end, 2 ** 62), -2 ** 62)
        key[normalize_axis(axis, x.ndim)] = slice(start, end, step)
    return G.getitem(x, tuple(key))


@ops("Gather", static=(1,))
def gather(node, x, indices, *, axis=0):
    axis = normalize_axis(axis, x.ndim)
    index = values(indices).astype(np.int64)
    index = np.where(index < 0, index + x.shape[axis], index)
    picked = G.index_select(x, axis, constant(index.reshape(-1)))
    return G.reshape(picked, x.shape[:axis] + index.shape + x.shape[axis + 1:])


@ops("Expand", static=(1,))
def expand(node, x, shape):
    return G.broadcast_to(x, np.broadcast_shapes(x.shape, ints(shape)))


@ops("Tile", static=(1,))
def tile(node, x, repeats):
    return G.tile(x, ints(repeats))


@ops("ConstantOfShape", static=(0,))
def constant_of_shape(node, shape, *, value=None):
    value = np.zeros(1, np.float32) if value is None else value
    return constant(np.full(ints(shape), value.reshape(-1)[0], dtype=value.dtype))


@ops("Range", static=(0, 1, 2))
def range_(node, start, limit, delta):
    start, limit, delta = values(start), values(limit), values(delta)
    return constant(np.arange(start, limit, delta, dtype=start.dtype))


@ops("Pad", static=(1, 2, 3))
def pad(node, x, pads, constant_value=None, axes=None, *, mode="constant", value=0.0):
    pads = static_ints(pads)  # an attribute before opset 11
    axes = [normalize_axis(a, x.ndim) for a in ints(axes)] if axes is not None else list(range(x.ndim))
    fill = values(constant_value).item() if constant_value is not None and constant_value.numel() else value
    for i, axis in enumerate(axes):
        x = pad_axis(x, axis, pads[i], pads[i + len(axes)], mode, fill)
    return x


def pad_axis(x, axis, before, after, mode="constant", fill=0.0):
    """Pad (or crop, for negative amounts) one axis; differentiable in ``x`` for every mode."""
    size = x.shape[axis]
    if before < 0 or after < 0:
        key = [slice(None)] * x.ndim
        key[axis] = slice(max(-before, 0), size - max(-after, 0))
        x = G.getitem(x, tuple(key))
        before, after, size = max(before, 0), max(after, 0), x.shape[axis]
    if not before and not after:
        return x
    if mode == "constant":
        blocks = []
        for amount in (before, after):
            block_shape = x.shape[:axis] + (amount,) + x.shape[axis + 1:]
            blocks.append(constant(np.full(block_shape, fill, dtype=x.dtype)))
        return G.cat([blocks[0], x, blocks[1]], dim=axis)
    positions = np.arange(-before, size + after)
    if mode == "edge":
        index = np.clip(positions, 0, size - 1)
    elif mode == "reflect":
        period = 2 * (size - 1)
        index = np.abs(positions) % period if period else np.zeros_like(positions)
        index = np.where(index >= size, period - index, index)
    elif mode == "wrap":
        index = positions % size
    else:
        raise NotImplementedError(f"Pad: mode '{mode}' is not supported")
    return G.index_select(x, axis, constant(index))
