"""Flatten and Unflatten: reshape a range of dimensions into one, and one dimension into several."""
import math

from gradkit.nn.module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    r"""Merge dimensions ``start_dim`` .. ``end_dim`` into one: :math:`(N, C, H, W) \to (N, CHW)` by default.

    Defaults differ from ``gk.flatten`` (``start_dim=0``) so that the batch dimension is kept.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        ndim = max(input.ndim, 1)
        start = self.start_dim + ndim if self.start_dim < 0 else self.start_dim
        end = self.end_dim + ndim if self.end_dim < 0 else self.end_dim
        if not (0 <= start < ndim and 0 <= end < ndim) or start > end:
            raise ValueError(f"{self._get_name()}({self.extra_repr()}): dimensions out of range (or start after end) "
                             f"for input of shape {tuple(input.shape)}")
        shape = tuple(input.shape)
        return input.reshape(shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    r"""Split dimension ``dim`` into ``unflattened_size``: ``Unflatten(1, (2, 5))`` maps
    :math:`(N, 10) \to (N, 2, 5)`. One entry of ``unflattened_size`` may be -1 (inferred)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, str):
            raise ValueError("Unflatten: named dimensions are not supported; give dim as an integer")
        sizes = tuple(unflattened_size)
        if not all(isinstance(s, int) for s in sizes) or sum(s == -1 for s in sizes) > 1 \
                or any(s < -1 for s in sizes):
            raise ValueError(f"Unflatten: unflattened_size must be integers with at most one -1, "
                             f"got {unflattened_size}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        ndim = input.ndim
        dim = self.dim + ndim if self.dim < 0 else self.dim
        sizes = tuple(self.unflattened_size)
        known = math.prod(s for s in sizes if s != -1)
        valid = 0 <= dim < ndim and (input.shape[dim] == known if -1 not in sizes
                                     else known > 0 and input.shape[dim] % known == 0)
        if not valid:
            raise ValueError(f"{self._get_name()}({self.extra_repr()}): cannot split dimension {self.dim} of input "
                             f"of shape {tuple(input.shape)} into {sizes}")
        shape = tuple(input.shape)
        return input.reshape(shape[:dim] + sizes + shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
