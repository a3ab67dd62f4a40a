"""Separable resampling: every output pixel is a weighted sum of a few input pixels, with taps
chosen per output row and per output column.

``out[p, oy, ox] = sum_a h_weight[oy, a] * (sum_b w_weight[ox, b] * x[p, h_index[oy, a], w_index[ox, b]])``

One tap with weight 1 is nearest-neighbour, two taps are (bi)linear, four bicubic. The summation
order is PyTorch's (columns inside, rows outside), in the input's precision. The transpose scatters
gradients back along the same taps, one plane per thread.
"""
import numba
import numpy as np


@numba.njit(cache=True)
def resample(x, h_index, h_weight, w_index, w_weight):
    planes = x.shape[0]
    oh, taps_h = h_index.shape
    ow, taps_w = w_index.shape
    out = np.empty((planes, oh, ow), x.dtype)
    for p in range(planes):
        for oy in range(oh):
            for ox in range(ow):
                total = x[p, 0, 0] * 0
                for a in range(taps_h):
                    row = h_index[oy, a]
                    inner = w_weight[ox, 0] * x[p, row, w_index[ox, 0]]
                    for b in range(1, taps_w):
                        inner += w_weight[ox, b] * x[p, row, w_index[ox, b]]
                    if a == 0:
                        total = h_weight[oy, 0] * inner
                    else:
                        total += h_weight[oy, a] * inner
                out[p, oy, ox] = total
    return out


@numba.njit(cache=True)
def resample_transpose(grad, h_index, h_weight, w_index, w_weight, h, w):
    planes = grad.shape[0]
    oh, taps_h = h_index.shape
    ow, taps_w = w_index.shape
    out = np.zeros((planes, h, w), grad.dtype)
    for p in range(planes):
        for oy in range(oh):
            for ox in range(ow):
                g = grad[p, oy, ox]
                for a in range(taps_h):
                    row_g = h_weight[oy, a] * g
                    for b in range(taps_w):
                        out[p, h_index[oy, a], w_index[ox, b]] += w_weight[ox, b] * row_g
    return out
