"""Tutorial 000: a convnet against a multilayer perceptron on CIFAR-10, with
pycnn in place of Keras. The tutorial reports about 73 % test accuracy for
the CNN (4 x Conv + BatchNormalization + LeakyReLU, Dense 128 + Dropout)
and about 50 % for the MLP (Dense 200 - 150), both trained 10 epochs with
Adam (learning rate 5e-4) at batch 32.

    python examples/cifar10_cnn_vs_mlp.py --data-dir DATA [--epochs 10] [--networks mlp cnn]
        [--lr-drops EPOCH ...] [--plots DIR]

Both networks get the same epoch budget; the table at the end gives test
accuracy, parameters and wall time per epoch for each.
"""

import argparse
from pathlib import Path

import numpy as np

import pycnn
from pycnn import callbacks, optimizers
from pycnn.applications import cifar10_cnn, cifar10_mlp
from pycnn.datasets import cifar10
from pycnn.utils import to_categorical


def step_decay(epoch, args):
    """A fixed schedule, the same for both networks: the learning rate is
    multiplied by --lr-factor at each epoch listed in --lr-drops."""
    return args.learning_rate * args.lr_factor ** sum(epoch >= drop for drop in args.lr_drops)


def train(model, data, args):
    (x_train, y_train), (x_test, y_test) = data
    model.compile(optimizer=optimizers.Adam(learning_rate=args.learning_rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    timer = callbacks.EpochTimer()
    schedule = callbacks.LearningRateScheduler(lambda epoch: step_decay(epoch, args))
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, shuffle=True,
                        validation_data=(x_test, y_test), callbacks=[timer, schedule])
    _, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    return accuracy, float(np.median(timer.times)), history


def drops_text(args):
    if not args.lr_drops:
        return ""
    return f" (x{args.lr_factor:g} at epochs {', '.join(str(d) for d in args.lr_drops)})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder holding cifar10/cifar-10-batches-bin (default: $PYCNN_DATA_DIR)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs for each network (same budget)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--lr-drops", type=int, nargs="*", default=[],
                        help="epochs (counted from 0) at which the learning rate is multiplied by --lr-factor")
    parser.add_argument("--lr-factor", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, help="train and test on the first LIMIT images only")
    parser.add_argument("--plots", help="folder to write the training curves to (PNG, needs matplotlib)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--networks", nargs="+", choices=("mlp", "cnn"), default=["mlp", "cnn"],
                        help="which networks to train (default both)")
    args = parser.parse_args()
    pycnn.set_num_threads(args.threads)
    pycnn.utils.set_random_seed(args.seed)

    (x_train, y_train), (x_test, y_test) = cifar10.load_data(data_dir=args.data_dir)
    if args.limit:
        x_train, y_train, x_test, y_test = (a[:args.limit] for a in (x_train, y_train, x_test, y_test))
    x_train = x_train.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    y_train = to_categorical(y_train, 10)
    y_test = to_categorical(y_test, 10)
    data = (x_train, y_train), (x_test, y_test)

    results = []
    builders = {"mlp": cifar10_mlp, "cnn": cifar10_cnn}
    for name in args.networks:
        model = builders[name]()
        model.summary()
        accuracy, epoch_s, history = train(model, data, args)
        results.append((model.name, model.count_params(), accuracy, epoch_s))
        if args.plots:
            from pycnn import viz

            Path(args.plots).mkdir(parents=True, exist_ok=True)
            viz.plot_history(history, path=Path(args.plots) / f"{model.name}_history.png")

    print(f"\nCIFAR-10, {len(x_train)} training / {len(x_test)} test images, {args.epochs} epochs each, "
          f"Adam {args.learning_rate:g}{drops_text(args)}, batch {args.batch_size}, {pycnn.get_num_threads()} threads")
    print(f"{'network':<14} {'params':>9} {'test acc':>9} {'s/epoch':>8}")
    for name, params, accuracy, epoch_s in results:
        print(f"{name:<14} {params:>9,} {accuracy:>9.4f} {epoch_s:>8.1f}")


if __name__ == "__main__":
    main()
