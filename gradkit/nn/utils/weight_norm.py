r"""Weight normalisation (Salimans & Kingma, 2016), as PyTorch's classic ``torch.nn.utils.weight_norm``.

The weight is reparametrised by a direction :math:`v` and a magnitude :math:`g`:

.. math::
    w = g \, \frac{v}{\|v\|}

where the norm is taken over every dimension except ``dim`` (one magnitude per output unit for
``dim=0``), or over the whole tensor for ``dim=None`` (or ``-1``, as in PyTorch). The module gets the
parameters ``<name>_g`` and ``<name>_v`` instead of ``<name>``, and ``<name>`` is recomputed from them
before every forward by a forward pre-hook, so gradients reach :math:`g` and :math:`v`.
"""
from gradkit.nn.parameter import Parameter
from gradkit.ops.elementwise import div, mul, sqrt
from gradkit.ops.shape import sum_to

__all__ = ["weight_norm", "remove_weight_norm", "WeightNorm"]


def _norm_shape(shape, dim):
    """The shape of :math:`g`: ``()`` for the whole-tensor norm, else 1 everywhere except ``dim``."""
    if dim == -1:
        return ()
    return tuple(size if i == dim else 1 for i, size in enumerate(shape))


def norm_except_dim(v, dim):
    """The 2-norm of ``v`` over all dimensions except ``dim`` (kept as size-1 dimensions)."""
    return sqrt(sum_to(mul(v, v), _norm_shape(v.shape, dim)))


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return mul(v, div(g, norm_except_dim(v, self.dim)))

    @staticmethod
    def apply(module, name, dim):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"weight_norm: cannot register two weight_norm hooks on the same parameter {name!r}")
        weight = module._parameters.get(name)
        if not isinstance(weight, Parameter):
            raise ValueError(f"weight_norm: {type(module).__name__} has no parameter {name!r}")
        if dim is None:
            dim = -1
        elif dim < -1:
            dim += weight.ndim
        if dim != -1 and not 0 <= dim < weight.ndim:
            raise ValueError(f"weight_norm: dim={dim} is out of range for {name!r} of shape {tuple(weight.shape)}")
        hook = WeightNorm(name, dim)
        del module._parameters[name]
        magnitude = norm_except_dim(weight.detach(), dim)
        module.register_parameter(name + "_g", Parameter(magnitude.data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, hook.compute_weight(module))
        module.register_forward_pre_hook(hook)
        return hook

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrise ``module.<name>`` as :math:`g\\,v/\\|v\\|` (see the module docstring); returns the module.

    Initially :math:`v` is the current weight and :math:`g = \\|v\\|`, so the layer computes the same function.
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo :func:`weight_norm`: fold :math:`g` and :math:`v` back into one parameter ``<name>``."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"remove_weight_norm: weight_norm of {name!r} not found in {module}")
