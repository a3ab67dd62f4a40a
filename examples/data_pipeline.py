"""Load the bundled Digits, split it by class, augment the training part and batch it with workers.

    python examples/data_pipeline.py        (needs scikit-learn, which ships the digits)
"""
import numpy as np

import gradkit as gk
from gradkit.data import DataLoader, Subset, stratified_split
from gradkit.data import transforms as T
from gradkit.data.datasets import Digits


class Transformed(Subset):
    """A split with its own transform: augmentation for training, none for evaluation."""

    def __init__(self, subset, transform):
        super().__init__(subset.dataset, subset.indices)
        self.transform = transform

    def __getitem__(self, index):
        image, label = super().__getitem__(index)
        return self.transform(image), label


def main(num_workers=2):
    gk.manual_seed(0)
    digits = Digits()
    train, val, test = stratified_split(digits, (0.8, 0.1, 0.1))
    print("split sizes", len(train), len(val), len(test))
    print("validation class counts", np.bincount(digits.targets[val.indices]).tolist())

    # Statistics from the training images only, so nothing leaks from validation or test.
    scaler = T.Standardize(axis=(0, 1, 2, 3)).fit(digits.data[train.indices])
    augment = T.Compose([T.RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1),
                                        interpolation="bilinear"), scaler])
    train_loader = DataLoader(Transformed(train, augment), batch_size=64, shuffle=True, num_workers=num_workers)
    val_loader = DataLoader(Transformed(val, scaler), batch_size=256)

    for epoch in range(2):
        batches = sum(1 for _ in train_loader)
        print(f"epoch {epoch}: {batches} training batches of up to 64 images")
    images, labels = next(iter(val_loader))
    print("validation batch", tuple(images.shape), images.dtype, "labels", tuple(labels.shape), labels.dtype)
    print(f"validation mean {images.numpy().mean():+.3f}, std {images.numpy().std():.3f} (training statistics)")
    return len(train), len(val), len(test)


if __name__ == "__main__":
    main()
