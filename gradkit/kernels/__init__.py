"""Raw-array kernels (numba on CPU) for the ops where NumPy alone is slow."""
