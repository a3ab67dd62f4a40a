"""Geometric transforms: flips, crops, resizing, rotation, affine and elastic warps.

Each random one draws its parameters from the framework's default generator when called, so
``gk.manual_seed`` (or a DataLoader worker's seed) makes the augmentation reproducible. Images are
(C, H, W) or (..., C, H, W) arrays or Tensors; the last two axes are height and width.
"""
import math
import numbers

import numpy as np

from gradkit.data.transforms._image import (affine, apply, check_image, gaussian_blur, inverse_affine_matrix, pad,
                                            padding_ltrb, pair, range_pair, resize, rng, sample)

__all__ = ["InterpolationMode", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomCrop", "CenterCrop", "Pad",
           "Resize", "RandomResizedCrop", "RandomRotation", "RandomAffine", "ElasticTransform"]


class InterpolationMode:
    """Names accepted by ``interpolation=`` (plain strings work too)."""
    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _interpolation(value, owner):
    value = str(getattr(value, "value", value)).lower()
    if value not in ("nearest", "bilinear"):
        raise ValueError(f"{owner}: interpolation should be 'nearest' or 'bilinear', got {value!r}")
    return value


def _check_p(p, owner):
    if not 0 <= p <= 1:
        raise ValueError(f"{owner}: probability p should be in [0, 1], got {p}")
    return p


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p``: a scene seen from the other side; objects whose
    identity does not depend on handedness (not text or digits)."""

    def __init__(self, p=0.5):
        self.p = _check_p(p, "RandomHorizontalFlip")

    def __call__(self, image):
        if rng().random() >= self.p:
            return image
        return apply(image, lambda a: np.ascontiguousarray(a[..., ::-1]))

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class RandomVerticalFlip:
    """Mirror top-bottom with probability ``p``: views with no natural up (aerial, microscopy)."""

    def __init__(self, p=0.5):
        self.p = _check_p(p, "RandomVerticalFlip")

    def __call__(self, image):
        if rng().random() >= self.p:
            return image
        return apply(image, lambda a: np.ascontiguousarray(a[..., ::-1, :]))

    def __repr__(self):
        return f"RandomVerticalFlip(p={self.p})"


class Pad:
    """Pad the borders: ``padding`` as int, (left/right, top/bottom) or (left, top, right, bottom);
    ``padding_mode`` constant (with ``fill``), edge, reflect or symmetric."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        self.padding, self.fill, self.padding_mode = padding_ltrb(padding, "Pad"), fill, padding_mode

    def __call__(self, image):
        return apply(image, lambda a: pad(a, *self.padding, self.fill, self.padding_mode))


def _crop(array, top, left, height, width):
    return np.ascontiguousarray(array[..., top:top + height, left:left + width])


