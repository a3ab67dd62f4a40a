"""Data augmentation on a small CNN: the same network trained on the digits with and without random
shifts and rotations of the training images, compared on the same untouched test images.

    python examples/cnn_augmentation.py        (needs scikit-learn, which ships the digits)

Augmentation shows the network a slightly different image every epoch, so it cannot memorise the
training images pixel by pixel: its training accuracy stays lower. Whether the test accuracy gains
depends on the data. These digits were already centred and size-normalised when they were scanned,
so a network with batch norm and dropout loses little without augmentation and the two end close;
on photographs (CIFAR-10), where objects sit anywhere in the frame, random crops are worth several
points of accuracy.
"""
import os

import gradkit as gk
from gradkit import nn, optim
from gradkit.data import DataLoader, Subset, stratified_split
from gradkit.data import transforms as T
from gradkit.data.datasets import Digits
from gradkit.train import Trainer

QUICK = os.environ.get("GRADKIT_EXAMPLE_QUICK") == "1"  # the tests run every example in a few seconds


def make_cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 2 * 2, 10))


def train_and_test(augment, epochs):
    gk.manual_seed(0)
    # Two views of the same images: augmented ones for training, plain ones for testing.
    plain = Digits()
    augmented = Digits(transform=T.Compose([T.RandomCrop(8, padding=1), T.RandomRotation(10, interpolation="bilinear")]))
    train, _, test = stratified_split(plain, (0.8, 0.0, 0.2), generator=gk.Generator(0))
    train_set = Subset(augmented, train.indices) if augment else train
    model = make_cnn()
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=3e-3), nn.CrossEntropyLoss(), seed=0,
                      progress=False)
    history = trainer.fit(DataLoader(train_set, batch_size=64, shuffle=True), epochs=epochs).history
    return history["accuracy"][-1], trainer.evaluate(DataLoader(test, batch_size=512))["accuracy"]


def main(epochs=2 if QUICK else 20):
    results = {}
    for augment in (False, True):
        name = "with augmentation" if augment else "without augmentation"
        train_accuracy, test_accuracy = results[name] = train_and_test(augment, epochs)
        print(f"{name:22s}  train accuracy {train_accuracy:.3f}  test accuracy {test_accuracy:.3f}  "
              f"({epochs} epochs)")
    return results


if __name__ == "__main__":
    main()
