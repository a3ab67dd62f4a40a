"""The ONNX operators the importer runs, one file per family; importing this package registers them."""
from gradkit.onnx.ops import activation, conv_pool, math, normalization, reduction, resize, shape  # noqa: F401  (registration)
