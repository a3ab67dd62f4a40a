"""RAdam: Adam with the variance of the adaptive rate rectified in early steps (Liu et al., 2020)."""
import numpy as np

from gradkit.autograd.grad_mode import no_grad
from gradkit.optim._inplace import addcmul_, decayed_grad, lerp_
from gradkit.optim.adam import check_betas, check_common
from gradkit.optim.optimizer import Optimizer


class RAdam(Optimizer):
    r"""RAdam.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \rho_\infty &= \frac{2}{1-\beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t} \\
        \theta_t &= \theta_{t-1} - \gamma\, \frac{m_t}{1-\beta_1^t}\cdot
        \begin{cases}
            r_t\, \dfrac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon}, \quad
            r_t = \sqrt{\dfrac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}
                & \rho_t > 5 \\
            1 & \text{otherwise (SGD with momentum)}
        \end{cases}

    with :math:`g_t` the (sign-flipped if ``maximize``) gradient plus the L2 term, or with
    ``decoupled_weight_decay`` the AdamW-style decay of the parameters.

    Conventions (PyTorch's): the switch to the adaptive step is at :math:`\rho_t > 5` (the paper says 4;
    its reference code uses 5), and :math:`\epsilon` is added to :math:`\sqrt{v_t}` before bias correction.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, maximize=False):
        check_common("RAdam", lr, eps, weight_decay)
        check_betas("RAdam", betas)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            beta1, beta2 = (float(b) for b in group["betas"])
            for p in self._params_with_grad(group):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = self._new_step()
                    state["exp_avg"] = self._zeros_like(p)
                    state["exp_avg_sq"] = self._zeros_like(p)
                radam_update(p.data, p.grad.data, state["exp_avg"].data, state["exp_avg_sq"].data,
                             step=self._advance(state["step"]), lr=float(group["lr"]), beta1=beta1, beta2=beta2,
                             eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                             decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"])
        return loss


def radam_update(param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
                 decoupled_weight_decay, maximize):
    """One RAdam step (``step`` counts from 1) on arrays updated in place."""
    grad = decayed_grad(grad, param, lr, weight_decay, decoupled_weight_decay, maximize)
    scratch = np.empty_like(param)
    lerp_(exp_avg, grad, 1 - beta1, scratch)
    np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    addcmul_(exp_avg_sq, grad, grad, 1 - beta2, scratch)

    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2

    update = np.divide(exp_avg, bias_correction1)
    np.multiply(update, lr, out=update)
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        # sqrt(1 - beta2^t) / (sqrt(v) + eps), as PyTorch evaluates a scalar over a tensor: reciprocal, then scale.
        np.sqrt(exp_avg_sq, out=scratch)
        np.add(scratch, eps, out=scratch)
        np.reciprocal(scratch, out=scratch)
        np.multiply(scratch, bias_correction2 ** 0.5, out=scratch)
        np.multiply(update, scratch, out=update)
        np.multiply(update, rect, out=update)
    np.subtract(param, update, out=param)
