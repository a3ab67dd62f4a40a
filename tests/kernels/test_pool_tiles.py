import numpy as np
import pytest

from gradkit.kernels import pool, pool_tiles


# Many small planes are pooled transposed (pool_tiles._SMALL_PLANE): the same numbers.
@pytest.mark.parametrize("shape, k", [((6, 8, 8), (2, 2)), ((3, 7, 9), (3, 2)), ((2, 5, 5), (5, 5)),
                                      ((300, 4, 4), (2, 2)), ((256, 7, 6), (3, 2))],
                         ids=["2x2", "3x2_with_remainder", "global", "many_small_planes",
                              "many_small_planes_with_remainder"])
def test_tiles_match_the_loop_kernels_bit_for_bit(shape, k):
    rng = np.random.default_rng(0)
    # Small integers make ties common; -inf rows check the empty-maximum rule.
    x = rng.integers(-3, 3, size=shape).astype(np.float32)
    x[0, :k[0], :k[1]] = -np.inf
    (kh, kw), (planes, h, w) = k, shape
    oh, ow = h // kh, w // kw
    h_first, w_first = np.arange(oh) * kh, np.arange(ow) * kw
    assert pool_tiles.tile(h_first, h_first + kh) == kh and pool_tiles.tile(w_first, w_first + kw) == kw
    out, idx = pool_tiles.max_tiles(x, oh, ow, kh, kw, pool_tiles.index_dtype(h * w))
    ref_out, ref_idx = pool.max_windows(x, h_first, h_first + kh, 1, w_first, w_first + kw, 1)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    grad = rng.standard_normal((planes, oh * ow)).astype(np.float32)
    np.testing.assert_array_equal(pool_tiles.scatter_unique(grad, idx.reshape(planes, -1), h * w),
                                  pool.scatter_add(grad, idx.reshape(planes, -1), h * w))
    y = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(pool_tiles.gather(y.reshape(planes, -1), idx.reshape(planes, -1)),
                                  pool.gather(y.reshape(planes, -1), idx.reshape(planes, -1)))
    h_div, w_div = np.full(oh, kh), np.full(ow, kw)
    np.testing.assert_array_equal(
        pool_tiles.average_tiles(y, oh, ow, kh, kw, kh * kw),
        pool.average_windows(y, h_first, h_first + kh, h_div, w_first, w_first + kw, w_div, 0))
    g = rng.standard_normal((planes, oh, ow)).astype(np.float32)
    np.testing.assert_array_equal(
        pool_tiles.average_tiles_transpose(g, h, w, kh, kw, kh * kw),
        pool.average_windows_transpose(g, h_first, h_first + kh, h_div, w_first, w_first + kw, w_div, 0, h, w))


@pytest.mark.parametrize("planes", [1, 300])
def test_a_nan_maximum_is_left_to_the_loop_kernel(planes):
    x = np.zeros((planes, 2, 2), np.float32)
    x[-1, 0, 1] = np.nan
    assert pool_tiles.max_tiles(x, 1, 1, 2, 2, np.int16) is None


def test_only_tiles_are_tiles():
    first = np.arange(4) * 2
    assert pool_tiles.tile(first, first + 2) == 2
    assert pool_tiles.tile(first, first + 3) is None          # overlapping windows
    assert pool_tiles.tile(first, first + 2, step=2) is None  # dilated
    assert pool_tiles.tile(first - 1, first + 1) is None      # padded
    assert pool_tiles.tile(np.array([0, 1, 3]), np.array([2, 4, 5])) is None   # adaptive, uneven
