r"""Normalisation: batch, instance, group and layer normalisation, local response normalisation, and
:func:`normalize` (division by a p-norm).

Batch, instance, group and layer normalisation are one computation seen through different views of
the input: statistics over some axes, then an affine map whose parameters are constant along others,

.. math::
    \hat x = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}}, \qquad y = \gamma \hat x + \beta,

with the biased variance. They share one fused primitive, :class:`_Normalize`, because batch norm runs
in every step of a CNN: its forward makes two reductions and two element-wise passes over the data
(three with a bias), its backward two reductions and four passes, using the closed form (bars are
means over the statistics' axes)

.. math::
    \frac{\partial L}{\partial x} = \frac{1}{\sigma}\Big(d - \overline{d} - \hat x\, \overline{d\,\hat x}\Big),
    \qquad d = \gamma \frac{\partial L}{\partial y}.

The same computation composed of primitives makes about three times as many passes and keeps every
intermediate for its backward. When a graph of the backward is wanted (``create_graph=True``), the
same formula is built from differentiable Tensor ops instead, so second derivatives stay exact.
"""
import math
import numbers

from gradkit import backend
from gradkit.autograd.function import Function
from gradkit.autograd.grad_mode import no_grad, records_graph, state as _grad_state
from gradkit.kernels import parallel
from gradkit.ops.elementwise import absolute, clamp, rsqrt, sign, where
from gradkit.ops.shape import sum_to
from gradkit.tensor import Tensor

__all__ = ["batch_norm", "instance_norm", "group_norm", "layer_norm", "local_response_norm", "normalize"]
TENSOR_METHODS = ()


# ----- the fused primitive --------------------------------------------------------------------------------
def _kept_shape(view, axes):
    """The shape of a statistic: ``view`` with the reduced ``axes`` set to 1."""
    return tuple(1 if i in axes else size for i, size in enumerate(view))


# Every view below puts a reduced axis last, so that the big reduction runs along contiguous rows.
# On CPU a row dot product (a row sum is a dot product with ones) runs a SIMD loop several times
# faster than ``sum(axis=...)`` over a strided set of axes. (Not ``a @ ones``: a multithreaded BLAS
# matrix-vector product can stall for milliseconds when the cores are busy.)
def _row_dots(a, b):
    xp = backend.array_module(a)
    return xp.vecdot(a, b) if hasattr(xp, "vecdot") else xp.einsum("...i,...i->...", a, b)


def _row_sums(a):
    return _row_dots(a, backend.array_module(a).ones(a.shape[-1], a.dtype))


def _sum(a, axes):
    return a.sum(axis=axes, keepdims=True) if axes else a


# The input-sized passes run over chunks of the view's first axis (the batch) at once on the threads
# (gradkit.kernels.parallel): every pass below reads and writes whole rows, and the per-row results
# are reduced over the other axes only after all chunks are done, so the numbers do not depend on the
# split. Small statistics that broadcast along that axis are sliced with it (``_rows``).
def _over_batch(fn, view_array):
    parallel.over_rows(fn, view_array.shape[0], view_array)   # one call for small or GPU arrays


def _rows(a, start, stop):
    return a[start:stop] if a.shape[0] > 1 else a


def _row_results(view, like):
    """An array for one per-row result of ``view`` (its last axis kept as 1)."""
    return backend.array_module(like).empty(tuple(view[:-1]) + (1,), like.dtype)


# Batch norm's rows are the spatial positions of one channel of one image, and they can be short: 16
# values at 4x4, a single one for BatchNorm1d. Per-row reductions and passes broadcasting a per-row
# statistic then run NumPy's inner loops a few elements at a time, and the overhead of each row
# dominates: batch norm of (128, 512) features took 0.7-1.1 ms forward against PyTorch's 0.07. Such
# inputs are worked on as a matrix (N, C x row), see ``_Columns``. Measured against the row-wise
# passes (forward / backward, 2 threads): (128, 512) 0.34 / 0.31 of the time, (64, 64, 4, 4) 0.53 /
# 0.50, (64, 32, 8, 8) 0.73 / 0.76, (32, 64, 14, 14) 0.79 / 0.79; (32, 32, 32, 32) the same; but
# (256, 64, 8, 8), 4 MB, 0.96 / 1.17: the matrix passes run in one thread, and for large inputs
# whose rows are not that short, splitting the row-wise passes over the threads wins.
_SHORT_ROW = 16
_SHORTISH_ROW, _SHORTISH_MAX_BYTES = 256, 2 << 20


