"""A ResNet-style net on 3x32x32, batch 32: stem conv-BN-ReLU (32), a residual block of two 3x3
conv-BN, a stride-2 conv to 64, another residual block, global average pool, Linear; one training
step with SGD + momentum, identical weights. Also the inference latency at batch 1."""
import numpy as np

from bench.common import interleaved, row


def build(lib):
    nn = lib.nn

    class Residual(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.relu = nn.ReLU()

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + x)

    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), Residual(32),
        nn.Conv2d(32, 64, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), Residual(64),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def run(rounds=30):
    import torch
    import gradkit as gk

    torch.manual_seed(0)
    theirs, ours = build(torch), build(gk)
    ours.load_state_dict(theirs.state_dict())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 32)

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
    g1, t1 = gk.tensor(x[:1]), torch.tensor(x[:1])
    latency = interleaved({"gradkit": lambda: infer(gk, ours, g1), "torch": lambda: infer(torch, theirs, t1)},
                          rounds=rounds * 3)
    return [row("ResNet-style training step (batch 32)", train), row("ResNet-style inference (batch 1)", latency)]
