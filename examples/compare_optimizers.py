"""Seven optimizers on the same network, data and seed: SGD, SGD with momentum, Nesterov, Adagrad,
RMSprop, Adam and AdamW, each at a learning rate that suits it.

    python examples/compare_optimizers.py        (needs scikit-learn and matplotlib)

Prints the final losses in a table and draws the training-loss curves to compare_optimizers.png.
Only the optimizer changes between runs: the initial weights and the order of the batches are the
same, so the curves differ by the update rule alone.
"""
import os

import gradkit as gk
from gradkit import nn, optim
from gradkit.data import DataLoader, stratified_split
from gradkit.data.datasets import Digits
from gradkit.train import Trainer

QUICK = os.environ.get("GRADKIT_EXAMPLE_QUICK") == "1"  # the tests run every example in a few seconds

# Adaptive methods divide by a running gradient scale, so they want rates 10-100x smaller than SGD's.
OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.1),
    "SGD + momentum": lambda p: optim.SGD(p, lr=0.02, momentum=0.9),
    "Nesterov": lambda p: optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.05),
    "RMSprop": lambda p: optim.RMSprop(p, lr=1e-3),
    "Adam": lambda p: optim.Adam(p, lr=2e-3),
    "AdamW": lambda p: optim.AdamW(p, lr=2e-3, weight_decay=0.05),
}


def run(make_optimizer, train_loader, test_loader, epochs):
    gk.manual_seed(0)  # the same initial weights for every optimizer
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))
    trainer = Trainer(model, make_optimizer(model.parameters()), nn.CrossEntropyLoss(), seed=0, progress=False)
    losses = trainer.fit(train_loader, epochs=epochs).history["loss"]
    return losses, trainer.evaluate(test_loader)


def plot(curves, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, losses in curves.items():
        # Dashed for the variants that nearly coincide with the line before them (Nesterov, AdamW).
        style = "--" if name in ("Nesterov", "AdamW") else "-"
        ax.plot(range(1, len(losses) + 1), losses, style, marker="o", ms=2.5, label=name)
    ax.set_yscale("log")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set(xlabel="epoch", ylabel="training loss (log scale)", title="one network, seven optimizers")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main(epochs=3 if QUICK else 20, out="compare_optimizers.png"):
    digits = Digits()
    train, test = stratified_split(digits, (0.8, 0.2), generator=gk.Generator(0))
    train_loader, test_loader = DataLoader(train, batch_size=64, shuffle=True), DataLoader(test, batch_size=512)
    print(f"{'optimizer':16s} {'final train loss':>16s} {'test loss':>10s} {'test accuracy':>14s}")
    curves = {}
    for name, make_optimizer in OPTIMIZERS.items():
        curves[name], test_result = run(make_optimizer, train_loader, test_loader, epochs)
        print(f"{name:16s} {curves[name][-1]:16.4f} {test_result['loss']:10.4f} {test_result['accuracy']:14.3f}")
    plot(curves, out)
    print(f"loss curves of {epochs} epochs -> {out}")
    return curves


if __name__ == "__main__":
    main()
