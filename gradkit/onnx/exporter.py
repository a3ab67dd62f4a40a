"""``gk.onnx.export``: trace a model on example inputs and write it as an ONNX model.

How the trace works. The model runs once, in eval mode, with two hooks installed for the duration:

* ``Module.__call__`` is wrapped: a call to a layer with an entry in the layer table
  (:mod:`gradkit.onnx.export_layers`: Linear -> Gemm, Conv2d -> Conv, BatchNorm2d ->
  BatchNormalization, ...) runs as usual, then emits that layer's ONNX nodes from its hyperparameters,
  while everything the layer computes inside is ignored.
* ``Function.apply`` (the entry of every differentiable primitive) is wrapped, and the shortcuts that
  skip it for ops recording no graph are turned off (``grad_state.tracing``): an op called outside a
  tabled layer, as in a custom ``forward``, is emitted from the primitive table
  (:mod:`gradkit.onnx.export_ops`: add -> Add, reshape -> Reshape, getitem -> Slice, ...), reading its
  attributes from the arguments it was called with.

Every traced tensor is mapped to its ONNX value name. A tensor the trace has not seen is a parameter
or buffer of the model (written as an initializer under its ``state_dict`` name) or a constant. An op
with no mapping raises a NotImplementedError naming it. Ops that bypass the primitives (comparisons,
``argmax``) give constants in the trace, so a model must not branch on or compare its inputs' values.
"""
import os
import tempfile

import numpy as np

from gradkit import backend
from gradkit.autograd.function import Function
from gradkit.autograd.grad_mode import no_grad, state as grad_state
from gradkit.nn.module import Module
from gradkit.onnx import _deps
from gradkit.onnx.export_layers import layer_rule
from gradkit.onnx.export_ops import OP_RULES
from gradkit.onnx.graph import GraphBuilder
from gradkit.tensor import Tensor

__all__ = ["export"]


class Tracer:
    """Maps traced tensors to ONNX value names while the model runs."""

    def __init__(self, graph, model):
        self.graph = graph
        self._names = {}
        self._alive = []  # the traced tensors, kept alive so that their ids are never reused
        self._depth = 0   # > 0 inside a tabled layer: its inner ops are not recorded
        self._states = {id(t): name for name, t in list(model.named_parameters()) + list(model.named_buffers())
                        if t is not None}

    def bind(self, tensor, name):
        self._names[id(tensor)] = name
        self._alive.append(tensor)
        return name

    def name_of(self, value, like=None):
        """The ONNX name of a tensor (or Python scalar, given the dtype of ``like``) the graph reads."""
        if isinstance(value, Tensor):
            if id(value) in self._names:
                return self._names[id(value)]
            array = np.asarray(backend.to_device(value.data, "cpu"))
            hint = self._states.get(id(value), "const")
            return self.bind(value, self.graph.initializer(array, hint))
        if backend.is_array(value):
            return self.graph.initializer(np.asarray(backend.to_device(value, "cpu")))
        dtype = like.dtype if like is not None else np.float32
        return self.graph.scalar(value, dtype)

    # ----- the two hooks ------------------------------------------------------------------------------
    def call_module(self, original, module, args, kwargs):
        rule = layer_rule(module) if self._depth == 0 else None
        if rule is None:
            return original(module, *args, **kwargs)
        self._depth += 1
        try:
            output = original(module, *args, **kwargs)
        finally:
            self._depth -= 1
        self.bind(output, rule(self, module, *args, output=output))
        return output

    def apply_function(self, original, function, args, kwargs):
        output = original(function, *args, **kwargs)
        if self._depth:
            return output
        rule = OP_RULES.get(function.__name__)
        if rule is None:
            raise NotImplementedError(f"gk.onnx.export: the op '{function.__name__.lstrip('_')}' has no ONNX "
                                      "mapping; use the layers and ops listed in docs/onnx_operators.md")
        names = rule(self, *args, output=output, **kwargs)
        if isinstance(output, tuple):
            for tensor, name in zip(output, names):
                self.bind(tensor, name)
        else:
            self.bind(output, names)
        return output


