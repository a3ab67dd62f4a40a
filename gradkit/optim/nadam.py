"""NAdam: Adam with Nesterov momentum and Dozat's momentum schedule (Dozat, 2016)."""
import numpy as np

from gradkit.autograd.grad_mode import no_grad
from gradkit.optim._inplace import addcdiv_, addcmul_, decayed_grad, lerp_
from gradkit.optim.adam import check_betas, check_common
from gradkit.optim.optimizer import Optimizer
from gradkit.tensor import Tensor


class NAdam(Optimizer):
    r"""NAdam.

    .. math::
        \mu_t &= \beta_1\bigl(1 - \tfrac12\, 0.96^{t\psi}\bigr), \qquad
        \textstyle\prod_t = \prod_{i \le t} \mu_i \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma\Bigl(\frac{1-\mu_t}{1-\prod_t}\, g_t
            + \frac{\mu_{t+1}}{1-\prod_{t+1}}\, m_t\Bigr) \Big/ \Bigl(\sqrt{v_t/(1-\beta_2^t)} + \epsilon\Bigr)

    with ``momentum_decay`` :math:`\psi` and :math:`g_t` the (sign-flipped if ``maximize``) gradient plus
    the L2 term :math:`\lambda\theta_{t-1}`, or, with ``decoupled_weight_decay``, the decay applied to the
    parameters as in AdamW.

    Conventions (PyTorch's): the running product :math:`\prod_t` is kept in float32 state
    (``mu_product``), and :math:`\beta_1` plays the role of the paper's constant :math:`\mu`; the
    momentum schedule :math:`0.96^{t\psi}` is Dozat's, which the paper gives with :math:`\psi = 0.004`.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False):
        check_common("NAdam", lr, eps, weight_decay)
        check_betas("NAdam", betas)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"NAdam: invalid momentum_decay={momentum_decay}, expected a value >= 0")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize)
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
                    state["mu_product"] = Tensor._make(np.ones((), dtype=np.float32))
                    state["exp_avg"] = self._zeros_like(p)
                    state["exp_avg_sq"] = self._zeros_like(p)
                nadam_update(p.data, p.grad.data, state["exp_avg"].data, state["exp_avg_sq"].data,
                             state["mu_product"].data, step=self._advance(state["step"]), lr=float(group["lr"]),
                             beta1=beta1, beta2=beta2, eps=float(group["eps"]),
                             weight_decay=float(group["weight_decay"]),
                             momentum_decay=float(group["momentum_decay"]),
                             decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"])
        return loss


def nadam_update(param, grad, exp_avg, exp_avg_sq, mu_product, *, step, lr, beta1, beta2, eps, weight_decay,
                 momentum_decay, decoupled_weight_decay, maximize):
    """One NAdam step (``step`` counts from 1) on arrays updated in place; ``mu_product`` is a 0-d array."""
    grad = decayed_grad(grad, param, lr, weight_decay, decoupled_weight_decay, maximize)
    bias_correction2 = 1 - beta2 ** step
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    np.multiply(mu_product, mu, out=mu_product)
    product = float(mu_product)
    product_next = product * mu_next

    scratch = np.empty_like(param)
    lerp_(exp_avg, grad, 1 - beta1, scratch)
    np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    addcmul_(exp_avg_sq, grad, grad, 1 - beta2, scratch)
    denom = np.divide(exp_avg_sq, bias_correction2)
    np.sqrt(denom, out=denom)
    np.add(denom, eps, out=denom)
    addcdiv_(param, grad, denom, -lr * (1.0 - mu) / (1.0 - product), scratch)
    addcdiv_(param, exp_avg, denom, (-lr * mu_next) / (1.0 - product_next), scratch)
