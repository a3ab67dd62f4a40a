"""What each ``gradkit`` sub-command does."""
import json
import os
import time

import numpy as np

from gradkit.cli import build, config as run_config

CONFIG_FILE = "config.toml"


def _prepare(config, run_dir):
    import gradkit as gk
    gk.manual_seed(config["seed"])
    np.random.seed(config["seed"])
    train_set, val_set, test_set, shape, classes = build.build_datasets(config["data"], config["seed"])
    loaders = build.build_loaders(train_set, val_set, test_set, config)
    model = build.build_model(config["model"], shape, classes)
    build.freeze_all_but_last(model, config["model"]["trainable_layers"])
    return model, loaders, shape, classes


def train(config_path, out, overrides, resume):
    from gradkit.train import Trainer
    if resume:
        config = run_config.load(os.path.join(resume, CONFIG_FILE), overrides)
        run_dir = resume
        checkpoint = os.path.join(run_dir, "last.ckpt")
        if not os.path.exists(checkpoint):
            raise FileNotFoundError(f"{checkpoint}: the run has no checkpoint yet; start it again without --resume")
    else:
        config = run_config.load(config_path, overrides)
        run_dir = out or os.path.join("runs", time.strftime("%Y%m%d-%H%M%S"))
        if os.path.exists(os.path.join(run_dir, "last.ckpt")):
            raise ValueError(f"{run_dir} already holds a run; use --resume {run_dir} or another --out")
        checkpoint = None
        os.makedirs(run_dir, exist_ok=True)
        from gradkit.serialization import atomic_write_bytes
        atomic_write_bytes(os.path.join(run_dir, CONFIG_FILE), [run_config.to_toml(config).encode()])
    start = time.perf_counter()
    model, (train_loader, val_loader, test_loader), shape, classes = _prepare(config, run_dir)
    _write_summary(model, shape, run_dir)
    optimizer = build.build_optimizer(config, model.parameters())
    scheduler = build.build_scheduler(config, optimizer, len(train_loader))
    clip = config["callbacks"]["grad_clip_norm"] or None
    trainer = Trainer(model, optimizer, build.build_loss(config), metrics=["accuracy"], scheduler=scheduler,
                      scheduler_interval="step", callbacks=build.build_callbacks(config, run_dir),
                      grad_clip_norm=clip, seed=config["seed"], progress=False)
    print(f"gradkit train: {config['model']['name']} on {config['data']['name']} "
          f"({len(train_loader.dataset)} train / {len(val_loader.dataset)} val / {len(test_loader.dataset)} test), "
          f"{sum(p.numel() for p in model.parameters())} parameters, run folder {run_dir}")
    trainer.fit(train_loader, val_loader, epochs=config["epochs"], resume_from=checkpoint)
    results = {f"test_{k}": v for k, v in trainer.evaluate(test_loader).items()}
    results.update({"epochs_run": trainer.epoch, "seconds": round(time.perf_counter() - start, 2)})
    for key, values in trainer.history.history.items():
        results[f"final_{key}"] = values[-1]
    _write_json(os.path.join(run_dir, "metrics.json"), results)
    _plots(trainer, run_dir)
    print(f"test_loss {results['test_loss']:.4f}  test_accuracy {results['test_accuracy']:.4f}  "
          f"({results['epochs_run']} epochs, {results['seconds']:.1f} s)  -> {run_dir}")
    return results


def _write_json(path, data):
    from gradkit.serialization import atomic_write_bytes
    atomic_write_bytes(path, [json.dumps(data, indent=2, sort_keys=True).encode()])


def _write_summary(model, shape, run_dir):
    from gradkit.serialization import atomic_write_bytes
    try:
        from gradkit.analysis import summary
        text = str(summary(model, (1,) + tuple(shape)))
    except ImportError:
        text = repr(model)
    atomic_write_bytes(os.path.join(run_dir, "summary.txt"), [text.encode() + b"\n"])


def _plots(trainer, run_dir):
    try:
        from gradkit.viz import plot_history, plot_learning_rates
    except ImportError:
        return
    plot_history(trainer.history.history, os.path.join(run_dir, "curves.png"))
    monitors = [c for c in trainer.callbacks if type(c).__name__ == "LearningRateMonitor"]
    if monitors:
        plot_learning_rates([lrs[0] for lrs in monitors[0].lrs], os.path.join(run_dir, "lr.png"))


def _load_run(run_dir):
    import gradkit as gk
    config = run_config.load(os.path.join(run_dir, CONFIG_FILE))
    model, loaders, shape, classes = _prepare(config, run_dir)
    model.load_state_dict(gk.load(os.path.join(run_dir, "best.safetensors")))
    model.eval()
    return config, model, loaders


