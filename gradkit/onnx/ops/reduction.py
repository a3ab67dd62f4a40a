"""ONNX reductions (ReduceMean, ReduceSum, ReduceMax, ...) and ArgMax/ArgMin, on gradkit's reductions."""
import numpy as np

import gradkit.ops as G
from gradkit.onnx.registry import OpTable, constant, normalize_axis, static_ints, values

ops = OpTable("Reductions")

_FLOAT_REDUCTIONS = {"ReduceMean": G.mean, "ReduceSum": G.sum, "ReduceMax": G.amax, "ReduceMin": G.amin,
                     "ReduceProd": G.prod}
_ARRAY_REDUCTIONS = {"ReduceMean": np.mean, "ReduceSum": np.sum, "ReduceMax": np.max, "ReduceMin": np.min,
                     "ReduceProd": np.prod}


@ops(*_FLOAT_REDUCTIONS, static=(1,))
def reduce(node, x, axes=None, *, keepdims=1, noop_with_empty_axes=0):
    # Axes are an attribute until opset 13 (ReduceSum) or 18 (the others), then an optional input.
    axes = static_ints(axes)
    if not axes:
        if noop_with_empty_axes:
            return x
        axes = range(x.ndim)
    axes = tuple(sorted(normalize_axis(a, x.ndim) for a in axes))
    if x.dtype.kind != "f" or 0 in x.shape:
        # Integer data carries no gradient; an empty reduction gives the identity (0, 1, -inf, inf) as ONNX says.
        array = values(x)
        if 0 in x.shape and node.op_type in ("ReduceMax", "ReduceMin"):
            empty = -np.inf if node.op_type == "ReduceMax" else np.inf
            empty = (empty > 0) if x.dtype == bool else empty
            shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape)) if keepdims else \
                tuple(s for i, s in enumerate(x.shape) if i not in axes)
            return constant(np.full(shape, empty, dtype=x.dtype))
        result = _ARRAY_REDUCTIONS[node.op_type](array, axis=axes, keepdims=bool(keepdims))
        return constant(np.asarray(result).astype(x.dtype))
    return _FLOAT_REDUCTIONS[node.op_type](x, axes, keepdim=bool(keepdims))


@ops("ArgMax", "ArgMin")
def arg_extreme(node, x, *, axis=0, keepdims=1, select_last_index=0):
    array = values(x)
    axis = normalize_axis(axis, x.ndim)
    if select_last_index:  # NumPy picks the first of equal extremes; flip to pick the last
        array = np.flip(array, axis)
    pick = np.argmax if node.op_type == "ArgMax" else np.argmin
    index = pick(array, axis=axis, keepdims=bool(keepdims))
    if select_last_index:
        index = x.shape[axis] - 1 - index
    return constant(index.astype(np.int64))
