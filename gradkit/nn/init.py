r"""Weight initialisation, in the names of ``torch.nn.init``.

Every function fills its tensor in place, outside the graph (as under ``no_grad``), from the
framework's random generator (or the ``generator`` given), so ``gk.manual_seed`` makes a model's
initial weights reproducible. Each returns the tensor.

Fans: for a weight of shape :math:`(\text{out}, \text{in}, k_1, k_2, \dots)`,
:math:`\text{fan\_in} = \text{in}\cdot\prod k_i` and :math:`\text{fan\_out} = \text{out}\cdot\prod k_i`.
"""
import math
import warnings

import numpy as np

from gradkit import backend
from gradkit.autograd.grad_mode import no_grad

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_"]


def _fill(tensor, values):
    """Write ``values`` (a NumPy array or scalar) into ``tensor`` in place, in its dtype and on its device."""
    if isinstance(values, np.ndarray):
        values = backend.to_device(values.astype(tensor.dtype, copy=False), tensor.device)
    with no_grad():
        tensor.copy_(values)
    return tensor


def calculate_gain(nonlinearity, param=None):
    r"""The gain :math:`g` that keeps activations' variance stable through ``nonlinearity``.

    ========================= ==================================================
    linear, conv*, sigmoid    :math:`1`
    tanh                      :math:`5/3`
    relu                      :math:`\sqrt{2}`
    leaky_relu                :math:`\sqrt{2 / (1 + a^2)}`, :math:`a` = ``param`` (default 0.01)
    selu                      :math:`3/4`
    ========================= ==================================================
    """
    linear_like = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                   "conv_transpose3d", "sigmoid")
    if nonlinearity in linear_like:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain('leaky_relu', param): param must be a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``; see the module docstring."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer than 2 dimensions, "
                         f"got shape {tuple(tensor.shape)}")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    r"""Fill with :math:`\mathcal{U}(a, b)`."""
    return _fill(tensor, backend.generator_of(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    r"""Fill with :math:`\mathcal{N}(\text{mean}, \text{std}^2)`."""
    return _fill(tensor, backend.generator_of(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    r"""Fill with :math:`\mathcal{N}(\text{mean}, \text{std}^2)` conditioned on :math:`a \le x \le b`.

    Note that ``a`` and ``b`` are absolute bounds, not multiples of ``std`` (PyTorch's convention).
    Sampled by rejection, which is exact; PyTorch uses the inverse CDF, so the values differ but the
    distribution is the same. An interval holding less than 0.1% of the probability mass is refused.
    """
    if std <= 0 or not a < b:
        raise ValueError(f"trunc_normal_: need std > 0 and a < b, got std={std}, a={a}, b={b}")
    mass = 0.5 * (math.erf((b - mean) / (std * math.sqrt(2))) - math.erf((a - mean) / (std * math.sqrt(2))))
    if mass < 1e-3:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] holds only {mass:.2e} of the probability mass "
                         f"of N({mean}, {std}^2); rejection sampling would not finish")
    rng = backend.generator_of(generator)
    size = math.prod(tensor.shape)
    values = np.empty(0)
    while values.size < size:
        draw = rng.normal(mean, std, max(2 * int((size - values.size) / mass), 16))
        values = np.concatenate([values, draw[(draw >= a) & (draw <= b)]])
    return _fill(tensor, values[:size].reshape(tensor.shape))


def constant_(tensor, val):
    """Fill with ``val``."""
    return _fill(tensor, val)


def ones_(tensor):
    return _fill(tensor, 1)


def zeros_(tensor):
    return _fill(tensor, 0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal, also when it is not square)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta, so that the convolution is the
    identity on the first ``min(out, in)`` channels of each group."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only 3, 4 and 5-D tensors are supported, got shape {tuple(tensor.shape)}")
    if tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 of shape {tuple(tensor.shape)} is not divisible by groups={groups}")
    out_per_group = tensor.shape[0] // groups
    values = np.zeros(tensor.shape)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def _empty_warning(tensor, name):
    if 0 in tuple(tensor.shape):
        warnings.warn(f"{name}: initializing a zero-element tensor is a no-op")
        return True
    return False


def xavier_uniform_(tensor, gain=1.0, generator=None):
    r"""Glorot & Bengio (2010): :math:`\mathcal{U}(-a, a)` with
    :math:`a = g\sqrt{6 / (\text{fan\_in} + \text{fan\_out})}`."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    r"""Glorot & Bengio (2010): :math:`\mathcal{N}(0, \sigma^2)` with
    :math:`\sigma = g\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}`."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""He et al. (2015): :math:`\mathcal{U}(-b, b)`, :math:`b = g\sqrt{3 / \text{fan}}`, with
    :math:`g` = ``calculate_gain(nonlinearity, a)`` and fan the fan in or fan out (``mode``).

    ``nn.Linear`` and the convolutions use ``a=sqrt(5)``, which gives :math:`b = 1/\sqrt{\text{fan\_in}}`.
    """
    if _empty_warning(tensor, "kaiming_uniform_"):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""He et al. (2015): :math:`\mathcal{N}(0, \sigma^2)`, :math:`\sigma = g / \sqrt{\text{fan}}`, with
    :math:`g` = ``calculate_gain(nonlinearity, a)``."""
    if _empty_warning(tensor, "kaiming_normal_"):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    r"""Saxe et al. (2013): a (semi-)orthogonal matrix times ``gain``: the QR factor :math:`Q` of a
    Gaussian matrix of shape :math:`(\text{rows}, \prod \text{rest})`, with column signs fixed by
    :math:`\operatorname{sign}(\operatorname{diag} R)` so that it is uniformly (Haar) distributed."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = backend.generator_of(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def default_layer_init_(weight, bias=None):
    r"""PyTorch's default initialisation of Linear and convolution layers: the weight from
    ``kaiming_uniform_(a=sqrt(5))``, i.e. :math:`U(-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}})`, and
    the bias from the same :math:`U(-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}})` (0 when the weight
    is empty)."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
