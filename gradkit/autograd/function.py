"""Function and its node: how an op records itself in the graph.

An op is a subclass of :class:`Function` with two static methods::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):              # raw arrays in, raw array(s) out
            y = array_module(x).exp(x)
            ctx.save_for_backward(y)      # the output is enough: d exp(x) = exp(x) dx
            return y

        @staticmethod
        def backward(ctx, grad):          # Tensors in, one gradient per input out
            y, = ctx.saved_tensors
            return grad * y

``backward`` is written with Tensor operations. The engine runs it with graph recording off, or on
when ``create_graph=True``: then the backward pass is itself recorded and second derivatives come for
free. For that to be exact, save inputs or outputs of the op (they are handed back as the graph's own
tensors); any other saved array is treated as a constant of the backward graph.
"""
import traceback
import weakref

import numpy as np

from gradkit import backend
from gradkit.autograd.grad_mode import state as _grad_state
from gradkit.tensor import RemovableHandle, Tensor, _hook_id

_INPUT, _OUTPUT, _CONSTANT = 0, 1, 2


class Node:
    """The record of one op application: the ``ctx`` of ``forward``/``backward`` and a ``grad_fn``.

    ``next_edges[i]`` says where the gradient of input ``i`` goes: ``(node, output_nr)`` for a
    tensor produced by another op, ``(leaf_tensor, 0)`` for a leaf that requires grad, or None.
    """

    # Class-level defaults: most nodes never set these, and a node is built for every op call.
    needs_input_grad = ()
    next_edges = ()
    materialize_grads = True
    _to_save = None
    _saved = None
    _released = False
    _outputs_meta = ()
    _non_differentiable = ()
    _output_hooks = None
    _retained = None
    _stack = None

    def __init__(self, function):
        self.function = function

    def name(self):
        return self.function.__name__.lstrip("_") + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    # ----- used by forward ----------------------------------------------------------------------
    def save_for_backward(self, *arrays):
        self._to_save = arrays

    def mark_non_differentiable(self, *arrays):
        self._non_differentiable = tuple(id(a) for a in arrays)

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    # ----- used by backward ---------------------------------------------------------------------
    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (in {self.name()}): the values saved "
                "for backward were freed after the first backward. Pass retain_graph=True to the first "
                "backward() or autograd.grad() call if you need to backward through the graph again.")
        return tuple([self._unpack(entry) for entry in self._saved])

    def _unpack(self, entry):
        kind, value, version = entry
        if kind == _INPUT:
            if value._version != version:
                raise RuntimeError(_modified_message(self, value._version, version))
            return value
        if kind == _OUTPUT:
            array, output_nr, ref = value
            live = ref() if ref is not None else None
            if live is not None and live._version != version:
                raise RuntimeError(_modified_message(self, live._version, version))
            return Tensor._make(array, True, self, output_nr)
        # Python scalars stay scalars, so they keep their weak dtype in backward arithmetic.
        return Tensor._make(value) if backend.is_array(value) else value

    @property
    def next_functions(self):
        return tuple((None, 0) if e is None else e for e in self.next_edges)

    # ----- hooks on the outputs (non-leaf tensors) ----------------------------------------------
    def register_output_hook(self, output_nr, hook):
        if self._output_hooks is None:
            self._output_hooks = {}
        key = _hook_id()
        self._output_hooks[key] = (output_nr, hook)
        return RemovableHandle(self._output_hooks, key)

    def retain_output(self, tensor):
        if self._retained is None:
            self._retained = []
        self._retained.append((tensor.output_nr, weakref.ref(tensor)))

    def release(self):
        # Only a node that saved something fails on a second backward, as in PyTorch.
        if self._saved is not None:
            self._saved = None
            self._released = True


def _modified_message(node, now, then):
    return (f"one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: it is an input or output of {node.name()}, at version {now}; expected version "
            f"{then} instead. Use the out-of-place op, or clone() the tensor before modifying it.")


