"""The seed-001 Keras code, as written (imports changed), on a slice of real MNIST."""

import gzip
import os

import numpy as np

import pycnn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = np.frombuffer(data, ">u4", count=ndim, offset=4)
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def test_seed_001_code_runs(data_dir, capsys):
    mnist = os.path.join(data_dir, "mnist")
    train_x = read_idx(os.path.join(mnist, "train-images-idx3-ubyte.gz"))[:2048]
    train_y = read_idx(os.path.join(mnist, "train-labels-idx1-ubyte.gz"))[:2048]
    test_x = read_idx(os.path.join(mnist, "t10k-images-idx3-ubyte.gz"))[:512]
    test_y = read_idx(os.path.join(mnist, "t10k-labels-idx1-ubyte.gz"))[:512]
    pycnn.utils.clear_session()
    pycnn.utils.set_random_seed(0)

    # --- the tutorial's code; only `keras` -> `pycnn` in the imports ---
    from pycnn import layers, models
    from pycnn.utils import to_categorical

    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(10, activation='softmax'))
    model.summary()

    train_images = train_x.reshape((2048, 28, 28, 1))
    train_images = train_images.astype('float32') / 255
    test_images = test_x.reshape((512, 28, 28, 1))
    test_images = test_images.astype('float32') / 255
    train_labels = to_categorical(train_y)
    test_labels = to_categorical(test_y)

    model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
    history = model.fit(train_images, train_labels, epochs=2, batch_size=64)
    test_loss, test_acc = model.evaluate(test_images, test_labels)
    # --- end of the tutorial's code ---

    out = capsys.readouterr().out
    assert "Total params: 93,322" in out
    assert "Epoch 2/2" in out and "32/32" in out and "accuracy:" in out
    assert history.history["loss"][1] < history.history["loss"][0]
    assert test_acc > 0.8, test_acc
    assert np.isfinite(test_loss)
