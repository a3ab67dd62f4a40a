"""Reductions: sums and means, products, extrema and their indices, moments, norms, cumulative ops, logic.

Every reduction takes ``dim`` as None (all dimensions), an int or a tuple of ints, negative values
counting from the end, and ``keepdim`` to keep the reduced dimensions with size 1, as in PyTorch.
Backward passes restore the reduced dimensions with :func:`reshape` and :func:`broadcast_to`, so
they are Tensor graphs themselves and second derivatives come for free.
"""
import builtins
import math
import operator
from collections import namedtuple

import numpy as np

from gradkit import backend
from gradkit.autograd.function import Function
from gradkit.ops import elementwise as ew
from gradkit.ops.shape import broadcast_to, reshape
from gradkit.tensor import Tensor

# ``norm`` is a Tensor method but not star-exported: in gradkit.ops that name is the normalisation family.
__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "var_mean",
           "std_mean", "logsumexp", "norm", "cumsum", "cumprod", "all", "any", "count_nonzero"]
TENSOR_METHODS = ("sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
                  "logsumexp", "norm", "cumsum", "cumprod", "all", "any", "count_nonzero")

# What max/min along a dim return, like torch.return_types.max: a tuple with named fields.
_max_result = namedtuple("max", ["values", "indices"])
_min_result = namedtuple("min", ["values", "indices"])


