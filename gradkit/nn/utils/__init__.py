"""``gradkit.nn.utils``: gradient clipping, parameter vectors, weight penalties and weight normalisation."""
from gradkit.nn.utils.clip_grad import *  # noqa: F401,F403
from gradkit.nn.utils.convert_parameters import *  # noqa: F401,F403
from gradkit.nn.utils.regularization import *  # noqa: F401,F403
from gradkit.nn.utils.weight_norm import remove_weight_norm, weight_norm  # noqa: F401
