"""LRScheduler: the base of every learning-rate schedule.

A scheduler's state is a step counter (``last_epoch``) plus a few constants. Two kinds of schedule
follow PyTorch's formulas exactly:

* closed form: the rate is a pure function of the counter, ``lr = f(base_lr, last_epoch)``
  (LambdaLR, CyclicLR, OneCycleLR, CosineAnnealingWarmRestarts, the TensorFlow decays);
* chainable: the rate is the optimizer's current rate times a factor that is a pure function of the
  counter, ``lr_t = lr_{t-1} * m(t)`` (StepLR, ExponentialLR, LinearLR, CosineAnnealingLR, ...). This is
  what lets several schedulers act on one optimizer (ChainedScheduler), and reproduces PyTorch's
  rounding to the last bit.

Either way, the counter and the rate in effect are all a resume needs. PyTorch keeps the rate only in
the optimizer, so resuming depends on loading the optimizer after building the scheduler (which resets
the rates). Here ``load_state_dict`` also writes the saved rates (``get_last_lr()``) back into the
optimizer, so the order of the loads no longer matters.
"""
import copy
import warnings

from gradkit.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement ``get_lr`` (and ``_get_closed_form_lr`` when one exists)."""

    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr', which resuming "
                                   f"with last_epoch={last_epoch} needs; load the optimizer's state dict first, "
                                   "or build the scheduler with last_epoch=-1 and load its state dict")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """Set the rates for step 0 (PyTorch's convention: the constructor takes the first step)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The rates for ``last_epoch``; call ``get_last_lr()`` to read the rates in effect."""
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rate of each parameter group after the last ``step()``."""
        return self._last_lr

    def step(self, epoch=None):
        """Advance the counter by one and set the optimizer's rates. Call it after ``optimizer.step()``.

        ``epoch`` (deprecated, as in PyTorch) jumps the counter and uses the closed form where there is one.
        """
        self._step_count += 1
        if epoch is not None:
            warnings.warn("passing an epoch to scheduler.step() is deprecated, as in PyTorch: call step() "
                          "once per epoch (or iteration) instead", UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr") else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    # ----- checkpoints --------------------------------------------------------------------------------
    _not_saved = ("optimizer",)

    def state_dict(self):
        """Every attribute but the optimizer (and functions, which cannot be saved), as copies."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k not in self._not_saved})

    def load_state_dict(self, state_dict):
        """Restore ``state_dict()``'s output, and the rates it was saved with into the optimizer."""
        self.__dict__.update(copy.deepcopy({k: v for k, v in state_dict.items() if k not in self._not_saved}))
        self._restore_optimizer_lrs()

    def _restore_optimizer_lrs(self):
        last = getattr(self, "_last_lr", None)
        if last is not None and len(last) == len(self.optimizer.param_groups):
            for group, lr in zip(self.optimizer.param_groups, last):
                group["lr"] = lr


_LRScheduler = LRScheduler  # PyTorch's old name


def saved_callables(functions):
    """How PyTorch saves lr_lambda / scale_fn: plain functions and lambdas as None (code is not state),
    callable objects as a copy of their attributes."""
    return [None if fn is None or _is_plain_function(fn) else copy.deepcopy(fn.__dict__) for fn in functions]


def restore_callables(functions, saved):
    for fn, attributes in zip(functions, saved):
        if attributes is not None:
            fn.__dict__.update(attributes)


def _is_plain_function(fn):
    import types
    return isinstance(fn, (types.FunctionType, types.BuiltinFunctionType, types.MethodType))
