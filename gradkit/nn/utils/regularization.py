r"""Explicit weight penalties, to add to a loss.

.. math::
    \text{l1\_penalty}(\theta) = \sum_i |\theta_i|, \qquad \text{l2\_penalty}(\theta) = \sum_i \theta_i^2

**L1 vs L2.** The L1 gradient :math:`\lambda\,\operatorname{sign}(\theta)` has the same size however small a
weight is, so it pushes weights exactly to zero: a *sparse* model (feature selection). The L2 gradient
:math:`2\lambda\theta` is proportional to the weight, so it *shrinks* all weights smoothly towards zero but
rarely to zero: small, spread-out weights.

**Coupled vs decoupled weight decay.** Adding :math:`\frac{\lambda}{2}\,\text{l2\_penalty}` to the loss is
what ``weight_decay=λ`` does inside ``SGD`` and ``Adam`` (coupled: the decay term enters the gradient). For
SGD that is the same as shrinking the weights by :math:`1 - \eta\lambda` each step. For Adam it is not:
the decay gradient is divided by the adaptive denominator :math:`\sqrt{\hat v}`, so weights with large
gradient history are decayed less. ``AdamW`` (Loshchilov & Hutter, 2019) decouples the decay, applying
:math:`\theta \leftarrow \theta - \eta\lambda\theta` outside the adaptive step, which regularises every
weight alike and usually generalises better. Use these penalties for L1, or for an L2 term that an
optimizer should see as part of the loss; prefer ``AdamW(weight_decay=...)`` for decay with Adam.
"""
from gradkit.ops.elementwise import abs, mul
from gradkit.ops.shape import sum_to
from gradkit.tensor import Tensor

__all__ = ["l1_penalty", "l2_penalty"]


def _penalty(name, parameters, term):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not parameters:
        raise ValueError(f"{name}: got no parameters")
    total = None
    for param in parameters:
        # sum_to(x, ()) is the sum of all elements, as a differentiable 0-d tensor.
        value = sum_to(term(param), ())
        total = value if total is None else total + value
    return total


def l1_penalty(parameters):
    r""":math:`\sum_i |\theta_i|` over all ``parameters`` (a tensor or an iterable of them); a differentiable
    0-d tensor. Its derivative at 0 is 0 (that of ``abs``)."""
    return _penalty("l1_penalty", parameters, abs)


def l2_penalty(parameters):
    r""":math:`\sum_i \theta_i^2` over all ``parameters``; a differentiable 0-d tensor. Adding
    :math:`\frac{\lambda}{2}` times it to a loss equals SGD's ``weight_decay=λ``."""
    return _penalty("l2_penalty", parameters, lambda p: mul(p, p))
