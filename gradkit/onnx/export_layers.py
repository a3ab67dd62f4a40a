"""The layer table of the exporter: each known layer written as ONNX nodes from its hyperparameters.

A rule is ``rule(tracer, layer, *inputs, output=...) -> name of the output value``. Rules match the
exact layer class (a subclass may override ``forward``, so it is traced op by op instead), and run in
eval semantics: BatchNorm reads its running statistics, Dropout is the identity.
"""
import math

import numpy as np

from gradkit import nn

LAYER_RULES = {}


def layer(*classes):
    def register(rule):
        for cls in classes:
            LAYER_RULES[cls] = rule
        return rule
    return register


def layer_rule(module):
    return LAYER_RULES.get(type(module))


def _array(tensor):
    return np.asarray(tensor.detach().numpy())


def _unsupported(layer_, why):
    return NotImplementedError(f"gk.onnx.export: {layer_._get_name()}({layer_.extra_repr()}): {why}")


def _ntuple(value, dims):
    return list(value) if isinstance(value, (tuple, list)) else [value] * dims


# ----- linear, convolution ---------------------------------------------------------------------------
@layer(nn.Linear)
def linear(t, layer_, x, output):
    g, name = t.graph, t.name_of(x)
    weight = t.name_of(layer_.weight)
    bias = t.name_of(layer_.bias) if layer_.bias is not None else ""
    if x.ndim == 2:
        return g.node("Gemm", [name, weight] + ([bias] if bias else []), transB=1)
    out = g.node("MatMul", [name, g.node("Transpose", [weight], perm=[1, 0])])
    return g.node("Add", [out, bias]) if bias else out


