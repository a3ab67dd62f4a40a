"""Lazy imports of the optional ONNX packages, so that ``import gradkit`` never needs them."""
import importlib

_HINT = "pip install onnx onnxruntime"


def require(name):
    """Import ``name`` (``"onnx"`` or ``"onnxruntime"``) or raise an ImportError that says how to get it."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(f"gradkit.onnx needs the '{name}' package, which is not installed: {_HINT}") from error
