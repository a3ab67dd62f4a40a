"""im2col and col2im: the data movement of convolution, so that its arithmetic is one matrix product.

Layout of the column matrix: ``cols[(c, ki, kj), (n, oy, ox)]``, of shape ``(C * kH * kW, N * oH * oW)``.
The rows are ordered like a weight ``(C_out, C_in, kH, kW)`` flattened to ``(C_out, K)``, so that

- forward is ``weight2d @ cols``,
- the weight gradient is ``grad2d @ cols.T``,
- the column gradient is ``weight2d.T @ grad2d``,

each a single GEMM whose large operand is used as it lies (BLAS reads ``cols.T`` through its
transpose flag, without a copy). Rows of one group of channels are contiguous, so grouped
convolution is a batch of GEMMs over a reshape.

Both maps are strided-view copies done by the array library itself (no compiled loop): im2col is one
copy of a 6-D window view of the padded input (or, for stride-1 convolutions whose output is as large
as their input, of zero-margined flattened planes: :func:`_same_size_columns`), col2im is ``kH * kW``
strided additions. Measured on 2 cores, this beats a numba loop nest (which does not vectorise the
short rows of small images), and it keeps ``import gradkit`` and the training step free of numba's
runtime; convolution runs batch slices of it on gradkit's threads (``gradkit.ops.conv``). The same
code runs on CuPy arrays.

``padding`` is ``(top, bottom, left, right)``, so asymmetric ("same") padding needs nothing special;
a negative entry crops.
"""
import math
import threading

import numpy as np

from gradkit import backend

_scratch = threading.local()


_PAGE = 4096


def scratch(size, dtype, xp, apart_from=None):
    """A reusable flat buffer of at least ``size`` elements, one per thread and dtype.

    im2col buffers are 9x (for 3x3 kernels) the size of their input and live only during one
    product. Allocated afresh in a training step, among other large arrays, they page-fault on
    every 4 KiB (measured: a 14 MB buffer took about twice as long to fill as a reused one), so the
    largest one is kept per thread. It lives as long as the thread, so callers keep requests small
    (convolution asks for slices of the batch, see ``gradkit.ops.conv._COLS_BUDGET_BYTES``). The
    caller must be done with it before the next call in the same thread.

    ``apart_from``: the array the buffer will be copied from; see :func:`_apart`.
    """
    key = (xp.__name__, np.dtype(dtype))
    buffers = getattr(_scratch, "buffers", None)
    if buffers is None:
        buffers = _scratch.buffers = {}
    buffer = buffers.get(key)
    if buffer is None or buffer.size < size + _spare(dtype):
        buffer = buffers[key] = xp.empty(size + _spare(dtype), dtype)
    return _apart(buffer, size, apart_from)


def _spare(dtype):
    """Elements of one page: what a buffer needs beyond its size so that :func:`_apart` can shift it."""
    return _PAGE // np.dtype(dtype).itemsize