def _conv_pads(layer_, dims):
    if layer_.padding == "valid":
        return [0] * 2 * dims
    if layer_.padding == "same":  # stride 1: total (k - 1) d, the odd one at the end as PyTorch does
        totals = [(k - 1) * d for k, d in zip(layer_.kernel_size, layer_.dilation)]
        return [s // 2 for s in totals] + [s - s // 2 for s in totals]
    return list(layer_.padding) * 2


@layer(nn.Conv1d, nn.Conv2d)
def conv(t, layer_, x, output):
    dims = len(layer_.kernel_size)
    inputs = [t.name_of(x), t.name_of(layer_.weight)] + ([t.name_of(layer_.bias)] if layer_.bias is not None else [])
    return t.graph.node("Conv", inputs, kernel_shape=list(layer_.kernel_size), strides=list(layer_.stride),
                        pads=_conv_pads(layer_, dims), dilations=list(layer_.dilation), group=layer_.groups)


@layer(nn.ConvTranspose1d, nn.ConvTranspose2d)
def conv_transpose(t, layer_, x, output):
    inputs = [t.name_of(x), t.name_of(layer_.weight)] + ([t.name_of(layer_.bias)] if layer_.bias is not None else [])
    return t.graph.node("ConvTranspose", inputs, kernel_shape=list(layer_.kernel_size), strides=list(layer_.stride),
                        pads=list(layer_.padding) * 2, dilations=list(layer_.dilation), group=layer_.groups,
                        output_padding=list(layer_.output_padding))


# ----- pooling, resizing -----------------------------------------------------------------------------
@layer(nn.MaxPool1d, nn.MaxPool2d)
def max_pool(t, layer_, x, output):
    if layer_.return_indices:
        raise _unsupported(layer_, "return_indices=True has no ONNX export")
    dims = x.ndim - 2
    return t.graph.node("MaxPool", [t.name_of(x)], kernel_shape=_ntuple(layer_.kernel_size, dims),
                        strides=_ntuple(layer_.stride, dims), pads=_ntuple(layer_.padding, dims) * 2,
                        dilations=_ntuple(layer_.dilation, dims), ceil_mode=int(layer_.ceil_mode))


@layer(nn.AvgPool1d, nn.AvgPool2d)
def avg_pool(t, layer_, x, output):
    if getattr(layer_, "divisor_override", None):
        raise _unsupported(layer_, "divisor_override has no ONNX export")
    dims = x.ndim - 2
    return t.graph.node("AveragePool", [t.name_of(x)], kernel_shape=_ntuple(layer_.kernel_size, dims),
                        strides=_ntuple(layer_.stride, dims), pads=_ntuple(layer_.padding, dims) * 2,
                        ceil_mode=int(layer_.ceil_mode), count_include_pad=int(layer_.count_include_pad))


@layer(nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)
def adaptive_pool(t, layer_, x, output):
    average = isinstance(layer_, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d))
    in_sizes, out_sizes = x.shape[2:], output.shape[2:]
    if all(o == 1 for o in out_sizes):
        return t.graph.node("GlobalAveragePool" if average else "GlobalMaxPool", [t.name_of(x)])
    if any(i % o for i, o in zip(in_sizes, out_sizes)):
        raise _unsupported(layer_, f"an input size {tuple(in_sizes)} that the output size does not divide has "
                                   "no ONNX pooling equivalent")
    kernel = [i // o for i, o in zip(in_sizes, out_sizes)]
    return t.graph.node("AveragePool" if average else "MaxPool", [t.name_of(x)], kernel_shape=kernel,
                        strides=kernel)


_RESIZE_MODES = {"nearest": ("nearest", "asymmetric"), "linear": ("linear", "pytorch_half_pixel"),
                 "bilinear": ("linear", "pytorch_half_pixel"), "bicubic": ("cubic", "pytorch_half_pixel")}


@layer(nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d)
def upsample(t, layer_, x, output):
    if layer_.mode not in _RESIZE_MODES:
        raise _unsupported(layer_, f"mode {layer_.mode!r} has no ONNX export")
    mode, coordinates = _RESIZE_MODES[layer_.mode]
    if layer_.align_corners:
        coordinates = "align_corners"
    # Scales (not sizes) keep the batch axis free for dynamic shapes.
    scales = np.array([o / i for o, i in zip(output.shape, x.shape)], np.float32)
    return t.graph.node("Resize", [t.name_of(x), "", t.graph.initializer(scales, "scales")], mode=mode,
                        coordinate_transformation_mode=coordinates,
                        nearest_mode="floor" if mode == "nearest" else None,
                        cubic_coeff_a=-0.75 if mode == "cubic" else None)


# ----- normalisation ---------------------------------------------------------------------------------
def _affine(t, layer_, channels, dtype):
    """Names of the scale and bias (ones and zeros when the layer has none)."""
    weight = getattr(layer_, "weight", None)
    bias = getattr(layer_, "bias", None)
    scale = t.name_of(weight) if weight is not None else t.graph.initializer(np.ones(channels, dtype), "ones")
    shift = t.name_of(bias) if bias is not None else t.graph.initializer(np.zeros(channels, dtype), "zeros")
    return scale, shift


@layer(nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
def batch_norm(t, layer_, x, output):
    if layer_.running_mean is None:
        raise _unsupported(layer_, "without running statistics it normalises with batch statistics in eval "
                                   "mode too, which ONNX's BatchNormalization does not do")
    scale, shift = _affine(t, layer_, layer_.num_features, x.dtype)
    return t.graph.node("BatchNormalization", [t.name_of(x), scale, shift, t.name_of(layer_.running_mean),
                                               t.name_of(layer_.running_var)], epsilon=float(layer_.eps))


@layer(nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)
def instance_norm(t, layer_, x, output):
    if layer_.track_running_stats:
        raise _unsupported(layer_, "track_running_stats=True has no ONNX export")
    scale, shift = _affine(t, layer_, x.shape[1], x.dtype)
    return t.graph.node("InstanceNormalization", [t.name_of(x), scale, shift], epsilon=float(layer_.eps))


@layer(nn.LayerNorm)
def layer_norm(t, layer_, x, output):
    scale, shift = _affine(t, layer_, layer_.normalized_shape, x.dtype)
    return t.graph.node("LayerNormalization", [t.name_of(x), scale, shift], axis=-len(layer_.normalized_shape),
                        epsilon=float(layer_.eps))


@layer(nn.GroupNorm)
def group_norm(t, layer_, x, output):
    g, groups = t.graph, layer_.num_groups
    scale, shift = _affine(t, layer_, layer_.num_channels, x.dtype)
    if g.opset >= 21:
        return g.node("GroupNormalization", [t.name_of(x), scale, shift], num_groups=groups,
                      epsilon=float(layer_.eps))
    # Before opset 21: instance norm over (N, groups, rest), then the per-channel affine map.
    grouped = g.node("Reshape", [t.name_of(x), g.ints([0, groups, -1])])
    normalized = g.node("InstanceNormalization", [grouped, g.initializer(np.ones(groups, x.dtype), "ones"),
                                                  g.initializer(np.zeros(groups, x.dtype), "zeros")],
                        epsilon=float(layer_.eps))
    restored = g.node("Reshape", [normalized, g.node("Shape", [t.name_of(x)])])
    channel_shape = g.ints([-1] + [1] * (x.ndim - 2))
    out = g.node("Mul", [restored, g.node("Reshape", [scale, channel_shape])])
    return g.node("Add", [out, g.node("Reshape", [shift, channel_shape])])


@layer(nn.LocalResponseNorm)
def local_response_norm(t, layer_, x, output):
    return t.graph.node("LRN", [t.name_of(x)], size=layer_.size, alpha=float(layer_.alpha),
                        beta=float(layer_.beta), bias=float(layer_.k))


# ----- shape, regularisation ---------------------------------------------------------------------------
@layer(nn.Flatten)
def flatten(t, layer_, x, output):
    start = layer_.start_dim % x.ndim
    if start == 1 and layer_.end_dim % x.ndim == x.ndim - 1:
        return t.graph.node("Flatten", [t.name_of(x)], axis=1)
    shape = [0 if i < start else s for i, s in enumerate(output.shape)]
    return t.graph.node("Reshape", [t.name_of(x), t.graph.ints(shape)])


@layer(nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)
def identity(t, layer_, x, *rest, output):
    return t.graph.node("Identity", [t.name_of(x)])


# ----- activations -------------------------------------------------------------------------------------
def _simple(op_type, **attrs_of):
    """A rule for an activation that is one ONNX op, with attributes read from the layer."""
    def rule(t, layer_, x, output):
        return t.graph.node(op_type, [t.name_of(x)], **{k: float(get(layer_)) for k, get in attrs_of.items()})
    return rule


for _cls, _rule in {
        nn.ReLU: _simple("Relu"), nn.Sigmoid: _simple("Sigmoid"), nn.Tanh: _simple("Tanh"),
        nn.Softsign: _simple("Softsign"), nn.SELU: _simple("Selu"),
        nn.LeakyReLU: _simple("LeakyRelu", alpha=lambda m: m.negative_slope),
        nn.ELU: _simple("Elu", alpha=lambda m: m.alpha), nn.CELU: _simple("Celu", alpha=lambda m: m.alpha),
        nn.Hardsigmoid: _simple("HardSigmoid", alpha=lambda m: 1 / 6, beta=lambda m: 0.5),
        nn.Hardswish: _simple("HardSwish")}.items():
    LAYER_RULES[_cls] = _rule


@layer(nn.Softplus)
def softplus(t, layer_, x, output):
    g = t.graph
    if layer_.beta == 1:
        return g.node("Softplus", [t.name_of(x)])
    beta = g.scalar(layer_.beta, x.dtype)  # softplus(beta x) / beta
    return g.node("Div", [g.node("Softplus", [g.node("Mul", [t.name_of(x), beta])]), beta])


@layer(nn.GELU)
def gelu(t, layer_, x, output):
    return gelu_nodes(t, x, layer_.approximate)


def gelu_nodes(t, x, approximate):
    """GELU as one node from opset 20, and from Erf (or Tanh) before."""
    g, name = t.graph, t.name_of(x)
    if g.opset >= 20:
        return g.node("Gelu", [name], approximate=approximate)
    if approximate == "tanh":  # x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Mul", [name, name]), name])
        inner = g.node("Add", [name, g.node("Mul", [cube, g.scalar(0.044715, x.dtype)])])
        core = g.node("Tanh", [g.node("Mul", [inner, g.scalar(math.sqrt(2 / math.pi), x.dtype)])])
    else:  # x/2 (1 + erf(x / sqrt 2))
        core = g.node("Erf", [g.node("Mul", [name, g.scalar(math.sqrt(0.5), x.dtype)])])
    half_x = g.node("Mul", [name, g.scalar(0.5, x.dtype)])
    return g.node("Mul", [half_x, g.node("Add", [core, g.scalar(1.0, x.dtype)])])


@layer(nn.SiLU)
def silu(t, layer_, x, output):
    name = t.name_of(x)
    return t.graph.node("Mul", [name, t.graph.node("Sigmoid", [name])])


@layer(nn.Mish)
def mish(t, layer_, x, output):
    g, name = t.graph, t.name_of(x)
    if g.opset >= 18:
        return g.node("Mish", [name])
    return g.node("Mul", [name, g.node("Tanh", [g.node("Softplus", [name])])])


@layer(nn.Hardtanh, nn.ReLU6)
def hardtanh(t, layer_, x, output):
    g = t.graph
    return g.node("Clip", [t.name_of(x), g.scalar(layer_.min_val, x.dtype), g.scalar(layer_.max_val, x.dtype)])


@layer(nn.PReLU)
def prelu(t, layer_, x, output):
    g = t.graph
    slope = t.name_of(layer_.weight)
    if x.ndim > 2:  # one slope per channel (axis 1): shape it (C, 1, ..., 1) to broadcast as ONNX does
        slope = g.node("Reshape", [slope, g.ints([-1] + [1] * (x.ndim - 2))])
    return g.node("PRelu", [t.name_of(x), slope])


@layer(nn.Softmax, nn.LogSoftmax)
def softmax(t, layer_, x, output):
    dim = layer_.dim if layer_.dim is not None else (0 if x.ndim in (0, 1, 3) else 1)
    op_type = "Softmax" if isinstance(layer_, nn.Softmax) else "LogSoftmax"
    return t.graph.node(op_type, [t.name_of(x)], axis=dim % x.ndim)
