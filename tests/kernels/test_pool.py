import numpy as np

from gradkit.kernels import pool


def _windows(size, kernel, stride):
    first = np.arange(0, size - kernel + 1, stride, dtype=np.int64)
    return first, first + kernel


def test_max_windows_first_maximum_wins_and_nan_wins():
    x = np.array([[[1, 3, 3, 0], [3, 2, np.nan, 1]]], np.float32)
    first, stop = _windows(4, 2, 2)
    out, idx = pool.max_windows(x, np.array([0]), np.array([2]), 1, first, stop, 1)
    assert out[0, 0, 0] == 3 and idx[0, 0, 0] == 1       # 3 at (0, 1) before the 3 at (1, 0)
    assert np.isnan(out[0, 0, 1]) and idx[0, 0, 1] == 6  # NaN at (1, 2)


def test_max_windows_all_minus_inf_points_at_the_window_start():
    x = np.full((1, 3, 3), -np.inf, np.float32)
    out, idx = pool.max_windows(x, np.array([1]), np.array([3]), 1, np.array([1]), np.array([3]), 1)
    assert out[0, 0, 0] == -np.inf and idx[0, 0, 0] == 1 * 3 + 1


def test_scatter_add_and_gather_are_adjoint():
    rng = np.random.default_rng(0)
    indices = rng.integers(0, 12, size=(3, 5))       # repeats included: they must add up
    values, x = rng.standard_normal((3, 5)), rng.standard_normal((3, 12))
    scattered = pool.scatter_add(values, indices, 12)
    np.testing.assert_allclose(np.sum(scattered * x), np.sum(values * pool.gather(x, indices)))
    expected = np.zeros((3, 12))
    for p in range(3):
        np.add.at(expected[p], indices[p], values[p])
    np.testing.assert_allclose(scattered, expected)


def test_scatter_reports_an_out_of_range_index():
    _, bad = pool.scatter(np.ones((1, 2)), np.array([[0, 7]]), 4)
    assert bad == 7
    out, bad = pool.scatter(np.ones((1, 2)), np.array([[0, 3]]), 4)
    assert bad == -1 and out.tolist() == [[1, 0, 0, 1]]


def test_average_windows_and_transpose_are_adjoint():
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((2, 5, 6)), rng.standard_normal((2, 3, 2))
    h = (np.array([0, 1, 3]), np.array([2, 4, 5]), np.array([2, 3, 3]))
    w = (np.array([0, 3]), np.array([3, 6]), np.array([3, 3]))
    out = pool.average_windows(x, *h, *w, 0)
    np.testing.assert_allclose(out[0, 1, 1], x[0, 1:4, 3:6].mean())
    back = pool.average_windows_transpose(g, *h, *w, 0, 5, 6)
    np.testing.assert_allclose(np.sum(out * g), np.sum(x * back))


def test_empty_average_window_is_zero():
    out = pool.average_windows(np.ones((1, 2, 2)), np.array([2]), np.array([2]), np.array([1]),
                               np.array([0]), np.array([2]), np.array([2]), 0)
    assert out[0, 0, 0] == 0


def test_index_dtype_is_the_smallest_that_holds_a_plane():
    assert pool.index_dtype(28 * 28) == np.int16
    assert pool.index_dtype(2 ** 15) == np.int16
    assert pool.index_dtype(2 ** 15 + 1) == np.int32
    assert pool.index_dtype(2 ** 31 + 1) == np.int64


def test_max_windows_indices_beyond_int16():
    # A 1 x 40000 plane: flat indices past 32767 must come back exact (int32 storage).
    x = np.zeros((1, 1, 40000), np.float32)
    x[0, 0, 39999] = 1
    first = np.arange(0, 40000, 2, dtype=np.int64)
    out, idx = pool.max_windows(x, np.array([0]), np.array([1]), 1, first, first + 2, 1)
    assert idx.dtype == np.int32 and idx[0, 0, -1] == 39999 and out[0, 0, -1] == 1
