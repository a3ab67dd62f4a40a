r"""Resizing: interpolate (nearest, nearest-exact, linear, bilinear, bicubic, area), pixel (un)shuffle.

Interpolation is separable: each output row reads a few input rows with fixed weights, each output
column a few columns (:mod:`gradkit.kernels.resize`). This file computes those taps with PyTorch's
exact formulas, in float32 like PyTorch's CPU kernels, so indices and weights agree bit for bit:

- scale :math:`r = (L_{in} - 1) / (L_{out} - 1)` with ``align_corners=True``, else :math:`1/\text{scale\_factor}`
  when a scale factor was given (and not recomputed), else :math:`L_{in} / L_{out}`;
- nearest: :math:`\text{src}(i) = \min(\lfloor i r \rfloor, L_{in} - 1)`;
  nearest-exact: :math:`\lfloor (i + 0.5) r \rfloor`;
- linear: :math:`\text{src}(i) = i r` (align_corners) or :math:`\max(0, (i + 0.5) r - 0.5)`, taps
  :math:`\lfloor \text{src} \rfloor` and the next one (clamped), weights :math:`1 - \lambda, \lambda`;
- bicubic: four taps around :math:`\lfloor \text{src} \rfloor` (clamped to the edge), Keys' kernel with
  :math:`A = -0.75`, the source index not clamped at 0.

The backward of resampling is its transpose (scatter along the same taps), and vice versa.
"""
import math

import numpy as np

from gradkit.autograd.function import Function
from gradkit.ops.pool import adaptive_avg_pool1d, adaptive_avg_pool2d
from gradkit.ops.shape import reshape
from gradkit.tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle"]
TENSOR_METHODS = ()


def _kernels():
    from gradkit.kernels import resize  # numba compiles on first use: keep `import gradkit` fast
    return resize


# ----- primitives ------------------------------------------------------------------------------------------
class _Resample(Function):
    """``taps`` = (h_index, h_weight, w_index, w_weight), weights in the input's dtype."""

    @staticmethod
    def forward(ctx, x, taps):
        ctx.input_shape, ctx.taps = x.shape, taps
        planes = np.ascontiguousarray(x).reshape((-1,) + x.shape[2:])
        out = _kernels().resample(planes, *taps)
        return out.reshape(x.shape[:2] + out.shape[1:])

    @staticmethod
    def backward(ctx, grad):
        return _ResampleTranspose.apply(grad, taps=ctx.taps, input_shape=ctx.input_shape)


class _ResampleTranspose(Function):
    @staticmethod
    def forward(ctx, grad, taps, input_shape):
        ctx.taps = taps
        planes = np.ascontiguousarray(grad).reshape((-1,) + grad.shape[2:])
        out = _kernels().resample_transpose(planes, *taps, input_shape[-2], input_shape[-1])
        return out.reshape(input_shape)

    @staticmethod
    def backward(ctx, grad_grad):
        return _Resample.apply(grad_grad, taps=ctx.taps)


class _Rearrange(Function):
    """A pure permutation of elements: reshape to ``split``, transpose by ``order``, reshape to ``merged``."""

    @staticmethod
    def forward(ctx, x, split, order, merged):
        ctx.input_shape, ctx.split, ctx.order = x.shape, split, order
        return np.ascontiguousarray(x.reshape(split).transpose(order)).reshape(merged)

    @staticmethod
    def backward(ctx, grad):
        inverse = tuple(int(i) for i in np.argsort(ctx.order))
        transposed = tuple(ctx.split[i] for i in ctx.order)
        return _Rearrange.apply(grad, split=transposed, order=inverse, merged=ctx.input_shape)


# ----- taps ---------------------------------------------------------------------------------------------------
_F = np.float32


def _scale(in_size, out_size, align_corners, scale_factor):
    """PyTorch's ``area_pixel_compute_scale`` in float32."""
    if align_corners:
        return _F(in_size - 1) / _F(out_size - 1) if out_size > 1 else _F(0)
    if scale_factor is not None and scale_factor > 0:
        return _F(1.0 / scale_factor)
    return _F(in_size) / _F(out_size)


