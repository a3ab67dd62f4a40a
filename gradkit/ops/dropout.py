r"""Dropout: random zeroing during training (Srivastava et al., 2014), and its SELU-preserving variant.

In training each element (or each whole channel, for the feature variants) is kept with probability
:math:`1 - p` and scaled by :math:`1/(1-p)`, so :math:`\mathbb{E}[y] = x` and evaluation needs no
rescaling: with ``training=False`` the input is returned as it is.

The mask is a constant of the graph, ``y = x \cdot m``, so the gradient is :math:`m \odot \text{grad}`
and every higher derivative follows. Masks come from the framework's generator (``gk.manual_seed``);
they are not PyTorch's random numbers, so a run reproduces itself, not PyTorch's masks.
"""
import math

import numpy as np

from gradkit import backend
from gradkit.ops.elementwise import add, mul
from gradkit.tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]
TENSOR_METHODS = ()

# SELU's negative saturation value: -scale * alpha (Klambauer et al., 2017).
_SELU_SATURATION = -1.0507009873554804934193349852946 * 1.6732632423543772848170429916717


def _check_p(op, p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, p, shape):
    """1 with probability 1 - p, else 0, in the input's dtype and on its device."""
    rng = backend.generator_of(None)
    draw_dtype = input.dtype if input.dtype in (backend.float32, backend.float64) else backend.float32
    keep = np.asarray(rng.random(shape, dtype=draw_dtype) >= p)
    return backend.to_device(keep.astype(input.dtype), input.device)


def _feature_shape(op, input, batched_ndim):
    """The mask shape of a channel-wise dropout: one draw per (sample, channel), or per channel for
    an unbatched input (one dimension fewer)."""
    if input.ndim not in (batched_ndim - 1, batched_ndim):
        raise ValueError(f"{op}: expected a {batched_ndim - 1}-D (unbatched) or {batched_ndim}-D (batched) input, "
                         f"got shape {tuple(input.shape)}")
    channel_dims = 1 if input.ndim == batched_ndim - 1 else 2
    return tuple(input.shape[:channel_dims]) + (1,) * (input.ndim - channel_dims)


def _scaled_dropout(input, p, mask_shape):
    if p == 1.0:
        return mul(input, Tensor._make(backend.array_module(input.data).zeros(mask_shape, input.dtype)))
    mask = _keep_mask(input, p, mask_shape)
    return mul(input, Tensor._make(mask * input.dtype.type(1.0 / (1.0 - p))))


def dropout(input, p=0.5, training=True, inplace=False):
    r"""Zero each element with probability ``p`` and scale the rest by :math:`1/(1-p)` (training only).

    ``inplace`` is accepted for compatibility; the result is always a new tensor.
    """
    _check_p("dropout", p)
    if not training or p == 0.0:
        return input
    return _scaled_dropout(input, p, input.shape)


def _feature_dropout(op, input, p, training, batched_ndim):
    _check_p(op, p)
    shape = _feature_shape(op, input, batched_ndim)
    if not training or p == 0.0:
        return input
    return _scaled_dropout(input, p, shape)


def dropout1d(input, p=0.5, training=True, inplace=False):
    r"""Zero whole channels: input :math:`(N, C, L)` or :math:`(C, L)`, one draw per (sample, channel)."""
    return _feature_dropout("dropout1d", input, p, training, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    r"""Zero whole channels (feature maps): input :math:`(N, C, H, W)` or :math:`(C, H, W)`.

    Neighbouring pixels of a feature map are strongly correlated, so element-wise dropout barely
    regularises convolutions; dropping a whole map does (Tompson et al., 2015).

    Difference from PyTorch: a 3-D input is read as one unbatched sample :math:`(C, H, W)`, as PyTorch
    documents and announces for a future release; PyTorch 2.x still reads it as :math:`(N, C, L)` (with a
    warning). For :math:`(N, C, L)` inputs use :func:`dropout1d`.
    """
    return _feature_dropout("dropout2d", input, p, training, 4)


def dropout3d(input, p=0.5, training=True, inplace=False):
    r"""Zero whole channels: input :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)`."""
    return _feature_dropout("dropout3d", input, p, training, 5)


def _alpha_dropout(input, p, mask_shape):
    # PyTorch's formula (ATen Dropout.cpp): dropped units are set to SELU's saturation value
    # alpha' = -lambda * alpha, then an affine map a * x + b restores zero mean and unit variance:
    #   a = ((1 - p)(1 + p alpha'^2))^{-1/2},  b = -a alpha' p.
    if p == 1.0:
        return mul(input, Tensor._make(backend.array_module(input.data).zeros(mask_shape, input.dtype)))
    keep = _keep_mask(input, p, mask_shape)
    alpha = -_SELU_SATURATION
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    offset = (keep - 1) * (alpha * a) + alpha * a * p
    return add(mul(input, Tensor._make(keep * input.dtype.type(a))), Tensor._make(offset.astype(input.dtype)))


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    r"""Dropout that keeps the zero mean and unit variance of SELU activations (Klambauer et al., 2017).

    Kept units become :math:`a x + b`, dropped ones :math:`a\alpha' + b`, with :math:`\alpha' = -\lambda\alpha
    \approx -1.7581`, :math:`a = ((1-p)(1 + p\alpha'^2))^{-1/2}` and :math:`b = -a\alpha' p`. Note that
    ``training`` defaults to False here, as in PyTorch.
    """
    _check_p("alpha_dropout", p)
    if not training or p == 0.0:
        return input
    return _alpha_dropout(input, p, input.shape)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    r"""Alpha dropout of whole channels: input :math:`(N, C, *)`, one draw per (sample, channel)."""
    _check_p("feature_alpha_dropout", p)
    if input.ndim < 2:
        raise ValueError(f"feature_alpha_dropout: expected input of shape (N, C, *), got {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    return _alpha_dropout(input, p, tuple(input.shape[:2]) + (1,) * (input.ndim - 2))
