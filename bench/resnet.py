"""A ResNet-style net on 3x32x32, batch 32: stem conv-BN-ReLU (32), a residual block of two 3x3
conv-BN, a stride-2 conv to 64, another residual block, global average pool, Linear; one training
step with SGD + momentum, identical weights. Also the inference latency at batch 1."""
from bench.common import compare_model


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


def run(rounds=10):
    return compare_model("ResNet-style", build, (3, 32, 32), 32, rounds)
