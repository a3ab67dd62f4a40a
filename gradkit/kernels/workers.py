"""gradkit's worker threads: between chunks they wait spinning outside the GIL, then park.

Why spin. A worker that blocks on a lock between two splits of a training step lets its core go
idle, and on a virtual machine an idle core is halted by the hypervisor: waking it took 80-160 us
here (2 cores under KVM) once it had idled 0.3 ms or more, against 15 us after a shorter idle. The
calling thread pays the same when it blocks to wait for the workers. A CNN training step splits its
work about 17 times and a ResNet step about 50, and with a blocking pool a 4 MB element-wise pass
split over two threads was often slower than one thread (measured after 1 ms of other work: 350 us
split with a blocking pool, 250 us on one thread, 180 us split with spinning waits). So a worker
that has finished waits for the next chunk in a spin loop, and the calling thread waits for the
workers the same way. The loop is glibc's ``pthread_spin_lock`` called through ctypes, which
releases the GIL for the call: the spinning thread does not hold up Python code in the other
threads. (A Python-level poll must take the GIL each time round, and measured slower than blocking.)

Why park. A spinning worker holds a core. Once no split has run for ``PARK_AFTER`` seconds (the end
of a step, evaluation, a pause of the user's program), a parker thread moves the workers to a
blocking wait, as OpenMP runtimes do after their spin count; the next split wakes them the slow
way once. Spinning is used only where glibc's spinlocks are found and every thread has a core of
its own (the process's CPU affinity and quota); otherwise workers block between chunks.
"""
import ctypes
import threading
import time

from gradkit import backend

# Seconds without a split after which spinning workers park. A training step's splits are at most a
# few milliseconds apart (Python work between them); PyTorch's OpenMP threads spin about 10 ms.
PARK_AFTER = 0.005

_PARK, _STOP = object(), object()


def _find_spinlocks():
    """``(lock, unlock, init)`` of the C library's pthread spinlocks, or None where there are none (macOS, Windows)."""
    try:
        libc = ctypes.CDLL(None)
        functions = libc.pthread_spin_lock, libc.pthread_spin_unlock, libc.pthread_spin_init
    except (OSError, AttributeError, TypeError):
        return None
    for function in functions:
        function.restype = ctypes.c_int
    functions[0].argtypes = functions[1].argtypes = [ctypes.c_void_p]
    functions[2].argtypes = [ctypes.c_void_p, ctypes.c_int]
    return functions


_spinlocks = []


def spinlocks():
    if not _spinlocks:
        _spinlocks.append(_find_spinlocks())
    return _spinlocks[0]


def _cores():
    return backend.available_cores()


class _SpinSignal:
    """A binary semaphore, taken by spinning: ``post`` releases it, ``wait`` spins (GIL released)
    until it is released and takes it. It starts taken. One thread posts, one waits, in turn."""

    def __init__(self, functions):
        self._lock, self._unlock, init = functions
        self._word = ctypes.c_int(0)
        self._address = ctypes.addressof(self._word)
        init(self._address, 0)
        self._lock(self._address)

    def post(self):
        self._unlock(self._address)

    def wait(self):
        self._lock(self._address)


class _BlockingSignal:
    def __init__(self):
        self._semaphore = threading.Semaphore(0)

    def post(self):
        self._semaphore.release()

    def wait(self):
        self._semaphore.acquire()


class _Worker:
    def __init__(self, name, functions, initializer):
        self.spins = functions is not None
        self._start = _SpinSignal(functions) if self.spins else _BlockingSignal()
        self._done = _SpinSignal(functions) if self.spins else _BlockingSignal()
        self._wake = threading.Semaphore(0)   # where a parked worker blocks
        self.parked = False
        self._task = self._outcome = None
        self._initializer = initializer
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def post(self, task):
        self._task = task
        self._start.post()
        if self.parked:
            self.parked = False
            self._wake.release()

    def outcome(self):
        """Wait for the posted task; ``(True, result)`` or ``(False, exception)``."""
        self._done.wait()
        outcome, self._outcome = self._outcome, None
        return outcome

    def _loop(self):
        self._initializer()
        while True:
            self._start.wait()
            task, self._task = self._task, None
            if task is _PARK:
                self._done.post()
                self._wake.acquire()
                continue
            if task is _STOP:
                self._done.post()
                return
            fn, args = task
            try:
                self._outcome = (True, fn(*args))
            except BaseException as error:   # handed to the caller, which raises it
                self._outcome = (False, error)
            self._done.post()


class Pool:
    """``size`` worker threads; ``call(tasks, own)`` runs one ``(fn, args)`` task on each of the first
    ``len(tasks)`` workers while the caller runs ``own()``, and returns their outcomes in order.
    ``initializer`` runs first in each worker thread."""

    def __init__(self, size, initializer=lambda: None, name="gradkit"):
        functions = spinlocks() if _cores() > size else None
        self._lock = threading.Lock()
        self._workers = [_Worker(f"{name}_{i}", functions, initializer) for i in range(size)]
        self._last_used = time.monotonic()
        self._hot = threading.Event()
        self._retired = False
        if functions is not None:
            self._hot.set()
            threading.Thread(target=self._park_when_idle, name=f"{name}_parker", daemon=True).start()

    @property
    def retired(self):
        return self._retired

    @property
    def size(self):
        return len(self._workers)

    def call(self, tasks, own):
        """Post ``tasks`` (at most ``size``) to the workers, run ``own()`` here, wait for all; returns
        ``(outcomes of tasks, outcome of own)``, each ``(True, result)`` or ``(False, exception)``."""
        with self._lock:
            busy = self._workers[:len(tasks)]
            for worker, task in zip(busy, tasks):
                woken = worker.parked
                worker.post(task)
                if woken:
                    self._hot.set()
            try:
                mine = (True, own())
            except BaseException as error:
                mine = (False, error)
            outcomes = [worker.outcome() for worker in busy]   # also after an error: they share our arrays
            self._last_used = time.monotonic()
        return outcomes, mine

    def retire(self):
        """Stop the workers (after any split in progress); again is a no-op."""
        with self._lock:
            if self._retired:
                return
            self._retired = True
            for worker in self._workers:
                worker.post(_STOP)
                worker.outcome()
            self._hot.set()

    def _park_when_idle(self):
        while True:
            self._hot.wait()
            with self._lock:
                if self._retired:
                    return
                idle = time.monotonic() - self._last_used
                if idle >= PARK_AFTER:
                    for worker in self._workers:
                        if worker.spins and not worker.parked:
                            worker.post(_PARK)
                            worker.outcome()
                            worker.parked = True
                    self._hot.clear()
                    continue
            time.sleep(PARK_AFTER - idle)
