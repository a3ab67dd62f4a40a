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
