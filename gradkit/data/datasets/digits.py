"""The 8x8 handwritten digits that ship with scikit-learn (UCI optical digits, 1,797 images)."""
import numpy as np

from gradkit.data.dataset import Dataset
from gradkit.data.datasets._files import apply_transforms


def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError("Digits needs scikit-learn, whose package bundles this dataset: "
                          "pip install scikit-learn") from error
    # Read from the installed package's own files; nothing is downloaded.
    return load_digits()


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
        bunch = _load_digits()
        self.data = (np.asarray(bunch.images, dtype=np.float32) / np.float32(16.0))[:, None, :, :]
        self.targets = np.asarray(bunch.target, dtype=np.int64)
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
