"""gradkit as an ONNX backend (``onnx.backend.base.Backend``), for ONNX's backend conformance tests.

``prepare(model)`` imports the model with :func:`gradkit.onnx.load` in evaluation mode, and
``rep.run(inputs)`` returns NumPy arrays, as the ONNX test runner expects::

    from gradkit.onnx import backend
    outputs = backend.prepare(model).run([x])
"""
import numpy as np

from gradkit.autograd import no_grad
from gradkit.onnx import _deps
from gradkit.onnx.importer import load
from gradkit.onnx.registry import HANDLERS
from gradkit.tensor import Tensor


class GradkitRep:
    """A prepared model: ``run(inputs)`` with a list (in graph order) or a dict of NumPy arrays."""

    def __init__(self, module):
        self.module = module.eval()

    def run(self, inputs, **kwargs):
        if isinstance(inputs, dict):
            inputs = [inputs[name] for name in self.module.input_names]
        elif isinstance(inputs, np.ndarray):
            inputs = [inputs]
        with no_grad():
            outputs = self.module(*[Tensor(np.asarray(x)) for x in inputs])
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        return tuple(out.numpy() for out in outputs)


def prepare(model, device="CPU", **kwargs):
    return GradkitRep(load(model))


def run_model(model, inputs, device="CPU", **kwargs):
    return prepare(model, device).run(inputs)


def supports_device(device):
    return device == "CPU"


def is_compatible(model, device="CPU", **kwargs):
    return all(node.op_type in HANDLERS for node in model.graph.node)


def backend_class():
    """The same functions as an ``onnx.backend.base.Backend`` subclass (onnx is imported only here)."""
    base = _deps.require("onnx.backend.base").Backend
    return type("GradkitBackend", (base,), {
        "prepare": classmethod(lambda cls, model, device="CPU", **kw: prepare(model, device, **kw)),
        "run_model": classmethod(lambda cls, model, inputs, device="CPU", **kw: run_model(model, inputs, device)),
        "supports_device": classmethod(lambda cls, device: supports_device(device)),
        "is_compatible": classmethod(lambda cls, model, device="CPU", **kw: is_compatible(model, device)),
    })
