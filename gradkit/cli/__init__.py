"""The ``gradkit`` command.

    gradkit train [CONFIG.toml] [--out DIR] [--set key=value ...] [--resume RUN_DIR]
    gradkit evaluate RUN_DIR
    gradkit predict RUN_DIR INPUT.npy ...
    gradkit summary (CONFIG.toml | RUN_DIR)
    gradkit export RUN_DIR model.onnx [--opset N]
    gradkit plot activations OUT.png [NAME ...]
    gradkit plot schedule NAME OUT.png [--steps N] [--lr LR] [--set key=value ...]
    gradkit plot run RUN_DIR

Configuration problems are reported all at once, before anything runs, with exit status 2.
"""
import argparse
import sys

from gradkit.cli.config import ConfigError

EXIT_USAGE = 2


def _parser():
    parser = argparse.ArgumentParser(prog="gradkit", description="Train, evaluate and inspect gradkit models.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model (default: a small CNN on the bundled digits)")
    train.add_argument("config", nargs="?", help="TOML configuration (default: built-in defaults)")
    train.add_argument("--out", help="run folder (default: runs/<timestamp>)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a configuration key, e.g. --set optimizer.lr=1e-3 (repeatable)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint")
    evaluate = commands.add_parser("evaluate", help="evaluate a run's best model on its test split")
    evaluate.add_argument("run_dir")
    predict = commands.add_parser("predict", help="predict classes for inputs saved as .npy arrays")
    predict.add_argument("run_dir")
    predict.add_argument("inputs", nargs="+")
    summary = commands.add_parser("summary", help="layer-by-layer table of a configuration's or run's model")
    summary.add_argument("target", help="a TOML configuration or a run folder")
    export = commands.add_parser("export", help="export a run's best model to ONNX (dynamic batch size)")
    export.add_argument("run_dir")
    export.add_argument("output", help="the .onnx file to write")
    export.add_argument("--opset", type=int, default=17)
    _add_plot_parser(commands)
    return parser


def _add_plot_parser(subcommands):
    plot = subcommands.add_parser("plot", help="draw activations, a learning-rate schedule or a run's curves")
    kinds = plot.add_subparsers(dest="plot_kind", required=True, metavar="{activations,schedule,run}")
    activations = kinds.add_parser("activations", help="every activation and its derivative on one sheet")
    activations.add_argument("out", metavar="OUT.png", help="PNG file to write")
    activations.add_argument("names", nargs="*", metavar="NAME", help="activations to draw (default: all)")
    schedule = kinds.add_parser("schedule", help="a learning-rate schedule's curve",
                                description="NAME is a schedule of `gradkit train` (cosine, step, onecycle, "
                                            "exponential; --set takes its configuration keys and one step is "
                                            "one epoch) or a class of gradkit.optim.lr_scheduler such as "
                                            "CosineAnnealingLR (--set takes its keyword arguments).")
    schedule.add_argument("name", metavar="NAME")
    schedule.add_argument("out", metavar="OUT.png", help="PNG file to write")
    schedule.add_argument("--steps", type=int, metavar="N", help="steps to draw (default: the run's epochs, or 100)")
    schedule.add_argument("--lr", type=float, help="initial learning rate (default: the run's, or 0.1)")
    schedule.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                          help="a schedule option, e.g. --set gamma=0.5 or --set T_max=50 (repeatable)")
    run = kinds.add_parser("run", help="re-draw curves.png and lr.png from a run folder's metrics.csv")
    run.add_argument("run_dir", metavar="RUN_DIR")


def main(argv=None):
    args = _parser().parse_args(argv)
    from gradkit.cli import commands
    try:
        if args.command == "train":
            commands.train(args.config, args.out, args.set, args.resume)
        elif args.command == "evaluate":
            commands.evaluate(args.run_dir)
        elif args.command == "predict":
            commands.predict(args.run_dir, args.inputs)
        elif args.command == "summary":
            commands.summary(args.target)
        elif args.command == "plot":
            _plot(commands, args)
        elif args.command == "export":
            commands.export(args.run_dir, args.output, args.opset)
    except ConfigError as error:
        print(f"gradkit {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, ValueError, ImportError) as error:
        print(f"gradkit {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gradkit {args.command}: interrupted; resume with --resume RUN_DIR", file=sys.stderr)
        return 130
    return 0


def _plot(commands, args):
    if args.plot_kind == "activations":
        commands.plot_activations(args.out, args.names)
    elif args.plot_kind == "schedule":
        commands.plot_schedule(args.name, args.out, args.steps, args.lr, args.set)
    else:
        commands.plot_run(args.run_dir)
