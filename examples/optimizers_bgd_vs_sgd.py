"""Batch gradient descent vs mini-batch SGD: the same optimizer, fed gradients of different batch sizes.

    python examples/optimizers_bgd_vs_sgd.py

``optim.SGD`` only sees a gradient. Computed on the whole data set it is batch gradient descent (one
exact, expensive step per epoch); on a mini-batch it is stochastic gradient descent (many cheap, noisy
steps per epoch). On this linear regression both reach the true weights; SGD gets there in fewer epochs,
then jitters around the minimum at the noise level of its batches.
"""
import numpy as np

import gradkit as gk
from gradkit import optim


def make_data(n=512, features=4, seed=0):
    gk.manual_seed(seed)
    true_w = gk.tensor([[1.5], [-2.0], [0.5], [3.0]])[:features]
    x = gk.randn(n, features)
    y = x @ true_w + 0.7 + 0.05 * gk.randn(n, 1)
    return x, y, true_w


def train(x, y, batch_size, epochs, lr, seed=0):
    """Fit y = x @ w + b with SGD on batches of ``batch_size`` rows; returns the full-data loss per epoch."""
    w = gk.zeros(x.shape[1], 1, requires_grad=True)
    b = gk.zeros(1, requires_grad=True)
    opt = optim.SGD([w, b], lr=lr)
    order = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        rows = order.permutation(x.shape[0])
        for start in range(0, x.shape[0], batch_size):
            batch = rows[start:start + batch_size]
            xb, yb = x[batch], y[batch]
            loss = ((xb @ w + b - yb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with gk.no_grad():
            history.append(((x @ w + b - y) ** 2).mean().item())
    return history, w, b


def main(epochs=30):
    x, y, true_w = make_data()
    runs = {"batch GD (512 rows/step)": train(x, y, batch_size=x.shape[0], epochs=epochs, lr=0.1),
            "mini-batch SGD (16 rows/step)": train(x, y, batch_size=16, epochs=epochs, lr=0.05)}
    for name, (history, w, b) in runs.items():
        print(f"{name:32s} loss after 1 epoch {history[0]:.5f}, after {epochs}: {history[-1]:.5f}; "
              f"w = {[round(float(v), 3) for v in w.detach().numpy().ravel()]}, b = {b.item():.3f}")
    print(f"{'true':32s} w = {[float(v) for v in true_w.numpy().ravel()]}, b = 0.7")
    return {name: history for name, (history, _, _) in runs.items()}


if __name__ == "__main__":
    main()
