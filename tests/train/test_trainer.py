"""Trainer behaviour: callback order, early stopping, accumulation, clipping, determinism, resume."""
import csv

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.train import Trainer
from gradkit.train.callbacks import Callback, CSVLogger, EarlyStopping, ModelCheckpoint, TerminateOnNaN


class Batches:
    """A minimal loader: fixed batches, reshuffled each epoch from the framework generator."""

    def __init__(self, x, y, batch_size, shuffle=True):
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        order = gk.randperm(len(self.x)).numpy() if self.shuffle else np.arange(len(self.x))
        for i in range(0, len(order), self.batch_size):
            idx = order[i:i + self.batch_size]
            yield gk.tensor(self.x[idx]), gk.tensor(self.y[idx])


def problem(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)
    return x, y


def make_trainer(seed=0, callbacks=(), lr=0.05, **kwargs):
    gk.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"], callbacks=list(callbacks),
                   progress=False, seed=seed, **kwargs)


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_fit_learns_and_history_records_every_epoch():
    x, y = problem()
    trainer = make_trainer()
    history = trainer.fit(Batches(x, y, 16), Batches(x, y, 32, shuffle=False), epochs=15)
    assert len(history.history["loss"]) == 15 and len(history.history["val_accuracy"]) == 15
    assert history.history["loss"][-1] < history.history["loss"][0] * 0.6
    assert history.history["val_accuracy"][-1] > 0.8
    assert trainer.evaluate(Batches(x, y, 32, shuffle=False))["accuracy"] == pytest.approx(
        history.history["val_accuracy"][-1])


def test_callbacks_fire_in_order():
    events = []

    class Recorder(Callback):
        def __getattribute__(self, name):
            if name.startswith("on_"):
                return lambda trainer, *args: events.append(name)
            return object.__getattribute__(self, name)

    x, y = problem(32)
    make_trainer(callbacks=[Recorder()]).fit(Batches(x, y, 16), epochs=2)
    one_batch = ["on_batch_begin", "on_after_backward", "on_batch_end"]
    epoch = ["on_epoch_begin"] + one_batch * 2 + ["on_epoch_end"]
    assert events == ["on_fit_begin"] + epoch * 2 + ["on_fit_end"]


def test_seeded_runs_are_bitwise_identical():
    x, y = problem()
    a, b = make_trainer(seed=3), make_trainer(seed=3)
    a.fit(Batches(x, y, 16), epochs=4)
    b.fit(Batches(x, y, 16), epochs=4)
    for k, v in weights(a.model).items():
        np.testing.assert_array_equal(v, weights(b.model)[k])


def test_gradient_accumulation_equals_a_bigger_batch():
    x, y = problem(64)
    small = make_trainer(lr=0.1, accumulate_steps=4)
    small.model.eval()  # no dropout, so both see the same function
    big = make_trainer(lr=0.1)
    small.model[2].p = big.model[2].p = 0.0
    small.fit(Batches(x, y, 8, shuffle=False), epochs=2)
    big.fit(Batches(x, y, 32, shuffle=False), epochs=2)
    for k, v in weights(small.model).items():
        np.testing.assert_allclose(v, weights(big.model)[k], rtol=1e-4, atol=1e-6)


def test_gradient_clipping_is_applied():
    x, y = problem(32)
    norms = []

    class Spy(Callback):
        def on_batch_end(self, trainer, logs):
            pass

    trainer = make_trainer(grad_clip_norm=1e-3, lr=1.0)
    original_step = trainer.optimizer.step

    def step(*args, **kwargs):
        total = np.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in trainer.model.parameters()))
        norms.append(total)
        return original_step(*args, **kwargs)

    trainer.optimizer.step = step
    trainer.fit(Batches(x, y, 16), epochs=1)
    assert norms and max(norms) <= 1e-3 * (1 + 1e-4)


def test_early_stopping_restores_best_weights():
    x, y = problem()
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    trainer = make_trainer(callbacks=[stopper], lr=3.0)  # a rate so high that validation loss gets worse
    history = trainer.fit(Batches(x, y, 16), Batches(x, y, 96, shuffle=False), epochs=50)
    assert len(history.history["loss"]) < 50
    best = min(history.history["val_loss"])
    assert trainer.evaluate(Batches(x, y, 96, shuffle=False))["loss"] == pytest.approx(best, rel=1e-5)


def test_terminate_on_nan_stops_and_names_the_step(capsys):
    x, y = problem(32)
    x[5] = np.nan
    trainer = make_trainer(callbacks=[TerminateOnNaN()])
    trainer.fit(Batches(x, y, 8, shuffle=False), epochs=3)
    assert trainer.stop_training and "step" in trainer.stop_reason
    assert len(trainer.history.history.get("loss", [])) <= 1


def test_checkpoint_resume_equals_uninterrupted_run(tmp_path):
    x, y = problem()
    full = make_trainer(seed=1, callbacks=[ModelCheckpoint(tmp_path / "full")])
    full.fit(Batches(x, y, 16), Batches(x, y, 96, shuffle=False), epochs=6)

    first = make_trainer(seed=1, callbacks=[ModelCheckpoint(tmp_path / "part")])
    first.fit(Batches(x, y, 16), Batches(x, y, 96, shuffle=False), epochs=3)
    gk.manual_seed(999)  # a crash loses all in-memory state, random generators included
    resumed = make_trainer(seed=1, callbacks=[ModelCheckpoint(tmp_path / "part")])
    resumed.fit(Batches(x, y, 16), Batches(x, y, 96, shuffle=False), epochs=6,
                resume_from=tmp_path / "part" / "last.ckpt")
    for k, v in weights(full.model).items():
        np.testing.assert_array_equal(v, weights(resumed.model)[k])
    assert resumed.history.history["val_loss"] == full.history.history["val_loss"]
    best = gk.load(tmp_path / "part" / "best.safetensors")
    resumed.model.load_state_dict(best)


def test_corrupt_checkpoint_is_reported_with_its_name(tmp_path):
    path = tmp_path / "last.ckpt"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    trainer = make_trainer()
    x, y = problem(16)
    with pytest.raises(Exception, match="last.ckpt"):
        trainer.fit(Batches(x, y, 8), epochs=1, resume_from=path)


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = problem(32)
    make_trainer(callbacks=[CSVLogger(tmp_path / "metrics.csv")]).fit(Batches(x, y, 16), epochs=3)
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3] and "accuracy" in rows[0]


def test_predict_runs_in_eval_mode_without_grad():
    x, y = problem(40)
    trainer = make_trainer()
    out1, out2 = trainer.predict(x, batch_size=16), trainer.predict(Batches(x, y, 7, shuffle=False))
    assert out1.shape == (40, 3) and not out1.requires_grad
    np.testing.assert_allclose(out1.numpy(), out2.numpy(), rtol=1e-6)
    assert trainer.model.training
