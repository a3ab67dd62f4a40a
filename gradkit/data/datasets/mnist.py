"""MNIST and Fashion-MNIST from their IDX files, laid out as torchvision expects them."""
import numpy as np

from gradkit.data.dataset import Dataset
from gradkit.data.datasets._files import apply_transforms, find_file, read_bytes

# IDX type codes: the third byte of the magic number.
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path, expected_ndim=None):
    """The array stored in the IDX file at ``path`` (optionally gzipped); a bad magic number, an
    unexpected number of dimensions or a size that disagrees with the header raises ValueError naming
    the file."""
    content = read_bytes(path)
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or content[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number {content[:4].hex() or 'empty'})")
    ndim = content[3]
    if expected_ndim is not None and ndim != expected_ndim:
        raise ValueError(f"{path}: expected an IDX file of {expected_ndim} dimensions, the header says {ndim}")
    header = 4 + 4 * ndim
    if len(content) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(content)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[content[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(content) != expected:
        raise ValueError(f"{path}: the header announces shape {shape} ({expected} bytes) but the file has "
                         f"{len(content)} bytes; it is truncated or corrupt")
    return np.frombuffer(content, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey.

    Looks for torchvision's file names (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally ``.gz``) in ``root`` and in
    ``root/MNIST/raw``. Nothing is downloaded. Samples are ``(image, label)`` with the image a float32
    (1, 28, 28) array in [0, 1] (torchvision gives a PIL image; ToTensor accepts both), ``data`` the
    raw uint8 (N, 28, 28) images and ``targets`` int64 labels.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    where_to_get = ("Get the four IDX files from the dataset's page (https://yann.lecun.com/exdb/mnist/ or a "
                    "mirror such as https://ossci-datasets.s3.amazonaws.com/mnist/) and put them in one of "
                    "these folders.")

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if download:
            raise ValueError(f"{type(self).__name__}: gradkit does not download data; " + self.where_to_get)
        self.root, self.train = str(root), train
        self.transform, self.target_transform = transform, target_transform
        prefix = "train" if train else "t10k"
        folders = [self.root, f"{self.root}/{type(self).__name__}/raw"]
        name = type(self).__name__
        images_path = find_file(name, folders, [f"{prefix}-images-idx3-ubyte", f"{prefix}-images-idx3-ubyte.gz"],
                                self.where_to_get)
        labels_path = find_file(name, folders, [f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels-idx1-ubyte.gz"],
                                self.where_to_get)
        self.data = read_idx(images_path, expected_ndim=3)
        self.targets = read_idx(labels_path, expected_ndim=1).astype(np.int64)
        if len(self.data) != len(self.targets):
            raise ValueError(f"{labels_path}: {len(self.targets)} labels for {len(self.data)} images in "
                             f"{images_path}")
        if len(self.targets) and (self.targets.min() < 0 or self.targets.max() >= len(self.classes)):
            raise ValueError(f"{labels_path}: labels outside 0..{len(self.classes) - 1}")

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        image = self.data[index][None].astype(np.float32) / np.float32(255)
        return apply_transforms(image, int(self.targets[index]), self.transform, self.target_transform)

    def __repr__(self):
        return f"{type(self).__name__}(split={'train' if self.train else 'test'}, samples={len(self)})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: the same format and sizes as MNIST, ten kinds of clothing; looked up in
    ``root`` and ``root/FashionMNIST/raw``."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    where_to_get = ("Get the four IDX files from https://github.com/zalandoresearch/fashion-mnist and put them in "
                    "one of these folders.")
