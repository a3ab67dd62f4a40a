r"""Batch and instance normalisation layers: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d.

Parameters and buffers are PyTorch's, by name, shape and dtype, so its state dicts load as they are:
``weight`` (ones) and ``bias`` (zeros, unless ``bias=False``) of shape :math:`(C)` when ``affine``;
``running_mean`` (zeros), ``running_var`` (ones) and the int64 counter ``num_batches_tracked`` when
``track_running_stats``.

In training the batch statistics normalise and the running ones are updated,
:math:`r \leftarrow (1 - m)\, r + m\, s` with the unbiased batch variance; ``momentum=None`` uses the
cumulative average :math:`m = 1 / \text{num\_batches\_tracked}` instead. In evaluation the running
statistics normalise, unless ``track_running_stats=False``, in which case batch statistics are used
in both modes. The formulas are in :func:`gradkit.nn.functional.batch_norm`.
"""
import numbers
import warnings

import numpy as np

import gradkit.nn.functional as F
from gradkit import backend
from gradkit.nn.module import Module
from gradkit.nn.modules.normalization import register_affine, reset_affine
from gradkit.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


def _check_arguments(layer, num_features, eps, momentum):
    if not isinstance(num_features, numbers.Integral) or isinstance(num_features, bool) or num_features < 1:
        raise ValueError(f"{layer}: num_features must be a positive int, got {num_features!r}")
    if not isinstance(eps, numbers.Real) or eps <= 0:
        raise ValueError(f"{layer}: eps must be a positive number, got {eps!r}")
    if momentum is not None and (not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1):
        raise ValueError(f"{layer}: momentum must be None or a number in [0, 1], got {momentum!r}")


class _NormBase(Module):
    """Parameters, buffers, repr and state-dict handling shared by batch and instance norm."""

    _version = 2  # version 2 added num_batches_tracked; older checkpoints lack it
    _dims = ()    # the accepted input ranks, set by each subclass

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        _check_arguments(f"{type(self).__name__}({num_features!r})", num_features, eps, momentum)
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = dtype or backend.get_default_dtype()
        register_affine(self, affine, bias, num_features, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        reset_affine(self)

    def _check_input(self, input):
        if input.ndim not in self._dims:
            ranks = " or ".join(f"{d}-D" for d in self._dims)
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected a {ranks} input, "
                             f"got shape {tuple(input.shape)}")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # Checkpoints written before num_batches_tracked existed keep the current count, as in PyTorch.
        version = local_metadata.get("version")
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked.data.copy()
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input(input)
        if input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input with "
                             f"{self.num_features} channels, got {tuple(input.shape)}")
        average_factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:   # cumulative moving average
                average_factor = 1.0 / float(self.num_batches_tracked.item())
        # Batch statistics in training, and in evaluation too when no running statistics are kept.
        use_batch_stats = self.training or self.running_mean is None
        use_buffers = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if use_buffers else None,
                            self.running_var if use_buffers else None, self.weight, self.bias, use_batch_stats,
                            average_factor, self.eps)


class BatchNorm1d(_BatchNorm):
    r"""Batch normalisation of a 2-D input :math:`(N, C)` or a 3-D input :math:`(N, C, L)`, statistics
    per channel over :math:`N` (and :math:`L`).

    >>> nn.BatchNorm1d(16)
    BatchNorm1d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """
    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    r"""Batch normalisation of a 4-D input :math:`(N, C, H, W)`, statistics per channel over :math:`(N, H, W)`."""
    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    r"""Batch normalisation of a 5-D input :math:`(N, C, D, H, W)`, statistics per channel over :math:`(N, D, H, W)`."""
    _dims = (5,)


class _InstanceNorm(_NormBase):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        self._check_input(input)
        unbatched = input.ndim == self._dims[0]
        if input.shape[0 if unbatched else 1] != self.num_features:
            message = (f"{type(self).__name__}({self.num_features}): expected input with {self.num_features} "
                       f"channels, got {tuple(input.shape)}")
            if self.affine or self.track_running_stats:
                raise ValueError(message)
            # Without per-channel state any channel count works; PyTorch warns, and so do we.
            warnings.warn(message + "; normalising each channel anyway since the layer has no per-channel state")
        if unbatched:
            input = input.reshape((1,) + tuple(input.shape))
        use_input_stats = self.training or not self.track_running_stats
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out.reshape(tuple(out.shape[1:])) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    r"""Instance normalisation of :math:`(N, C, L)` (or unbatched :math:`(C, L)`): statistics per sample
    and channel over :math:`L`. Defaults: ``affine=False``, ``track_running_stats=False``.

    >>> nn.InstanceNorm1d(8)
    InstanceNorm1d(8, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
    """
    _dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    r"""Instance normalisation of :math:`(N, C, H, W)` (or unbatched :math:`(C, H, W)`): statistics per
    sample and channel over :math:`(H, W)`. Defaults: ``affine=False``, ``track_running_stats=False``."""
    _dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    r"""Instance normalisation of :math:`(N, C, D, H, W)` (or unbatched :math:`(C, D, H, W)`). Defaults:
    ``affine=False``, ``track_running_stats=False``."""
    _dims = (4, 5)
