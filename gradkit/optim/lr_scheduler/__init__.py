"""Learning-rate schedules: PyTorch's ``torch.optim.lr_scheduler`` and TensorFlow 1's decays.

Build one on an optimizer and call ``step()`` after each ``optimizer.step()`` (per epoch or per
iteration, as the schedule intends; ReduceLROnPlateau takes the monitored metric). See
:mod:`gradkit.optim.lr_scheduler.base` for how a schedule's state is kept and why resuming is exact.
"""
from gradkit.optim.lr_scheduler.base import LRScheduler, _LRScheduler  # noqa: F401  (PyTorch's old name)
from gradkit.optim.lr_scheduler.multiplicative import (ConstantLR, ExponentialLR, LambdaLR, LinearLR, MultiplicativeLR,
                                                      MultiStepLR, PolynomialLR, StepLR)
from gradkit.optim.lr_scheduler.cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from gradkit.optim.lr_scheduler.cyclic import CyclicLR, OneCycleLR
from gradkit.optim.lr_scheduler.plateau import ReduceLROnPlateau
from gradkit.optim.lr_scheduler.composite import ChainedScheduler, SequentialLR
from gradkit.optim.lr_scheduler.tf_decays import (CosineDecay, ExponentialDecay, LinearCosineDecay, NaturalExpDecay,
                                                 NoisyLinearCosineDecay, PiecewiseConstantDecay, PolynomialDecay)

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR",
           "OneCycleLR", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau", "ExponentialDecay",
           "NaturalExpDecay", "PolynomialDecay", "CosineDecay", "LinearCosineDecay", "NoisyLinearCosineDecay",
           "PiecewiseConstantDecay"]
