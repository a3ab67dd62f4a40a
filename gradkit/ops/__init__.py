"""Differentiable primitives, one file per family. Each family lists its public functions in
``__all__`` and the ones that are also Tensor methods in ``TENSOR_METHODS``."""
from gradkit.ops import creation, elementwise, shape
from gradkit.ops.creation import *  # noqa: F401,F403
from gradkit.ops.elementwise import *  # noqa: F401,F403
from gradkit.ops.shape import *  # noqa: F401,F403

_FAMILIES = (creation, elementwise, shape)
__all__ = [name for family in _FAMILIES for name in family.__all__]
TENSOR_METHODS = {name: getattr(family, name) for family in _FAMILIES for name in family.TENSOR_METHODS}