def _by_columns(view, other_axes, affine, nbytes):
    """Whether :class:`_Normalize` works on batch norm's input as a matrix (see ``_SHORT_ROW``):
    batch norm's statistics (over the batch and the rows, the weight constant along both) and short
    rows, or rows not that short in an input that the threads would not speed up much."""
    if other_axes != (0,) or affine[0] != 1 or affine[-1] != 1:
        return False
    return view[-1] < _SHORT_ROW or (view[-1] < _SHORTISH_ROW and nbytes <= _SHORTISH_MAX_BYTES)


class _Columns:
    """Batch norm's view (N, C, row) as the matrix (N, C row): a channel's statistics are sums down
    its columns (one vectorised pass over the contiguous rows of the matrix), then along its short
    row of column sums; per-channel values are widened to whole rows of the matrix, so that the
    element-wise passes run over long contiguous stretches. All in the calling thread: split into
    ranges of columns on two threads these passes measured slower (a column sum of 4 MB: 234 us split
    against 143 us whole; they run at the speed of the memory), and the batch-wise split of the
    row-wise passes cannot apply here: it would change the order of the sums down the batch."""

    def __init__(self, view, like):
        self.view, self.xp = view, backend.array_module(like)

    def matrix(self, a):
        return a.reshape(self.view[0], self.view[1] * self.view[2])

    def channel_sums(self, a, b=None):
        """The per-channel sums of the matrix ``a`` (or of ``a * b``, without the product's array), (1, C, 1)."""
        column_sums = a.sum(axis=0) if b is None else self.xp.einsum("ij,ij->j", a, b)
        return column_sums.reshape(self.view[1], self.view[2]).sum(axis=1).reshape(1, -1, 1)

    def wide(self, per_channel):
        """A (1, C, 1) value as one row of the matrix, (C row,), contiguous; None stays None."""
        if per_channel is None:
            return None
        return self.xp.ascontiguousarray(self.xp.broadcast_to(per_channel, (1,) + tuple(self.view[1:]))).reshape(-1)


def _reduce(a, axes, b=None):
    r""":math:`\sum_{axes} a` (or :math:`\sum_{axes} a b` without the temporary ``a * b``), dimensions kept."""
    last = a.ndim - 1
    if last in axes:
        a = (_row_sums(a) if b is None else _row_dots(a, b))[..., None]
    elif b is not None:
        a = a * b
    return _sum(a, tuple(axis for axis in axes if axis != last))


