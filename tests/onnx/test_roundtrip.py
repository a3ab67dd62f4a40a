"""Export -> onnxruntime and export -> gk.onnx.load round trips, one case per layer family, plus the
behaviour of export and load: dynamic batch, custom forwards, train/eval, errors, the docs page."""
import io
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import gradkit as gk  # noqa: E402
import gradkit.nn.functional as F  # noqa: E402
from gradkit import nn  # noqa: E402
from gradkit.autograd.grad_mode import state as grad_state  # noqa: E402
from gradkit.onnx import export, load  # noqa: E402


class Residual(nn.Module):
    """A custom forward of tensor ops: reshape, transpose, slicing, concat, reductions, arithmetic."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.scale = nn.Parameter(np.full((6,), 0.5, np.float32))

    def forward(self, x):
        y = self.fc(x) * self.scale + x
        z = gk.cat([y[:, :3], y[:, 3:].exp()], dim=1)
        w = z.reshape(z.shape[0], 2, 3).transpose(1, 2).mean(dim=2)
        return F.softmax(w, dim=-1) - w.sum(dim=1, keepdim=True) / 2 + gk.sqrt(x.abs() + 1)[:, None, 1:4].sum(1)


def _seq(*layers):
    return lambda: nn.Sequential(*layers)


# name: (model factory, input shape, opset)
CASES = {
    "linear": (_seq(nn.Linear(7, 5), nn.ReLU(), nn.Linear(5, 3)), (4, 7), 17),
    "linear_3d": (_seq(nn.Linear(7, 5)), (2, 3, 7), 17),
    "conv2d": (_seq(nn.Conv2d(3, 6, 3, stride=2, padding=1, dilation=1), nn.Conv2d(6, 6, 3, groups=3,
                                                                                   dilation=2, padding="same")),
               (2, 3, 11, 9), 17),
    "conv1d": (_seq(nn.Conv1d(3, 4, 5, padding=2), nn.Conv1d(4, 2, 3, stride=2)), (2, 3, 13), 17),
    "conv_transpose": (_seq(nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)), (2, 4, 5, 6), 17),
    "pooling": (_seq(nn.MaxPool2d(3, stride=2, padding=1), nn.AvgPool2d(2, ceil_mode=True),
                     nn.AdaptiveAvgPool2d(1)), (2, 3, 13, 11), 17),
    "pooling_1d": (_seq(nn.MaxPool1d(2), nn.AvgPool1d(3, stride=1, padding=1, count_include_pad=False),
                        nn.AdaptiveMaxPool1d(1)), (2, 3, 12), 17),
    "upsample_nearest": (_seq(nn.Upsample(scale_factor=2)), (1, 2, 3, 4), 17),
    "upsample_bilinear": (_seq(nn.Upsample(scale_factor=2, mode="bilinear"),
                               nn.UpsamplingBilinear2d(scale_factor=2)), (1, 2, 3, 4), 17),
    "batch_norm": (_seq(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.BatchNorm1d(4 * 25)),
                   (3, 3, 7, 7), 17),
    "group_norm": (_seq(nn.GroupNorm(2, 6)), (2, 6, 4, 5), 17),
    "group_norm_21": (_seq(nn.GroupNorm(3, 6)), (2, 6, 4, 5), 21),
    "layer_norm": (_seq(nn.LayerNorm((4, 5))), (2, 3, 4, 5), 17),
    "instance_norm": (_seq(nn.InstanceNorm2d(3, affine=True)), (2, 3, 5, 4), 17),
    "local_response_norm": (_seq(nn.LocalResponseNorm(3)), (2, 5, 4, 4), 17),
    "activations": (_seq(nn.LeakyReLU(0.2), nn.ELU(0.7), nn.SELU(), nn.CELU(1.3), nn.Hardsigmoid(),
                         nn.Hardswish(), nn.Softplus(), nn.Softsign(), nn.Tanh(), nn.Sigmoid(), nn.SiLU(),
                         nn.Mish(), nn.ReLU6(), nn.Hardtanh(-0.5, 0.5)), (3, 8), 17),
    "gelu": (_seq(nn.GELU(), nn.GELU(approximate="tanh")), (3, 8), 17),
    "gelu_20": (_seq(nn.GELU(), nn.GELU(approximate="tanh")), (3, 8), 20),
    "prelu": (_seq(nn.Conv2d(2, 3, 1), nn.PReLU(3)), (2, 2, 3, 3), 17),
    "softmax": (_seq(nn.Softmax(dim=1), nn.LogSoftmax(dim=-1)), (3, 4, 5), 17),
    "flatten_dropout": (_seq(nn.Dropout2d(), nn.Dropout(0.5), nn.Flatten(), nn.Identity()), (2, 3, 4, 2), 17),
    "custom_forward": (Residual, (4, 6), 17),
}


def _export(model, x, **kwargs):
    buffer = io.BytesIO()
    proto = export(model, x, buffer, input_names=["x"], output_names=["y"], **kwargs)
    return proto, buffer.getvalue()


@pytest.mark.parametrize("name", sorted(CASES))
def test_roundtrip(name):
    factory, shape, opset = CASES[name]
    gk.manual_seed(0)
    model = factory()
    for parameter in model.parameters():  # leave the default initialisation's symmetries
        parameter.data[...] = np.random.default_rng(1).uniform(-1, 1, parameter.shape)
    for buffer_name, buffer in model.named_buffers():
        if buffer_name.endswith("running_var"):
            buffer.data[...] = np.random.default_rng(2).uniform(0.5, 2, buffer.shape)
        elif buffer_name.endswith("running_mean"):
            buffer.data[...] = np.random.default_rng(3).uniform(-1, 1, buffer.shape)
    x = gk.tensor(np.random.default_rng(4).standard_normal(shape).astype(np.float32))
    model.train()
    proto, data = _export(model, x, opset_version=opset)
    assert model.training, "export restores the model's mode"
    model.eval()
    expected = model(x).detach().numpy()
    runtime = ort.InferenceSession(data).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(runtime, expected, rtol=1e-5, atol=1e-5)
    imported = load(proto).eval()
    np.testing.assert_allclose(imported(x).detach().numpy(), expected, rtol=1e-5, atol=1e-5)


def test_exported_file_passes_full_check_and_dynamic_batch(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 3))
    path = tmp_path / "model.onnx"
    export(model, gk.randn(2, 1, 8, 8), path, input_names=["image"], output_names=["logits"],
           dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path))
    model.eval()
    for batch in (1, 5):
        x = gk.randn(batch, 1, 8, 8)
        out = session.run(None, {"image": x.numpy()})[0]
        np.testing.assert_allclose(out, model(x).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert [f.name for f in os.scandir(tmp_path)] == ["model.onnx"], "no temporary file is left behind"


def test_dynamic_batch_through_a_custom_reshape():
    model = Residual()
    _, data = _export(model, gk.randn(3, 6), dynamic_axes={"x": [0], "y": [0]})
    x = gk.randn(7, 6)
    out = ort.InferenceSession(data).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(out, model(x).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_export_names_an_op_without_mapping():
    class Cumulative(nn.Module):
        def forward(self, x):
            return gk.cumsum(x, dim=1)
    with pytest.raises(NotImplementedError, match="Cumsum"):
        _export(Cumulative(), gk.randn(2, 3))


def test_ops_recording_no_graph_are_traced_too():
    # Under the exporter's no_grad, arithmetic, unary math and pooling skip Function.apply unless tracing:
    # a custom forward's ops must reach the trace, not be baked in as constants of the example input.
    class Arithmetic(nn.Module):
        def forward(self, x):
            return (x * 2 + 1).tanh() - x / 3

    _, data = _export(Arithmetic(), gk.randn(2, 3))
    x = gk.randn(2, 3)
    np.testing.assert_allclose(ort.InferenceSession(data).run(None, {"x": x.numpy()})[0],
                               Arithmetic()(x).numpy(), rtol=1e-5, atol=1e-6)

    class Pooling(nn.Module):
        def forward(self, x):
            return F.max_pool2d(x, 2)

    with pytest.raises(NotImplementedError, match="MaxPool"):
        _export(Pooling(), gk.randn(1, 1, 4, 4))
    assert not grad_state.tracing


def test_export_restores_hooks_after_an_error():
    from gradkit.autograd.function import Function
    apply, call = Function.__dict__["apply"], nn.Module.__dict__["__call__"]

    class Broken(nn.Module):
        def forward(self, x):
            return gk.cumsum(x, dim=0)
    with pytest.raises(NotImplementedError):
        _export(Broken(), gk.randn(2))
    assert Function.__dict__["apply"] is apply and nn.Module.__dict__["__call__"] is call


def test_imported_model_trains_like_native_layers():
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Dropout(0.5), nn.Flatten(),
                          nn.Linear(3 * 9, 2))
    proto, _ = _export(model, gk.randn(4, 2, 5, 5))
    imported = load(proto)
    names = dict(imported.named_buffers())
    assert set(names) == {"_1_running_mean", "_1_running_var"}
    assert imported.onnx_names["_0_weight"] == "0.weight"
    x = gk.randn(8, 2, 5, 5)
    imported.eval()
    first = imported(x).detach().numpy()
    np.testing.assert_array_equal(first, imported(x).detach().numpy())
    imported.train()
    before = names["_1_running_mean"].numpy().copy()
    imported(x)
    assert not np.allclose(before, names["_1_running_mean"].numpy()), "training updates running statistics"
    # In training mode the same module as a native one gives the same batch-statistics output (no dropout).
    model.train()
    model[3].p = 0.0
    imported_no_dropout = load(_export(model, x)[0])
    imported_no_dropout.train()
    model.load_state_dict(model.state_dict())
    np.testing.assert_allclose(imported_no_dropout(x).detach().numpy(), model(x).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_imported_parameters_get_gradients_and_sgd_lowers_the_loss():
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    imported = load(_export(model, gk.randn(2, 4))[0])
    x, target = gk.randn(32, 4), gk.randn(32, 1)
    optimizer = gk.optim.SGD(imported.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        loss = F.mse_loss(imported(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def _graph_model(node, inputs, outputs):
    graph = onnx.helper.make_graph([node], "g", inputs, outputs)
    return onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])


def test_load_reports_every_unsupported_operator_at_once():
    value = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Relu", ["x"], ["a"]), onnx.helper.make_node("Einsum", ["a"], ["b"], name="mix"),
         onnx.helper.make_node("TopK", ["b"], ["c"], name="top")], "g",
        [value("x", onnx.TensorProto.FLOAT, [2])], [value("c", onnx.TensorProto.FLOAT, [2])])
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    with pytest.raises(NotImplementedError, match=r"Einsum \(node 'mix'\).*TopK \(node 'top'\)"):
        load(model)


def test_load_names_a_corrupt_or_missing_file(tmp_path):
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07garbage that is not a protobuf \xff\xff\xff")
    with pytest.raises(ValueError, match="corrupt.onnx"):
        load(corrupt)
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        load(tmp_path / "missing.onnx")


def test_docs_page_is_generated_from_the_code():
    from gradkit.onnx.docs import operator_table
    path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "onnx_operators.md")
    with open(path, encoding="utf-8") as page:
        assert page.read() == operator_table(), "run python -m gradkit.onnx.docs"
