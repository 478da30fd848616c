"""Tutorial 001: a small convnet on MNIST (Chollet, "Deep Learning with
Python", 5.1), with pycnn in place of Keras. The book reports 99.2 % test
accuracy after 5 epochs of rmsprop at batch 64.

    python examples/mnist_cnn.py --data-dir DATA      # the full 60000/10000 set
    python examples/mnist_cnn.py --embedded           # the subset shipped with pycnn

Prints the test accuracy and the wall time of each epoch.
"""

import argparse

import numpy as np

import pycnn
from pycnn import callbacks, layers, models
from pycnn.datasets import mnist
from pycnn.utils import to_categorical


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder holding mnist/*.gz (default: $PYCNN_DATA_DIR)")
    parser.add_argument("--embedded", action="store_true", help="use the 6000/1000 subset shipped with pycnn")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, help="train and test on the first LIMIT images only")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pycnn.set_num_threads(args.threads)
    pycnn.utils.set_random_seed(args.seed)

    (train_images, train_labels), (test_images, test_labels) = mnist.load_data(
        data_dir=args.data_dir, subset="embedded" if args.embedded else "full")
    if args.limit:
        train_images, train_labels = train_images[:args.limit], train_labels[:args.limit]
        test_images, test_labels = test_images[:args.limit], test_labels[:args.limit]

    # The tutorial's code from here on, with only the imports changed.
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    model.summary()

    train_images = train_images.reshape((len(train_images), 28, 28, 1)).astype("float32") / 255
    test_images = test_images.reshape((len(test_images), 28, 28, 1)).astype("float32") / 255
    train_labels = to_categorical(train_labels)
    test_labels = to_categorical(test_labels)

    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    timer = callbacks.EpochTimer()
    model.fit(train_images, train_labels, epochs=args.epochs, batch_size=args.batch_size, callbacks=[timer])
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)

    print(f"test accuracy {test_acc:.4f} (loss {test_loss:.4f}) on {len(test_images)} images after "
          f"{args.epochs} epochs of {len(train_images)} images")
    print(f"wall time per epoch at {pycnn.get_num_threads()} threads: "
          f"{', '.join(f'{t:.1f}' for t in timer.times)} s (median {np.median(timer.times):.1f} s)")


if __name__ == "__main__":
    main()
