"""Differentiable primitives, one file per family.

Each family lists its public functions in ``__all__`` and those that are also Tensor methods in
``TENSOR_METHODS``. The tensor-level families are re-exported as ``gk.*``; the neural-network
families (activations, convolution, pooling, ...) are the body of ``gradkit.nn.functional``.
"""
from gradkit.ops import (activation, conv, creation, dropout, elementwise, indexing, linalg, loss, pool, reduction,
                         resize, shape)
from gradkit.ops import norm as normalization  # the module; `norm` below is the reduction gk.norm
from gradkit.ops.creation import *  # noqa: F401,F403
from gradkit.ops.elementwise import *  # noqa: F401,F403
from gradkit.ops.shape import *  # noqa: F401,F403
from gradkit.ops.reduction import *  # noqa: F401,F403
from gradkit.ops.indexing import *  # noqa: F401,F403
from gradkit.ops.linalg import *  # noqa: F401,F403

TENSOR_FAMILIES = (creation, elementwise, shape, reduction, indexing, linalg)
NN_FAMILIES = (activation, conv, pool, resize, normalization, dropout, loss)
# PyTorch also exposes these network functions at the top level (torch.softmax, ...).
from gradkit.ops.activation import log_softmax, softmax  # noqa: E402

__all__ = [name for family in TENSOR_FAMILIES for name in family.__all__] + ["softmax", "log_softmax"]
TENSOR_METHODS = {name: getattr(family, name) for family in TENSOR_FAMILIES + NN_FAMILIES
                  for name in family.TENSOR_METHODS}
