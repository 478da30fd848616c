"""pycnn conv2d / dense vs PyTorch CPU (channels_last), side by side in one process.

For every seed-network layer (tests/shapes.py) and each thread count, times
forward, d-input and d-weight of both libraries in interleaved rounds and
prints the median ms, GFLOP/s, % of the SGEMM peak measured in the same run
(numpy/OpenBLAS, n=2048) and the ratio torch/pycnn (> 1: pycnn faster).
Each thread count runs in a fresh process so OpenBLAS, PyTorch and pycnn all
use exactly that many threads.

    python benchmarks/bench_conv.py [--threads 1 2] [--reps 7] [--only mnist-conv2] [--cpu-time]

--cpu-time times with time.process_time (1 thread only): on a host shared
with other jobs it counts only the cycles this process got, where wall
clock also counts the time slices others took.

--isa avx2 runs all three libraries as on an AVX2-only CPU: pycnn through
_core.set_isa, PyTorch through ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY and
MKL_ENABLE_INSTRUCTIONS (its dense layers run on MKL), OpenBLAS (the peak)
through OPENBLAS_CORETYPE=Haswell. --isa portable runs
pycnn's baseline build (SSE2 on x86-64) against PyTorch limited to SSE4.1
and OpenBLAS's Nehalem kernels.
"""

import argparse
import os
import subprocess
import sys
import time

from harness import ISA_ENV

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_time_medians(cases, repetitions, min_seconds):
    """interleaved_medians with time.process_time (one thread: CPU time == work time)."""
    import statistics

    samples = {name: [] for name in cases}
    for fn in cases.values():
        fn()
    for _ in range(repetitions):
        for name, fn in cases.items():
            calls, start = 0, time.process_time()
            while True:
                fn()
                calls += 1
                elapsed = time.process_time() - start
                if elapsed >= min_seconds:
                    break
            samples[name].append(elapsed / calls)
    return {name: statistics.median(s) for name, s in samples.items()}


