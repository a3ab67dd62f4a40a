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
import functools

import numpy as np

from gradkit.kernels import parallel


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
    # Asked on every pooling call about the same few window arrays: remembered by their contents
    # (two small byte strings to hash, against three array comparisons).
    return _tile_of(first.tobytes(), stop.tobytes(), first.dtype.str, stop.dtype.str)


@functools.lru_cache(maxsize=512)
def _tile_of(first_bytes, stop_bytes, first_type, stop_type):
    first, stop = np.frombuffer(first_bytes, first_type), np.frombuffer(stop_bytes, stop_type)
    k = int(stop[0] - first[0])
    starts = np.arange(len(first), dtype=np.int64) * k
    if k < 1 or not np.array_equal(first, starts) or not np.array_equal(stop, starts + k):
        return None
    return k


def _tiles(planes, out_h, out_w, kh, kw):
    """``planes`` (P, H, W) as its tiles (P, out_h, kh, out_w, kw): a view (splitting axes never copies)."""
    return planes[:, :out_h * kh, :out_w * kw].reshape(planes.shape[0], out_h, kh, out_w, kw)


# Many planes of at most this many values (8x8) are pooled transposed, as (H, W, P). NumPy runs a
# pass with its inner loop along the axis of smallest stride, and in the (P, out_h, out_w) views of
# small planes that is out_w values at a time (two for 4x4 planes), so the passes cost their loop
# overhead; transposed, every inner loop runs over all P planes. Measured on 2x2 pooling, the
# transposing copies included: (4096, 2, 2) planes 149 -> 61 us, (4096, 4, 4) 362 -> 200, (2048, 6,
# 6) 306 -> 193, (2048, 8, 8) 395 -> 362; (2048, 28, 28) planes would take longer (the copies cost as
# much as the passes), and so would few planes. Only inputs that the threads would not split: split,
# the planes-first passes of (16384, 8, 8) took 2.7 ms against 5.9 transposed in one thread, those of
# (65536, 4, 4) 4.3 against 4.8.
_SMALL_PLANE, _MANY_PLANES = 64, 256


def max_tiles(x, out_h, out_w, kh, kw, index_type):
    """Tile maxima of ``x`` (P, H, W) and their flat in-plane indices, or None when a maximum is NaN
    (PyTorch's rule, the last NaN of a window wins, is left to the loop kernel). Planes are split
    over the threads (:mod:`gradkit.kernels.parallel`), or many small planes pooled transposed."""
    if (x.shape[1] * x.shape[2] <= _SMALL_PLANE and x.shape[0] >= _MANY_PLANES
            and parallel.parts_for(x) == 1):
        return _max_tiles_transposed(x, out_h, out_w, kh, kw, index_type)
    out = np.empty((x.shape[0], out_h, out_w), x.dtype)
    indices = np.empty(out.shape, index_type)

    def planes(start, stop):
        return _max_tiles_into(x[start:stop], kh, kw, out[start:stop], indices[start:stop])

    found = parallel.over_rows(planes, x.shape[0], x)
    return (out, indices) if all(found) else None


def _max_tiles_transposed(x, out_h, out_w, kh, kw, index_type):
    """:func:`max_tiles` with the planes last in memory (see ``_SMALL_PLANE``): the same passes on
    (P, H, W) views of (H, W, P) arrays; the results copied back to (P, out_h, out_w)."""
    planes_last = np.ascontiguousarray(x.transpose(1, 2, 0))
    out = np.empty((out_h, out_w, x.shape[0]), x.dtype)
    indices = np.empty(out.shape, index_type)
    if not _max_tiles_into(planes_last.transpose(2, 0, 1), kh, kw, out.transpose(2, 0, 1), indices.transpose(2, 0, 1)):
        return None
    return np.ascontiguousarray(out.transpose(2, 0, 1)), np.ascontiguousarray(indices.transpose(2, 0, 1))


