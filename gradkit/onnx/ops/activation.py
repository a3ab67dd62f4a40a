"""ONNX activations and softmax, on gradkit's activation ops."""
import math

import gradkit.nn.functional as F
import gradkit.ops as G
from gradkit.onnx.registry import OpTable, normalize_axis

ops = OpTable("Activations")


@ops("Relu")
def relu(node, x):
    return F.relu(x)


@ops("Sigmoid")
def sigmoid(node, x):
    return G.sigmoid(x)


@ops("Tanh")
def tanh(node, x):
    return G.tanh(x)


@ops("LeakyRelu")
def leaky_relu(node, x, *, alpha=0.01):
    return F.leaky_relu(x, alpha)


@ops("Elu")
def elu(node, x, *, alpha=1.0):
    return F.elu(x, alpha)


@ops("Selu")
def selu(node, x, *, alpha=1.67326319217681884765625, gamma=1.05070102214813232421875):
    # The defaults are SELU's constants rounded to float32, as ONNX states them; selu = gamma * elu(x, alpha).
    return F.elu(x, alpha) * gamma


@ops("Celu")
def celu(node, x, *, alpha=1.0):
    return F.celu(x, alpha)


@ops("Gelu")
def gelu(node, x, *, approximate="none"):
    return F.gelu(x, approximate=approximate)


@ops("Softplus")
def softplus(node, x):
    return F.softplus(x)


@ops("Softsign")
def softsign(node, x):
    return F.softsign(x)


@ops("HardSigmoid")
def hard_sigmoid(node, x, *, alpha=0.2, beta=0.5):
    return G.clamp(x * alpha + beta, 0.0, 1.0)


@ops("HardSwish")
def hard_swish(node, x):
    return F.hardswish(x)


@ops("Mish")
def mish(node, x):
    return F.mish(x)


@ops("ThresholdedRelu")
def thresholded_relu(node, x, *, alpha=1.0):
    return G.where(x.data > alpha, x, 0.0)


@ops("PRelu")
def prelu(node, x, slope):
    # relu(x) - slope * relu(-x): the slope broadcasts as ONNX allows, and both inputs get gradients.
    return F.relu(x) - slope * F.relu(-x)


def _softmax_family(function, node, x, axis):
    if node.opset >= 13:
        return function(x, dim=normalize_axis(-1 if axis is None else axis, x.ndim))
    # Before opset 13 the input is seen as a matrix (dims before axis) x (dims from axis on).
    axis = normalize_axis(1 if axis is None else axis, x.ndim)
    rows = math.prod(x.shape[:axis])
    return G.reshape(function(G.reshape(x, (rows, -1)), dim=1), x.shape)


@ops("Softmax")
def softmax(node, x, *, axis=None):
    return _softmax_family(F.softmax, node, x, axis)


@ops("LogSoftmax")
def log_softmax(node, x, *, axis=None):
    return _softmax_family(F.log_softmax, node, x, axis)
