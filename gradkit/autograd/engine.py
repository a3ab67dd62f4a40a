"""The backward engine: walks the graph from the outputs to the leaves.

The order is Kahn's algorithm over the graph's nodes: a node runs once every node that consumes its
outputs has sent its gradient, so its gradient is complete. Both the dependency count and the walk
are iterative, so a graph 100,000 ops deep needs no recursion. Leaf gradients are summed during the
pass and written to ``.grad`` at the end.
"""
import numpy as np

from gradkit import backend
from gradkit.autograd.grad_mode import state as _grad_state
from gradkit.autograd.function import Node
from gradkit.tensor import Tensor


def _as_grad_tensor(tensor, gradient):
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; this output has "
                               f"shape {tuple(tensor.shape)}: pass a gradient of that shape to backward()")
        xp = backend.array_module(tensor.data)
        return Tensor._make(xp.ones_like(tensor.data))
    if not isinstance(gradient, Tensor):
        gradient = Tensor(gradient)
    if gradient.shape != tensor.shape:
        raise RuntimeError(f"backward: gradient of shape {tuple(gradient.shape)} given for an output of shape "
                           f"{tuple(tensor.shape)}")
    return gradient


def _count_dependencies(roots):
    """How many edges lead into each node reachable from ``roots``."""
    dependencies = {}
    stack = [r for r in roots]
    seen = set(stack)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is None:
                continue
            child = edge[0]
            if isinstance(child, Tensor):
                continue
            dependencies[child] = dependencies.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return dependencies


def _add(a, b):
    if a is None:
        return b
    return a + b


def _add_arrays(a, b):
    # Without create_graph the sum need not be recorded: skip the op machinery.
    return Tensor._make(a.data + b.data)


def run(outputs, gradients, retain_graph, create_graph, capture=None):
    """Backpropagate ``gradients`` from ``outputs``.

    Without ``capture`` leaf gradients are accumulated into ``.grad``. With ``capture`` (a list of
    tensors, for ``autograd.grad``) their gradients are returned instead and no ``.grad`` is touched.
    """
    leaf_grads = {}
    captured_leaves = {}
    captured_nodes = {}
    if capture is not None:
        for i, t in enumerate(capture):
            if t.grad_fn is None:
                captured_leaves.setdefault(t, []).append(i)
            else:
                captured_nodes.setdefault((t.grad_fn, t.output_nr), []).append(i)
    results = [None] * (len(capture) if capture is not None else 0)

    buffers = {}
    root_nodes = []
    for out, grad in zip(outputs, gradients):
        if out.grad_fn is None:
            leaf_grads[out] = _add(leaf_grads.get(out), grad)
            continue
        node = out.grad_fn
        buffer = buffers.get(node)
        if buffer is None:
            buffer = buffers[node] = [None] * len(node._outputs_meta)
            root_nodes.append(node)
        buffer[out.output_nr] = _add(buffer[out.output_nr], grad)

    dependencies = _count_dependencies(root_nodes)
    ready = [n for n in root_nodes if dependencies.get(n, 0) == 0]
    add = _add if create_graph else _add_arrays
    previous_mode = _grad_state.grad_enabled
    _grad_state.grad_enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            if node._output_hooks or node._retained:
                grads = _run_output_hooks(node, grads)
            if captured_nodes:
                for nr, g in enumerate(grads):
                    for i in captured_nodes.get((node, nr), ()):
                        results[i] = g
            input_grads = _call_backward(node, grads)
            if not retain_graph:
                node.release()
            for edge, g in zip(node.next_edges, input_grads):
                if edge is None or g is None:
                    continue
                child, nr = edge
                if type(child) is not Node:  # a leaf tensor
                    if g.shape != child.shape:
                        raise RuntimeError(f"{node.name()} returned a gradient of shape {tuple(g.shape)} "
                                           f"for an input of shape {tuple(child.shape)}")
                    previous = leaf_grads.get(child)
                    leaf_grads[child] = g if previous is None else add(previous, g)
                    continue
                buffer = buffers.get(child)
                if buffer is None:
                    buffer = buffers[child] = [None] * len(child._outputs_meta)
                    buffer[nr] = g
                else:
                    buffer[nr] = g if buffer[nr] is None else add(buffer[nr], g)
                remaining = dependencies[child] - 1
                dependencies[child] = remaining
                if remaining == 0:
                    ready.append(child)
    finally:
        _grad_state.grad_enabled = previous_mode

    if capture is not None:
        for leaf, grad in leaf_grads.items():
            for i in captured_leaves.get(leaf, ()):
                results[i] = grad
        return results
    # The caller's own gradient arrays must not become a leaf's .grad without a copy.
    handed_out = {id(_root_base(g.data)) for g in gradients}
    for leaf, grad in leaf_grads.items():
        _accumulate(leaf, grad, create_graph, handed_out)
    return None


