import os

import numpy as np
import pytest

import gradkit as gk
from gradkit.serialization import CorruptFileError


def sample_state():
    return {"0.weight": gk.randn(4, 3), "0.bias": gk.zeros(4), "1.num_batches_tracked": gk.tensor(7), "scalar": gk.tensor(2.5),
            "mask": gk.tensor([True, False]), "double": gk.tensor(np.arange(3.0))}


def test_round_trip_keeps_values_dtypes_and_order(tmp_path):
    state = sample_state()
    path = tmp_path / "model.safetensors"
    gk.save(state, path, metadata={"epoch": 3})
    loaded, metadata = gk.serialization.load_with_metadata(path)
    assert list(loaded) == list(state)
    for key in state:
        assert loaded[key].dtype == state[key].dtype and loaded[key].shape == state[key].shape
        np.testing.assert_array_equal(loaded[key].numpy(), state[key].numpy())
    assert metadata == {"epoch": "3"}


def test_files_are_readable_by_the_safetensors_package_and_back(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file
    path = tmp_path / "ours.safetensors"
    gk.save(sample_state(), path)
    theirs = safetensors_numpy.load_file(str(path))
    np.testing.assert_array_equal(theirs["0.weight"], gk.load(path)["0.weight"].numpy())
    linear = torch.nn.Linear(3, 2)
    save_file(linear.state_dict(), str(tmp_path / "torch.safetensors"))
    loaded = gk.load(tmp_path / "torch.safetensors")
    np.testing.assert_array_equal(loaded["weight"].numpy(), linear.weight.detach().numpy())


def test_truncated_and_foreign_files_raise_naming_the_file(tmp_path):
    path = tmp_path / "model.safetensors"
    gk.save(sample_state(), path)
    raw = path.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[:-5])
    with pytest.raises(CorruptFileError, match="cut.safetensors.*truncated"):
        gk.load(tmp_path / "cut.safetensors")
    (tmp_path / "text.safetensors").write_bytes(b"hello world, not a tensor file")
    with pytest.raises(CorruptFileError, match="text.safetensors"):
        gk.load(tmp_path / "text.safetensors")
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        gk.load(tmp_path / "missing.safetensors")


def test_failed_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "model.safetensors"
    gk.save({"w": gk.ones(2)}, path)
    with pytest.raises(TypeError):
        gk.save({"w": gk.zeros(2), "bad": object()}, path)
    np.testing.assert_array_equal(gk.load(path)["w"].numpy(), [1.0, 1.0])
    assert [p for p in os.listdir(tmp_path) if p.startswith(".tmp")] == []
