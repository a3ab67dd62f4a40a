"""ONNX Resize and Upsample as separable resampling with gradkit ops.

Each resized axis maps output coordinates back to input coordinates (the ``coordinate_transformation_mode``)
and reads one tap (nearest), two (linear) or four (cubic) input positions; the output is the weighted sum
of ``index_select`` reads, so it is differentiable. Taps outside the input read the edge, as ONNX does.
"""
import numpy as np

import gradkit.ops as G
from gradkit.onnx.registry import OpTable, constant, ints, normalize_axis, values

ops = OpTable("Resizing")


def _source_coordinates(mode, out_size, in_size, scale):
    x = np.arange(out_size, dtype=np.float64)
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (x + 0.5) / scale - 0.5 if out_size > 1 else np.zeros_like(x)
    if mode == "align_corners":
        # ONNX divides by the unrounded resized length in_size * scale, not by the integer output size.
        resized = in_size * scale
        return x * (in_size - 1) / (resized - 1) if resized > 1 else np.zeros_like(x)
    if mode == "asymmetric":
        return x / scale
    if mode == "half_pixel_symmetric":
        adjustment = out_size / (scale * in_size)
        return in_size / 2 * (1 - adjustment) + (x + 0.5) / scale - 0.5
    raise NotImplementedError(f"Resize: coordinate_transformation_mode '{mode}' is not supported")


def _nearest(source, nearest_mode):
    rounding = {"round_prefer_floor": lambda v: np.ceil(v - 0.5), "round_prefer_ceil": lambda v: np.floor(v + 0.5),
                "floor": np.floor, "ceil": np.ceil}
    return [(rounding[nearest_mode](source), np.ones_like(source))]


def _cubic_weights(t, a):
    """Keys' cubic convolution weights of the four taps at offsets -1, 0, 1, 2 for fractions ``t``."""
    def near(d):
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _taps(mode, source, in_size, nearest_mode, cubic_coeff_a, exclude_outside):
    """(input index, weight) pairs whose weighted sum gives each output position."""
    if mode == "nearest":
        return _nearest(source, nearest_mode)
    base = np.floor(source)
    t = source - base
    if mode == "linear":
        return [(base, 1 - t), (base + 1, t)]
    weights = _cubic_weights(t, cubic_coeff_a)
    taps = [(base + offset, w) for offset, w in zip((-1, 0, 1, 2), weights)]
    if exclude_outside:  # outside taps get no weight, and the others are renormalised
        taps = [(i, np.where((i >= 0) & (i < in_size), w, 0.0)) for i, w in taps]
        total = sum(w for _, w in taps)
        taps = [(i, w / total) for i, w in taps]
    return taps


def resample_axis(x, axis, out_size, scale, mode, coordinates, nearest_mode="round_prefer_floor",
                  cubic_coeff_a=-0.75, exclude_outside=0):
    in_size = x.shape[axis]
    source = _source_coordinates(coordinates, out_size, in_size, scale)
    out = None
    weight_shape = [1] * x.ndim
    weight_shape[axis] = out_size
    for index, weight in _taps(mode, source, in_size, nearest_mode, cubic_coeff_a, exclude_outside):
        index = np.clip(index, 0, in_size - 1).astype(np.int64)
        read = G.index_select(x, axis, constant(index))
        if mode != "nearest":
            read = read * constant(weight.reshape(weight_shape).astype(x.dtype))
        out = read if out is None else out + read
    return out


@ops("Resize", static=(1, 2, 3))
def resize(node, x, roi=None, scales=None, sizes=None, *, mode="nearest", coordinate_transformation_mode="half_pixel",
           nearest_mode="round_prefer_floor", cubic_coeff_a=-0.75, exclude_outside=0, extrapolation_value=0.0,
           antialias=0, axes=None, keep_aspect_ratio_policy="stretch"):
    if antialias or keep_aspect_ratio_policy != "stretch" or coordinate_transformation_mode == "tf_crop_and_resize":
        raise NotImplementedError(f"{node}: antialias, keep_aspect_ratio_policy and tf_crop_and_resize are "
                                  "not supported")
    axes = [normalize_axis(a, x.ndim) for a in axes] if axes is not None else list(range(x.ndim))
    if sizes is not None and sizes.numel():
        out_sizes = ints(sizes)
        factors = [o / x.shape[a] for o, a in zip(out_sizes, axes)]
    else:
        factors = [float(v) for v in values(scales).reshape(-1)]
        out_sizes = [int(np.floor(x.shape[a] * f)) for a, f in zip(axes, factors)]
    if node.opset < 11:  # opset 10's Resize: scales only, asymmetric coordinates
        coordinate_transformation_mode = "asymmetric"
        nearest_mode = "floor"
    for axis, out_size, factor in zip(axes, out_sizes, factors):
        if out_size != x.shape[axis] or factor != 1.0:
            x = resample_axis(x, axis, out_size, factor, mode, coordinate_transformation_mode, nearest_mode,
                              cubic_coeff_a, exclude_outside)
    return x


@ops("Upsample", static=(1,))
def upsample(node, x, scales, *, mode="nearest"):
    # The scales are an attribute in opset 7 and an input in opset 9.
    factors = [float(v) for v in (scales if isinstance(scales, list) else values(scales).reshape(-1))]
    for axis, factor in enumerate(factors):
        if factor != 1.0:
            out_size = int(np.floor(x.shape[axis] * factor))
            x = resample_axis(x, axis, out_size, factor, mode, "asymmetric", "floor")
    return x
