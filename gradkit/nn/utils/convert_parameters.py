"""Flatten parameters into one vector and back (for second-order methods, line searches, EMA, ...)."""
from gradkit import backend
from gradkit.autograd.grad_mode import no_grad
from gradkit.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """All ``parameters`` flattened and concatenated in order: a 1-D tensor, differentiable with
    respect to each parameter."""
    from gradkit import ops  # concatenation lives with the shape ops
    parameters = list(parameters)
    if not parameters:
        raise ValueError("parameters_to_vector: got no parameters")
    devices = {p.device for p in parameters}
    if len(devices) > 1:
        raise ValueError(f"parameters_to_vector: parameters are on several devices {sorted(devices)}")
    return ops.cat([ops.reshape(p, (-1,)) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters``, in place (the inverse of
    :func:`parameters_to_vector`). The copy is not recorded in the graph."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a gradkit Tensor, got {type(vec).__name__}")
    parameters = list(parameters)
    sizes = [p.numel() for p in parameters]
    if vec.ndim != 1 or vec.shape[0] != sum(sizes):
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {sum(sizes)} elements (the parameters' "
                         f"total), got shape {tuple(vec.shape)}")
    offset = 0
    for param, size in zip(parameters, sizes):
        piece = backend.to_device(vec.data[offset:offset + size].reshape(param.shape), param.device)
        with no_grad():
            param.copy_(piece)
        offset += size
