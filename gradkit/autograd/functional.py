"""``autograd.grad``: gradients of outputs with respect to chosen inputs, returned instead of accumulated."""
from gradkit.autograd import engine
from gradkit.tensor import Tensor


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False,
         materialize_grads=False):
    """Return ``d outputs / d inputs`` (weighted by ``grad_outputs``) as a tuple, one per input.

    With ``create_graph=True`` the result is itself differentiable, which gives Hessian-vector
    products and gradient penalties. ``.grad`` of the leaves is left untouched.
    """
    single_output = isinstance(outputs, Tensor)
    outputs = [outputs] if single_output else list(outputs)
    inputs_seq = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(inputs_seq):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    for i, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: output {i} does not require grad and does not have a grad_fn")
    grads = [engine._as_grad_tensor(t, g) for t, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    results = engine.run(outputs, grads, retain_graph, create_graph, capture=inputs_seq)
    for i, (t, g) in enumerate(zip(inputs_seq, results)):
        if g is None:
            if materialize_grads:
                results[i] = Tensor._make(t.data * 0)
            elif not allow_unused:
                raise RuntimeError(f"autograd.grad: input {i} (shape {tuple(t.shape)}) was not used in the graph "
                                   "of the outputs; pass allow_unused=True if that is expected")
        elif not create_graph:
            results[i] = Tensor._make(g.data)
    return tuple(results)
