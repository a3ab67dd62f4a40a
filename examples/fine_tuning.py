"""Transfer learning: train a CNN on the digits 0-4, freeze its convolutions, and fine-tune only a new
classifier head on the digits 5-9.

    python examples/fine_tuning.py        (needs scikit-learn, which ships the digits)

``requires_grad_(False)`` on the feature extractor means backward computes no gradient for it and the
optimizer, given only the head's parameters, has nothing to update there: the convolution weights
leave fine-tuning bit for bit as they came. (A frozen BatchNorm would still update its running
statistics in train mode; this network has none, otherwise put those layers in eval mode.)
"""
import os

import numpy as np

import gradkit as gk
from gradkit import nn, optim
from gradkit.data import DataLoader, TensorDataset, stratified_split
from gradkit.data.datasets import Digits
from gradkit.train import Trainer

QUICK = os.environ.get("GRADKIT_EXAMPLE_QUICK") == "1"  # the tests run every example in a few seconds


def digit_loaders(digits, classes):
    """Train and test loaders over the images of ``classes``, relabelled 0, 1, ... in that order."""
    keep = np.isin(digits.targets, classes)
    images, labels = digits.data[keep], np.searchsorted(classes, digits.targets[keep])
    train, test = stratified_split(labels, (0.8, 0.2), generator=gk.Generator(0))
    dataset = TensorDataset(gk.tensor(images), gk.tensor(labels))
    return (DataLoader(dataset, batch_size=64, sampler=train.indices),
            DataLoader(dataset, batch_size=512, sampler=test.indices))


def fit(model, parameters, loaders, epochs):
    trainer = Trainer(model, optim.Adam(parameters, lr=3e-3), nn.CrossEntropyLoss(), seed=0, progress=False)
    trainer.fit(loaders[0], epochs=epochs)
    return trainer.evaluate(loaders[1])["accuracy"]


def main(epochs=2 if QUICK else 15):
    gk.manual_seed(0)
    digits = Digits()
    features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
    model = nn.Sequential(features, nn.Linear(32 * 2 * 2, 5))
    accuracy = fit(model, model.parameters(), digit_loaders(digits, [0, 1, 2, 3, 4]), epochs)
    print(f"pre-training on digits 0-4: test accuracy {accuracy:.3f}")

    features.requires_grad_(False)
    head = nn.Linear(32 * 2 * 2, 5)
    model = nn.Sequential(features, head)
    before = {name: p.numpy().copy() for name, p in features.named_parameters()}
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    # The usual idiom: hand the optimizer whatever is still trainable.
    trainable_parameters = [p for p in model.parameters() if p.requires_grad]
    accuracy = fit(model, trainable_parameters, digit_loaders(digits, [5, 6, 7, 8, 9]), epochs)
    print(f"fine-tuning the head on digits 5-9: test accuracy {accuracy:.3f} "
          f"({trainable} trainable parameters, {frozen} frozen)")

    unchanged = all(np.array_equal(before[name], p.numpy()) for name, p in features.named_parameters())
    no_gradients = all(p.grad is None for p in features.parameters())
    print(f"frozen convolution weights unchanged: {unchanged}; gradients never computed for them: {no_gradients}")
    return accuracy, unchanged


if __name__ == "__main__":
    main()