# ----- argument checking and shape helpers -----------------------------------------------------------------
def _check_tensor(op, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")


def _check_float(op, input):
    if input.dtype.kind not in "fc":
        raise TypeError(f"{op}: expected a floating point input, got dtype {input.dtype}")


def _axis(op, input, d):
    """One dim as a non-negative axis; a 0-d tensor accepts 0 and -1, as in PyTorch."""
    if isinstance(d, bool):
        raise TypeError(f"{op}: dim must be an int, got {d!r}")
    try:
        d = operator.index(d)
    except TypeError:
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {d!r}") from None
    rank = builtins.max(input.ndim, 1)
    if not -rank <= d < rank:
        raise IndexError(f"{op}: dim {d} is out of range for a tensor of shape {tuple(input.shape)} "
                         f"(expected in [{-rank}, {rank - 1}])")
    return d % rank


def _axes(op, input, dim):
    """``dim`` (None, int or sequence) as a sorted tuple of axes; None and () mean every axis."""
    if dim is None:
        return tuple(range(input.ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    axes = [_axis(op, input, d) for d in dims]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {dim!r} names the same dimension more than once")
    if not axes or input.ndim == 0:
        return tuple(range(input.ndim))
    return tuple(sorted(axes))


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _count(shape, axes):
    return math.prod(shape[a] for a in axes)


def _expand(grad, input_shape, axes, keepdim):
    """The gradient of a reduction's output, given back the input's shape."""
    if not keepdim:
        grad = reshape(grad, _kept_shape(input_shape, axes))
    return broadcast_to(grad, input_shape)


def _keep(t, input_shape, axes, keepdim):
    """A reduced tensor with its reduced dimensions restored as size 1 (for broadcasting)."""
    return t if keepdim else reshape(t, _kept_shape(input_shape, axes))


def _check_not_empty(op, input, axes):
    if input.data.size == 0 and (not axes or builtins.any(input.shape[a] == 0 for a in axes) or input.ndim == 0):
        raise ValueError(f"{op}: cannot reduce over an empty dimension of a tensor of shape {tuple(input.shape)}; "
                         "the result has no identity")


def _constant(array):
    return Tensor._make(array)


# ----- sum and mean ------------------------------------------------------------------------------------------
class _Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        xp = backend.array_module(x)
        if x.dtype.kind in "biu":
            return xp.asarray(x.sum(axis=axes, keepdims=keepdim, dtype=np.int64))
        if x.dtype == np.float16:  # accumulate in float32, as PyTorch does for half
            return xp.asarray(x.sum(axis=axes, keepdims=keepdim, dtype=np.float32).astype(np.float16))
        return xp.asarray(x.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        return _expand(grad, ctx.input_shape, ctx.axes, ctx.keepdim), None, None


def sum(input, dim=None, keepdim=False, *, dtype=None):
    r"""Sum over ``dim`` (all dimensions when None): :math:`y = \sum_{i \in \text{dim}} x_i`.

    Shapes: ``(*)`` to the input shape without ``dim`` (or with size 1 there when ``keepdim``).
    Integer and bool inputs sum to int64; ``dtype`` casts the input before summing.
    The gradient is the output gradient broadcast back over the reduced dimensions.

    >>> gk.tensor([[1., 2.], [3., 4.]]).sum(dim=0)
    tensor([4., 6.])
    """
    _check_tensor("sum", input)
    if dtype is not None:
        input = ew.cast(input, dtype)
    return _Sum.apply(input, _axes("sum", input, dim), keepdim)


class _Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        with np.errstate(invalid="ignore", divide="ignore"):
            return backend.array_module(x).asarray(x.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        n = _count(ctx.input_shape, ctx.axes)
        return _expand(grad / n if n else grad * math.nan, ctx.input_shape, ctx.axes, ctx.keepdim), None, None


def mean(input, dim=None, keepdim=False, *, dtype=None):
    r"""Arithmetic mean over ``dim``: :math:`y = \frac{1}{N} \sum_{i \in \text{dim}} x_i`, :math:`N` the
    number of reduced elements. Needs a floating input (or ``dtype``), as in PyTorch.

    >>> gk.tensor([[1., 2.], [3., 4.]]).mean()
    tensor(2.5000)
    """
    _check_tensor("mean", input)
    if dtype is not None:
        input = ew.cast(input, dtype)
    _check_float("mean", input)
    return _Mean.apply(input, _axes("mean", input, dim), keepdim)


# ----- product ---------------------------------------------------------------------------------------------
class _Prod(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        dtype = np.int64 if x.dtype.kind in "biu" else None
        out = backend.array_module(x).asarray(x.prod(axis=axes, keepdims=keepdim, dtype=dtype))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, axes, keepdim = ctx.input_shape, ctx.axes, ctx.keepdim
        grad = _expand(grad, shape, axes, keepdim)
        zeros = x.data == 0
        if not zeros.any():
            return grad * _keep(out, shape, axes, keepdim) / x, None, None
        return grad * _product_of_others(x, zeros, axes), None, None


def _product_of_others(x, zeros, axes):
    r""":math:`\prod_{j \ne i} x_j` over each reduced slice, for inputs with zeros, as a Tensor graph.

    With :math:`P` the product of the non-zero entries and :math:`Z` the sum of the zero entries (whose
    value is 0 but whose derivative is not), the slice's zero count decides:
    none: :math:`P / x_i`; one: :math:`P` at the zero, :math:`Z P / x_i` elsewhere; two: :math:`P (Z - x_i)`
    at the zeros, 0 elsewhere; more: 0. Each form has the right value and the right first derivative,
    so the gradient of ``prod`` is exact to second order everywhere.
    """
    count = zeros.sum(axis=axes, keepdims=True)
    zero_mask = _constant(zeros)
    x_safe = ew.where(zeros, 1.0, x)
    p_safe = _Prod.apply(x_safe, axes, True)
    zero_sum = sum(x * zero_mask, axes, keepdim=True)
    base = p_safe / x_safe
    one_zero = ew.where(zeros, 1.0, zero_sum)
    two_zeros = ew.where(zeros, zero_sum - x, 0.0)
    factor = ew.where(count == 0, 1.0, ew.where(count == 1, one_zero, ew.where(count == 2, two_zeros, 0.0)))
    return base * factor


def prod(input, dim=None, keepdim=False, *, dtype=None):
    r"""Product over ``dim`` (all elements when None): :math:`y = \prod_{i \in \text{dim}} x_i`.

    The gradient :math:`\partial y / \partial x_i = \prod_{j \ne i} x_j` is exact also where the input has
    zeros (it is not computed as :math:`y / x_i` there). Integer inputs give int64.
    Unlike PyTorch, ``dim`` may also be a tuple of ints.
    """
    _check_tensor("prod", input)
    if dtype is not None:
        input = ew.cast(input, dtype)
    return _Prod.apply(input, _axes("prod", input, dim), keepdim)


# ----- extrema ---------------------------------------------------------------------------------------------
class _Extreme(Function):
    """amax/amin (and max()/min() of a whole tensor): the gradient is split evenly among the ties."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, largest):
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        reduce = x.max if largest else x.min
        out = backend.array_module(x).asarray(reduce(axis=axes, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xp = backend.array_module(x.data)
        winner = out.data.reshape(_kept_shape(ctx.input_shape, ctx.axes))
        # NaN propagates, so a NaN in the slice is what was picked.
        ties = (x.data == winner) | (xp.isnan(x.data) & xp.isnan(winner))
        share = ties / ties.sum(axis=ctx.axes, keepdims=True).astype(grad.dtype)
        return _expand(grad, ctx.input_shape, ctx.axes, ctx.keepdim) * _constant(share.astype(grad.dtype)), \
            None, None, None


class _ExtremeAlongDim(Function):
    """max/min along one dim: the values and the index picked; the gradient goes to that index only."""

    @staticmethod
    def forward(ctx, x, axis, keepdim, largest):
        xp = backend.array_module(x)
        pick = xp.argmax if largest else xp.argmin
        indices = pick(x, axis=axis, keepdims=True)
        values = xp.take_along_axis(x, indices, axis=axis)
        ctx.input_shape, ctx.axis, ctx.keepdim, ctx.indices = x.shape, axis, keepdim, indices
        if not keepdim:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return values, indices.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, grad, grad_indices):
        xp = backend.array_module(ctx.indices)
        shape, axis = ctx.input_shape, ctx.axis
        positions = xp.arange(shape[axis]).reshape([-1 if i == axis else 1 for i in range(len(shape))])
        picked = _constant(positions == ctx.indices)
        return _expand(grad, shape, (axis,), ctx.keepdim) * picked, None, None, None


def _extreme(op, largest, input, dim, keepdim):
    if isinstance(dim, Tensor):  # max(a, b) is the element-wise maximum
        return (ew.maximum if largest else ew.minimum)(input, dim)
    _check_tensor(op, input)
    if dim is None:
        _check_not_empty(op, input, ())
        return _Extreme.apply(input, tuple(range(input.ndim)), False, largest)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}; use a{op} to reduce several dims")
    axis = _axis(op, input, dim)
    if input.ndim == 0:
        return (_max_result if largest else _min_result)(input * 1, Tensor._make(np.zeros((), np.int64)))
    _check_not_empty(op, input, (axis,))
    values, indices = _ExtremeAlongDim.apply(input, axis, keepdim, largest)
    return (_max_result if largest else _min_result)(values, indices)


def max(input, dim=None, keepdim=False):
    r"""Largest element: ``max(x)`` is a 0-d tensor; ``max(x, dim)`` is a ``(values, indices)`` named tuple
    along ``dim``; ``max(x, other)`` with a tensor ``other`` is :func:`maximum`.

    Gradients: ``max(x)`` splits the gradient evenly among tied maxima (as PyTorch does);
    ``max(x, dim)`` sends it to the returned index only (the first maximum, or the first NaN).
    """
    return _extreme("max", True, input, dim, keepdim)


def min(input, dim=None, keepdim=False):
    r"""Smallest element; the same forms and gradient rules as :func:`max`."""
    return _extreme("min", False, input, dim, keepdim)


def _extreme_over(op, largest, input, dim, keepdim):
    _check_tensor(op, input)
    axes = _axes(op, input, dim)
    _check_not_empty(op, input, axes)
    return _Extreme.apply(input, axes, keepdim, largest)


def amax(input, dim=(), keepdim=False):
    r""":math:`\max_{i \in \text{dim}} x_i` over one or several dims (``()``: all).

    The gradient is split evenly among the elements equal to the maximum, as in PyTorch.
    If a slice holds NaN, the result is NaN and the NaN entries get the gradient (PyTorch gives NaN
    gradients there).
    """
    return _extreme_over("amax", True, input, dim, keepdim)


def amin(input, dim=(), keepdim=False):
    r""":math:`\min_{i \in \text{dim}} x_i`; the gradient rules of :func:`amax`."""
    return _extreme_over("amin", False, input, dim, keepdim)


def _arg_extreme(op, largest, input, dim, keepdim):
    _check_tensor(op, input)
    x = input.data
    xp = backend.array_module(x)
    pick = xp.argmax if largest else xp.argmin
    if dim is None:
        _check_not_empty(op, input, ())
        index = pick(x.reshape(-1))
        return Tensor._make(xp.asarray(index, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ()))
    axis = _axis(op, input, dim)
    if x.ndim == 0:
        return Tensor._make(xp.zeros((), np.int64))
    _check_not_empty(op, input, (axis,))
    return Tensor._make(xp.asarray(pick(x, axis=axis, keepdims=keepdim), dtype=np.int64))


def argmax(input, dim=None, keepdim=False):
    """int64 index of the first maximum along ``dim`` (of the flattened tensor when None)."""
    return _arg_extreme("argmax", True, input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    """int64 index of the first minimum along ``dim`` (of the flattened tensor when None)."""
    return _arg_extreme("argmin", False, input, dim, keepdim)


# ----- variance and standard deviation --------------------------------------------------------------------
class _Moment(Function):
    """Variance, or with ``root`` its square root, the standard deviation."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction, root):
        xp = backend.array_module(x)
        ctx.input_shape, ctx.axes, ctx.keepdim, ctx.correction, ctx.root = x.shape, axes, keepdim, correction, root
        diff = x - x.mean(axis=axes, keepdims=True)
        squares = xp.square(diff, out=diff)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = squares.sum(axis=axes, keepdims=keepdim) / _divisor(x.shape, axes, correction)
            out = xp.asarray(xp.sqrt(out) if root else out, dtype=x.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, axes, keepdim = ctx.input_shape, ctx.axes, ctx.keepdim
        if ctx.root:
            # d sqrt(v) = dv / (2 sqrt(v)), taken as 0 where the deviation is 0 (PyTorch's convention).
            at_zero = out.data == 0
            grad = ew.where(at_zero, 0.0, grad / (2 * ew.where(at_zero, 1.0, out)))
        divisor = _divisor(shape, axes, ctx.correction)
        scale = 2.0 / divisor if divisor else math.inf
        centred = x - mean(x, axes, keepdim=True)
        return _expand(grad, shape, axes, keepdim) * scale * centred, None, None, None, None


def _divisor(shape, axes, correction):
    return builtins.max(0, _count(shape, axes) - correction)


def _correction(op, dim, unbiased, correction):
    """Resolve PyTorch's overloads: ``var(x, unbiased)``, ``var(x, dim, unbiased)``, ``var(x, dim, correction=)``."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(f"{op}: got unbiased twice ({dim!r} as dim and unbiased={unbiased!r})")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: pass either unbiased or correction, not both "
                        f"(got unbiased={unbiased!r}, correction={correction!r})")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if not isinstance(correction, (int, float)) or correction < 0:
        raise ValueError(f"{op}: correction must be a non-negative number, got {correction!r}")
    return dim, correction


def _moment(op, root, input, dim, unbiased, keepdim, correction):
    _check_tensor(op, input)
    _check_float(op, input)
    dim, correction = _correction(op, dim, unbiased, correction)
    return _Moment.apply(input, _axes(op, input, dim), keepdim, correction, root)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    r"""Variance over ``dim``: :math:`\frac{1}{\max(0, N - c)} \sum_i (x_i - \bar x)^2`.

    :math:`N` is the number of reduced elements and :math:`c` the ``correction`` (default 1, Bessel's
    correction; ``unbiased=False`` means :math:`c = 0`). ``var(x, True)`` is ``var(x, unbiased=True)``, as
    in PyTorch. When :math:`N \le c` the result is inf or NaN, as in PyTorch.
    """
    return _moment("var", False, input, dim, unbiased, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    r"""Standard deviation :math:`\sqrt{\operatorname{var}(x)}` with the arguments of :func:`var`.

    Where the result is 0 the gradient is taken as 0 (the derivative of :math:`\sqrt{v}` at 0 is
    unbounded), as in PyTorch.
    """
    return _moment("std", True, input, dim, unbiased, keepdim, correction)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var(input, ...), mean(input, ...))`` over the same dims."""
    dim, correction = _correction("var_mean", dim, unbiased, correction)
    return var(input, dim, keepdim=keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std(input, ...), mean(input, ...))`` over the same dims."""
    dim, correction = _correction("std_mean", dim, unbiased, correction)
    return std(input, dim, keepdim=keepdim, correction=correction), mean(input, dim, keepdim)


# ----- logsumexp -----------------------------------------------------------------------------------------
class _LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = backend.array_module(x)
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        shift = x.max(axis=axes, keepdims=True) if x.size else xp.zeros(_kept_shape(x.shape, axes), x.dtype)
        # An infinite maximum would give inf - inf; shifting by 0 there gives the right limit.
        shift = xp.where(xp.isfinite(shift), shift, 0)
        with np.errstate(divide="ignore"):
            out = xp.log(xp.exp(x - shift).sum(axis=axes, keepdims=True)) + shift
        out = xp.asarray(out if keepdim else out.squeeze(axis=axes))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, axes, keepdim = ctx.input_shape, ctx.axes, ctx.keepdim
        with np.errstate(invalid="ignore"):  # a slice of -inf only: NaN gradient, as in PyTorch
            softmax = ew.exp(x - _keep(out, shape, axes, keepdim))
        return _expand(grad, shape, axes, keepdim) * softmax, None, None


def logsumexp(input, dim, keepdim=False):
    r""":math:`\log \sum_{i \in \text{dim}} e^{x_i}`, computed as :math:`m + \log \sum_i e^{x_i - m}` with
    :math:`m = \max_i x_i` so that it neither overflows nor underflows.

    Its gradient is the softmax over ``dim``, :math:`e^{x_i - y}`. Integer inputs give float32.
    """
    _check_tensor("logsumexp", input)
    if input.dtype.kind not in "fc":
        input = ew.cast(input, backend.get_default_dtype())
    return _LogSumExp.apply(input, _axes("logsumexp", input, dim), keepdim)


# ----- norms ---------------------------------------------------------------------------------------------------
class _VectorNorm(Function):
    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        xp = backend.array_module(x)
        ctx.input_shape, ctx.p, ctx.axes, ctx.keepdim = x.shape, p, axes, keepdim
        if p == 2:
            if len(axes) == x.ndim and not keepdim:
                flat = x.reshape(-1)
                out = xp.sqrt(xp.dot(flat, flat))  # one BLAS call, no squared copy
            else:
                out = xp.sqrt(xp.square(x).sum(axis=axes, keepdims=keepdim))
        elif p == 1:
            out = xp.abs(x).sum(axis=axes, keepdims=keepdim)
        elif p == math.inf:
            out = xp.abs(x).max(axis=axes, keepdims=keepdim)
        elif p == -math.inf:
            out = xp.abs(x).min(axis=axes, keepdims=keepdim)
        elif p == 0:
            out = (x != 0).sum(axis=axes, keepdims=keepdim).astype(x.dtype)
        else:
            with np.errstate(divide="ignore", over="ignore"):
                out = (xp.abs(x) ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
        out = xp.asarray(out, dtype=x.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        """PyTorch's ``norm_backward``, written with Tensor ops."""
        x, norm_ = ctx.saved_tensors
        p, shape, axes, keepdim = ctx.p, ctx.input_shape, ctx.axes, ctx.keepdim
        grad, norm_ = _keep(grad, shape, axes, keepdim), _keep(norm_, shape, axes, keepdim)
        at_zero = norm_.data == 0
        if p == 0:
            return broadcast_to(grad, shape) * 0, None, None, None
        if p == 1:
            return ew.sign(x) * grad, None, None, None
        if p == 2:  # the subgradient 0 at the zero vector
            return grad * ew.where(at_zero, 0.0, x / ew.where(at_zero, 1.0, norm_)), None, None, None
        abs_x = ew.abs(x)
        if math.isinf(p):
            xp = backend.array_module(x.data)
            ties = (abs_x.data == norm_.data) | xp.isnan(abs_x.data)
            share = ties / ties.sum(axis=axes, keepdims=True).astype(x.dtype)
            return ew.sign(x) * grad * _constant(share.astype(x.dtype)), None, None, None
        if p < 1:
            zero_x = x.data == 0
            scaled = ew.sign(x) * ew.where(zero_x, 0.0, ew.where(zero_x, 1.0, abs_x) ** (p - 1))
            return scaled * grad * norm_ ** (1 - p), None, None, None
        scale = ew.where(at_zero, 0.0, grad / ew.where(at_zero, 1.0, norm_) ** (p - 1))
        scaled = ew.sign(x) * abs_x ** (p - 1) if p < 2 else x * abs_x ** (p - 2)
        return scaled * scale, None, None, None


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    r"""Vector norm over ``dim`` (all elements when None): :math:`\|x\|_p = (\sum_i |x_i|^p)^{1/p}`.

    ``p`` is ``'fro'`` (the 2-norm of the elements, also over two dims), a number, ``inf``
    (:math:`\max_i |x_i|`), ``-inf`` (:math:`\min_i |x_i|`) or 0 (the count of non-zeros). Gradients follow
    PyTorch's, including 0 at the zero vector for :math:`p = 2` and an even split among ties for
    :math:`p = \pm\infty`. Unlike PyTorch, the second derivative at the zero vector is 0, not NaN (a
    gradient penalty through the norm does not turn the whole step into NaN). The nuclear norm
    (``'nuc'``) is not supported.
    """
    _check_tensor("norm", input)
    if dtype is not None:
        input = ew.cast(input, dtype)
    _check_float("norm", input)
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p must be 'fro', a number, inf or -inf, got {p!r}")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise ValueError(f"norm: p='fro' takes at most 2 dims, got dim={dim!r}")
        p = 2
    elif p is None:
        p = 2
    elif not isinstance(p, (int, float)) or isinstance(p, bool) or math.isnan(p):
        raise TypeError(f"norm: p must be 'fro', a number, inf or -inf, got {p!r}")
    axes = _axes("norm", input, dim)
    if p == -math.inf or (p == math.inf and input.data.size):
        _check_not_empty("norm", input, axes)
    return _VectorNorm.apply(input, float(p), axes, keepdim)


# ----- cumulative ops -------------------------------------------------------------------------------------
def _flip(x, axis):
    return backend.array_module(x).flip(x, axis=axis)


class _Cumsum(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        dtype = np.int64 if x.dtype.kind in "biu" else x.dtype
        return backend.array_module(x).cumsum(x, axis=axis, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return _ReverseCumsum.apply(grad, ctx.axis), None


class _ReverseCumsum(Function):
    """:math:`y_i = \\sum_{j \\ge i} x_j`: the adjoint of cumsum (and cumsum is its adjoint)."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return _flip(backend.array_module(x).cumsum(_flip(x, axis), axis=axis), axis)

    @staticmethod
    def backward(ctx, grad):
        return _Cumsum.apply(grad, ctx.axis), None


def _cumulative_axis(op, input, dim):
    _check_tensor(op, input)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    return _axis(op, input, dim)


def cumsum(input, dim, *, dtype=None):
    r"""Running sum along ``dim``: :math:`y_i = \sum_{j \le i} x_j`. Integer inputs give int64.

    The gradient is the reversed running sum of the output gradient, :math:`\sum_{j \ge i} g_j`.
    """
    axis = _cumulative_axis("cumsum", input, dim)
    if dtype is not None:
        input = ew.cast(input, dtype)
    if input.ndim == 0:
        return ew.cast(input, np.int64) if input.dtype.kind in "biu" else ew.clone(input)
    return _Cumsum.apply(input, axis)


class _Cumprod(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        dtype = np.int64 if x.dtype.kind in "biu" else x.dtype
        out = backend.array_module(x).cumprod(x, axis=axis, dtype=dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        r""":math:`\partial L / \partial x_i = \sum_{j \ge i} g_j y_j / x_i` where the input has no zeros.

        Past the first zero of a slice every :math:`y_j` is 0 whatever :math:`x_i` is, so the gradient is
        0 there; at the first zero it is :math:`\sum_{j \ge i} g_j \tilde y_j`, :math:`\tilde y` the running
        product with that zero replaced by 1.
        """
        x, out = ctx.saved_tensors
        axis = ctx.axis
        zeros = x.data == 0
        if not zeros.any():
            return _ReverseCumsum.apply(grad * out, axis) / x, None
        zeros_so_far = backend.array_module(zeros).cumsum(zeros, axis=axis)
        before_first, first = zeros_so_far == 0, zeros & (zeros_so_far == 1)
        before = _ReverseCumsum.apply(grad * out, axis) / ew.where(zeros, 1.0, x)
        out_without_first = cumprod(ew.where(first, 1.0, x), axis)
        at_first = _ReverseCumsum.apply(grad * out_without_first, axis)
        return ew.where(before_first, before, 0.0) + ew.where(first, at_first, 0.0), None


def cumprod(input, dim, *, dtype=None):
    r"""Running product along ``dim``: :math:`y_i = \prod_{j \le i} x_j`. Integer inputs give int64.

    The gradient is exact also where the input has zeros.
    """
    axis = _cumulative_axis("cumprod", input, dim)
    if dtype is not None:
        input = ew.cast(input, dtype)
    if input.ndim == 0:
        return ew.cast(input, np.int64) if input.dtype.kind in "biu" else ew.clone(input)
    return _Cumprod.apply(input, axis)


# ----- logic and counting (not differentiable) ------------------------------------------------------------
def _logical(op, input, dim, keepdim):
    _check_tensor(op, input)
    x = input.data
    out = getattr(backend.array_module(x), op)(x, axis=_axes(op, input, dim), keepdims=keepdim)
    # PyTorch keeps uint8 for uint8 inputs and gives bool otherwise.
    return Tensor._make(backend.array_module(x).asarray(out, dtype=np.uint8 if x.dtype == np.uint8 else np.bool_))


def all(input, dim=None, keepdim=False):
    """True where every element over ``dim`` is non-zero (a bool tensor; not differentiable)."""
    return _logical("all", input, dim, keepdim)


def any(input, dim=None, keepdim=False):
    """True where some element over ``dim`` is non-zero (a bool tensor; not differentiable)."""
    return _logical("any", input, dim, keepdim)


def count_nonzero(input, dim=None):
    """int64 count of the non-zero elements over ``dim`` (all when None)."""
    _check_tensor("count_nonzero", input)
    x = input.data
    axes = _axes("count_nonzero", input, dim)
    xp = backend.array_module(x)
    return Tensor._make(xp.asarray((x != 0).sum(axis=axes), dtype=np.int64))
