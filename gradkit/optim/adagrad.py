"""Adagrad: per-coordinate learning rates from the sum of squared gradients (Duchi et al., 2011)."""
import numpy as np

from gradkit import backend
from gradkit.autograd.grad_mode import no_grad
from gradkit.optim._inplace import addcdiv_, addcmul_, effective_grad
from gradkit.optim.optimizer import Optimizer
from gradkit.tensor import Tensor


class Adagrad(Optimizer):
    r"""Adagrad.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        \tilde\gamma_t = \frac{\gamma}{1 + (t-1)\,\eta} \\
        s_t &= s_{t-1} + g_t^2, \qquad s_0 = \text{initial\_accumulator\_value} \\
        \theta_t &= \theta_{t-1} - \tilde\gamma_t\, \frac{g_t}{\sqrt{s_t} + \epsilon}

    with ``lr_decay`` :math:`\eta`. Convention (PyTorch's): :math:`\epsilon` (default 1e-10) is added
    outside the root; the paper has no :math:`\epsilon` and no learning-rate decay. As in PyTorch, the
    state (step and sum) is created for every parameter at construction, from the constructor's
    ``initial_accumulator_value``.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Adagrad: invalid learning rate lr={lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Adagrad: invalid lr_decay={lr_decay}, expected a value >= 0")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Adagrad: invalid weight_decay={weight_decay}, expected a value >= 0")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Adagrad: invalid initial_accumulator_value={initial_accumulator_value}, "
                             "expected a value >= 0")
        if not 0.0 <= eps:
            raise ValueError(f"Adagrad: invalid epsilon eps={eps}, expected a value >= 0")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        xp = backend.array_module(p.data)
        self.state[p] = {"step": self._new_step(),
                         "sum": Tensor._make(xp.full_like(p.data, self.defaults["initial_accumulator_value"]))}

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            for p in self._params_with_grad(group):
                if not self.state.get(p):
                    self._init_state(p)  # a parameter group added after construction
                state = self.state[p]
                adagrad_update(p.data, p.grad.data, state["sum"].data, step=self._advance(state["step"]),
                               lr=float(group["lr"]), lr_decay=float(group["lr_decay"]),
                               weight_decay=float(group["weight_decay"]), eps=float(group["eps"]),
                               maximize=group["maximize"])
        return loss


def adagrad_update(param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize):
    """One Adagrad step (``step`` counts from 1) on arrays updated in place."""
    grad, _ = effective_grad(grad, param, weight_decay, maximize)
    decayed_lr = lr / (1 + (step - 1) * lr_decay)
    scratch = np.empty_like(param)
    addcmul_(state_sum, grad, grad, 1, scratch)
    std = np.sqrt(state_sum)
    np.add(std, eps, out=std)
    addcdiv_(param, grad, std, -decayed_lr, scratch)
