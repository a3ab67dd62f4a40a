"""Learning-rate schedules as curves: build the schedule on a throwaway optimizer and step it."""
from gradkit.viz._backend import pyplot, save


def schedule_values(make_scheduler, steps, lr=0.1, metrics=None):
    """The rate of each parameter group after 0, 1, ..., ``steps`` calls of ``step()``.

    ``make_scheduler(optimizer)`` builds the schedule (e.g. ``lambda opt: CosineAnnealingLR(opt, 100)``);
    it gets a one-parameter SGD optimizer with rate ``lr``, so the user's own optimizer is never touched.
    ``metrics`` feeds ReduceLROnPlateau, one value per step. Needs no matplotlib.
    """
    from gradkit.optim import SGD
    from gradkit.optim.lr_scheduler import ReduceLROnPlateau
    from gradkit.ops import zeros
    optimizer = SGD([zeros(1, requires_grad=True)], lr=lr, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    values = [list(scheduler.get_last_lr())]
    for step in range(steps):
        if isinstance(scheduler, ReduceLROnPlateau):
            if metrics is None:
                raise ValueError("schedule_values: ReduceLROnPlateau needs metrics, one per step")
            scheduler.step(metrics[step])
        else:
            scheduler.step()
        values.append(list(scheduler.get_last_lr()))
    return values


def plot_schedule(make_scheduler, steps, path, lr=0.1, title=None, log_scale=False, metrics=None):
    """Plot ``schedule_values(make_scheduler, steps, lr)`` to the PNG file ``path`` and return the path."""
    values = schedule_values(make_scheduler, steps, lr, metrics)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(len(values)), [v[0] for v in values])
    if log_scale:
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel="learning rate", title=title or "learning-rate schedule")
    ax.grid(alpha=0.3)
    return save(fig, path)
