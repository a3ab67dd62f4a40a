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
