"""Per-op Python overhead: 1,000 small element-wise ops and their backward, gradkit vs PyTorch."""
import numpy as np

from bench.common import interleaved, row


def run(rounds=10):
    import torch
    import gradkit as gk

    data = np.random.default_rng(0).standard_normal(16).astype(np.float32)

    def chain(x, ones):
        y = x
        for _ in range(250):
            y = (y * 1.001 + 0.001).tanh() - 0.0001
        y.backward(ones)

    gx, gones = gk.tensor(data, requires_grad=True), gk.ones(16)
    tx, tones = torch.tensor(data, requires_grad=True), torch.ones(16)
    medians = interleaved({"gradkit": lambda: chain(gx, gones), "torch": lambda: chain(tx, tones)}, rounds=rounds)
    return [row("1000 small ops + backward", medians)]
