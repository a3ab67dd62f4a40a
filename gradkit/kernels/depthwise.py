"""Depthwise convolution (``groups == in_channels``, one input channel per filter) as direct loops.

im2col would copy every input pixel kH * kW times to feed GEMMs of a single row each, while a
depthwise layer does only kH * kW multiply-adds per output: direct loops are lighter on memory and
faster. Output channel ``o`` reads input channel ``o // multiplier``.

Each thread owns whole planes (forward, input gradient) or filters (weight gradient), so nothing is
shared. A plane is first copied into a zero-padded scratch buffer; the inner loops then run over
whole rows through slices, with no bounds tests and no index that could be negative, which is what
lets LLVM vectorise them (about 2x over indexing the input directly).
"""
import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _padded_plane(plane, ph, pw, hp, wp):
    """``plane`` placed at offset (ph, pw) in zeros of shape (hp, wp); parts beyond hp/wp are dropped."""
    h, w = plane.shape
    buf = np.zeros((hp, wp), plane.dtype)
    for iy in range(max(0, -ph), min(h, hp - ph)):
        for ix in range(max(0, -pw), min(w, wp - pw)):
            buf[iy + ph, ix + pw] = plane[iy, ix]
    return buf


@numba.njit(cache=True)
def depthwise_forward(x, weight, sh, sw, ph, pw, dh, dw, oh, ow):
    n_size, c_size = x.shape[0], x.shape[1]
    c_out, _, kh, kw = weight.shape
    multiplier = c_out // c_size
    hp, wp = (oh - 1) * sh + (kh - 1) * dh + 1, (ow - 1) * sw + (kw - 1) * dw + 1
    out = np.empty((n_size, c_out, oh, ow), x.dtype)
    for task in range(n_size * c_out):
        n, o = task // c_out, task % c_out
        buf = _padded_plane(x[n, o // multiplier], ph, pw, hp, wp)
        for oy in range(oh):
            row = out[n, o, oy]
            row[:] = 0
            for ki in range(kh):
                source = buf[oy * sh + ki * dh]
                for kj in range(kw):
                    tap = weight[o, 0, ki, kj]
                    if sw == 1:
                        window = source[kj * dw:kj * dw + ow]
                        for ox in range(ow):
                            row[ox] += tap * window[ox]
                    else:
                        for ox in range(ow):
                            row[ox] += tap * source[ox * sw + kj * dw]
    return out


@numba.njit(cache=True)
def depthwise_input_grad(grad, weight, c_size, sh, sw, ph, pw, dh, dw, h, w):
    n_size, c_out, oh, ow = grad.shape
    kh, kw = weight.shape[2], weight.shape[3]
    multiplier = c_out // c_size
    hp = max((oh - 1) * sh + (kh - 1) * dh + 1, ph + h)
    wp = max((ow - 1) * sw + (kw - 1) * dw + 1, pw + w)
    out = np.empty((n_size, c_size, h, w), grad.dtype)
    for task in range(n_size * c_size):
        n, c = task // c_size, task % c_size
        buf = np.zeros((hp, wp), grad.dtype)   # the padded input plane's gradient
        for j in range(multiplier):
            o = c * multiplier + j
            for oy in range(oh):
                source = grad[n, o, oy]
                for ki in range(kh):
                    target = buf[oy * sh + ki * dh]
                    for kj in range(kw):
                        tap = weight[o, 0, ki, kj]
                        if sw == 1:
                            window = target[kj * dw:kj * dw + ow]
                            for ox in range(ow):
                                window[ox] += tap * source[ox]
                        else:
                            for ox in range(ow):
                                target[ox * sw + kj * dw] += tap * source[ox]
        out[n, c] = buf[ph:ph + h, pw:pw + w]
    return out


# Reassociation lets the dot products below vectorise; it only changes the summation order.
@numba.njit(cache=True, fastmath={"reassoc"})
def depthwise_weight_grad(x, grad, kh, kw, sh, sw, ph, pw, dh, dw):
    n_size, c_size = x.shape[0], x.shape[1]
    c_out, oh, ow = grad.shape[1], grad.shape[2], grad.shape[3]
    multiplier = c_out // c_size
    hp, wp = (oh - 1) * sh + (kh - 1) * dh + 1, (ow - 1) * sw + (kw - 1) * dw + 1
    out = np.zeros((c_out, 1, kh, kw), x.dtype)
    for o in range(c_out):
        totals = np.zeros((kh, kw))
        for n in range(n_size):
            buf = _padded_plane(x[n, o // multiplier], ph, pw, hp, wp)
            for oy in range(oh):
                g = grad[n, o, oy]
                for ki in range(kh):
                    source = buf[oy * sh + ki * dh]
                    for kj in range(kw):
                        total = 0.0
                        if sw == 1:
                            window = source[kj * dw:kj * dw + ow]
                            for ox in range(ow):
                                total += g[ox] * window[ox]
                        else:
                            for ox in range(ow):
                                total += g[ox] * source[ox * sw + kj * dw]
                        totals[ki, kj] += total
        for ki in range(kh):
            for kj in range(kw):
                out[o, 0, ki, kj] = totals[ki, kj]
    return out
