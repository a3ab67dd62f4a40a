"""Raw-array kernels (numba on CPU) for the ops where NumPy alone is slow, and the thread pool and
allocator settings that the CPU ops share.

The numba kernels are compiled lazily (on first use, cached on disk) and run single-threaded: where
splitting work over the cores pays, gradkit does it with its own pool (:mod:`gradkit.kernels.parallel`),
and numba's thread pool would compete with that one for the cores. (Measured on 2 cores before the
pool existed, against BLAS's spinning threads: the digits CNN training step took 42 ms with numba's
parallel loops and 20 ms without.)
"""
