"""Array helpers shared by the transforms: argument parsing, padding, resampling and blurring.

Images are arrays whose last two axes are height and width, channels before them: (C, H, W), or a
batch (..., C, H, W). Everything here is vectorised NumPy over the whole image.
"""
import numbers

import numpy as np

from gradkit import backend
from gradkit.tensor import Tensor


def rng():
    """The framework's default NumPy generator, looked up at each call: ``gk.manual_seed`` replaces it,
    and a DataLoader worker reseeds it."""
    return backend.generator_of(None)


def apply(image, fn):
    """Run ``fn`` on the array behind ``image`` and return the result as the same kind (array or Tensor)."""
    if isinstance(image, Tensor):
        return Tensor(fn(image.data))
    return fn(np.asarray(image))


def check_image(array, owner):
    if array.ndim < 2:
        raise ValueError(f"{owner}: expected an image of shape (C, H, W) or (H, W), got shape {array.shape}")


def float_dtype(array):
    return array.dtype if array.dtype.kind == "f" else backend.get_default_dtype()


def like_input(result, array):
    """Cast a float result back to the input's dtype (rounding and clipping for integer images)."""
    if array.dtype.kind in "ui":
        info = np.iinfo(array.dtype)
        return np.clip(np.rint(result), info.min, info.max).astype(array.dtype)
    return result.astype(array.dtype, copy=False)


def pair(value, owner, name="size"):
    """(height, width) from an int or a sequence of one or two ints."""
    if isinstance(value, numbers.Number):
        return int(value), int(value)
    value = tuple(value)
    if len(value) == 1:
        return int(value[0]), int(value[0])
    if len(value) != 2:
        raise ValueError(f"{owner}: {name} should be an int or a sequence of 1 or 2 ints, got {value!r}")
    return int(value[0]), int(value[1])


