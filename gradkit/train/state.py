"""Nested training state <-> (arrays, JSON) so a checkpoint is one safetensors file, never a pickle.

Arrays anywhere in a nested structure of dicts and lists are pulled out under a path-like key and
replaced by ``{"__array__": key}``; the rest must be JSON. Random-generator states are captured and
restored here too, so a resumed run draws the same numbers as an uninterrupted one.
"""
import random

import numpy as np

from gradkit import backend
from gradkit.tensor import Tensor


def flatten(state, prefix, arrays):
    """Return a JSON-able copy of ``state``; arrays go into ``arrays[key]``."""
    if isinstance(state, Tensor):
        arrays[prefix] = state.data
        return {"__array__": prefix}
    if isinstance(state, np.ndarray):
        arrays[prefix] = state
        return {"__array__": prefix}
    if isinstance(state, dict):
        return {"__dict__": [[_key(k), flatten(v, f"{prefix}/{k}", arrays)] for k, v in state.items()]}
    if isinstance(state, (list, tuple)):
        return [flatten(v, f"{prefix}/{i}", arrays) for i, v in enumerate(state)]
    if isinstance(state, np.generic):
        return state.item()
    return state


def _key(k):
    # JSON object keys are strings; optimizer state is keyed by int, so keys keep their type.
    return k if isinstance(k, (str, int, float, bool)) or k is None else str(k)


def unflatten(state, arrays):
    if isinstance(state, dict):
        if "__array__" in state:
            return Tensor._make(arrays[state["__array__"]].data)
        if "__dict__" in state:
            return {k: unflatten(v, arrays) for k, v in state["__dict__"]}
        return {k: unflatten(v, arrays) for k, v in state.items()}
    if isinstance(state, list):
        return [unflatten(v, arrays) for v in state]
    return state


def rng_state():
    """Every random state a run draws from: the framework's, NumPy's global one and Python's."""
    version, internal, gauss = random.getstate()
    np_state = np.random.get_state()
    return {"framework": backend.default_generator.get_state(),
            "numpy": [np_state[0], np_state[1], int(np_state[2]), int(np_state[3]), float(np_state[4])],
            "python": [version, list(internal), gauss]}


def set_rng_state(state):
    backend.default_generator.set_state(state["framework"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
