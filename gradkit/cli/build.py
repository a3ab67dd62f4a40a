"""Build the model, data, optimizer, schedule, loss and callbacks of a run from its configuration."""
import os

import numpy as np

from gradkit import nn, optim


# ----- data --------------------------------------------------------------------------------------------
def build_datasets(data_config, seed):
    """(train, val, test) datasets, the input shape of one sample and the number of classes."""
    from gradkit.data import datasets, stratified_split, transforms
    name, root = data_config["name"], data_config["root"]
    if name == "digits":
        full = datasets.Digits()
    elif name in ("mnist", "fashion_mnist"):
        cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
        full = _concat(cls(root, train=True), cls(root, train=False))
    elif name == "cifar10":
        full = _concat(datasets.CIFAR10(root, train=True), datasets.CIFAR10(root, train=False))
    elif name == "image_folder":
        size = data_config["image_size"]
        full = datasets.ImageFolder(root, transform=transforms.Compose([transforms.ToTensor(),
                                                                        transforms.Resize((size, size))]))
    else:
        full = datasets.CSVDataset(root, target_column=data_config["target_column"])
    labels = _labels(full)
    test_fraction, val_fraction = data_config["test_fraction"], data_config["val_fraction"]
    fractions = (1 - val_fraction - test_fraction, val_fraction, test_fraction)
    from gradkit.backend import Generator
    train, val, test = stratified_split(labels, fractions, generator=Generator(seed))
    train, val, test = (_subset(full, idx) for idx in (train, val, test))
    sample, _ = full[0]
    shape = tuple(np.shape(sample.data if hasattr(sample, "data") else sample))
    if data_config["augment"] and len(shape) == 3:
        pad = max(1, shape[-1] // 8)
        train = _Transformed(train, transforms.RandomCrop(shape[-2:], padding=pad))
    return train, val, test, shape, int(labels.max()) + 1


def _labels(dataset):
    for attribute in ("targets", "labels"):
        if hasattr(dataset, attribute):
            return np.asarray(getattr(dataset, attribute)).astype(np.int64)
    return np.asarray([int(dataset[i][1]) for i in range(len(dataset))], dtype=np.int64)


def _subset(dataset, indices):
    from gradkit.data import Subset
    indices = indices.indices if hasattr(indices, "indices") else indices
    return Subset(dataset, list(np.asarray(indices).tolist()))


def _concat(a, b):
    from gradkit.data import ConcatDataset
    joined = ConcatDataset([a, b])
    joined.targets = np.concatenate([_labels(a), _labels(b)])
    return joined


class _Transformed:
    """A dataset view that applies ``transform`` to the inputs only (training-time augmentation)."""

    def __init__(self, dataset, transform):
        self.dataset, self.transform = dataset, transform

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        x, y = self.dataset[index]
        return self.transform(x), y


def build_loaders(train, val, test, config):
    from gradkit.data import DataLoader
    data = config["data"]
    batch = config["batch_size"]
    workers = data["num_workers"]
    train_loader = DataLoader(train, batch_size=batch, shuffle=True, num_workers=workers)
    val_loader = DataLoader(val, batch_size=512, num_workers=workers)
    test_loader = DataLoader(test, batch_size=512, num_workers=workers)
    return train_loader, val_loader, test_loader


# ----- model -----------------------------------------------------------------------------------------------
def build_model(model_config, input_shape, num_classes):
    name = model_config["name"]
    if name == "cnn":
        return _cnn(model_config, input_shape, num_classes)
    if name == "mlp":
        return _mlp(model_config, input_shape, num_classes)
    if name == "layers":
        return _layers(model_config["layers"])
    from gradkit import onnx
    return onnx.load(model_config["path"])


def _cnn(config, input_shape, num_classes):
    """Blocks of (conv3x3-BN-ReLU) x 2 + max-pool, then dropout and a linear classifier on the global
    average: a small VGG-style net that works from 8x8 digits to 32x32 colour images."""
    in_channels = input_shape[0]
    layers = []
    for channels in config["channels"]:
        for _ in range(2):
            layers.append(nn.Conv2d(in_channels, channels, 3, padding=1, bias=not config["batch_norm"]))
            if config["batch_norm"]:
                layers.append(nn.BatchNorm2d(channels))
            layers.append(nn.ReLU())
            in_channels = channels
        layers.append(nn.MaxPool2d(2))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(config["dropout"]), nn.Linear(in_channels, num_classes)]
    return nn.Sequential(*layers)


