"""The Optimizer base class: parameter groups, per-parameter state, ``state_dict`` and the closure protocol.

A subclass validates its hyperparameters, calls ``super().__init__(params, defaults)``, and in
``step`` hands each parameter's raw arrays to its update function (``sgd_update``, ``adam_update``,
...), which changes them in place. The class holds no math; the function holds no bookkeeping.

``state_dict()`` has PyTorch's layout: ``{"state": {index: {...}}, "param_groups": [{..., "params":
[indices]}]}`` with parameters numbered in order across the groups, so a PyTorch optimizer state dict
(its tensors converted or not) loads here and the other way round.
"""
import copy
import itertools

import numpy as np

from gradkit import backend
from gradkit.autograd.grad_mode import enable_grad
from gradkit.tensor import Tensor


class _RequiredParameter:
    """Marks a default that each parameter group must set (like PyTorch's ``required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (parameter groups),
    each dict holding ``"params"`` and any option that overrides ``defaults`` for that group.
    """

    def __init__(self, params, defaults):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params should be an iterable of Tensors or dicts, got a single Tensor; "
                            "pass [tensor] instead")
        self.defaults = defaults
        self.state = {}
        self.param_groups = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key not in ("params", "param_names")]
        return "\n".join(lines) + "\n)"

    # ----- parameter groups ---------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (e.g. a lower lr for a pretrained backbone)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be an ordered collection (a list), not a set: a set's "
                            "order changes between runs, and state_dict numbers parameters by position")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(params):
            raise ValueError(f"{name}: either every parameter is given with a name or none is")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, but parameter {i} is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (parameter {i} of shape {p.shape} is "
                                 "the result of an op); optimize the leaf it was computed from, or detach it")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group contains the same parameter more than once")
        group = dict(param_group, params=params)
        if names:
            group["param_names"] = names
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required option {key}")
            group.setdefault(key, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        if self.param_groups and ("param_names" in group) != ("param_names" in self.param_groups[0]):
            raise ValueError(f"{name}: all parameter groups should be given with names or all without")
        self.param_groups.append(group)

    # ----- the training-loop protocol ----------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad``: drop it (default, frees memory) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.data[...] = 0

    def step(self, closure=None):
        """Update the parameters once. ``closure``, if given, re-evaluates the model and returns the loss."""
        raise NotImplementedError

    def _evaluate(self, closure):
        """Run the closure with graph recording on (step itself runs under no_grad) and return its loss."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _params_with_grad(self, group):
        """The group's parameters that received a gradient this step; the others are left untouched."""
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.shape != p.shape:
                raise RuntimeError(f"{type(self).__name__}: gradient of shape {p.grad.shape} for a parameter of "
                                   f"shape {p.shape}")
            yield p

    def _zeros_like(self, p):
        xp = backend.array_module(p.data)
        return Tensor._make(xp.zeros_like(p.data))

    @staticmethod
    def _new_step():
        # float32 like PyTorch's step counter, so state dicts travel between the two unchanged.
        return Tensor._make(np.zeros((), dtype=np.float32))

    @staticmethod
    def _advance(step_tensor):
        """Add one to a step counter and return its new value as a Python float."""
        step_tensor.data += 1
        return float(step_tensor.data)

    # ----- checkpoints --------------------------------------------------------------------------------
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [...]}``, PyTorch's layout.

        Unlike PyTorch's, whose state dict shares its tensors with the live optimizer (so a checkpoint
        kept in memory changes as training goes on), the arrays here are copies.
        """
        index_of, groups = {}, []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index_of[id(p)]: {k: _copy_value(v) for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index_of}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore ``state_dict()``'s output (from gradkit or PyTorch). Arrays are copied and cast to each
        parameter's dtype and device; the step counters keep theirs. Hyperparameters come from the file."""
        name = type(self).__name__
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter groups, "
                             f"the optimizer {len(self.param_groups)}")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has {len(saved['params'])} "
                                 f"parameters in the state dict and {len(group['params'])} in the optimizer")
        param_of = dict(zip(itertools.chain.from_iterable(g["params"] for g in saved_groups),
                            itertools.chain.from_iterable(g["params"] for g in self.param_groups)))
        state = {}
        for index, saved_state in state_dict["state"].items():
            if index not in param_of:
                raise ValueError(f"{name}.load_state_dict: state for parameter {index}, which no group lists")
            param = param_of[index]
            state[param] = {k: _cast_value(v, param, k) for k, v in saved_state.items()}
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.param_groups = saved_groups
        self.state = state


def _copy_value(value):
    if isinstance(value, Tensor):
        return Tensor._make(value.data.copy())
    return copy.deepcopy(value)


def _cast_value(value, param, key):
    """A saved state value as a Tensor on ``param``'s device, in its dtype unless it is the step counter."""
    if isinstance(value, Tensor):
        array = value.data
    elif isinstance(value, np.ndarray) or backend.is_array(value):
        array = value
    elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        array = value.detach().cpu().numpy()
    else:
        return copy.deepcopy(value)
    if key != "step" and param.data.dtype.kind == "f":
        array = array.astype(param.data.dtype)
    array = backend.to_device(array, param.device) if key != "step" else backend.to_device(array, "cpu")
    return Tensor._make(array.copy())

