"""gradkit export RUN_DIR model.onnx, and fine-tuning the exported model with gradkit train."""
import numpy as np
import pytest

import gradkit as gk
from gradkit.cli import main
from gradkit.cli.build import parameter_layers

pytest.importorskip("sklearn")
onnxruntime = pytest.importorskip("onnxruntime")
QUIET = ["--set", "callbacks.progress=false"]


def test_export_then_fine_tune_only_the_last_layer(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--set", "epochs=1", *QUIET]) == 0
    path = tmp_path / "model.onnx"
    assert main(["export", str(run), str(path)]) == 0
    model = gk.onnx.load(str(path))
    x = np.random.default_rng(0).random((5, 1, 8, 8)).astype(np.float32)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    np.testing.assert_allclose(model(gk.tensor(x)).detach().numpy(), session.run(None, {"input": x})[0], rtol=1e-4, atol=1e-5)

    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    fine = tmp_path / "fine"
    assert main(["train", "--out", str(fine), "--set", "epochs=1", "--set", "model.name='onnx'",
                 "--set", f"model.path='{path}'", "--set", "model.trainable_layers=1", *QUIET]) == 0
    model.load_state_dict(gk.load(fine / "best.safetensors"))
    layers = parameter_layers(model)
    last = {id(p) for p in layers[-1]}
    names = {id(v): k for k, v in model.named_parameters()}
    for p in (p for layer in layers for p in layer):
        changed = not np.array_equal(p.detach().numpy(), before[names[id(p)]])
        assert changed == (id(p) in last), names[id(p)]
