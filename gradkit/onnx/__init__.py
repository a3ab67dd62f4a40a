"""ONNX interchange: ``export`` a gradkit model to an ONNX file, ``load`` an ONNX model as a Module.

The optional packages are imported only when these functions run (``pip install onnx onnxruntime``).
"""
from gradkit.onnx.exporter import export
from gradkit.onnx.importer import OnnxModule, load

__all__ = ["export", "load", "OnnxModule"]
