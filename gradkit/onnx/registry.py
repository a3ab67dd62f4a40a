"""The table of ONNX operators the importer runs, filled by the op families in :mod:`gradkit.onnx.ops`.

Each operator is a plain function ``handler(node, *inputs, **attributes)``: ``node`` is the
:class:`NodeContext` (opset, train/eval mode, the node's name), ``inputs`` are gradkit Tensors (None for
an omitted optional input) and the attributes arrive as keywords under their ONNX names, so that a
handler's signature documents the attributes it supports and their defaults::

    ops = OpTable("Math")

    @ops("Gemm")
    def gemm(node, a, b, c=None, *, alpha=1.0, beta=1.0, transA=0, transB=0):
        ...

An attribute a handler does not know is reported as an unsupported attribute of that node.
"""
import numpy as np

from gradkit import backend
from gradkit.tensor import Tensor

HANDLERS = {}   # op_type -> handler
FAMILIES = {}   # family name -> [op_type, ...] in registration order (the docs table)
# (op_type, input index) read as static values (shapes, axes, scales, running statistics): initializers
# in these places become buffers of the imported module instead of trainable Parameters.
STATIC_INPUTS = set()


class OpTable:
    """A decorator that registers handlers under one family name."""

    def __init__(self, family):
        self.family = family
        FAMILIES.setdefault(family, [])

    def __call__(self, *op_types, static=()):
        def register(handler):
            for op_type in op_types:
                HANDLERS[op_type] = handler
                FAMILIES[self.family].append(op_type)
                STATIC_INPUTS.update((op_type, index) for index in static)
            return handler
        return register


class NodeContext:
    """What a handler may know about the node it runs: its name, op type, opset, outputs and mode."""

    def __init__(self, proto, opset, num_outputs):
        self.name = proto.name or proto.output[0]
        self.op_type = proto.op_type
        self.opset = opset
        self.num_outputs = num_outputs
        self.training = False

    def __repr__(self):
        return f"{self.op_type} node '{self.name}'"


def values(tensor):
    """The NumPy array behind a tensor that an operator reads as static data (a shape, axes, ...)."""
    if tensor is None:
        return None
    return np.asarray(backend.to_device(tensor.data, "cpu"))


def ints(tensor):
    """A static int64 tensor as a tuple of Python ints."""
    return tuple(int(v) for v in values(tensor).reshape(-1))


def static_ints(value):
    """Axes, pads or shapes given either as an attribute (a list) or, in later opsets, as an input tensor
    of the same name: both arrive in the same handler argument."""
    if value is None:
        return None
    return tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else ints(value)


def constant(array):
    """A tensor for a value computed at run time from static data (never requiring grad)."""
    return Tensor._make(np.asarray(array))


def normalize_axis(axis, ndim):
    return axis + ndim if axis < 0 else axis
