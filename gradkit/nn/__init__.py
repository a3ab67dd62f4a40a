"""``gradkit.nn``: Module, Parameter, layers, initialisation and utilities, in PyTorch's names."""
from gradkit.nn.parameter import *  # noqa: F401,F403
from gradkit.nn.module import *  # noqa: F401,F403
from gradkit.nn.modules import *  # noqa: F401,F403
from gradkit.nn import functional, init, utils  # noqa: F401