def _nearest_taps(in_size, out_size, scale_factor, exact):
    scale = _scale(in_size, out_size, False, scale_factor)
    i = np.arange(out_size, dtype=_F)
    src = np.floor((i + _F(0.5)) * scale) if exact else np.floor(i * scale)
    index = np.minimum(src.astype(np.int64), in_size - 1)
    return index[:, None], np.ones((out_size, 1), _F)


def _source_index(in_size, out_size, align_corners, scale_factor, cubic):
    scale = _scale(in_size, out_size, align_corners, scale_factor)
    i = np.arange(out_size, dtype=_F)
    if align_corners:
        return scale * i
    src = scale * (i + _F(0.5)) - _F(0.5)
    return src if cubic else np.maximum(src, _F(0))


def _linear_taps(in_size, out_size, align_corners, scale_factor):
    src = _source_index(in_size, out_size, align_corners, scale_factor, cubic=False)
    first = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    lam = np.clip(src - first.astype(_F), _F(0), _F(1))
    second = first + (first < in_size - 1)
    return np.stack([first, second], 1), np.stack([_F(1) - lam, lam], 1)


def _cubic_taps(in_size, out_size, align_corners, scale_factor):
    src = _source_index(in_size, out_size, align_corners, scale_factor, cubic=True)
    first = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    t = np.clip(src - first.astype(_F), _F(0), _F(1))
    a = _F(-0.75)

    def near(x):   # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):    # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    t2 = _F(1) - t
    weights = np.stack([far(t + _F(1)), near(t), near(t2), far(t2 + _F(1))], 1).astype(_F)
    index = np.clip(first[:, None] + np.arange(-1, 3), 0, in_size - 1)
    return index, weights


def _taps(mode, in_size, out_size, align_corners, scale_factor):
    if mode in ("nearest", "nearest-exact"):
        return _nearest_taps(in_size, out_size, scale_factor, exact=mode == "nearest-exact")
    if mode in ("linear", "bilinear"):
        return _linear_taps(in_size, out_size, align_corners, scale_factor)
    return _cubic_taps(in_size, out_size, align_corners, scale_factor)


# ----- interpolate --------------------------------------------------------------------------------------------
_MODE_DIMS = {"nearest": (1, 2), "nearest-exact": (1, 2), "area": (1, 2), "linear": (1,), "bilinear": (2,),
              "bicubic": (2,)}


