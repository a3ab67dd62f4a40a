"""Images sorted into one sub-folder per class: ``root/dog/1.png``, ``root/cat/2.jpg`` ..."""
import os

import numpy as np

from gradkit.data.dataset import Dataset
from gradkit.data.datasets._files import apply_transforms

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def _pillow():
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError("ImageFolder reads images with Pillow: pip install pillow") from error
    return Image


def pil_loader(path):
    """The image at ``path`` as an RGB PIL image; an unreadable file raises ValueError naming it."""
    image_module = _pillow()
    try:
        with open(path, "rb") as f:
            image = image_module.open(f)
            return image.convert("RGB")
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"{path}: cannot read the image ({error})") from error


def array_loader(path):
    """The image at ``path`` as a float32 (3, H, W) array in [0, 1], the default loader."""
    return np.asarray(pil_loader(path), dtype=np.float32).transpose(2, 0, 1) / np.float32(255)


class ImageFolder(Dataset):
    """One class per sub-folder of ``root``, classes sorted by name.

    ``classes`` lists the folder names, ``class_to_idx`` maps them to labels, ``samples`` holds
    ``(path, label)`` pairs and ``targets`` the labels. Samples are ``(image, label)`` where the image
    comes from ``loader`` (default: a float32 (3, H, W) array in [0, 1]; pass ``loader=pil_loader`` for
    PIL images). Files are kept if their extension is in ``extensions`` or ``is_valid_file(path)``.
    """

    def __init__(self, root, transform=None, target_transform=None, loader=None, is_valid_file=None,
                 extensions=IMG_EXTENSIONS, allow_empty=False):
        self.root = str(root)
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"ImageFolder: {self.root} is not a folder; expected one sub-folder of images "
                                    "per class in it")
        _pillow()
        self.transform, self.target_transform = transform, target_transform
        self.loader = loader or array_loader
        self.classes = sorted(entry.name for entry in os.scandir(self.root) if entry.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"ImageFolder: no class sub-folders in {self.root}")
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        keep = is_valid_file or (lambda path: path.lower().endswith(tuple(extensions)))
        self.samples = []
        empty = []
        for name in self.classes:
            found = [os.path.join(folder, f) for folder, _, files in sorted(os.walk(os.path.join(self.root, name)))
                     for f in sorted(files)]
            found = [path for path in found if keep(path)]
            if not found:
                empty.append(name)
            self.samples.extend((path, self.class_to_idx[name]) for path in found)
        if empty and not allow_empty:
            raise FileNotFoundError(f"ImageFolder: found no valid image file for the classes {empty} in {self.root} "
                                    f"(extensions {', '.join(extensions)}); pass allow_empty=True to keep them")
        self.imgs = self.samples
        self.targets = [label for _, label in self.samples]

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, label = self.samples[index]
        return apply_transforms(self.loader(path), label, self.transform, self.target_transform)

    def __repr__(self):
        return f"ImageFolder(root={self.root!r}, classes={len(self.classes)}, samples={len(self)})"
