r"""Normalisation layers that keep no running statistics: GroupNorm, LayerNorm, LocalResponseNorm.

Parameter names, shapes and initialisation (weight ones, bias zeros; ``bias=False`` drops the bias)
are PyTorch's, so its state
dicts load as they are. The formulas are in :mod:`gradkit.nn.functional` (``group_norm``,
``layer_norm``, ``local_response_norm``).
"""
import numbers

import numpy as np

import gradkit.nn.functional as F
from gradkit import backend
from gradkit.nn import init
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter

__all__ = ["GroupNorm", "LayerNorm", "LocalResponseNorm"]


def _positive_int(head, name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{head}: {name} must be a positive int, got {value!r}")


def _positive_eps(head, eps):
    if not isinstance(eps, numbers.Real) or eps <= 0:
        raise ValueError(f"{head}: eps must be a positive number, got {eps!r}")


def register_affine(module, enabled, bias, shape, dtype):
    """Register a normalisation layer's scale ``weight`` and shift ``bias`` of ``shape`` (None when
    disabled), in PyTorch's order; :func:`reset_affine` sets them to ones and zeros."""
    if enabled:
        module.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            module.bias = Parameter(np.empty(shape, dtype=dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def reset_affine(module):
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class GroupNorm(Module):
    r"""Group normalisation (Wu & He, 2018): the :math:`C` channels of an input :math:`(N, C, *)` are
    split into ``num_groups`` groups, each normalised per sample over its channels and positions, then
    scaled and shifted per channel:

    .. math::
        y = \frac{x - \mathrm{E}_g[x]}{\sqrt{\mathrm{Var}_g[x] + \epsilon}} \gamma_c + \beta_c

    >>> nn.GroupNorm(4, 16)
    GroupNorm(4, 16, eps=1e-05, affine=True, bias=True)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        head = f"GroupNorm({num_groups!r}, {num_channels!r})"
        _positive_int(head, "num_groups", num_groups)
        _positive_int(head, "num_channels", num_channels)
        if num_channels % num_groups:
            raise ValueError(f"{head}: num_channels must be divisible by num_groups")
        _positive_eps(head, eps)
        self.num_groups, self.num_channels, self.eps, self.affine = int(num_groups), int(num_channels), eps, affine
        dtype = dtype or backend.get_default_dtype()
        register_affine(self, affine, bias, num_channels, dtype)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        reset_affine(self)

    def forward(self, input):
        if input.ndim < 2:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected an input of at least "
                             f"2 dimensions (N, C, *), got shape {tuple(input.shape)}")
        if input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected input with "
                             f"{self.num_channels} channels, got {tuple(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LayerNorm(Module):
    r"""Layer normalisation (Ba et al., 2016) over the trailing dimensions ``normalized_shape``, with an
    element-wise affine map of that shape:

    .. math::
        y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \odot \gamma + \beta

    >>> nn.LayerNorm(10)
    LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
        head = f"LayerNorm({normalized_shape!r})"
        if not shape or not all(isinstance(s, numbers.Integral) and s >= 1 for s in shape):
            raise ValueError(f"{head}: normalized_shape must be a positive int or a non-empty tuple of them")
        _positive_eps(head, eps)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = dtype or backend.get_default_dtype()
        register_affine(self, elementwise_affine, bias, self.normalized_shape, dtype)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        reset_affine(self)

    def forward(self, input):
        trailing = len(self.normalized_shape)
        if input.ndim < trailing or tuple(input.shape[input.ndim - trailing:]) != self.normalized_shape:
            raise ValueError(f"LayerNorm({self.normalized_shape}): expected input with trailing dimensions "
                             f"{self.normalized_shape}, got {tuple(input.shape)}")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    r"""Local response normalisation across channels (Krizhevsky et al., 2012), input :math:`(N, C, *)`:

    .. math::
        b_c = a_c \Big(k + \frac{\alpha}{n} \sum_{c' = c - \lfloor n/2 \rfloor}^{c + \lfloor (n-1)/2 \rfloor}
        a_{c'}^2\Big)^{-\beta}

    >>> nn.LocalResponseNorm(2)
    LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        _positive_int(f"LocalResponseNorm({size!r})", "size", size)
        self.size, self.alpha, self.beta, self.k = int(size), alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
