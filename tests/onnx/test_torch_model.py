"""A small BatchNorm CNN exported by PyTorch's own exporter: gradkit imports it, reproduces PyTorch's
outputs, and fine-tunes it."""
import io

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")

import gradkit as gk  # noqa: E402
import gradkit.nn.functional as F  # noqa: E402
from gradkit.onnx import load  # noqa: E402


def _torch_cnn():
    torch.manual_seed(0)
    tnn = torch.nn
    model = tnn.Sequential(tnn.Conv2d(1, 6, 3, padding=1), tnn.BatchNorm2d(6), tnn.ReLU(), tnn.MaxPool2d(2),
                           tnn.Conv2d(6, 8, 3, stride=2, padding=1, bias=False), tnn.BatchNorm2d(8), tnn.ReLU(),
                           tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Dropout(0.2), tnn.Linear(8, 4))
    with torch.no_grad():  # running statistics that are not the identity
        for module in model:
            if isinstance(module, tnn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return model.eval()


def _export_with_torch(model, x):
    buffer = io.BytesIO()
    try:
        torch.onnx.export(model, (x,), buffer, input_names=["x"], output_names=["y"], opset_version=17,
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False,
                          do_constant_folding=False)  # folding would merge each BatchNorm into its Conv
    except Exception as error:  # an exporter that needs packages or network this machine lacks
        pytest.skip(f"torch.onnx.export is unavailable here: {error}")
    return onnx.load_from_string(buffer.getvalue())


@pytest.fixture(scope="module")
def exported():
    model = _torch_cnn()
    return model, _export_with_torch(model, torch.randn(2, 1, 12, 12))


def test_reproduces_pytorch_outputs(exported):
    model, proto = exported
    imported = load(proto).eval()
    x = np.random.default_rng(0).standard_normal((5, 1, 12, 12)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.tensor(x)).numpy()
    np.testing.assert_allclose(imported(gk.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-5)


def test_fine_tunes(exported):
    _, proto = exported
    imported = load(proto).train()
    rng = np.random.default_rng(1)
    x = gk.tensor(rng.standard_normal((16, 1, 12, 12)).astype(np.float32))
    target = gk.tensor(rng.integers(0, 4, 16))
    assert [n.op_type for n in proto.graph.node].count("BatchNormalization") == 2
    assert len(list(imported.parameters())) == 9  # conv, BatchNorm and linear weights and biases (one conv has none)
    assert len([name for name, _ in imported.named_buffers() if "running" in name]) == 4
    optimizer = gk.optim.SGD(imported.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(6):
        loss = F.cross_entropy(imported(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
