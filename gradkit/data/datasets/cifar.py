"""CIFAR-10 and CIFAR-100 from the official binary version (not the pickled Python version, which
would mean unpickling downloaded files)."""
import os

import numpy as np

from gradkit.data.dataset import Dataset
from gradkit.data.datasets._files import apply_transforms, find_file, read_bytes

_IMAGE_BYTES = 3 * 32 * 32


def read_records(path, label_bytes, num_classes):
    """Labels (one column per label byte) and uint8 (N, 32, 32, 3) images of a CIFAR binary file."""
    content = read_bytes(path)
    record = label_bytes + _IMAGE_BYTES
    if not content or len(content) % record:
        raise ValueError(f"{path}: {len(content)} bytes is not a whole number of {record}-byte CIFAR records; the "
                         "file is truncated or is not the binary version")
    rows = np.frombuffer(content, dtype=np.uint8).reshape(-1, record)
    labels = rows[:, :label_bytes].astype(np.int64)
    for column, count in zip(labels.T, num_classes):
        if column.max() >= count:
            raise ValueError(f"{path}: label {column.max()} outside 0..{count - 1}; is this the right CIFAR version?")
    # Each record stores the red, green and blue planes one after the other.
    images = rows[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return labels, np.ascontiguousarray(images)


class _CIFAR(Dataset):
    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        image = self.data[index].transpose(2, 0, 1).astype(np.float32) / np.float32(255)
        return apply_transforms(image, int(self.targets[index]), self.transform, self.target_transform)

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def __repr__(self):
        return f"{type(self).__name__}(split={'train' if self.train else 'test'}, samples={len(self)})"


class CIFAR10(_CIFAR):
    """60,000 32x32 colour images in 10 classes (50,000 training, 10,000 test).

    Reads the binary version (``data_batch_1.bin`` .. ``data_batch_5.bin``, ``test_batch.bin``) from
    ``root`` or ``root/cifar-10-batches-bin``; nothing is downloaded. Samples are ``(image, label)``
    with a float32 (3, 32, 32) image in [0, 1]; ``data`` holds the uint8 (N, 32, 32, 3) images as in
    torchvision, ``targets`` the int64 labels.
    """

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    where_to_get = ("Download 'CIFAR-10 binary version (suitable for C programs)' from "
                    "https://www.cs.toronto.edu/~kriz/cifar.html and extract it in root.")

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if download:
            raise ValueError("CIFAR10: gradkit does not download data. " + self.where_to_get)
        self.root, self.train = str(root), train
        self.transform, self.target_transform = transform, target_transform
        folders = [self.root, os.path.join(self.root, "cifar-10-batches-bin")]
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        parts = [read_records(find_file("CIFAR10", folders, [name], self.where_to_get), 1, [10]) for name in names]
        self.targets = np.concatenate([labels[:, 0] for labels, _ in parts])
        self.data = np.concatenate([images for _, images in parts])


class CIFAR100(_CIFAR):
    """60,000 32x32 colour images in 100 fine classes grouped into 20 coarse ones.

    Reads the binary version (``train.bin``, ``test.bin``) from ``root`` or ``root/cifar-100-binary``.
    ``targets`` are the fine labels and ``coarse_targets`` the coarse ones; ``classes`` come from
    ``fine_label_names.txt`` when it is there.
    """

    where_to_get = ("Download 'CIFAR-100 binary version (suitable for C programs)' from "
                    "https://www.cs.toronto.edu/~kriz/cifar.html and extract it in root.")

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if download:
            raise ValueError("CIFAR100: gradkit does not download data. " + self.where_to_get)
        self.root, self.train = str(root), train
        self.transform, self.target_transform = transform, target_transform
        folders = [self.root, os.path.join(self.root, "cifar-100-binary")]
        path = find_file("CIFAR100", folders, ["train.bin" if train else "test.bin"], self.where_to_get)
        labels, self.data = read_records(path, 2, [20, 100])
        self.coarse_targets, self.targets = labels[:, 0].copy(), labels[:, 1].copy()
        self.classes = self._names(os.path.dirname(path), "fine_label_names.txt", 100)
        self.coarse_classes = self._names(os.path.dirname(path), "coarse_label_names.txt", 20)

    @staticmethod
    def _names(folder, filename, count):
        path = os.path.join(folder, filename)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                names = [line.strip() for line in f if line.strip()]
            if len(names) == count:
                return names
        return [str(i) for i in range(count)]
