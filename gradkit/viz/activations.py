"""Every activation function and its derivative on one sheet; derivatives come from autograd."""
import numpy as np

from gradkit.viz._backend import pyplot, save

ACTIVATIONS = ("relu", "leaky_relu", "elu", "selu", "celu", "gelu", "sigmoid", "tanh", "softplus", "softsign",
               "silu", "mish", "relu6", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "tanhshrink")


def activation_curves(name, x):
    """(f(x), f'(x)) for the activation ``name``, the derivative by backpropagation."""
    import gradkit as gk
    import gradkit.nn.functional as F
    t = gk.tensor(x, requires_grad=True)
    y = getattr(F, name)(t)
    y.backward(gk.ones_like(y))
    return y.detach().numpy(), t.grad.numpy()


def plot_activations(path, names=ACTIVATIONS, lo=-4.0, hi=4.0):
    plt = pyplot()
    x = np.linspace(lo, hi, 801).astype(np.float32)
    cols = 6
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        y, dy = activation_curves(name, x)
        ax.plot(x, y, label="f(x)")
        ax.plot(x, dy, "--", label="f'(x)")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("activations (solid) and their derivatives by autograd (dashed)")
    fig.tight_layout()
    return save(fig, path)
