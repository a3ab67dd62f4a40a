"""ONNX arithmetic, unary math, comparisons, selection and matrix products, on gradkit ops.

Floating-point results stay in the graph (differentiable); integer and boolean results are computed on
the arrays directly with ONNX's own rules (integer Div truncates toward zero, as in C), since they carry
no gradient.
"""
import functools

import numpy as np

import gradkit.ops as G
from gradkit.ops.activation import _Erf  # erf is a primitive of the activation family (used by GELU)
from gradkit.onnx.registry import OpTable, constant, values

ops = OpTable("Math")


def _is_float(t):
    return t.dtype.kind == "f"


def _same_dtype(a, b):
    """ONNX's binary ops take both operands in one dtype; a cast keeps NumPy from promoting."""
    return b if b.dtype == a.dtype else G.cast(b, a.dtype)


def _binary(op, integer_op):
    def run(node, a, b):
        if _is_float(a):
            return op(a, _same_dtype(a, b))
        return constant(integer_op(values(a), values(b)).astype(a.dtype))
    return run


ops("Add")(_binary(G.add, np.add))
ops("Sub")(_binary(G.sub, np.subtract))
ops("Mul")(_binary(G.mul, np.multiply))
ops("Div")(_binary(G.div, lambda a, b: np.trunc(a / b) if a.dtype.kind == "i" else a // b))


@ops("Pow")
def pow_(node, base, exponent):
    if _is_float(base):
        return G.pow(base, _same_dtype(base, exponent))
    return constant(np.power(values(base), values(exponent)).astype(base.dtype))


def _unary(op):
    def run(node, x):
        return op(x)
    return run


for _name, _op in {"Reciprocal": G.reciprocal, "Sqrt": G.sqrt, "Exp": G.exp,
                   "Log": G.log, "Floor": G.floor, "Ceil": G.ceil, "Sin": G.sin, "Cos": G.cos,
                   "Tan": G.tan, "Erf": _Erf.apply}.items():
    ops(_name)(_unary(_op))


@ops("Neg", "Abs", "Sign")
def _signed_unary(node, x):
    # Integer inputs (Neg/Abs/Sign node tests use int8..int64) keep their dtype; floats stay differentiable.
    if _is_float(x):
        return {"Neg": G.neg, "Abs": G.abs, "Sign": G.sign}[node.op_type](x)
    return constant({"Neg": np.negative, "Abs": np.abs, "Sign": np.sign}[node.op_type](values(x)))


def _compare(numpy_op):
    def run(node, a, b):
        return constant(numpy_op(values(a), values(b)))
    return run


for _name, _op in {"Equal": np.equal, "Less": np.less, "Greater": np.greater, "LessOrEqual": np.less_equal,
                   "GreaterOrEqual": np.greater_equal, "And": np.logical_and, "Or": np.logical_or,
                   "Xor": np.logical_xor}.items():
    ops(_name)(_compare(_op))


@ops("Not")
def not_(node, x):
    return constant(np.logical_not(values(x)))


@ops("Where")
def where(node, condition, a, b):
    if _is_float(a) or _is_float(b):
        return G.where(values(condition), a, _same_dtype(a, b))
    return constant(np.where(values(condition), values(a), values(b)))


@ops("Max", "Min", "Sum", "Mean")
def variadic(node, *tensors):
    """Element-wise Max/Min/Sum/Mean of any number of broadcastable inputs."""
    if not _is_float(tensors[0]):
        arrays = [values(t) for t in tensors]
        combine = {"Max": np.maximum, "Min": np.minimum, "Sum": np.add, "Mean": np.add}[node.op_type]
        return constant(functools.reduce(combine, arrays).astype(arrays[0].dtype))
    combine = {"Max": G.maximum, "Min": G.minimum, "Sum": G.add, "Mean": G.add}[node.op_type]
    out = functools.reduce(combine, tensors)
    return out / len(tensors) if node.op_type == "Mean" else out


@ops("Clip", static=(1, 2))
def clip(node, x, low=None, high=None, *, min=None, max=None):
    # Opset < 11 gives the bounds as attributes, later opsets as optional inputs.
    low = values(low).item() if low is not None else min
    high = values(high).item() if high is not None else max
    if low is None and high is None:
        return x
    if not _is_float(x):
        return constant(np.clip(values(x), low, high))
    return G.clamp(x, low, high)


@ops("MatMul")
def matmul(node, a, b):
    if not _is_float(a):
        return constant(np.matmul(values(a), values(b)))
    return G.matmul(a, b)


@ops("Gemm")
def gemm(node, a, b, c=None, *, alpha=1.0, beta=1.0, transA=0, transB=0, broadcast=0):
    r""":math:`\alpha A' B' + \beta C`, with :math:`A' = A^\top` when ``transA`` (and likewise B)."""
    a = G.transpose(a, 0, 1) if transA else a
    b = G.transpose(b, 0, 1) if transB else b
    out = G.matmul(a, b)
    if alpha != 1.0:
        out = out * alpha
    if c is not None:
        out = out + (c * beta if beta != 1.0 else c)
    return out

