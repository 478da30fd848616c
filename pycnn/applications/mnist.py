"""The MNIST convnet of tutorial 001 (Chollet, "Deep Learning with Python", 5.1).

Three 3x3 ReLU convolutions (32, 64, 64) with 2x2 max-pooling after the
first two, then Dense 64 ReLU and a 10-way softmax: 93,322 parameters. The
tutorial trains it with rmsprop for 5 epochs at batch 64 on pixels / 255
and reaches 99.2 % test accuracy.
"""

from pycnn import layers, models


def mnist_cnn(input_shape=(28, 28, 1), num_classes=10, name="mnist_cnn"):
    """The tutorial's Sequential MNIST CNN (93,322 parameters for 28x28x1 / 10 classes)."""
    return models.Sequential([
        layers.Input(shape=input_shape),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ], name=name)
