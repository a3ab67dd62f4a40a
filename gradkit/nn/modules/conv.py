r"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, and YOLOv5's Focus.

Parameter names, shapes and initialisation are PyTorch's, so its state dicts load as they are:

- ``ConvNd``: weight :math:`(C_{out}, C_{in}/g, *k)`, bias :math:`(C_{out})`;
- ``ConvTransposeNd``: weight :math:`(C_{in}, C_{out}/g, *k)`, bias :math:`(C_{out})`;
- weight ``kaiming_uniform_(a=sqrt(5))``, i.e. :math:`\mathcal{U}(-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}})`
  with :math:`\text{fan\_in}` = weight.shape[1] * prod(k), and the bias from the same range.

Output sizes are in :func:`gradkit.nn.functional.conv2d` and :func:`~gradkit.nn.functional.conv_transpose2d`.
"""

import numpy as np

import gradkit.nn.functional as F
from gradkit import backend
from gradkit.nn import init
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.ops.resize import focus_space_to_depth

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Focus"]


def _tuple(head, name, value, dims, minimum):
    items = (value,) * dims if isinstance(value, (int, np.integer)) and not isinstance(value, bool) \
        else tuple(value) if isinstance(value, (tuple, list)) else None
    if items is None or len(items) != dims or not all(isinstance(v, (int, np.integer)) for v in items):
        raise ValueError(f"{head}: {name} must be an int or a tuple of {dims} ints, got {value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{head}: {name} must be at least {minimum}, got {value!r}")
    return tuple(int(v) for v in items)


class _ConvNd(Module):
    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", output_padding=0, device=None, dtype=None):
        super().__init__()
        name, dims = type(self).__name__, self._dims
        head = f"{name}({in_channels}, {out_channels}, kernel_size={kernel_size})"
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{head}: {arg} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{head}: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        self.kernel_size = _tuple(head, "kernel_size", kernel_size, dims, 1)
        self.stride = _tuple(head, "stride", stride, dims, 1)
        self.dilation = _tuple(head, "dilation", dilation, dims, 1)
        if isinstance(padding, str):
            if self._transposed or padding not in ("same", "valid"):
                allowed = "an int or a tuple" if self._transposed else "'same', 'valid', an int or a tuple"
                raise ValueError(f"{head}: padding must be {allowed}, got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{head}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride})")
            self.padding = padding
        else:
            self.padding = _tuple(head, "padding", padding, dims, 0)
        self.output_padding = _tuple(head, "output_padding", output_padding, dims, 0)
        if padding_mode != "zeros":
            if padding_mode in ("reflect", "replicate", "circular"):
                raise NotImplementedError(f"{head}: padding_mode={padding_mode!r} is not implemented; "
                                          "only 'zeros' is (pad the input explicitly first)")
            raise ValueError(f"{head}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.transposed, self.padding_mode = self._transposed, padding_mode
        self._head = head
        dtype = dtype or backend.get_default_dtype()
        channels = (in_channels, out_channels // groups) if self._transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(np.empty(channels + self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def _check_input(self, input):
        dims = self._dims
        if input.ndim not in (dims + 1, dims + 2):
            raise ValueError(f"{self._head}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input, "
                             f"got {tuple(input.shape)}")
        channels = input.shape[-dims - 1]
        if channels != self.in_channels:
            raise ValueError(f"{self._head}: expected input with {self.in_channels} channels, "
                             f"got {tuple(input.shape)}")

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    r"""2-D convolution layer, :math:`(N, C_{in}, H, W) \to (N, C_{out}, H_{out}, W_{out})`, with
    :math:`H_{out} = \lfloor (H + 2p - d(k - 1) - 1) / s \rfloor + 1`.

    ``padding`` may be ``'same'`` or ``'valid'``; ``padding_mode`` other than ``'zeros'`` raises
    NotImplementedError. See :func:`gradkit.nn.functional.conv2d`.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)

    def forward(self, input):
        self._check_input(input)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    r"""1-D convolution layer, :math:`(N, C_{in}, L) \to (N, C_{out}, L_{out})`,
    :math:`L_{out} = \lfloor (L + 2p - d(k - 1) - 1) / s \rfloor + 1`."""
    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)

    def forward(self, input):
        self._check_input(input)
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device=device, dtype=dtype)
        for o, s, d in zip(self.output_padding, self.stride, self.dilation):
            if o >= s and o >= d:
                raise ValueError(f"{self._head}: output_padding {self.output_padding} must be smaller than either "
                                 f"stride {self.stride} or dilation {self.dilation}")

    def _output_padding(self, input, output_size):
        """The output_padding that gives ``output_size`` (PyTorch's rule: within one stride of the minimum)."""
        if output_size is None:
            return self.output_padding
        dims = self._dims
        size = tuple(int(s) for s in output_size)[-dims:]
        padding = []
        for i in range(dims):
            minimum = ((input.shape[-dims + i] - 1) * self.stride[i] - 2 * self.padding[i]
                       + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            if not minimum <= size[i] < minimum + self.stride[i]:
                raise ValueError(f"{self._head}: requested output_size {tuple(output_size)} is not reachable: "
                                 f"each size must be in [{minimum}, {minimum + self.stride[i] - 1}] for dimension {i}")
            padding.append(size[i] - minimum)
        return tuple(padding)


class ConvTranspose2d(_ConvTransposeNd):
    r"""2-D transposed convolution layer, :math:`H_{out} = (H - 1)s - 2p + d(k - 1) + p_{out} + 1`.

    ``forward(input, output_size=None)``: an ``output_size`` chooses ``output_padding`` as PyTorch does.
    """

    def forward(self, input, output_size=None):
        self._check_input(input)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    r"""1-D transposed convolution layer, :math:`L_{out} = (L - 1)s - 2p + d(k - 1) + p_{out} + 1`."""
    _dims = 1

    def forward(self, input, output_size=None):
        self._check_input(input)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)


