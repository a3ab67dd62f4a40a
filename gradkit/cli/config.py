"""The run configuration of ``gradkit train``: a TOML file, its schema, defaults and validation.

Every key has a type, a default and, where it matters, a check. Validation collects *all* problems
(unknown keys, wrong types, impossible values) and reports them together before anything runs.
"""
import copy
import difflib

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None


class ConfigError(Exception):
    """One or more problems in a configuration; ``problems`` lists them, each naming its key."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in self.problems))


def _positive(v):
    return v > 0


def _non_negative(v):
    return v >= 0


def _fraction(v):
    return 0 <= v < 1


def _one_of(*choices):
    check = lambda v: v in choices  # noqa: E731
    check.choices = choices
    return check


# key: (types, default, check or None, help)
SCHEMA = {
    "seed": (int, 0, None, "seed of every random generator"),
    "epochs": (int, 40, _positive, "number of training epochs"),
    "batch_size": (int, 64, _positive, "samples per training batch"),
    "model": {
        "name": (str, "cnn", _one_of("cnn", "mlp", "layers", "onnx"), "architecture"),
        "channels": (list, [32, 64], None, "cnn: channels of each conv block (each block: 2 convs + pool)"),
        "hidden": (list, [256, 128], None, "mlp: hidden layer sizes"),
        "dropout": (float, 0.25, _fraction, "dropout before the classifier"),
        "batch_norm": (bool, True, None, "cnn: BatchNorm after each conv"),
        "layers": (list, [], None, "layers: list of {type=..., args=[...], kwargs={...}} tables"),
        "path": (str, "", None, "onnx: model file to fine-tune"),
        "trainable_layers": (int, -1, None, "freeze all but the last N parameterised layers (-1: train all)"),
    },
    "data": {
        "name": (str, "digits", _one_of("digits", "mnist", "fashion_mnist", "cifar10", "image_folder", "csv"),
                 "dataset"),
        "root": (str, "", None, "folder (or CSV file) with the dataset's files"),
        "target_column": (str, "target", None, "csv: name of the label column"),
        "val_fraction": (float, 0.1, _fraction, "fraction held out for validation (stratified)"),
        "test_fraction": (float, 0.1, _fraction, "fraction held out for the final test (stratified)"),
        "augment": (bool, True, None, "random shifts of the training images"),
        "num_workers": (int, 0, _non_negative, "data-loading worker processes"),
        "image_size": (int, 32, _positive, "image_folder: images are resized to this square size"),
    },
    "optimizer": {
        "name": (str, "adam", _one_of("sgd", "adam", "adamw", "rmsprop", "adagrad", "nadam", "radam"), "optimizer"),
        "lr": (float, 3e-3, _positive, "learning rate"),
        "weight_decay": (float, 0.0, _non_negative, "L2 (coupled) or decoupled (adamw) weight decay"),
        "momentum": (float, 0.9, _fraction, "sgd/rmsprop momentum"),
        "nesterov": (bool, False, None, "sgd: Nesterov momentum"),
    },
    "scheduler": {
        "name": (str, "cosine", _one_of("none", "cosine", "step", "onecycle", "exponential"), "learning-rate schedule"),
        "warmup_epochs": (int, 0, _non_negative, "linear warm-up before the schedule"),
        "step_size": (int, 10, _positive, "step: epochs between decays"),
        "gamma": (float, 0.1, _positive, "step/exponential: decay factor"),
        "min_lr": (float, 0.0, _non_negative, "cosine: final learning rate"),
    },
    "loss": {
        "name": (str, "cross_entropy", _one_of("cross_entropy", "focal", "multi_margin"), "loss"),
        "label_smoothing": (float, 0.0, _fraction, "cross_entropy: label smoothing"),
    },
    "callbacks": {
        "early_stopping": (bool, True, None, "stop when the monitored value stops improving"),
        "patience": (int, 10, _non_negative, "early stopping: epochs without improvement"),
        "monitor": (str, "val_loss", None, "value watched by early stopping and the best checkpoint"),
        "grad_clip_norm": (float, 0.0, _non_negative, "clip the gradient norm (0: off)"),
        "progress": (bool, True, None, "show a progress bar"),
        "tensorboard": (bool, False, None, "write TensorBoard event files to RUN_DIR/tensorboard"),
    },
}


def defaults(schema=SCHEMA):
    return {k: defaults(v) if isinstance(v, dict) else copy.deepcopy(v[1]) for k, v in schema.items()}


def _type_ok(value, expected):
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _describe(check):
    return f"one of {list(check.choices)}" if hasattr(check, "choices") else {
        "_positive": "> 0", "_non_negative": ">= 0", "_fraction": "in [0, 1)"}.get(check.__name__, "valid")


def _validate(config, schema, prefix, problems):
    resolved = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if key not in schema:
            close = difflib.get_close_matches(key, list(schema), n=1)
            problems.append(f"{name}: unknown key" + (f" (did you mean {prefix}{close[0]}?)" if close else ""))
            continue
        spec = schema[key]
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                problems.append(f"{name}: expected a table, got {type(value).__name__}")
                continue
            resolved[key] = _validate(value, spec, name + ".", problems)
            continue
        expected, _, check, _ = spec
        if not _type_ok(value, expected):
            problems.append(f"{name}: expected {expected.__name__}, got {type(value).__name__} {value!r}")
            continue
        if expected is float:
            value = float(value)
        if check is not None and not check(value):
            problems.append(f"{name}: must be {_describe(check)}, got {value!r}")
            continue
        resolved[key] = value
    for key, spec in schema.items():
        if key not in resolved:
            resolved[key] = defaults(spec) if isinstance(spec, dict) else copy.deepcopy(spec[1])
    return resolved


def validate(config):
    """Return the full configuration (defaults filled in) or raise ConfigError listing every problem."""
    problems = []
    resolved = _validate(config, SCHEMA, "", problems)
    if not problems:
        data = resolved["data"]
        if data["val_fraction"] + data["test_fraction"] >= 1:
            problems.append("data.val_fraction + data.test_fraction: must be < 1, got "
                            f"{data['val_fraction'] + data['test_fraction']}")
        if data["name"] not in ("digits",) and not data["root"]:
            problems.append(f"data.root: dataset {data['name']!r} needs the folder (or file) holding its files")
        if resolved["model"]["name"] == "onnx" and not resolved["model"]["path"]:
            problems.append("model.path: model.name = 'onnx' needs the path of the ONNX file")
    if problems:
        raise ConfigError(problems)
    return resolved


def parse_value(text):
    """A ``--set`` value: TOML syntax (``3``, ``1e-3``, ``true``, ``"adam"``, ``[32, 64]``), else a string."""
    if tomllib is None:
        return text
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(config, overrides):
    """Apply ``key.sub=value`` overrides (dotted keys) to a raw configuration."""
    problems = []
    for item in overrides:
        if "=" not in item:
            problems.append(f"--set {item}: expected key=value")
            continue
        key, text = item.split("=", 1)
        parts = key.strip().split(".")
        target = config
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                problems.append(f"--set {key}: {part} is not a table")
                break
        else:
            target[parts[-1]] = parse_value(text.strip())
    if problems:
        raise ConfigError(problems)
    return config


def load(path=None, overrides=()):
    """Read a TOML file (or start from the defaults), apply overrides, validate."""
    raw = {}
    if path is not None:
        if tomllib is None:
            raise ConfigError(["reading TOML needs Python 3.11 (tomllib) or later"])
        try:
            with open(path, "rb") as f:
                raw = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError([f"{path}: no such configuration file"]) from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError([f"{path}: not valid TOML: {error}"]) from None
    return validate(apply_overrides(raw, overrides))


def to_toml(config, prefix=""):
    """Write a resolved configuration back as TOML (scalars first, then tables), for the run folder."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return repr(v)
    lines = [f"{k} = {value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    for k, v in config.items():
        if isinstance(v, dict):
            lines += ["", f"[{prefix}{k}]"] + [f"{kk} = {value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


def schema_markdown():
    """The configuration reference (docs/config.md), generated from :data:`SCHEMA`."""
    def rows(schema, prefix):
        for key, spec in schema.items():
            if isinstance(spec, dict):
                yield from rows(spec, f"{prefix}{key}.")
                continue
            expected, default, check, help_text = spec
            allowed = f" ({_describe(check)})" if check is not None else ""
            yield f"| `{prefix}{key}` | {expected.__name__}{allowed} | `{to_toml({'v': default})[4:].strip()}` | {help_text} |"
    lines = ["# `gradkit train` configuration", "",
             "A TOML file with these keys (all optional; tables in brackets, e.g. `[optimizer]`). The same",
             "keys can be set on the command line with `--set key.sub=value` (TOML syntax for the value).",
             "Unknown keys, wrong types and impossible values are all reported together before anything runs.",
             "This page is generated from `gradkit/cli/config.py` (`python -m gradkit.cli.config`).", "",
             "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    return "\n".join(lines + list(rows(SCHEMA, ""))) + "\n"


if __name__ == "__main__":
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "config.md")
    with open(path, "w") as f:
        f.write(schema_markdown())
    print(f"written {os.path.normpath(path)}")
