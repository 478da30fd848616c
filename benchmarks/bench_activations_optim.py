"""Activations, softmax cross-entropy and fused optimizer updates: pycnn vs
PyTorch CPU side by side in one process, at 1 and 2 threads.

    python benchmarks/bench_activations_optim.py [--threads 1 2] [--reps 7] [--no-quiet-check]

Prints, per case, the median time of interleaved repetitions, the effective
bandwidth (minimum bytes read + written) and torch_ms / pycnn_ms (> 1 means
pycnn is faster). Memory bandwidth is measured in the same run (numpy copy,
torch copy_) so the percentages refer to this machine at this moment.
Activations run on the face network's conv1 output (N16 112x92x16, 10.6 MB);
optimizers on its 5,595,042 parameters (12 arrays).
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pycnn  # noqa: E402
from pycnn import _core, ops  # noqa: E402
from harness import interleaved_medians, machine_description, set_threads, try_import_torch  # noqa: E402

ACT_SHAPE = (16, 112, 92, 16)
FACE_PARAMS = [(3, 3, 3, 16), (16,), (3, 3, 16, 32), (32,), (3, 3, 32, 64), (64,),
               (10752, 512), (512,), (512, 128), (128,), (128, 2), (2,)]


def bandwidth_cases(torch):
    n = 16 << 20  # 64 MiB per array
    a = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    b = np.empty_like(a)
    cases = {"numpy copyto": (lambda: np.copyto(b, a), 8.0 * n)}
    if torch:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        cases["torch copy_"] = (lambda: tb.copy_(ta), 8.0 * n)
    return cases


def activation_cases(torch):
    rng = np.random.default_rng(1)
    n = int(np.prod(ACT_SHAPE))
    x = (rng.standard_normal(ACT_SHAPE) * 3).astype(np.float32)
    dy = rng.standard_normal(ACT_SHAPE).astype(np.float32)
    out = np.empty_like(x)
    cases = {}
    for name, alpha in [("relu", 0.0), ("leaky_relu", 0.2), ("elu", 1.0), ("sigmoid", 0.0), ("tanh", 0.0)]:
        y = ops.activation(x, name, alpha=alpha)
        cases[(name, "fwd", "pycnn")] = (lambda name=name, alpha=alpha: ops.activation(x, name, alpha=alpha), 8.0 * n)
        cases[(name, "fwd", "pycnn out=")] = (
            lambda name=name, alpha=alpha: _core.activation_forward(x, name, alpha, out=out), 8.0 * n)
        cases[(name, "bwd", "pycnn")] = (
            lambda name=name, alpha=alpha, y=y: ops.activation_backward(dy, name, y=y, alpha=alpha), 12.0 * n)
        cases[(name, "bwd", "pycnn out=")] = (
            lambda name=name, alpha=alpha, y=y: _core.activation_backward(dy, y, name, alpha, True, out=out), 12.0 * n)
        if torch:
            tx, tdy, ty = torch.from_numpy(x), torch.from_numpy(dy), torch.from_numpy(y)
            fwd = {"relu": lambda: torch.relu(tx), "leaky_relu": lambda: torch.nn.functional.leaky_relu(tx, 0.2),
                   "elu": lambda: torch.nn.functional.elu(tx), "sigmoid": lambda: torch.sigmoid(tx),
                   "tanh": lambda: torch.tanh(tx)}[name]
            # the kernels autograd runs for each backward
            aten = torch.ops.aten
            bwd = {"relu": lambda: aten.threshold_backward(tdy, ty, 0.0),
                   "leaky_relu": lambda: aten.leaky_relu_backward(tdy, tx, 0.2, False),
                   "elu": lambda: aten.elu_backward(tdy, 1.0, 1.0, 1.0, True, ty),
                   "sigmoid": lambda: aten.sigmoid_backward(tdy, ty),
                   "tanh": lambda: aten.tanh_backward(tdy, ty)}[name]
            cases[(name, "fwd", "torch")] = (fwd, 8.0 * n)
            cases[(name, "bwd", "torch")] = (bwd, 12.0 * n)
    return cases


def softmax_xent_cases(torch):
    cases = {}
    rng = np.random.default_rng(2)
    for rows, cols in [(16, 2), (64, 10), (256, 1000)]:
        z = (rng.standard_normal((rows, cols)) * 3).astype(np.float32)
        labels = rng.integers(0, cols, rows)
        tag = f"{rows}x{cols}"
        cases[("softmax", tag, "pycnn")] = (lambda z=z: ops.softmax(z), 8.0 * z.size)
        cases[("softmax_xent sparse, loss+grad", tag, "pycnn")] = (
            lambda z=z, labels=labels: ops.softmax_cross_entropy(z, labels, sparse=True), 8.0 * z.size)
        if torch:
            tz = torch.from_numpy(z).requires_grad_(True)
            tl = torch.from_numpy(labels)

            def xent(tz=tz, tl=tl):
                tz.grad = None
                torch.nn.functional.cross_entropy(tz, tl, reduction="sum").backward()

            cases[("softmax", tag, "torch")] = (lambda tz=tz: torch.softmax(tz.detach(), -1), 8.0 * z.size)
            cases[("softmax_xent sparse, loss+grad", tag, "torch")] = (xent, 8.0 * z.size)
    return cases


def optimizer_cases(torch):
    rng = np.random.default_rng(3)
    params = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in FACE_PARAMS]
    grads = [(rng.standard_normal(s) * 0.01).astype(np.float32) for s in FACE_PARAMS]
    n = sum(p.size for p in params)
    zeros = lambda: [np.zeros_like(p) for p in params]  # noqa: E731
    m, v, vel, mom = zeros(), zeros(), zeros(), zeros()
    step = [0]

    def adam():
        step[0] += 1
        ops.adam_update(params, grads, m, v, learning_rate=1e-3, step=step[0])

    cases = {
        ("adam", "pycnn"): (adam, 28.0 * n),
        ("rmsprop", "pycnn"): (lambda: ops.rmsprop_update(params, grads, vel, learning_rate=1e-3), 20.0 * n),
        ("sgd momentum", "pycnn"): (
            lambda: ops.sgd_update(params, grads, mom, learning_rate=1e-2, momentum=0.9), 20.0 * n),
    }
    if torch:
        def torch_params():
            ps = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in params]
            for p, g in zip(ps, grads):
                p.grad = torch.from_numpy(g.copy())
            return ps

        opts = {
            ("adam", "torch fused"): torch.optim.Adam(torch_params(), lr=1e-3, eps=1e-7, fused=True),
            ("adam", "torch foreach"): torch.optim.Adam(torch_params(), lr=1e-3, eps=1e-7, foreach=True),
            ("rmsprop", "torch foreach"): torch.optim.RMSprop(torch_params(), lr=1e-3, alpha=0.9, eps=1e-7,
                                                              foreach=True),
            ("sgd momentum", "torch foreach"): torch.optim.SGD(torch_params(), lr=1e-2, momentum=0.9, foreach=True),
        }
        for key, opt in opts.items():
            cases[key] = (opt.step, (28.0 if key[0] == "adam" else 20.0) * n)
    return cases


def run(cases, reps, quiet_check):
    medians = interleaved_medians({k: fn for k, (fn, _) in cases.items()}, repetitions=reps, quiet_check=quiet_check)
    return {k: (medians[k], cases[k][1]) for k in cases}


def gbs(entry):
    seconds, nbytes = entry
    return nbytes / seconds / 1e9


def report(threads, reps, torch, quiet_check=True):
    set_threads(threads)
    quiet = quiet_check and threads > 1
    print(f"\n## {threads} thread(s)\n")
    bw = run(bandwidth_cases(torch), reps, quiet)
    peak = max(gbs(e) for e in bw.values())
    print("| bandwidth probe | GB/s |\n|---|---|")
    for k, e in bw.items():
        print(f"| {k} | {gbs(e):.1f} |")
    print(f"\nPercentages below are of {peak:.1f} GB/s (best probe in this run).\n")

    acts = run(activation_cases(torch), reps, quiet)
    print("| activation | pass | pycnn ms / GB/s / % bw | pycnn out= ms / GB/s / % bw | torch ms / GB/s | torch/pycnn |")
    print("|---|---|---|---|---|---|")
    for name in ["relu", "leaky_relu", "elu", "sigmoid", "tanh"]:
        for p in ["fwd", "bwd"]:
            a, o = acts[(name, p, "pycnn")], acts[(name, p, "pycnn out=")]
            t = acts.get((name, p, "torch"))
            cell = lambda e: f"{e[0] * 1e3:.3f} / {gbs(e):.1f} / {100 * gbs(e) / peak:.0f}%"  # noqa: E731
            tcell = f"{t[0] * 1e3:.3f} / {gbs(t):.1f}" if t else "-"
            ratio = f"{t[0] / a[0]:.2f}x" if t else "-"
            print(f"| {name} | {p} | {cell(a)} | {cell(o)} | {tcell} | {ratio} |")

    sx = run(softmax_xent_cases(torch), reps, quiet)
    print("\n| op | shape | pycnn us | torch us | torch/pycnn |\n|---|---|---|---|---|")
    for (op, tag, who), e in sx.items():
        if who != "pycnn":
            continue
        t = sx.get((op, tag, "torch"))
        print(f"| {op} | {tag} | {e[0] * 1e6:.1f} | {t[0] * 1e6 if t else float('nan'):.1f} | "
              f"{(t[0] / e[0]) if t else float('nan'):.2f}x |")

    opt = run(optimizer_cases(torch), reps, quiet)
    print("\n| optimizer (face net, 5.6M params) | impl | ms | GB/s | % bw | torch/pycnn |\n|---|---|---|---|---|---|")
    for (name, who), e in opt.items():
        ratio = opt[(name, "pycnn")][0]
        print(f"| {name} | {who} | {e[0] * 1e3:.2f} | {gbs(e):.1f} | {100 * gbs(e) / peak:.0f}% | "
              f"{e[0] / ratio:.2f}x |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--no-quiet-check", action="store_true",
                        help="at 2+ threads, do not wait for the canary to report a quiet host")
    args = parser.parse_args()
    torch = try_import_torch()
    print(f"# activations / losses / optimizers — {machine_description()}")
    print(f"pycnn {pycnn.__version__} (isa {_core.active_isa()}), numpy {np.__version__}, "
          f"torch {torch.__version__ if torch else 'not installed'}")
    for threads in args.threads:
        report(threads, args.reps, torch, quiet_check=not args.no_quiet_check)


if __name__ == "__main__":
    main()
