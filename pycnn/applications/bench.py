"""``pycnn bench``: a short speed report of this machine.

SGEMM GFLOP/s (pycnn's own GEMM beside numpy's BLAS), then the median time
of one training step of each tutorial network at its tutorial batch size,
with the same network in PyTorch (channels_last, same optimizer) beside it
when torch is installed. Random data; the first step of each is a warm-up.
Medians of interleaved repetitions, so a noisy neighbour hurts both sides.
"""

import platform
import time

import numpy as np

from pycnn import ops, utils
from pycnn.applications import recipes

_NETS = ("mnist", "cifar10", "cifar10-mlp", "faces")


def _median_time(fn, reps):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def gemm_report(n=1024, reps=5):
    """[(library, GFLOP/s)] for an n x n x n float32 product."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    flops = 2.0 * n ** 3
    rows = []
    gemm = getattr(ops, "gemm", None)
    if callable(gemm):
        # Refuse to time a wrong product.
        np.testing.assert_allclose(gemm(a[:64], b[:, :64]), a[:64] @ b[:, :64], rtol=1e-3, atol=1e-2)
        rows.append(("pycnn.ops.gemm", flops / _median_time(lambda: gemm(a, b), reps) / 1e9))
    rows.append(("numpy matmul (BLAS)", flops / _median_time(lambda: a @ b, reps) / 1e9))
    torch = _torch()
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        rows.append(("torch.mm", flops / _median_time(lambda: torch.mm(ta, tb), reps) / 1e9))
    return rows


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _pycnn_step(name, batch):
    recipe = recipes.get(name)
    model = recipe.build()
    model.compile(optimizer=recipe.make_optimizer(), loss="sparse_categorical_crossentropy")
    shape = tuple(model.input_shape[1:])
    rng = np.random.default_rng(1)
    x = rng.random((batch,) + shape, dtype=np.float32)
    y = rng.integers(0, model.output_shape[-1], batch)
    return lambda: model.train_on_batch(x, y)


def _torch_twin(torch, name):
    nn = torch.nn
    if name == "mnist":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
            nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10)), (1, 28, 28)
    if name == "cifar10":
        layers, cin = [], 3
        for cout, stride in ((32, 1), (32, 2), (64, 1), (64, 2)):
            layers += [nn.Conv2d(cin, cout, 3, stride, padding=1), nn.BatchNorm2d(cout, 1e-3, 0.01),
                       nn.LeakyReLU(0.3)]
            cin = cout
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(4096, 128), nn.BatchNorm1d(128, 1e-3, 0.01),
                             nn.LeakyReLU(0.3), nn.Dropout(0.5), nn.Linear(128, 10)), (3, 32, 32)
    if name == "cifar10-mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(3072, 200), nn.ReLU(), nn.Linear(200, 150), nn.ReLU(),
                             nn.Linear(150, 10)), (3, 32, 32)
    layers, cin = [], 3
    for cout in (16, 32, 64):
        layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
        cin = cout
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(10752, 512), nn.ReLU(), nn.Dropout(0.4),
                         nn.Linear(512, 128), nn.ReLU(), nn.Dropout(0.4), nn.Linear(128, 2)), (3, 112, 92)


def _torch_step(torch, name, batch, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net, shape = _torch_twin(torch, name)
    net = net.to(memory_format=torch.channels_last) if len(shape) == 3 else net
    recipe = recipes.get(name)
    lr = recipe.optimizer["learning_rate"]
    if recipe.optimizer["class_name"] == "Adam":
        opt = torch.optim.Adam(net.parameters(), lr=lr, eps=1e-7)
    else:
        opt = torch.optim.RMSprop(net.parameters(), lr=lr, alpha=0.9, eps=1e-7)
    x = torch.rand((batch,) + shape).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10 if name != "faces" else 2, (batch,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        opt.step()

    return step


def report(threads, steps=5, print_fn=print):
    """Print the speed report (GEMM, then one training step per network)."""
    utils.set_random_seed(0)
    print_fn(f"pycnn bench: {platform.processor() or platform.machine()}, {threads} threads")
    print_fn("SGEMM 1024x1024x1024 float32 (median of 5)")
    for library, gflops in gemm_report():
        print_fn(f"  {library:<22} {gflops:8.1f} GFLOP/s")
    torch = _torch()
    header = f"  {'network':<12} {'batch':>5} {'pycnn ms':>9}"
    header += f" {'torch ms':>9} {'torch/pycnn':>11}" if torch else "  (install torch for a comparison)"
    print_fn(f"One training step (median of {steps}, after a warm-up step)")
    print_fn(header)
    for name in _NETS:
        batch = recipes.get(name).batch_size
        fns = [_pycnn_step(name, batch)]
        if torch is not None:
            fns.append(_torch_step(torch, name, batch, threads))
        for fn in fns:
            fn()
        times = [[] for _ in fns]
        for _ in range(steps):
            for k, fn in enumerate(fns):
                start = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - start)
        ms = [1e3 * float(np.median(t)) for t in times]
        line = f"  {name:<12} {batch:>5} {ms[0]:>9.1f}"
        if torch is not None:
            line += f" {ms[1]:>9.1f} {ms[1] / ms[0]:>10.2f}x"
        print_fn(line)
