"""Work split over the CPU cores: large array passes and matrix products run as one chunk per thread.

Why gradkit runs its own threads. NumPy runs every copy and ufunc on one core. OpenBLAS, when it
runs a product on several threads, keeps its worker threads spinning for about 0.1 s after the call
(measured here: 110 ms of a full core after one 512x512 product). A training step calls a product
every few milliseconds, so one core spun all the time and every NumPy pass between the products had
the other core to itself; PyTorch, next door in the same process, lost a core too.

So gradkit runs each BLAS call single-threaded (:func:`blas_single_threaded`) and splits the work
itself: independent chunks (images of a batch, blocks of a product, slices of an
element-wise pass) go to a pool of ``get_num_threads() - 1`` threads plus the calling thread. NumPy
and BLAS release the GIL in their loops, so the chunks really run at once. Measured on 2 cores: an
im2col copy 1.85x faster, a ReLU backward 1.6x. Between chunks the pool's threads spin for a few
milliseconds outside the GIL and then block (:mod:`gradkit.kernels.workers`).

Every product runs this way, also where there is nothing else to split (an MLP), although
OpenBLAS's own warm threads are faster there (a 128x784 @ 784x512 product: 0.88 ms against 1.09 ms
split by gradkit): OpenBLAS rounds differently with different thread counts, so switching between
the two by what ran before made a run resumed from a checkpoint drift from the run it continues. One
rule for every call keeps results a function of the inputs and ``get_num_threads()`` alone.

The split applies only where gradkit can also make BLAS single-threaded (the OpenBLAS that NumPy's
wheels bundle); with another BLAS, or for CuPy arrays, everything runs in the calling thread as
before. Chunks never overlap in what they write and partial sums (the weight gradient of a
convolution) are added in a fixed order, so results are a function of the inputs and the thread
count; with another thread count, products may round differently in the last bits.
"""
import ctypes
import itertools
import os
import threading

import numpy as np

from gradkit import backend
from gradkit.kernels import workers

# Below this many bytes touched, a pass runs in the calling thread: handing a chunk to the pool
# costs tens of microseconds, and splitting saves half of a pass that moves 5-10 GB/s.
MIN_PARALLEL_BYTES = 1 << 20
# Products below this many multiply-adds run in one call. Measured on 2 cores, each product after
# 0.1 ms of Python (as in a training step): 4M took 0.27 ms in one call and 0.31 ms split (each
# thread packs its own copy of the shared operand), 8M the same either way, 17M 0.64 ms against
# 0.56, 51M 1.79 ms against 1.10. (With pool threads that blocked between chunks, waking one cost
# 80-160 us and the break-even was above 17M.)
MIN_PARALLEL_FLOPS = 12 << 20

_local = threading.local()
_pool = {"pid": None, "workers": None}
_pool_lock = threading.Lock()


