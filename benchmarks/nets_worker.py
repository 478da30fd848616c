"""Worker processes of benchmarks/nets.py: one framework at one thread count.

    nets_worker.py --worker FRAMEWORK --threads N
        answers JSON requests on stdin, one per line: {"cmd": "setup", ...}
        builds and warms up every case, {"cmd": "time", "case": ...} times one
        repetition of one case;
    nets_worker.py --rss CONFIG --net NAME --threads N --steps S --spec JSON
        prints RSS after import and the peak RSS after S training steps.

The PyTorch and Keras workers never import pycnn: its modules they share
(the PyTorch twins, the timing loop) are loaded from their files.
"""

import argparse
import importlib.util
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _package_module(name):
    """pycnn/applications/<name>.py loaded from its file, without importing pycnn itself
    (a PyTorch or Keras worker must not carry pycnn's memory or import time)."""
    spec = importlib.util.spec_from_file_location(f"_pycnn_{name}", ROOT / "pycnn" / "applications" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----- workers: one framework, one thread count, one process -------------------------------

def _setup_pycnn(spec, threads):
    import numpy as np
    import pycnn
    from pycnn.applications import bench

    pycnn.set_num_threads(threads)
    if os.environ.get("PYCNN_BENCH_ISA"):  # nets.py --isa
        pycnn._core.set_isa(os.environ["PYCNN_BENCH_ISA"])
    cases, params = {}, {}
    for net, cfg in spec["nets"].items():
        step, model = bench.pycnn_training_step(net, cfg["batch"])
        cases[f"{net}|pycnn|train"] = step
        for batch in cfg["infer_batches"]:
            cases[f"{net}|pycnn|infer{batch}"] = bench.pycnn_inference(net, batch)[0]
        params[net] = {"pycnn": (sum(w.numpy().size for w in model.trainable_weights), model.count_params())}
    return cases, params, {"pycnn": pycnn.__version__, "numpy": np.__version__}


def _setup_torch(spec, threads):
    import torch

    ref = _package_module("torch_reference")
    ref.set_threads(torch, threads)
    cases, params = {}, {}
    for net, cfg in spec["nets"].items():
        params[net] = {}
        for config, tuned in (("torch", False), ("torch_tuned", True)):
            step, model = ref.training_step(torch, net, cfg["batch"], cfg["optimizer"], cfg["learning_rate"], tuned)
            cases[f"{net}|{config}|train"] = step
            for batch in cfg["infer_batches"]:
                cases[f"{net}|{config}|infer{batch}"] = ref.inference(torch, net, batch, tuned)[0]
            params[net][config] = ref.parameter_counts(model)
    return cases, params, {"torch": torch.__version__}


def _setup_keras(spec, threads):
    import numpy as np

    import keras_reference as ref

    ref.set_threads(threads)
    import keras
    import tensorflow as tf

    cases, params = {}, {}
    rng = np.random.default_rng(0)
    for net, cfg in spec["nets"].items():
        model = ref.compiled(keras, net, cfg["optimizer"], cfg["learning_rate"])
        x = rng.random((cfg["batch"],) + ref.SHAPES[net], dtype=np.float32)
        y = rng.integers(0, model.output_shape[-1], cfg["batch"])
        cases[f"{net}|keras|train"] = lambda model=model, x=x, y=y: model.train_on_batch(x, y)
        predictor = ref.build(keras, net)
        for batch in cfg["infer_batches"]:
            xb = rng.random((batch,) + ref.SHAPES[net], dtype=np.float32)
            cases[f"{net}|keras|infer{batch}"] = lambda m=predictor, xb=xb: m.predict_on_batch(xb)
        params[net] = {"keras": ref.parameter_counts(model)}
    return cases, params, {"keras": keras.__version__, "tensorflow": tf.__version__}


SETUPS = {"pycnn": _setup_pycnn, "torch": _setup_torch, "keras": _setup_keras}


def worker_main(framework, threads):
    """Answer JSON requests on stdin: 'setup' (build + warm up every case), then 'time' per repetition."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever the libraries print goes to stderr, not into the protocol
    timing = _package_module("bench")
    cases = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["cmd"] == "setup":
                cases, params, versions = SETUPS[framework](request, threads)
                for fn in cases.values():
                    for _ in range(request["warmup"]):
                        fn()
                reply = {"params": params, "versions": versions}
            else:
                reply = {"seconds": timing.time_per_call(cases[request["case"]], request["min_seconds"])}
        except Exception:  # reported to the driver, which stops the run with this text
            reply = {"error": traceback.format_exc()}
        protocol.write(json.dumps(reply) + "\n")


def rss_main(config, net, threads, steps, spec):
    """Fresh process: RSS after importing the framework, then peak RSS after `steps` training steps."""
    cfg = spec["nets"][net]
    if config == "pycnn":
        import pycnn

        pycnn.set_num_threads(threads)
        after_import = _rss_mib()
        from pycnn.applications import bench

        step = bench.pycnn_training_step(net, cfg["batch"])[0]
    elif config == "keras":
        import keras_reference as ref

        ref.set_threads(threads)
        import keras
        import numpy as np

        after_import = _rss_mib()
        model = ref.compiled(keras, net, cfg["optimizer"], cfg["learning_rate"])
        rng = np.random.default_rng(0)
        x = rng.random((cfg["batch"],) + ref.SHAPES[net], dtype=np.float32)
        y = rng.integers(0, model.output_shape[-1], cfg["batch"])
        step = lambda: model.train_on_batch(x, y)  # noqa: E731
    else:
        import torch

        ref = _package_module("torch_reference")
        ref.set_threads(torch, threads)
        after_import = _rss_mib()
        step = ref.training_step(torch, net, cfg["batch"], cfg["optimizer"], cfg["learning_rate"],
                                 config == "torch_tuned")[0]
    step()
    start = time.perf_counter()
    for _ in range(steps - 1):
        step()
    ms = 1e3 * (time.perf_counter() - start) / max(steps - 1, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"import_mib": after_import, "peak_mib": peak, "ms_per_step": ms}))


def _rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=SETUPS)
    parser.add_argument("--rss", choices=("pycnn", "torch", "torch_tuned", "keras"))
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--net")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--spec")
    args = parser.parse_args()
    if args.worker:
        return worker_main(args.worker, args.threads)
    return rss_main(args.rss, args.net, args.threads, args.steps, json.loads(args.spec))


if __name__ == "__main__":
    sys.exit(main())
