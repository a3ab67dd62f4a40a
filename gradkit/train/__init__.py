"""Training: the Trainer, callbacks and metrics."""
from gradkit.train import callbacks, metrics
from gradkit.train.callbacks import *  # noqa: F401,F403
from gradkit.train.tensorboard import TensorBoardLogger
from gradkit.train.trainer import Trainer

__all__ = ["Trainer", "TensorBoardLogger", "callbacks", "metrics", *callbacks.__all__]
