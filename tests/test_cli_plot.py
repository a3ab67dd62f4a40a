"""gradkit plot: activations, schedules and a run's curves are drawn; bad names and folders are errors."""
import pytest

from gradkit.cli import main

pytest.importorskip("matplotlib")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    assert path.exists(), path
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path


def test_activations_sheet(tmp_path):
    assert main(["plot", "activations", str(tmp_path / "all.png")]) == 0
    assert_png(tmp_path / "all.png")
    assert main(["plot", "activations", str(tmp_path / "two.png"), "relu", "gelu"]) == 0
    assert_png(tmp_path / "two.png")


@pytest.mark.parametrize("args", [
    ["cosine", "--set", "warmup_epochs=5"],                       # a schedule of `gradkit train`
    ["step", "--set", "scheduler.step_size=3", "--steps", "12"],
    ["onecycle", "--lr", "0.01"],
    ["CosineAnnealingLR", "--set", "eta_min=0.001"],              # T_max is taken from --steps
    ["MultiStepLR", "--set", "milestones=[30, 60]", "--set", "gamma=0.5"],
    ["OneCycleLR", "--steps", "50"],
    ["PolynomialDecay", "--set", "power=2"],
])
def test_schedule_curves(tmp_path, args, capsys):
    out = tmp_path / "schedule.png"
    assert main(["plot", "schedule", args[0], str(out), *args[1:]]) == 0
    assert_png(out)
    assert str(out) in capsys.readouterr().out


def write_run(run_dir):
    run_dir.mkdir()
    # Epoch 2 twice: written by a run killed before its checkpoint, then again after the resume.
    (run_dir / "metrics.csv").write_text(
        "epoch,loss,accuracy,val_loss,val_accuracy,lr\n"
        "1,2.0,0.3,1.9,0.35,0.003\n"
        "2,9.9,0.0,9.9,0.0,0.002\n"
        "2,1.5,0.5,1.4,0.55,0.002\n"
        "3,1.0,0.7,1.1,0.65,0.001\n")


def test_run_curves_are_redrawn(tmp_path, capsys):
    write_run(tmp_path / "run")
    assert main(["plot", "run", str(tmp_path / "run")]) == 0
    assert_png(tmp_path / "run" / "curves.png")
    assert_png(tmp_path / "run" / "lr.png")
    assert "3 epochs" in capsys.readouterr().out


def test_metrics_keep_the_last_row_of_each_epoch(tmp_path):
    from gradkit.cli.commands import _read_metrics
    write_run(tmp_path / "run")
    history = _read_metrics(str(tmp_path / "run" / "metrics.csv"))
    assert history["loss"] == [2.0, 1.5, 1.0] and history["lr"] == [0.003, 0.002, 0.001]


@pytest.mark.parametrize("args, status, message", [
    (["activations", "OUT", "rleu"], 2, "unknown activation 'rleu' (did you mean relu?"),
    (["schedule", "cosin", "OUT"], 2, "unknown schedule 'cosin' (did you mean cosine?"),
    (["schedule", "StepLR", "OUT", "--set", "gama=0.5"], 2, "StepLR has no option 'gama'"),
    (["schedule", "CyclicLR", "OUT"], 2, "CyclicLR: needs base_lr"),
    (["schedule", "ReduceLROnPlateau", "OUT"], 2, "follows a metric"),
    (["schedule", "cosine", "OUT", "--set", "gamma=fast"], 2, "scheduler.gamma: expected float"),
    (["schedule", "cosine", "OUT", "--steps", "0"], 2, "--steps: must be > 0"),
    (["run", "MISSING"], 1, "no such run folder"),
    (["run", "EMPTY"], 1, "metrics.csv: the run folder has no metrics yet"),
])
def test_errors_are_one_clear_line(tmp_path, capsys, args, status, message):
    (tmp_path / "EMPTY").mkdir()
    args = [str(tmp_path / a) if a in ("OUT", "MISSING", "EMPTY") else a for a in args]
    assert main(["plot", *args]) == status
    err = capsys.readouterr().err
    assert message in err and err.startswith("gradkit plot: ")
    assert "Traceback" not in err
    assert not (tmp_path / "OUT").exists()
