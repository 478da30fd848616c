"""The ``pycnn`` command: train, evaluate and inspect the tutorials' networks.

    pycnn train mnist                 # seed-001 CNN on MNIST (embedded subset offline)
    pycnn train cifar10 --epochs 10 --threads 2 --data-dir DATA
    pycnn summary faces
    pycnn evaluate mnist_cnn.pycnn mnist
    pycnn bench

Errors (bad names, missing or corrupt files, a file that is not a pycnn
model) print one line on stderr and exit with status 1.
"""

import argparse
import os
import sys

_EXIT_ERROR = 1


def _parser():
    from pycnn.applications import NETWORKS
    from pycnn.applications.recipes import DATASETS, RECIPES, SUBSETS

    parser = argparse.ArgumentParser(prog="pycnn", description="Convolutional networks on the CPU.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train a tutorial network and save it",
                           description="Train a tutorial network, print its test accuracy, save it.")
    train.add_argument("network", metavar="NETWORK", help=f"one of: {', '.join(RECIPES)}")
    train.add_argument("--epochs", type=int, help="epochs (default: the tutorial's)")
    train.add_argument("--batch-size", type=int, help="batch size (default: the tutorial's)")
    train.add_argument("--threads", type=int, help="CPU threads (default: OMP_NUM_THREADS or all cores)")
    train.add_argument("--data-dir", help="folder with the data sets (default: $PYCNN_DATA_DIR, then the cache)")
    train.add_argument("--out", help="model file to write (default: <network>.pycnn in the current folder)")
    train.add_argument("--subset", choices=SUBSETS, default="auto",
                       help="MNIST only: 'embedded' (6000/1000 images shipped with pycnn), 'full', "
                            "or 'auto' (full when found on disk, else embedded)")
    train.add_argument("--limit", type=int, help="use only the first LIMIT training and test images")
    train.add_argument("--seed", type=int, default=0, help="random seed (weights, shuffling, split)")

    summary = sub.add_parser("summary", help="print a network's layers and parameter counts")
    summary.add_argument("network", metavar="NETWORK", help=f"one of: {', '.join(NETWORKS)}")

    evaluate = sub.add_parser("evaluate", help="evaluate a saved model on a data set's test split")
    evaluate.add_argument("model_file", metavar="MODEL_FILE")
    evaluate.add_argument("dataset", metavar="DATASET", help=f"one of: {', '.join(DATASETS)}")
    evaluate.add_argument("--data-dir")
    evaluate.add_argument("--subset", choices=SUBSETS, default="auto")
    evaluate.add_argument("--batch-size", type=int, default=256)
    evaluate.add_argument("--threads", type=int)
    evaluate.add_argument("--seed", type=int, default=0, help="faces only: the split seed used in training")

    bench = sub.add_parser("bench", help="a short speed report of this machine")
    bench.add_argument("--threads", type=int)
    bench.add_argument("--steps", type=int, default=5, help="timed repetitions per network (medians)")
    bench.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when it is installed")
    return parser


def _positive(value, name):
    if value is not None and value < 1:
        raise ValueError(f"--{name} must be >= 1, got {value}")
    return value


def _set_threads(threads):
    import pycnn

    if _positive(threads, "threads"):
        pycnn.set_num_threads(threads)
    return pycnn.get_num_threads()


def train(args):
    import numpy as np
    import pycnn
    from pycnn.applications import recipes
    from pycnn.callbacks import EpochTimer

    recipe = recipes.get(args.network)
    epochs = _positive(args.epochs, "epochs") or recipe.epochs
    batch_size = _positive(args.batch_size, "batch-size") or recipe.batch_size
    threads = _set_threads(args.threads)
    pycnn.utils.set_random_seed(args.seed)
    (x, y), (xt, yt), description, _ = recipes.load(recipe.dataset, args.data_dir, args.subset, args.seed)
    if _positive(args.limit, "limit"):
        x, y, xt, yt = x[:args.limit], y[:args.limit], xt[:args.limit], yt[:args.limit]
        description += f" (first {args.limit} of each used)"
    print(f"Data: {description}")
    model = recipe.build()
    model.compile(optimizer=recipe.make_optimizer(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    print(f"Network: {model.name}, {model.count_params():,} parameters; {recipe.note}")
    print(f"Training {epochs} epochs, batch {batch_size}, {threads} threads")
    timer = EpochTimer()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, callbacks=[timer])
    loss, accuracy = model.evaluate(xt, yt, batch_size=256, verbose=0)
    out = os.path.abspath(args.out or f"{recipe.network}.pycnn")
    model.save(out)
    print(f"Test accuracy: {accuracy:.4f} (loss {loss:.4f}) on {len(xt)} test images")
    print(f"Time per epoch: {float(np.median(timer.times)):.1f} s (median of {len(timer.times)}) "
          f"at {threads} threads")
    print(f"Model saved to {out}")


def summary(args):
    from pycnn.applications import get

    get(args.network)().summary()


def evaluate(args):
    import numpy as np
    from pycnn.applications import recipes
    from pycnn.metrics.report import classification_report
    from pycnn.models import load_model

    _set_threads(args.threads)
    if not os.path.isfile(args.model_file):
        raise ValueError(f"model file {args.model_file!r} does not exist")
    if args.dataset not in recipes.DATASETS:
        raise ValueError(f"unknown data set {args.dataset!r}; choose one of: {', '.join(recipes.DATASETS)}")
    model = load_model(args.model_file, compile=False)
    _, (xt, yt), description, names = recipes.load(args.dataset, args.data_dir, args.subset, args.seed)
    expected = tuple(model.input_shape[1:])
    if expected != xt.shape[1:]:
        raise ValueError(f"{args.model_file} takes inputs of shape {expected}, but {args.dataset} "
                         f"images are {xt.shape[1:]}")
    probs = model.predict(xt, batch_size=_positive(args.batch_size, "batch-size"), verbose=0)
    if probs.ndim != 2 or probs.shape[1] != len(names):
        raise ValueError(f"{args.model_file} outputs shape {probs.shape[1:]}, but {args.dataset} "
                         f"has {len(names)} classes")
    predicted = probs.argmax(axis=-1)
    print(f"Data: {description}")
    print(f"Test accuracy: {float(np.mean(predicted == yt)):.4f}")
    print(classification_report(yt, predicted, labels=list(range(len(names))), target_names=names, digits=4))


def bench(args):
    from pycnn.applications import bench as speed

    threads = _set_threads(args.threads)
    speed.report(threads, steps=_positive(args.steps, "steps"), torch=not args.no_torch)


_COMMANDS = {"train": train, "summary": summary, "evaluate": evaluate, "bench": bench}


def _one_line(error):
    text = str(error) or type(error).__name__
    if isinstance(error, OSError) and error.filename and error.strerror:
        text = f"{error.strerror}: {error.filename}"
    return " ".join(text.split())


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("pycnn: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError, ImportError, MemoryError) as error:
        print(f"pycnn: error: {_one_line(error)}", file=sys.stderr)
        return _EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
