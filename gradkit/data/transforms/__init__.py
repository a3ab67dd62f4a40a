"""Transforms for images and tabular features, named and parameterised like torchvision's.

They work on (C, H, W) float images (or batches of them, or 1-D feature vectors) given as NumPy arrays
or gradkit Tensors and return the same kind; :class:`ToTensor` also reads (H, W, C) uint8 arrays and PIL
images. Random transforms draw from the framework's default generator, so ``gk.manual_seed`` makes
them reproducible, and each DataLoader worker, seeded distinctly, draws its own.
"""
from gradkit.data.transforms.core import (Compose, Lambda, LogTransform, MinMaxScale, MinMaxScaler, Normalize,
                                          Standardize, ToTensor)
from gradkit.data.transforms.geometric import (CenterCrop, ElasticTransform, InterpolationMode, Pad, RandomAffine,
                                               RandomCrop, RandomHorizontalFlip, RandomResizedCrop, RandomRotation,
                                               RandomVerticalFlip, Resize)
from gradkit.data.transforms.photometric import ColorJitter, RandomErasing

__all__ = ["Compose", "ToTensor", "Normalize", "MinMaxScale", "LogTransform", "Lambda", "Standardize", "MinMaxScaler",
           "InterpolationMode", "RandomHorizontalFlip", "RandomVerticalFlip", "Pad", "RandomCrop", "CenterCrop",
           "Resize", "RandomResizedCrop", "RandomRotation", "RandomAffine", "ElasticTransform", "ColorJitter",
           "RandomErasing"]
