"""Dropout layers: active in training mode, the identity in evaluation mode (``model.eval()``)."""
import gradkit.nn.functional as F
from gradkit.nn.module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    function = None

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return type(self).function(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    r"""Zero each element with probability ``p`` and scale the rest by :math:`1/(1-p)` while training."""
    function = staticmethod(F.dropout)


class Dropout1d(_DropoutNd):
    r"""Zero whole channels of :math:`(N, C, L)` or :math:`(C, L)` inputs while training."""
    function = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    r"""Zero whole feature maps of :math:`(N, C, H, W)` or :math:`(C, H, W)` inputs while training."""
    function = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    r"""Zero whole channels of :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)` inputs while training."""
    function = staticmethod(F.dropout3d)


class AlphaDropout(_DropoutNd):
    r"""Dropout for self-normalising (SELU) networks: keeps zero mean and unit variance (see
    :func:`gradkit.nn.functional.alpha_dropout`)."""
    function = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    r"""Alpha dropout of whole channels of :math:`(N, C, *)` inputs."""
    function = staticmethod(F.feature_alpha_dropout)
