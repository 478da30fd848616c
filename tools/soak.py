"""Soak test: does memory stay flat over long training and inference runs?

Trains the tutorial-001 MNIST network (``pycnn.applications.mnist_cnn``,
rmsprop, batch 64, the MNIST subset embedded in the package) through
``model.fit`` for ``--steps`` optimizer steps, sampling the resident set
size every ``--every`` steps, then calls ``model.predict`` ``--predicts``
times on small batches, sampling the same way. Memory taken during the
first ``--warmup`` steps (allocator pools, grow-once workspaces, caches)
is not counted; the growth after it must stay under ``--limit-mb`` for
both phases, otherwise the script exits with status 1.

    python tools/soak.py                     # 5,000 steps, 10,000 predicts
    nice python tools/soak.py --threads 1 --steps 2000 --predicts 4000

RSS is read from /proc/self/statm (Linux), falling back to the peak RSS
from ``resource`` elsewhere. ``tests/test_memory.py`` runs a short version
of both phases as a CI guard.
"""

import argparse
import math
import os
import sys
import time

import numpy as np


def rss_mb():
    """Resident set size of this process in MiB."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (2**20 if sys.platform == "darwin" else 2**10)


def mnist_data(n=None):
    """(x, y): embedded MNIST training images scaled to [0, 1] with a channel axis, int labels."""
    from pycnn.datasets import mnist

    (x, y), _ = mnist.load_data(subset="embedded")
    if n is not None:
        x, y = x[:n], y[:n]
    return (x[..., None] / np.float32(255)).astype(np.float32), y.astype(np.int64)


def mnist_model(seed=0):
    from pycnn.applications import mnist_cnn
    from pycnn.utils import set_random_seed

    set_random_seed(seed)
    model = mnist_cnn()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Trace:
    """RSS samples (step, MiB) with the growth after a warm-up."""

    def __init__(self, warmup, progress=False):
        self.warmup, self.progress = warmup, progress
        self.samples = []

    def sample(self, step):
        self.samples.append((step, rss_mb()))
        if self.progress:
            print(f"  {step}: {self.samples[-1][1]:.1f} MiB", flush=True)

    def baseline(self):
        after = [mb for step, mb in self.samples if step >= self.warmup]
        return after[0] if after else float("nan")

    def growth(self):
        """Last sample minus the first one at or after the warm-up, in MiB."""
        return self.samples[-1][1] - self.baseline()

    def peak_growth(self):
        after = [mb for step, mb in self.samples if step >= self.warmup]
        return max(after) - after[0] if after else float("nan")


def soak_fit(model, x, y, steps, every=100, warmup=300, batch_size=64, progress=False):
    """Train ``steps`` batches through ``fit``; returns the RSS Trace."""
    from pycnn import callbacks

    trace = Trace(warmup, progress)
    done = [0]

    def on_batch_end(batch, logs=None):
        done[0] += 1
        if done[0] % every == 0 or done[0] == steps:
            trace.sample(done[0])
        if done[0] >= steps:
            model.stop_training = True

    epochs = math.ceil(steps / math.ceil(len(x) / batch_size))
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
              callbacks=[callbacks.LambdaCallback(on_train_batch_end=on_batch_end)])
    return trace


def soak_predict(model, x, calls, every=100, warmup=300, batch_size=8, progress=False):
    """``calls`` predict calls on consecutive small batches; returns the RSS Trace."""
    trace = Trace(warmup, progress)
    for i in range(1, calls + 1):
        lo = (i * batch_size) % (len(x) - batch_size)
        model.predict(x[lo:lo + batch_size], verbose=0)
        if i % every == 0 or i == calls:
            trace.sample(i)
    return trace


def _report(name, unit, trace, seconds, limit):
    base, last = trace.baseline(), trace.samples[-1]
    ok = trace.growth() < limit
    print(f"{name}: {last[0]} {unit} in {seconds:.0f} s; RSS {base:.1f} MiB after {trace.warmup} {unit} (warm-up), "
          f"{last[1]:.1f} MiB at the end: growth {trace.growth():+.2f} MiB "
          f"(peak {trace.peak_growth():+.2f}; limit {limit} MiB) {'OK' if ok else 'FAIL'}")
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5000, help="training steps (batches of 64)")
    parser.add_argument("--predicts", type=int, default=10000, help="predict calls")
    parser.add_argument("--predict-batch", type=int, default=8, help="images per predict call")
    parser.add_argument("--every", type=int, default=100, help="sample RSS every N steps/calls")
    parser.add_argument("--warmup", type=int, default=300, help="steps/calls not counted in the growth")
    parser.add_argument("--limit-mb", type=float, default=5.0, help="allowed growth after the warm-up")
    parser.add_argument("--threads", type=int, default=None, help="pycnn threads (default: all cores)")
    parser.add_argument("--trace", action="store_true", help="print every RSS sample as it is taken")
    args = parser.parse_args(argv)

    import pycnn

    if args.threads:
        pycnn.set_num_threads(args.threads)
    x, y = mnist_data()
    print(f"start: RSS {rss_mb():.1f} MiB, {pycnn.get_num_threads()} thread(s)")
    model = mnist_model()
    ok = True
    t0 = time.perf_counter()
    trace = soak_fit(model, x, y, args.steps, args.every, args.warmup, progress=args.trace)
    ok &= _report("fit", "steps", trace, time.perf_counter() - t0, args.limit_mb)
    t0 = time.perf_counter()
    trace = soak_predict(model, x, args.predicts, args.every, args.warmup, args.predict_batch, progress=args.trace)
    ok &= _report("predict", "calls", trace, time.perf_counter() - t0, args.limit_mb)
    return 0 if ok else 1


if __name__ == "__main__":
    # Run from a checkout: import the package next to this folder.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
