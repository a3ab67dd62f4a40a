"""The model ``gradkit train`` trains by default, on its data's shape: two blocks of (conv3x3-BN-ReLU)
x 2 + max-pool (32 and 64 channels), global average pool, dropout, linear; batch 64 of 1x8x8 digits,
Adam. gradkit's model is the CLI's own builder with its default configuration; PyTorch's mirrors it
(loading PyTorch's weights into it checks that the two match). Small images: this step is made of
many small array passes, where per-op and per-pass overheads count. Also the inference latency at
batch 1."""
from bench.common import compare_model


def _model(lib):
    import gradkit
    if lib is gradkit:
        from gradkit.cli.build import build_model
        from gradkit.cli.config import defaults
        return build_model(defaults()["model"], (1, 8, 8), 10)
    nn, layers, channels_in = lib.nn, [], 1
    for channels in (32, 64):
        for _ in range(2):
            layers += [nn.Conv2d(channels_in, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU()]
            channels_in = channels
        layers.append(nn.MaxPool2d(2))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.25), nn.Linear(channels_in, 10)]
    return nn.Sequential(*layers)


def _adam(lib, parameters):
    return lib.optim.Adam(parameters, lr=3e-3)


def run(rounds=10):
    return compare_model("CLI digits CNN", _model, (1, 8, 8), 64, rounds, optimizer=_adam)