def _mlp(config, input_shape, num_classes):
    sizes = [int(np.prod(input_shape))] + list(config["hidden"])
    layers = [nn.Flatten()]
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers += [nn.Dropout(config["dropout"]), nn.Linear(sizes[-1], num_classes)]
    return nn.Sequential(*layers)


def _layers(specs):
    layers = []
    for i, spec in enumerate(specs):
        kind = spec.get("type")
        if not hasattr(nn, str(kind)):
            raise ValueError(f"model.layers[{i}].type: unknown layer {kind!r}")
        layers.append(getattr(nn, kind)(*spec.get("args", []), **spec.get("kwargs", {})))
    return nn.Sequential(*layers)


def parameter_layers(model):
    """The model's parameters grouped by layer, in order: per module with parameters, or per graph
    node for an imported ONNX model (which holds all its parameters itself)."""
    if hasattr(model, "parameter_groups"):
        return [params for _, params in model.parameter_groups()]
    return [list(m.parameters(recurse=False)) for m in model.modules()
            if any(True for _ in m.parameters(recurse=False))]


def freeze_all_but_last(model, trainable_layers):
    """Fine-tuning: keep only the last ``trainable_layers`` layers with parameters trainable."""
    if trainable_layers < 0:
        return
    layers = parameter_layers(model)
    for params in layers[:max(0, len(layers) - trainable_layers)]:
        for p in params:
            p.requires_grad_(False)


# ----- optimisation ----------------------------------------------------------------------------------------
def build_optimizer(config, parameters):
    o = config["optimizer"]
    params = [p for p in parameters if p.requires_grad]
    name, lr, wd = o["name"], o["lr"], o["weight_decay"]
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=o["momentum"], nesterov=o["nesterov"], weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=o["momentum"], weight_decay=wd)
    classes = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad, "nadam": optim.NAdam,
               "radam": optim.RAdam}
    return classes[name](params, lr=lr, weight_decay=wd)


def build_scheduler(config, optimizer, steps_per_epoch):
    """The schedule, stepped once per optimizer step (so warm-up and cosine are smooth)."""
    from gradkit.optim import lr_scheduler as sched
    s, epochs = config["scheduler"], config["epochs"]
    total = epochs * steps_per_epoch
    warmup = s["warmup_epochs"] * steps_per_epoch
    name = s["name"]
    if name == "none":
        return None
    if name == "onecycle":
        return sched.OneCycleLR(optimizer, max_lr=config["optimizer"]["lr"], total_steps=total)
    if name == "cosine":
        main = sched.CosineAnnealingLR(optimizer, T_max=max(1, total - warmup), eta_min=s["min_lr"])
    elif name == "step":
        main = sched.StepLR(optimizer, step_size=s["step_size"] * steps_per_epoch, gamma=s["gamma"])
    else:
        main = sched.ExponentialLR(optimizer, gamma=s["gamma"] ** (1 / steps_per_epoch))
    if warmup == 0:
        return main
    ramp = sched.LinearLR(optimizer, start_factor=1e-3, end_factor=1.0, total_iters=warmup)
    return sched.SequentialLR(optimizer, [ramp, main], milestones=[warmup])


def build_loss(config):
    loss = config["loss"]
    if loss["name"] == "cross_entropy":
        return nn.CrossEntropyLoss(label_smoothing=loss["label_smoothing"])
    if loss["name"] == "multi_margin":
        return nn.MultiMarginLoss()
    import gradkit.nn.functional as F
    return lambda logits, target: F.softmax_focal_loss(logits, target)


def build_callbacks(config, run_dir):
    from gradkit.train import callbacks as cb
    c = config["callbacks"]
    callbacks = [cb.ModelCheckpoint(run_dir, monitor=c["monitor"]),
                 cb.CSVLogger(os.path.join(run_dir, "metrics.csv"), append=True),
                 cb.LearningRateMonitor()]
    if c["early_stopping"]:
        callbacks.append(cb.EarlyStopping(monitor=c["monitor"], patience=c["patience"], restore_best_weights=True))
    if c["progress"]:
        callbacks.append(cb.ProgressBar())
    if c["tensorboard"]:
        from gradkit.train import TensorBoardLogger
        callbacks.append(TensorBoardLogger(os.path.join(run_dir, "tensorboard")))
    return callbacks
