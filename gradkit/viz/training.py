"""Training curves, learning-rate curves and gradient flow."""
import numpy as np

from gradkit.viz._backend import pyplot, save


def plot_history(history, path, title=None):
    """Train vs validation loss (left) and every other metric (right), per epoch: the picture of
    over- and underfitting (validation loss rising while training loss falls is overfitting)."""
    plt = pyplot()
    metrics = sorted({k[4:] if k.startswith("val_") else k for k in history} - {"loss", "lr"})
    fig, axes = plt.subplots(1, 1 + (1 if metrics else 0), figsize=(11 if metrics else 6, 4), squeeze=False)
    epochs = np.arange(1, 1 + max(len(v) for v in history.values()))
    loss_ax = axes[0][0]
    for key, style in (("loss", "-"), ("val_loss", "--")):
        if key in history:
            loss_ax.plot(epochs[:len(history[key])], history[key], style, marker="o", ms=3,
                         label="train" if key == "loss" else "validation")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="loss")
    loss_ax.legend()
    loss_ax.grid(alpha=0.3)
    if metrics:
        ax = axes[0][1]
        for metric in metrics:
            for key, style, label in ((metric, "-", "train"), (f"val_{metric}", "--", "validation")):
                if key in history:
                    ax.plot(epochs[:len(history[key])], history[key], style, marker="o", ms=3, label=f"{label} {metric}")
        ax.set(xlabel="epoch", title=", ".join(metrics))
        ax.legend()
        ax.grid(alpha=0.3)
    from matplotlib.ticker import MaxNLocator
    for ax in axes[0]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    if title:
        fig.suptitle(title)
    return save(fig, path)


def plot_learning_rates(lrs, path, title="learning rate per step"):
    """The learning rate at every optimizer step."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(len(lrs)), lrs)
    ax.set(xlabel="step", ylabel="learning rate", title=title)
    ax.grid(alpha=0.3)
    return save(fig, path)


def plot_gradient_flow(norms, path, title="gradient norm per layer"):
    """Bars of each parameter's mean gradient norm (from ``GradientMonitor.norms``), log scale, so
    vanishing gradients in early layers stand out."""
    plt = pyplot()
    names = list(norms)
    means = [float(np.mean(norms[n])) for n in names]
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(names)), 4))
    ax.bar(range(len(names)), means, color="tab:blue")
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
    ax.set(ylabel="mean gradient L2 norm", title=title)
    ax.grid(alpha=0.3, axis="y")
    return save(fig, path)