# ----- BLAS threads ------------------------------------------------------------------------------------
def _find_openblas_setter():
    """``(set_num_threads, get_num_threads)`` of the OpenBLAS loaded by NumPy, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"),
                               ("openblas", "")):
            setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
                return setter, getter
    return None


_blas = {"found": False, "control": None, "holders": 0, "previous": None}
_blas_lock = threading.Lock()


def _blas_control():
    if not _blas["found"]:
        _blas["control"], _blas["found"] = _find_openblas_setter(), True
    return _blas["control"]


class _BlasSingleThreaded:
    """Run the BLAS calls inside on the calling thread only. BLAS's thread count is one setting for
    the whole process, so it is counted: the first of any threads to enter sets it to 1, the last to
    leave restores it (also when nested). A class, not a generator context manager: it is entered
    around every product and split, and this costs a third as much."""

    __slots__ = ("control",)

    def __enter__(self):
        self.control = control = _blas_control()
        if control is not None:
            with _blas_lock:
                if _blas["holders"] == 0:
                    _blas["previous"] = control[1]()
                    control[0](1)
                _blas["holders"] += 1
        return self

    def __exit__(self, *exc):
        if self.control is not None:
            with _blas_lock:
                _blas["holders"] -= 1
                if _blas["holders"] == 0:
                    self.control[0](_blas["previous"])
        return False


blas_single_threaded = _BlasSingleThreaded


# ----- the pool ----------------------------------------------------------------------------------------
def num_threads():
    """Threads a split uses: ``gk.get_num_threads()`` where gradkit controls BLAS, else 1."""
    if _blas_control() is None or getattr(_local, "in_worker", False):
        return 1
    return backend.get_num_threads()


def _forget_pool_in_child():
    # A forked process (a DataLoader worker) inherits the pool object but not its threads, and maybe
    # a lock held by a thread that does not exist there: it starts afresh.
    global _pool_lock
    _pool_lock = threading.Lock()
    _pool.update(pid=None, workers=None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def _workers(size):
    with _pool_lock:
        old = _pool["workers"]
        if _pool["pid"] != os.getpid() or old is None or old.size != size:
            if _pool["pid"] == os.getpid() and old is not None:
                old.retire()   # the thread count changed
            _pool["workers"] = workers.Pool(size, initializer=_mark_worker)
            _pool["pid"] = os.getpid()
        return _pool["workers"]


def _mark_worker():
    _local.in_worker = True


def chunks(n, parts):
    """``parts`` contiguous ``(start, stop)`` ranges covering ``range(n)``, sizes differing by at most one."""
    parts = max(1, min(parts, n))
    base, extra = divmod(n, parts)
    bounds = [0]
    for i in range(parts):
        bounds.append(bounds[-1] + base + (i < extra))
    return list(zip(bounds[:-1], bounds[1:]))


def run(fn, ranges):
    """``[fn(start, stop) for (start, stop) in ranges]``, the ranges at once on the pool's threads
    (the last ones in the calling thread); BLAS single-threaded throughout. Exceptions propagate.
    A split inside a chunk runs in its thread, range after range."""
    with blas_single_threaded():
        threads = num_threads()   # 1 inside a chunk
        if len(ranges) <= 1 or threads <= 1:
            return [fn(*r) for r in ranges]
        pool = _workers(threads - 1)
        groups = [ranges[start:stop] for start, stop in chunks(len(ranges), pool.size + 1)]

        outcomes = pool.call([(_run_ranges, (fn, group)) for group in groups[:-1]],
                             lambda: _inside_split(_run_ranges, fn, groups[-1]))
        return [result for group in _values(outcomes) for result in group]


def each(fn, count):
    """``[fn(i) for i in range(count)]``, the tasks split over the threads in contiguous runs, as ``run``
    splits its ranges."""
    return run(lambda i, _: fn(i), [(i, i + 1) for i in range(count)])


def balanced(fn, count):
    """``[fn(i) for i in range(count)]``, each thread taking the next ``i`` whenever it is free (the
    last thread is the calling one); BLAS single-threaded. For tasks of unequal sizes, such as the
    batch slices of a convolution's two gradients, where contiguous runs per thread would leave one
    thread idle while the other finishes. Which thread runs a task does not change its result, so
    the results are still a function of the inputs and the thread count. Exceptions propagate once
    every thread has stopped."""
    threads = num_threads()   # 1 inside a chunk
    if count <= threads or threads <= 1:
        # At most one task per thread: as ``run`` assigns them, so that each thread keeps working on
        # the same part of the data as the split passes before and after it (a 2-slice convolution
        # ran 6% slower with the calling thread taking the first slice, as it does below).
        return each(fn, count)
    with blas_single_threaded():
        results = [None] * count
        order = itertools.count()   # next() on it is atomic: each index is taken once

        def take_tasks():
            for i in order:
                if i >= count:
                    return
                results[i] = fn(i)

        _values(_workers(threads - 1).call([(take_tasks, ())] * (threads - 1), lambda: _inside_split(take_tasks)))
        return results


def _inside_split(fn, *args):
    """``fn(*args)`` in the calling thread's share of a split: any split inside it runs in place."""
    _local.in_worker = True
    try:
        return fn(*args)
    finally:
        _local.in_worker = False


def _values(outcomes):
    """The results of ``Pool.call``, in order; the first error is raised once all are in."""
    workers_outcomes, mine = outcomes
    values = []
    for ok, value in workers_outcomes + [mine]:
        if not ok:
            raise value
        values.append(value)
    return values


def _run_ranges(fn, ranges):
    # No blas_single_threaded() here: BLAS's thread count is one setting for the process, and the
    # calling thread holds it at 1 until every chunk is done (which saves each chunk some Python
    # on the way to its first array operation while the other threads wait for the GIL).
    return [fn(*r) for r in ranges]


