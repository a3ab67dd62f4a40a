"""Pooling over tiled windows (``k`` consecutive rows and columns starting at multiples of ``k``: no
padding, no dilation, stride = kernel; global and evenly dividing adaptive pooling included) with
NumPy alone.

These are the windows of nearly every CNN (``MaxPool2d(2)``, ``AdaptiveAvgPool2d(1)``). The loop
kernels of :mod:`gradkit.kernels.pool` handle any window but need numba, whose runtime (LLVM, loaded
on the first kernel call) adds about 120 MB to the resident memory of the process: measured on the
CNN benchmark, that was most of its peak training memory (RSS growth 158 MB with, 45 MB without).
A tile is a reshape of the plane, so these cases are a few whole-array passes over strided views,
and give the same numbers (the same comparisons decide the argmax; sums are taken in float64 and
rounded once, as the loop kernels do). Measured against the loop kernels on the CNN benchmark's
2x2 pools: the forward about as fast, the backward scatter about 0.5 ms slower per pool, global
average pooling faster at batch 1. Any other window, or a NaN, goes to the loop kernels.
"""
import numpy as np


def index_dtype(plane_size):
    """The smallest signed integer type that holds every flat index of a plane of ``plane_size``.

    Max pooling keeps one index per output until backward; at 2x2 pooling that is a quarter of the
    input's elements, so int64 indices cost half the input's float32 bytes. Indices are per plane, so
    int16 holds them for planes up to 181x181 and int32 for any realistic image.
    """
    if plane_size <= np.iinfo(np.int16).max + 1:
        return np.dtype(np.int16)
    return np.dtype(np.int32) if plane_size <= np.iinfo(np.int32).max + 1 else np.dtype(np.int64)


def tile(first, stop, step=1):
    """``k`` if window ``i`` is ``[i k, i k + k)`` with unit step for every ``i``, else None."""
    if step != 1 or len(first) == 0:
        return None
    k = int(stop[0] - first[0])
    starts = np.arange(len(first), dtype=np.int64) * k
    if k < 1 or not np.array_equal(first, starts) or not np.array_equal(stop, starts + k):
        return None
    return k


def _tiles(planes, out_h, out_w, kh, kw):
    """``planes`` (P, H, W) as its tiles (P, out_h, kh, out_w, kw): a view (splitting axes never copies)."""
    return planes[:, :out_h * kh, :out_w * kw].reshape(planes.shape[0], out_h, kh, out_w, kw)


def max_tiles(x, out_h, out_w, kh, kw, index_type):
    """Tile maxima of ``x`` (P, H, W) and their flat in-plane indices, or None when a maximum is NaN
    (PyTorch's rule, the last NaN of a window wins, is left to the loop kernel)."""
    views = [view for rows in np.moveaxis(_tiles(x, out_h, out_w, kh, kw), (2, 4), (0, 1)) for view in rows]
    out = views[0].copy()
    for view in views[1:]:
        np.maximum(out, view, out=out)
    if np.isnan(out).any():
        return None
    # The first position (row-major in the window) that holds the maximum, as PyTorch's strict
    # "greater replaces" gives; walking backwards lets earlier positions overwrite later ones.
    # (Reducing along window rows first makes fewer passes but measured 1.4x slower: its strided
    # views of the (P, out_h, kh, out_w) row maxima read worse than these.)
    local = np.full(out.shape, len(views) - 1, np.intp)
    for position in range(len(views) - 2, -1, -1):
        np.putmask(local, views[position] == out, position)
    w = x.shape[2]
    offsets = ((np.arange(kh) * w)[:, None] + np.arange(kw)).ravel().astype(index_type)
    origins = ((np.arange(out_h) * kh * w)[:, None] + np.arange(out_w) * kw).astype(index_type)
    indices = offsets.take(local)
    indices += origins
    return out, indices


def scatter_unique(values, indices, plane_size):
    """``out[p, indices[p, i]] = values[p, i]`` into zeros: max pooling's backward when no two windows
    overlap, so that no position is named twice and nothing needs adding."""
    planes = values.shape[0]
    out = np.zeros(planes * plane_size, values.dtype)
    # One assignment through indices into the flat output: measured twice as fast as put_along_axis.
    flat = (np.arange(planes, dtype=np.intp) * plane_size)[:, None] + indices
    out[flat.ravel()] = values.ravel()
    return out.reshape(planes, plane_size)


def gather(x, indices):
    """``out[p, i] = x[p, indices[p, i]]``."""
    return np.take_along_axis(x, indices, axis=1)


def average_tiles(x, out_h, out_w, kh, kw, divisor):
    """Tile means of ``x`` (P, H, W), summed in float64 and divided by ``divisor`` before one rounding."""
    sums = _tiles(x, out_h, out_w, kh, kw).sum(axis=(2, 4), dtype=np.float64)
    sums /= divisor
    return sums.astype(x.dtype)


def average_tiles_transpose(grad, h, w, kh, kw, divisor):
    """The adjoint of :func:`average_tiles`: each gradient divided by ``divisor`` over its tile."""
    planes, out_h, out_w = grad.shape
    out = np.zeros((planes, h, w), grad.dtype)
    share = (grad.astype(np.float64) / divisor).astype(grad.dtype)
    _tiles(out, out_h, out_w, kh, kw)[...] = share[:, :, None, :, None]
    return out
