"""``pycnn bench``: a short speed report of this machine, and the timing
pieces the whole-network benchmark (benchmarks/nets.py) shares with it.

The report: SGEMM GFLOP/s (pycnn's own GEMM beside numpy's BLAS and
torch.mm), then for each tutorial network at its tutorial batch size the
median time of one training step (forward, loss, backward, optimizer
update; ``train_on_batch``) and inference images/s (``predict_on_batch``),
with PyTorch written the fast way (channels_last, fused Adam / foreach
RMSprop, inference_mode; see ``torch_reference``) beside it when torch is
installed. Fixed random data; warm-up calls first; medians of interleaved
repetitions, so a noisy neighbour hurts both sides alike.
"""

import platform
import statistics
import time

import numpy as np

NETS = ("mnist", "cifar10", "faces")


def cpu_model():
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def time_per_call(fn, min_seconds=0.0):
    """Seconds per call of fn: one call, or as many as fill min_seconds."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def interleaved_medians(cases, repetitions, min_seconds=0.0, warmup=1, settle_s=0.0):
    """cases: dict name -> zero-argument callable. Returns name -> median seconds per call.

    Every case is warmed up, then timed once per round, round after round
    (A, B, A, B, ...), so a slow period of the machine hits all cases.
    settle_s: a pause before each timing, so that the worker threads of the
    previous case's library stop spinning before the next case starts.
    """
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in cases}
    for _ in range(repetitions):
        for name, fn in cases.items():
            time.sleep(settle_s)
            samples[name].append(time_per_call(fn, min_seconds))
    return {name: statistics.median(s) for name, s in samples.items()}


def training_config(name):
    """(batch size, optimizer class name, learning rate) of the tutorial's recipe for ``name``."""
    from pycnn.applications import recipes

    recipe = recipes.get(name)
    return recipe.batch_size, recipe.optimizer["class_name"], recipe.optimizer["learning_rate"]


def _random_batch(model, batch, seed):
    rng = np.random.default_rng(seed)
    x = rng.random((batch,) + tuple(model.input_shape[1:]), dtype=np.float32)
    y = rng.integers(0, model.output_shape[-1], batch)
    return x, y


def pycnn_training_step(name, batch=None, seed=0):
    """A function running one ``train_on_batch`` of network ``name`` on fixed random data.

    Compiled as the tutorial's recipe (optimizer, sparse categorical
    cross-entropy). Returns (step, model).
    """
    from pycnn import utils
    from pycnn.applications import recipes

    recipe = recipes.get(name)
    utils.set_random_seed(seed)
    model = recipe.build()
    model.compile(optimizer=recipe.make_optimizer(), loss="sparse_categorical_crossentropy")
    x, y = _random_batch(model, batch or recipe.batch_size, seed)
    return (lambda: model.train_on_batch(x, y)), model


def pycnn_inference(name, batch, seed=0):
    """A function running ``predict_on_batch`` of network ``name`` on one fixed random batch."""
    from pycnn import utils
    from pycnn.applications import get

    utils.set_random_seed(seed)
    model = get(name)()
    x, _ = _random_batch(model, batch, seed)
    return (lambda: model.predict_on_batch(x)), model


def gemm_report(n=1024, reps=5, torch=None):
    """[(library, GFLOP/s)] for an n x n x n float32 product (torch: the module, to add torch.mm)."""
    from pycnn import ops

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    # Refuse to time a wrong product.
    np.testing.assert_allclose(ops.gemm(a[:64], b[:, :64]), a[:64] @ b[:, :64], rtol=1e-3, atol=1e-2)
    cases = {"pycnn.ops.gemm": lambda: ops.gemm(a, b), "numpy matmul (BLAS)": lambda: a @ b}
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        cases["torch.mm"] = lambda: torch.mm(ta, tb)
    seconds = interleaved_medians(cases, reps, settle_s=0.02)
    return [(library, 2.0 * n ** 3 / s / 1e9) for library, s in seconds.items()]


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _net_cases(name, torch):
    """name -> callable for pycnn (and tuned PyTorch): training step and inference at the training batch."""
    batch, optimizer, learning_rate = training_config(name)
    cases = {"pycnn train": pycnn_training_step(name, batch)[0], "pycnn infer": pycnn_inference(name, batch)[0]}
    if torch is not None:
        from pycnn.applications import torch_reference as ref

        cases["torch train"] = ref.training_step(torch, name, batch, optimizer, learning_rate, tuned=True)[0]
        cases["torch infer"] = ref.inference(torch, name, batch, tuned=True)[0]
    return batch, cases


def report(threads, steps=5, torch=True, print_fn=print):
    """Print the speed report: GEMM, then one training step and inference per network.

    torch=False leaves PyTorch out even when it is installed.
    """
    wanted, torch = torch, (_torch() if torch else None)
    if torch is not None:
        from pycnn.applications import torch_reference

        torch_reference.set_threads(torch, threads)
    print_fn(f"pycnn bench: {cpu_model()}, {threads} threads"
             + (f", torch {torch.__version__}" if torch is not None else ""))
    print_fn("SGEMM 1024x1024x1024 float32 (median of 5)")
    for library, gflops in gemm_report(torch=torch):
        print_fn(f"  {library:<22} {gflops:8.1f} GFLOP/s")
    print_fn(f"Networks (median of {steps} interleaved repetitions after a warm-up; random data)")
    if torch is None:
        print_fn("  (PyTorch left out)" if not wanted else "  (install torch to see PyTorch beside pycnn)")
        print_fn(f"  {'network':<8} {'batch':>5} {'train ms':>9} {'infer img/s':>12}")
    else:
        print_fn("  torch: channels_last, fused Adam / foreach RMSprop, inference_mode")
        print_fn(f"  {'network':<8} {'batch':>5} {'train ms':>9} {'torch ms':>9} {'torch/pycnn':>11}"
                 f" {'infer img/s':>12} {'torch img/s':>12} {'pycnn/torch':>11}")
    for name in NETS:
        batch, cases = _net_cases(name, torch)
        s = interleaved_medians(cases, steps, settle_s=0.02)
        line = f"  {name:<8} {batch:>5} {1e3 * s['pycnn train']:>9.1f}"
        if torch is None:
            print_fn(line + f" {batch / s['pycnn infer']:>12,.0f}")
            continue
        line += f" {1e3 * s['torch train']:>9.1f} {s['torch train'] / s['pycnn train']:>10.2f}x"
        line += f" {batch / s['pycnn infer']:>12,.0f} {batch / s['torch infer']:>12,.0f}"
        print_fn(line + f" {s['torch infer'] / s['pycnn infer']:>10.2f}x")
