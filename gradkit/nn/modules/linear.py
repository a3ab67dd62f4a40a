"""Affine layers: Identity, Linear and Bilinear."""
import math

import numpy as np

import gradkit.nn.functional as F
from gradkit import backend
from gradkit.nn import init
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter

__all__ = ["Identity", "Linear", "Bilinear"]


def _new_parameter(*shape, dtype=None):
    return Parameter(np.empty(shape, dtype=dtype or backend.get_default_dtype()))


def _check_positive(layer, **sizes):
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{layer}: {name} must be a non-negative integer, got {value!r}")


class Identity(Module):
    """Returns its input unchanged; accepts and ignores any constructor arguments (a placeholder layer)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    r"""Affine map over the last dimension, :math:`y = x W^\top + b`.

    Shapes: input :math:`(*, \text{in\_features})`, output :math:`(*, \text{out\_features})`; weight
    :math:`(\text{out}, \text{in})`, bias :math:`(\text{out})`.

    Initialisation (PyTorch's): ``kaiming_uniform_(weight, a=sqrt(5))``, i.e. :math:`W \sim \mathcal{U}(-k, k)`,
    and :math:`b \sim \mathcal{U}(-k, k)`, with :math:`k = 1/\sqrt{\text{in\_features}}`.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _check_positive("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = _new_parameter(out_features, in_features, dtype=dtype)
        if bias:
            self.bias = _new_parameter(out_features, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ValueError(f"{self._get_name()}({self.extra_repr()}): expected input with last dimension "
                             f"{self.in_features}, got shape {tuple(input.shape)}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    r"""Bilinear map :math:`y_o = x_1^\top A_o x_2 + b_o`.

    Shapes: inputs :math:`(*, \text{in1})` and :math:`(*, \text{in2})`, output :math:`(*, \text{out})`; weight
    :math:`(\text{out}, \text{in1}, \text{in2})`. Initialisation (PyTorch's): weight and bias
    :math:`\sim \mathcal{U}(-k, k)`, :math:`k = 1/\sqrt{\text{in1\_features}}`.
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _check_positive("Bilinear", in1_features=in1_features, in2_features=in2_features, out_features=out_features)
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = _new_parameter(out_features, in1_features, in2_features, dtype=dtype)
        if bias:
            self.bias = _new_parameter(out_features, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        expected = (self.in1_features, self.in2_features)
        if input1.ndim == 0 or input2.ndim == 0 or (input1.shape[-1], input2.shape[-1]) != expected \
                or input1.shape[:-1] != input2.shape[:-1]:
            raise ValueError(f"{self._get_name()}({self.extra_repr()}): expected inputs (*, {expected[0]}) and "
                             f"(*, {expected[1]}) with the same leading dimensions, got shapes "
                             f"{tuple(input1.shape)} and {tuple(input2.shape)}")
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
