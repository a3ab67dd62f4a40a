"""Whether operations record a graph, and whether backward checks for NaN/Inf (anomaly mode).

The flags are process-wide (not thread-local): gradkit's data loader uses processes, and a
plain module attribute keeps the check on every op as cheap as possible.
"""
import functools


class _State:
    grad_enabled = True
    anomaly_enabled = False
    # Set while an exporter traces a model through ``Function.apply``: the shortcuts that skip it
    # for ops recording no graph (arithmetic, unary math, pooling under no_grad) are off then.
    tracing = False


state = _State()


def is_grad_enabled():
    return state.grad_enabled


def records_graph(*operands):
    """Whether an op on ``operands`` must go through ``Function.apply``: grad mode is on and one of
    them requires grad, or an exporter is tracing every op. Ops may skip the graph's bookkeeping
    (node, saved inputs, output links) only when this is False."""
    if state.tracing:
        return True
    if state.grad_enabled:
        for operand in operands:
            if getattr(operand, "requires_grad", False):
                return True
    return False


class _GradModeContext:
    """Base for context managers that double as decorators."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args):
                return fn(*args, **kwargs)
        return wrapper

    _args = ()

    def __enter__(self):
        self._previous = state.grad_enabled
        state.grad_enabled = self._mode
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self._previous
        return False


class no_grad(_GradModeContext):
    """Context manager and decorator: operations inside record no graph (inference, updates)."""
    _mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator: turn graph recording back on inside a ``no_grad`` block."""
    _mode = True


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(flag)``: a context manager, a decorator, or a plain call that sets the mode."""

    def __init__(self, mode):
        self._mode = bool(mode)
        self._args = (mode,)
        self._previous = state.grad_enabled
        state.grad_enabled = self._mode  # a plain call takes effect at once, like PyTorch's

    def __enter__(self):
        return self


class inference_mode(no_grad):
    """Alias of :class:`no_grad` for code written against PyTorch's ``inference_mode``."""


class detect_anomaly:
    """Check every backward result for NaN or Inf and raise naming the op that produced it.

    While active, each op also remembers where in the user's code it was created, and the error
    shows that traceback. It slows backward down; use it to find a bug, not in production.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._previous = state.anomaly_enabled
        state.anomaly_enabled = self.check_nan

    def __exit__(self, *exc):
        state.anomaly_enabled = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


def set_detect_anomaly(mode):
    state.anomaly_enabled = bool(mode)
