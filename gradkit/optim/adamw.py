"""AdamW: Adam with weight decay decoupled from the gradient (Loshchilov & Hutter, 2019)."""
from gradkit.optim.adam import Adam


class AdamW(Adam):
    r"""Adam with decoupled weight decay: each step first shrinks the parameters,
    :math:`\theta \leftarrow (1 - \gamma\lambda)\,\theta`, then takes the Adam step on the raw gradient.

    With an L2 penalty in the gradient (plain Adam's ``weight_decay``), the decay is divided by
    :math:`\sqrt{\hat v}` like the rest of the gradient, so parameters with large gradients are barely
    regularised; decoupling restores the uniform decay of SGD.

    Convention (PyTorch's): the decay is multiplied by the learning rate :math:`\gamma`, so a schedule
    scales it too; the paper writes it with a separate schedule multiplier :math:`\eta_t` and no
    :math:`\gamma`. The default ``weight_decay`` is 1e-2.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True  # whatever the file says, AdamW decouples
