"""The array backend: which array module an array belongs to, dtypes, devices and the random generator.

Everything that touches arrays asks this module for the array module of its inputs
(``xp = array_module(x)``) instead of reading a global flag, so the same op code runs on
NumPy arrays and, when CuPy is installed, on CuPy arrays.
"""
import os

import numpy as np

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int64 = np.dtype("int64")
int32 = np.dtype("int32")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

_default_float = float32


def get_default_dtype():
    """The dtype Python floats and float factories get (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype):
    global _default_float
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_float = dtype


def available_cores():
    """The cores this process may use: its CPU affinity, or fewer where a container's CPU quota
    (cgroup ``cpu.max``, or ``cpu.cfs_quota_us`` in cgroup v1) allows less. Threads beyond the quota
    are not parallelism: the container is throttled for the time they use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    return max(1, min(cores, quota)) if quota else cores


def cgroup_cpu_quota(root="/sys/fs/cgroup"):
    """Whole CPUs the cgroup's quota allows (rounded up), or None where there is no quota to read."""
    def read(*parts):
        try:
            with open(os.path.join(root, *parts)) as f:
                return f.read().split()
        except (OSError, ValueError):
            return None
    limit = read("cpu.max")                                     # cgroup v2: "max 100000" or "200000 100000"
    if limit is None:
        quota, period = read("cpu", "cpu.cfs_quota_us"), read("cpu", "cpu.cfs_period_us")   # v1; -1: none
        limit = quota + period if quota and period else None
    if not limit or len(limit) != 2 or not all(v.isdigit() for v in limit) or int(limit[1]) == 0:
        return None
    return -(-int(limit[0]) // int(limit[1]))


_num_threads = available_cores()


def get_num_threads():
    """Threads gradkit splits large CPU work over (the cores this process may run on, unless set)."""
    return _num_threads


def set_num_threads(n):
    """Use ``n`` threads for gradkit's CPU work (see :mod:`gradkit.kernels.parallel`); 1 runs
    everything in the calling thread. Like ``torch.set_num_threads``."""
    global _num_threads
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    _num_threads = n


def _cupy():
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def array_module(*arrays):
    """Return ``numpy`` or ``cupy``, whichever owns the first non-NumPy array among ``arrays``."""
    for a in arrays:
        kind = type(a)
        if kind is not np.ndarray and kind.__module__.startswith("cupy"):   # (called by every op)
            return _cupy()
    return np


_PYTHON_SCALARS = (int, float, bool, complex)


def is_array(obj):
    kind = type(obj)
    if kind is np.ndarray:
        return True
    # Called on every op argument: answer Python scalars before the slower checks.
    return kind not in _PYTHON_SCALARS and (isinstance(obj, np.ndarray) or kind.__module__.startswith("cupy"))


def device_of(array):
    """``"cpu"`` for NumPy arrays, ``"cuda:N"`` for CuPy arrays."""
    if isinstance(array, np.ndarray):
        return "cpu"
    return f"cuda:{array.device.id}"


def to_device(array, device):
    """Move ``array`` to ``"cpu"`` or ``"cuda[:N]"``; a no-op when it is already there."""
    device = str(device)
    if device == "cpu":
        return array if isinstance(array, np.ndarray) else array.get()
    if device.startswith("cuda"):
        cupy = _cupy()
        if cupy is None:
            raise RuntimeError(f"device {device!r} needs CuPy, which is not installed (pip install cupy-cuda12x)")
        index = int(device.split(":")[1]) if ":" in device else 0
        with cupy.cuda.Device(index):
            return cupy.asarray(array)
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda[:N]'")


class Generator:
    """A seedable random generator (PCG64), the framework's counterpart of ``torch.Generator``.

    The default one, seeded by :func:`manual_seed`, serves every random op, initialiser,
    dropout mask and shuffle, so one seed makes a whole run reproducible.
    """

    def __init__(self, seed=None):
        self.manual_seed(np.random.SeedSequence().entropy if seed is None else seed)

    def manual_seed(self, seed):
        self.initial_seed = int(seed)
        self.numpy = np.random.Generator(np.random.PCG64(self.initial_seed))
        return self

    def get_state(self):
        return self.numpy.bit_generator.state

    def set_state(self, state):
        self.numpy.bit_generator.state = state


default_generator = Generator(0)


def manual_seed(seed):
    """Seed the framework's default generator (and return it), like ``torch.manual_seed``."""
    return default_generator.manual_seed(seed)


def generator_of(generator=None):
    """The NumPy generator behind ``generator``, or behind the default one."""
    return (generator or default_generator).numpy
