r"""Pooling layers: max, average and adaptive pooling (1-D and 2-D) and max-unpooling.

Each layer stores its arguments as given (like PyTorch: ``stride=None`` becomes ``kernel_size``),
checks them at construction, and calls the function of the same name in
:mod:`gradkit.nn.functional`, whose docstrings have the output-size formulas.
"""
import numpy as np

import gradkit.nn.functional as F
from gradkit.nn.module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "MaxUnpool1d", "MaxUnpool2d"]


def _ints(layer, name, value, dims, minimum):
    items = (value,) * dims if isinstance(value, (int, np.integer)) and not isinstance(value, bool) \
        else tuple(value) if isinstance(value, (tuple, list)) else None
    if items is None or len(items) != dims or not all(isinstance(v, (int, np.integer)) for v in items) \
            or any(v < minimum for v in items):
        raise ValueError(f"{layer}: {name} must be an int or a tuple of {dims} ints, each at least {minimum}, "
                         f"got {value!r}")
    return tuple(items)


def _check_window(layer, dims, kernel_size, stride, padding, dilation=1):
    kernel = _ints(layer, "kernel_size", kernel_size, dims, 1)
    if stride is not None:
        _ints(layer, "stride", stride, dims, 1)
    pads = _ints(layer, "padding", padding, dims, 0)
    _ints(layer, "dilation", dilation, dims, 1)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{layer}: padding {padding!r} must be at most half of kernel_size {kernel_size!r}")


def _check_input(module, input, dims):
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{module._get_name()}({module.extra_repr()}): expected a {dims + 1}-D (unbatched) or "
                         f"{dims + 2}-D (batched) input, got {tuple(input.shape)}")


class _MaxPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        _check_window(type(self).__name__, self._dims, kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling; see :func:`gradkit.nn.functional.max_pool2d`."""

    def forward(self, input):
        _check_input(self, input, 2)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling; see :func:`gradkit.nn.functional.max_pool1d`."""
    _dims = 1

    def forward(self, input):
        _check_input(self, input, 1)
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool2d(Module):
    """2-D average pooling; see :func:`gradkit.nn.functional.avg_pool2d`."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        _check_window("AvgPool2d", 2, kernel_size, stride, padding)
        if divisor_override is not None and (not isinstance(divisor_override, int) or divisor_override < 1):
            raise ValueError(f"AvgPool2d: divisor_override must be a positive int or None, got {divisor_override!r}")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        _check_input(self, input, 2)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """1-D average pooling; see :func:`gradkit.nn.functional.avg_pool1d`."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        _check_window("AvgPool1d", 1, kernel_size, stride, padding)
        self.kernel_size = _ints("AvgPool1d", "kernel_size", kernel_size, 1, 1)
        self.stride = _ints("AvgPool1d", "stride", stride if stride is not None else kernel_size, 1, 1)
        self.padding = _ints("AvgPool1d", "padding", padding, 1, 0)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        _check_input(self, input, 1)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveNd(Module):
    _dims = 2

    def __init__(self, output_size):
        super().__init__()
        sizes = (output_size,) * self._dims if not isinstance(output_size, (tuple, list)) else tuple(output_size)
        if len(sizes) != self._dims or any(s is not None and (not isinstance(s, (int, np.integer)) or s < 1)
                                           for s in sizes):
            raise ValueError(f"{type(self).__name__}: output_size must be a positive int (or None) or a tuple of "
                             f"{self._dims}, got {output_size!r}")
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveNd):
    """Average pooling to a fixed output size; see :func:`gradkit.nn.functional.adaptive_avg_pool2d`."""

    def forward(self, input):
        _check_input(self, input, 2)
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveNd):
    """Average pooling to a fixed output length; see :func:`gradkit.nn.functional.adaptive_avg_pool1d`."""
    _dims = 1

    def forward(self, input):
        _check_input(self, input, 1)
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool2d(_AdaptiveNd):
    """Max pooling to a fixed output size; see :func:`gradkit.nn.functional.adaptive_max_pool2d`."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        _check_input(self, input, 2)
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveNd):
    """Max pooling to a fixed output length; see :func:`gradkit.nn.functional.adaptive_max_pool1d`."""
    _dims = 1

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        _check_input(self, input, 1)
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name, dims = type(self).__name__, self._dims
        self.kernel_size = _ints(name, "kernel_size", kernel_size, dims, 1)
        self.stride = _ints(name, "stride", stride if stride is not None else kernel_size, dims, 1)
        self.padding = _ints(name, "padding", padding, dims, 0)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d; ``forward(input, indices, output_size=None)``."""

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d; ``forward(input, indices, output_size=None)``."""
    _dims = 1

    def forward(self, input, indices, output_size=None):
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)