class Focus(Module):
    r"""YOLOv5's Focus: space-to-depth, then a convolution.

    The input :math:`(N, C, H, W)` (H, W even) becomes :math:`(N, 4C, H/2, W/2)` as
    ``cat([x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]], dim=1)``: channel
    block 0 holds the even rows and even columns, block 1 odd rows/even columns, block 2 even
    rows/odd columns, block 3 odd rows/odd columns (see :func:`gradkit.ops.resize.focus_space_to_depth`).
    Then ``conv = Conv2d(4C, out_channels, kernel_size, stride, padding, groups=groups, bias=bias)``,
    with ``padding=None`` meaning ``kernel_size // 2`` (YOLOv5's autopad).

    Difference from YOLOv5: its Focus wraps the conv in its ``Conv`` block (conv without bias,
    BatchNorm2d, SiLU), with state-dict keys ``conv.conv.*`` and ``conv.bn.*``. This layer is the
    slicing and the conv only (key ``conv.weight``); follow it with ``nn.BatchNorm2d`` and
    ``nn.SiLU`` and pass ``bias=False`` for YOLOv5's block.
    """

    def __init__(self, in_channels, out_channels, kernel_size=1, stride=1, padding=None, groups=1, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if padding is None:
            padding = kernel_size // 2 if isinstance(kernel_size, int) else tuple(k // 2 for k in kernel_size)
        self.in_channels = in_channels
        self.conv = Conv2d(4 * in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=bias,
                           device=device, dtype=dtype)

    def forward(self, input):
        if input.ndim != 4 or input.shape[1] != self.in_channels:
            raise ValueError(f"Focus({self.in_channels}, {self.conv.out_channels}): expected input with "
                             f"{self.in_channels} channels, got {tuple(input.shape)}")
        return self.conv(focus_space_to_depth(input))