def parts_for(array, nbytes=None):
    """How many chunks a pass over ``array`` (or over ``nbytes``) is worth: 1 for small or GPU work."""
    if type(array) is not np.ndarray:
        return 1
    size = array.nbytes if nbytes is None else nbytes
    return max(1, min(num_threads(), size // MIN_PARALLEL_BYTES))


def over_rows(fn, n, array, nbytes=None):
    """Run ``fn(start, stop)`` over ``range(n)`` (rows of ``array``'s first axis) in chunks."""
    return run(fn, chunks(n, parts_for(array, nbytes)))


def matmul(a, b, row=None):
    """``a @ b`` for 2-D arrays, split over the longer of ``a``'s rows and ``b``'s columns; BLAS
    single-threaded. ``row``: a vector added to every row of the product (a linear layer's bias), by
    each thread to its own block while it is in cache, instead of in a pass of its own afterwards."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 2 or b.ndim != 2:
        return a @ b if row is None else a @ b + row
    m, k = a.shape
    n = b.shape[1]
    threads = num_threads() if m * n * k >= MIN_PARALLEL_FLOPS else 1
    if threads == 1:
        with blas_single_threaded():
            out = a @ b
        if row is not None:
            out += row
        return out
    out = np.empty((m, n), np.result_type(a, b))
    if m >= n:
        parts = [(a[start:stop], b, out[start:stop], row) for start, stop in chunks(m, threads)]
    else:
        columns = row is not None and row.ndim > 0 and row.shape[-1] == n   # else it broadcasts whole
        parts = [(a, b[:, start:stop], out[:, start:stop], row[..., start:stop] if columns else row)
                 for start, stop in chunks(n, threads)]
    if row is None:
        calls([(np.matmul, part[:3]) for part in parts])
    else:
        calls([(_product_plus_row, part) for part in parts])
    return out


def _product_plus_row(a, b, out, row):
    np.matmul(a, b, out=out)
    np.add(out, row, out=out)


# Independent products of at least this many multiply-adds each run at once, one per thread (see
# ``matmuls``). Measured on 2 cores, the input and weight gradients of a linear layer, one after the
# other (each split if large enough) against at once: 128x256 @ 256x128 and its pair 0.56 -> 0.41 ms,
# 128x256 @ 256x512 1.04 -> 0.89 ms, 128x512 @ 512x784 2.57 -> 2.30 ms: a thread that runs a whole
# product packs each operand once.
MIN_CONCURRENT_FLOPS = 4 << 20


def matmuls(*pairs):
    """``[a @ b for a, b in pairs]`` for independent products (the input and weight gradients of a
    linear layer). When every thread gets a whole product, or the products are too small to split
    (below ``MIN_PARALLEL_FLOPS``), and none is tiny, they run at once, each in one BLAS call as
    ``matmul`` would make a small one; otherwise each goes through ``matmul``."""
    def flops(a, b):
        return a.shape[0] * a.shape[1] * b.shape[1]
    threads = num_threads()
    concurrent = (len(pairs) > 1 and threads > 1
                  and all(type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == b.ndim == 2
                          and MIN_CONCURRENT_FLOPS <= flops(a, b) for a, b in pairs)
                  and (len(pairs) >= threads or all(flops(a, b) < MIN_PARALLEL_FLOPS for a, b in pairs)))
    if not concurrent:
        return [matmul(a, b) for a, b in pairs]
    return calls([(np.matmul, pair) for pair in pairs])


def calls(tasks):
    """``[fn(*args) for fn, args in tasks]``, at once on the threads (the last in the calling thread)
    when there are no more tasks than threads; BLAS single-threaded. For a few large NumPy calls whose
    arguments are prepared here: a worker then goes straight into NumPy, without first running the
    Python of a chunk function while the calling thread holds the GIL (a product split this way
    started 20-40 us sooner on the worker)."""
    with blas_single_threaded():
        threads = num_threads()
        if len(tasks) <= 1 or threads <= 1 or len(tasks) > threads:
            return [fn(*args) for fn, args in tasks]
        last, last_args = tasks[-1]
        return _values(_workers(threads - 1).call(list(tasks[:-1]), lambda: _inside_split(last, *last_args)))


def elementwise(fn, out, *arrays):
    """``fn(out, *arrays)`` (an element-wise pass writing ``out``) over flat chunks of C-contiguous
    arrays of ``out``'s shape, at once on the threads; other layouts and small passes run in one call
    (without the pool's bookkeeping, which cost a ReLU of 128x512 floats half its time: no BLAS runs
    in an element-wise pass, so BLAS's thread count need not be set either). Returns ``out``."""
    parts = parts_for(out, out.nbytes + sum(a.nbytes for a in arrays))
    if (parts == 1 or not out.flags.c_contiguous
            or any(a.shape != out.shape or not a.flags.c_contiguous for a in arrays)):
        fn(out, *arrays)
        return out
    flat_out, flats = out.reshape(-1), [a.reshape(-1) for a in arrays]
    calls([(fn, (flat_out[start:stop],) + tuple(a[start:stop] for a in flats))
           for start, stop in chunks(flat_out.size, parts)])
    return out