class _Hooks:
    """Installs the tracer's wrappers on Module.__call__ and Function.apply, and always removes them."""

    def __init__(self, tracer):
        self.tracer = tracer

    def __enter__(self):
        tracer = self.tracer
        self._call, self._apply = Module.__dict__["__call__"], Function.__dict__["apply"]
        call, apply = self._call, self._apply.__func__

        def traced_call(module, *args, **kwargs):
            return tracer.call_module(call, module, args, kwargs)

        def traced_apply(function, *args, **kwargs):
            return tracer.apply_function(apply, function, args, kwargs)
        Module.__call__ = traced_call
        Function.apply = classmethod(traced_apply)
        self._tracing, grad_state.tracing = grad_state.tracing, True   # every op through apply
        return tracer

    def __exit__(self, *exc):
        Module.__call__ = self._call
        Function.apply = self._apply
        grad_state.tracing = self._tracing


def _value_info(onnx, name, tensor, dynamic):
    dims = [dynamic.get(axis, size) for axis, size in enumerate(tensor.shape)]
    element_type = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(tensor.dtype))
    return onnx.helper.make_tensor_value_info(name, element_type, dims)


def _dynamic_names(dynamic_axes, name):
    """``dynamic_axes[name]`` as {axis: dim_param}; a list of axes gets PyTorch's generated names."""
    axes = (dynamic_axes or {}).get(name, {})
    if isinstance(axes, dict):
        return dict(axes)
    return {axis: f"{name}_dynamic_axes_{k + 1}" for k, axis in enumerate(axes)}


def _write(data, f):
    """Write bytes to a path (through a temporary file renamed into place) or a binary file object."""
    if hasattr(f, "write"):
        f.write(data)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".onnx-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None, opset_version=17):
    """Trace ``model(*args)`` in eval mode and write it to ``f`` (a path or a binary file) as ONNX.

    ``args`` is a tensor or a tuple of tensors (example inputs). ``input_names``/``output_names`` name
    the graph's inputs and outputs (default ``input_0``, ``output_0``, ...). ``dynamic_axes`` maps a name
    to the axes whose size may vary, as a list or as ``{axis: name}`` (e.g. ``{"input": {0: "batch"}}``).
    BatchNorm uses its running statistics and Dropout is the identity, as in ``model.eval()``; the
    model's mode is restored afterwards. The model passes ``onnx.checker.check_model(full_check=True)``.
    Returns the ``onnx.ModelProto``.
    """
    onnx = _deps.require("onnx")
    if opset_version < 13 or opset_version > 21:
        raise ValueError(f"gk.onnx.export: opset_version must be between 13 and 21, got {opset_version}")
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    args = tuple(a if isinstance(a, Tensor) else Tensor(np.asarray(a)) for a in args)
    input_names = list(input_names or [f"input_{i}" for i in range(len(args))])
    graph = GraphBuilder(onnx, opset_version)
    tracer = Tracer(graph, model)
    for name, tensor in zip(input_names, args):
        tracer.bind(tensor, graph.fresh(name))
    was_training = model.training
    model.eval()
    try:
        with no_grad(), _Hooks(tracer):
            outputs = model(*args)
    finally:
        model.train(was_training)
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    output_names = list(output_names or [f"output_{i}" for i in range(len(outputs))])
    for tensor, name in zip(outputs, output_names):
        # Outputs get their own names through Identity: one value may be an input or feed two outputs.
        graph.nodes.append(onnx.helper.make_node("Identity", [tracer.name_of(tensor)], [graph.fresh(name)],
                                                 name=graph.fresh("Identity")))
    opset = onnx.helper.make_opsetid("", opset_version)
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes, type(model).__name__,
            [_value_info(onnx, n, t, _dynamic_names(dynamic_axes, n)) for n, t in zip(input_names, args)],
            [_value_info(onnx, n, t, _dynamic_names(dynamic_axes, n)) for n, t in zip(output_names, outputs)],
            graph.initializers),
        opset_imports=[opset], producer_name="gradkit",
        # The oldest IR version that carries this opset, so that older runtimes read the file too.
        ir_version=onnx.helper.find_min_ir_version_for([opset]))
    onnx.checker.check_model(proto, full_check=True)
    _write(proto.SerializeToString(), f)
    return proto
