"""ONNX normalisation and dropout: BatchNormalization, InstanceNormalization, LayerNormalization,
GroupNormalization, LRN, Dropout.

BatchNormalization and Dropout follow the imported module's ``train()``/``eval()`` like the native
layers: in training BatchNormalization uses batch statistics and updates its running-statistic buffers
in place (ONNX's ``momentum`` is the weight of the old value, PyTorch's of the new one).
"""
import numpy as np

import gradkit.nn.functional as F
import gradkit.ops as G
from gradkit.onnx.registry import OpTable, constant, normalize_axis, values

ops = OpTable("Normalisation and dropout")


@ops("BatchNormalization", static=(3, 4))
def batch_norm(node, x, scale, bias, mean, var, *, epsilon=1e-5, momentum=0.9, training_mode=0, spatial=1,
               is_test=0):
    training = bool(node.training or training_mode)
    if not training:
        return F.batch_norm(x, mean, var, scale, bias, training=False, eps=epsilon)
    if node.num_outputs == 1:  # as a layer: PyTorch's update of the running buffers (unbiased variance)
        return F.batch_norm(x, mean, var, scale, bias, training=True, momentum=1.0 - momentum, eps=epsilon)
    # The updated statistics are outputs, by ONNX's formula (biased batch variance); inputs stay untouched.
    y = F.batch_norm(x, None, None, scale, bias, training=True, eps=epsilon)
    axes = (0,) + tuple(range(2, x.ndim))
    array = values(x)
    running_mean = values(mean) * momentum + array.mean(axis=axes) * (1 - momentum)
    running_var = values(var) * momentum + array.var(axis=axes) * (1 - momentum)
    return y, constant(running_mean.astype(x.dtype)), constant(running_var.astype(x.dtype))


@ops("InstanceNormalization")
def instance_norm(node, x, scale, bias, *, epsilon=1e-5):
    return F.instance_norm(x, weight=scale, bias=bias, eps=epsilon)


@ops("LayerNormalization")
def layer_norm(node, x, scale, bias=None, *, axis=-1, epsilon=1e-5, stash_type=1):
    axis = normalize_axis(axis, x.ndim)
    shape = tuple(x.shape[axis:])
    scale = G.broadcast_to(scale, shape) if tuple(scale.shape) != shape else scale
    if bias is not None and tuple(bias.shape) != shape:
        bias = G.broadcast_to(bias, shape)
    y = F.layer_norm(x, shape, scale, bias, epsilon)
    if node.num_outputs == 1:
        return y
    # The optional Mean and InvStdDev outputs keep the reduced axes (as size 1).
    array = values(x).astype(np.float32)
    axes = tuple(range(axis, x.ndim))
    mean = array.mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(array.var(axis=axes, keepdims=True) + epsilon)
    return y, constant(mean), constant(inv_std)


@ops("GroupNormalization")
def group_norm(node, x, scale, bias, *, num_groups, epsilon=1e-5, stash_type=1):
    channels = x.shape[1]
    if scale.shape[0] != channels:  # opset 18: one scale and bias per group, repeated over its channels
        per_group = channels // num_groups
        scale = G.reshape(G.broadcast_to(G.reshape(scale, (-1, 1)), (num_groups, per_group)), (channels,))
        bias = G.reshape(G.broadcast_to(G.reshape(bias, (-1, 1)), (num_groups, per_group)), (channels,))
    return F.group_norm(x, num_groups, scale, bias, epsilon)


@ops("LRN")
def lrn(node, x, *, size, alpha=1e-4, beta=0.75, bias=1.0):
    return F.local_response_norm(x, size, alpha, beta, bias)


@ops("Dropout", static=(1, 2))
def dropout(node, x, ratio=None, training_mode=None, *, seed=None, is_test=0):
    # The ratio is an attribute before opset 12 and an input from then on.
    p = ratio if isinstance(ratio, float) else (values(ratio).item() if ratio is not None else 0.5)
    training = node.training or (training_mode is not None and bool(values(training_mode)))
    y = F.dropout(x, p, training=True) if training and p > 0 else x
    if node.num_outputs == 1:
        return y
    mask = values(y) != 0 if training and p > 0 else np.ones(x.shape, bool)
    return y, constant(mask)
