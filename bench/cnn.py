"""CNN training step: conv(1->32,3,p1)-ReLU-maxpool2-conv(32->64,3,p1)-ReLU-maxpool2-Linear(3136,128)-
ReLU-Linear(128,10), batch 64 on 1x28x28, SGD with momentum; identical weights in both frameworks.
Also the inference latency at batch 1."""
import numpy as np

from bench.common import interleaved, row


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def run(rounds=30):
    import torch
    import gradkit as gk

    torch.manual_seed(0)
    theirs = _model(torch)
    ours = _model(gk)
    ours.load_state_dict(theirs.state_dict())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    single = x[:1].copy()

    def step(lib, model, opt, inputs, targets):
        loss = lib.nn.functional.cross_entropy(model(inputs), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()

    g_opt = gk.optim.SGD(ours.parameters(), lr=0.01, momentum=0.9)
    t_opt = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9)
    gx, gy, tx, ty = gk.tensor(x), gk.tensor(y), torch.tensor(x), torch.tensor(y)
    train = interleaved({"gradkit": lambda: step(gk, ours, g_opt, gx, gy),
                         "torch": lambda: step(torch, theirs, t_opt, tx, ty)}, rounds=rounds)

    def infer(lib, model, inputs):
        with lib.no_grad():
            model(inputs)

    ours.eval()
    theirs.eval()
    g1, t1 = gk.tensor(single), torch.tensor(single)
    latency = interleaved({"gradkit": lambda: infer(gk, ours, g1), "torch": lambda: infer(torch, theirs, t1)},
                          rounds=rounds * 3)
    return [row("CNN training step (batch 64)", train), row("CNN inference (batch 1)", latency)]
