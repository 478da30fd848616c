"""Pooling, batch norm and dropout: pycnn vs PyTorch CPU (channels_last), side by side.

For each seed-network shape and each thread count (1 and 2) the script times,
interleaved in one process: max-pool 2x2/2 with indices (forward, backward),
batch norm in training mode (forward, backward) and dropout (forward), plus
a large tensor copy as the memory-bandwidth yardstick of the same run. It
prints median ms, effective GB/s (minimum bytes read + written), the percent
of the copy bandwidth, and the ratio torch time / pycnn time (> 1: pycnn is
faster). Results are checked against PyTorch once before anything is timed.

    python benchmarks/bench_elementwise.py [--threads 1 2] [--repetitions 7]
"""

import argparse
import datetime
import os
import platform
import sys

import numpy as np

import pycnn
from pycnn import ops

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCHMARKS, os.path.join(os.path.dirname(BENCHMARKS), "tests")]
from harness import interleaved_medians, machine_description, set_threads, try_import_torch  # noqa: E402
from shapes import SEED_BATCH_NORM  # noqa: E402

POOL_SHAPES = [("mnist pool1", (64, 26, 26, 32)), ("mnist pool2", (64, 11, 11, 64)),
               ("cifar pool1", (32, 32, 32, 32)), ("cifar pool2", (32, 16, 16, 64)),
               ("face pool1", (16, 112, 92, 16)), ("face pool2", (16, 56, 46, 32)), ("face pool3", (16, 28, 23, 64))]
DROPOUT_SHAPES = [("cifar conv act", (32, 16, 16, 64)), ("face conv act", (16, 56, 46, 32)), ("dense", (64, 128))]
COPY_FLOATS = 1 << 25  # 128 MiB per array


def cl(torch, x_nhwc):
    """An NHWC numpy array as a torch NCHW tensor in channels_last memory (no copy)."""
    return torch.from_numpy(x_nhwc).permute(0, 3, 1, 2)


