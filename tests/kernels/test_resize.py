import numpy as np

from gradkit.kernels.resize import resample, resample_transpose


def test_one_tap_of_weight_one_is_exact_indexing():
    x = np.random.default_rng(0).standard_normal((2, 4, 5)).astype(np.float32)
    rows, cols = np.array([[3], [0], [0]]), np.array([[4], [1]])
    out = resample(x, rows, np.ones((3, 1), np.float32), cols, np.ones((2, 1), np.float32))
    np.testing.assert_array_equal(out, x[:, rows[:, 0]][:, :, cols[:, 0]])


def test_two_taps_follow_the_bilinear_formula():
    x = np.random.default_rng(1).standard_normal((1, 3, 3))
    rows, row_w = np.array([[0, 1]]), np.array([[0.25, 0.75]])
    cols, col_w = np.array([[1, 2]]), np.array([[0.5, 0.5]])
    expected = 0.25 * (0.5 * x[0, 0, 1] + 0.5 * x[0, 0, 2]) + 0.75 * (0.5 * x[0, 1, 1] + 0.5 * x[0, 1, 2])
    np.testing.assert_allclose(resample(x, rows, row_w, cols, col_w)[0, 0, 0], expected)


def test_transpose_is_the_adjoint():
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((2, 4, 5)), rng.standard_normal((2, 3, 6))
    rows, row_w = rng.integers(0, 4, (3, 2)), rng.standard_normal((3, 2))
    cols, col_w = rng.integers(0, 5, (6, 4)), rng.standard_normal((6, 4))
    out = resample(x, rows, row_w, cols, col_w)
    back = resample_transpose(g, rows, row_w, cols, col_w, 4, 5)
    np.testing.assert_allclose(np.sum(out * g), np.sum(x * back))