class _Normalize(Function):
    """``x`` seen as ``view``: statistics over ``axes`` (which include the last); weight and bias seen
    as ``affine``, a shape broadcastable to ``view``. ``running = (running_mean, running_var, momentum)``
    updates those tensors in place with the batch statistics (averaged over any instance axis)."""

    @staticmethod
    def forward(ctx, x, weight, bias, *, view, axes, affine, eps, running=None):
        xv = x.reshape(view)
        xp = backend.array_module(x)
        count = math.prod(view[a] for a in axes)
        if len(view) - 1 not in axes:
            raise ValueError(f"_Normalize: the statistics' axes {axes} must include the last axis of view {view}")
        other_axes = tuple(a for a in axes if a != len(view) - 1)
        # Two passes (mean, then the mean square of the centred values), as PyTorch does: the one-pass
        # E[x^2] - E[x]^2 loses every digit when the mean is large against the spread.
        columns = _Columns(view, x) if _by_columns(view, other_axes, affine, x.nbytes) else None
        if columns:
            x2 = columns.matrix(xv)
            mean = columns.channel_sums(x2) / count
            out2 = xp.subtract(x2, columns.wide(mean))   # x - mean until it is scaled below
            var = columns.channel_sums(out2, out2) / count
            out = out2.reshape(view)
        else:
            sums, squares, out = _row_results(view, x), _row_results(view, x), xp.empty(view, x.dtype)

            def row_sums(start, stop):
                sums[start:stop, ..., 0] = _row_sums(xv[start:stop])
            _over_batch(row_sums, xv)
            mean = _sum(sums, other_axes) / count

            def centre(start, stop):   # out holds x - mean until the last pass scales it
                centred = xp.subtract(xv[start:stop], _rows(mean, start, stop), out=out[start:stop])
                squares[start:stop, ..., 0] = _row_dots(centred, centred)
            _over_batch(centre, xv)
            var = _sum(squares, other_axes) / count
        invstd = 1 / xp.sqrt(var + eps)
        if running is not None:
            _update_running_stats(mean, var * (count / (count - 1)), *running)
        gamma = None if weight is None else weight.reshape(affine)
        shift = None if bias is None else bias.reshape(affine)
        # gamma constant along rows: folded into the per-row scale
        scale = invstd if gamma is None else invstd * gamma if affine[-1] == 1 else None

        def normalise(start, stop):
            rows = out[start:stop]
            if scale is not None:
                rows *= _rows(scale, start, stop)
            else:
                rows *= _rows(invstd, start, stop)
                rows *= _rows(gamma, start, stop)
            if shift is not None:
                rows += _rows(shift, start, stop)
        if columns:   # scale is set: the weight is constant along rows
            out2 *= columns.wide(scale)
            if shift is not None:
                out2 += columns.wide(shift)
        else:
            _over_batch(normalise, xv)
        ctx.attrs = (view, axes, affine, eps, count)
        ctx.input_shape = x.shape
        ctx.param_shapes = (None if weight is None else weight.shape, None if bias is None else bias.shape)
        # Only the input and the small statistics are kept. The backward needs x - mean (using it
        # avoids the cancellation of the shortcut sum(g x) - mean sum(g)), but keeping it alongside
        # the input doubled this op's memory until backward; recomputing it there is one pass and
        # gives the same bits, since it is the same subtraction of the same arrays.
        ctx.save_for_backward(x, weight, mean, invstd)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, weight, mean, invstd = ctx.saved_tensors
        if _grad_state.grad_enabled:
            return _normalize_backward_graph(ctx, grad, x, weight)
        return _normalize_backward_fused(ctx, grad.data, None if weight is None else weight.data, x.data,
                                         mean.data, invstd.data)


def _update_running_stats(mean, unbiased_var, running_mean, running_var, momentum):
    r"""PyTorch's exponential moving average: :math:`r \leftarrow (1 - m)\, r + m\, s`. Instance norm
    has one statistic per (instance, channel); the running buffers get their average over instances."""
    channels = running_mean.numel()
    with no_grad():
        running_mean.copy_(momentum * mean.reshape(-1, channels).mean(axis=0) + (1 - momentum) * running_mean.data)
        running_var.copy_(momentum * unbiased_var.reshape(-1, channels).mean(axis=0)
                          + (1 - momentum) * running_var.data)


