"""Layers, one file per family."""
from gradkit.nn.modules.container import *  # noqa: F401,F403
from gradkit.nn.modules.linear import *  # noqa: F401,F403
from gradkit.nn.modules.flatten import *  # noqa: F401,F403
from gradkit.nn.modules.activation import *  # noqa: F401,F403
from gradkit.nn.modules.conv import *  # noqa: F401,F403
from gradkit.nn.modules.pooling import *  # noqa: F401,F403
from gradkit.nn.modules.upsampling import *  # noqa: F401,F403
from gradkit.nn.modules.normalization import *  # noqa: F401,F403
from gradkit.nn.modules.batchnorm import *  # noqa: F401,F403
from gradkit.nn.modules.dropout import *  # noqa: F401,F403
from gradkit.nn.modules.loss import *  # noqa: F401,F403
