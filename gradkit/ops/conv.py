r"""Convolution and transposed convolution, 1-D and 2-D, as im2col plus one matrix product per group.

A convolution is bilinear in its input and weight, and so are its two gradients. Each of the three
maps is a primitive whose backward is written with the other two:

- ``_Conv``            :math:`y = x \star w`                      (forward)
- ``_ConvInputGrad``   :math:`g_x = g_y \star^\top w`             (the transposed convolution)
- ``_ConvWeightGrad``  :math:`g_w = x \star^\top g_y`

so gradients of any order are exact (gradient penalties, double backward) while each map is still
one GEMM over an im2col buffer (see :mod:`gradkit.kernels.im2col` for the layout). Two choices
made by measurement: at stride 1 the input gradient runs as a convolution with the flipped kernel
(im2col + GEMM beats GEMM + the overlapping additions of col2im), and depthwise convolution
(``groups == in_channels``) runs as direct loops (:mod:`gradkit.kernels.depthwise`). The forward
keeps no im2col buffer: the weight gradient rebuilds it in backward (see ``_Conv.forward``). Each map
runs over batch slices on the threads; a thin one (a first layer, see ``_PER_IMAGE_MAX_ROWS``) as one
product per image, and the plain backward hands both gradients' slices to the threads together.

Shapes (2-D; 1-D drops H):

- input :math:`(N, C_{in}, H, W)`, weight :math:`(C_{out}, C_{in}/g, k_H, k_W)`, output
  :math:`(N, C_{out}, H_{out}, W_{out})` with
  :math:`H_{out} = \lfloor (H + p_{top} + p_{bottom} - d (k_H - 1) - 1) / s \rfloor + 1`.
- transposed: input :math:`(N, C_{in}, H, W)`, weight :math:`(C_{in}, C_{out}/g, k_H, k_W)`,
  :math:`H_{out} = (H - 1) s - 2p + d (k_H - 1) + p_{out} + 1`.
"""
from collections import namedtuple

import numpy as np

from gradkit import backend
from gradkit.autograd.function import Function
from gradkit.autograd.grad_mode import state as _grad_state
from gradkit.kernels import parallel
from gradkit.kernels.im2col import col2im, im2col
from gradkit.ops.arguments import remembered
from gradkit.ops.elementwise import add
from gradkit.ops.shape import reshape, sum_to
from gradkit.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]
TENSOR_METHODS = ()

# stride, dilation: (H, W) pairs; padding: (top, bottom, left, right).
Geometry = namedtuple("Geometry", "stride padding dilation groups")


# ----- raw-array maps ----------------------------------------------------------------------------------
def _im2col(x, geometry, kernel_hw, out_hw, reuse=False):
    return im2col(x, tuple(kernel_hw), geometry.stride, geometry.padding, geometry.dilation, tuple(out_hw), reuse)


