"""Six learning-rate schedules: their curves on one plot, then a short training run with each.

    python examples/compare_schedules.py        (needs scikit-learn and matplotlib)

Every schedule starts from (or peaks at) the same rate and spans the same number of optimizer steps;
it is stepped after every batch, as the Trainer does with ``scheduler_interval="step"``. The curves
come from ``gradkit.viz.schedule_values``, which steps each schedule on a throwaway optimizer.
"""
import os

import gradkit as gk
from gradkit import nn, optim
from gradkit.data import DataLoader, stratified_split
from gradkit.data.datasets import Digits
from gradkit.optim import lr_scheduler as sched
from gradkit.train import Trainer
from gradkit.viz import schedule_values

QUICK = os.environ.get("GRADKIT_EXAMPLE_QUICK") == "1"  # the tests run every example in a few seconds
LR = 0.1

# Each entry builds the schedule for an optimizer and the total number of steps of the run.
SCHEDULES = {
    "step (x0.1 each third)": lambda opt, total: sched.StepLR(opt, step_size=total // 3 + 1, gamma=0.1),
    "exponential (to 1%)": lambda opt, total: sched.ExponentialLR(opt, gamma=0.01 ** (1 / total)),
    "cosine": lambda opt, total: sched.CosineAnnealingLR(opt, T_max=total),
    "one-cycle": lambda opt, total: sched.OneCycleLR(opt, max_lr=LR, total_steps=total),
    "cyclic (triangular)": lambda opt, total: sched.CyclicLR(opt, base_lr=LR / 10, max_lr=LR,
                                                             step_size_up=max(1, total // 6)),
    "polynomial decay (TF, power 2)": lambda opt, total: sched.PolynomialDecay(opt, decay_steps=total,
                                                                                end_learning_rate=LR / 100, power=2),
}


def plot_curves(total, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, make in SCHEDULES.items():
        values = schedule_values(lambda opt: make(opt, total), total, lr=LR)
        ax.plot(range(len(values)), [v[0] for v in values], label=name)
    ax.set(xlabel="optimizer step", ylabel="learning rate", title=f"six schedules over {total} steps")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="center left", bbox_to_anchor=(1.01, 0.5))  # outside: the curves fill the axes
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def train(make_schedule, train_loader, test_loader, epochs):
    gk.manual_seed(0)  # the same initial weights for every schedule
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    scheduler = make_schedule(optimizer, epochs * len(train_loader))
    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), scheduler=scheduler, scheduler_interval="step",
                      seed=0, progress=False)
    history = trainer.fit(train_loader, epochs=epochs).history
    return history["loss"][-1], trainer.evaluate(test_loader)["accuracy"]


def main(epochs=2 if QUICK else 10, out="compare_schedules.png"):
    digits = Digits()
    train_set, test_set = stratified_split(digits, (0.8, 0.2), generator=gk.Generator(0))
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=512)
    total = epochs * len(train_loader)
    plot_curves(total, out)
    print(f"learning-rate curves over {total} steps -> {out}")
    print(f"{'schedule':32s} {'final train loss':>16s} {'test accuracy':>14s}")
    results = {}
    for name, make in SCHEDULES.items():
        loss, accuracy = results[name] = train(make, train_loader, test_loader, epochs)
        print(f"{name:32s} {loss:16.4f} {accuracy:14.3f}")
    return results


if __name__ == "__main__":
    main()
