"""Receptive field of each layer of a sequential convolutional stack.

For a layer with kernel :math:`k`, dilation :math:`d`, stride :math:`s` and padding :math:`p`, with
effective kernel :math:`k' = d(k - 1) + 1`, the standard recurrences from the input side are

.. math::
    r_{out} = r_{in} + (k' - 1)\\, j_{in}, \\qquad j_{out} = j_{in}\\, s, \\qquad
    \\text{start}_{out} = \\text{start}_{in} + \\left(\\tfrac{k' - 1}{2} - p\\right) j_{in}

where :math:`r` is the receptive-field size in input pixels, :math:`j` the jump (distance in input
pixels between adjacent output positions, the effective stride) and start the centre of the first
output position's field in input coordinates. Element-wise layers (activations, normalisation,
dropout) leave all three unchanged; global pooling or flattening makes the field the whole input.
"""
from collections import namedtuple

__all__ = ["receptive_field", "LayerField"]

LayerField = namedtuple("LayerField", ["name", "type", "size", "jump", "start"])

_ELEMENTWISE = ("ReLU", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "Sigmoid", "Tanh", "SiLU", "Mish",
                "ReLU6", "Hardsigmoid", "Hardswish", "Hardtanh", "Softplus", "Softsign", "Identity", "Dropout",
                "Dropout2d", "AlphaDropout", "BatchNorm1d", "BatchNorm2d", "GroupNorm", "InstanceNorm1d",
                "InstanceNorm2d", "LocalResponseNorm", "Threshold", "LogSigmoid")


def _pair(value, axis):
    if isinstance(value, (tuple, list)):
        return int(value[axis])
    return int(value)


def _leaves(module, prefix=""):
    children = list(module.named_children())
    if not children:
        yield prefix, module
    for name, child in children:
        yield from _leaves(child, f"{prefix}.{name}" if prefix else name)


def receptive_field(model, input_shape=None, axis=0):
    """Per leaf layer of a sequential ``model``: (name, type, size, jump, start) along spatial ``axis``
    (0 = height, 1 = width). ``input_shape`` (C, H, W) or (N, C, H, W), if given, bounds the field
    of global layers. Layers that are not sequential stacks (residual blocks) are not supported."""
    size, jump, start = 1, 1, 0.5
    extent = None
    if input_shape is not None:
        extent = int(input_shape[-2 + axis] if len(input_shape) >= 2 else input_shape[-1])
    fields = []
    for name, layer in _leaves(model):
        kind = type(layer).__name__
        if kind in ("Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d"):
            k = _pair(layer.kernel_size, axis)
            s = _pair(layer.stride if layer.stride is not None else layer.kernel_size, axis)
            p = layer.padding
            if isinstance(p, str):
                d = _pair(getattr(layer, "dilation", 1), axis)
                p = (d * (k - 1)) // 2 if p == "same" else 0
            p = _pair(p, axis)
            d = _pair(getattr(layer, "dilation", 1), axis)
            k_eff = d * (k - 1) + 1
            start += ((k_eff - 1) / 2 - p) * jump
            size += (k_eff - 1) * jump
            jump *= s
        elif kind in ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Flatten", "Linear"):
            if extent is None:
                raise ValueError(f"receptive_field: layer {name} ({kind}) sees the whole input; pass input_shape")
            size, start = extent, extent / 2
        elif kind not in _ELEMENTWISE:
            raise ValueError(f"receptive_field: layer {name} ({kind}) is not supported (only sequential stacks of "
                             "convolutions, pooling and element-wise layers)")
        fields.append(LayerField(name, kind, size, jump, start))
    return fields