def evaluate(run_dir):
    from gradkit.train.metrics import accuracy, confusion_matrix, precision_recall_f1
    import gradkit as gk
    _, model, (_, _, test_loader) = _load_run(run_dir)
    outputs, targets = [], []
    with gk.no_grad():
        for x, y in test_loader:
            outputs.append(model(x).numpy())
            targets.append(y.numpy())
    outputs, targets = np.concatenate(outputs), np.concatenate(targets)
    p, r, f = precision_recall_f1(outputs, targets)
    print(f"test_accuracy {accuracy(outputs, targets):.4f}  macro precision {p:.4f}  recall {r:.4f}  f1 {f:.4f}")
    print("confusion matrix (rows: true class, columns: predicted):")
    print(confusion_matrix(outputs, targets))


def predict(run_dir, inputs):
    import gradkit as gk
    _, model, _ = _load_run(run_dir)
    for path in inputs:
        array = np.load(path, allow_pickle=False).astype(np.float32)
        with gk.no_grad():
            probs = gk.softmax(model(gk.tensor(array if array.ndim == 4 else array[None])), dim=1).numpy()
        for row in probs:
            print(f"{path}: class {int(row.argmax())} (p={row.max():.3f})")


def export(run_dir, output, opset=17):
    """Write the run's best model as ONNX, with a dynamic batch dimension; fine-tune it later with
    ``gradkit train --set model.name=onnx --set model.path=OUTPUT``."""
    import gradkit as gk
    config, model, (_, _, test_loader) = _load_run(run_dir)
    sample, _ = next(iter(test_loader))
    gk.onnx.export(model, (sample[:1],), output, input_names=["input"], output_names=["logits"],
                   dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=opset)
    print(f"gradkit export: {config['model']['name']} from {run_dir} -> {output} (opset {opset})")


def summary(target):
    if os.path.isdir(target):
        config = run_config.load(os.path.join(target, CONFIG_FILE))
    else:
        config = run_config.load(target)
    _, _, _, shape, classes = build.build_datasets(config["data"], config["seed"])
    model = build.build_model(config["model"], shape, classes)
    try:
        from gradkit.analysis import summary as model_summary
        print(model_summary(model, (1,) + tuple(shape)))
    except ImportError:
        print(model)


# ----- gradkit plot ------------------------------------------------------------------------------------------
class PlotError(run_config.ConfigError):
    """Bad names or options given to ``gradkit plot``: reported like configuration errors (exit status 2)."""

    def __str__(self):
        if len(self.problems) == 1:
            return self.problems[0]
        return "problems:" + "".join(f"\n  - {p}" for p in self.problems)