def max_tile_values(x, out_h, out_w, kh, kw):
    """Tile maxima of ``x`` (P, H, W) without their indices, for pooling that no gradient will pass
    through (inference): the index passes are most of the work. A NaN maximum needs no special case
    here: the maxima propagate NaN, as PyTorch's max pooling does."""
    out = np.empty((x.shape[0], out_h, out_w), x.dtype)

    def planes(start, stop):
        _tile_maxima_into(x[start:stop], kh, kw, out[start:stop])

    parallel.over_rows(planes, x.shape[0], x)
    return out


def _tile_maxima_into(x, kh, kw, out):
    out_h, out_w = out.shape[1:]
    planes = x[:, :out_h * kh, :out_w * kw]
    # The maxima, window rows first: those views keep whole image rows contiguous, which NumPy's
    # vector loops read about 1.2x faster than the element-strided views of single window positions.
    rows = planes[:, 0::kh]
    for i in range(1, kh):
        rows = np.maximum(rows, planes[:, i::kh])
    if kw == 1:
        out[...] = rows
    else:
        np.maximum(rows[:, :, 0::kw], rows[:, :, 1::kw], out=out)
        for j in range(2, kw):
            np.maximum(out, rows[:, :, j::kw], out=out)


def _max_tiles_into(x, kh, kw, out, indices):
    """:func:`max_tiles` of some planes, written into ``out`` and ``indices``; False on a NaN maximum."""
    out_h, out_w = out.shape[1:]
    _tile_maxima_into(x, kh, kw, out)
    if np.isnan(out).any():
        return False
    # PyTorch's argmax is the first position (row-major in the window) that holds the maximum: with
    # differs[p] = (x at p != max), that is differs[0] * (1 + differs[1] * (1 + differs[2] ...)).
    # Small-integer arithmetic on contiguous arrays: 5x faster than masked assignment (np.putmask),
    # whose data-dependent branches mispredict on real activations.
    tiles = _tiles(x, out_h, out_w, kh, kw)
    code_type = np.uint8 if kh * kw <= np.iinfo(np.uint8).max else np.int32
    local = np.zeros_like(out, code_type)   # laid out as out is (see _max_tiles_transposed)
    for position in range(kh * kw - 2, -1, -1):
        differs = np.not_equal(tiles[:, :, position // kw, :, position % kw], out).view(np.uint8)
        local += 1
        local *= differs
    # Window position p (row p // kw, column p % kw) lies p + (p // kw) (w - kw) after the window's
    # origin. As arithmetic on whole arrays this is 3.5x faster than looking the offsets up with
    # take (measured 0.12 against 0.43 ms for 200k windows), whose index loop is generic.
    w = x.shape[2]
    window_rows = np.right_shift(local, kw.bit_length() - 1) if kw & (kw - 1) == 0 else np.floor_divide(local, kw)
    np.multiply(window_rows, indices.dtype.type(w - kw), out=indices, casting="unsafe")
    np.add(indices, local, out=indices, casting="unsafe")
    indices += ((np.arange(out_h) * kh * w)[:, None] + np.arange(out_w) * kw).astype(indices.dtype)
    return True


def scatter_unique(values, indices, plane_size):
    """``out[p, indices[p, i]] = values[p, i]`` into zeros: max pooling's backward when no two windows
    overlap, so that no position is named twice and nothing needs adding. Planes split over the threads."""
    planes = values.shape[0]
    out = np.empty((planes, plane_size), values.dtype)

    def some_planes(start, stop):
        out[start:stop] = 0   # on the threads too: np.zeros would clear the whole output in this thread first
        # One assignment through indices into the flat output: measured twice as fast as put_along_axis.
        flat = (np.arange(stop - start, dtype=np.intp) * plane_size)[:, None] + indices[start:stop]
        out[start:stop].reshape(-1)[flat.ravel()] = values[start:stop].ravel()

    parallel.over_rows(some_planes, planes, out)
    return out


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
