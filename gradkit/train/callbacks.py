"""Callbacks: small objects the Trainer calls at fixed points of training.

The protocol (every method optional, each receives the trainer, whose ``epoch``, ``global_step``,
``logs``, ``model``, ``optimizer`` and ``stop_training`` it may read or set)::

    on_fit_begin(trainer)            on_fit_end(trainer)
    on_epoch_begin(trainer)          on_epoch_end(trainer, logs)     # logs: loss, val_loss, val_accuracy, lr...
    on_batch_begin(trainer, batch)   on_batch_end(trainer, logs)     # logs: loss of the batch
    on_after_backward(trainer)       # gradients are there, before clipping and the optimizer step

A callback with state that must survive a resume (best metric, patience counter) implements
``state_dict()`` and ``load_state_dict()``; the checkpoint stores it.
"""
import csv
import math
import os
import sys
import time
import warnings

import numpy as np

__all__ = ["Callback", "History", "ProgressBar", "EarlyStopping", "ModelCheckpoint", "TerminateOnNaN", "CSVLogger",
           "LearningRateMonitor", "GradientMonitor", "ReduceLROnPlateau"]


class Callback:
    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def _better(mode, value, best, min_delta):
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _check_mode(owner, mode, monitor):
    if mode == "auto":
        return "max" if any(k in monitor for k in ("acc", "f1", "r2", "precision", "recall")) else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"{owner}: mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


class History(Callback):
    """Records every epoch's logs: ``history.history['val_loss']`` is the list over epochs."""

    def __init__(self):
        self.history, self.epochs = {}, []

    def on_epoch_end(self, trainer, logs):
        self.epochs.append(trainer.epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def state_dict(self):
        return {"history": self.history, "epochs": self.epochs}

    def load_state_dict(self, state):
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epochs = list(state["epochs"])


def _format(value):
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4):
            return f"{value:.0e}" if abs(value) < 1e-3 and float(f"{value:.0e}") == value else f"{value:.3g}"
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


class ProgressBar(Callback):
    """A tqdm bar per epoch (loss, lr, samples/s, ETA) on a terminal or notebook; when the output is not
    a terminal (logs, CI), one plain line per epoch:
    ``epoch 3/20  loss 0.41  val_loss 0.38  val_accuracy 0.962  lr 1e-3``."""

    def __init__(self, stream=None, use_tqdm=None):
        self.stream = stream or sys.stdout
        self.use_tqdm = use_tqdm
        self._bar = None

    def _tqdm_wanted(self):
        if self.use_tqdm is not None:
            return self.use_tqdm
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return False
        return hasattr(self.stream, "isatty") and self.stream.isatty()

    def on_epoch_begin(self, trainer):
        self._start, self._samples = time.perf_counter(), 0
        if self._tqdm_wanted():
            from tqdm.auto import tqdm
            total = trainer.batches_per_epoch
            self._bar = tqdm(total=total, desc=f"epoch {trainer.epoch + 1}/{trainer.epochs}", file=self.stream,
                             leave=True, dynamic_ncols=True)

    def on_batch_end(self, trainer, logs):
        self._samples += logs.get("batch_size", 0)
        if self._bar is not None:
            rate = self._samples / max(1e-9, time.perf_counter() - self._start)
            self._bar.set_postfix(loss=f"{logs['loss']:.4f}", lr=_format(trainer.current_lr()),
                                  samples_per_s=f"{rate:.0f}", refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, trainer, logs):
        parts = [f"epoch {trainer.epoch + 1}/{trainer.epochs}"] + [f"{k} {_format(v)}" for k, v in logs.items()]
        line = "  ".join(parts)
        if self._bar is not None:
            self._bar.set_postfix_str(line.split("  ", 1)[1] if "  " in line else "")
            self._bar.close()
            self._bar = None
        else:
            print(line, file=self.stream, flush=True)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs; with
    ``restore_best_weights`` the model ends with the weights of its best epoch."""

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto", restore_best_weights=False):
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.mode = _check_mode("EarlyStopping", mode, monitor)
        self.restore_best_weights = restore_best_weights
        self.best, self.wait, self.best_epoch, self.stopped_epoch, self._best_weights = None, 0, None, None, None

    def on_epoch_end(self, trainer, logs):
        if self.monitor not in logs:
            raise KeyError(f"EarlyStopping: monitored value {self.monitor!r} is not in the logs {sorted(logs)}")
        value = logs[self.monitor]
        if _better(self.mode, value, self.best, self.min_delta):
            self.best, self.wait, self.best_epoch = value, 0, trainer.epoch
            if self.restore_best_weights:
                self._best_weights = {k: v.data.copy() for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = trainer.epoch
            trainer.stop_training = True

    def on_fit_end(self, trainer):
        if self.restore_best_weights and self._best_weights is not None:
            trainer.model.load_state_dict(self._best_weights)

    def state_dict(self):
        state = {"best": self.best, "wait": self.wait, "best_epoch": self.best_epoch}
        if self._best_weights is not None:
            state["best_weights"] = self._best_weights
        return state

    def load_state_dict(self, state):
        self.best, self.wait, self.best_epoch = state["best"], state["wait"], state["best_epoch"]
        weights = state.get("best_weights")
        self._best_weights = None if weights is None else {k: np.asarray(v.data) for k, v in weights.items()}


class ModelCheckpoint(Callback):
    """Save the model's weights to ``dirpath/best.safetensors`` when ``monitor`` improves and the whole
    training state to ``dirpath/last.ckpt`` after every epoch (``save_last``); both written atomically.

    ``best.safetensors`` is a plain state dict: ``model.load_state_dict(gk.load(path))``. ``last.ckpt``
    is what ``fit(resume_from=...)`` takes.
    """

    def __init__(self, dirpath, monitor="val_loss", mode="auto", save_best_only=True, save_last=True):
        self.dirpath, self.monitor = os.fspath(dirpath), monitor
        self.mode = _check_mode("ModelCheckpoint", mode, monitor)
        self.save_best_only, self.save_last = save_best_only, save_last
        self.best, self.best_epoch = None, None

    @property
    def best_path(self):
        return os.path.join(self.dirpath, "best.safetensors")

    @property
    def last_path(self):
        return os.path.join(self.dirpath, "last.ckpt")

    def on_epoch_end(self, trainer, logs):
        from gradkit.serialization import save
        value = logs.get(self.monitor)
        if value is not None and _better(self.mode, value, self.best, 0.0):
            self.best, self.best_epoch = value, trainer.epoch
            save(trainer.model.state_dict(), self.best_path, metadata={"epoch": trainer.epoch + 1,
                                                                      self.monitor: value})
        elif not self.save_best_only:
            save(trainer.model.state_dict(), os.path.join(self.dirpath, f"epoch{trainer.epoch + 1}.safetensors"))
        if self.save_last:
            # Written after this callback's own state is updated, so the checkpoint carries it.
            trainer._pending_checkpoints.append(self.last_path)

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite, naming the epoch and step."""

    def on_batch_end(self, trainer, logs):
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss):
            trainer.stop_training = True
            trainer.stop_reason = (f"TerminateOnNaN: loss became {loss} at epoch {trainer.epoch + 1}, "
                                   f"step {trainer.global_step}")
            print(trainer.stop_reason, file=sys.stderr)