def _run_output_hooks(node, grads):
    if node._output_hooks:
        grads = list(grads)
        for nr, hook in list(node._output_hooks.values()):
            if grads[nr] is not None:
                replaced = hook(grads[nr])
                if replaced is not None:
                    grads[nr] = replaced
    if node._retained:
        for nr, ref in node._retained:
            tensor = ref()
            if tensor is not None and grads[nr] is not None:
                g = grads[nr] if _grad_state.grad_enabled else Tensor._make(grads[nr].data.copy())
                tensor.grad = g if tensor.grad is None else tensor.grad + g
    return grads


def _call_backward(node, grads):
    # A single-output node is only run once its gradient has arrived; only multi-output nodes can
    # lack some, which PyTorch fills with zeros.
    if len(grads) > 1 and node.materialize_grads and any(g is None for g in grads):
        grads = [g if g is not None else Tensor._make(np.zeros(shape, dtype))
                 for g, (shape, dtype) in zip(grads, node._outputs_meta)]
    if node._released:
        node.saved_tensors  # raises the explanation of retain_graph
    result = node.function.backward(node, *grads)
    if type(result) is not tuple:
        result = (result,)
    missing = len(node.next_edges) - len(result)
    if missing > 0:
        # Like PyTorch, allow trailing Nones to be omitted for non-tensor arguments.
        result = result + (None,) * missing
    for g in result:
        if g is not None and not isinstance(g, Tensor):
            result = tuple(g if g is None or isinstance(g, Tensor) else Tensor._make(g) for g in result)
            break
    if _grad_state.anomaly_enabled:
        _check_finite(node, result)
    return result


def _check_finite(node, grads):
    for i, g in enumerate(grads):
        if g is None or g.data.dtype.kind not in "fc":
            continue
        xp = backend.array_module(g.data)
        if not bool(xp.all(xp.isfinite(g.data))):
            where = "".join(node._stack[-6:]) if node._stack else "(created before anomaly detection was on)\n"
            bad = "nan" if bool(xp.any(xp.isnan(g.data))) else "inf"
            raise RuntimeError(f"Function '{node.name()}' returned {bad} values in its {i}th output.\n"
                               f"The forward call that created it:\n{where}")


def _root_base(array):
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def _accumulate(leaf, grad, create_graph, handed_out):
    """Add ``grad`` into ``leaf.grad``, running the leaf's hooks first.

    A stored gradient must own its memory: optimizers and clipping update ``.grad`` in place, so a
    gradient that is read-only (a broadcast view) or shared with another leaf is copied first.
    """
    if leaf._hooks:
        for hook in list(leaf._hooks.values()):
            replaced = hook(grad)
            if replaced is not None:
                grad = replaced
    if create_graph:
        leaf.grad = grad if leaf.grad is None else leaf.grad + grad
        return
    array = grad.data
    if leaf.grad is None:
        base = _root_base(array)
        if not array.flags.writeable or id(base) in handed_out or array.dtype != leaf.data.dtype:
            array = array.astype(leaf.data.dtype, copy=True)
            base = array
        handed_out.add(id(base))
        leaf.grad = Tensor._make(array)
    elif leaf.grad.requires_grad:
        leaf.grad = Tensor._make(leaf.grad.data + array)
    else:
        leaf.grad.data += array


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``gk.autograd.backward``: accumulate gradients of ``tensors`` into the leaves' ``.grad``."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn: "
                               "nothing to differentiate (did you build it under no_grad, or from detached tensors?)")
    grads = [_as_grad_tensor(t, g) for t, g in zip(tensors, grad_tensors)]
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        found = run(tensors, grads, retain_graph, create_graph, capture=inputs)
        handed_out = set()
        for t, g in zip(inputs, found):
            if g is not None:
                _accumulate(t, g, create_graph, handed_out)
        return
    run(tensors, grads, retain_graph, create_graph)
