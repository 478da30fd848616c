"""The tutorials' networks in Keras 3, for the side-by-side benchmarks.

The same layers as ``pycnn.applications`` (whose API is Keras'), written
against the real ``keras`` module, which is passed in. Nothing here imports
pycnn, so a Keras process carries only Keras' own memory and import time.
"""

SHAPES = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3), "faces": (112, 92, 3)}


def build(keras, name):
    """The network ``name`` (mnist, cifar10, faces), softmax output, uncompiled."""
    layers = keras.layers
    if name == "mnist":
        return keras.Sequential([
            keras.Input(shape=SHAPES[name]),
            layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"), layers.Flatten(),
            layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    if name == "cifar10":
        inputs = keras.Input(shape=SHAPES[name])
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
        return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    if name == "faces":
        stack = [keras.Input(shape=SHAPES[name])]
        for filters in (16, 32, 64):
            stack += [layers.Conv2D(filters, (3, 3), padding="same", activation="relu"),
                      layers.MaxPooling2D((2, 2), padding="same")]
        stack += [layers.Flatten(),
                  layers.Dense(512, activation="relu"), layers.Dropout(0.4),
                  layers.Dense(128, activation="relu"), layers.Dropout(0.4),
                  layers.Dense(2, activation="softmax")]
        return keras.Sequential(stack)
    raise ValueError(f"no Keras twin for network {name!r}; choose one of: {', '.join(SHAPES)}")


def compiled(keras, name, optimizer, learning_rate, metrics=None):
    """``build`` compiled as the tutorial: the named optimizer at learning_rate, sparse cross-entropy."""
    model = build(keras, name)
    opt = getattr(keras.optimizers, optimizer)(learning_rate=learning_rate)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=metrics)
    return model


def set_threads(n):
    """TensorFlow intra-op = inter-op = n threads; call before any TensorFlow op runs."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(n)


def parameter_counts(model):
    """(trainable, total) as Keras' summary counts them."""
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    return trainable, int(model.count_params())
