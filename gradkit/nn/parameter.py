"""Parameter: a Tensor that a Module registers as learnable when it is assigned as an attribute."""
import copy

import numpy as np

from gradkit import backend
from gradkit.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and that ``Module.__setattr__`` registers.

    ``Parameter(t)`` shares ``t``'s array, as ``torch.nn.Parameter`` shares storage: changes made
    through one are seen through the other. Ops on a Parameter return plain Tensors.
    """

    # No __slots__ here: like PyTorch's, a Parameter may carry user attributes (e.g. for optimizers).

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty((0,), dtype=backend.get_default_dtype())
        if isinstance(data, Tensor) and data.grad_fn is not None:
            # Keep only the values: a parameter is a leaf of every graph it enters.
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.copy(), self.requires_grad)
        if self.grad is not None:
            result.grad = Tensor._make(self.grad.data.copy())
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = result
        return result
