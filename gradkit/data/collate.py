"""Collation: turning a list of samples into one batch.

:func:`default_collate` stacks along a new first dimension and recurses into tuples, lists and
dicts, like PyTorch's. One deliberate difference: Python floats become float32 (gradkit's default
dtype, :func:`gradkit.get_default_dtype`), where PyTorch makes float64; a model fed float32 images
and float targets then needs no casts. Python ints become int64 and bools bool, as in PyTorch;
NumPy arrays and scalars keep their dtype (a float64 array stays float64).
"""
import collections.abc

import numpy as np

from gradkit import backend
from gradkit.tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_TEXT = (str, bytes)


def _stack(arrays):
    first = arrays[0]
    for k, a in enumerate(arrays):
        if a.shape != first.shape:
            raise RuntimeError(f"default_collate: samples must have equal shapes to be stacked, got "
                               f"{first.shape} for sample 0 and {a.shape} for sample {k}; resize them in a "
                               "transform or pass a collate_fn")
    return Tensor(np.stack(arrays))


def default_collate(batch):
    """Stack a list of samples into a batch of Tensors (see the module docstring for dtypes)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([b.data for b in batch])
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USO":
            raise TypeError(f"default_collate: cannot batch arrays of dtype {elem.dtype}; pass a collate_fn")
        return _stack(batch)
    if isinstance(elem, np.generic):
        return Tensor(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=backend.get_default_dtype()))
    if isinstance(elem, _TEXT) or elem is None:
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("default_collate: each element in the batch should have the same length, got "
                               f"lengths {sorted({len(sample) for sample in batch})}")
        # Tuples become lists, as in PyTorch, so `inputs, targets = batch` works either way.
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain arrays, Tensors, numbers, dicts or lists; found "
                    f"{type(elem).__name__}")


def default_convert(sample):
    """Without batching (``batch_size=None``): arrays become Tensors, recursively; the rest is kept."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind not in "USO":
        return Tensor(sample)
    if isinstance(sample, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, (list, tuple)):
        return type(sample)(default_convert(v) for v in sample)
    return sample
