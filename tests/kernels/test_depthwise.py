import numpy as np
import pytest

from gradkit.kernels.depthwise import depthwise_forward, depthwise_input_grad, depthwise_weight_grad

# (input shape, weight shape, stride, padding (top, left), dilation, output size)
CASES = [
    ((2, 3, 7, 6), (3, 1, 3, 3), (1, 1), (1, 1), (1, 1), (7, 6)),
    ((1, 2, 9, 8), (4, 1, 3, 2), (2, 3), (1, 0), (2, 1), (4, 3)),
    ((2, 2, 6, 7), (2, 1, 2, 3), (1, 2), (0, 2), (1, 2), (5, 4)),
]


def _naive(x, weight, stride, padding, dilation, out_hw):
    n, c, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    out = np.zeros((n, c_out) + out_hw)
    for ni, o, oy, ox, ki, kj in np.ndindex(n, c_out, *out_hw, kh, kw):
        iy, ix = oy * stride[0] + ki * dilation[0] - padding[0], ox * stride[1] + kj * dilation[1] - padding[1]
        if 0 <= iy < h and 0 <= ix < w:
            out[ni, o, oy, ox] += weight[o, 0, ki, kj] * x[ni, o // (c_out // c), iy, ix]
    return out


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, out_hw", CASES)
def test_forward_and_adjoints(x_shape, w_shape, stride, padding, dilation, out_hw):
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    args = (*stride, *padding, *dilation)
    out = depthwise_forward(x, weight, *args, *out_hw)
    np.testing.assert_allclose(out, _naive(x, weight, stride, padding, dilation, out_hw), atol=1e-12)
    grad = rng.standard_normal(out.shape)
    # <conv(x, w), g> = <x, input_grad(g, w)> = <w, weight_grad(x, g)>
    grad_x = depthwise_input_grad(grad, weight, x_shape[1], *args, *x_shape[2:])
    grad_w = depthwise_weight_grad(x, grad, *w_shape[2:], *args)
    np.testing.assert_allclose(np.sum(out * grad), np.sum(x * grad_x))
    np.testing.assert_allclose(np.sum(out * grad), np.sum(weight * grad_w))