def _apart(buffer, size, source):
    """``size`` elements of ``buffer`` (which has a page to spare) starting half a page away from
    ``source``'s address, modulo the page (from the start where ``source`` is None). A copy whose reads and writes sit at nearly the same offset within
    their 4 KiB pages stalls the CPU (a load waits on a store it looks like: "4K aliasing"); the
    shifted plane copies of :func:`_same_size_columns` do just that when a plane is 4 KiB (32x32
    floats): 230 us against 145 us for one image of 32 such planes."""
    start = 0
    if type(buffer) is np.ndarray and type(source) is np.ndarray:
        gap = (buffer.ctypes.data - source.ctypes.data) % _PAGE
        start = ((_PAGE // 2 - gap) % _PAGE) // buffer.itemsize
    return buffer[start:start + size]


def _pad(x, padding, extent_h, extent_w):
    """Zero-pad ``x`` (N, C, H, W) to ``(N, C, extent_h, extent_w)`` with the top/left offsets given."""
    xp = backend.array_module(x)
    n, c, h, w = x.shape
    top, left = padding[0], padding[2]
    out = xp.zeros((n, c, extent_h, extent_w), x.dtype)
    # Source rows/columns that land inside the padded extent (negative padding crops).
    y0, x0 = max(0, -top), max(0, -left)
    y1, x1 = min(h, extent_h - top), min(w, extent_w - left)
    if y1 > y0 and x1 > x0:
        out[:, :, y0 + top:y1 + top, x0 + left:x1 + left] = x[:, :, y0:y1, x0:x1]
    return out


# Fewest planes (images x channels) a slice needs for the plane copies of _same_size_columns: one
# image of 3 channels (the first layer of an RGB network) ran 12% slower than the window copy.
_MIN_SHIFTED_PLANES = 16


def im2col(x, kernel, stride, padding, dilation, out_hw, reuse=False):
    """The column matrix of ``x``; ``reuse=True`` writes it into this thread's scratch buffer (see
    :func:`scratch`), for a caller that is done with it before the next im2col."""
    xp = backend.array_module(x)
    n, c = x.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    if (sh, sw) == (1, 1) and (oh, ow) == tuple(x.shape[2:]) and n * c >= _MIN_SHIFTED_PLANES:
        return _same_size_columns(x, kernel, padding, dilation, reuse)
    hp = (oh - 1) * sh + (kh - 1) * dh + 1
    wp = (ow - 1) * sw + (kw - 1) * dw + 1
    padded = _pad(x, padding, hp, wp)
    s_n, s_c, s_h, s_w = padded.strides
    windows = xp.lib.stride_tricks.as_strided(
        padded, (c, kh, kw, n, oh, ow), (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw))
    cols = _columns_buffer((c, kh, kw, n, oh, ow), x.dtype, xp, reuse)
    cols[...] = windows
    return cols.reshape(c * kh * kw, n * oh * ow)


def _columns_buffer(shape, dtype, xp, reuse, apart_from=None):
    """The array im2col fills: this thread's scratch, or a new array; see :func:`_apart`."""
    size = math.prod(shape)   # (np.prod of a tuple costs 5 us: this runs for every batch slice)
    if reuse:
        return scratch(size, dtype, xp, apart_from).reshape(shape)
    if apart_from is None:
        return xp.empty(shape, dtype)
    return _apart(xp.empty(size + _spare(dtype), dtype), size, apart_from).reshape(shape)


def _same_size_columns(x, kernel, padding, dilation, reuse):
    """im2col of a stride-1 convolution whose output is as large as its input (3x3 with padding 1).

    For kernel offset (ki, kj) the column block is the input shifted by ``dy`` rows and ``dx``
    columns, and in a flattened H W plane that is one shift by ``dy W + dx``, linear in ki and kj.
    With zero margins around each flattened plane, all blocks are one window view whose innermost
    runs are whole planes (the general path's runs are rows of W elements); the flat shift wraps
    the ``|dx|`` edge columns in from the neighbouring row, and those are zeroed afterwards. Few
    array operations matter as much as long runs: the batch slices run on several threads, and each
    operation takes the GIL again (a version with 25 operations per slice was 1.3x slower on 2 threads).
    Measured per batch slice (3x3, padding 1, 32 channels): 7x7 to 16x16 planes 1.7-1.9x faster than
    the window copy, 28x28 1.3x, 32x32 1.2x.
    """
    n, c, h, w = x.shape
    (kh, kw), (dh, dw), top, left = kernel, dilation, padding[0], padding[2]
    plane = h * w
    first = -top * w - left                                          # the shift of block (0, 0)
    last = ((kh - 1) * dh - top) * w + (kw - 1) * dw - left          # the shift of block (kH-1, kW-1)
    before, after = max(0, -first), max(0, last)
    xp = backend.array_module(x)
    source = xp.zeros((n, c, before + plane + after), x.dtype)
    source[:, :, before:before + plane] = x.reshape(n, c, plane)
    cols = _columns_buffer((c, kh, kw, n, h, w), x.dtype, xp, reuse, apart_from=source)
    s_n, s_c, s_e = source.strides
    windows = xp.lib.stride_tricks.as_strided(source[:, :, before + first:], (c, kh, kw, n, plane),
                                              (s_c, dh * w * s_e, dw * s_e, s_n, s_e))
    cols.reshape(c, kh, kw, n, plane)[...] = windows
    for kj in range(kw):
        dx = kj * dw - left
        if dx > 0:
            cols[:, :, kj, :, :, max(0, w - dx):] = 0
        elif dx < 0:
            cols[:, :, kj, :, :, :min(w, -dx)] = 0
    return cols.reshape(c * kh * kw, n * plane)


def col2im(cols, input_shape, kernel, stride, padding, dilation, out_hw):
    """The adjoint of :func:`im2col` (padding must not be negative): overlapping windows add up."""
    xp = backend.array_module(cols)
    n, c, h, w = input_shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    top, left = padding[0], padding[2]
    hp = max((oh - 1) * sh + (kh - 1) * dh + 1, top + h)
    wp = max((ow - 1) * sw + (kw - 1) * dw + 1, left + w)
    # Accumulate channel-major, the order the columns come in, so every addition reads contiguously.
    padded = xp.zeros((c, n, hp, wp), cols.dtype)
    blocks = cols.reshape(c, kh, kw, n, oh, ow)
    for ki in range(kh):
        for kj in range(kw):
            y0, x0 = ki * dh, kj * dw
            padded[:, :, y0:y0 + (oh - 1) * sh + 1:sh, x0:x0 + (ow - 1) * sw + 1:sw] += blocks[:, ki, kj]
    return xp.ascontiguousarray(padded[:, :, top:top + h, left:left + w].transpose(1, 0, 2, 3))
