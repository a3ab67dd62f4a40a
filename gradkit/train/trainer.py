"""The Trainer: ``fit`` / ``evaluate`` / ``predict`` around a model, an optimizer and a loss.

It does what a hand-written loop does — train mode, forward, loss, backward, (clip), step, zero the
gradients; eval mode and no_grad for validation — plus what people otherwise get wrong: exact epoch
metrics, gradient accumulation that equals a bigger batch, and checkpoints that resume a killed run
bit for bit (model, optimizer, scheduler, callbacks, epoch, step and every random generator).
"""
import json
import os

import numpy as np

from gradkit import backend
from gradkit.autograd.grad_mode import no_grad
from gradkit.serialization import load_with_metadata, save
from gradkit.tensor import Tensor
from gradkit.train import state as training_state
from gradkit.train.callbacks import Callback, History, ProgressBar
from gradkit.train.metrics import get_metric

__all__ = ["Trainer"]

CHECKPOINT_FORMAT = "gradkit-checkpoint-1"


def _to_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _split_batch(batch):
    if isinstance(batch, dict):
        return batch["input"], batch["target"]
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch
    raise TypeError("Trainer: a batch must be (inputs, targets) or a dict with 'input' and 'target' keys, "
                    f"got {type(batch).__name__}")


class Trainer:
    """Train ``model`` with ``optimizer`` on ``loss_fn(outputs, targets)``.

    ``metrics``: names or :class:`~gradkit.train.metrics.Metric` objects, evaluated on training and
    validation data each epoch. ``scheduler`` is stepped every epoch (``scheduler_interval='epoch'``)
    or every optimizer step (``'step'``). ``grad_clip_norm`` clips the global gradient norm before each
    step; ``accumulate_steps=k`` sums gradients over k batches (each loss divided by k) before a step,
    which equals training on k-times larger batches. ``seed`` seeds the framework generator at ``fit``.
    """

    def __init__(self, model, optimizer, loss_fn, metrics=("accuracy",), scheduler=None, scheduler_interval="epoch",
                 callbacks=(), grad_clip_norm=None, accumulate_steps=1, seed=None, progress=True):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"Trainer: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
        if int(accumulate_steps) < 1:
            raise ValueError(f"Trainer: accumulate_steps must be >= 1, got {accumulate_steps}")
        if grad_clip_norm is not None and grad_clip_norm <= 0:
            raise ValueError(f"Trainer: grad_clip_norm must be positive, got {grad_clip_norm}")
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.metrics = [get_metric(m) for m in (metrics or ())]
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self.grad_clip_norm, self.accumulate_steps, self.seed = grad_clip_norm, int(accumulate_steps), seed
        self.history = History()
        self.callbacks = [self.history] + list(callbacks)
        if progress and not any(isinstance(c, ProgressBar) for c in self.callbacks):
            self.callbacks.append(ProgressBar())
        for c in self.callbacks:
            if not isinstance(c, Callback):
                raise TypeError(f"Trainer: callbacks must be Callback instances, got {type(c).__name__}")
        self.epoch, self.epochs, self.global_step = 0, 0, 0
        self.stop_training, self.stop_reason, self.logs = False, None, {}
        self.batches_per_epoch = None
        self._pending_checkpoints = []
        self._loader = None

    # ----- public API --------------------------------------------------------------------------------
    def fit(self, train_loader, val_loader=None, epochs=1, resume_from=None):
        """Train for ``epochs`` epochs (in total, counting those of a resumed checkpoint); returns History."""
        self.epochs, self._loader = int(epochs), train_loader
        if resume_from is not None:
            self.load_checkpoint(resume_from)
        elif self.seed is not None:
            backend.manual_seed(self.seed)
            np.random.seed(self.seed)
        try:
            self.batches_per_epoch = len(train_loader)
        except TypeError:
            self.batches_per_epoch = None
        self.stop_training = False
        self._call("on_fit_begin")
        while self.epoch < self.epochs and not self.stop_training:
            self._call("on_epoch_begin")
            logs = self._train_epoch(train_loader)
            if val_loader is not None and not self.stop_training:
                logs.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
            if self.scheduler is not None and self.scheduler_interval == "epoch":
                self._step_scheduler(logs)
            logs["lr"] = self.current_lr()
            self.logs = logs
            self._call("on_epoch_end", logs)
            self.epoch += 1
            for path in self._pending_checkpoints:
                self.save_checkpoint(path)
            self._pending_checkpoints = []
        self._call("on_fit_end")
        return self.history

    def evaluate(self, loader):
        """Mean loss and metrics over ``loader`` in eval mode, without gradients."""
        was_training = self.model.training
        self.model.eval()
        for m in self.metrics:
            m.reset()
        total, count = 0.0, 0
        try:
            with no_grad():
                for batch in loader:
                    inputs, targets = _split_batch(batch)
                    inputs, targets = _to_tensor(inputs), _to_tensor(targets)
                    outputs = self.model(inputs)
                    n = len(targets)
                    total += float(self.loss_fn(outputs, targets).item()) * n
                    count += n
                    for m in self.metrics:
                        m.update(outputs, targets)
        finally:
            self.model.train(was_training)
        logs = {"loss": total / max(1, count)}
        logs.update({m.name: m.compute() for m in self.metrics})
        return logs

    def predict(self, data, batch_size=256):
        """Model outputs for a loader (of inputs or (inputs, targets)) or an array, in eval mode."""
        was_training = self.model.training
        self.model.eval()
        outputs = []
        try:
            with no_grad():
                if isinstance(data, (np.ndarray, Tensor)):
                    array = data.data if isinstance(data, Tensor) else data
                    batches = (array[i:i + batch_size] for i in range(0, len(array), batch_size))
                else:
                    batches = (b[0] if isinstance(b, (tuple, list)) else b for b in data)
                for inputs in batches:
                    outputs.append(self.model(_to_tensor(inputs)).data)
        finally:
            self.model.train(was_training)
        return Tensor._make(np.concatenate(outputs)) if outputs else Tensor._make(np.zeros((0,), np.float32))

    def current_lr(self):
        return self.optimizer.param_groups[0]["lr"]

    # ----- one epoch -------------------------------------------------------------------------------------
    def _train_epoch(self, loader):
        self.model.train()
        for m in self.metrics:
            m.reset()
        total, count = 0.0, 0
        self.optimizer.zero_grad()
        pending = 0
        for batch in loader:
            self._call("on_batch_begin", batch)
            inputs, targets = _split_batch(batch)
            inputs, targets = _to_tensor(inputs), _to_tensor(targets)
            outputs = self.model(inputs)
            loss = self.loss_fn(outputs, targets)
            (loss / self.accumulate_steps if self.accumulate_steps > 1 else loss).backward()
            pending += 1
            value, n = float(loss.item()), len(targets)
            total += value * n
            count += n
            for m in self.metrics:
                m.update(outputs.detach(), targets)
            if pending == self.accumulate_steps:
                self._optimizer_step()
                pending = 0
            self._call("on_batch_end", {"loss": value, "batch_size": n})
            if self.stop_training:
                break
        if pending:
            self._optimizer_step()
        logs = {"loss": total / max(1, count)}
        logs.update({m.name: m.compute() for m in self.metrics})
        return logs

    def _optimizer_step(self):
        self._call("on_after_backward")
        if self.grad_clip_norm is not None:
            from gradkit.nn.utils import clip_grad_norm_
            clip_grad_norm_(self.model.parameters(), self.grad_clip_norm)
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.global_step += 1
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()

    def _step_scheduler(self, logs):
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            self.scheduler.step(logs.get("val_loss", logs["loss"]))
        else:
            self.scheduler.step()

    def _call(self, event, *args):
        for callback in self.callbacks:
            method = getattr(callback, event, None)
            if method is not None:
                method(self, *args)

    # ----- checkpoints -----------------------------------------------------------------------------------
    def state_dict(self):
        loader_generator = getattr(self._loader, "generator", None)
        return {"format": CHECKPOINT_FORMAT, "epoch": self.epoch, "global_step": self.global_step,
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                "callbacks": [c.state_dict() for c in self.callbacks],
                "rng": training_state.rng_state(),
                "loader_rng": loader_generator.get_state() if loader_generator is not None else None}

    def load_state_dict(self, state):
        if state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"Trainer: not a gradkit checkpoint (format {state.get('format')!r})")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if len(state["callbacks"]) != len(self.callbacks):
            raise ValueError(f"Trainer: the checkpoint has state for {len(state['callbacks'])} callbacks, this "
                             f"trainer has {len(self.callbacks)}; build the trainer with the same callbacks")
        for callback, callback_state in zip(self.callbacks, state["callbacks"]):
            callback.load_state_dict(callback_state)
        self.epoch, self.global_step = state["epoch"], state["global_step"]
        training_state.set_rng_state(state["rng"])
        loader_generator = getattr(self._loader, "generator", None)
        if loader_generator is not None and state.get("loader_rng") is not None:
            loader_generator.set_state(state["loader_rng"])

    def save_checkpoint(self, path):
        """Write the whole training state to ``path`` atomically: one safetensors file whose header holds
        the non-array state as JSON (no pickle)."""
        arrays = {}
        structure = training_state.flatten(self.state_dict(), "", arrays)
        save(arrays, path, metadata={"gradkit_state": json.dumps(structure)})

    def load_checkpoint(self, path):
        tensors, metadata = load_with_metadata(path)
        if "gradkit_state" not in metadata:
            raise ValueError(f"Trainer: {os.fspath(path)} is a weights file, not a training checkpoint "
                             "(load it with model.load_state_dict(gk.load(path)))")
        try:
            structure = json.loads(metadata["gradkit_state"])
        except ValueError:
            raise ValueError(f"Trainer: {os.fspath(path)} has a corrupt training state") from None
        self.load_state_dict(training_state.unflatten(structure, tensors))