def run_one(threads, reps, only, cpu_time=False, settle=0.0, isa=None):
    import numpy as np
    import torch

    sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "benchmarks")]
    import pycnn
    from pycnn import _core
    from harness import interleaved_medians, machine_description, set_threads
    from shapes import SEED_CONV, SEED_DENSE

    set_threads(threads)
    if isa:
        _core.set_isa(isa)
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    medians = cpu_time_medians if cpu_time else (lambda c, r, s: interleaved_medians(c, repetitions=r, min_seconds=s))
    peak = 2 * 2048**3 / medians({"sgemm": lambda: a @ a}, 3, 0.3)["sgemm"] / 1e9
    time.sleep(0.5)  # OpenBLAS's threads spin for a while after their last call: let them sleep first
    print(f"\n## {threads} thread(s) — {machine_description()}, torch {torch.__version__}, "
          f"pycnn ISA {_core.active_isa()}; SGEMM peak (numpy/OpenBLAS n=2048) {peak:.1f} GFLOP/s")
    print("| layer | shape | pass | pycnn ms | GFLOP/s | % peak | torch ms | GFLOP/s | torch/pycnn |")
    print("|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(1)
    for case in SEED_CONV:
        if only and only not in case.name:
            continue
        x = rng.standard_normal(case.x_shape).astype(np.float32)
        w = (rng.standard_normal(case.kernel_shape) * 0.1).astype(np.float32)
        oh, ow = case.output_hw()
        dy = rng.standard_normal((case.n, oh, ow, case.k)).astype(np.float32)
        args = case.core_args()
        # PyTorch: NCHW logical tensors in channels_last memory; symmetric
        # padding giving the same output size (TF 'same' is asymmetric at stride 2).
        xt = torch.from_numpy(x).permute(0, 3, 1, 2)
        wt = torch.from_numpy(w).permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)
        dyt = torch.from_numpy(dy).permute(0, 3, 1, 2)
        pad = (case.kh // 2, case.kw // 2) if case.padding == "same" else (0, 0)
        assert torch.nn.functional.conv2d(xt, wt, None, case.strides, pad).shape[2:] == (oh, ow)
        if case.strides == (1, 1):  # same padding on both sides: check the numbers once
            want = torch.nn.functional.conv2d(xt, wt, None, 1, pad).permute(0, 2, 3, 1).numpy()
            got = _core.conv2d_forward(x, w, None, *args, 0, 0.0)
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)

        def t_bwd(mask):
            return lambda: torch.ops.aten.convolution_backward(
                dyt, xt, wt, None, case.strides, pad, case.dilation, False, (0, 0), case.groups, mask)

        cases = {
            ("fwd", "pycnn"): lambda: _core.conv2d_forward(x, w, None, *args, 0, 0.0),
            ("fwd", "torch"): lambda: torch.nn.functional.conv2d(xt, wt, None, case.strides, pad),
            ("d-input", "pycnn"): lambda: _core.conv2d_backward(dy, x, w, *args, True, False, False),
            ("d-input", "torch"): t_bwd([True, False, False]),
            ("d-weight", "pycnn"): lambda: _core.conv2d_backward(dy, x, w, *args, False, False, True),
            ("d-weight", "torch"): t_bwd([False, True, False]),
        }
        with torch.no_grad():
            if cpu_time:
                med = cpu_time_medians(cases, reps, 0.05)
            else:
                med = interleaved_medians(cases, repetitions=reps, min_seconds=0.05, quiet_check=threads > 1,
                                          settle_seconds=settle)
        shape = f"N{case.n} {case.h}x{case.w}x{case.c}->{case.k} k{case.kh} s{case.strides[0]}"
        for p in ("fwd", "d-input", "d-weight"):
            ours, theirs = med[(p, "pycnn")], med[(p, "torch")]
            gf, tgf = case.flops() / ours / 1e9, case.flops() / theirs / 1e9
            print(f"| {case.name} | {shape} | {p} | {ours*1e3:.3f} | {gf:.1f} | {100*gf/peak:.0f}% | "
                  f"{theirs*1e3:.3f} | {tgf:.1f} | {theirs/ours:.2f} |", flush=True)
    for case in SEED_DENSE:
        if only and only not in case.name:
            continue
        x = rng.standard_normal(case.x_shape).astype(np.float32)
        w = (rng.standard_normal((case.inp, case.out)) * 0.1).astype(np.float32)
        dy = rng.standard_normal((case.rows, case.out)).astype(np.float32)
        xt, wt, dyt = torch.from_numpy(x), torch.from_numpy(w.T.copy()), torch.from_numpy(dy)
        cases = {
            ("fwd", "pycnn"): lambda: _core.dense_forward(x, w, None, 0, 0.0),
            ("fwd", "torch"): lambda: torch.nn.functional.linear(xt, wt),
            ("d-input", "pycnn"): lambda: _core.dense_backward(dy, x, w, True, False),
            ("d-input", "torch"): lambda: (dyt @ wt, dyt.t() @ xt),
        }
        with torch.no_grad():
            if cpu_time:
                med = cpu_time_medians(cases, reps, 0.05)
            else:
                med = interleaved_medians(cases, repetitions=reps, min_seconds=0.05, quiet_check=threads > 1,
                                          settle_seconds=settle)
        for p, flops in (("fwd", case.flops()), ("d-input", 2 * case.flops())):
            ours, theirs = med[(p, "pycnn")], med[(p, "torch")]
            gf, tgf = flops / ours / 1e9, flops / theirs / 1e9
            label = "fwd" if p == "fwd" else "bwd (dx+dW)"
            print(f"| {case.name} | N{case.rows} {case.inp}->{case.out} | {label} | {ours*1e3:.3f} | {gf:.1f} | "
                  f"{100*gf/peak:.0f}% | {theirs*1e3:.3f} | {tgf:.1f} | {theirs/ours:.2f} |", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--only", default="")
    parser.add_argument("--cpu-time", action="store_true", help="time.process_time; 1 thread only")
    parser.add_argument("--settle", type=float, default=0.0,
                        help="pause (s) before each case, so the previous library's worker threads stop spinning")
    parser.add_argument("--isa", choices=sorted(ISA_ENV), help="run pycnn, PyTorch and OpenBLAS at most at this ISA")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.cpu_time and opts.threads != [1]:
        parser.error("--cpu-time needs --threads 1 (process time adds up every thread's time)")
    if opts.child:
        return run_one(opts.threads[0], opts.reps, opts.only, opts.cpu_time, opts.settle, opts.isa)
    print(f"# conv2d / dense: pycnn vs torch channels_last, {time.strftime('%Y-%m-%d %H:%M')}")
    for t in opts.threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t), MKL_NUM_THREADS=str(t),
                   **ISA_ENV.get(opts.isa, {}))
        subprocess.run([sys.executable, __file__, "--child", "--threads", str(t), "--reps", str(opts.reps),
                        "--only", opts.only, "--settle", str(opts.settle)] + (["--cpu-time"] if opts.cpu_time else [])
                       + (["--isa", opts.isa] if opts.isa else []), env=env, check=True)


if __name__ == "__main__":
    main()
