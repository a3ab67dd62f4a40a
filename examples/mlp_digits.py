"""Train a multilayer perceptron on the bundled 8x8 digits with a DataLoader and the Trainer.

    python examples/mlp_digits.py        (needs scikit-learn, which ships the digits)

The Trainer runs the loop a hand-written one would (train mode, forward, loss, backward, step; eval
mode and no_grad for validation) and prints one line per epoch.
"""
import os

import gradkit as gk
from gradkit import nn, optim
from gradkit.data import DataLoader, stratified_split
from gradkit.data.datasets import Digits
from gradkit.train import EarlyStopping, Trainer

QUICK = os.environ.get("GRADKIT_EXAMPLE_QUICK") == "1"  # the tests run every example in a few seconds


def main(epochs=2 if QUICK else 15):
    gk.manual_seed(0)
    digits = Digits()
    # Stratified: each split keeps the one-in-ten share of every digit.
    train, val, test = stratified_split(digits, (0.8, 0.1, 0.1), generator=gk.Generator(0))
    train_loader = DataLoader(train, batch_size=64, shuffle=True)
    val_loader, test_loader = DataLoader(val, batch_size=256), DataLoader(test, batch_size=256)
    print(f"digits: {len(train)} train / {len(val)} validation / {len(test)} test images of 8x8 pixels")

    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=3e-3), nn.CrossEntropyLoss(), metrics=["accuracy"],
                      callbacks=[EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)], seed=0)
    trainer.fit(train_loader, val_loader, epochs=epochs)
    result = trainer.evaluate(test_loader)
    print(f"test accuracy {result['accuracy']:.3f}  (test loss {result['loss']:.3f}, "
          f"{sum(p.numel() for p in model.parameters())} parameters)")
    return result["accuracy"]


if __name__ == "__main__":
    main()