def _normalize_backward_fused(ctx, g, weight, x, mean, invstd):
    r"""Gradients on raw arrays, with :math:`c = x - \mathrm{E}[x]` and :math:`d = \gamma g`:

    .. math::
        \frac{\partial L}{\partial x} = \sigma^{-1}\big(d - \overline{d} - c\, \sigma^{-2}\, \overline{d c}\big)

    One pass recomputes ``c`` (the saved input minus the saved mean: the same subtraction as in
    forward, so the same bits) together with the two row reductions; the input gradient is then built
    in ``c``'s array in four element-wise passes. Where the weight is constant along each row (batch,
    instance and group norm), every sum over the data is a row sum of ``g`` or ``g c`` and the weight
    only enters the small per-row results; where it is also constant along all the statistics' axes
    (batch and instance norm), it factors out into the final scale.
    """
    view, axes, affine, _, count = ctx.attrs
    weight_shape, bias_shape = ctx.param_shapes
    need_x, need_weight, need_bias = ctx.needs_input_grad
    xp = backend.array_module(g)
    g, xv = g.reshape(view), x.reshape(view)
    param_axes = tuple(i for i, size in enumerate(affine) if size == 1)
    other_axes = tuple(a for a in axes if a != len(view) - 1)   # the statistics' axes besides the rows
    gamma = None if weight is None else weight.reshape(affine)
    factored = gamma is None or all(affine[a] == 1 for a in axes)
    rows_share_weight = gamma is None or affine[-1] == 1
    columns = _Columns(view, g) if _by_columns(view, other_axes, affine, g.nbytes) else None
    if columns:
        # Down the columns (see _SHORT_ROW): row_g and row_gc hold the per-channel totals, which the
        # sums over the (now size-1) other axes below leave as they are.
        g2 = columns.matrix(g)
        centred2 = xp.subtract(columns.matrix(xv), columns.wide(mean))
        centred = centred2.reshape(view)
        row_g, row_gc = columns.channel_sums(g2), columns.channel_sums(g2, centred2)
    else:
        centred = xp.empty(view, g.dtype)
        row_g, row_gc = _row_results(view, g), _row_results(view, g)

        def centre(start, stop):
            c = xp.subtract(xv[start:stop], _rows(mean, start, stop), out=centred[start:stop])
            if rows_share_weight:
                row_g[start:stop, ..., 0] = _row_sums(g[start:stop])
                row_gc[start:stop, ..., 0] = _row_dots(g[start:stop], c)
        _over_batch(centre, xv)
    d = None
    if rows_share_weight:
        sum_d = _sum(row_g if factored else row_g * gamma, other_axes)
        sum_dc = _sum(row_gc if factored else row_gc * gamma, other_axes)
    else:
        d = g * gamma
        sum_d, sum_dc = _reduce(d, axes), _reduce(d, axes, centred)
    grad_x = grad_weight = grad_bias = None
    if need_weight:   # the sum over the parameter's axes of g * xhat, xhat = c / sigma
        if rows_share_weight:
            grad_weight = _sum(row_gc * invstd, param_axes)
        else:
            scaled = g * centred
            scaled *= invstd
            grad_weight = _reduce(scaled, param_axes)
        grad_weight = Tensor._make(grad_weight.reshape(weight_shape))
    if need_x:
        # ``centred`` is this backward's own array and nothing reads it after this point (the weight
        # gradient above is done): the input gradient is built in it, saving one input-sized array.
        if factored:      # sums of g, not d: gamma joins the final scale
            coefficients = (-invstd * invstd * sum_dc / count, g, sum_d / count,
                            invstd if gamma is None else invstd * gamma)
        elif rows_share_weight:
            coefficients = (-invstd ** 3 * sum_dc / count, invstd * sum_d / count, g, invstd * gamma)
        else:
            coefficients = (-invstd * invstd * sum_dc / count, d, sum_d / count, invstd)

        def input_grad(start, stop):
            rows = centred[start:stop]
            a, b, c, e = (_rows(v, start, stop) for v in coefficients)
            _input_grad_terms(rows, a, b, c, e, rows_share_weight and not factored)

        if columns:   # batch norm is factored: b is the gradient itself, the others per channel
            a, _, c, e = coefficients
            _input_grad_terms(centred2, columns.wide(a), g2, columns.wide(c), columns.wide(e), False)
        else:
            _over_batch(input_grad, xv)
        grad_x = Tensor._make(centred.reshape(ctx.input_shape))
    if need_bias:
        grad_bias = _sum(row_g, param_axes) if affine[-1] == 1 else _reduce(g, param_axes)
        grad_bias = Tensor._make(grad_bias.reshape(bias_shape))
    return grad_x, grad_weight, grad_bias


def _input_grad_terms(rows, a, b, c, e, weighted_rows):
    """The last passes of the input gradient, in place on ``rows`` (which hold x - mean), with the
    coefficients of :func:`_normalize_backward_fused`."""
    rows *= a
    if weighted_rows:
        rows -= b
        rows += c * e
    else:
        rows += b
        rows -= c
        rows *= e


