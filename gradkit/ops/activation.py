"""Activation functions, in the names of ``torch.nn.functional``, plus CReLU and Maxout.

Element-wise activations are fused primitives: the forward runs on raw arrays in the input's
dtype, and the derivative is written with Tensor ops of the saved input, so that second derivatives
are exact. Where a function has a kink, the derivative at the kink is PyTorch's choice, stated in
each docstring. ``relu``, ``sigmoid`` and ``tanh`` live in :mod:`gradkit.ops.elementwise`.

``inplace=True`` is accepted for compatibility with PyTorch code, but the result is always a new
tensor: in-place activation would destroy the input that backward needs.
"""
import math

import numpy as np

from gradkit import backend
from gradkit.autograd.function import Function
from gradkit.ops.elementwise import abs, add, clamp, exp, mul, neg, relu, sigmoid, sub, tanh
from gradkit.ops.shape import broadcast_to, reshape, sum_to
from gradkit.tensor import Tensor

__all__ = ["softmax", "log_softmax", "softmin", "leaky_relu", "elu", "selu", "celu", "gelu", "softplus", "softsign",
           "silu", "mish", "relu6", "hardsigmoid", "hardswish", "hardtanh", "threshold", "prelu", "logsigmoid", "glu",
           "tanhshrink", "softshrink", "hardshrink", "crelu", "maxout"]
TENSOR_METHODS = ("softmax", "log_softmax")

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _constant(array):
    """A mask or factor that backward treats as a constant (its own derivative is zero)."""
    return Tensor._make(array)


def _normalize_dim(op, dim, shape):
    ndim = max(len(shape), 1)  # a 0-d tensor has one addressable dimension, as in PyTorch
    if not -ndim <= dim < ndim:
        raise ValueError(f"{op}: dim {dim} is out of range for input of shape {tuple(shape)}")
    return dim % ndim


