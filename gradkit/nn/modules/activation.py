"""Activation layers: thin modules over :mod:`gradkit.nn.functional`, with PyTorch's constructor
signatures and reprs. The math of each lives in the docstring of its function.

``inplace=True`` is accepted for compatibility; the result is always a new tensor (see
:mod:`gradkit.ops.activation`).
"""
import numpy as np

import gradkit.nn.functional as F
from gradkit import backend
from gradkit.nn import init
from gradkit.nn.module import Module
from gradkit.nn.modules.linear import Linear
from gradkit.nn.parameter import Parameter

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
           "Softmin", "Softplus", "Softsign", "SiLU", "Mish", "ReLU6", "Hardsigmoid", "Hardswish", "Hardtanh",
           "Threshold", "LogSigmoid", "GLU", "Tanhshrink", "Softshrink", "Hardshrink", "CReLU", "Maxout"]


def _inplace_repr(inplace, leading=""):
    return f"{leading}inplace=True" if inplace else ""


class _Elementwise(Module):
    """An activation without hyperparameters other than ``inplace``."""

    function = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).function(input)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class ReLU(_Elementwise):
    r""":math:`\max(0, x)`. The derivative at :math:`x = 0` is taken to be 0 (PyTorch's choice)."""
    function = staticmethod(F.relu)


class SELU(_Elementwise):
    r""":math:`\lambda \,\mathrm{ELU}_\alpha(x)` with the self-normalising constants of Klambauer et al. (2017)."""
    function = staticmethod(F.selu)


class SiLU(_Elementwise):
    r""":math:`x \sigma(x)` (also called swish)."""
    function = staticmethod(F.silu)


class Mish(_Elementwise):
    r""":math:`x \tanh(\operatorname{softplus}(x))`."""
    function = staticmethod(F.mish)


class Hardsigmoid(_Elementwise):
    r""":math:`\operatorname{clamp}(x / 6 + 1/2, 0, 1)`."""
    function = staticmethod(F.hardsigmoid)

    def extra_repr(self):
        return ""


class Hardswish(_Elementwise):
    r""":math:`x \cdot \operatorname{hardsigmoid}(x)`."""
    function = staticmethod(F.hardswish)

    def extra_repr(self):
        return ""


class _Stateless(Module):
    """An activation with no constructor arguments at all."""

    function = None

    def forward(self, input):
        return type(self).function(input)


class Sigmoid(_Stateless):
    r""":math:`1 / (1 + e^{-x})`."""
    function = staticmethod(F.sigmoid)


class Tanh(_Stateless):
    r""":math:`\tanh x`."""
    function = staticmethod(F.tanh)


class Softsign(_Stateless):
    r""":math:`x / (1 + |x|)`."""
    function = staticmethod(F.softsign)


class LogSigmoid(_Stateless):
    r""":math:`\log \sigma(x) = -\operatorname{softplus}(-x)`."""
    function = staticmethod(F.logsigmoid)


class Tanhshrink(_Stateless):
    r""":math:`x - \tanh x`."""
    function = staticmethod(F.tanhshrink)


class LeakyReLU(Module):
    r""":math:`x` for :math:`x \ge 0`, else :math:`\text{negative\_slope}\cdot x`."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + _inplace_repr(self.inplace, ", ")


class PReLU(Module):
    r"""Leaky ReLU with a learned slope: one shared (``num_parameters=1``) or one per channel (dim 1),
    initialised to ``init``."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        if not isinstance(num_parameters, int) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive integer, got {num_parameters!r}")
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(np.full((num_parameters,), init, dtype=dtype or backend.get_default_dtype()))
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        channels = input.shape[1] if input.ndim >= 2 else 1
        if self.num_parameters != 1 and channels != self.num_parameters:
            raise ValueError(f"PReLU({self.extra_repr()}): expected input with {self.num_parameters} channels "
                             f"(dim 1), got shape {tuple(input.shape)}")
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    r""":math:`x` for :math:`x > 0`, else :math:`\alpha (e^x - 1)`."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace, ", ")


class CELU(ELU):
    r""":math:`\max(0, x) + \min(0, \alpha (e^{x/\alpha} - 1))`."""

    def forward(self, input):
        return F.celu(input, self.alpha)


class GELU(Module):
    r""":math:`x \Phi(x)`, or its tanh approximation with ``approximate='tanh'``."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class _AlongDim(Module):
    """An activation over one dimension (softmax family, GLU)."""

    function = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return type(self).function(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    r""":math:`e^{x_i} / \sum_j e^{x_j}` along ``dim``."""
    function = staticmethod(F.softmax)


class LogSoftmax(_AlongDim):
    r""":math:`x_i - \log \sum_j e^{x_j}` along ``dim``."""
    function = staticmethod(F.log_softmax)


class Softmin(_AlongDim):
    r"""``softmax(-x)`` along ``dim``."""
    function = staticmethod(F.softmin)


class GLU(_AlongDim):
    r"""Gated linear unit :math:`a \odot \sigma(b)`, :math:`a, b` the two halves of the input along ``dim``."""
    function = staticmethod(F.glu)

    def __init__(self, dim=-1):
        super().__init__(dim)


class CReLU(_AlongDim):
    r"""Concatenated ReLU :math:`[\max(0, x), \max(0, -x)]` along ``dim`` (not in PyTorch): doubles that size."""
    function = staticmethod(F.crelu)

    def __init__(self, dim=1):
        super().__init__(dim)


class Softplus(Module):
    r""":math:`\frac{1}{\beta}\log(1 + e^{\beta x})`, and :math:`x` where :math:`\beta x > \text{threshold}`."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    r""":math:`\operatorname{clamp}(x, \text{min\_val}, \text{max\_val})`."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if not max_val > min_val:
            raise ValueError(f"{type(self).__name__}: max_val must be greater than min_val, "
                             f"got min_val={min_val}, max_val={max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace_repr(self.inplace, ", ")


class ReLU6(Hardtanh):
    r""":math:`\min(\max(0, x), 6)`."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Threshold(Module):
    r""":math:`x` where :math:`x > \text{threshold}`, else ``value``."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + _inplace_repr(self.inplace, ", ")


class Softshrink(Module):
    r""":math:`x - \lambda` above :math:`\lambda`, :math:`x + \lambda` below :math:`-\lambda`, else 0."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    r""":math:`x` where :math:`|x| > \lambda`, else 0."""

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Maxout(Module):
    r"""Maxout layer (Goodfellow et al., 2013; not in PyTorch): a Linear layer to
    :math:`\text{out\_features}\cdot k` features, then the maximum over each group of :math:`k` = ``pieces``
    consecutive ones: :math:`y_c = \max_{0 \le p < k} (x W^\top + b)_{ck + p}`.

    Shapes: input :math:`(*, \text{in\_features})`, output :math:`(*, \text{out\_features})`. The affine
    part is the child ``linear`` (state-dict keys ``linear.weight``, ``linear.bias``), with Linear's
    default initialisation.
    """

    def __init__(self, in_features, out_features, pieces, bias=True):
        super().__init__()
        if not isinstance(pieces, int) or pieces < 1:
            raise ValueError(f"Maxout: pieces must be a positive integer, got {pieces!r}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.linear = Linear(in_features, out_features * pieces, bias=bias)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ValueError(f"Maxout({self.extra_repr()}): expected input with last dimension {self.in_features}, "
                             f"got shape {tuple(input.shape)}")
        return F.maxout(self.linear(input), self.pieces, dim=-1)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"