def _normalize_backward_graph(ctx, grad, x, weight):
    """The same gradients built from differentiable ops, so that they can be differentiated again."""
    view, axes, affine, eps, count = ctx.attrs
    weight_shape, bias_shape = ctx.param_shapes
    need_x, need_weight, need_bias = ctx.needs_input_grad
    stats = _kept_shape(view, axes)
    xv, g = x.reshape(view), grad.reshape(view)
    centred = xv - sum_to(xv, stats) / count
    invstd = rsqrt(sum_to(centred * centred, stats) / count + eps)
    xhat = centred * invstd
    d = g if weight is None else g * weight.reshape(affine)
    grad_x = grad_weight = grad_bias = None
    if need_x:
        grad_x = ((d - sum_to(d, stats) / count - xhat * (sum_to(d * xhat, stats) / count)) * invstd).reshape(x.shape)
    if need_weight:
        grad_weight = sum_to(g * xhat, affine).reshape(weight_shape)
    if need_bias:
        grad_bias = sum_to(g, affine).reshape(bias_shape)
    return grad_x, grad_weight, grad_bias


def _normalize_with_running_stats(input, running_mean, running_var, weight, bias, eps):
    r"""Evaluation mode: a per-channel affine map :math:`y = x\,s + t`, :math:`s = \gamma / \sqrt{r_v + \epsilon}`,
    :math:`t = \beta - r_m s`, the arithmetic of PyTorch's CPU kernel. Two passes; built from primitives,
    or, when no graph is recorded (inference), the same arithmetic on the arrays, without eight graph-less
    ops' bookkeeping (a ResNet's batch-1 forward ran seven of these at 90 us each, two passes over 128 KB)."""
    per_channel = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    tensors = (input, running_mean, running_var, weight, bias)
    if records_graph(*tensors):
        return _affine_map(*tensors, eps, per_channel, rsqrt)
    arrays = [None if t is None else t.data for t in tensors]
    return Tensor._make(_affine_map(*arrays, eps, per_channel, lambda v: 1 / backend.array_module(v).sqrt(v)))


def _affine_map(x, mean, var, weight, bias, eps, per_channel, rsqrt_of):
    """:func:`_normalize_with_running_stats`' arithmetic, on Tensors or on arrays alike."""
    scale = rsqrt_of(var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    return x * scale.reshape(per_channel) + shift.reshape(per_channel)


# ----- argument checks ------------------------------------------------------------------------------------
def _as_tensor(x):
    return x if isinstance(x, Tensor) or x is None else Tensor(x)


def _check_per_channel(op, channels, **tensors):
    for name, t in tensors.items():
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"{op}: expected {name} of shape ({channels},) for an input with {channels} channels, "
                             f"got {tuple(t.shape)}")


def _check_input(op, input, min_ndim, layout):
    if input.ndim < min_ndim:
        raise ValueError(f"{op}: expected an input of at least {min_ndim} dimensions {layout}, "
                         f"got shape {tuple(input.shape)}")


def _check_eps(op, eps):
    # Zero is allowed here, as in PyTorch (the layers, whose eps is a hyperparameter, require eps > 0).
    if not isinstance(eps, numbers.Real) or eps < 0:
        raise ValueError(f"{op}: eps must be a non-negative number, got {eps!r}")