def _output_size(input_shape, dims, size, scale_factor, recompute_scale_factor):
    spatial = input_shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size or scale_factor must be given")
    if size is not None:
        sizes = (size,) * dims if isinstance(size, (int, np.integer)) else tuple(size)
        if len(sizes) != dims or any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ValueError(f"interpolate: size must be a positive int or a tuple of {dims}, got {size!r}")
        return tuple(int(s) for s in sizes), (None,) * dims
    scales = (scale_factor,) * dims if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    if len(scales) != dims or any(s <= 0 for s in scales):
        raise ValueError(f"interpolate: scale_factor must be positive, one or {dims} of them, got {scale_factor!r}")
    sizes = tuple(int(math.floor(float(n) * float(s))) for n, s in zip(spatial, scales))
    if any(s < 1 for s in sizes):
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} gives an empty output {sizes} for input "
                         f"{tuple(spatial)}")
    return sizes, (None,) * dims if recompute_scale_factor else tuple(float(s) for s in scales)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    r"""Resize :math:`(N, C, L)` or :math:`(N, C, H, W)` to ``size`` or by ``scale_factor``.

    Output size :math:`\lfloor L \cdot \text{scale\_factor} \rfloor` when a scale is given. Modes:
    ``'nearest'``, ``'nearest-exact'``, ``'linear'`` (3-D), ``'bilinear'`` and ``'bicubic'`` (4-D),
    ``'area'`` (adaptive average pooling). Source indices and weights are PyTorch's (see the module
    docstring); ``align_corners`` is only for the linear and cubic modes (default False).
    ``antialias`` is not supported.
    """
    input = input if isinstance(input, Tensor) else Tensor(input)
    if mode not in _MODE_DIMS:
        raise ValueError(f"interpolate: mode must be one of {', '.join(_MODE_DIMS)}, got {mode!r}")
    dims = input.ndim - 2
    if dims not in _MODE_DIMS[mode]:
        raise ValueError(f"interpolate: mode {mode!r} needs a {'/'.join(str(d + 2) for d in _MODE_DIMS[mode])}-D "
                         f"input (N, C, ...), got shape {tuple(input.shape)}")
    if align_corners is not None and mode not in ("linear", "bilinear", "bicubic"):
        raise ValueError("interpolate: align_corners can only be set with the interpolating modes linear, "
                         f"bilinear and bicubic, not {mode!r}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if input.dtype.kind != "f":
        raise TypeError(f"interpolate: expected a floating-point input, got {input.dtype}")
    sizes, scales = _output_size(tuple(input.shape), dims, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        return adaptive_avg_pool1d(input, sizes) if dims == 1 else adaptive_avg_pool2d(input, sizes)
    align = bool(align_corners)
    # 1-D runs as 2-D over a unit height, read with one tap of weight 1.
    taps = [np.zeros((1, 1), np.int64), np.ones((1, 1), input.dtype)] if dims == 1 else []
    for in_size, out_size, scale in zip(input.shape[2:], sizes, scales):
        index, weight = _taps(mode, in_size, out_size, align, scale)
        taps += [index, weight.astype(input.dtype)]
    n, c = input.shape[:2]
    x = reshape(input, (n, c, 1, input.shape[2])) if dims == 1 else input
    out = _Resample.apply(x, taps=tuple(taps))
    return reshape(out, (n, c, sizes[0])) if dims == 1 else out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate`, kept as PyTorch keeps it."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Bilinear upsampling with ``align_corners=True`` (this old PyTorch function's behaviour)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ----- pixel shuffle ------------------------------------------------------------------------------------------
def _check_4d(op, input):
    input = input if isinstance(input, Tensor) else Tensor(input)
    if input.ndim < 3:
        raise ValueError(f"{op}: expected an input of at least 3 dimensions (..., C, H, W), got {tuple(input.shape)}")
    return input


def pixel_shuffle(input, upscale_factor):
    r"""Rearrange :math:`(*, C r^2, H, W)` into :math:`(*, C, H r, W r)`:
    :math:`y_{c, h r + i, w r + j} = x_{c r^2 + i r + j, h, w}` (the sub-pixel convolution layout)."""
    input = _check_4d("pixel_shuffle", input)
    r = int(upscale_factor)
    *lead, c, h, w = input.shape
    if r < 1 or c % (r * r):
        raise ValueError(f"pixel_shuffle: channels {c} must be divisible by upscale_factor**2 = {r * r}")
    lead = tuple(lead)
    k = len(lead)
    order = tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2)
    return _Rearrange.apply(input, split=lead + (c // (r * r), r, r, h, w), order=order,
                            merged=lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    r"""The inverse of :func:`pixel_shuffle`: :math:`(*, C, H r, W r)` into :math:`(*, C r^2, H, W)`."""
    input = _check_4d("pixel_unshuffle", input)
    r = int(downscale_factor)
    *lead, c, h, w = input.shape
    if r < 1 or h % r or w % r:
        raise ValueError(f"pixel_unshuffle: height {h} and width {w} must be divisible by downscale_factor {r}")
    lead = tuple(lead)
    k = len(lead)
    order = tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3)
    return _Rearrange.apply(input, split=lead + (c, h // r, r, w // r, r), order=order,
                            merged=lead + (c * r * r, h // r, w // r))


def focus_space_to_depth(input):
    r"""YOLOv5's Focus slicing: :math:`(N, C, H, W) \to (N, 4C, H/2, W/2)`, the same as
    ``cat([x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]], dim=1)``.

    Output channel :math:`(2 d_c + d_r) C + c` holds input pixel :math:`(2h + d_r, 2w + d_c)` of channel
    :math:`c` (row offset varies fastest, then column offset, then channel). H and W must be even.
    """
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input.ndim != 4:
        raise ValueError(f"Focus: expected a 4-D input (N, C, H, W), got shape {tuple(input.shape)}")
    n, c, h, w = input.shape
    if h % 2 or w % 2:
        raise ValueError(f"Focus: height and width must be even, got input of shape {tuple(input.shape)}")
    # (n, c, h', d_r, w', d_c) -> (n, d_c, d_r, c, h', w')
    return _Rearrange.apply(input, split=(n, c, h // 2, 2, w // 2, 2), order=(0, 5, 3, 1, 2, 4),
                            merged=(n, 4 * c, h // 2, w // 2))
