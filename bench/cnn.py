"""CNN training step: conv(1->32,3,p1)-ReLU-maxpool2-conv(32->64,3,p1)-ReLU-maxpool2-Linear(3136,128)-
ReLU-Linear(128,10), batch 64 on 1x28x28, SGD with momentum; identical weights in both frameworks.
Also the inference latency at batch 1."""
from bench.common import compare_model


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def run(rounds=10):
    return compare_model("CNN", _model, (1, 28, 28), 64, rounds)
