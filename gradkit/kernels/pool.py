"""Pooling kernels on image planes: window max with its argmax, window average, and the index
scatter/gather pairs that route gradients.

Every kernel takes arrays of shape ``(planes, H, W)`` (``planes = N * C``) and hands one plane to
each thread, so writes never collide. Windows are separable: for output row ``oy`` the window
covers input rows ``h_first[oy], h_first[oy] + h_step, ...`` below ``h_stop[oy]`` (the caller has
already clipped them to the image), and the same along columns. That one description serves
strided, padded, dilated, ceil-mode and adaptive pooling alike.

Indices follow PyTorch: the flat position ``iy * W + ix`` inside the (unpadded) input plane.
"""
import numba
import numpy as np

from gradkit.kernels.pool_tiles import index_dtype


def max_windows(x, h_first, h_stop, h_step, w_first, w_stop, w_step, index_type=None):
    """Window maxima of ``x`` (planes, H, W) and the flat in-plane index of each; the indices are of
    ``index_type`` (by default the smallest that fits, see :func:`index_dtype`)."""
    planes, h, w = x.shape
    index_type = index_dtype(h * w) if index_type is None else np.dtype(index_type)
    indices = np.empty((planes, h_first.shape[0], w_first.shape[0]), index_type)
    return _max_windows(x, h_first, h_stop, h_step, w_first, w_stop, w_step, indices), indices


@numba.njit(cache=True)
def _max_windows(x, h_first, h_stop, h_step, w_first, w_stop, w_step, indices):
    planes, h, w = x.shape
    oh, ow = h_first.shape[0], w_first.shape[0]
    out = np.empty((planes, oh, ow), x.dtype)
    for p in range(planes):
        for oy in range(oh):
            for ox in range(ow):
                # PyTorch's rule: strictly greater replaces (the first maximum wins a tie), and a NaN
                # always replaces (NaN propagates). The index starts at the window's first position.
                best = -np.inf
                best_index = h_first[oy] * w + w_first[ox]
                for iy in range(h_first[oy], h_stop[oy], h_step):
                    for ix in range(w_first[ox], w_stop[ox], w_step):
                        value = x[p, iy, ix]
                        if value > best or np.isnan(value):
                            best = value
                            best_index = iy * w + ix
                out[p, oy, ox] = best
                indices[p, oy, ox] = best_index
    return out


@numba.njit(cache=True)
def scatter_add(values, indices, plane_size):
    """``out[p, indices[p, i]] += values[p, i]``: the max-pool backward (overlapping windows add)."""
    planes, count = values.shape
    out = np.zeros((planes, plane_size), values.dtype)
    for p in range(planes):
        for i in range(count):
            out[p, indices[p, i]] += values[p, i]
    return out


@numba.njit(cache=True)
def scatter(values, indices, plane_size):
    """``out[p, indices[p, i]] = values[p, i]`` (max_unpool); returns the output and the first
    out-of-range index found, or -1."""
    planes, count = values.shape
    out = np.zeros((planes, plane_size), values.dtype)
    bad = np.full(planes, -1, np.int64)
    for p in range(planes):
        for i in range(count):
            j = indices[p, i]
            if j < 0 or j >= plane_size:
                bad[p] = j
                break
            out[p, j] = values[p, i]
    for p in range(planes):
        if bad[p] != -1:
            return out, bad[p]
    return out, -1


@numba.njit(cache=True)
def gather(x, indices):
    """``out[p, i] = x[p, indices[p, i]]``: the adjoint of ``scatter_add``."""
    planes, count = indices.shape
    out = np.empty((planes, count), x.dtype)
    for p in range(planes):
        for i in range(count):
            out[p, i] = x[p, indices[p, i]]
    return out


@numba.njit(cache=True)
def average_windows(x, h_first, h_stop, h_div, w_first, w_stop, w_div, divisor_override):
    """Window sums divided by ``h_div[oy] * w_div[ox]`` (or ``divisor_override`` when positive);
    empty windows give 0, as in PyTorch."""
    planes, h, w = x.shape
    oh, ow = h_first.shape[0], w_first.shape[0]
    out = np.empty((planes, oh, ow), x.dtype)
    for p in range(planes):
        for oy in range(oh):
            for ox in range(ow):
                if h_first[oy] >= h_stop[oy] or w_first[ox] >= w_stop[ox]:
                    out[p, oy, ox] = 0
                    continue
                total = 0.0
                for iy in range(h_first[oy], h_stop[oy]):
                    for ix in range(w_first[ox], w_stop[ox]):
                        total += x[p, iy, ix]
                divisor = divisor_override if divisor_override > 0 else h_div[oy] * w_div[ox]
                out[p, oy, ox] = total / divisor
    return out


@numba.njit(cache=True)
def average_windows_transpose(grad, h_first, h_stop, h_div, w_first, w_stop, w_div, divisor_override, h, w):
    """The adjoint of ``average_windows``: each output's gradient spread evenly over its window."""
    planes, oh, ow = grad.shape
    out = np.zeros((planes, h, w), grad.dtype)
    for p in range(planes):
        for oy in range(oh):
            for ox in range(ow):
                if h_first[oy] >= h_stop[oy] or w_first[ox] >= w_stop[ox]:
                    continue
                divisor = divisor_override if divisor_override > 0 else h_div[oy] * w_div[ox]
                share = grad[p, oy, ox] / divisor
                for iy in range(h_first[oy], h_stop[oy]):
                    for ix in range(w_first[ox], w_stop[ox]):
                        out[p, iy, ix] += share
    return out
