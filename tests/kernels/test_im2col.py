import numpy as np
import pytest

from gradkit.kernels.im2col import col2im, im2col

# (input shape, kernel, stride, padding (top, bottom, left, right), dilation)
GEOMETRIES = [
    ((2, 3, 5, 4), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
    ((1, 2, 7, 9), (2, 3), (2, 3), (1, 1, 0, 0), (2, 1)),
    ((2, 1, 8, 6), (3, 2), (1, 2), (0, 2, 1, 0), (3, 2)),
    ((1, 2, 4, 4), (1, 1), (1, 1), (0, 0, 0, 0), (1, 1)),
]


def _out_size(size, k, s, lo, hi, d):
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def _naive_im2col(x, kernel, stride, padding, dilation, out_hw):
    n, c, h, w = x.shape
    cols = np.zeros((c, kernel[0], kernel[1], n, out_hw[0], out_hw[1]), x.dtype)
    for ci, ki, kj, ni, oy, ox in np.ndindex(cols.shape):
        iy = oy * stride[0] + ki * dilation[0] - padding[0]
        ix = ox * stride[1] + kj * dilation[1] - padding[2]
        if 0 <= iy < h and 0 <= ix < w:
            cols[ci, ki, kj, ni, oy, ox] = x[ni, ci, iy, ix]
    return cols.reshape(c * kernel[0] * kernel[1], -1)


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", GEOMETRIES)
def test_im2col_matches_the_definition(shape, kernel, stride, padding, dilation):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out_hw = (_out_size(shape[2], kernel[0], stride[0], padding[0], padding[1], dilation[0]),
              _out_size(shape[3], kernel[1], stride[1], padding[2], padding[3], dilation[1]))
    np.testing.assert_array_equal(im2col(x, kernel, stride, padding, dilation, out_hw),
                                  _naive_im2col(x, kernel, stride, padding, dilation, out_hw))


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(shape, kernel, stride, padding, dilation):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    out_hw = (_out_size(shape[2], kernel[0], stride[0], padding[0], padding[1], dilation[0]),
              _out_size(shape[3], kernel[1], stride[1], padding[2], padding[3], dilation[1]))
    cols = im2col(x, kernel, stride, padding, dilation, out_hw)
    c = rng.standard_normal(cols.shape)
    back = col2im(c, shape, kernel, stride, padding, dilation, out_hw)
    assert back.shape == shape and back.flags.c_contiguous
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-10)


def test_negative_padding_crops():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    cols = im2col(x, (1, 1), (1, 1), (-1, 0, -1, 0), (1, 1), (3, 3))
    np.testing.assert_array_equal(cols.reshape(3, 3), x[0, 0, 1:, 1:])


# Stride 1 and an output as large as the input, with at least 16 planes (images x channels): the
# plane-shift path (see gradkit.kernels.im2col._same_size_columns). Padding (top, left) may be
# lopsided or negative as long as top + bottom = dH (kH - 1), and the kernel may exceed the input.
SAME_SIZE = [
    ((2, 8, 5, 7), (3, 3), (1, 1, 1, 1), (1, 1)),
    ((4, 4, 6, 5), (5, 3), (0, 4, 2, 0), (1, 2)),
    ((1, 16, 4, 4), (3, 3), (2, 2, 2, 2), (2, 2)),
    ((8, 2, 3, 6), (3, 5), (-1, 3, 5, -1), (1, 1)),
    ((16, 1, 2, 2), (5, 5), (2, 2, 2, 2), (1, 1)),
    ((2, 8, 3, 3), (1, 1), (0, 0, 0, 0), (1, 1)),
]


@pytest.mark.parametrize("shape, kernel, padding, dilation", SAME_SIZE)
@pytest.mark.parametrize("reuse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_size_columns_match_the_definition(shape, kernel, padding, dilation, reuse, dtype, monkeypatch):
    from gradkit.kernels import im2col as module
    calls = []
    original = module._same_size_columns
    monkeypatch.setattr(module, "_same_size_columns", lambda *args: calls.append(args) or original(*args))
    x = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    cols = im2col(x, kernel, (1, 1), padding, dilation, shape[2:], reuse=reuse)
    assert calls, "the plane-shift path was not taken"
    np.testing.assert_array_equal(cols, _naive_im2col(x, kernel, (1, 1), padding, dilation, shape[2:]))


def test_scratch_starts_half_a_page_from_its_source():
    from gradkit.kernels.im2col import scratch
    source = np.zeros(3000, np.float32)
    for offset in (0, 1, 5, 700):
        buffer = scratch(5000, np.float32, np, apart_from=source[offset:])
        assert buffer.size == 5000
        assert (buffer.ctypes.data - source[offset:].ctypes.data) % 4096 == 2048