def _grouped(matrix, groups):
    """View a ``(rows, cols)`` matrix whose rows are ``groups`` equal blocks as ``(groups, rows/g, cols)``."""
    return matrix.reshape(groups, matrix.shape[0] // groups, matrix.shape[1])


def _channel_major(grad):
    """``(N, C, H, W)`` -> ``(C, N H W)``, the layout the GEMMs read."""
    xp = backend.array_module(grad)
    return xp.ascontiguousarray(grad.transpose(1, 0, 2, 3)).reshape(grad.shape[1], -1)


def _depthwise(geometry, in_channels, array):
    """One input channel per group, on the CPU: direct loops beat im2col (see gradkit.kernels.depthwise)."""
    return geometry.groups > 1 and geometry.groups == in_channels and type(array) is np.ndarray


def _depthwise_kernels():
    from gradkit.kernels import depthwise  # numba compiles on first use: keep `import gradkit` fast
    return depthwise


def _depthwise_args(geometry):
    (sh, sw), (top, _, left, _), (dh, dw) = geometry.stride, geometry.padding, geometry.dilation
    return sh, sw, top, left, dh, dw


# Largest im2col buffer built at once on the CPU. A whole batch's buffer is kH kW times the input
# (29 MB for the 64-channel input gradient of the CNN bench, 36 MB in the ResNet bench), and as the
# per-thread scratch it stayed that large for the life of the process. Running the GEMMs over
# slices of the batch bounds it: each image's columns are independent in the forward and input
# gradient (same numbers), and the weight gradient, a sum over images, adds the slices' partial
# products as BLAS adds its own blocks of the long dimension. The product reads its columns back
# from the cache they were just written to: the convolutions of the ResNet and CNN benches took
# 83-91 ms in all with 2 MB slices against 90-111 ms with 8 MB ones (2 threads). 3 MB holds two
# 32-channel 32x32 images (1.2 MB each), and the GEMMs of 2048 columns ran at 66-72 GFLOP/s against
# 53-60 for 1024 (one image): ResNet bench step 178 -> 163 ms (3.5-5 MB: 167-171), CNN 42.2 -> 39.8 ms.
_COLS_BUDGET_BYTES = 3 << 20


def _batch_slices(x, rows_per_image, other_bytes=0):
    """``slice`` objects over the batch, each slice's im2col buffer within ``_COLS_BUDGET_BYTES``, as
    equal as can be and a multiple of the thread count when the work is worth splitting, so the threads
    finish together (one slice on GPUs, where one large GEMM is best and memory is not the scratch's concern).
    ``other_bytes``: what the slices read and write besides the buffer (the splitting is worth it for a
    small buffer with a large output too: the first layer of a CNN, with one input channel)."""
    n = x.shape[0]
    if type(x) is not np.ndarray or n <= 1:
        return [slice(0, n)]   # an empty batch still gets one (empty) slice: its weight gradient is zeros
    per_image = max(rows_per_image * x.dtype.itemsize, 1)
    threads = parallel.parts_for(x, per_image * n + other_bytes)
    count = -(-n // max(1, _COLS_BUDGET_BYTES // per_image))
    count = min(n, -(-count // threads) * threads)
    return [slice(start, stop) for start, stop in parallel.chunks(n, count)]


def _over_slices(fn, slices):
    """``fn(part)`` for every batch slice, the slices split over the threads in contiguous runs (see
    :mod:`gradkit.kernels.parallel`; each thread has its own im2col scratch buffer); the results in order."""
    return parallel.each(lambda i: fn(slices[i]), len(slices))


# Each map below is planned as independent batch slices, ``_Slices(run, parts, finish)``: ``run(part)``
# for every slice in ``parts`` (a partial result or None), then ``finish(results)`` gives the array.
# One map runs its slices split over the threads (``_run_slices``); the plain backward hands the slices
# of both gradients to the threads together (``_Conv.backward``).
_Slices = namedtuple("_Slices", "run parts finish")


# Up to this many rows of columns (K = C_in kH kW: the first layer of a network), the forward and
# the weight gradient run one product per image instead of one per slice: the forward writes each
# image's (C_out, H W) straight into the batch-first output, and the weight gradient reads each
# image's gradient as it lies and sums the images' products. The slice-wide product needs a
# transposed copy of its output or of the gradient, and for so thin a product that copy costs as
# much as the product. Measured on 2 threads, weight gradient: K = 9 (the CNN bench's first layer,
# 64 images of 28x28) 2.66 -> 1.14 ms, K = 27 (32 RGB images of 32x32) 2.02 -> 1.71 ms, K = 72 the
# same either way, K = 144 and 288 slower; forward: K = 9 the same, K = 27 2.21 -> 1.54 ms.
_PER_IMAGE_MAX_ROWS = 32


def _run_slices(plan):
    return plan.finish(_over_slices(plan.run, plan.parts))


def conv_arrays(x, weight, bias, geometry, out_hw):
    """The convolution; its im2col buffer is this thread's scratch, free again on return."""
    if _depthwise(geometry, x.shape[1], weight):
        out = _depthwise_kernels().depthwise_forward(np.ascontiguousarray(x), np.ascontiguousarray(weight),
                                                     *_depthwise_args(geometry), *out_hw)
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        return out
    return _run_slices(_conv_slices(x, weight, bias, geometry, out_hw))


def _conv_slices(x, weight, bias, geometry, out_hw):
    xp = backend.array_module(x)
    n = x.shape[0]
    c_out = weight.shape[0]
    g = geometry.groups
    weight2d = weight.reshape(g, c_out // g, -1)
    out = xp.empty((n, c_out) + tuple(out_hw), x.dtype)

    rows, plane = weight2d.shape[2], out_hw[0] * out_hw[1]
    per_image = g == 1 and rows <= _PER_IMAGE_MAX_ROWS and xp is np

    def slice_of_batch(part):
        cols = _im2col(x[part], geometry, weight.shape[2:], out_hw, reuse=True)   # (C_in kH kW, n H_out W_out)
        if per_image:
            # A thin product: one per image, straight into the batch-first output (see
            # _PER_IMAGE_MAX_ROWS).
            images = part.stop - part.start
            out_images = out[part].reshape(images, c_out, plane)
            np.matmul(weight2d[0], cols.reshape(rows, images, plane).transpose(1, 0, 2), out=out_images)
            if bias is not None:
                out_images += bias.reshape(-1, 1)
            return
        out2d = weight2d[0] @ cols if g == 1 else xp.matmul(weight2d, _grouped(cols, g)).reshape(c_out, -1)
        # The GEMM gives channel-major (C_out, n, H_out, W_out): the bias goes on there, along its
        # contiguous rows, then one copy puts n first. (Adding it during that copy, three operands in
        # different layouts, took twice as long as both passes: 0.51 against 0.26 ms for 32 images
        # of 32 channels of 28x28.)
        if bias is not None:
            xp.add(out2d, bias.reshape(-1, 1), out=out2d)
        out[part] = out2d.reshape((c_out, -1) + tuple(out_hw)).transpose(1, 0, 2, 3)

    parts = _batch_slices(x, rows * g * plane, out.nbytes)
    return _Slices(slice_of_batch, parts, lambda _: out)


def _flipped_transposed(weight, groups):
    """The weight of the convolution that computes this one's input gradient at stride 1:
    in/out channels swapped (per group) and the kernel turned by 180 degrees."""
    c_out, c_in_g, kh, kw = weight.shape
    w = weight.reshape(groups, c_out // groups, c_in_g, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    return w.reshape(groups * c_in_g, c_out // groups, kh, kw)


def conv_input_grad_arrays(grad, weight, geometry, in_hw):
    g = geometry.groups
    if _depthwise(geometry, weight.shape[1] * g, weight):
        return _depthwise_kernels().depthwise_input_grad(np.ascontiguousarray(grad), np.ascontiguousarray(weight), g,
                                                         *_depthwise_args(geometry), *in_hw)
    return _run_slices(_input_grad_slices(grad, weight, geometry, in_hw))


def _input_grad_slices(grad, weight, geometry, in_hw):
    xp = backend.array_module(grad)
    n, c_out = grad.shape[0], grad.shape[1]
    c_in_per_group, kh, kw = weight.shape[1], weight.shape[2], weight.shape[3]
    g = geometry.groups
    if geometry.stride == (1, 1):
        # At stride 1 the input gradient is itself a convolution (of the gradient with the flipped
        # kernel): im2col + GEMM is faster than GEMM + col2im, whose additions overlap.
        (dh, dw), (top, _, left, _) = geometry.dilation, geometry.padding
        flipped = Geometry((1, 1), ((kh - 1) * dh - top, 0, (kw - 1) * dw - left, 0), (dh, dw), g)
        return _conv_slices(grad, _flipped_transposed(weight, g), None, flipped, tuple(in_hw))
    weight2d = weight.reshape(g, c_out // g, -1)
    grad_x = xp.empty((n, c_in_per_group * g) + tuple(in_hw), grad.dtype)

    def slice_of_batch(part):
        grad2d = _channel_major(grad[part])                                     # (C_out, n H_out W_out)
        if g == 1:
            cols = weight2d[0].T @ grad2d                                       # (C_in k_H k_W, n H_out W_out)
        else:
            cols = xp.matmul(weight2d.transpose(0, 2, 1), _grouped(grad2d, g)).reshape(-1, grad2d.shape[1])
        grad_x[part] = col2im(cols, grad_x[part].shape, (kh, kw), geometry.stride, geometry.padding,
                              geometry.dilation, grad.shape[2:])

    parts = _batch_slices(grad, weight2d.shape[2] * g * grad.shape[2] * grad.shape[3], grad.nbytes + grad_x.nbytes)
    return _Slices(slice_of_batch, parts, lambda _: grad_x)


def conv_weight_grad_arrays(x, grad, geometry, kernel_hw):
    if _depthwise(geometry, x.shape[1], x):
        return _depthwise_kernels().depthwise_weight_grad(np.ascontiguousarray(x), np.ascontiguousarray(grad),
                                                          *kernel_hw, *_depthwise_args(geometry))
    return _run_slices(_weight_grad_slices(x, grad, geometry, kernel_hw))


def _weight_grad_slices(x, grad, geometry, kernel_hw):
    xp = backend.array_module(x)
    c_out = grad.shape[1]
    g = geometry.groups
    rows = x.shape[1] * kernel_hw[0] * kernel_hw[1]

    # The gradient goes channel-major, (C_out, n H W), a copy of whole H W planes; the product reads
    # the columns transposed through BLAS's flag. The other layout, (n H W, C_out), needs a transpose
    # with C_out innermost whose reads jump a whole plane each: 2.7 ms of a 4 MB gradient (32x32
    # planes) against 0.2 ms, while the two products take the same time.
    def slice_of_batch(part):
        cols = _im2col(x[part], geometry, kernel_hw, grad.shape[2:], reuse=True)   # (K, n H W)
        if g == 1 and rows <= _PER_IMAGE_MAX_ROWS and xp is np:
            images, plane = part.stop - part.start, grad.shape[2] * grad.shape[3]
            per_image = cols.reshape(rows, images, plane).transpose(1, 2, 0)       # (n, H W, K)
            return np.matmul(grad[part].reshape(images, c_out, plane), per_image).sum(axis=0)
        grad2d = _channel_major(grad[part])                                        # (C_out, n H W)
        if g == 1:
            return grad2d @ cols.T                                                 # (C_out, K)
        return xp.matmul(_grouped(grad2d, g), _grouped(cols, g).transpose(0, 2, 1))   # (g, C_out/g, K/g)

    def finish(partials):
        weight2d = partials[0]
        for partial in partials[1:]:   # in batch order
            weight2d += partial
        return weight2d.reshape(c_out, x.shape[1] // g, *kernel_hw)

    parts = _batch_slices(x, rows * grad.shape[2] * grad.shape[3], 2 * grad.nbytes)
    return _Slices(slice_of_batch, parts, finish)


# ----- the three primitives ------------------------------------------------------------------------------
class _Conv(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, geometry, out_hw):
        ctx.geometry = geometry
        out = conv_arrays(x, weight, bias, geometry, out_hw)
        # The weight gradient reads the same im2col buffer, but it is not kept: it is kH kW times
        # the input (9x for 3x3), and keeping one per layer until backward was most of the peak
        # memory of training (ResNet bench: 120 of 175 MB live after forward). Rebuilding it in
        # backward costs one strided copy into the warm scratch buffer, against allocating (and
        # page-faulting) a fresh buffer per layer in forward: the ResNet bench step got faster.
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        geometry = ctx.geometry
        grad_b = _bias_grad(grad) if need_b else None
        if (need_x and need_w and not _grad_state.grad_enabled and parallel.num_threads() > 1
                and type(x.data) is np.ndarray and not _depthwise(geometry, x.shape[1], x.data)):
            # Plain backward: the batch slices of both gradients go to the threads together, each
            # thread taking the next slice when it is free. Split one gradient after the other, each
            # split waits for its slower half; run one gradient per thread, the input gradient's
            # thread finishes last (at stride 1 its GEMM has fewer rows, C_in, and its im2col twice
            # the columns when C_out = 2 C_in; at stride 2 it adds a col2im). Two threads, per layer:
            # CNN bench 32->64 at 14x14 14.1 ms one gradient per thread, 14.8 one after the other,
            # 13.9 together; ResNet bench 32->64 stride 2 13.6 (one after the other) -> 12.9, 64->64
            # at 16x16 15.2 (one per thread) -> 14.8. Whole training steps, interleaved against one
            # gradient per thread at stride 1 and one after the other otherwise: CNN 0.965-0.98,
            # ResNet 0.96-0.99. (Forward slices handed out the same way were no faster in the steps:
            # contiguous runs keep each thread on the images it pooled and activated.) The slices
            # are those of the two maps run alone, so the numbers are theirs.
            plans = (_input_grad_slices(grad.data, weight.data, geometry, x.shape[2:]),
                     _weight_grad_slices(x.data, grad.data, geometry, tuple(weight.shape[2:])))
            tasks = [(plan.run, part) for plan in plans for part in plan.parts]
            results = parallel.balanced(lambda i: tasks[i][0](tasks[i][1]), len(tasks))
            split = len(plans[0].parts)
            grad_x, grad_w = plans[0].finish(results[:split]), plans[1].finish(results[split:])
            return Tensor._make(grad_x), Tensor._make(grad_w), grad_b
        grad_x = _ConvInputGrad.apply(grad, weight, geometry=geometry, in_hw=x.shape[2:]) if need_x else None
        grad_w = _ConvWeightGrad.apply(x, grad, geometry=geometry, kernel_hw=weight.shape[2:]) if need_w else None
        return grad_x, grad_w, grad_b


def _bias_grad(grad):
    """The bias gradient, the sum of ``grad`` over batch and space. Plain backward on the CPU sums each
    image's rows on the threads (contiguous row sums, then the small (N, C) partials), which measured
    several times faster than one strided reduction over axes (0, 2, 3)."""
    data = grad.data
    if _grad_state.grad_enabled or type(data) is not np.ndarray or not data.flags.c_contiguous:
        return reshape(sum_to(grad, (1, grad.shape[1], 1, 1)), (grad.shape[1],))
    rows = data.reshape(data.shape[0], data.shape[1], -1)
    per_image = np.empty(rows.shape[:2], data.dtype)

    def some_images(start, stop):
        np.sum(rows[start:stop], axis=2, out=per_image[start:stop])
    parallel.over_rows(some_images, rows.shape[0], rows)
    return Tensor._make(per_image.sum(axis=0))


class _ConvInputGrad(Function):
    @staticmethod
    def forward(ctx, grad, weight, geometry, in_hw):
        ctx.geometry = geometry
        ctx.save_for_backward(grad, weight)
        return conv_input_grad_arrays(grad, weight, geometry, in_hw)

    @staticmethod
    def backward(ctx, grad_grad):
        grad, weight = ctx.saved_tensors
        need_grad, need_w = ctx.needs_input_grad
        geometry = ctx.geometry
        d_grad = _Conv.apply(grad_grad, weight, None, geometry=geometry, out_hw=grad.shape[2:]) if need_grad else None
        d_w = _ConvWeightGrad.apply(grad_grad, grad, geometry=geometry, kernel_hw=weight.shape[2:]) if need_w else None
        return d_grad, d_w


class _ConvWeightGrad(Function):
    @staticmethod
    def forward(ctx, x, grad, geometry, kernel_hw):
        ctx.geometry = geometry
        ctx.save_for_backward(x, grad)
        return conv_weight_grad_arrays(x, grad, geometry, tuple(kernel_hw))

    @staticmethod
    def backward(ctx, grad_grad):
        x, grad = ctx.saved_tensors
        need_x, need_grad = ctx.needs_input_grad
        geometry = ctx.geometry
        d_x = _ConvInputGrad.apply(grad, grad_grad, geometry=geometry, in_hw=x.shape[2:]) if need_x else None
        d_grad = _Conv.apply(x, grad_grad, None, geometry=geometry, out_hw=grad.shape[2:]) if need_grad else None
        return d_x, d_grad


# ----- argument checking -------------------------------------------------------------------------------
def _tuple_arg(op, name, value, size, minimum):
    """An int or a tuple of ``size`` ints, each at least ``minimum``."""
    items = (value,) * size if isinstance(value, (int, np.integer)) else tuple(value) \
        if isinstance(value, (tuple, list)) else None
    if items is None or len(items) != size or not all(isinstance(v, (int, np.integer)) for v in items):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {size} ints, got {value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return tuple(int(v) for v in items)


def _as_tensor(x):
    return x if isinstance(x, Tensor) or x is None else Tensor(x)


def _check_tensors(op, input, weight, bias, dims, transposed=False):
    """Dimensions and dtypes of input (batched or not), weight and bias."""
    weight_layout = "(in_channels, out_channels/groups" if transposed else "(out_channels, in_channels/groups"
    kernel_names = ", kH, kW)" if dims == 2 else ", kW)"
    if weight.ndim != dims + 2:
        raise ValueError(f"{op}: expected a {dims + 2}-D weight {weight_layout}{kernel_names}, "
                         f"got shape {tuple(weight.shape)}")
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input, "
                         f"got shape {tuple(input.shape)}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        raise TypeError(f"{op}: input, weight and bias must have the same dtype, got {input.dtype}, {weight.dtype}"
                        + (f" and {bias.dtype}" if bias is not None else ""))


def _same_padding(op, kernel, dilation, stride):
    if any(s != 1 for s in stride):
        raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride={stride})")
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))   # PyTorch puts the odd pixel at the bottom/right
    return pads


def _convnd(op, dims, input, weight, bias, stride, padding, dilation, groups):
    input, weight, bias = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    _check_tensors(op, input, weight, bias, dims)
    geometry, batched_shape, out_size = _shape_plan(op, dims, tuple(input.shape), tuple(weight.shape),
                                                    None if bias is None else tuple(bias.shape), stride, padding,
                                                    dilation, groups)
    unbatched = len(batched_shape) != input.ndim
    # 1-D runs as 2-D with a unit height: one code path, same numbers.
    if dims == 1:
        x = reshape(input, (batched_shape[0], batched_shape[1], 1, batched_shape[2]))
        w = reshape(weight, (weight.shape[0], weight.shape[1], 1, weight.shape[2]))
        out = _Conv.apply(x, w, bias, geometry=geometry, out_hw=(1, out_size[0]))
        out = reshape(out, (batched_shape[0], weight.shape[0], out_size[0]))
    else:
        x = reshape(input, batched_shape) if unbatched else input
        out = _Conv.apply(x, weight, bias, geometry=geometry, out_hw=out_size)
    return reshape(out, tuple(out.shape[1:])) if unbatched else out


@remembered
def _shape_plan(op, dims, input_shape, weight_shape, bias_shape, stride, padding, dilation, groups):
    """The checks and sizes that depend on shapes and arguments only: ``(geometry, batched input shape,
    output size)``, remembered per call signature (15-20 us a call, a tenth of a small convolution at
    batch 1)."""
    stride = _tuple_arg(op, "stride", stride, dims, 1)
    dilation = _tuple_arg(op, "dilation", dilation, dims, 1)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    kernel = tuple(weight_shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * dims
        elif padding == "same":
            pads = _same_padding(op, kernel, dilation, stride)
        else:
            raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a tuple of {dims} ints, "
                             f"got {padding!r}")
    else:
        pads = [(p, p) for p in _tuple_arg(op, "padding", padding, dims, 0)]
    batched_shape = (1,) + input_shape if len(input_shape) == dims + 1 else input_shape
    channels = batched_shape[1]
    if channels % groups or weight_shape[0] % groups:
        raise ValueError(f"{op}: groups={groups} must divide in_channels={channels} and "
                         f"out_channels={weight_shape[0]}")
    if weight_shape[1] * groups != channels:
        raise ValueError(f"{op}: input of shape {input_shape} has {channels} channels, but weight of shape "
                         f"{weight_shape} with groups={groups} expects {weight_shape[1] * groups}")
    if bias_shape is not None and bias_shape != (weight_shape[0],):
        raise ValueError(f"{op}: expected bias of shape ({weight_shape[0]},), got {bias_shape}")
    spatial = batched_shape[2:]
    out_size = []
    for size, k, d, s, (lo, hi) in zip(spatial, kernel, dilation, stride, pads):
        reach = d * (k - 1) + 1
        if reach > size + lo + hi:
            raise ValueError(f"{op}: kernel size {kernel} (dilated to {reach}) is larger than the padded input "
                             f"size {size + lo + hi} (input {input_shape}, padding {padding!r})")
        out_size.append((size + lo + hi - reach) // s + 1)
    if dims == 1:
        geometry = Geometry((1,) + stride, (0, 0) + pads[0], (1,) + dilation, int(groups))
    else:
        geometry = Geometry(stride, pads[0] + pads[1], dilation, int(groups))
    return geometry, batched_shape, tuple(out_size)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D convolution (cross-correlation, as in every framework) over an :math:`(N, C_{in}, H, W)` input.

    .. math::
        y_{n,o,i,j} = b_o + \sum_{c, u, v} w_{o,c,u,v}\,
                      x_{n,\, g(o) C_g + c,\, s_H i + d_H u - p_H,\, s_W j + d_W v - p_W}

    ``padding`` is an int, a pair, ``'valid'`` (none) or ``'same'`` (output size = input size, stride 1;
    an odd total goes to the bottom/right, as in PyTorch). ``groups`` splits channels into
    independent convolutions; ``groups == in_channels`` is depthwise. An unbatched
    :math:`(C, H, W)` input gives an unbatched output.

    Output size: :math:`H_{out} = \lfloor (H + 2 p_H - d_H (k_H - 1) - 1) / s_H \rfloor + 1`, same for W.

    >>> F.conv2d(gk.ones(1, 3, 5, 5), gk.ones(8, 3, 3, 3), padding=1).shape
    (1, 8, 5, 5)
    """
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""1-D convolution over an :math:`(N, C_{in}, L)` input with a :math:`(C_{out}, C_{in}/g, k)` weight.

    Output length :math:`L_{out} = \lfloor (L + 2p - d (k - 1) - 1) / s \rfloor + 1`; ``padding`` as in
    :func:`conv2d`.
    """
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(op, dims, input, weight, bias, stride, padding, output_padding, groups, dilation):
    input, weight, bias = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    _check_tensors(op, input, weight, bias, dims, transposed=True)
    stride = _tuple_arg(op, "stride", stride, dims, 1)
    dilation = _tuple_arg(op, "dilation", dilation, dims, 1)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of {dims} ints (no string modes), got {padding!r}")
    padding = _tuple_arg(op, "padding", padding, dims, 0)
    output_padding = _tuple_arg(op, "output_padding", output_padding, dims, 0)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either stride {stride} "
                             f"or dilation {dilation}")
    unbatched = input.ndim == dims + 1
    batched_shape = (1,) + tuple(input.shape) if unbatched else tuple(input.shape)
    channels = batched_shape[1]
    if channels % groups:
        raise ValueError(f"{op}: groups={groups} must divide in_channels={channels}")
    if weight.shape[0] != channels:
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} has {channels} channels, but weight of shape "
                         f"{tuple(weight.shape)} expects {weight.shape[0]}")
    out_channels = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(f"{op}: expected bias of shape ({out_channels},), got {tuple(bias.shape)}")
    kernel = tuple(weight.shape[2:])
    out_size = tuple((size - 1) * s - 2 * p + d * (k - 1) + o + 1 for size, s, p, d, k, o in
                     zip(batched_shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(size < 1 for size in out_size):
        raise ValueError(f"{op}: output size {out_size} is not positive (input {tuple(input.shape)}, "
                         f"padding {padding})")
    if dims == 1:
        geometry = Geometry((1,) + stride, (0, 0, padding[0], padding[0]), (1,) + dilation, int(groups))
        x = reshape(input, (batched_shape[0], channels, 1, batched_shape[2]))
        w = reshape(weight, (weight.shape[0], weight.shape[1], 1, kernel[0]))
        out = _ConvInputGrad.apply(x, w, geometry=geometry, in_hw=(1, out_size[0]))
        out = reshape(out, (batched_shape[0], out_channels, out_size[0]))
    else:
        geometry = Geometry(stride, (padding[0], padding[0], padding[1], padding[1]), dilation, int(groups))
        x = reshape(input, batched_shape) if unbatched else input
        out = _ConvInputGrad.apply(x, weight, geometry=geometry, in_hw=out_size)
    if bias is not None:
        out = add(out, reshape(bias, (out_channels,) + (1,) * dims))
    return reshape(out, tuple(out.shape[1:])) if unbatched else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    r"""2-D transposed convolution (the gradient of :func:`conv2d` with respect to its input).

    Weight :math:`(C_{in}, C_{out}/g, k_H, k_W)`; output size
    :math:`H_{out} = (H - 1) s_H - 2 p_H + d_H (k_H - 1) + p^{out}_H + 1`, where ``output_padding``
    (smaller than the stride or the dilation) adds rows on one side to pick among the input sizes a
    strided conv2d maps to the same size. Note the argument order: ``groups`` before ``dilation``.
    """
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    r"""1-D transposed convolution; :math:`L_{out} = (L - 1) s - 2p + d (k - 1) + p^{out} + 1`."""
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)
