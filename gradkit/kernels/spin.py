"""Worker signalling and matrix products that run without the GIL from start to finish (numba).

Why. A pool worker that spins outside the GIL (:mod:`gradkit.kernels.workers`) still has to take
the GIL when a chunk arrives, to run the Python that calls NumPy. The calling thread holds the GIL
for the microsecond of Python between posting the chunk and entering its own NumPy call, so the
worker usually finds the GIL taken, sleeps on it, and is woken only when the caller lets go: ~12 us
on this 2-core VM, and a split product's worker started 36 us after the caller. That is a tenth of
an MLP's 128x784 @ 784x512 product, and OpenBLAS's own threads, which are C threads, pay none of it.

So for the matrix products, the worker's spin loop is compiled (numba, ``nogil``): it waits on its
control block for a posted product, calls the BLAS ``gemm`` that NumPy uses itself (OpenBLAS's
``cblas_?gemm`` with the parameters NumPy would pass, so the result is bit for bit NumPy's) and marks
it done, all without the GIL; the calling thread posts the products, runs its own share and waits for
the others in one compiled call. Other chunks (Python functions) still go through the GIL: the loop
returns to Python for them.

A control block is a row of 32 int64 (256 bytes, so two workers never share a cache line):
``POSTED`` (the caller's sequence number, with the kind of work and a product's parameters before
it in memory order), ``DONE`` (the worker's, in a cache line of its own). Loads and stores of the two
counters are atomic with acquire/release order, the rest plain.

Only the ILP64 OpenBLAS of NumPy's wheels is used (its ``cblas_?gemm`` take 64-bit ints); with any
other BLAS, :func:`gemm_functions` returns None and the pool keeps its Python path.
"""
import ctypes
import platform

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

POSTED, KIND, DONE = 0, 1, 16
PYTHON, PRODUCT = 0, 1
# A product's parameters in the block, after KIND.
_FN, _TRANS_A, _TRANS_B, _M, _N, _K, _A, _LDA, _B, _LDB, _C, _LDC, _ROW = range(2, 15)
BLOCK = 32

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_I64 = ir.IntType(64)


# ----- the few machine operations numba does not offer ---------------------------------------------
@intrinsic
def _load_acquire(typingctx, address):
    def codegen(context, builder, sig, args):
        return builder.load_atomic(builder.inttoptr(args[0], _I64.as_pointer()), "acquire", 8)
    return types.int64(types.intp), codegen


@intrinsic
def _store_release(typingctx, address, value):
    def codegen(context, builder, sig, args):
        builder.store_atomic(args[1], builder.inttoptr(args[0], _I64.as_pointer()), "release", 8)
        return context.get_dummy_value()
    return types.void(types.intp, types.int64), codegen


_PAUSE = {"x86_64": "llvm.x86.sse2.pause", "AMD64": "llvm.x86.sse2.pause"}.get(platform.machine())


@intrinsic
def _relax(typingctx):
    """The CPU's spin-wait hint (x86 ``pause``): a spinning thread then yields the core's pipeline
    to its hyper-thread sibling and leaves the loop without a memory-order stall."""
    def codegen(context, builder, sig, args):
        if _PAUSE is not None:
            builder.call(cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []), _PAUSE), [])
        return context.get_dummy_value()
    return types.void(), codegen


def _gemm_codegen(real):
    def codegen(context, builder, sig, args):
        i32, pointer = ir.IntType(32), ir.IntType(8).as_pointer()
        fn_type = ir.FunctionType(ir.VoidType(), [i32, i32, i32, _I64, _I64, _I64, real, pointer, _I64, pointer,
                                                  _I64, real, pointer, _I64])
        fn, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc = args
        builder.call(builder.inttoptr(fn, fn_type.as_pointer()), [
            ir.Constant(i32, _ROW_MAJOR), builder.trunc(trans_a, i32), builder.trunc(trans_b, i32), m, n, k,
            ir.Constant(real, 1.0), builder.inttoptr(a, pointer), lda, builder.inttoptr(b, pointer), ldb,
            ir.Constant(real, 0.0), builder.inttoptr(c, pointer), ldc])
        return context.get_dummy_value()
    return codegen


@intrinsic
def _sgemm(typingctx, fn, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc):
    """``C = A @ B`` (float32, row-major) through the ``cblas_sgemm`` at address ``fn``."""
    return types.void(*[types.int64] * 12), _gemm_codegen(ir.FloatType())


@intrinsic
def _dgemm(typingctx, fn, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc):
    return types.void(*[types.int64] * 12), _gemm_codegen(ir.DoubleType())


# ----- the worker's side -------------------------------------------------------------------------------
@numba.njit(nogil=True, cache=True)
def _run_posted(block, row_pointer_dtype):
    """The product described in ``block``, and the bias row added to it if one was posted."""
    fn, ta, tb, m, n, k = block[_FN], block[_TRANS_A], block[_TRANS_B], block[_M], block[_N], block[_K]
    if row_pointer_dtype == 4:
        _sgemm(fn, ta, tb, m, n, k, block[_A], block[_LDA], block[_B], block[_LDB], block[_C], block[_LDC])
    else:
        _dgemm(fn, ta, tb, m, n, k, block[_A], block[_LDA], block[_B], block[_LDB], block[_C], block[_LDC])


@numba.njit(nogil=True, cache=True)
def serve(block, last):
    """The worker's wait: run every product posted to ``block`` after sequence number ``last``, and
    return the sequence number of the first Python chunk posted (the GIL is taken back only then)."""
    address = block.ctypes.data
    while True:
        posted = _load_acquire(address + POSTED * 8)
        if posted == last:
            _relax()
            continue
        last = posted
        if block[KIND] == PYTHON:
            return posted
        _run_product(block)
        _store_release(address + DONE * 8, posted)


@numba.njit(nogil=True, cache=True, inline="always")
def _run_product(block):
    fn, ta, tb, m, n, k = block[_FN], block[_TRANS_A], block[_TRANS_B], block[_M], block[_N], block[_K]
    row = block[_ROW]
    if block[KIND + 0] == PRODUCT and block[_ROW + 1] == 4:
        _sgemm(fn, ta, tb, m, n, k, block[_A], block[_LDA], block[_B], block[_LDB], block[_C], block[_LDC])
        if row != 0:
            _add_row(np.float32(0), block[_C], block[_LDC], m, n, row)
    else:
        _dgemm(fn, ta, tb, m, n, k, block[_A], block[_LDA], block[_B], block[_LDB], block[_C], block[_LDC])
        if row != 0:
            _add_row(np.float64(0), block[_C], block[_LDC], m, n, row)
