"""TensorFlow 1's learning-rate decays (``tf.compat.v1.train.*_decay``) as schedulers.

Step them once per optimizer step (iteration): TensorFlow's ``global_step`` is the number of ``step()``
calls so far (``last_epoch``), and its ``learning_rate`` is the optimizer's rate when the scheduler is
built (``initial_lr``). Each rate is a pure function of that counter, so resuming from ``state_dict``
is exact (for the noisy decay, together with the framework generator's state).
"""
import math

from gradkit import backend
from gradkit.optim.lr_scheduler.base import LRScheduler


class _TFDecay(LRScheduler):
    def get_lr(self):
        return [self.decayed(base_lr, self.last_epoch) for base_lr in self.base_lrs]


class ExponentialDecay(_TFDecay):
    r"""``lr * decay_rate ** (global_step / decay_steps)``; with ``staircase`` the exponent is floored,
    so the rate drops in steps every ``decay_steps``."""

    def __init__(self, optimizer, decay_steps, decay_rate, staircase=False, last_epoch=-1):
        if decay_steps <= 0:
            raise ValueError(f"ExponentialDecay: decay_steps={decay_steps}, expected a positive number")
        self.decay_steps, self.decay_rate, self.staircase = decay_steps, decay_rate, staircase
        super().__init__(optimizer, last_epoch)

    def decayed(self, lr, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return lr * self.decay_rate ** p


class NaturalExpDecay(_TFDecay):
    r"""``lr * exp(-decay_rate * global_step / decay_steps)``; with ``staircase``,
    ``lr * exp(-decay_rate * floor(global_step / decay_steps))``."""

    def __init__(self, optimizer, decay_steps, decay_rate, staircase=False, last_epoch=-1):
        if decay_steps <= 0:
            raise ValueError(f"NaturalExpDecay: decay_steps={decay_steps}, expected a positive number")
        self.decay_steps, self.decay_rate, self.staircase = decay_steps, decay_rate, staircase
        super().__init__(optimizer, last_epoch)

    def decayed(self, lr, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return lr * math.exp(-self.decay_rate * p)


class PolynomialDecay(_TFDecay):
    r"""``(lr - end_learning_rate) * (1 - step / decay_steps) ** power + end_learning_rate``.

    Without ``cycle``, ``step = min(global_step, decay_steps)``: the rate stays at the end rate after
    ``decay_steps``. With ``cycle``, TensorFlow's rule restarts the decay over a longer horizon:
    ``decay_steps *= ceil(global_step / decay_steps)``, with a multiplier of 1 at step 0.
    """

    def __init__(self, optimizer, decay_steps, end_learning_rate=1e-4, power=1.0, cycle=False, last_epoch=-1):
        if decay_steps <= 0:
            raise ValueError(f"PolynomialDecay: decay_steps={decay_steps}, expected a positive number")
        self.decay_steps, self.end_learning_rate = decay_steps, end_learning_rate
        self.power, self.cycle = power, cycle
        super().__init__(optimizer, last_epoch)

    def decayed(self, lr, step):
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps = decay_steps * (1.0 if step == 0 else math.ceil(step / decay_steps))
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return (lr - self.end_learning_rate) * (1 - p) ** self.power + self.end_learning_rate


class CosineDecay(_TFDecay):
    r"""``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)`` with
    ``s = min(global_step, decay_steps)``: half a cosine down to ``alpha * lr``, then constant."""

    def __init__(self, optimizer, decay_steps, alpha=0.0, last_epoch=-1):
        if decay_steps <= 0:
            raise ValueError(f"CosineDecay: decay_steps={decay_steps}, expected a positive number")
        self.decay_steps, self.alpha = decay_steps, alpha
        super().__init__(optimizer, last_epoch)

    def decayed(self, lr, step):
        step = min(step, self.decay_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return lr * ((1 - self.alpha) * cosine + self.alpha)


def _linear_cosine(step, decay_steps, num_periods, alpha, beta, noise=0.0):
    """TensorFlow's (noisy) linear cosine factor at ``step = min(global_step, decay_steps)``."""
    linear = (decay_steps - step) / decay_steps + noise
    cosine = 0.5 * (1.0 + math.cos(math.pi * 2.0 * num_periods * step / decay_steps))
    return (alpha + linear) * cosine + beta


class LinearCosineDecay(_TFDecay):
    r"""Linear cosine decay (Bello et al., 2017), with ``s = min(global_step, decay_steps)``:

    .. math::
        \text{lr}\,\Bigl[(\alpha + \tfrac{D - s}{D})\cdot\tfrac12\bigl(1 + \cos(2\pi\, n\, s / D)\bigr)
        + \beta\Bigr]

    with ``decay_steps`` :math:`D` and ``num_periods`` :math:`n` cosine periods over the decay."""

    def __init__(self, optimizer, decay_steps, num_periods=0.5, alpha=0.0, beta=0.001, last_epoch=-1):
        if decay_steps <= 0:
            raise ValueError(f"LinearCosineDecay: decay_steps={decay_steps}, expected a positive number")
        self.decay_steps, self.num_periods, self.alpha, self.beta = decay_steps, num_periods, alpha, beta
        super().__init__(optimizer, last_epoch)

    def decayed(self, lr, step):
        step = min(step, self.decay_steps)
        return lr * _linear_cosine(step, self.decay_steps, self.num_periods, self.alpha, self.beta)


class NoisyLinearCosineDecay(_TFDecay):
    r"""Linear cosine decay with Gaussian noise added to the linear part:
    ``(D - s) / D + N(0, initial_variance / (1 + s) ** variance_decay)``, ``s = min(global_step, D)``.

    One draw per step and parameter group from the framework generator (``gk.manual_seed`` makes it
    reproducible, and a resumed run continues the same sequence when the generator state is restored,
    as the Trainer's checkpoints do)."""

    def __init__(self, optimizer, decay_steps, initial_variance=1.0, variance_decay=0.55, num_periods=0.5, alpha=0.0,
                 beta=0.001, last_epoch=-1):
        if decay_steps <= 0:
            raise ValueError(f"NoisyLinearCosineDecay: decay_steps={decay_steps}, expected a positive number")
        self.decay_steps, self.initial_variance, self.variance_decay = decay_steps, initial_variance, variance_decay
        self.num_periods, self.alpha, self.beta = num_periods, alpha, beta
        super().__init__(optimizer, last_epoch)

    def decayed(self, lr, step):
        step = min(step, self.decay_steps)
        std = math.sqrt(self.initial_variance / (1.0 + step) ** self.variance_decay)
        noise = float(backend.generator_of(None).normal(0.0, std))
        return lr * _linear_cosine(step, self.decay_steps, self.num_periods, self.alpha, self.beta, noise)


class PiecewiseConstantDecay(LRScheduler):
    r"""``values[0]`` while ``global_step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < global_step <= boundaries[i]``, and ``values[-1]`` after the last boundary. The
    values are the rates themselves: the optimizer's own ``lr`` is replaced from step 0."""

    def __init__(self, optimizer, boundaries, values, last_epoch=-1):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay: expected one more value than boundaries, got "
                             f"{len(boundaries)} boundaries and {len(values)} values")
        if any(later < earlier for earlier, later in zip(boundaries, boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay: boundaries must be increasing, got {list(boundaries)}")
        self.boundaries, self.values = list(boundaries), list(values)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        step = self.last_epoch
        index = next((i for i, boundary in enumerate(self.boundaries) if step <= boundary), len(self.boundaries))
        return [self.values[index]] * len(self.optimizer.param_groups)
