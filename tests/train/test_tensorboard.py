"""TensorBoardLogger: the event files, read back with TensorBoard's own reader, hold the Trainer's history."""
import numpy as np
import pytest

from gradkit.train import TensorBoardLogger
from tests.train.test_trainer import Batches, make_trainer, problem

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


def read_scalars(log_dir):
    """{tag: [(step, value), ...]} as TensorBoard shows it (all event files of the folder, purges applied)."""
    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_epoch_and_step_scalars_equal_the_history(tmp_path):
    x, y = problem()
    logger = TensorBoardLogger(tmp_path / "tb", log_every_n_steps=2)
    trainer = make_trainer(callbacks=[logger])
    history = trainer.fit(Batches(x, y, 16), Batches(x, y, 32, shuffle=False), epochs=3).history
    scalars = read_scalars(tmp_path / "tb")

    steps_per_epoch = 6
    for name, tag in (("loss", "train/loss"), ("accuracy", "train/accuracy"), ("val_loss", "val/loss"),
                      ("val_accuracy", "val/accuracy"), ("lr", "epoch/lr")):
        steps, values = zip(*scalars[tag])
        assert list(steps) == [steps_per_epoch * (e + 1) for e in range(3)], tag
        np.testing.assert_allclose(values, history[name], rtol=1e-6, err_msg=tag)  # stored as float32
    assert [v for _, v in scalars["epoch/epoch"]] == [1, 2, 3]
    assert [s for s, _ in scalars["step/loss"]] == list(range(2, 19, 2))
    assert [v for _, v in scalars["step/lr"]] == pytest.approx([0.05] * 9)
    # The per-step means over an epoch's batches average to about the epoch loss (batches are equal-sized).
    first_epoch = [v for s, v in scalars["step/loss"] if s <= steps_per_epoch]
    assert np.mean(first_epoch) == pytest.approx(history["loss"][0], rel=1e-5)
    assert logger._writer is None  # closed at fit end


def test_resume_drops_the_points_written_after_the_checkpoint(tmp_path):
    x, y = problem()
    log_dir, checkpoint = tmp_path / "tb", tmp_path / "epoch2.ckpt"
    killed = make_trainer(callbacks=[TensorBoardLogger(log_dir, log_every_n_steps=1)])
    killed.fit(Batches(x, y, 16), Batches(x, y, 32, shuffle=False), epochs=2)
    killed.save_checkpoint(checkpoint)
    # A third epoch whose checkpoint never got written, as if the process was killed during it.
    killed.fit(Batches(x, y, 16), Batches(x, y, 32, shuffle=False), epochs=3)

    resumed = make_trainer(callbacks=[TensorBoardLogger(log_dir, log_every_n_steps=1)])
    history = resumed.fit(Batches(x, y, 16), Batches(x, y, 32, shuffle=False), epochs=4,
                          resume_from=checkpoint).history
    scalars = read_scalars(log_dir)
    assert [s for s, _ in scalars["val/loss"]] == [6, 12, 18, 24]
    np.testing.assert_allclose([v for _, v in scalars["val/loss"]], history["val_loss"], rtol=1e-6)
    assert [s for s, _ in scalars["step/loss"]] == list(range(1, 25))


def test_bad_interval_is_rejected():
    with pytest.raises(ValueError, match="log_every_n_steps"):
        TensorBoardLogger("unused", log_every_n_steps=0)


def test_missing_package_names_it(monkeypatch, tmp_path):
    import builtins
    real_import = builtins.__import__

    def without_tensorboard(name, *args, **kwargs):
        if name.startswith("tensorboard"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_tensorboard)
    x, y = problem(32)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        make_trainer(callbacks=[TensorBoardLogger(tmp_path)]).fit(Batches(x, y, 16), epochs=1)