class Function:
    """Base class of differentiable ops; subclass it with static ``forward`` and ``backward``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        ctx = Node(cls)
        raw = cls.forward(ctx, *arrays, **kwargs)
        if _grad_state.grad_enabled:
            # (A list built then frozen is cheaper than a generator: this runs for every op call.)
            needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
            if True in needs:
                return _record(ctx, args, needs, raw)
        if type(raw) is tuple:
            return tuple(Tensor._make(_as_array(o)) for o in raw)
        return Tensor._make(raw if type(raw) is np.ndarray else _as_array(raw))


def _record(ctx, args, needs, raw):
    """Link the op's node into the graph: edges to its inputs, outputs pointing back to it."""
    ctx.needs_input_grad = needs
    ctx.next_edges = tuple([((a.grad_fn, a.output_nr) if a.grad_fn is not None else (a, 0)) if need else None
                            for a, need in zip(args, needs)])
    single = type(raw) is not tuple
    if single:
        # Nearly every op has one output: spelled out, without the loops below (a tenth of an op's
        # bookkeeping goes to building one-element lists).
        outputs = (raw,)
        result = _output_tensor(ctx, raw, 0)
        results = (result,)
        ctx._outputs_meta = ((result.data.shape, result.data.dtype),)
    else:
        outputs = raw
        results = tuple([_output_tensor(ctx, out, i) for i, out in enumerate(outputs)])
        ctx._outputs_meta = tuple([(r.data.shape, r.data.dtype) for r in results])
    if ctx._to_save is not None:
        ctx._saved = _resolve_saved(ctx, ctx._to_save, args, outputs, results)
        ctx._to_save = None
    if _grad_state.anomaly_enabled:
        ctx._stack = traceback.format_stack()[:-2]
    return results[0] if single else results


def _output_tensor(ctx, out, output_nr):
    array = out if type(out) is np.ndarray else _as_array(out)
    differentiable = array.dtype.kind in "fc" and id(out) not in ctx._non_differentiable
    return Tensor._make(array, differentiable, ctx if differentiable else None, output_nr)


def _as_array(out):
    # Reductions on NumPy arrays return NumPy scalars; the graph stores arrays only.
    return out if backend.is_array(out) else np.asarray(out)


def _resolve_saved(ctx, to_save, args, raw_outputs, results):
    """Map each saved array to the input or output tensor it belongs to, so that backward sees the
    graph's own tensors (exact higher-order gradients) and in-place changes are detected."""
    saved = []
    for array in to_save:
        entry = None
        for a in args:
            if isinstance(a, Tensor) and a.data is array:
                entry = (_INPUT, a, a._version)
                break
        if entry is None:
            for i, out in enumerate(raw_outputs):
                if out is array and results[i].grad_fn is ctx:
                    entry = (_OUTPUT, (results[i].data, i, weakref.ref(results[i])), 0)
                    break
        saved.append(entry or (_CONSTANT, array, 0))
    return tuple(saved)


class _NotTwiceDifferentiable(Function):
    """Identity on the first gradient, linked to the incoming gradients, whose backward raises."""

    @staticmethod
    def forward(ctx, grad_in, *upstream, op_name):
        ctx.op_name = op_name
        return grad_in

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"{ctx.op_name} is not differentiable twice: its backward is a fused kernel "
                           "written on raw arrays")


def once_differentiable(backward):
    """Mark a backward written on raw arrays.

    It runs with recording off; under ``create_graph=True`` its results are linked to the graph by a
    node that raises a clear error if anyone differentiates through it a second time.
    """
    def wrapper(ctx, *grads):
        recording = _grad_state.grad_enabled and any(isinstance(g, Tensor) and g.requires_grad for g in grads)
        previous, _grad_state.grad_enabled = _grad_state.grad_enabled, False
        try:
            result = backward(ctx, *grads)
        finally:
            _grad_state.grad_enabled = previous
        if not recording:
            return result
        single = not isinstance(result, tuple)
        result = (result,) if single else result
        linked = tuple(None if r is None else _NotTwiceDifferentiable.apply(r, *grads, op_name=ctx.name())
                       for r in result)
        return linked[0] if single else linked
    wrapper.__doc__ = backward.__doc__
    return wrapper
