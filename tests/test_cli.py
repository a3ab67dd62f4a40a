"""The gradkit command: a short default run, config errors, resume after kill -9, corrupt checkpoints."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import gradkit as gk
from gradkit.cli import main

pytest.importorskip("sklearn")
QUIET = ["--set", "callbacks.progress=false"]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "gradkit.cli", *args], capture_output=True, text=True, timeout=300)


def test_default_run_writes_the_whole_run_folder(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--set", "epochs=2", *QUIET]) == 0
    for name in ("config.toml", "best.safetensors", "last.ckpt", "metrics.csv", "metrics.json", "summary.txt"):
        assert (out / name).exists(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["epochs_run"] == 2
    assert "Total params" in (out / "summary.txt").read_text()
    assert main(["evaluate", str(out)]) == 0


def test_config_errors_are_reported_together_with_exit_status_2(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text('epochs = -3\nbatchsize = 4\n[optimizer]\nname = "adamm"\nlr = "fast"\n')
    assert main(["train", str(config), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    for fragment in ("epochs: must be > 0", "batchsize: unknown key (did you mean batch_size?)",
                     "optimizer.name: must be one of", "optimizer.lr: expected float, got str"):
        assert fragment in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_resume_after_kill_gives_the_same_final_weights(tmp_path):
    common = ["--set", "epochs=6", "--set", "callbacks.early_stopping=false", *QUIET]
    assert run_cli("train", "--out", str(tmp_path / "full"), *common).returncode == 0
    process = subprocess.Popen([sys.executable, "-m", "gradkit.cli", "train", "--out", str(tmp_path / "cut"), *common],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = tmp_path / "cut" / "last.ckpt"
    deadline = time.time() + 240
    while not checkpoint.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert checkpoint.exists()
    resumed = run_cli("train", "--resume", str(tmp_path / "cut"))
    assert resumed.returncode == 0, resumed.stderr
    full = gk.serialization.load(tmp_path / "full" / "last.ckpt")
    cut = gk.serialization.load(checkpoint)
    weights = [k for k in full if k.startswith("/model/")]
    assert weights
    for key in weights:
        np.testing.assert_array_equal(full[key].numpy(), cut[key].numpy(), err_msg=key)


def test_corrupt_checkpoint_is_named(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--set", "epochs=1", *QUIET]) == 0
    data = (out / "last.ckpt").read_bytes()
    (out / "last.ckpt").write_bytes(data[: len(data) // 2])
    assert main(["train", "--resume", str(out)]) == 1
    assert "last.ckpt" in capsys.readouterr().err


def test_config_reference_is_generated_from_the_schema():
    from pathlib import Path
    from gradkit.cli.config import schema_markdown
    assert (Path(__file__).parent.parent / "docs" / "config.md").read_text() == schema_markdown()
