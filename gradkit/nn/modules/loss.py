"""Loss modules: thin wrappers over :mod:`gradkit.ops.loss`, with PyTorch's constructor signatures."""
import math

import gradkit.nn.functional as F
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.ops import creation, elementwise as ew

__all__ = ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "KLDivLoss", "MultiMarginLoss", "MultiTaskLoss"]


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none", "batchmean"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error; see :func:`gradkit.nn.functional.mse_loss`."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error (MAE); see :func:`gradkit.nn.functional.l1_loss`."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss with threshold ``delta``; see :func:`gradkit.nn.functional.huber_loss`."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        if delta <= 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss with threshold ``beta``; see :func:`gradkit.nn.functional.smooth_l1_loss`."""

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative, got {beta}")
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits; see :func:`gradkit.nn.functional.cross_entropy`."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities; see :func:`gradkit.nn.functional.nll_loss`."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities; see :func:`gradkit.nn.functional.binary_cross_entropy`."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid + binary cross-entropy, computed stably; ``pos_weight`` weighs the positives per class."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """KL divergence of log-probability inputs; ``reduction='batchmean'`` gives the true KL divergence."""

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss; see :func:`gradkit.nn.functional.multi_margin_loss`."""

    def __init__(self, p=1, margin=1.0, weight=None, reduction="mean"):
        super().__init__(weight, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p}")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class MultiTaskLoss(Module):
    r"""Combine named task losses into one scalar.

    ``MultiTaskLoss({"cls": CrossEntropyLoss(), "box": SmoothL1Loss()}, weights={"box": 5.0})`` sums
    :math:`\sum_i w_i L_i` with fixed weights (1 where not given). It fits when the tasks' scales are
    known or tuned by hand.

    ``learn_weights=True`` learns the balance from homoscedastic uncertainty (Kendall, Gal and Cipolla,
    2018): one parameter :math:`s_i = \log \sigma_i^2` per task and
    :math:`L = \sum_i e^{-s_i} L_i + s_i`. A noisy or large-scale task gets a large :math:`\sigma_i` and
    so a smaller weight, while the :math:`s_i` term stops all weights from collapsing to zero. It fits
    when the tasks' losses have different units or scales that are not known in advance. (The paper
    has a factor 1/2 on regression terms; like most implementations we drop it, which only rescales
    :math:`\sigma`.) The ``log_vars`` parameters must be given to the optimizer with the model's.

    ``forward(outputs, targets)`` takes dicts keyed by task name and returns the total; the last
    per-task values are kept in ``last_losses`` for logging.
    """

    def __init__(self, losses, weights=None, learn_weights=False):
        super().__init__()
        from gradkit.nn.modules.container import ModuleDict
        self.losses = ModuleDict(losses)
        names = list(self.losses.keys())
        weights = dict(weights or {})
        unknown = set(weights) - set(names)
        if unknown:
            raise ValueError(f"MultiTaskLoss: weights given for unknown tasks {sorted(unknown)}; tasks are {names}")
        self.weights = {name: float(weights.get(name, 1.0)) for name in names}
        self.learn_weights = learn_weights
        if learn_weights:
            self.log_vars = Parameter(creation.zeros(len(names)))
        self.last_losses = {}

    def forward(self, outputs, targets):
        missing = [n for n in self.losses.keys() if n not in outputs or n not in targets]
        if missing:
            raise KeyError(f"MultiTaskLoss: outputs and targets need entries for tasks {missing}")
        total = None
        for i, (name, loss_fn) in enumerate(self.losses.items()):
            value = loss_fn(outputs[name], targets[name])
            self.last_losses[name] = value.item()
            if self.learn_weights:
                s = self.log_vars[i]
                term = ew.exp(-s) * value + s
            else:
                term = value * self.weights[name]
            total = term if total is None else total + term
        return total

    def task_weights(self):
        """The current weight of each task: fixed, or :math:`e^{-s_i}` when learned."""
        if not self.learn_weights:
            return dict(self.weights)
        return {n: math.exp(-float(v)) for n, v in zip(self.losses.keys(), self.log_vars.data)}