# ----- helpers: sums along a dimension and two-way split/concatenation ------------------------------------
class _SumKeepdim(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.input_shape = x.shape
        return x.sum(axis=dim, keepdims=True)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(grad, ctx.input_shape)


def _sum_keepdim(x, dim):
    return _SumKeepdim.apply(x, dim)


class _SplitInTwo(Function):
    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.dim = dim
        head = (slice(None),) * dim
        return x[head + (slice(None, index),)], x[head + (slice(index, None),)]

    @staticmethod
    def backward(ctx, grad_first, grad_second):
        return _concat_two(grad_first, grad_second, ctx.dim)


class _ConcatTwo(Function):
    @staticmethod
    def forward(ctx, a, b, dim):
        ctx.dim, ctx.index = dim, a.shape[dim]
        return backend.array_module(a, b).concatenate([a, b], axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return _SplitInTwo.apply(grad, ctx.index, ctx.dim)


def _concat_two(a, b, dim):
    return _ConcatTwo.apply(a, b, dim)


# ----- softmax family ------------------------------------------------------------------------------
def _implicit_softmax_dim(ndim):
    # PyTorch's legacy rule when no dim is given.
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_family(function, op, input, dim, dtype):
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _implicit_softmax_dim(input.ndim)
    dim = _normalize_dim(op, dim, input.shape)
    if input.ndim == 0:  # a single logit: work on it as a vector of one
        return reshape(function.apply(reshape(input, (1,)), 0), ())
    return function.apply(input, dim)


def _shifted(x, dim):
    """``x - max(x)`` along ``dim``: exp of it never overflows, and the result is unchanged."""
    return x - x.max(axis=dim, keepdims=True)


class _Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        y = _shifted(x, dim)
        backend.array_module(y).exp(y, out=y)
        y /= y.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return y * (grad - _sum_keepdim(grad * y, ctx.dim))


class _LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        xp = backend.array_module(x)
        y = _shifted(x, dim)
        y -= xp.log(xp.exp(y).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad - exp(y) * _sum_keepdim(grad, ctx.dim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    r"""Softmax along ``dim``: :math:`\text{softmax}(x)_i = e^{x_i - m} / \sum_j e^{x_j - m}`,
    :math:`m = \max_j x_j` (the shift keeps it finite for any logits).

    Any shape; the output has the input's shape and sums to 1 along ``dim``. ``dtype`` casts the input
    first. Without ``dim``, PyTorch's legacy choice is used (0 for 0-, 1- and 3-D inputs, else 1).
    The backward, :math:`y \odot (g - \langle g, y\rangle)`, is built from Tensor ops.
    """
    return _softmax_family(_Softmax, "softmax", input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    r"""Log-softmax along ``dim``: :math:`x_i - m - \log \sum_j e^{x_j - m}`, :math:`m = \max_j x_j`.

    Finite for any finite logits (no ``log(0)``). The backward is :math:`g - e^{y} \sum_j g_j`.
    """
    return _softmax_family(_LogSoftmax, "log_softmax", input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    r"""Softmin along ``dim``: :math:`\text{softmax}(-x)`."""
    if dtype is not None:
        input = input.to(dtype)
    return _softmax_family(_Softmax, "softmin", neg(input), dim, None)


# ----- element-wise activations ----------------------------------------------------------------------
def _activation(name, forward, derivative):
    """A fused element-wise op: ``forward(array, **params) -> array`` and
    ``derivative(x_tensor, **params) -> Tensor`` of the same shape (Tensor ops, so it can be differentiated)."""
    def fwd(ctx, x, **params):
        ctx.params = params
        ctx.save_for_backward(x)
        out = forward(x, **params)
        return out if out.dtype == x.dtype else out.astype(x.dtype)

    def bwd(ctx, grad):
        x, = ctx.saved_tensors
        return grad * derivative(x, **ctx.params)

    class_name = "_" + "".join(part.capitalize() for part in name.split("_"))
    return type(class_name, (Function,), {"forward": staticmethod(fwd), "backward": staticmethod(bwd)})


# Selections below are written as max/min or products with 0/1 masks rather than ``where``: NumPy's
# ``where`` with an unpredictable mask is an order of magnitude slower than these on large arrays.
def _blend(mask, on, off):
    """``on`` where ``mask`` (a 0/1 tensor) is 1, ``off`` where it is 0; exact, and differentiable in both."""
    return on * mask + off * (1 - mask)


def _mask(array, condition):
    """``condition`` as a 0/1 constant in the dtype of ``array``."""
    return _constant(condition.astype(array.dtype))


def _leaky_relu_forward(x, slope):
    xp = backend.array_module(x)
    # max(x, slope x) is x for x > 0 and slope x otherwise whenever slope <= 1; min() when slope > 1.
    return xp.maximum(x, x * slope) if slope <= 1 else xp.minimum(x, x * slope)


def _leaky_relu_derivative(x, slope):
    positive = (x.data > 0).astype(x.dtype)
    return _constant(positive + (1 - positive) * slope)


_LeakyRelu = _activation("leaky_relu", _leaky_relu_forward, _leaky_relu_derivative)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    r""":math:`x` for :math:`x > 0`, else :math:`\text{negative\_slope} \cdot x`.

    The derivative at 0 is ``negative_slope``, as in PyTorch.
    """
    return _LeakyRelu.apply(input, slope=negative_slope)


def _elu_forward(x, alpha, scale=1.0, input_scale=1.0):
    xp = backend.array_module(x)
    # The two branches are each zero on the other's side, so their sum selects; min() avoids overflow.
    return scale * (xp.maximum(x, 0) + alpha * xp.expm1(xp.minimum(x, 0) * input_scale))


def _elu_derivative(x, alpha, scale=1.0, input_scale=1.0):
    positive = _mask(x.data, x.data > 0)
    # clamp: exp of a large positive x would overflow, and 0 * inf in a second derivative is NaN.
    negative = exp(clamp(x, max=0.0) * input_scale) * (alpha * input_scale * scale)
    return _blend(positive, scale, negative)


_Elu = _activation("elu", _elu_forward, _elu_derivative)


def elu(input, alpha=1.0, inplace=False):
    r""":math:`x` for :math:`x > 0`, else :math:`\alpha (e^x - 1)`.

    The derivative at 0 is taken from the left, :math:`\alpha`, as in PyTorch.
    """
    return _Elu.apply(input, alpha=alpha)


def selu(input, inplace=False):
    r""":math:`\lambda\,\text{elu}(x, \alpha)` with :math:`\alpha \approx 1.6733`, :math:`\lambda \approx 1.0507`
    (self-normalising constants). The derivative at 0 is :math:`\lambda\alpha`, as in PyTorch."""
    return _Elu.apply(input, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def celu(input, alpha=1.0, inplace=False):
    r""":math:`\max(0, x) + \min(0, \alpha (e^{x/\alpha} - 1))`. The derivative at 0 is 1 (continuous)."""
    if alpha == 0:
        raise ValueError("celu: alpha must be nonzero, got 0")
    return _Elu.apply(input, alpha=alpha, input_scale=1.0 / alpha)


# erf is not in NumPy: compiled from the C library's erf with numba on first use (cupyx has its own).
_erf_kernel = None


def _erf_scalar(v):
    return math.erf(v)


def _erf_array(x):
    global _erf_kernel
    if backend.array_module(x) is not np:
        from cupyx.scipy.special import erf
        return erf(x)
    if _erf_kernel is None:
        import numba
        _erf_kernel = numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)(_erf_scalar)
    if x.dtype not in (np.float32, np.float64):
        return _erf_kernel(x.astype(np.float32)).astype(x.dtype)
    return _erf_kernel(x)


class _Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf_array(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * exp(-(x * x)) * (2 / math.sqrt(math.pi))


_SQRT1_2 = math.sqrt(0.5)
_SQRT_2_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_GELU_KAPPA = 0.044715


def _gelu_forward(x, approximate):
    if approximate == "tanh":
        xp = backend.array_module(x)
        return 0.5 * x * (1 + xp.tanh(_SQRT_2_PI * (x + _GELU_KAPPA * x * x * x)))
    return x * 0.5 * (1 + _erf_array(x * _SQRT1_2))


def _gelu_derivative(x, approximate):
    if approximate == "tanh":
        t = tanh((x + x * x * x * _GELU_KAPPA) * _SQRT_2_PI)
        return (1 + t) * 0.5 + x * 0.5 * (1 - t * t) * (1 + x * x * (3 * _GELU_KAPPA)) * _SQRT_2_PI
    cdf = (1 + _Erf.apply(x * _SQRT1_2)) * 0.5
    return cdf + x * exp(x * x * -0.5) * _INV_SQRT_2PI


_Gelu = _activation("gelu", _gelu_forward, _gelu_derivative)


def gelu(input, approximate="none"):
    r"""Gaussian error linear unit :math:`x\,\Phi(x) = \tfrac{x}{2}(1 + \text{erf}(x/\sqrt 2))`.

    ``approximate='tanh'``: :math:`\tfrac{x}{2}(1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3)))`.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _Gelu.apply(input, approximate=approximate)


def _softplus_forward(x, beta, threshold):
    xp = backend.array_module(x)
    z = x * beta
    # log(1 + e^z) = max(z, 0) + log1p(e^{-|z|}): no overflow for large z.
    smooth = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
    linear = z > threshold
    if linear.any():
        smooth[linear] = x[linear]
    return smooth


def _softplus_derivative(x, beta, threshold):
    return _blend(_mask(x.data, x.data * beta > threshold), 1.0, sigmoid(x * beta))


_Softplus = _activation("softplus", _softplus_forward, _softplus_derivative)


def softplus(input, beta=1.0, threshold=20.0):
    r""":math:`\frac{1}{\beta} \log(1 + e^{\beta x})`, and :math:`x` itself where :math:`\beta x > \text{threshold}`.

    The derivative is :math:`\sigma(\beta x)` (1 in the linear region).
    """
    return _Softplus.apply(input, beta=beta, threshold=threshold)


def softsign(input):
    r""":math:`x / (1 + |x|)`."""
    return input / add(abs(input), 1)


def _silu_derivative(x):
    s = sigmoid(x)
    return s * (1 + x * (1 - s))


def _silu_forward(x):
    xp = backend.array_module(x)
    denominator = xp.negative(x)  # x / (1 + e^{-x}), in place: two passes fewer than x * sigmoid(x)
    with np.errstate(over="ignore"):  # e^{-x} = inf for very negative x gives the exact -0
        xp.exp(denominator, out=denominator)
    denominator += 1
    return xp.divide(x, denominator, out=denominator)


_Silu = _activation("silu", _silu_forward, _silu_derivative)


def silu(input, inplace=False):
    r"""Sigmoid linear unit (swish): :math:`x\,\sigma(x)`, derivative :math:`\sigma(x)(1 + x(1 - \sigma(x)))`."""
    return _Silu.apply(input)


def _mish_forward(x):
    return x * backend.array_module(x).tanh(_softplus_forward(x, 1.0, math.inf))


def _mish_derivative(x):
    t = tanh(softplus(x, threshold=math.inf))
    return t + x * sigmoid(x) * (1 - t * t)


_Mish = _activation("mish", _mish_forward, _mish_derivative)


def mish(input, inplace=False):
    r""":math:`x \tanh(\text{softplus}(x))`."""
    return _Mish.apply(input)


_Hardtanh = _activation(
    "hardtanh",
    lambda x, low, high: backend.array_module(x).clip(x, low, high),
    lambda x, low, high: _mask(x.data, (x.data > low) & (x.data < high)))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    r"""Clamp to :math:`[\text{min\_val}, \text{max\_val}]`. The derivative is 1 strictly inside, 0 at and
    beyond the bounds, as in PyTorch (unlike ``clamp``, whose gradient passes at the bounds)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not be greater than max_val ({max_val})")
    return _Hardtanh.apply(input, low=min_val, high=max_val)


def relu6(input, inplace=False):
    r""":math:`\min(\max(0, x), 6)`; the derivative at 0 and at 6 is 0, as in PyTorch."""
    return _Hardtanh.apply(input, low=0.0, high=6.0)


_Hardsigmoid = _activation(
    "hardsigmoid",
    lambda x: backend.array_module(x).clip(x + 3, 0, 6) / 6,
    lambda x: _mask(x.data, (x.data > -3) & (x.data < 3)) * (1 / 6))


def hardsigmoid(input, inplace=False):
    r""":math:`\text{relu6}(x + 3) / 6`; the derivative is :math:`1/6` on :math:`(-3, 3)`, 0 elsewhere
    (0 at :math:`\pm 3`)."""
    return _Hardsigmoid.apply(input)


def _hardswish_derivative(x):
    middle = _mask(x.data, (x.data > -3) & (x.data < 3))
    return (x * (1 / 3) + 0.5) * middle + _mask(x.data, x.data >= 3)


_Hardswish = _activation(
    "hardswish",
    lambda x: x * backend.array_module(x).clip(x + 3, 0, 6) / 6,
    _hardswish_derivative)


def hardswish(input, inplace=False):
    r""":math:`x\,\text{relu6}(x + 3) / 6`; the derivative is 0 for :math:`x \le -3`, :math:`x/3 + 1/2`
    on :math:`(-3, 3)` and 1 for :math:`x \ge 3`, as in PyTorch."""
    return _Hardswish.apply(input)


_Threshold = _activation(
    "threshold",
    lambda x, threshold, value: backend.array_module(x).where(x > threshold, x, value),
    lambda x, threshold, value: _mask(x.data, x.data > threshold))


def threshold(input, threshold, value, inplace=False):
    r""":math:`x` where :math:`x > \text{threshold}`, else ``value``; derivative 0 at the threshold."""
    return _Threshold.apply(input, threshold=threshold, value=value)


def _logsigmoid_forward(x):
    xp = backend.array_module(x)
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))  # finite for any x, unlike log(sigmoid(x))


_Logsigmoid = _activation("logsigmoid", _logsigmoid_forward, lambda x: sigmoid(neg(x)))


def logsigmoid(input):
    r""":math:`\log \sigma(x) = -\text{softplus}(-x)`, computed stably; derivative :math:`\sigma(-x)`."""
    return _Logsigmoid.apply(input)


def tanhshrink(input):
    r""":math:`x - \tanh(x)`."""
    return sub(input, tanh(input))


def _shrink_mask(x, lambd):
    return (x > lambd) | (x < -lambd)


_Softshrink = _activation(
    "softshrink",
    lambda x, lambd: x - backend.array_module(x).clip(x, -lambd, lambd),
    lambda x, lambd: _mask(x.data, _shrink_mask(x.data, lambd)))

_Hardshrink = _activation(
    "hardshrink",
    lambda x, lambd: x * _shrink_mask(x, lambd),
    lambda x, lambd: _mask(x.data, _shrink_mask(x.data, lambd)))


def softshrink(input, lambd=0.5):
    r""":math:`x - \lambda` for :math:`x > \lambda`, :math:`x + \lambda` for :math:`x < -\lambda`, else 0;
    derivative 0 at :math:`\pm\lambda`."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
    return _Softshrink.apply(input, lambd=lambd)


def hardshrink(input, lambd=0.5):
    r""":math:`x` where :math:`|x| > \lambda`, else 0; derivative 0 at :math:`\pm\lambda`."""
    return _Hardshrink.apply(input, lambd=lambd)


# ----- activations with parameters or structure ---------------------------------------------------------
class _PReLU(Function):
    @staticmethod
    def forward(ctx, x, weight, weight_shape):
        ctx.weight_shape = weight_shape
        ctx.save_for_backward(x, weight)
        xp = backend.array_module(x)
        return xp.maximum(x, 0) + weight.reshape(weight_shape) * xp.minimum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        negative = _mask(x.data, x.data <= 0)
        need_x, need_weight = ctx.needs_input_grad[:2]
        grad_x = grad * _blend(negative, reshape(weight, ctx.weight_shape), 1.0) if need_x else None
        grad_weight = None
        if need_weight:
            grad_weight = reshape(sum_to(grad * x * negative, ctx.weight_shape), weight.shape)
        return grad_x, grad_weight


def prelu(input, weight):
    r""":math:`x` for :math:`x > 0`, else :math:`a_c x`, with one learned slope :math:`a` shared by all channels
    or one per channel (dim 1). Shapes: input :math:`(N, C, *)`, weight :math:`(1)` or :math:`(C)`; a 1-D
    input has one channel. The derivative at 0 is the slope, as in PyTorch.
    """
    if input.ndim == 0:
        raise ValueError("prelu: input must have at least 1 dimension, got a 0-d tensor")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.data.size not in (1, channels):
        raise ValueError(f"prelu: weight of shape {tuple(weight.shape)} has {weight.data.size} elements but input "
                         f"of shape {tuple(input.shape)} has {channels} channels (dim 1): expected 1 or {channels}")
    weight_shape = [1] * input.ndim
    if weight.data.size > 1:
        weight_shape[1] = channels
    return _PReLU.apply(input, weight, tuple(weight_shape))


def glu(input, dim=-1):
    r"""Gated linear unit: split ``input`` in halves :math:`a, b` along ``dim``, return :math:`a \odot \sigma(b)`.

    The size along ``dim`` must be even; the output has half of it.
    """
    dim = _normalize_dim("glu", dim, input.shape)
    if input.ndim == 0 or input.shape[dim] % 2:
        raise ValueError(f"glu: the size of dim {dim} must be even, got input of shape {tuple(input.shape)}")
    first, second = _SplitInTwo.apply(input, input.shape[dim] // 2, dim)
    return mul(first, sigmoid(second))


def crelu(input, dim=1):
    r"""Concatenated ReLU: :math:`[\max(0, x), \max(0, -x)]` along ``dim`` (not in PyTorch).

    Shape :math:`(N, C, *) \to (N, 2C, *)` for ``dim=1``. Keeps the negative part of the signal, which
    ReLU drops, at twice the width. Derivatives at 0 are 0 in both halves (those of ``relu``).
    """
    dim = _normalize_dim("crelu", dim, input.shape)
    if input.ndim == 0:
        raise ValueError("crelu: input must have at least 1 dimension, got a 0-d tensor")
    return _concat_two(relu(input), relu(neg(input)), dim)


class _Maxout(Function):
    @staticmethod
    def forward(ctx, x, pieces, dim):
        xp = backend.array_module(x)
        grouped = x.reshape(x.shape[:dim] + (x.shape[dim] // pieces, pieces) + x.shape[dim + 1:])
        winner = grouped.argmax(axis=dim + 1)[(slice(None),) * (dim + 1) + (None,)]
        ctx.input_shape, ctx.grouped_shape, ctx.dim = x.shape, grouped.shape, dim
        ctx.winner_mask = xp.arange(pieces).reshape((pieces,) + (1,) * (x.ndim - dim - 1)) == winner
        return xp.take_along_axis(grouped, winner, axis=dim + 1).squeeze(dim + 1)

    @staticmethod
    def backward(ctx, grad):
        out_shape = grad.shape
        spread = reshape(grad, out_shape[:ctx.dim + 1] + (1,) + out_shape[ctx.dim + 1:])
        return reshape(spread * _constant(ctx.winner_mask.astype(grad.dtype)), ctx.input_shape)


def maxout(input, pieces, dim=1):
    r"""Maxout (Goodfellow et al., 2013; not in PyTorch): the maximum over groups of ``pieces`` consecutive
    features along ``dim``, :math:`y_{c} = \max_{0 \le p < k} x_{ck + p}`.

    Shape :math:`(N, Ck, *) \to (N, C, *)` for ``dim=1``, :math:`k` = ``pieces``. The gradient goes to the
    first maximal element of each group, as for ``x.view(N, C, k, *).max(dim=2)`` in PyTorch.
    """
    dim = _normalize_dim("maxout", dim, input.shape)
    if pieces < 1 or input.ndim == 0 or input.shape[dim] % pieces:
        raise ValueError(f"maxout: the size of dim {dim} of input of shape {tuple(input.shape)} must be a multiple "
                         f"of pieces={pieces}")
    return _Maxout.apply(input, int(pieces), dim)