def build_cases(torch, rng):
    """name -> (pycnn fn, torch fn, bytes)."""
    cases = {}
    for name, shape in POOL_SHAPES:
        x = rng.standard_normal(shape).astype(np.float32)
        y, argmax = ops.max_pool2d(x)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        xt = cl(torch, x)
        yt, it = torch.nn.functional.max_pool2d(xt, 2, 2, return_indices=True)
        assert np.array_equal(yt.permute(0, 2, 3, 1).numpy(), y), name
        dyt = cl(torch, dy)
        dx = ops.max_pool2d_backward(dy, argmax, x.shape)
        dxt = torch.ops.aten.max_pool2d_with_indices_backward(dyt, xt, [2, 2], [2, 2], [0, 0], [1, 1], False, it)
        assert np.allclose(dxt.permute(0, 2, 3, 1).numpy(), dx), name
        fwd_bytes, bwd_bytes = 4 * x.size + 8 * y.size, 4 * x.size + 8 * y.size
        cases[f"maxpool fwd | {name} | {shape}"] = (
            lambda x=x: ops.max_pool2d(x), lambda xt=xt: torch.nn.functional.max_pool2d(xt, 2, 2, return_indices=True), fwd_bytes)
        cases[f"maxpool bwd | {name} | {shape}"] = (
            lambda dy=dy, a=argmax, s=x.shape: ops.max_pool2d_backward(dy, a, s),
            lambda dyt=dyt, xt=xt, it=it: torch.ops.aten.max_pool2d_with_indices_backward(
                dyt, xt, [2, 2], [2, 2], [0, 0], [1, 1], False, it), bwd_bytes)
    for name, shape in SEED_BATCH_NORM:
        c = shape[-1]
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        dy = rng.standard_normal(shape).astype(np.float32)
        g, b = rng.uniform(0.5, 1.5, c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
        mm, mv = np.zeros(c, np.float32), np.ones(c, np.float32)
        y, mean, inv_std = ops.batch_norm_train(x, g, b, mm, mv)
        xt = cl(torch, x) if x.ndim == 4 else torch.from_numpy(x)
        dyt = cl(torch, dy) if x.ndim == 4 else torch.from_numpy(dy)
        gt, bt = torch.from_numpy(g), torch.from_numpy(b)
        rm, rv = torch.zeros(c), torch.ones(c)
        yt, save_mean, save_invstd = torch.ops.aten.native_batch_norm(xt, gt, bt, rm, rv, True, 0.01, 1e-3)
        y_t = yt.permute(0, 2, 3, 1).numpy() if x.ndim == 4 else yt.numpy()
        assert np.allclose(y_t, y, atol=1e-4), name
        dx, dg, db = ops.batch_norm_backward(dy, x, g, mean, inv_std)
        dxt = torch.ops.aten.native_batch_norm_backward(dyt, xt, gt, rm, rv, save_mean, save_invstd, True, 1e-3,
                                                        [True, True, True])
        dx_t = dxt[0].permute(0, 2, 3, 1).numpy() if x.ndim == 4 else dxt[0].numpy()
        assert np.allclose(dx_t, dx, atol=1e-4) and np.allclose(dxt[1].numpy(), dg, rtol=1e-3, atol=1e-2), name
        cases[f"BN train fwd | {name} | {shape}"] = (
            lambda x=x, g=g, b=b, mm=mm, mv=mv: ops.batch_norm_train(x, g, b, mm, mv),
            lambda xt=xt, gt=gt, bt=bt, rm=rm, rv=rv: torch.ops.aten.native_batch_norm(xt, gt, bt, rm, rv, True, 0.01, 1e-3),
            8 * x.size)
        cases[f"BN train bwd | {name} | {shape}"] = (
            lambda dy=dy, x=x, g=g, m=mean, s=inv_std: ops.batch_norm_backward(dy, x, g, m, s),
            lambda dyt=dyt, xt=xt, gt=gt, rm=rm, rv=rv, sm=save_mean, si=save_invstd: torch.ops.aten.native_batch_norm_backward(
                dyt, xt, gt, rm, rv, sm, si, True, 1e-3, [True, True, True]),
            12 * x.size)
    for name, shape in DROPOUT_SHAPES:
        x = rng.standard_normal(shape).astype(np.float32)
        xt = cl(torch, x) if x.ndim == 4 else torch.from_numpy(x)
        step = iter(range(1 << 60))
        cases[f"dropout 0.5 fwd | {name} | {shape}"] = (
            lambda x=x, s=step: ops.dropout(x, 0.5, 1234, next(s)),
            lambda xt=xt: torch.nn.functional.dropout(xt, 0.5, training=True), 8 * x.size)
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--min-seconds", type=float, default=0.05)
    parser.add_argument("--settle", type=float, default=0.0,
                        help="pause (s) before each case, so the previous library's worker threads stop spinning")
    args = parser.parse_args()
    torch = try_import_torch()
    if torch is None:
        sys.exit("PyTorch is needed for the side-by-side comparison")
    rng = np.random.default_rng(0)
    cases = build_cases(torch, rng)
    src, dst = torch.randn(COPY_FLOATS), torch.empty(COPY_FLOATS)

    print(f"# {datetime.date.today()} | {machine_description()} | isa {pycnn._core.active_isa()} | "
          f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}")
    for threads in args.threads:
        set_threads(threads)
        timed = {"copy": lambda: dst.copy_(src)}
        for name, (fp, ft, _) in cases.items():
            timed["pycnn " + name] = fp
            timed["torch " + name] = ft
        med = interleaved_medians(timed, args.repetitions, args.min_seconds, quiet_check=threads > 1,
                                  settle_seconds=args.settle)
        copy_gbs = 8 * COPY_FLOATS / med["copy"] / 1e9
        print(f"\n## {threads} thread(s): copy bandwidth {copy_gbs:.1f} GB/s (torch copy_ of 128 MiB)\n")
        print("| op | layer | shape | pycnn ms | pycnn GB/s | % copy | torch ms | torch GB/s | torch/pycnn |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, (_, _, nbytes) in cases.items():
            tp, tt = med["pycnn " + name], med["torch " + name]
            gp, gt = nbytes / tp / 1e9, nbytes / tt / 1e9
            op, layer, shape = (s.strip() for s in name.split("|"))
            # Four significant digits: the dense layer's calls take about 0.0015 ms.
            print(f"| {op} | {layer} | {shape} | {tp * 1e3:.4g} | {gp:.1f} | {100 * gp / copy_gbs:.0f}% | "
                  f"{tt * 1e3:.4g} | {gt:.1f} | {tt / tp:.2f} |")


if __name__ == "__main__":
    main()
