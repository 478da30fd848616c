"""Per-call time of the ops the seed networks call on small tensors, 1 thread.

    PYTHONPATH=. python benchmarks/bench_small_calls.py [--repeat 7] [--number 20000]

A dense layer's GEMMs at training batch size (128->2, 64->10), the dense
batch norm (32x128) and dropout (64x128) take a few microseconds, so what a
call costs beyond its arithmetic (argument checks, conversions, allocation)
decides their speed. Prints the best of `repeat` timings of `number` calls
each, in microseconds, next to numpy doing the nearest thing: the same
matmul, or a copy of the input. Run it against two builds (PYTHONPATH) to
compare them.
"""

import argparse
import timeit

import numpy as np

import pycnn
from pycnn import ops

GEMMS = [  # label, (m, n, k, trans_a, trans_b)
    ("gemm face dense 128->2 fwd", (16, 2, 128, False, False)),
    ("gemm face dense 128->2 dx", (16, 128, 2, False, True)),
    ("gemm face dense 128->2 dW", (128, 2, 16, True, False)),
    ("gemm mnist dense 64->10 fwd", (64, 10, 64, False, False)),
    ("gemm mnist dense 64->10 dx", (64, 64, 10, False, True)),
    ("gemm mnist dense 64->10 dW", (64, 10, 64, True, False)),
]


def cases(rng):
    """label -> (pycnn call, numpy call, what numpy does)."""
    out = {}
    for label, (m, n, k, ta, tb) in GEMMS:
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
        oa, ob = (a.T if ta else a), (b.T if tb else b)
        out[label] = (lambda a=a, b=b, ta=ta, tb=tb: ops.gemm(a, b, trans_a=ta, trans_b=tb),
                      lambda oa=oa, ob=ob: oa @ ob, "matmul")
    x = rng.standard_normal((32, 128)).astype(np.float32)
    gamma, beta = np.ones(128, np.float32), np.zeros(128, np.float32)
    moving_mean, moving_var = np.zeros(128, np.float32), np.ones(128, np.float32)
    _, mean, inv_std = ops.batch_norm_train(x, gamma, beta, moving_mean, moving_var)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    out["batch_norm_train 32x128"] = (
        lambda: ops.batch_norm_train(x, gamma, beta, moving_mean, moving_var, 0.99, 1e-3), x.copy, "copy of x")
    out["batch_norm_backward 32x128"] = (
        lambda: ops.batch_norm_backward(dy, x, gamma, mean, inv_std), x.copy, "copy of x")
    act = rng.standard_normal((64, 128)).astype(np.float32)
    out["dropout 64x128"] = (lambda: ops.dropout(act, 0.5, 1, 2), act.copy, "copy of x")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    pycnn.set_num_threads(1)

    def best_us(fn):
        return min(timeit.repeat(fn, number=args.number, repeat=args.repeat)) / args.number * 1e6

    print("| call | pycnn us | numpy us | numpy does |")
    print("|---|---|---|---|")
    for label, (fn, reference, what) in cases(np.random.default_rng(0)).items():
        print(f"| {label} | {best_us(fn):.2f} | {best_us(reference):.2f} | {what} |")


if __name__ == "__main__":
    main()