class RandomCrop:
    """Cut a ``size`` window at a random position, after optional padding: the object shifted within
    the frame (translation), the standard CIFAR augmentation with ``padding=4``."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = pair(size, "RandomCrop")
        self.padding = None if padding is None else padding_ltrb(padding, "RandomCrop")
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode

    def _crop(self, array):
        check_image(array, "RandomCrop")
        if self.padding is not None:
            array = pad(array, *self.padding, self.fill, self.padding_mode)
        th, tw = self.size
        height, width = array.shape[-2:]
        if self.pad_if_needed and width < tw:
            array = pad(array, tw - width, 0, tw - width, 0, self.fill, self.padding_mode)
        if self.pad_if_needed and height < th:
            array = pad(array, 0, th - height, 0, th - height, self.fill, self.padding_mode)
        height, width = array.shape[-2:]
        if height < th or width < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the input image size "
                             f"{(height, width)}; use padding or pad_if_needed")
        generator = rng()
        top, left = int(generator.integers(0, height - th + 1)), int(generator.integers(0, width - tw + 1))
        return _crop(array, top, left, th, tw)

    def __call__(self, image):
        return apply(image, self._crop)

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


def center_crop(array, height, width):
    """The central (height, width) window, zero-padded first if the image is smaller (torchvision's rule)."""
    in_h, in_w = array.shape[-2:]
    if height > in_h or width > in_w:
        array = pad(array, max(width - in_w, 0) // 2, max(height - in_h, 0) // 2, max(width - in_w + 1, 0) // 2,
                    max(height - in_h + 1, 0) // 2)
        in_h, in_w = array.shape[-2:]
    return _crop(array, int(round((in_h - height) / 2.0)), int(round((in_w - width) / 2.0)), height, width)


class CenterCrop:
    """Keep the central ``size`` window (deterministic; the evaluation counterpart of RandomCrop)."""

    def __init__(self, size):
        self.size = pair(size, "CenterCrop")

    def __call__(self, image):
        return apply(image, lambda a: center_crop(a, *self.size))

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


def _resized_shape(height, width, size, max_size):
    """torchvision's rule: an int matches the shorter edge (keeping the aspect ratio), a pair is (h, w)."""
    if not isinstance(size, numbers.Number) and len(size) == 2:
        return int(size[0]), int(size[1])
    size = int(size if isinstance(size, numbers.Number) else size[0])
    short, long = sorted((height, width))
    new_short, new_long = size, int(size * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_short, new_long) if height <= width else (new_long, new_short)


class Resize:
    """Resample to ``size`` (int: the shorter edge, keeping the aspect ratio; or (h, w)) with bilinear
    or nearest interpolation, pixel centres aligned like ``F.interpolate(align_corners=False)``.
    Deterministic; it makes images of different sizes batchable. Shrinking does not antialias."""

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=None):
        self.size, self.max_size = size, max_size
        self.interpolation = _interpolation(interpolation, "Resize")

    def _resize(self, array):
        check_image(array, "Resize")
        height, width = _resized_shape(*array.shape[-2:], self.size, self.max_size)
        if (height, width) == array.shape[-2:]:
            return array
        return resize(array, height, width, self.interpolation)

    def __call__(self, image):
        return apply(image, self._resize)

    def __repr__(self):
        return f"Resize(size={self.size}, interpolation={self.interpolation!r})"


class RandomResizedCrop:
    """Crop a random part (``scale``: fraction of the area, ``ratio``: aspect ratio) and resize it to
    ``size``: the object at varying distances, positions and stretches (the Inception augmentation)."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation="bilinear",
                 antialias=None):
        self.size = pair(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomResizedCrop: scale and ratio should be (min, max), got {scale}, {ratio}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation = _interpolation(interpolation, "RandomResizedCrop")

    def get_params(self, height, width):
        """(top, left, h, w) of the crop: up to 10 random tries, then a central crop (torchvision's)."""
        generator, area = rng(), height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target_area = area * generator.uniform(*self.scale)
            aspect = math.exp(generator.uniform(*log_ratio))
            w, h = int(round(math.sqrt(target_area * aspect))), int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return int(generator.integers(0, height - h + 1)), int(generator.integers(0, width - w + 1)), h, w
        in_ratio = width / height
        if in_ratio < min(self.ratio):
            w, h = width, int(round(width / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            h, w = height, int(round(height * max(self.ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def _crop_resize(self, array):
        check_image(array, "RandomResizedCrop")
        top, left, h, w = self.get_params(*array.shape[-2:])
        return resize(_crop(array, top, left, h, w), *self.size, self.interpolation)

    def __call__(self, image):
        return apply(image, self._crop_resize)

    def __repr__(self):
        return f"RandomResizedCrop(size={self.size}, scale={self.scale}, ratio={self.ratio})"


def _center_offset(center, height, width):
    # torchvision measures a user-given centre from the image's middle at (W/2, H/2).
    return (0.0, 0.0) if center is None else (center[0] - width * 0.5, center[1] - height * 0.5)


def _expanded_size(matrix, height, width):
    """The smallest output that holds the whole rotated image: the extent of its rotated corners,
    rounded up after trimming float error below 1e-4 (PIL's sizes; torchvision's tensor path rounds
    the corners separately and can come out a pixel larger)."""
    corners = np.array([[-0.5 * width, -0.5 * height, 1.0], [-0.5 * width, 0.5 * height, 1.0],
                        [0.5 * width, 0.5 * height, 1.0], [0.5 * width, -0.5 * height, 1.0]])
    points = corners @ np.asarray(matrix).reshape(2, 3).T
    tol = 1e-4
    extent = np.ceil(np.trunc((points.max(axis=0) - points.min(axis=0)) / tol) * tol)
    return int(extent[1]), int(extent[0])


def rotate(array, angle, interpolation="nearest", expand=False, center=None, fill=0):
    """Rotate counter-clockwise by ``angle`` degrees about the centre (or ``center``, as (x, y))."""
    height, width = array.shape[-2:]
    matrix = inverse_affine_matrix(_center_offset(center, height, width), -angle, (0.0, 0.0), 1.0, (0.0, 0.0))
    out_size = _expanded_size(matrix, height, width) if expand else (height, width)
    return affine(array, matrix, out_size, interpolation, fill)


class RandomRotation:
    """Rotate by an angle drawn from ``degrees`` (d: [-d, d]; or (min, max)), counter-clockwise for
    positive angles: a tilted camera or object. Corners uncovered by the rotation take ``fill``."""

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0):
        self.degrees = range_pair(degrees, "RandomRotation", "degrees")
        self.interpolation = _interpolation(interpolation, "RandomRotation")
        self.expand, self.center, self.fill = expand, center, fill

    def __call__(self, image):
        angle = float(rng().uniform(*self.degrees))
        return apply(image, lambda a: rotate(a, angle, self.interpolation, self.expand, self.center, self.fill))

    def __repr__(self):
        return f"RandomRotation(degrees={self.degrees}, interpolation={self.interpolation!r})"


class RandomAffine:
    """Random rotation (``degrees``), translation (``translate``: maximal fractions of width and
    height), scaling (``scale``: (min, max)) and shear (``shear``: x range, or x and y ranges, in
    degrees) in one warp: a camera moved, zoomed and looking at the object at a slant. The parameters
    and their meaning follow torchvision; pixels are sampled by inverse mapping."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation="nearest", fill=0,
                 center=None):
        self.degrees = range_pair(degrees, "RandomAffine", "degrees")
        if translate is not None and not all(0 <= t <= 1 for t in translate):
            raise ValueError(f"RandomAffine: translate values should be between 0 and 1, got {translate}")
        if scale is not None and (len(scale) != 2 or scale[0] <= 0 or scale[0] > scale[1]):
            raise ValueError(f"RandomAffine: scale should be a positive (min, max) pair, got {scale}")
        self.translate, self.scale, self.fill, self.center = translate, scale, fill, center
        self.shear = None
        if shear is not None:
            if isinstance(shear, numbers.Number):
                self.shear = range_pair(shear, "RandomAffine", "shear")
            elif len(shear) in (2, 4):
                self.shear = tuple(float(s) for s in shear)
            else:
                raise ValueError(f"RandomAffine: shear should be a number or a sequence of 2 or 4, got {shear}")
        self.interpolation = _interpolation(interpolation, "RandomAffine")

    def get_params(self, height, width):
        """(angle, (tx, ty), scale, (shear_x, shear_y)), drawn in torchvision's order."""
        generator = rng()
        angle = float(generator.uniform(*self.degrees))
        translation = (0, 0)
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
            translation = (int(round(generator.uniform(-max_dx, max_dx))),
                           int(round(generator.uniform(-max_dy, max_dy))))
        scale = 1.0 if self.scale is None else float(generator.uniform(*self.scale))
        shear = (0.0, 0.0)
        if self.shear is not None:
            shear_x = float(generator.uniform(self.shear[0], self.shear[1]))
            shear_y = float(generator.uniform(self.shear[2], self.shear[3])) if len(self.shear) == 4 else 0.0
            shear = (shear_x, shear_y)
        return angle, translation, scale, shear

    def _warp(self, array):
        check_image(array, "RandomAffine")
        height, width = array.shape[-2:]
        angle, translation, scale, shear = self.get_params(height, width)
        matrix = inverse_affine_matrix(_center_offset(self.center, height, width), angle, translation, scale, shear)
        return affine(array, matrix, (height, width), self.interpolation, self.fill)

    def __call__(self, image):
        return apply(image, self._warp)

    def __repr__(self):
        return (f"RandomAffine(degrees={self.degrees}, translate={self.translate}, scale={self.scale}, "
                f"shear={self.shear})")


class ElasticTransform:
    """Displace every pixel by a smooth random field: the local wobble of handwriting strokes or of
    soft tissue (Simard et al., 2003). The field is uniform noise in [-1, 1] blurred with a Gaussian
    of width ``sigma`` (smoothness) and scaled by ``alpha`` / 2 pixels (strength), torchvision's scale
    for square images; pixels are sampled bilinearly, positions outside the image take ``fill``."""

    def __init__(self, alpha=50.0, sigma=5.0, interpolation="bilinear", fill=0):
        self.alpha, self.sigma, self.fill = float(alpha), float(sigma), fill
        if self.alpha < 0 or self.sigma <= 0:
            raise ValueError(f"ElasticTransform: alpha should be >= 0 and sigma > 0, got {alpha}, {sigma}")
        self.interpolation = _interpolation(interpolation, "ElasticTransform")

    def _warp(self, array):
        check_image(array, "ElasticTransform")
        height, width = array.shape[-2:]
        noise = rng().uniform(-1.0, 1.0, size=(2, height, width))
        dx, dy = gaussian_blur(noise, self.sigma) * (self.alpha / 2)
        ys, xs = np.meshgrid(np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64), indexing="ij")
        return sample(array, xs + dx, ys + dy, self.interpolation, self.fill)

    def __call__(self, image):
        return apply(image, self._warp)

    def __repr__(self):
        return f"ElasticTransform(alpha={self.alpha}, sigma={self.sigma})"
