"""Raw-array kernels (numba on CPU) for the ops where NumPy alone is slow.

The kernels are compiled lazily (on first use, cached on disk) and run single-threaded. They sit
between BLAS calls whose threads spin-wait for their next job; numba's own thread pool (prange)
then competes with those spinning threads for the cores. Measured on 2 cores: the default
digits CNN training step took 42 ms with parallel kernels and 20 ms without, and the 28x28 CNN
benchmark step was unchanged, so parallel loops buy nothing here and cost up to 2x.
"""
