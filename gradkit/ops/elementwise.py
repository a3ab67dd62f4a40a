"""Element-wise ops: arithmetic with broadcasting, unary math, comparisons and casts.

Binary ops accept Tensors, arrays and Python scalars on either side and broadcast like NumPy;
each backward undoes the broadcast with :func:`sum_to`. Dtypes follow PyTorch: a Python scalar
never widens a tensor, and integer inputs give float32 (not float64) when the result is a float.
"""
import math
import operator

import numpy as np

from gradkit import backend
from gradkit.autograd.function import Function, _as_array
from gradkit.autograd.grad_mode import records_graph, state as _grad_state
from gradkit.kernels import parallel
from gradkit.ops.shape import sum_to
from gradkit.tensor import Tensor

__all__ = ["add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "pow", "neg", "abs", "sign",
           "reciprocal", "exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "square", "sin", "cos",
           "tan", "tanh", "sigmoid", "relu", "clamp", "clip", "maximum", "minimum", "where", "lerp", "floor", "ceil",
           "round", "trunc", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
           "logical_not", "isnan", "isfinite", "isinf", "cast", "to_device", "clone", "subtract", "multiply",
           "divide", "negative", "absolute"]
TENSOR_METHODS = ("add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "pow", "neg", "abs",
                  "sign", "reciprocal", "exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "square",
                  "sin", "cos", "tan", "tanh", "sigmoid", "relu", "clamp", "clip", "maximum", "minimum", "lerp",
                  "floor", "ceil", "round", "trunc", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
                  "logical_or", "logical_xor", "logical_not", "isnan", "isfinite", "isinf", "clone", "subtract",
                  "multiply", "divide", "negative", "absolute")


def _shape(x):
    return getattr(x, "shape", ())  # Python scalars have none


def _float_result(out, a, b=None):
    """Give integer-only expressions that produced float64 the default float dtype, as PyTorch does."""
    if out.dtype == np.float64 and getattr(a, "dtype", None) != np.float64 and getattr(b, "dtype", None) != np.float64:
        return out.astype(backend.get_default_dtype())
    return out


def _check_broadcast(op, a, b):
    try:
        np.broadcast_shapes(_shape(a), _shape(b))
    except ValueError:
        raise ValueError(f"{op}: shapes {tuple(_shape(a))} and {tuple(_shape(b))} cannot be broadcast together") from None


def _binary(function, op, a, b):
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    ra, rb = _raw(a), _raw(b)
    sa, sb = getattr(ra, "shape", ()), getattr(rb, "shape", ())
    if sa != sb and sa and sb:
        _check_broadcast(op, ra, rb)
    if not records_graph(a, b):
        arithmetic = _WITHOUT_GRAPH.get(function)
        if arithmetic is not None:
            # Nothing to record (an optimizer's or a metric's arithmetic): the op's forward alone, without
            # the node, its saved inputs and the output's graph links (8 us -> 3 us for a small product).
            out = _float_result(arithmetic(ra, rb), ra, rb)
            return Tensor._make(out if type(out) is np.ndarray else _as_array(out))
    return function.apply(a, b)


# ----- arithmetic ------------------------------------------------------------------------------------
class _Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return _float_result(a + b, a, b)

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        return (sum_to(grad, ctx.shapes[0]) if need_a else None,
                sum_to(grad, ctx.shapes[1]) if need_b else None)


class _Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return _float_result(a - b, a, b)

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        return (sum_to(grad, ctx.shapes[0]) if need_a else None,
                sum_to(-grad, ctx.shapes[1]) if need_b else None)


