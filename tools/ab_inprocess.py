"""A/B timing of two builds' convolution and batch-norm kernels in one process.

Loads the compiled core of two builds (package directories, each a copy of
``pycnn/`` with its extension, as for ``tools/ab_builds.py``) side by side
in one process, and times one pass of a seed layer through each in
alternating blocks of calls, the order flipped every block. The two share
the process's OpenMP threads, its memory and whatever the host does to it
at that moment, so a slow phase of the host slows both alike and the
pairwise ratio of neighbouring blocks cancels it.

Why: on a shared host, runs in separate processes (``ab_builds.py``) read
apart by 10-30 % from one minute to the next at 2 threads. Here one build
against itself read 0.992-1.007 (40 blocks of 10 calls: cifar conv2 forward
at 2 threads, face conv1 forward at 1, mnist conv2 d-weight at 2), while a
7-8 % change read 0.918-0.929 and back 1.070-1.085. Run it twice with the
builds swapped: a real difference shows in both orders.

    python tools/ab_inprocess.py /tmp/a/pycnn /tmp/b/pycnn --layer cifar-conv2 \\
        --pass fwd --threads 2 [--blocks 40] [--calls 10] [--isa avx2]

A convolution layer takes --pass fwd, d-input or d-weight; a batch norm
(--layer "cifar bn5 dense") fwd (training) or bwd, where one build against
itself read 1.021 and 0.981 (200 calls a block).

Prints each build's median and minimum microseconds per call and the median
of the pairwise ratios B/A (below 1: B is faster).
"""

import argparse
import glob
import importlib.util
import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from shapes import SEED_BATCH_NORM, SEED_CONV  # noqa: E402


def load_core(package, tag):
    """The extension module of `package` under a name of its own."""
    found = glob.glob(os.path.join(package, "_core*.so"))
    if len(found) != 1:
        sys.exit(f"{package}: expected one _core*.so, found {len(found)}")
    spec = importlib.util.spec_from_file_location(f"{tag}._core", found[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def conv_calls(cores, case, which, rng):
    """No-argument calls of one pass of the convolution `case` through each
    core. The builds read the same arrays, so that where they lie cannot
    differ between A and B."""
    x = rng.standard_normal(case.x_shape, dtype=np.float32)
    kernel = (rng.standard_normal(case.kernel_shape) * 0.1).astype(np.float32)
    dy = rng.standard_normal((case.n, *case.output_hw(), case.k), dtype=np.float32)
    args = case.core_args()
    if which == "fwd":
        return [lambda core=core: core.conv2d_forward(x, kernel, None, *args, 0, 0.0) for core in cores]
    flags = (True, False, False) if which == "d-input" else (False, False, True)
    return [lambda core=core: core.conv2d_backward(dy, x, kernel, *args, *flags) for core in cores]


def batch_norm_calls(cores, shape, which, rng):
    """No-argument calls of the batch norm of `shape` through each core's
    fast lane, as pycnn.ops calls it: the training forward or the backward.
    The builds read the same arrays: for calls this small, where an array
    starts within its cache line shows in the time."""
    c = shape[-1]
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    g, b = rng.uniform(0.5, 1.5, c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    mm, mv = np.zeros(c, np.float32), np.ones(c, np.float32)
    if which == "fwd":
        return [lambda core=core: core.batch_norm_train_fast(x, g, b, mm, mv, 0.99, 1e-3, None, None) for core in cores]
    _, mean, inv_std = cores[0].batch_norm_train_fast(x, g, b, mm, mv, 0.99, 1e-3, None, None)
    dy = rng.standard_normal(shape).astype(np.float32)
    return [lambda core=core: core.batch_norm_backward_fast(dy, x, g, mean, inv_std, None, 0.0, None) for core in cores]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build_a")
    parser.add_argument("build_b")
    parser.add_argument("--layer", required=True, choices=[c.name for c in SEED_CONV] + [n for n, _ in SEED_BATCH_NORM])
    parser.add_argument("--pass", dest="which", default="fwd", choices=["fwd", "d-input", "d-weight", "bwd"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--blocks", type=int, default=40)
    parser.add_argument("--calls", type=int, default=10, help="calls per block")
    parser.add_argument("--isa", help="run both builds as on this instruction set (avx2, portable)")
    opts = parser.parse_args()

    cores = [load_core(opts.build_a, "pycnn_ab_a"), load_core(opts.build_b, "pycnn_ab_b")]
    conv = next((c for c in SEED_CONV if c.name == opts.layer), None)
    bn_shape = dict(SEED_BATCH_NORM).get(opts.layer)
    if opts.which not in (("fwd", "d-input", "d-weight") if conv else ("fwd", "bwd")):
        sys.exit(f"--pass {opts.which} does not apply to {opts.layer}")
    for core in cores:
        core.set_num_threads(opts.threads)
        if opts.isa:
            core.set_isa(opts.isa)
    rng = np.random.default_rng(0)
    calls = conv_calls(cores, conv, opts.which, rng) if conv else batch_norm_calls(cores, bn_shape, opts.which, rng)

    def block(fn):
        start = time.perf_counter()
        for _ in range(opts.calls):
            fn()
        return (time.perf_counter() - start) / opts.calls * 1e6

    for fn in calls * 5:  # warm-up: scratch buffers, thread pool, caches
        fn()
    times = ([], [])
    for b in range(opts.blocks):
        for i in ((0, 1) if b % 2 == 0 else (1, 0)):
            times[i].append(block(calls[i]))
    ratios = [tb / ta for ta, tb in zip(*times)]
    print(f"{opts.layer} {opts.which}, {opts.threads} thread(s)" + (f", {opts.isa}" if opts.isa else "") + ": "
          + " | ".join(f"{name} median {statistics.median(t):.2f} min {min(t):.2f} us"
                       for name, t in zip("AB", times))
          + f" | B/A pairwise median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
