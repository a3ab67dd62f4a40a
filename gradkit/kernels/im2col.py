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
copy of a 6-D window view of the padded input, col2im is ``kH * kW`` strided additions. Measured on
2 cores, this beats a numba loop nest (which does not vectorise the short rows of small images) and,
being single-threaded, does not fight the BLAS threads that run just before and after it. The same
code runs on CuPy arrays.

``padding`` is ``(top, bottom, left, right)``, so asymmetric ("same") padding needs nothing special;
a negative entry crops.
"""
import threading

from gradkit import backend

_scratch = threading.local()


def scratch(size, dtype, xp):
    """A reusable flat buffer of at least ``size`` elements, one per thread and dtype.

    im2col buffers are 9x (for 3x3 kernels) the size of their input and live only during one
    product. Allocated afresh in a training step, among other large arrays, they page-fault on
    every 4 KiB (measured: a 14 MB buffer took about twice as long to fill as a reused one), so the
    largest one is kept per thread. It lives as long as the thread, so callers keep requests small
    (convolution asks for slices of the batch, see ``gradkit.ops.conv._COLS_BUDGET_BYTES``). The
    caller must be done with it before the next call in the same thread.
    """
    key = (xp.__name__, str(dtype))
    buffers = getattr(_scratch, "buffers", None)
    if buffers is None:
        buffers = _scratch.buffers = {}
    buffer = buffers.get(key)
    if buffer is None or buffer.size < size:
        buffer = buffers[key] = xp.empty(size, dtype)
    return buffer[:size]


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


def im2col(x, kernel, stride, padding, dilation, out_hw, reuse=False):
    """The column matrix of ``x``; ``reuse=True`` writes it into this thread's scratch buffer (see
    :func:`scratch`), for a caller that is done with it before the next im2col."""
    xp = backend.array_module(x)
    n, c = x.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    hp = (oh - 1) * sh + (kh - 1) * dh + 1
    wp = (ow - 1) * sw + (kw - 1) * dw + 1
    padded = _pad(x, padding, hp, wp)
    s_n, s_c, s_h, s_w = padded.strides
    windows = xp.lib.stride_tricks.as_strided(
        padded, (c, kh, kw, n, oh, ow), (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw))
    shape = (c, kh, kw, n, oh, ow)
    size = c * kh * kw * n * oh * ow
    cols = scratch(size, x.dtype, xp).reshape(shape) if reuse else xp.empty(shape, x.dtype)
    cols[...] = windows
    return cols.reshape(c * kh * kw, n * oh * ow)


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
