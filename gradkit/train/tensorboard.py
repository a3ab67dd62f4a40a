"""TensorBoard logging: the Trainer's curves in event files that ``tensorboard --logdir DIR`` shows.

The ``tensorboard`` package (an optional dependency) provides the event-file writer and the protocol
buffers; gradkit only decides what is logged and when.
"""
import numbers
import os
import time

from gradkit.train.callbacks import Callback

__all__ = ["TensorBoardLogger"]


def _tensorboard_modules():
    try:
        from tensorboard.compat.proto.event_pb2 import Event, SessionLog
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ImportError("TensorBoardLogger needs the tensorboard package: pip install tensorboard "
                          "(or pip install 'gradkit[all]')") from None
    return EventFileWriter, Event, SessionLog, Summary


def epoch_tag(name):
    """TensorBoard tag of an epoch log: ``val_loss`` -> ``val/loss``, ``loss`` -> ``train/loss``,
    ``lr`` -> ``epoch/lr``. The ``/`` groups the charts into sections in TensorBoard."""
    if name.startswith("val_"):
        return "val/" + name[4:]
    if name == "lr":
        return "epoch/lr"
    return "train/" + name


class TensorBoardLogger(Callback):
    """Write training curves to TensorBoard event files in ``log_dir``.

    Every epoch: each value of the epoch logs (``train/loss``, ``train/accuracy``, ``val/loss``,
    ``val/accuracy``, ``epoch/lr``, ...) and the epoch number (``epoch/epoch``). Every
    ``log_every_n_steps`` optimizer steps: ``step/loss``, the mean loss of the batches since the last
    point (smoother than one batch, and no batch is left out), and ``step/lr``.

    All points use the optimizer step as their x coordinate, as PyTorch Lightning does, so that a
    validation curve lines up with the per-step training loss. This is also what makes a resumed run
    right: ``fit(resume_from=...)`` marks a restart at the checkpoint's step, and TensorBoard drops the
    points a killed run wrote after its last checkpoint instead of drawing them twice.

    The file is flushed at every epoch end (so a live TensorBoard follows the run) and closed when
    ``fit`` ends.
    """

    def __init__(self, log_dir, log_every_n_steps=50):
        if int(log_every_n_steps) < 1:
            raise ValueError(f"TensorBoardLogger: log_every_n_steps must be >= 1, got {log_every_n_steps}")
        self.log_dir, self.log_every_n_steps = os.fspath(log_dir), int(log_every_n_steps)
        self._writer = None
        self._loss_sum, self._loss_count, self._last_logged_step = 0.0, 0, None

    def on_fit_begin(self, trainer):
        self.close()
        _, Event, SessionLog, _ = _tensorboard_modules()
        writer = self._open()
        self._loss_sum, self._loss_count, self._last_logged_step = 0.0, 0, trainer.global_step
        if trainer.global_step > 0:
            # Resuming: everything at a later step than the checkpoint was written by the run that died.
            writer.add_event(Event(wall_time=time.time(), step=trainer.global_step + 1,
                                   session_log=SessionLog(status=SessionLog.START)))

    def on_batch_end(self, trainer, logs):
        self._loss_sum += logs["loss"]
        self._loss_count += 1
        step = trainer.global_step
        # With gradient accumulation several batches end at the same step: log once, when it is reached.
        if step % self.log_every_n_steps == 0 and step != self._last_logged_step:
            self.add_scalars({"step/loss": self._loss_sum / self._loss_count, "step/lr": trainer.current_lr()}, step)
            self._loss_sum, self._loss_count, self._last_logged_step = 0.0, 0, step

    def on_epoch_end(self, trainer, logs):
        values = {epoch_tag(name): value for name, value in logs.items() if _is_number(value)}
        values["epoch/epoch"] = trainer.epoch + 1
        self.add_scalars(values, trainer.global_step)
        self._writer.flush()

    def on_fit_end(self, trainer):
        self.close()

    def add_scalars(self, values, step):
        """Write ``{tag: number}`` as one event at ``step``."""
        _, Event, _, Summary = _tensorboard_modules()
        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(v)) for tag, v in values.items()])
        self._open().add_event(Event(wall_time=time.time(), step=int(step), summary=summary))

    def _open(self):
        """The event-file writer; a new file in ``log_dir`` for each fit (TensorBoard reads them all)."""
        if self._writer is None:
            EventFileWriter = _tensorboard_modules()[0]
            os.makedirs(self.log_dir, exist_ok=True)
            self._writer = EventFileWriter(self.log_dir)
        return self._writer

    def close(self):
        """Flush and close the event file (done at the end of ``fit``)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
