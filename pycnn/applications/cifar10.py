"""The CIFAR-10 networks of tutorial 000 (functional API).

``cifar10_cnn``: four 3x3 'same' convolutions (32, 32 stride 2, 64, 64
stride 2), each followed by BatchNormalization and LeakyReLU, then Flatten,
Dense 128 + BatchNormalization + LeakyReLU + Dropout 0.5 and a 10-way
softmax: 592,554 parameters, 591,914 trainable (the BN moving statistics
are not). The tutorial reports about 73 % test accuracy.

``cifar10_mlp``: the dense baseline it is compared with, Flatten then Dense
200 and 150 (ReLU) and a 10-way softmax: 646,260 parameters (about 50 %).

``two_conv_net``: the tutorial's first small functional convnet, two 3x3
'same' ReLU convolutions (10 and 20 filters) on 32x32x3 then a 10-way
softmax on the flattened 32x32x20 maps: 206,910 parameters
(280 + 1,820 + 204,810). The parameter count fixes the filter counts,
kernel size, stride and padding; the ReLUs follow the tutorial's style.
"""

from pycnn import layers, models


def cifar10_cnn(input_shape=(32, 32, 3), num_classes=10, name="cifar10_cnn"):
    """Conv+BN+LeakyReLU x4, Dense 128+BN+LeakyReLU+Dropout 0.5, softmax (592,554 params)."""
    inputs = layers.Input(shape=input_shape)
    x = inputs
    for filters, strides in ((32, 1), (32, 2), (64, 1), (64, 2)):
        x = layers.Conv2D(filters, kernel_size=3, strides=strides, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    x = layers.Dropout(rate=0.5)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return models.Model(inputs, outputs, name=name)


def cifar10_mlp(input_shape=(32, 32, 3), num_classes=10, name="cifar10_mlp"):
    """Flatten, Dense 200 ReLU, Dense 150 ReLU, softmax (646,260 params)."""
    inputs = layers.Input(shape=input_shape)
    x = layers.Flatten()(inputs)
    x = layers.Dense(200, activation="relu")(x)
    x = layers.Dense(150, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return models.Model(inputs, outputs, name=name)


def two_conv_net(input_shape=(32, 32, 3), num_classes=10, name="two_conv_net"):
    """Conv 10 and Conv 20 (3x3 'same', ReLU), Flatten, softmax (206,910 params)."""
    inputs = layers.Input(shape=input_shape)
    x = layers.Conv2D(10, kernel_size=3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(20, kernel_size=3, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return models.Model(inputs, outputs, name=name)
