"""GraphBuilder: the nodes and initializers of the ONNX graph an export writes, with unique names."""
import numpy as np


class GraphBuilder:
    """Collects ONNX nodes and initializers; ``node()`` returns the names of the values it creates."""

    def __init__(self, onnx, opset):
        self.onnx, self.opset = onnx, opset
        self.nodes, self.initializers = [], []
        self._taken = set()

    def fresh(self, hint):
        name, k = hint, 0
        while name in self._taken:
            k += 1
            name = f"{hint}_{k}"
        self._taken.add(name)
        return name

    def node(self, op_type, inputs, outputs=1, **attrs):
        """Add ``op_type`` reading ``inputs`` (names, "" for an omitted optional input); returns the output
        name, or the list of ``outputs`` names when more than one."""
        names = [self.fresh(f"{op_type.lower()}_out") for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), names,
                                                     name=self.fresh(op_type), **attrs))
        return names[0] if outputs == 1 else names

    def initializer(self, array, hint="const"):
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values, hint="ints"):
        return self.initializer(np.asarray(values, dtype=np.int64).reshape(-1), hint)

    def scalar(self, value, dtype):
        return self.initializer(np.asarray(value, dtype=dtype), "scalar")

    def with_axes(self, op_type, x, axes, **attrs):
        """Squeeze, Unsqueeze and the reductions: axes as an attribute in early opsets, as an input later
        (opset 13 for Squeeze, Unsqueeze and ReduceSum, 18 for the other reductions)."""
        since = 13 if op_type in ("Squeeze", "Unsqueeze", "ReduceSum") else 18
        if self.opset >= since:
            return self.node(op_type, [x, self.ints(axes, "axes")], **attrs)
        return self.node(op_type, [x], axes=list(axes), **attrs)
