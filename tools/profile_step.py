"""Where a training step of a seed network spends its time.

Wraps every public ``pycnn.ops`` function with a timer (nested calls are
counted once, in the outermost op), runs ``--steps`` training steps of a
network from ``pycnn.applications`` on random data with its tutorial batch
size and optimizer, and prints the time per step inside each op and the
rest (Python: layers, graph walk, loss bookkeeping). Optionally times the
same network in PyTorch (channels_last, fused optimizer where torch has
one) in the same process, interleaved with pycnn, and an inference pass.

At one thread the clock is ``time.process_time`` (CPU time of the process,
robust to other processes on a shared machine); at more threads it is wall
time, where the minimum over steps says more than the median when other
processes compete for the cores. The op table is the mean over the steps.

    python tools/profile_step.py mnist --threads 1 --steps 50 --torch
    python tools/profile_step.py faces --isa avx2
"""

import argparse
import collections
import functools
import importlib
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import pycnn  # noqa: E402
import pycnn.ops  # noqa: E402
from pycnn.applications import bench, recipes  # noqa: E402

OP_MODULES = ("gemm", "conv", "dense", "pooling", "normalization", "activations", "losses", "dropout",
              "optimizers")


def _minor_faults():
    """Page faults of this process so far: a fresh large array costs one per 4 KiB page touched."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class OpTimer:
    """Replaces every pycnn.ops function by a timed wrapper; ``restore()`` undoes it."""

    def __init__(self, clock):
        self.clock = clock
        self.per_op = collections.Counter()
        self.calls = collections.Counter()
        self.faults = collections.Counter()
        self.inside = 0.0
        self._depth = 0
        self._saved = []
        for modname in OP_MODULES:
            module = importlib.import_module("pycnn.ops." + modname)
            for name in module.__all__:
                fn = getattr(module, name)
                if callable(fn) and not isinstance(fn, type):
                    wrapped = self._wrap(name, fn)
                    for target in (module, pycnn.ops):
                        if getattr(target, name, None) is fn:
                            self._saved.append((target, name, fn))
                            setattr(target, name, wrapped)

    def _wrap(self, name, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            faults = _minor_faults()
            start = self.clock()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = self.clock() - start
                self.faults[name] += _minor_faults() - faults
                self._depth -= 1
                self.inside += elapsed
                self.per_op[name] += elapsed
                self.calls[name] += 1
        return timed

    def restore(self):
        for target, name, fn in self._saved:
            setattr(target, name, fn)


def pycnn_model(name):
    recipe = recipes.get(name)
    model = recipe.build()
    model.compile(optimizer=recipe.make_optimizer(), loss="sparse_categorical_crossentropy")
    return model, recipe.batch_size


def random_batch(model, batch, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.random((batch,) + tuple(model.input_shape[1:]), dtype=np.float32)
    y = rng.integers(0, model.output_shape[-1], batch)
    return x, y


def torch_step(name, batch, threads):
    """A training-step closure of the network's tuned PyTorch twin (channels_last,
    fused Adam / foreach RMSprop; see pycnn.applications.torch_reference)."""
    import torch

    from pycnn.applications import torch_reference

    torch_reference.set_threads(torch, threads)
    optimizer = recipes.get(name).optimizer
    step, _ = torch_reference.training_step(torch, name, batch, optimizer["class_name"],
                                            optimizer["learning_rate"], tuned=True)
    return step


def torch_predict(name, batch, threads):
    import torch

    from pycnn.applications import torch_reference

    torch_reference.set_threads(torch, threads)
    return torch_reference.inference(torch, name, batch, tuned=True)[0]


def timed(fn, clock):
    start = clock()
    fn()
    return clock() - start


def profile(name, threads, steps, with_torch, predict_batch, print_fn=print):
    pycnn.set_num_threads(threads)
    clock = time.process_time if threads == 1 else time.perf_counter
    model, batch = pycnn_model(name)
    x, y = random_batch(model, batch)
    train = lambda: model.train_on_batch(x, y)
    other = torch_step(name, batch, threads) if with_torch else None
    for _ in range(3):
        train()
        if other:
            other()
    timer = OpTimer(clock)
    totals, outside, torch_times, faults = [], [], [], 0
    try:
        for _ in range(steps):
            before, before_faults = timer.inside, _minor_faults()
            t = timed(train, clock)
            faults += _minor_faults() - before_faults
            totals.append(t)
            outside.append(t - (timer.inside - before))
            if other:
                torch_times.append(timed(other, clock))
        per_op, calls, op_faults = dict(timer.per_op), dict(timer.calls), dict(timer.faults)
    finally:
        timer.restore()
    step_ms = 1e3 * float(np.median(totals))
    best_ms = 1e3 * float(np.min(totals))
    clock_name = "process_time" if threads == 1 else "wall"
    print_fn(f"{name}: batch {batch}, {threads} thread(s), {steps} steps, clock {clock_name}")
    line = f"  pycnn step {step_ms:8.2f} ms median, {best_ms:8.2f} min"
    if other:
        torch_ms, torch_best = 1e3 * float(np.median(torch_times)), 1e3 * float(np.min(torch_times))
        line += (f"   torch {torch_ms:8.2f} median, {torch_best:8.2f} min"
                 f"   pycnn/torch {step_ms / torch_ms:5.2f} (min {best_ms / torch_best:5.2f})")
    print_fn(line + f"   page faults {faults / steps:.0f}/step")
    for op, total in sorted(per_op.items(), key=lambda kv: -kv[1]):
        print_fn(f"    {op:<28} {1e3 * total / steps:7.2f} ms/step  ({calls[op] / steps:.0f} calls, "
                 f"{op_faults.get(op, 0) / steps:.0f} faults)")
    rest = 1e3 * float(np.median(outside))
    print_fn(f"    {'outside ops (Python)':<28} {rest:7.2f} ms/step  ({100 * rest / step_ms:.0f} %)")
    if predict_batch:
        xp = np.random.default_rng(2).random((predict_batch,) + tuple(model.input_shape[1:]), dtype=np.float32)
        fns = [lambda: model.predict_on_batch(xp)]
        if with_torch:
            fns.append(torch_predict(name, predict_batch, threads))
        for fn in fns:
            fn()
        times = [[] for _ in fns]
        for _ in range(max(3, steps // 10)):
            for k, fn in enumerate(fns):
                times[k].append(timed(fn, clock))
        rates = [predict_batch / float(np.median(t)) for t in times]
        line = f"  predict batch {predict_batch}: pycnn {rates[0]:9.0f} img/s"
        if with_torch:
            line += f"   torch {rates[1]:9.0f} img/s   pycnn/torch {rates[0] / rates[1]:5.2f}"
        print_fn(line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("networks", nargs="*", default=["mnist", "cifar10", "faces"],
                        help="recipe names (default: mnist cifar10 faces)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--torch", action="store_true", help="time the PyTorch twin in the same run")
    parser.add_argument("--predict", type=int, default=0, metavar="BATCH",
                        help="also time inference at this batch size")
    parser.add_argument("--isa", choices=("avx512", "avx2", "portable"),
                        help="force pycnn's kernels onto this instruction set (PyTorch is not limited)")
    args = parser.parse_args(argv)
    if args.isa:
        pycnn._core.set_isa(args.isa)
    for threads in args.threads:
        for name in args.networks:
            profile(name, threads, args.steps, args.torch, args.predict)


if __name__ == "__main__":
    main()
