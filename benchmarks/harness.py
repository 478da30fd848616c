"""Side-by-side timing helpers for the Python benchmarks.

The machine is shared and noisy: cases are timed in interleaved rounds (A, B,
C, A, B, C, ...) and the median is reported; at two threads a small canary
GEMM (pycnn's) is timed before each round and the round waits while the host is in a
bad period (fork/join suddenly costing milliseconds).
"""

import os
import statistics
import time

import numpy as np

# Environment that makes PyTorch (oneDNN, ATen, MKL) and OpenBLAS use at most
# the given ISA (bench_conv.py and nets.py --isa).
ISA_ENV = {
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
             "OPENBLAS_CORETYPE": "Haswell"},
    "portable": {"ONEDNN_MAX_CPU_ISA": "SSE41", "ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
                 "OPENBLAS_CORETYPE": "Nehalem"},
}


def set_threads(n):
    """Use n threads in pycnn and, if importable, PyTorch (intra and inter-op)."""
    import pycnn

    pycnn.set_num_threads(n)
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass


def try_import_torch():
    try:
        import torch

        return torch
    except ImportError:
        return None


def time_once(fn, min_seconds):
    """Seconds per call of fn, calling it enough times to last min_seconds."""
    fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls


_canary_a = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)


def canary_ms():
    """A fixed 256^3 GEMM on pycnn's own thread pool, the one the timed code uses.
    numpy's (OpenBLAS) threads, woken by an `a @ a` here, spin for about 0.1 s
    afterwards on the very cores the next timing needs: at two threads that
    made both pycnn and torch several times slower (a "bad period" the canary
    itself caused)."""
    from pycnn import ops

    start = time.perf_counter()
    ops.gemm(_canary_a, _canary_a)
    return (time.perf_counter() - start) * 1e3


def wait_for_quiet(limit_ms=2.0, max_wait_s=30.0):
    """Waits (up to max_wait_s) until the canary runs in under limit_ms."""
    deadline = time.perf_counter() + max_wait_s
    while canary_ms() > limit_ms and time.perf_counter() < deadline:
        time.sleep(0.2)


def interleaved_medians(cases, repetitions=7, min_seconds=0.05, quiet_check=False, settle_seconds=0.0):
    """cases: dict name -> zero-argument callable. Returns name -> median seconds.

    settle_seconds: a pause before each case, so that the spinning worker
    threads of the previous case's library (OpenBLAS, another OpenMP
    runtime) go to sleep instead of competing for the cores.
    """
    samples = {name: [] for name in cases}
    for _ in range(repetitions):
        for name, fn in cases.items():
            if quiet_check:
                wait_for_quiet()
            if settle_seconds:
                time.sleep(settle_seconds)
            samples[name].append(time_once(fn, min_seconds))
    return {name: statistics.median(s) for name, s in samples.items()}


def machine_description():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores"
