"""SGEMM side by side: pycnn.ops.gemm vs numpy (OpenBLAS) vs torch.mm.

    PYTHONPATH=. python benchmarks/bench_gemm.py [--threads 1 2] [--reps 9]

Each thread count runs in a fresh process with OMP/OpenBLAS/MKL thread
variables set before numpy is imported (numpy's BLAS reads them only then).
Three thread pools share two cores here, and each spins for a while after
its work; at 2 threads every case therefore starts after a 0.2 s pause.
Shapes: 2048^3 and the GEMMs the seed networks' conv and dense passes imply
(fwd: A = im2col, d-input: B transposed, d-weight: A transposed). Prints
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
    ("mnist dense 576->64", 64, 64, 576, False, False),
    ("face dense 10752->512 fwd", 16, 512, 10752, False, False),
    ("face dense 10752->512 dW", 10752, 512, 16, True, False),
    ("face dense 10752->512 dx", 16, 10752, 512, False, True),
]


def child(threads, reps):
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
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.reps)
    for n in args.threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n))
        subprocess.run([sys.executable, __file__, "--child", str(n), "--reps", str(args.reps)], env=env, check=True)


if __name__ == "__main__":
    main()
