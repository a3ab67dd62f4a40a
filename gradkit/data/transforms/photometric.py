"""Photometric transforms: changes of colour and occlusion, leaving the geometry alone."""
import math
import numbers

import numpy as np

from gradkit.data.transforms._image import apply, check_image, float_dtype, range_pair, rng

__all__ = ["ColorJitter", "RandomErasing", "rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb"]


def rgb_to_grayscale(array):
    """Luma with torchvision's weights (ITU-R 601-2), keeping a channel axis of size 1."""
    r, g, b = array[..., 0, :, :], array[..., 1, :, :], array[..., 2, :, :]
    return (0.2989 * r + 0.587 * g + 0.114 * b).astype(array.dtype)[..., None, :, :]


def rgb_to_hsv(array):
    """(..., 3, H, W) RGB in [0, 1] to hue, saturation, value, each in [0, 1] (torchvision's formulas)."""
    r, g, b = array[..., 0, :, :], array[..., 1, :, :], array[..., 2, :, :]
    maxc, minc = array.max(axis=-3), array.min(axis=-3)
    grey = maxc == minc
    chroma = maxc - minc
    saturation = chroma / np.where(grey, 1, maxc)
    divisor = np.where(grey, 1, chroma)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    hue = np.where(maxc == r, bc - gc, np.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = np.fmod(hue / 6.0 + 1.0, 1.0)
    return np.stack([hue, saturation, maxc], axis=-3).astype(array.dtype)


def hsv_to_rgb(array):
    h, s, v = array[..., 0, :, :], array[..., 1, :, :], array[..., 2, :, :]
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0, 1)
    q = np.clip(v * (1.0 - s * f), 0, 1)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0, 1)
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    channels = [np.choose(sector, [c[k] for c in choices]) for k in range(3)]
    return np.stack(channels, axis=-3).astype(array.dtype)


def _blend(image, other, factor):
    return np.clip(factor * image + (1 - factor) * other, 0, 1).astype(image.dtype)


class ColorJitter:
    """Randomly change brightness, contrast, saturation and hue, in a random order: different
    lighting, exposure, cameras and white balance. Each argument is a number v (factor drawn from
    [max(0, 1 - v), 1 + v]; hue: shift in [-v, v], v <= 0.5) or a (min, max) pair; 0 leaves it alone.
    Images are float RGB (or single-channel) in [0, 1]; saturation and hue skip single-channel ones."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = self._factor_range(brightness, "brightness")
        self.contrast = self._factor_range(contrast, "contrast")
        self.saturation = self._factor_range(saturation, "saturation")
        self.hue = None
        if hue != 0:
            self.hue = range_pair(hue, "ColorJitter", "hue")
            if not -0.5 <= self.hue[0] <= self.hue[1] <= 0.5:
                raise ValueError(f"ColorJitter: hue values should be in [-0.5, 0.5], got {hue}")

    @staticmethod
    def _factor_range(value, name):
        if isinstance(value, numbers.Number) and value == 0:
            return None
        low, high = range_pair(value, "ColorJitter", name, center=1.0, lower=0.0)
        if low < 0:
            raise ValueError(f"ColorJitter: {name} values should be non-negative, got {value}")
        return None if low == high == 1.0 else (low, high)

    def _jitter(self, array):
        check_image(array, "ColorJitter")
        x = array.astype(float_dtype(array), copy=False)
        generator = rng()
        order = generator.permutation(4)
        factors = [None if r is None else float(generator.uniform(*r))
                   for r in (self.brightness, self.contrast, self.saturation, self.hue)]
        color = x.ndim >= 3 and x.shape[-3] == 3
        for which in order.tolist():
            factor = factors[which]
            if factor is None:
                continue
            if which == 0:
                x = np.clip(x * factor, 0, 1).astype(x.dtype)
            elif which == 1:
                grey = rgb_to_grayscale(x) if color else x
                x = _blend(x, grey.mean(axis=(-3, -2, -1), keepdims=True), factor)
            elif which == 2 and color:
                x = _blend(x, rgb_to_grayscale(x), factor)
            elif which == 3 and color:
                hsv = rgb_to_hsv(x)
                hsv[..., 0, :, :] = np.mod(hsv[..., 0, :, :] + factor, 1.0)
                x = hsv_to_rgb(hsv)
        return x

    def __call__(self, image):
        return apply(image, self._jitter)

    def __repr__(self):
        return (f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class RandomErasing:
    """With probability ``p``, blank out a random rectangle (``scale``: fraction of the area,
    ``ratio``: aspect ratio) with ``value`` (a number, one per channel, or ``"random"`` for Gaussian
    noise): an object partly hidden behind another (Zhong et al., 2017). Works on (C, H, W) images,
    usually after normalisation; the input is not modified unless ``inplace``."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomErasing: probability p should be in [0, 1], got {p}")
        if scale[0] > scale[1] or ratio[0] > ratio[1] or scale[0] < 0 or scale[1] > 1:
            raise ValueError(f"RandomErasing: scale should be within [0, 1] and (min, max), ratio (min, max); got "
                             f"{scale}, {ratio}")
        if not (isinstance(value, (numbers.Number, tuple, list)) or value == "random"):
            raise ValueError(f"RandomErasing: value should be a number, a sequence or 'random', got {value!r}")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, tuple(scale), tuple(ratio), value, inplace

    def get_params(self, channels, height, width):
        """(top, left, h, w, fill) of the rectangle; the whole image with no fill when 10 tries fail."""
        generator, area = rng(), height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            erase_area = area * generator.uniform(*self.scale)
            aspect = math.exp(generator.uniform(*log_ratio))
            h, w = int(round(math.sqrt(erase_area * aspect))), int(round(math.sqrt(erase_area / aspect)))
            if not (h < height and w < width):
                continue
            if self.value == "random":
                fill = generator.standard_normal((channels, h, w))
            else:
                fill = np.asarray(self.value, dtype=np.float64).reshape(-1, 1, 1)
            top, left = int(generator.integers(0, height - h + 1)), int(generator.integers(0, width - w + 1))
            return top, left, h, w, fill
        return 0, 0, height, width, None

    def _erase(self, array):
        check_image(array, "RandomErasing")
        channels = array.shape[-3] if array.ndim >= 3 else 1
        if isinstance(self.value, (tuple, list)) and len(self.value) not in (1, channels):
            raise ValueError(f"RandomErasing: {len(self.value)} fill values for an image with {channels} channels")
        top, left, h, w, fill = self.get_params(channels, *array.shape[-2:])
        if fill is None:
            return array
        out = array if self.inplace else array.copy()
        region = out[..., top:top + h, left:left + w]
        region[...] = fill if out.ndim >= 3 else fill[0]
        return out

    def __call__(self, image):
        if rng().random() >= self.p:
            return image
        return apply(image, self._erase)

    def __repr__(self):
        return f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value!r})"
