"""The primitive table of the exporter: gradkit ops called in a custom ``forward``, written as ONNX nodes.

Rules are keyed by the primitive's Function class name and called as ``rule(tracer, *args, output=...,
**kwargs)`` with the very arguments the op was applied to (so they read shapes, axes and dims from
there); each returns the name of its output value.
"""
import numpy as np

from gradkit.onnx.export_layers import gelu_nodes

OP_RULES = {}


def op(*function_names):
    def register(rule):
        for name in function_names:
            OP_RULES[name] = rule
        return rule
    return register


def _binary(op_type):
    def rule(t, a, b, output):
        like = a if hasattr(a, "dtype") else b
        return t.graph.node(op_type, [t.name_of(a, like), t.name_of(b, like)])
    return rule


for _name, _op_type in {"_Add": "Add", "_Sub": "Sub", "_Mul": "Mul", "_Div": "Div", "_Pow": "Pow",
                        "_Matmul": "MatMul", "_Maximum": "Max", "_Minimum": "Min"}.items():
    OP_RULES[_name] = _binary(_op_type)


def _unary(op_type):
    def rule(t, x, output):
        return t.graph.node(op_type, [t.name_of(x)])
    return rule


for _name, _op_type in {"_Exp": "Exp", "_Log": "Log", "_Sqrt": "Sqrt", "_Tanh": "Tanh", "_Sigmoid": "Sigmoid",
                        "_Relu": "Relu", "_Neg": "Neg", "_Abs": "Abs", "_Reciprocal": "Reciprocal", "_Sin": "Sin",
                        "_Cos": "Cos", "_Erf": "Erf", "_Clone": "Identity", "_Softsign": "Softsign",
                        "_Hardswish": "HardSwish"}.items():
    OP_RULES[_name] = _unary(_op_type)


@op("_Rsqrt")
def rsqrt(t, x, output):
    return t.graph.node("Reciprocal", [t.graph.node("Sqrt", [t.name_of(x)])])


@op("_Square")
def square(t, x, output):
    name = t.name_of(x)
    return t.graph.node("Mul", [name, name])


@op("_Silu")
def silu(t, x, output):
    name = t.name_of(x)
    return t.graph.node("Mul", [name, t.graph.node("Sigmoid", [name])])


@op("_LeakyRelu")
def leaky_relu(t, x, output, slope):
    return t.graph.node("LeakyRelu", [t.name_of(x)], alpha=float(slope))


@op("_Elu")
def elu(t, x, output, alpha=1.0, scale=1.0, input_scale=1.0):
    # gradkit writes celu and selu as elu with an input or output scale.
    if input_scale != 1.0:
        return t.graph.node("Celu", [t.name_of(x)], alpha=float(alpha))
    if scale != 1.0:
        return t.graph.node("Selu", [t.name_of(x)], alpha=float(alpha), gamma=float(scale))
    return t.graph.node("Elu", [t.name_of(x)], alpha=float(alpha))


@op("_Gelu")
def gelu(t, x, output, approximate="none"):
    return gelu_nodes(t, x, approximate)


@op("_Hardtanh")
def hardtanh(t, x, output, low, high):
    g = t.graph
    return g.node("Clip", [t.name_of(x), g.scalar(low, x.dtype), g.scalar(high, x.dtype)])


@op("_Clamp")
def clamp(t, x, low, high, output):
    g = t.graph
    bounds = [g.scalar(v, x.dtype) if v is not None and not hasattr(v, "shape") else
              (t.name_of(v) if v is not None else "") for v in (low, high)]
    return g.node("Clip", [t.name_of(x)] + bounds)


@op("_Softmax")
def softmax(t, x, dim, output):
    return t.graph.node("Softmax", [t.name_of(x)], axis=int(dim))


@op("_LogSoftmax")
def log_softmax(t, x, dim, output):
    return t.graph.node("LogSoftmax", [t.name_of(x)], axis=int(dim))