def _unknown(kind, name, choices):
    import difflib
    close = difflib.get_close_matches(name, list(choices), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown {kind} {name!r} ({hint}choose from {', '.join(choices)})"


def plot_activations(out, names=()):
    from gradkit.viz import plot_activations as draw
    from gradkit.viz.activations import ACTIVATIONS
    unknown = [name for name in names if name not in ACTIVATIONS]
    if unknown:
        raise PlotError([_unknown("activation", name, ACTIVATIONS) for name in unknown])
    draw(out, names=tuple(names) or ACTIVATIONS)
    print(f"gradkit plot: {len(names) or len(ACTIVATIONS)} activations and their derivatives -> {out}")


# Schedules of gradkit.optim.lr_scheduler that cannot be drawn from numbers alone: they take other
# schedulers or Python functions, or (ReduceLROnPlateau) follow a metric.
_NOT_DRAWABLE = ("LRScheduler", "SequentialLR", "ChainedScheduler", "LambdaLR", "MultiplicativeLR", "ReduceLROnPlateau")
# Required arguments that mean "the length of the schedule": filled with --steps when not given.
_LENGTH_ARGUMENTS = ("T_max", "total_steps", "decay_steps")


def plot_schedule(name, out, steps=None, lr=None, overrides=()):
    """Draw a schedule of ``gradkit train`` (by its configuration name) or a scheduler class by name."""
    from gradkit.optim import lr_scheduler
    from gradkit.viz import plot_schedule as draw
    config_names = [n for n in run_config.SCHEMA["scheduler"]["name"][2].choices if n != "none"]
    classes = [n for n in lr_scheduler.__all__ if n not in _NOT_DRAWABLE]
    if steps is not None and steps < 1:
        raise PlotError([f"--steps: must be > 0, got {steps}"])
    if name in config_names:
        make, steps, lr, title = _config_schedule(name, steps, lr, overrides)
    elif name in classes:
        make, steps, lr, title = _class_schedule(getattr(lr_scheduler, name), steps, lr, overrides)
    elif name in _NOT_DRAWABLE:
        raise PlotError([f"{name} has no curve of its own: it follows a metric or wraps other schedules "
                         "or functions; draw it from Python with gradkit.viz.plot_schedule"])
    else:
        raise PlotError([_unknown("schedule", name, config_names + classes)])
    draw(make, steps, out, lr=lr, title=title)
    print(f"gradkit plot: {title}, {steps} steps -> {out}")


def _config_schedule(name, steps, lr, overrides):
    """The schedule exactly as ``gradkit train`` builds it, with one step per epoch; ``--set`` takes the
    run configuration's keys, the ``scheduler.`` prefix optional (``--set gamma=0.5``)."""
    scheduler_keys = run_config.SCHEMA["scheduler"]
    overrides = [f"scheduler.{item}" if item.split("=", 1)[0].strip() in scheduler_keys else item
                 for item in overrides]
    overrides.append(f"scheduler.name={name}")
    if steps is not None:
        overrides.append(f"epochs={steps}")
    if lr is not None:
        overrides.append(f"optimizer.lr={lr}")
    config = run_config.load(None, overrides)
    return (lambda optimizer: build.build_scheduler(config, optimizer, steps_per_epoch=1), config["epochs"],
            config["optimizer"]["lr"], f"{name} schedule of gradkit train (one step per epoch)")


def _class_schedule(cls, steps, lr, overrides):
    """A scheduler class with keyword options from ``--set key=value`` (values in TOML syntax)."""
    steps, lr = steps or 100, 0.1 if lr is None else lr
    options, problems = _class_options(cls, overrides, steps, lr)
    if problems:
        raise PlotError(problems)
    title = f"{cls.__name__}({', '.join(f'{k}={v}' for k, v in options.items())})"
    try:  # fail here, with the options named, rather than halfway through drawing
        from gradkit.viz import schedule_values
        schedule_values(lambda optimizer: cls(optimizer, **options), steps, lr=lr)
    except (TypeError, ValueError) as error:
        raise PlotError([f"{title}: {error}"]) from None
    return lambda optimizer: cls(optimizer, **options), steps, lr, title


def _class_options(cls, overrides, steps, lr):
    """The keyword arguments for ``cls`` and the problems found: unknown or missing options. A missing
    length of the schedule (T_max, total_steps, decay_steps) is the number of steps drawn, a missing
    max_lr the initial rate."""
    import inspect
    options, problems = {}, []
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep:
            problems.append(f"--set {item}: expected key=value")
            continue
        options[key.strip()] = run_config.parse_value(text.strip())
    parameters = inspect.signature(cls).parameters
    known = [p for p in parameters if p not in ("optimizer", "last_epoch")]
    problems += [f"--set {key}: {cls.__name__} has no option {key!r} (options: {', '.join(known)})"
                 for key in options if key not in known]
    for key in known:
        if key in options:
            continue
        required = parameters[key].default is inspect.Parameter.empty
        if key in _LENGTH_ARGUMENTS and (required or parameters[key].default is None) and "epochs" not in options:
            options[key] = steps
        elif key == "max_lr" and required:
            options[key] = lr
        elif required:
            problems.append(f"{cls.__name__}: needs {key} (give it with --set {key}=...)")
    return options, problems


def plot_run(run_dir):
    """Re-draw a run's curves.png and lr.png from its metrics.csv."""
    from gradkit.viz import plot_history
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"{run_dir}: no such run folder")
    history = _read_metrics(os.path.join(run_dir, "metrics.csv"))
    written = [plot_history(history, os.path.join(run_dir, "curves.png"))]
    if history.get("lr"):
        # The run folder keeps the rate once per epoch (the per-step values live only during training).
        written.append(_plot_epoch_learning_rates(history["lr"], os.path.join(run_dir, "lr.png")))
    print(f"gradkit plot: {len(history['loss'])} epochs -> {', '.join(written)}")


def _read_metrics(path):
    """metrics.csv as {column: [value per epoch]}. A run resumed after a kill may have logged an epoch
    twice (once before the kill, once after); the later row is the one the run kept."""
    import csv
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: the run folder has no metrics yet")
    try:
        with open(path, newline="") as f:
            rows = {int(row["epoch"]): row for row in csv.DictReader(f) if row.get("epoch")}
        ordered = [rows[epoch] for epoch in sorted(rows)]
        columns = [c for c in (ordered[0] if ordered else ()) if c != "epoch"]
        history = {c: [float(row[c]) for row in ordered if row.get(c) not in (None, "")] for c in columns}
    except (KeyError, ValueError) as error:
        raise ValueError(f"{path}: not a metrics table of gradkit train ({error})") from None
    if not rows:
        raise ValueError(f"{path}: no epochs recorded")
    if "loss" not in history:
        raise ValueError(f"{path}: no loss column")
    return history


def _plot_epoch_learning_rates(lrs, path):
    from gradkit.viz._backend import pyplot, save
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(1, len(lrs) + 1), lrs, marker="o", ms=3)
    ax.xaxis.get_major_locator().set_params(integer=True)  # epochs, not 1.25, 1.5, ...
    ax.set(xlabel="epoch", ylabel="learning rate", title="learning rate at the end of each epoch")
    ax.grid(alpha=0.3)
    return save(fig, path)
