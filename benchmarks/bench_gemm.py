"""SGEMM side by side: pycnn.ops.gemm vs numpy (OpenBLAS) vs torch.mm.

    PYTHONPATH=. python benchmarks/bench_gemm.py [--threads 1 2] [--reps 9]
    PYTHONPATH=. python benchmarks/bench_gemm.py --threads 1 --cpu-time   # busy host

Each thread count runs in a fresh process with OMP/OpenBLAS/MKL thread
variables set before numpy is imported (numpy's BLAS reads them only then).
Three thread pools share two cores here, and each spins for a while after
its work; at 2 threads every case therefore starts after a 0.2 s pause.
Shapes: 2048^3 and the GEMMs the seed networks' conv and dense passes imply
(fwd: A = im2col or the batch, d-input: B transposed, d-weight: A
transposed; dense at the training batch: face 16, CIFAR 32, MNIST 64). Prints
interleaved medians in GFLOP/s and the ratios pycnn/numpy and pycnn/torch
(> 1: pycnn faster).
"""

import argparse
import os
import subprocess
import sys

# (label, m, n, k, trans_a, trans_b)
SHAPES = [
    ("square 2048", 2048, 2048, 2048, False, False),
    ("mnist conv2 fwd", 7744, 64, 288, False, False),
    ("mnist conv2 d-input", 7744, 288, 64, False, True),
    ("mnist conv2 d-weight", 288, 64, 7744, True, False),
    ("cifar conv3 fwd", 8192, 64, 288, False, False),
    ("face conv2 fwd", 41216, 32, 144, False, False),
    ("face conv3 fwd", 10304, 64, 288, False, False),
    ("face conv3 d-weight", 288, 64, 10304, True, False),
    ("face dense 10752->512 fwd", 16, 512, 10752, False, False),
    ("face dense 10752->512 dx", 16, 10752, 512, False, True),
    ("face dense 10752->512 dW", 10752, 512, 16, True, False),
    ("face dense 512->128 fwd", 16, 128, 512, False, False),
    ("face dense 512->128 dx", 16, 512, 128, False, True),
    ("face dense 512->128 dW", 512, 128, 16, True, False),
    ("face dense 128->2 fwd", 16, 2, 128, False, False),
    ("face dense 128->2 dx", 16, 128, 2, False, True),
    ("face dense 128->2 dW", 128, 2, 16, True, False),
    ("mnist dense 576->64 fwd", 64, 64, 576, False, False),
    ("mnist dense 576->64 dx", 64, 576, 64, False, True),
    ("mnist dense 576->64 dW", 576, 64, 64, True, False),
    ("mnist dense 64->10 fwd", 64, 10, 64, False, False),
    ("mnist dense 64->10 dx", 64, 64, 10, False, True),
    ("mnist dense 64->10 dW", 64, 10, 64, True, False),
    ("cifar dense 4096->128 fwd", 32, 128, 4096, False, False),
    ("cifar dense 4096->128 dx", 32, 4096, 128, False, True),
    ("cifar dense 4096->128 dW", 4096, 128, 32, True, False),
]


def cpu_time_medians(cases, repetitions, flops):
    """Interleaved medians of CPU time per call (1 thread only: immune to other
    processes' load, which wall-clock timing on a shared host is not)."""
    import statistics
    import time

    calls = max(1, int(2e8 / flops))
    samples = {name: [] for name in cases}
    for _ in range(repetitions):
        for name, fn in cases.items():
            fn()
            start = time.process_time()
            for _ in range(calls):
                fn()
            samples[name].append((time.process_time() - start) / calls)
    return {name: statistics.median(s) for name, s in samples.items()}


def child(threads, reps, cpu_time=False, only=None):
    import numpy as np

    import pycnn
    from pycnn import ops

    sys.path.insert(0, os.path.dirname(__file__))
    from harness import interleaved_medians, set_threads, try_import_torch

    set_threads(threads)
    torch = try_import_torch()
    rng = np.random.default_rng(0)
    print(f"\n### {threads} thread(s), pycnn isa {pycnn._core.active_isa()}\n")
    print("| shape | m, n, k | pycnn GFLOP/s | numpy GFLOP/s | torch GFLOP/s | pycnn/numpy | pycnn/torch |")
    print("|---|---|---|---|---|---|---|")
    for label, m, n, k, ta, tb in SHAPES:
        if only and only not in label:
            continue
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
        oa, ob = (a.T if ta else a), (b.T if tb else b)
        got = ops.gemm(a, b, trans_a=ta, trans_b=tb)
        want = oa.astype(np.float64) @ ob.astype(np.float64)
        assert np.allclose(got, want, rtol=1e-3, atol=1e-3 * np.sqrt(k)), label  # never time a wrong kernel
        cases = {"pycnn": lambda: ops.gemm(a, b, trans_a=ta, trans_b=tb), "numpy": lambda: oa @ ob}
        if torch is not None:
            ta_, tb_ = torch.from_numpy(oa), torch.from_numpy(ob)
            cases["torch"] = lambda: torch.mm(ta_, tb_)
        if cpu_time:
            med = cpu_time_medians(cases, reps, 2.0 * m * n * k)
        else:
            med = interleaved_medians(cases, repetitions=reps, min_seconds=0.05, quiet_check=threads > 1,
                                      settle_seconds=0.2 if threads > 1 else 0.0)
        gf = {name: 2.0 * m * n * k / s * 1e-9 for name, s in med.items()}
        t = gf.get("torch", float("nan"))
        print(f"| {label} | {m}, {n}, {k} | {gf['pycnn']:.1f} | {gf['numpy']:.1f} | {t:.1f} | "
              f"{gf['pycnn'] / gf['numpy']:.2f} | {gf['pycnn'] / t:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--cpu-time", action="store_true", help="time CPU seconds (1 thread only)")
    parser.add_argument("--only", help="time only the shapes whose label contains this text")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.reps, args.cpu_time, args.only)
    if args.cpu_time and args.threads != [1]:
        parser.error("--cpu-time measures 1 thread only (use --threads 1)")
    for n in args.threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n))
        extra = ["--cpu-time"] if args.cpu_time else []
        extra += ["--only", args.only] if args.only else []
        subprocess.run([sys.executable, __file__, "--child", str(n), "--reps", str(args.reps)] + extra, env=env,
                       check=True)


if __name__ == "__main__":
    main()