@op("_Reshape")
def reshape(t, x, shape, output):
    # 0 copies the input's size in that place: the batch axis stays free for dynamic shapes.
    target = [0 if i < x.ndim and s == x.shape[i] and s != 0 else s for i, s in enumerate(shape)]
    return t.graph.node("Reshape", [t.name_of(x), t.graph.ints(target)])


@op("_Permute")
def permute(t, x, dims, output):
    return t.graph.node("Transpose", [t.name_of(x)], perm=[int(d) for d in dims])


@op("_SwapLastTwo")
def swap_last_two(t, x, output):
    perm = list(range(x.ndim))
    perm[-2:] = perm[-1], perm[-2]
    return t.graph.node("Transpose", [t.name_of(x)], perm=perm)


@op("_BroadcastTo")
def broadcast_to(t, x, shape, output):
    return t.graph.node("Expand", [t.name_of(x), t.graph.ints(shape)])


@op("_Cat")
def cat(t, *tensors, dim, skipped, output):
    kept = [x for x, skip in zip(tensors, skipped) if not skip]
    return t.graph.node("Concat", [t.name_of(x) for x in kept], axis=int(dim))


@op("_Linear")
def linear(t, x, weight, bias, output):
    g = t.graph
    inputs = [t.name_of(x), t.name_of(weight)]
    if x.ndim == 2:
        return g.node("Gemm", inputs + ([t.name_of(bias)] if bias is not None else []), transB=1)
    out = g.node("MatMul", [inputs[0], g.node("Transpose", [inputs[1]], perm=[1, 0])])
    return g.node("Add", [out, t.name_of(bias)]) if bias is not None else out


def _reduction(op_type):
    def rule(t, x, axes, keepdim, *rest, output):
        return t.graph.with_axes(op_type, t.name_of(x), list(axes), keepdims=int(keepdim))
    return rule


OP_RULES["_Sum"] = _reduction("ReduceSum")
OP_RULES["_Mean"] = _reduction("ReduceMean")


@op("_Extreme")
def extreme(t, x, axes, keepdim, largest, output):
    return t.graph.with_axes("ReduceMax" if largest else "ReduceMin", t.name_of(x), list(axes),
                             keepdims=int(keepdim))


@op("_Cast")
def cast(t, x, dtype, output):
    from gradkit.onnx import _deps
    to = _deps.require("onnx").helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return t.graph.node("Cast", [t.name_of(x)], to=to)


@op("_Where")
def where(t, condition, a, b, output):
    like = a if hasattr(a, "dtype") else b
    return t.graph.node("Where", [t.name_of(condition), t.name_of(a, like), t.name_of(b, like)])


@op("_GetItem")
def getitem(t, x, index, output):
    """Basic indexing (ints, slices, None, ...) as Slice, then Squeeze for ints and Unsqueeze for None."""
    if index.advanced is not None:
        raise NotImplementedError("gk.onnx.export: indexing with tensors or masks has no ONNX mapping; "
                                  "use index_select or gather")
    g, name = t.graph, t.name_of(x)
    starts, ends, axes, steps, squeezed, inserted = [], [], [], [], [], []
    dim, out_dim = 0, 0
    for item in index.basic:
        if item is None:
            inserted.append(out_dim)
            out_dim += 1
            continue
        if isinstance(item, slice):
            start, stop, step = item.indices(x.shape[dim])
            if (start, stop, step) != (0, x.shape[dim], 1):
                # A backward slice ending before index 0 needs an end below -size, not -1.
                starts.append(start), ends.append(stop if stop >= 0 else -2 ** 62), axes.append(dim)
                steps.append(step)
            out_dim += 1
        else:
            item = item % x.shape[dim]
            starts.append(item), ends.append(item + 1), axes.append(dim), steps.append(1)
            squeezed.append(dim)
        dim += 1
    if starts:
        name = g.node("Slice", [name, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeezed:
        name = g.with_axes("Squeeze", name, squeezed)
    if inserted:
        name = g.with_axes("Unsqueeze", name, inserted)
    return name if (starts or squeezed or inserted) else g.node("Identity", [name])
