"""The 8x8 handwritten digits that ship with scikit-learn (UCI optical digits, 1,797 images)."""
import gzip
import importlib.util
import os

import numpy as np

from gradkit.data.dataset import Dataset
from gradkit.data.datasets._files import apply_transforms


def _bundled_file():
    """scikit-learn's own copy of the data (``sklearn/datasets/data/digits.csv.gz``, which its
    ``load_digits`` reads), found without importing scikit-learn, or None."""
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, "datasets", "data", "digits.csv.gz")
        if os.path.isfile(path):
            return path
    return None


def _load_digits():
    """``(images (1797, 8, 8), labels (1797,))``, values 0..16, read from the installed scikit-learn
    package; nothing is downloaded. The file is read directly: importing scikit-learn to call its
    loader took 2.6 s, a tenth of ``gradkit train``'s whole run."""
    path = _bundled_file()
    if path is not None:
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",")
        return table[:, :-1].reshape(-1, 8, 8), table[:, -1]
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError("Digits needs scikit-learn, whose package bundles this dataset: "
                          "pip install scikit-learn") from error
    bunch = load_digits()   # a scikit-learn that keeps the file elsewhere
    return bunch.images, bunch.target


class Digits(Dataset):
    """1,797 grey 8x8 digit images, 0 to 9, about 180 of each.

    Samples are ``(image, label)``: a float32 (1, 8, 8) array in [0, 1] (scikit-learn's values 0..16
    divided by 16) and an int. ``data`` holds all images as (1797, 1, 8, 8) float32, ``targets`` the
    int64 labels, ``classes`` the names "0".."9". Small enough to train on in seconds, it is the
    default dataset of ``gradkit train``. There is no official train/test split: use
    :func:`gradkit.data.stratified_split`.
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, transform=None, target_transform=None):
        images, labels = _load_digits()
        self.data = (np.asarray(images, dtype=np.float32) / np.float32(16.0))[:, None, :, :]
        self.targets = np.asarray(labels, dtype=np.int64)
        self.transform, self.target_transform = transform, target_transform

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return apply_transforms(self.data[index], int(self.targets[index]), self.transform, self.target_transform)

    def __repr__(self):
        return f"Digits(samples={len(self)})"