class _Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.save_for_backward(a, b)
        return _float_result(a * b, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (sum_to(grad * b, ctx.shapes[0]) if need_a else None,
                sum_to(grad * a, ctx.shapes[1]) if need_b else None)


class _Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.save_for_backward(a, b)
        return _float_result(a / b, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad / b
        return (sum_to(grad_a, ctx.shapes[0]) if need_a else None,
                sum_to(-grad_a * a / b, ctx.shapes[1]) if need_b else None)


class _Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        out = _float_result(a ** b, a, b) if not (backend.is_array(a) and a.dtype.kind in "iu" and
                                                   isinstance(b, int) and b < 0) else a.astype(np.float32) ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = sum_to(grad * b * a ** (b - 1), ctx.shapes[0])
        if need_b:
            # d a^b / db = a^b log a, taken as 0 where a == 0 (PyTorch's convention for 0^b, b >= 0).
            log_a = log(where(a == 0, 1.0, a)) if isinstance(a, Tensor) else math.log(a) if a > 0 else 0.0
            grad_b = sum_to(grad * out * log_a, ctx.shapes[1])
        return grad_a, grad_b


def add(input, other, alpha=1):
    r"""Element-wise :math:`\text{input} + \alpha \cdot \text{other}` with broadcasting.

    >>> gk.add(gk.tensor([1., 2.]), 1)
    tensor([2., 3.])
    """
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(_Add, "add", input, other)


# The forward arithmetic of the ops above, for ``_binary``'s calls that record no graph.
_WITHOUT_GRAPH = {_Add: operator.add, _Sub: operator.sub, _Mul: operator.mul, _Div: operator.truediv}


def sub(input, other, alpha=1):
    r"""Element-wise :math:`\text{input} - \alpha \cdot \text{other}` with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(_Sub, "sub", input, other)


def mul(input, other):
    r"""Element-wise product :math:`\text{input} \cdot \text{other}` with broadcasting."""
    return _binary(_Mul, "mul", input, other)


def div(input, other, rounding_mode=None):
    r"""Element-wise quotient :math:`\text{input} / \text{other}`; ``rounding_mode`` ``'floor'`` or
    ``'trunc'`` rounds the result (and is not differentiable), as in PyTorch."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return trunc(_binary(_Div, "div", input, other)).detach()
    if rounding_mode is not None:
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    return _binary(_Div, "div", input, other)


def pow(input, exponent):
    r"""Element-wise power :math:`\text{input}^{\text{exponent}}`; either side may be a scalar.

    The gradient with respect to the exponent, :math:`a^b \ln a`, is taken as 0 where :math:`a = 0`.
    """
    return _binary(_Pow, "pow", input, exponent)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def floor_divide(input, other):
    """Element-wise ``floor(input / other)`` (not differentiable, like PyTorch's)."""
    a, b = _raw(input), _raw(other)
    _check_broadcast("floor_divide", a, b)
    return Tensor._make(backend.array_module(a, b).asarray(a // b))


def remainder(input, other):
    r"""Python-style remainder :math:`a - b \lfloor a / b \rfloor`, with the sign of the divisor."""
    return sub(input, mul(floor_divide(input, other), other))


true_divide, subtract, multiply, divide = div, sub, mul, div


# ----- unary math --------------------------------------------------------------------------------------
def _unary(name, forward, backward, save="input", doc=""):
    """Build a unary op from ``forward(array) -> array`` and ``backward(grad, saved) -> grad``.

    ``save`` says whether backward needs the op's input or its output (the output is cheaper to keep
    when it suffices: exp, sqrt, tanh, sigmoid, relu).
    """
    def result(x):
        out = forward(x)
        if out.dtype != x.dtype and x.dtype.kind == "f":
            return out.astype(x.dtype)
        return _float_result(out, x) if x.dtype.kind != "f" else out

    def fwd(ctx, x):
        out = result(x)
        ctx.save_for_backward(x if save == "input" else out)
        return out

    def bwd(ctx, grad):
        saved, = ctx.saved_tensors
        return backward(grad, saved)

    function = type("_" + name.capitalize(), (Function,), {"forward": staticmethod(fwd), "backward": staticmethod(bwd)})

    def op(input):
        if type(input) is Tensor and not records_graph(input):
            # Nothing to record (inference, a backward pass's own arithmetic): no node, as in _binary.
            out = result(input.data)
            return Tensor._make(out if type(out) is np.ndarray else _as_array(out))
        return function.apply(input)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _np(name):
    def apply(x):
        return getattr(backend.array_module(x), name)(x)
    return apply


exp = _unary("exp", _np("exp"), lambda g, y: g * y, "output", r"Element-wise :math:`e^x`.")
log = _unary("log", _np("log"), lambda g, x: g / x, "input", r"Natural logarithm :math:`\ln x`.")
log2 = _unary("log2", _np("log2"), lambda g, x: g / (x * math.log(2.0)), "input", r"Base-2 logarithm.")
log10 = _unary("log10", _np("log10"), lambda g, x: g / (x * math.log(10.0)), "input", r"Base-10 logarithm.")
log1p = _unary("log1p", _np("log1p"), lambda g, x: g / (x + 1), "input",
               r":math:`\ln(1 + x)`, accurate for small :math:`x`.")
expm1 = _unary("expm1", _np("expm1"), lambda g, y: g * (y + 1), "output",
               r":math:`e^x - 1`, accurate for small :math:`x`.")
sqrt = _unary("sqrt", _np("sqrt"), lambda g, y: g / (2 * y), "output", r"Element-wise :math:`\sqrt{x}`.")
rsqrt = _unary("rsqrt", lambda x: 1 / backend.array_module(x).sqrt(x), lambda g, y: -0.5 * g * y * y * y, "output",
               r"Element-wise :math:`1 / \sqrt{x}`.")
square = _unary("square", _np("square"), lambda g, x: 2 * g * x, "input", r"Element-wise :math:`x^2`.")
sin = _unary("sin", _np("sin"), lambda g, x: g * cos(x), "input", r"Element-wise sine.")
cos = _unary("cos", _np("cos"), lambda g, x: -g * sin(x), "input", r"Element-wise cosine.")
tan = _unary("tan", _np("tan"), lambda g, y: g * (1 + y * y), "output", r"Element-wise tangent.")
tanh = _unary("tanh", _np("tanh"), lambda g, y: g * (1 - y * y), "output", r"Hyperbolic tangent.")
reciprocal = _unary("reciprocal", lambda x: 1 / x, lambda g, y: -g * y * y, "output", r"Element-wise :math:`1/x`.")
neg = _unary("neg", lambda x: -x, lambda g, _: -g, "output", r"Element-wise :math:`-x`.")
abs = _unary("abs", _np("abs"), lambda g, x: g * sign(x), "input",
             r"Element-wise :math:`|x|`; its gradient at 0 is 0, as in PyTorch.")


def _sigmoid_array(x):
    xp = backend.array_module(x)
    with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x < -88 and 1/(1+inf) is the exact 0
        return 1 / (1 + xp.exp(-x))


sigmoid = _unary("sigmoid", _sigmoid_array, lambda g, y: g * y * (1 - y), "output",
                 r"Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`.")


def _relu_array(x):
    if type(x) is not np.ndarray or x.dtype.kind != "f":
        return backend.array_module(x).maximum(x, 0)
    # The activations are large: the pass is split over the threads (gradkit.kernels.parallel). A
    # clip between 0 and +inf, not maximum(x, 0): NumPy's maximum has no SIMD loop for a scalar
    # operand, and clip with both bounds does (1.6M floats on two threads: 0.46 against 0.78 ms;
    # 128x512: 29 against 61 us). It also keeps -0.0 and NaN as PyTorch's relu does.
    zero, inf = x.dtype.type(0), x.dtype.type(np.inf)
    return parallel.elementwise(lambda out, a: _clip(a, zero, inf, out=out), np.empty_like(x), x)


# NumPy's clip ufunc itself where it can be found: np.clip reaches it through three Python wrappers,
# 2.5 us a call (clipping an MLP's 128x512 hidden layer takes 13 us; MLP step 0.97-0.99 with the ufunc).
_clip = getattr(getattr(getattr(np, "_core", None), "umath", None), "clip", np.clip)


def _relu_backward(grad, y):
    if not _grad_state.grad_enabled and type(grad.data) is np.ndarray:
        # Plain backward: one split pass on the arrays instead of building a mask tensor and a product op.
        out = np.empty_like(grad.data)
        return Tensor._make(parallel.elementwise(lambda o, g, a: np.multiply(g, a > 0, out=o), out, grad.data, y.data))
    # The mask is a constant of the backward graph: relu'' = 0 everywhere it is defined.
    return grad * Tensor._make(y.data > 0)


_relu = _unary("relu", _relu_array, _relu_backward, "output")


def relu(input, inplace=False):
    r""":math:`\max(0, x)` element-wise.

    Its derivative at :math:`x = 0` is taken as 0, as in PyTorch. ``inplace`` is accepted for PyTorch
    compatibility; the result is always a new tensor (in-place ops would break the saved output).
    """
    return _relu(input)

negative, absolute = neg, abs


class _PiecewiseConstant(Function):
    """Ops whose derivative is zero almost everywhere: the output stays in the graph (as in PyTorch)
    and passes back a zero gradient. Bool results are never differentiable."""

    @staticmethod
    def forward(ctx, x, fn):
        out = fn(x)
        return out if backend.is_array(out) else np.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, None


def _not_differentiable(name, fn, doc):
    def op(input):
        if not isinstance(input, Tensor):
            input = Tensor(input)
        return _PiecewiseConstant.apply(input, fn)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + " Its gradient is zero almost everywhere."
    return op


sign = _not_differentiable("sign", lambda x: backend.array_module(x).sign(x), "Element-wise sign (-1, 0 or 1).")
floor = _not_differentiable("floor", lambda x: backend.array_module(x).floor(x), "Element-wise floor.")
ceil = _not_differentiable("ceil", lambda x: backend.array_module(x).ceil(x), "Element-wise ceiling.")
trunc = _not_differentiable("trunc", lambda x: backend.array_module(x).trunc(x), "Round toward zero.")
round = _not_differentiable("round", lambda x: backend.array_module(x).round(x), "Round half to even.")


# ----- clamping, maxima, selection -----------------------------------------------------------------------
class _Clamp(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return backend.array_module(x).clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        inside = np.ones(x.shape, dtype=bool) if ctx.low is None else x.data >= ctx.low
        if ctx.high is not None:
            inside = inside & (x.data <= ctx.high)
        return grad * Tensor._make(inside), None, None


def clamp(input, min=None, max=None):
    r"""Clamp to :math:`[\min, \max]` (either bound may be omitted or be a tensor).

    The gradient passes where :math:`\min \le x \le \max`, bounds included, as in PyTorch.
    """
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return _Clamp.apply(input, min, max)


clip = clamp


class _Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.save_for_backward(a, b)
        return _float_result(backend.array_module(a, b).maximum(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        return _tie_split(ctx, grad, lambda a, b: a > b)


class _Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.save_for_backward(a, b)
        return _float_result(backend.array_module(a, b).minimum(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        return _tie_split(ctx, grad, lambda a, b: a < b)


def _tie_split(ctx, grad, wins):
    """Gradient of max/min: to the winner, split in half on ties (PyTorch's rule)."""
    a, b = ctx.saved_tensors
    a_data = a.data if isinstance(a, Tensor) else a
    b_data = b.data if isinstance(b, Tensor) else b
    share_a = wins(a_data, b_data) + 0.5 * (a_data == b_data)
    share_a = Tensor._make(np.asarray(share_a, dtype=grad.dtype))
    need_a, need_b = ctx.needs_input_grad
    return (sum_to(grad * share_a, ctx.shapes[0]) if need_a else None,
            sum_to(grad * (1 - share_a), ctx.shapes[1]) if need_b else None)


def maximum(input, other):
    """Element-wise maximum; on ties the gradient is split equally between both inputs."""
    return _binary(_Maximum, "maximum", input, other)


def minimum(input, other):
    """Element-wise minimum; on ties the gradient is split equally between both inputs."""
    return _binary(_Minimum, "minimum", input, other)


class _Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.condition = condition
        return _float_result(backend.array_module(a, b).where(condition, a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        cond = Tensor._make(ctx.condition)
        _, need_a, need_b = ctx.needs_input_grad
        zero = Tensor._make(np.zeros((), dtype=grad.dtype))
        return (None,
                sum_to(where(cond, grad, zero), ctx.shapes[0]) if need_a else None,
                sum_to(where(cond, zero, grad), ctx.shapes[1]) if need_b else None)


def where(condition, input, other):
    """Pick ``input`` where ``condition`` is true and ``other`` elsewhere, with broadcasting."""
    cond = _raw(condition)
    if not backend.is_array(cond) or cond.dtype != np.bool_:
        cond = np.asarray(cond, dtype=bool)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor(input)
    try:
        np.broadcast_shapes(cond.shape, _shape(_raw(input)), _shape(_raw(other)))
    except ValueError:
        raise ValueError(f"where: condition {cond.shape}, input {tuple(_shape(_raw(input)))} and other "
                         f"{tuple(_shape(_raw(other)))} cannot be broadcast together") from None
    return _Where.apply(cond, input, other)


def lerp(input, end, weight):
    r"""Linear interpolation :math:`\text{input} + \text{weight} (\text{end} - \text{input})`."""
    return add(input, mul(weight, sub(end, input)))


# ----- comparisons and logic (not differentiable, bool results) ------------------------------------------------
def _compare(name, fn):
    def op(input, other):
        a, b = _raw(input), _raw(other)
        _check_broadcast(name, a, b)
        return Tensor._make(np.asarray(fn(a, b)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Element-wise ``{name}`` with broadcasting; a bool tensor."
    return op


eq = _compare("eq", lambda a, b: a == b)
ne = _compare("ne", lambda a, b: a != b)
lt = _compare("lt", lambda a, b: a < b)
le = _compare("le", lambda a, b: a <= b)
gt = _compare("gt", lambda a, b: a > b)
ge = _compare("ge", lambda a, b: a >= b)
logical_and = _compare("logical_and", lambda a, b: backend.array_module(a, b).logical_and(a, b))
logical_or = _compare("logical_or", lambda a, b: backend.array_module(a, b).logical_or(a, b))
logical_xor = _compare("logical_xor", lambda a, b: backend.array_module(a, b).logical_xor(a, b))
logical_not = _not_differentiable("logical_not", lambda x: backend.array_module(x).logical_not(x),
                                  "Element-wise logical not; a bool tensor.")
isnan = _not_differentiable("isnan", lambda x: backend.array_module(x).isnan(x), "True where NaN.")
isinf = _not_differentiable("isinf", lambda x: backend.array_module(x).isinf(x), "True where +-Inf.")
isfinite = _not_differentiable("isfinite", lambda x: backend.array_module(x).isfinite(x), "True where finite.")


# ----- casts, devices, copies ------------------------------------------------------------------------------
class _Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return cast(grad, ctx.input_dtype) if ctx.input_dtype.kind in "fc" else None


def cast(input, dtype):
    """``input`` converted to ``dtype``; differentiable between floating dtypes."""
    dtype = np.dtype(dtype)
    if input.dtype == dtype:
        return input
    return _Cast.apply(input, dtype)


class _ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.input_device = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, grad):
        return to_device(grad, ctx.input_device)


def to_device(input, device):
    """``input`` copied to ``device`` (``"cpu"`` or ``"cuda:N"``); gradients flow back across."""
    if input.device == device:
        return input
    return _ToDevice.apply(input, device)


class _Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(input):
    """A copy of ``input`` with its own memory, still connected to the graph."""
    return _Clone.apply(input)