# ----- public functions -------------------------------------------------------------------------------------
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    r"""Batch normalisation over the channel axis 1 of an input :math:`(N, C, *)`.

    .. math::
        y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \gamma + \beta

    With ``training=True`` the mean and biased variance are taken per channel over :math:`N` and the
    spatial axes, and ``running_mean``/``running_var`` (if given) are updated in place:
    :math:`r \leftarrow (1 - m) r + m s`, with the *unbiased* batch variance for ``running_var``.
    With ``training=False`` the running statistics are used instead.

    >>> x = gk.randn(8, 3, 5, 5)
    >>> F.batch_norm(x, None, None, training=True).shape
    (8, 3, 5, 5)
    """
    input, weight, bias = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    running_mean, running_var = _as_tensor(running_mean), _as_tensor(running_var)
    _check_input("batch_norm", input, 2, "(N, C, *)")
    channels = input.shape[1]
    _check_per_channel("batch_norm", channels, weight=weight, bias=bias, running_mean=running_mean,
                       running_var=running_var)
    _check_eps("batch_norm", eps)
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must be given together")
    if not training:
        if running_mean is None:
            raise ValueError("batch_norm: running_mean and running_var are required when training=False")
        return _normalize_with_running_stats(input, running_mean, running_var, weight, bias, eps)
    per_channel = input.data.size // max(channels, 1)
    if per_channel <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}")
    view = (input.shape[0], channels, per_channel // input.shape[0])
    if running_mean is not None and not isinstance(momentum, numbers.Real):
        raise ValueError(f"batch_norm: momentum must be a number, got {momentum!r} (the cumulative average of "
                         "momentum=None is kept by the BatchNorm layers, which pass 1 / num_batches_tracked)")
    running = None if running_mean is None else (running_mean, running_var, momentum)
    return _Normalize.apply(input, weight, bias, view=view, axes=(0, 2), affine=(1, channels, 1), eps=eps,
                            running=running)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    r"""Instance normalisation: batch normalisation of each sample on its own, input :math:`(N, C, *)`.

    Mean and biased variance are taken per (sample, channel) over the spatial axes. Running statistics,
    when given and ``use_input_stats`` is true, are updated with the average over the batch of the
    per-sample statistics (as PyTorch does); with ``use_input_stats=False`` they normalise instead.
    """
    input, weight, bias = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    running_mean, running_var = _as_tensor(running_mean), _as_tensor(running_var)
    _check_input("instance_norm", input, 2, "(N, C, *)")
    batch, channels = input.shape[:2]
    _check_per_channel("instance_norm", channels, weight=weight, bias=bias, running_mean=running_mean,
                       running_var=running_var)
    _check_eps("instance_norm", eps)
    if (running_mean is None) != (running_var is None):
        raise ValueError("instance_norm: running_mean and running_var must be given together")
    if not use_input_stats:
        if running_mean is None:
            raise ValueError("instance_norm: running_mean and running_var are required when use_input_stats=False")
        return _normalize_with_running_stats(input, running_mean, running_var, weight, bias, eps)
    spatial = math.prod(input.shape[2:])
    if spatial <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {tuple(input.shape)}")
    running = None if running_mean is None else (running_mean, running_var, momentum)
    return _Normalize.apply(input, weight, bias, view=(batch, channels, spatial), axes=(2,),
                            affine=(1, channels, 1), eps=eps, running=running)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    r"""Group normalisation: the channels of an input :math:`(N, C, *)` split into ``num_groups``
    groups, each normalised per sample over its channels and spatial positions; then a per-channel
    affine map :math:`\gamma_c \hat x + \beta_c`. ``num_groups = 1`` is layer norm over :math:`(C, *)`
    with per-channel parameters; ``num_groups = C`` is instance norm.
    """
    input, weight, bias = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    _check_input("group_norm", input, 2, "(N, C, *)")
    batch, channels = input.shape[:2]
    if not isinstance(num_groups, numbers.Integral) or num_groups < 1 or channels % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups!r} must be a positive divisor of the number of "
                         f"channels, got input of shape {tuple(input.shape)}")
    _check_per_channel("group_norm", channels, weight=weight, bias=bias)
    _check_eps("group_norm", eps)
    group_size = channels // num_groups
    view = (batch, num_groups, group_size, math.prod(input.shape[2:]))
    return _Normalize.apply(input, weight, bias, view=view, axes=(2, 3), affine=(1, num_groups, group_size, 1),
                            eps=eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    r"""Layer normalisation over the trailing dimensions ``normalized_shape`` of the input, with an
    element-wise affine map of that shape: :math:`y = \hat x \odot \gamma + \beta`.

    >>> F.layer_norm(gk.randn(2, 5, 8), (8,)).shape
    (2, 5, 8)
    """
    input, weight, bias = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) \
        else tuple(normalized_shape)
    trailing = len(normalized_shape)
    if not 0 < trailing <= input.ndim or tuple(input.shape[input.ndim - trailing:]) != normalized_shape:
        raise ValueError(f"layer_norm: normalized_shape={normalized_shape} must match the trailing dimensions "
                         f"of the input, got input of shape {tuple(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise ValueError(f"layer_norm: expected {name} of shape {normalized_shape}, got {tuple(t.shape)}")
    _check_eps("layer_norm", eps)
    features = math.prod(normalized_shape)
    view = (input.data.size // max(features, 1), features)
    return _Normalize.apply(input, weight, bias, view=view, axes=(1,), affine=(1, features), eps=eps)


class _ChannelWindowSum(Function):
    """:math:`s_c = \\sum_{c' = c - before}^{c + after} x_{c'}` along axis 1, zero outside the channels.

    A linear map whose adjoint is the same window reflected, so backward is this op with ``before``
    and ``after`` swapped, and it is differentiable any number of times."""

    @staticmethod
    def forward(ctx, x, before, after):
        ctx.window = (before, after)
        channels = x.shape[1]
        out = x.copy()
        for shift in range(1, max(before, after) + 1):
            if shift <= before and shift < channels:   # x_{c - shift} joins s_c
                out[:, shift:] += x[:, :channels - shift]
            if shift <= after and shift < channels:    # x_{c + shift} joins s_c
                out[:, :channels - shift] += x[:, shift:]
        return out

    @staticmethod
    def backward(ctx, grad):
        before, after = ctx.window
        return _ChannelWindowSum.apply(grad, after, before)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    r"""Local response normalisation across channels (AlexNet), input :math:`(N, C, *)`:

    .. math::
        b_c = a_c \Big(k + \frac{\alpha}{n} \sum_{c' = c - \lfloor n/2 \rfloor}^{c + \lfloor (n-1)/2 \rfloor}
        a_{c'}^2\Big)^{-\beta}

    with :math:`n` = ``size`` and channels outside :math:`[0, C)` counted as zero (the average always
    divides by :math:`n`, as PyTorch's zero-padded average pooling does).
    """
    input = _as_tensor(input)
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected an input of at least 3 dimensions (N, C, *), "
                         f"got shape {tuple(input.shape)}")
    if not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    if input.data.size == 0:
        return input
    window_mean = _ChannelWindowSum.apply(input * input, size // 2, (size - 1) // 2) / size
    return input / (window_mean * alpha + k) ** beta


class _PNorm(Function):
    """:math:`\\|x\\|_p` over ``dims``, dimensions kept. Its gradient is 0 where the norm is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, p, dims):
        xp = backend.array_module(x)
        if p == 2:
            out = xp.sqrt((x * x).sum(axis=dims, keepdims=True))
        elif p == math.inf:
            out = xp.abs(x).max(axis=dims, keepdims=True)
        elif p == 1:
            out = xp.abs(x).sum(axis=dims, keepdims=True)
        else:
            out = (xp.abs(x) ** p).sum(axis=dims, keepdims=True) ** (1 / p)
        ctx.p = p
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, norm = ctx.saved_tensors
        p, zero = ctx.p, norm == 0
        if p == math.inf:
            # Ties share the gradient equally.
            is_max = (absolute(x) == norm).to(x.dtype)
            return sign(x) * is_max * (grad / sum_to(is_max, norm.shape))
        if p == 1:
            return sign(x) * grad
        safe_norm = where(zero, 1.0, norm)
        if p == 2:
            return x * where(zero, 0.0, grad / safe_norm)
        return sign(x) * absolute(x) ** (p - 1) * where(zero, 0.0, grad / safe_norm ** (p - 1))


def normalize(input, p=2.0, dim=1, eps=1e-12):
    r""":math:`v / \max(\|v\|_p, \epsilon)` for each vector :math:`v` along ``dim`` (an int or a tuple).

    >>> F.normalize(gk.tensor([[3., 4.]]))
    tensor([[0.6000, 0.8000]])
    """
    input = _as_tensor(input)
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    if any(not -input.ndim <= d < max(input.ndim, 1) for d in dims):
        raise ValueError(f"normalize: dim={dim} is out of range for an input of shape {tuple(input.shape)}")
    if not p > 0:
        raise ValueError(f"normalize: p must be positive, got {p!r}")
    dims = tuple(sorted(d % max(input.ndim, 1) for d in dims))
    return input / clamp(_PNorm.apply(input, p, dims), min=eps)
