"""``gradkit.nn.functional``: the public face of the network ops (activations, convolution, pooling,
resizing, normalisation, dropout, losses), in PyTorch's names. ``import gradkit.nn.functional as F``."""
from gradkit.ops.activation import *  # noqa: F401,F403
from gradkit.ops.conv import *  # noqa: F401,F403
from gradkit.ops.pool import *  # noqa: F401,F403
from gradkit.ops.resize import *  # noqa: F401,F403
from gradkit.ops.norm import *  # noqa: F401,F403
from gradkit.ops.dropout import *  # noqa: F401,F403
from gradkit.ops.loss import *  # noqa: F401,F403
from gradkit.ops.linalg import *  # noqa: F401,F403  (linear, bilinear live beside matmul)
from gradkit.ops.elementwise import relu, sigmoid, tanh  # noqa: F401
