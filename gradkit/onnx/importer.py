"""``gk.onnx.load``: an ONNX model as a gradkit :class:`~gradkit.nn.Module` that runs its graph.

The module runs the graph's nodes in their stored (topological) order with gradkit ops, so it is
differentiable end to end: floating-point initializers become trainable Parameters, and the rest
(BatchNormalization running statistics, shapes, axes, scales, integer tensors) become buffers.
``train()``/``eval()`` switch BatchNormalization (batch statistics, running averages updated) and
Dropout exactly as the native layers do. Initializer names keep their ONNX spelling with every
character that is not a letter, digit or underscore replaced by ``_`` (``conv1.weight`` ->
``conv1_weight``); ``onnx_names`` maps them back.
"""
import os
import re

import numpy as np

from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.onnx import _deps, ops  # noqa: F401  (importing ops fills the registry)
from gradkit.onnx.registry import HANDLERS, STATIC_INPUTS, NodeContext
from gradkit.tensor import Tensor

__all__ = ["load", "OnnxModule"]


def load(model):
    """Build an :class:`OnnxModule` from a path (``str`` or ``os.PathLike``) or an ``onnx.ModelProto``.

    Every operator the graph uses is checked first; those without a gradkit implementation are
    reported together, by name and node, in one NotImplementedError.
    """
    onnx = _deps.require("onnx")
    source = "<ModelProto>"
    if not isinstance(model, onnx.ModelProto):
        source = os.fspath(model)
        try:
            model = onnx.load(source)
        except FileNotFoundError:
            raise FileNotFoundError(f"gk.onnx.load: no such file: '{source}'") from None
        except Exception as error:
            raise ValueError(f"gk.onnx.load: '{source}' is not a readable ONNX model ({error})") from None
        if not model.graph.node and not model.graph.output:
            raise ValueError(f"gk.onnx.load: '{source}' is not an ONNX model (it holds no graph)")
    return OnnxModule(model, source)


def _default_opset(model):
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return entry.version
    return 1


def _attribute_values(onnx, node):
    """The node's attributes as Python values (tensors as NumPy arrays, strings as str)."""
    attrs = {}
    for attribute in node.attribute:
        value = onnx.helper.get_attribute_value(attribute)
        if attribute.type == onnx.AttributeProto.TENSOR:
            value = onnx.numpy_helper.to_array(value)
        elif isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode() for v in value]
        attrs[attribute.name] = value
    return attrs


class OnnxModule(Module):
    """Runs an ONNX graph with gradkit ops; ``model(*inputs)`` returns one tensor or a tuple."""

    def __init__(self, model, source="<ModelProto>"):
        super().__init__()
        onnx = _deps.require("onnx")
        graph = model.graph
        self.source = source
        self.opset = _default_opset(model)
        unsupported = [f"{node.op_type} (node '{node.name or node.output[0]}')" for node in graph.node
                       if node.op_type not in HANDLERS or node.domain not in ("", "ai.onnx")]
        if unsupported:
            raise NotImplementedError(f"gk.onnx.load: {source} uses operators gradkit does not implement: "
                                      + ", ".join(unsupported))
        static = {name for node in graph.node for i, name in enumerate(node.input)
                  if (node.op_type, i) in STATIC_INPUTS}
        self.onnx_names = {}
        self._initializer_attrs = {}
        for proto in graph.initializer:
            self._add_initializer(proto.name, onnx.numpy_helper.to_array(proto), proto.name in static)
        self.input_names = [i.name for i in graph.input if i.name not in self._initializer_attrs]
        self.output_names = [o.name for o in graph.output]
        self._nodes = []
        for proto in graph.node:
            context = NodeContext(proto, self.opset, len(proto.output))
            self._nodes.append((context, list(proto.input), list(proto.output), _attribute_values(onnx, proto)))

    def _add_initializer(self, onnx_name, array, static):
        name = re.sub(r"\W", "_", onnx_name) or "_"
        if name[0].isdigit() or hasattr(Module, name) or name in self.__dict__:
            name = "_" + name
        while name in self._parameters or name in self._buffers:
            name += "_"
        array = np.array(array)  # writable, owned
        if array.dtype.kind == "f" and not static:
            self.register_parameter(name, Parameter(array))
        else:
            self.register_buffer(name, Tensor(array))
        self.onnx_names[name] = onnx_name
        self._initializer_attrs[onnx_name] = name

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise TypeError(f"OnnxModule({self.source}): expected {len(self.input_names)} inputs "
                            f"({', '.join(self.input_names)}), got {len(inputs)}")
        env = {"": None}
        for name, value in zip(self.input_names, inputs):
            env[name] = value if isinstance(value, Tensor) else Tensor(np.asarray(value))
        for onnx_name, attr in self._initializer_attrs.items():
            env[onnx_name] = getattr(self, attr)
        for context, input_names, output_names, attrs in self._nodes:
            context.training = self.training
            args = [env[name] for name in input_names]
            try:
                result = HANDLERS[context.op_type](context, *args, **attrs)
            except TypeError as error:
                if "unexpected keyword argument" in str(error):
                    raise NotImplementedError(f"{context}: unsupported attribute ({error})") from None
                raise
            results = result if isinstance(result, (tuple, list)) else (result,)
            for name, value in zip(output_names, results):
                if name:
                    env[name] = value
        outputs = tuple(env[name] for name in self.output_names)
        return outputs[0] if len(outputs) == 1 else outputs

    def parameter_groups(self):
        """The trainable parameters grouped by the node that first uses them, in graph order: the
        "layers" of an imported model, for freezing all but the last ones when fine-tuning."""
        groups, seen = [], set()
        for context, input_names, _, _ in self._nodes:
            params = [self._parameters[self._initializer_attrs[name]] for name in input_names
                      if name in self._initializer_attrs and self._initializer_attrs[name] in self._parameters
                      and name not in seen]
            seen.update(input_names)
            if params:
                groups.append((str(context), params))
        return groups

    def extra_repr(self):
        return f"'{self.source}', opset {self.opset}, {len(self._nodes)} nodes"

