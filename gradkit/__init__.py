"""gradkit: a deep-learning framework written from scratch in Python, with PyTorch's API and numbers."""
from gradkit import backend
from gradkit.kernels import allocator as _allocator
from gradkit.backend import (Generator, bool_ as bool, float16, float32, float64, get_default_dtype, get_num_threads,
                             int32, int64, manual_seed, set_default_dtype, set_num_threads, uint8)
from gradkit.tensor import Tensor
from gradkit import autograd
from gradkit.autograd import (detect_anomaly, enable_grad, inference_mode, is_grad_enabled, no_grad,
                              set_grad_enabled)
from gradkit.ops import *  # noqa: F401,F403
from gradkit.serialization import load, save
from gradkit import nn, optim, data, train  # noqa: E402  (the packages users reach as gk.nn, gk.optim, ...)
from gradkit import onnx  # noqa: E402  (imports the onnx package itself only when used)
from gradkit import analysis, viz  # noqa: E402  (matplotlib is imported only when a plot is drawn)

_allocator.keep_freed_memory()   # see gradkit.kernels.allocator: page faults were a fifth of a CNN step

__version__ = "0.1.0"
half = float16
double = float64
long = int64
default_generator = backend.default_generator


def seed():
    """Seed the default generator from fresh entropy and return the seed."""
    import numpy as np
    value = int(np.random.SeedSequence().entropy % (2 ** 63))
    manual_seed(value)
    return value


def initial_seed():
    return backend.default_generator.initial_seed
