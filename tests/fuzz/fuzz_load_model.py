"""Fuzz target: ``pycnn.models.load_model`` on mutated model files.

A fuzz input is a model file without its trailing SHA-256; each input is
loaded twice, as it is (the checksum then rarely matches: truncations, bit
flips) and re-signed with a correct checksum, so mutations of the JSON
header, the array table and the data reach the parser and the model
builder. A loaded model also runs ``predict`` once. Seeds are small saved
models of several kinds (``make_seeds``), plus headers claiming huge sizes.

    python tests/fuzz/fuzz_load_model.py -seeds CORPUS_DIR     # writes the seed corpus
    python tests/fuzz/fuzz_load_model.py -max_total_time=600 -rss_limit_mb=4096 -timeout=20 CORPUS_DIR
"""

import atexit
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np

import fuzz_inputs as fi

with fi.instrumented(__name__ == "__main__"):
    import pycnn
    from pycnn import layers, models, optimizers
    from pycnn.models import saving

_SCRATCH_DIR = tempfile.mkdtemp(prefix="pycnn-fuzz-")
_SCRATCH = os.path.join(_SCRATCH_DIR, "model.pycnn")
atexit.register(shutil.rmtree, _SCRATCH_DIR, True)


def _seed_models():
    """(name, model) pairs covering the saved kinds: Sequential/Functional, compiled or not, optimizer slots."""
    pycnn.utils.clear_session()
    seq = models.Sequential([layers.Conv2D(2, 3, input_shape=(5, 5, 1)), layers.Flatten(), layers.Dense(3)])
    yield "sequential_plain", seq

    inp = layers.Input((6, 6, 2), name="image")
    x = layers.Conv2D(3, 3, padding="same", activation="relu")(inp)
    x = layers.MaxPooling2D()(layers.BatchNormalization()(x))
    out = layers.Dense(4, activation="softmax")(layers.Dropout(0.2)(layers.Flatten()(x)))
    func = models.Model(inp, out)
    func.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    func.fit(np.ones((4, 6, 6, 2), np.float32), np.arange(4) % 4, batch_size=2, epochs=1, verbose=0)
    yield "functional_adam", func

    a, b = layers.Input((4, 4, 1), name="a"), layers.Input((4, 4, 1), name="b")
    merged = layers.Concatenate()([layers.Add()([a, b]), b])
    head = layers.Dense(2)(layers.GlobalAveragePooling2D()(layers.Conv2D(2, 1)(merged)))
    two = models.Model([a, b], head)
    two.compile(optimizer=optimizers.SGD(0.1, momentum=0.9), loss="mse")
    yield "two_inputs_sgd", two

    deep = models.Sequential([
        layers.Input((7, 7, 2)), layers.ZeroPadding2D(1), layers.DepthwiseConv2D(3, depth_multiplier=2),
        layers.AveragePooling2D(2, padding="same"), layers.LeakyReLU(), layers.GlobalMaxPooling2D(),
        layers.Reshape((2, 2)), layers.Flatten(), layers.Dense(3), layers.Softmax()])
    deep.compile(optimizer=optimizers.RMSprop(0.01), loss="categorical_crossentropy")
    yield "sequential_rmsprop", deep


def _huge_variants(body):
    """The header of a valid file with sizes and counts rewritten to enormous values."""
    magic, version, reserved, hlen = struct.unpack_from("<8sIIQ", body)
    header = json.loads(body[24:24 + hlen])
    variants = [struct.pack("<8sIIQ", magic, version, reserved, 2**63 - 1) + body[24:]]
    for field, value in (("shape", [2**31, 2**31]), ("nbytes", 2**62), ("offset", 2**62), ("shape", [-1, 4])):
        changed = json.loads(json.dumps(header))
        changed["arrays"][0][field] = value
        text = json.dumps(changed, separators=(",", ":")).encode()
        head = struct.pack("<8sIIQ", magic, version, reserved, len(text)) + text
        data_start = 24 + hlen + (-(24 + hlen)) % 64
        variants.append(head + b"\0" * ((-len(head)) % 64) + body[data_start:])
    return variants


def make_seeds(folder):
    """Writes the seed corpus (file bodies without their checksum) into ``folder``."""
    os.makedirs(folder, exist_ok=True)
    for name, model in _seed_models():
        path = os.path.join(folder, name + ".pycnn")
        model.save(path)
        with open(path, "rb") as f:
            body = f.read()[:-32]
        os.replace(path, os.path.join(folder, name))
        with open(os.path.join(folder, name), "wb") as f:
            f.write(body)
        for i, variant in enumerate(_huge_variants(body)):
            with open(os.path.join(folder, f"{name}_huge{i}"), "wb") as f:
                f.write(variant)
    weights = os.path.join(folder, "weights.pycnn")
    model.save_weights(weights)
    with open(weights, "rb") as f:
        body = f.read()[:-32]
    os.remove(weights)
    with open(os.path.join(folder, "weights_only"), "wb") as f:
        f.write(body)


def _predict(model):
    shape = model.input_shape
    if not isinstance(shape, tuple) or any(d is None for d in shape[1:]) or np.prod(shape[1:]) > 10**5:
        return
    fi.call_with_message(model.predict, np.zeros((1,) + shape[1:], np.float32), verbose=0)


def TestOneInput(data):
    for blob in (data, data + hashlib.sha256(data).digest()):
        with open(_SCRATCH, "wb") as f:
            f.write(blob)
        model = fi.call_with_message(saving.load_model, _SCRATCH)
        if model is not None:
            _predict(model)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "-seeds":
        make_seeds(sys.argv[2])
    else:
        fi.main({"load_model": lambda src: TestOneInput(src.data)})
