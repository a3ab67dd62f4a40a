r"""Resizing layers: Upsample (and its two fixed-mode forms), PixelShuffle and PixelUnshuffle.

Thin wrappers of :func:`gradkit.nn.functional.interpolate`, ``pixel_shuffle`` and ``pixel_unshuffle``,
whose docstrings give the index formulas.
"""
import gradkit.nn.functional as F
from gradkit.nn.module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle"]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "area")


class Upsample(Module):
    r"""Resize to ``size`` or by ``scale_factor`` with ``mode`` (output :math:`\lfloor L \cdot s \rfloor`)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        name = type(self).__name__
        if mode not in _MODES:
            raise ValueError(f"{name}: mode must be one of {', '.join(_MODES)}, got {mode!r}")
        if align_corners is not None and mode not in ("linear", "bilinear", "bicubic"):
            raise ValueError(f"{name}: align_corners can only be set with the modes linear, bilinear and bicubic, "
                             f"not {mode!r}")
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{name}: exactly one of size or scale_factor must be given")
        self.name = name
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(s) for s in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor is not None else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of 4-D inputs."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of 4-D inputs with ``align_corners=True`` (as PyTorch's layer)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    r""":math:`(*, C r^2, H, W) \to (*, C, H r, W r)`; see :func:`gradkit.nn.functional.pixel_shuffle`."""

    def __init__(self, upscale_factor):
        super().__init__()
        if not isinstance(upscale_factor, int) or upscale_factor < 1:
            raise ValueError(f"PixelShuffle: upscale_factor must be a positive int, got {upscale_factor!r}")
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    r""":math:`(*, C, H r, W r) \to (*, C r^2, H, W)`; see :func:`gradkit.nn.functional.pixel_unshuffle`."""

    def __init__(self, downscale_factor):
        super().__init__()
        if not isinstance(downscale_factor, int) or downscale_factor < 1:
            raise ValueError(f"PixelUnshuffle: downscale_factor must be a positive int, got {downscale_factor!r}")
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