def range_pair(value, owner, name, center=0.0, lower=None):
    """A (low, high) range from a number ``v`` (meaning center -+ v) or a pair."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{owner}: if {name} is a single number, it must be non-negative, got {value}")
        low, high = center - value, center + value
        if lower is not None:
            low = max(low, lower)
        return float(low), float(high)
    value = tuple(value)
    if len(value) != 2 or value[0] > value[1]:
        raise ValueError(f"{owner}: {name} should be a number or a (min, max) pair, got {value!r}")
    return float(value[0]), float(value[1])


def per_channel(values, array, dtype):
    """Scalars stay scalars; a sequence lines up with the channel axis of an image (-3), or with the
    last axis of 1-D (tabular) data."""
    values = np.asarray(values, dtype=dtype)
    if values.ndim == 0 or values.size == 1:
        return values.reshape(())
    return values.reshape(-1, 1, 1) if array.ndim >= 3 else values


def padding_ltrb(padding, owner):
    """(left, top, right, bottom) from torchvision's forms: int, (lr, tb) or (l, t, r, b)."""
    if isinstance(padding, numbers.Number):
        padding = (padding,)
    padding = tuple(int(p) for p in padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding
    raise ValueError(f"{owner}: padding should be an int or a sequence of 2 or 4 ints, got {padding!r}")


_PAD_MODES = {"constant", "edge", "reflect", "symmetric"}


def pad(array, left, top, right, bottom, fill=0, mode="constant"):
    """Pad the last two axes; ``fill`` (a number or one per channel) is used by the constant mode."""
    if mode not in _PAD_MODES:
        raise ValueError(f"padding_mode should be one of {sorted(_PAD_MODES)}, got {mode!r}")
    if mode != "constant":
        widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
        return np.pad(array, widths, mode=mode)
    height, width = array.shape[-2:]
    out = np.empty(array.shape[:-2] + (height + top + bottom, width + left + right), array.dtype)
    out[...] = per_channel(fill, array, array.dtype)
    out[..., top:top + height, left:left + width] = array
    return out


# ----- resampling --------------------------------------------------------------------------------------
def _bilinear_axis(in_size, out_size):
    """Source indices and weights along one axis, with pixel centres aligned (align_corners=False)
    and negative coordinates clamped to 0, as in PyTorch's bilinear interpolation."""
    source = np.maximum((np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    return low, high, source - low


def resize(array, height, width, interpolation):
    """Resize the last two axes to (height, width), bilinear (separably, rows then columns) or
    nearest (PyTorch's legacy ``floor(dst * in / out)`` rule). No antialiasing when shrinking."""
    in_h, in_w = array.shape[-2:]
    if interpolation == "nearest":
        rows = np.minimum(np.floor(np.arange(height) * (in_h / height)).astype(np.int64), in_h - 1)
        cols = np.minimum(np.floor(np.arange(width) * (in_w / width)).astype(np.int64), in_w - 1)
        return array[..., rows[:, None], cols]
    x = array.astype(float_dtype(array), copy=False)
    top, bottom, wy = _bilinear_axis(in_h, height)
    wy = wy.astype(x.dtype)[:, None]
    x = x[..., top, :] * (1 - wy) + x[..., bottom, :] * wy
    left, right, wx = _bilinear_axis(in_w, width)
    wx = wx.astype(x.dtype)
    return like_input(x[..., left] * (1 - wx) + x[..., right] * wx, array)


def sample(array, source_x, source_y, interpolation, fill):
    """Read ``array`` at fractional pixel positions (``source_x``, ``source_y``: arrays of the output's
    (H, W) shape). Positions outside the image take ``fill``; bilinear blends towards it at the border."""
    height, width = array.shape[-2:]
    x = array.astype(float_dtype(array), copy=False)
    fill = per_channel(fill, x, x.dtype)
    if interpolation == "nearest":
        # Rounding half to even, like grid_sample's nearest mode.
        cols, rows = np.rint(source_x).astype(np.int64), np.rint(source_y).astype(np.int64)
        inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
        values = x[..., np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)]
        return like_input(np.where(inside, values, fill), array)
    left, top = np.floor(source_x), np.floor(source_y)
    wx, wy = (source_x - left).astype(x.dtype), (source_y - top).astype(x.dtype)
    left, top = left.astype(np.int64), top.astype(np.int64)
    out = np.zeros(x.shape[:-2] + source_x.shape, x.dtype)
    coverage = np.zeros(source_x.shape, x.dtype)
    for dy, weight_y in ((0, 1 - wy), (1, wy)):
        for dx, weight_x in ((0, 1 - wx), (1, wx)):
            rows, cols = top + dy, left + dx
            inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
            weight = weight_y * weight_x * inside
            out += x[..., np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)] * weight
            coverage += weight
    return like_input(out + (1 - coverage) * fill, array)


def inverse_affine_matrix(center, angle, translate, scale, shear):
    """The 2x3 matrix taking output pixel coordinates (relative to the image centre) to input ones,
    for a rotation by ``angle`` degrees, then shear, scale and translation: torchvision's
    ``_get_inverse_affine_matrix``, so the parameters mean the same thing."""
    rot, shear_x, shear_y = np.radians(angle), np.radians(shear[0]), np.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = np.cos(rot - shear_y) / np.cos(shear_y)
    b = -np.cos(rot - shear_y) * np.tan(shear_x) / np.cos(shear_y) - np.sin(rot)
    c = np.sin(rot - shear_y) / np.cos(shear_y)
    d = -np.sin(rot - shear_y) * np.tan(shear_x) / np.cos(shear_y) + np.cos(rot)
    # Multiples of 90 degrees map pixel centres onto pixel centres exactly: keep cos(90) at 0, not 6e-17.
    a, b, c, d = (0.0 if abs(v) < 1e-12 else float(v) for v in (a, b, c, d))
    m = np.array([d, -b, 0.0, -c, a, 0.0]) / scale
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
    m[2] += cx
    m[5] += cy
    return m


def affine(array, matrix, out_size, interpolation, fill):
    """Inverse-mapped warp: each output pixel reads the input where ``matrix`` sends it."""
    height, width = array.shape[-2:]
    out_h, out_w = out_size
    ys, xs = np.meshgrid(np.arange(out_h) - (out_h - 1) / 2, np.arange(out_w) - (out_w - 1) / 2, indexing="ij")
    source_x = matrix[0] * xs + matrix[1] * ys + matrix[2] + (width - 1) / 2
    source_y = matrix[3] * xs + matrix[4] * ys + matrix[5] + (height - 1) / 2
    return sample(array, source_x, source_y, interpolation, fill)


def gaussian_blur(array, sigma):
    """Separable Gaussian blur of the last two axes, kernel size ``int(8 sigma + 1)`` made odd, with
    reflected borders (torchvision's choice for ElasticTransform)."""
    size = int(8 * sigma + 1)
    size += 1 - size % 2
    offsets = np.arange(size) - (size - 1) / 2
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    half = size // 2
    for axis in (-2, -1):
        widths = [(0, 0)] * array.ndim
        widths[axis] = (half, half)
        padded = np.pad(array, widths, mode="reflect")
        length = array.shape[axis]
        if axis == -2:
            array = sum(w * padded[..., k:k + length, :] for k, w in enumerate(kernel))
        else:
            array = sum(w * padded[..., k:k + length] for k, w in enumerate(kernel))
    return array
