"""Conversion and scaling transforms: Compose, ToTensor, Normalize, MinMaxScale, LogTransform, Lambda,
and the scalers fitted on training data, Standardize and MinMaxScaler.

Transforms take a (C, H, W) image, a batch of them, or a 1-D feature vector, as a NumPy array or a
gradkit Tensor, and return the same kind.
"""
import numpy as np

from gradkit import backend
from gradkit.tensor import Tensor
from gradkit.data.transforms._image import apply, float_dtype, per_channel

__all__ = ["Compose", "ToTensor", "Normalize", "MinMaxScale", "LogTransform", "Lambda", "Standardize",
           "MinMaxScaler"]


class Compose:
    """Apply several transforms one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


def _is_pil_image(obj):
    return type(obj).__module__.startswith("PIL.") and hasattr(obj, "mode") and hasattr(obj, "getbands")


class ToTensor:
    """Convert an image to a float (C, H, W) Tensor.

    PIL images and uint8 arrays are read as they come from image files, (H, W, C) or (H, W) with values
    0..255, and become float32 in [0, 1]. Float arrays and Tensors are taken to be (C, H, W) already
    (a 2-D one gains a channel axis) and keep their values and dtype; this is where we differ from
    torchvision, which transposes every array as (H, W, C): the datasets here already return
    (C, H, W) float images, and ``Compose([ToTensor(), Normalize(...)])`` written for torchvision
    still works on them.
    """

    def __call__(self, picture):
        if _is_pil_image(picture):
            picture = np.asarray(picture)
            if picture.dtype == np.bool_:
                picture = picture.astype(np.uint8) * 255
        array = picture.data if isinstance(picture, Tensor) else np.asarray(picture)
        if array.ndim not in (2, 3):
            raise ValueError(f"ToTensor: expected an image of 2 or 3 dimensions, got shape {array.shape}")
        if array.dtype.kind == "f":
            return Tensor(array[None] if array.ndim == 2 else array)
        if array.ndim == 2:
            array = array[:, :, None]
        chw = np.ascontiguousarray(array.transpose(2, 0, 1))
        if array.dtype == np.uint8:
            return Tensor(chw.astype(backend.get_default_dtype()) / np.float32(255))
        return Tensor(chw.astype(backend.get_default_dtype()))

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """``(x - mean) / std`` per channel, with statistics known ahead (e.g. ImageNet's)."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace
        if np.any(np.asarray(std, dtype=np.float64) == 0):
            raise ValueError(f"Normalize: std evaluated to zero, leading to division by zero (std={std})")

    def _normalize(self, array):
        dtype = float_dtype(array)
        mean, std = per_channel(self.mean, array, dtype), per_channel(self.std, array, dtype)
        if mean.ndim and array.ndim >= 3 and mean.shape[0] != array.shape[-3]:
            raise ValueError(f"Normalize: {mean.shape[0]} channel means for an image with {array.shape[-3]} "
                             f"channels (shape {array.shape})")
        if self.inplace and array.dtype == dtype:
            array -= mean
            array /= std
            return array
        return (array.astype(dtype, copy=False) - mean) / std

    def __call__(self, x):
        return apply(x, self._normalize)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class MinMaxScale:
    """Map values from a known range [min, max] (numbers or one per channel) onto ``feature_range``,
    e.g. ``MinMaxScale(0, 255)`` for raw pixel values; see MinMaxScaler to learn the range from data."""

    def __init__(self, min, max, feature_range=(0.0, 1.0)):
        if np.any(np.asarray(max, dtype=np.float64) <= np.asarray(min, dtype=np.float64)):
            raise ValueError(f"MinMaxScale: max must be greater than min, got min={min}, max={max}")
        self.min, self.max, self.feature_range = min, max, tuple(feature_range)

    def _scale(self, array):
        dtype = float_dtype(array)
        low, high = per_channel(self.min, array, dtype), per_channel(self.max, array, dtype)
        a, b = self.feature_range
        return (array.astype(dtype, copy=False) - low) * ((b - a) / (high - low)) + dtype.type(a)

    def __call__(self, x):
        return apply(x, self._scale)

    def __repr__(self):
        return f"MinMaxScale(min={self.min}, max={self.max}, feature_range={self.feature_range})"


class LogTransform:
    """Compress heavy-tailed positive values (counts, prices, intensities) with a logarithm.

    ``method``: ``"log1p"`` (log(1 + x), the default: 0 stays 0), ``"log"``, ``"log2"``, ``"log10"``
    (of ``x + offset``) or ``"symlog"`` (sign(x) log(1 + |x|), for data of both signs). Values outside
    the domain raise ValueError rather than turning into NaN.
    """

    _METHODS = {"log1p": np.log1p, "log": np.log, "log2": np.log2, "log10": np.log10}

    def __init__(self, method="log1p", offset=0.0):
        if method not in self._METHODS and method != "symlog":
            raise ValueError(f"LogTransform: method should be one of {sorted(self._METHODS) + ['symlog']}, "
                             f"got {method!r}")
        self.method, self.offset = method, float(offset)

    def _log(self, array):
        x = array.astype(float_dtype(array), copy=False)
        if self.method == "symlog":
            return np.sign(x) * np.log1p(np.abs(x))
        shifted = x + x.dtype.type(self.offset) if self.offset else x
        lowest = -1.0 if self.method == "log1p" else 0.0
        if np.any(shifted <= lowest):
            raise ValueError(f"LogTransform({self.method!r}, offset={self.offset}): input has "
                             f"{int(np.sum(shifted <= lowest))} values outside the domain (min {shifted.min()})")
        return self._METHODS[self.method](shifted)

    def __call__(self, x):
        return apply(x, self._log)

    def __repr__(self):
        return f"LogTransform(method={self.method!r}, offset={self.offset})"


class Lambda:
    """Apply a user function as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)

    def __repr__(self):
        return "Lambda()"


# ----- fitted scalers ---------------------------------------------------------------------------------
def _training_array(data):
    """Stack training data given as an array, a Tensor, a list of samples or a dataset (whose samples
    may be (input, target) pairs: the inputs are used)."""
    if isinstance(data, Tensor):
        return data.data.astype(np.float64)
    if isinstance(data, np.ndarray):
        return data.astype(np.float64)
    rows = []
    for i in range(len(data)):
        sample = data[i]
        if isinstance(sample, (tuple, list)) and not isinstance(data, list):
            sample = sample[0]
        rows.append(sample.data if isinstance(sample, Tensor) else np.asarray(sample))
    return np.stack(rows).astype(np.float64)


def _axes(axis, ndim, owner):
    axes = tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))
    if 0 not in axes:
        raise ValueError(f"{owner}: axis must include 0, the sample axis, got {axis!r}")
    return axes


class _FittedScaler:
    """Statistics learned by ``fit`` on training data only, then applied to any split by ``transform``
    (or by calling the scaler, so it fits in Compose). ``axis`` names the axes the statistics are
    taken over: 0 gives one per feature; (0, 2, 3) one per channel of (N, C, H, W) images."""

    _STATE = ()

    def __init__(self, axis=0):
        self.axis = axis
        for name in self._STATE:
            setattr(self, name, None)

    def fit(self, data):
        x = _training_array(data)
        if not len(x):
            raise ValueError(f"{type(self).__name__}.fit: no training data")
        self._fit(x, _axes(self.axis, x.ndim, type(self).__name__))
        return self

    def fit_transform(self, data):
        self.fit(data)
        return self.transform(data.data if isinstance(data, Tensor) else data if isinstance(data, np.ndarray)
                              else _training_array(data))

    def _check_fitted(self):
        if getattr(self, self._STATE[0]) is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() on the training data first "
                               "(or load_state_dict())")

    def transform(self, x):
        self._check_fitted()
        return apply(x, lambda a: self._apply(a.astype(float_dtype(a), copy=False)).astype(float_dtype(a)))

    def inverse_transform(self, x):
        self._check_fitted()
        return apply(x, lambda a: self._invert(a.astype(float_dtype(a), copy=False)).astype(float_dtype(a)))

    __call__ = transform

    def state_dict(self):
        self._check_fitted()
        return {name: getattr(self, name).copy() for name in self._STATE}

    def load_state_dict(self, state):
        missing = [name for name in self._STATE if name not in state]
        if missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing {missing}")
        for name in self._STATE:
            value = state[name]
            setattr(self, name, np.asarray(value.data if isinstance(value, Tensor) else value, dtype=np.float64))


def _reduce(function, x, axes):
    # Keep dims, then drop the sample axis: the result broadcasts against one sample or a batch.
    result = function(x, axis=axes, keepdims=True)
    return result.reshape(result.shape[1:])


class Standardize(_FittedScaler):
    """Subtract the training mean and divide by the training standard deviation (population, as in
    scikit-learn's StandardScaler); constant features get a scale of 1 instead of a division by 0."""

    _STATE = ("mean", "std")

    def _fit(self, x, axes):
        self.mean = _reduce(np.mean, x, axes)
        std = _reduce(np.std, x, axes)
        self.std = np.where(std == 0, 1.0, std)

    def _apply(self, a):
        return (a - self.mean) / self.std

    def _invert(self, a):
        return a * self.std + self.mean

    def __repr__(self):
        return f"Standardize(axis={self.axis})"


class MinMaxScaler(_FittedScaler):
    """Map the training minimum and maximum onto ``feature_range`` (scikit-learn's MinMaxScaler);
    constant features map to the range's lower end. ``clip`` keeps unseen data inside the range."""

    _STATE = ("data_min", "data_max")

    def __init__(self, feature_range=(0.0, 1.0), axis=0, clip=False):
        if feature_range[0] >= feature_range[1]:
            raise ValueError(f"MinMaxScaler: minimum of feature_range must be below its maximum, got {feature_range}")
        super().__init__(axis)
        self.feature_range, self.clip = tuple(feature_range), clip

    def _fit(self, x, axes):
        self.data_min, self.data_max = _reduce(np.min, x, axes), _reduce(np.max, x, axes)

    def _scale(self):
        data_range = self.data_max - self.data_min
        return (self.feature_range[1] - self.feature_range[0]) / np.where(data_range == 0, 1.0, data_range)

    def _apply(self, a):
        out = (a - self.data_min) * self._scale() + self.feature_range[0]
        return np.clip(out, *self.feature_range) if self.clip else out

    def _invert(self, a):
        return (a - self.feature_range[0]) / self._scale() + self.data_min

    def __repr__(self):
        return f"MinMaxScaler(feature_range={self.feature_range}, axis={self.axis})"
