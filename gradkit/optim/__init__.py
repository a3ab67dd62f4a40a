"""Optimizers and learning-rate schedules, with PyTorch's API, defaults and numbers.

Each optimizer is a class that validates its options and keeps per-parameter state, and a plain
update function (``sgd_update``, ``adam_update``, ...) that does the math in place on arrays.
"""
from gradkit.optim.optimizer import Optimizer
from gradkit.optim.sgd import SGD, sgd_update
from gradkit.optim.adam import Adam, adam_update
from gradkit.optim.adamw import AdamW
from gradkit.optim.adagrad import Adagrad, adagrad_update
from gradkit.optim.rmsprop import RMSprop, rmsprop_update
from gradkit.optim.adadelta import Adadelta, adadelta_update
from gradkit.optim.nadam import NAdam, nadam_update
from gradkit.optim.radam import RAdam, radam_update
from gradkit.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "NAdam", "RAdam", "lr_scheduler",
           "sgd_update", "adam_update", "adagrad_update", "rmsprop_update", "adadelta_update", "nadam_update",
           "radam_update"]
