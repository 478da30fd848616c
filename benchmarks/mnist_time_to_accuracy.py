"""Time to accuracy: the tutorial's MNIST CNN trained in pycnn and in Keras 3.

The full MNIST training set (from --data-dir or PYCNN_DATA_DIR), pixels / 255,
the tutorial's recipe (5 epochs, batch 64, RMSprop 1e-3, sparse categorical
cross-entropy, shuffled every epoch), then accuracy on the 10,000 test
images. Each framework trains in its own fresh process with its thread
count set explicitly; the wall time of ``fit`` is reported beside the test
accuracy. Target: pycnn >= 99.0 % test accuracy in <= 0.6x Keras' time.

    python benchmarks/mnist_time_to_accuracy.py --keras-python PATH/TO/python
    python benchmarks/mnist_time_to_accuracy.py --limit 512 --epochs 1   # smoke run
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
ACCURACY_TARGET = 0.99
TIME_TARGET = 0.6


def _epoch_times(callback_base):
    class EpochTimes(callback_base):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._start)

    return EpochTimes()


def _train(model, callback_base, data, args, set_seed):
    set_seed(args.seed)
    timer = _epoch_times(callback_base)
    start = time.perf_counter()
    model.fit(data["x_train"], data["y_train"], epochs=args.epochs, batch_size=args.batch_size, shuffle=True,
              verbose=0, callbacks=[timer])
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    loss, accuracy = model.evaluate(data["x_test"], data["y_test"], batch_size=256, verbose=0)
    return {"train_s": train_s, "epoch_s": timer.times, "eval_s": time.perf_counter() - start,
            "test_accuracy": float(accuracy), "test_loss": float(loss)}


def worker(args):
    """Train one framework on the arrays in args.data; print the result as JSON."""
    import numpy as np

    with np.load(args.data, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    if args.worker == "pycnn":
        import pycnn
        from pycnn.callbacks import Callback

        pycnn.set_num_threads(args.threads)
        pycnn.utils.set_random_seed(args.seed)
        from pycnn.applications import mnist_cnn

        model = mnist_cnn()
        optimizer = getattr(pycnn.optimizers, args.optimizer)(learning_rate=args.learning_rate)
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        result = _train(model, Callback, data, args, pycnn.utils.set_random_seed)
        result["version"] = f"pycnn {pycnn.__version__}"
    else:
        import keras_reference as ref

        ref.set_threads(args.threads)
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(args.seed)
        model = ref.compiled(keras, "mnist", args.optimizer, args.learning_rate, metrics=["accuracy"])
        result = _train(model, keras.callbacks.Callback, data, args, keras.utils.set_random_seed)
        result["version"] = f"keras {keras.__version__}, tensorflow {tf.__version__}"
    print(json.dumps(result))


def _env(threads):
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                "TF_NUM_INTEROP_THREADS"):
        env[var] = str(threads)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def _keras_python(args):
    if args.no_keras:
        return None
    candidate = args.keras_python or sys.executable
    probe = subprocess.run([candidate, "-c", "import keras, tensorflow"], capture_output=True,
                           env=dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3"))
    if probe.returncode == 0:
        return candidate
    if args.keras_python:
        raise SystemExit(f"--keras-python {args.keras_python} cannot import keras and tensorflow")
    return None


def _save_data(args, path):
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from pycnn.applications import recipes

    (x, y), (xt, yt), description, _ = recipes.load("mnist", args.data_dir, "full")
    if args.limit:
        x, y, xt, yt = x[:args.limit], y[:args.limit], xt[:args.limit], yt[:args.limit]
        description += f" (first {args.limit} of each used)"
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    return description, len(x), len(xt)


def _run(python, framework, data, args):
    command = [python, str(Path(__file__).resolve()), "--worker", framework, "--data", str(data),
               "--threads", str(args.threads), "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
               "--optimizer", args.optimizer, "--learning-rate", str(args.learning_rate), "--seed", str(args.seed)]
    out = subprocess.run(command, capture_output=True, text=True, env=_env(args.threads), cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{framework} training failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _report(args, results, description, n_train, n_test, started):
    from pycnn.applications.bench import cpu_model

    lines = ["#### MNIST CNN time to accuracy" + (" — SMOKE RUN (--limit), not results" if args.limit else ""), "",
             f"- Date: {started:%Y-%m-%d %H:%M %Z}; {cpu_model()}, "
             f"{os.cpu_count()} cores; " + "; ".join(r["version"] for r in results.values()),
             f"- Command: `python benchmarks/mnist_time_to_accuracy.py {' '.join(sys.argv[1:])}`",
             f"- Data: {description}; {n_train:,} training and {n_test:,} test images used",
             f"- Epochs: {args.epochs}, batch {args.batch_size}, {args.optimizer} {args.learning_rate}, "
             f"{args.threads} threads, seed {args.seed}", "",
             "| framework | train s (fit) | median epoch s | eval s | test accuracy | test loss | "
             f"accuracy >= {ACCURACY_TARGET:.1%} | time vs keras (target <= {TIME_TARGET}x) |",
             "|---|---|---|---|---|---|---|---|"]
    keras_s = results["keras"]["train_s"] if "keras" in results else None
    for framework, r in results.items():
        ok_acc = "yes" if r["test_accuracy"] >= ACCURACY_TARGET else "**no**"
        vs = ""
        if keras_s and framework == "pycnn":
            ratio = r["train_s"] / keras_s
            vs = f"{ratio:.2f}x " + ("yes" if ratio <= TIME_TARGET else "**no**")
        lines.append(f"| {framework} | {r['train_s']:.1f} | {statistics.median(r['epoch_s']):.1f} | "
                     f"{r['eval_s']:.2f} | {r['test_accuracy']:.2%} | {r['test_loss']:.4f} | "
                     f"{ok_acc if framework == 'pycnn' else ''} | {vs} |")
    if keras_s is None:
        lines += ["", "Keras / TensorFlow: not available in this run (pass --keras-python)."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="folder with mnist/*.gz (default: $PYCNN_DATA_DIR)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", default="RMSprop")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="use only the first LIMIT training and test images (smoke run)")
    parser.add_argument("--keras-python", help="interpreter with keras + tensorflow (default: this one, if it has them)")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--markdown", help="also write the report to this file")
    parser.add_argument("--worker", choices=("pycnn", "keras"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    started = datetime.datetime.now().astimezone()
    keras_python = _keras_python(args)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "mnist.npz"
        description, n_train, n_test = _save_data(args, data)
        results = {"pycnn": _run(sys.executable, "pycnn", data, args)}
        if keras_python:
            results["keras"] = _run(keras_python, "keras", data, args)
    text = _report(args, results, description, n_train, n_test, started)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