class CSVLogger(Callback):
    """Append each epoch's logs to a CSV file (one row per epoch, header from the first epoch)."""

    def __init__(self, filename, append=False):
        self.filename, self.append = os.fspath(filename), append
        self._keys = None

    def on_fit_begin(self, trainer):
        if not self.append and trainer.epoch == 0 and os.path.exists(self.filename):
            os.remove(self.filename)

    def on_epoch_end(self, trainer, logs):
        row = {"epoch": trainer.epoch + 1, **logs}
        new_file = not os.path.exists(self.filename) or os.path.getsize(self.filename) == 0
        if self._keys is None:
            self._keys = list(row)
            if not new_file:
                with open(self.filename, newline="") as f:
                    header = next(csv.reader(f), None)
                self._keys = header or self._keys
        os.makedirs(os.path.dirname(os.path.abspath(self.filename)), exist_ok=True)
        with open(self.filename, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self._keys, extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(row)


class LearningRateMonitor(Callback):
    """Record the learning rate of every parameter group at each step (``lrs``) and put the first
    group's into the epoch logs as ``lr``."""

    def __init__(self):
        self.lrs = []

    def on_batch_end(self, trainer, logs):
        self.lrs.append([g["lr"] for g in trainer.optimizer.param_groups])

    def on_epoch_end(self, trainer, logs):
        logs["lr"] = trainer.current_lr()


class GradientMonitor(Callback):
    """Per-layer gradient norms after each backward; warns, naming the parameter, when a norm falls under
    ``vanish_threshold`` (vanishing gradients) or exceeds ``explode_threshold`` (exploding ones).
    ``norms[name]`` is the per-step history, the data of the gradient-flow plot."""

    def __init__(self, vanish_threshold=1e-7, explode_threshold=1e3, every=1):
        self.vanish_threshold, self.explode_threshold, self.every = vanish_threshold, explode_threshold, every
        self.norms, self._warned = {}, set()

    def on_after_backward(self, trainer):
        if trainer.global_step % self.every:
            return
        for name, p in trainer.model.named_parameters():
            if p.grad is None:
                continue
            norm = float(np.sqrt(np.sum(np.square(p.grad.data, dtype=np.float64))))
            self.norms.setdefault(name, []).append(norm)
            kind = "vanishing" if norm < self.vanish_threshold else "exploding" if norm > self.explode_threshold else None
            if kind and (name, kind) not in self._warned:
                self._warned.add((name, kind))
                warnings.warn(f"GradientMonitor: {kind} gradient in {name}: norm {norm:.3g} at step "
                              f"{trainer.global_step}", RuntimeWarning, stacklevel=2)


class ReduceLROnPlateau(Callback):
    """Divide the learning rate when ``monitor`` stops improving; wraps
    :class:`gradkit.optim.lr_scheduler.ReduceLROnPlateau` so it is stepped with the epoch's value."""

    def __init__(self, monitor="val_loss", **kwargs):
        self.monitor, self.kwargs, self.scheduler, self._pending = monitor, kwargs, None, None

    def on_fit_begin(self, trainer):
        if self.scheduler is None:
            from gradkit.optim.lr_scheduler import ReduceLROnPlateau as Scheduler
            self.scheduler = Scheduler(trainer.optimizer, **self.kwargs)
            if self._pending is not None:
                self.scheduler.load_state_dict(self._pending)

    def on_epoch_end(self, trainer, logs):
        self.scheduler.step(logs[self.monitor])

    def state_dict(self):
        return self.scheduler.state_dict() if self.scheduler is not None else {}

    def load_state_dict(self, state):
        self._pending = state
