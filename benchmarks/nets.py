"""Whole-network benchmark: pycnn against PyTorch and Keras 3 on the tutorials' networks.

For the MNIST CNN (batch 64, RMSprop), the CIFAR-10 BN/LeakyReLU network
(batch 32, Adam) and the face gender network (112x92x3, batch 16, Adam), at
each thread count, in one run:
- one training step (forward, loss, backward, optimizer update) in ms, on
  fixed random data, after warm-up;
- inference images/s at the training batch size and at batch 256;
- RSS after import and peak RSS (ru_maxrss) after N training steps, each in a
  fresh process;
- import time of each package (fresh processes, median).

Every framework and thread count runs in its own worker process (its own
thread pools, memory and imports), driven over a pipe. The repetitions of
all cases are interleaved (net, measure, threads, framework innermost) and
medians are reported. Peers: PyTorch as a typical user writes it (NCHW,
default torch.optim), PyTorch tuned (channels_last, fused Adam / foreach
RMSprop, inference_mode) and Keras 3 on TensorFlow when an interpreter with
keras is given (--keras-python) or this one has it.

The host is shared and has bad periods in which every fork/join of a
2-thread process costs milliseconds. A fixed canary (a 256x256 pycnn GEMM on
2 threads, passive OpenMP waiting) is timed before and after every timed
repetition: the run waits while the canary is slow and redoes a repetition
after which it was slow.

    python benchmarks/nets.py --quick
    python benchmarks/nets.py --keras-python PATH/TO/python --markdown nets.md
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
NETS = ("mnist", "cifar10", "faces")
FRAMEWORK_CONFIGS = {"pycnn": ("pycnn",), "torch": ("torch", "torch_tuned"), "keras": ("keras",)}
IMPORTS = {"pycnn": "pycnn", "torch": "torch", "keras": "keras"}
LARGE_BATCH = 256


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


# ----- driver ----------------------------------------------------------------------------

class Worker:
    """A worker process for one framework at one thread count."""

    def __init__(self, framework, threads, python, env):
        self.framework, self.threads = framework, threads
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([python, str(Path(__file__).resolve()), "--worker", framework,
                                      "--threads", str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, env=env, cwd=ROOT)

    def send(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()

    def receive(self):
        line = self.proc.stdout.readline()
        reply = json.loads(line) if line else {"error": "worker exited"}
        if "error" in reply:
            self.log.seek(0)
            tail = self.log.read()[-3000:]
            raise RuntimeError(f"{self.framework} worker ({self.threads} threads) failed:\n{reply['error']}\n{tail}")
        return reply

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.log.close()


class Canary:
    """A 256x256 GEMM on 2 threads, timed in the driver (pycnn with passive OpenMP waiting,
    so no spinning thread is left behind to compete with the workers)."""

    def __init__(self, limit_ms=None):
        import numpy as np
        import pycnn

        pycnn.set_num_threads(2)
        self._gemm = pycnn.ops.gemm
        self._a = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
        calibration = [self.sample() for _ in range(30)]
        self.quiet_ms = statistics.median(calibration)
        self.limit_ms = limit_ms or max(2.0, 3.0 * self.quiet_ms)
        self.waited_s = {}
        self.redone = {}

    def sample(self):
        start = time.perf_counter()
        self._gemm(self._a, self._a)
        return (time.perf_counter() - start) * 1e3

    def quiet(self):
        return statistics.median(self.sample() for _ in range(3)) <= self.limit_ms

    def wait(self, key, max_wait_s=60.0):
        start = time.perf_counter()
        while not self.quiet() and time.perf_counter() - start < max_wait_s:
            time.sleep(0.25)
        self.waited_s[key] = self.waited_s.get(key, 0.0) + time.perf_counter() - start

    def guarded(self, key, run, max_redo=3):
        """run() between two canary checks; redo it (up to max_redo times) when the machine turned bad."""
        for attempt in range(max_redo + 1):
            self.wait(key)
            result = run()
            if self.quiet():
                return result
            self.redone[key] = self.redone.get(key, 0) + 1
        return result


def worker_env(threads, keep_wait_policy):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                "TF_NUM_INTEROP_THREADS"):
        env[var] = str(threads)
    env.pop("OMP_WAIT_POLICY", None)
    if keep_wait_policy is not None:
        env["OMP_WAIT_POLICY"] = keep_wait_policy
    env["KERAS_BACKEND"] = "tensorflow"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def run_timings(args, spec, pythons, canary, user_wait_policy):
    """Interleaved repetitions of every case in every worker. Returns (samples, params, versions)."""
    workers = {}
    for threads in args.threads:
        for framework, python in pythons.items():
            workers[framework, threads] = Worker(framework, threads, python, worker_env(threads, user_wait_policy))
    params, versions = {}, {}
    try:
        for worker in workers.values():
            worker.send(cmd="setup", nets=spec["nets"], warmup=args.warmup)
        for (framework, _), worker in workers.items():
            reply = worker.receive()
            for net, counts in reply["params"].items():
                params.setdefault(net, {}).update(counts)
            versions.update(reply["versions"])
        cases = []
        for net, cfg in spec["nets"].items():
            for measure in ["train"] + [f"infer{b}" for b in cfg["infer_batches"]]:
                for threads in args.threads:
                    for framework in pythons:
                        for config in FRAMEWORK_CONFIGS[framework]:
                            cases.append((net, measure, threads, framework, config))
        samples = {case: [] for case in cases}
        for rep in range(args.reps):
            print(f"repetition {rep + 1}/{args.reps}", file=sys.stderr, flush=True)
            for case in cases:
                net, measure, threads, framework, config = case
                worker = workers[framework, threads]

                def run():
                    time.sleep(args.settle)
                    worker.send(cmd="time", case=f"{net}|{config}|{measure}", min_seconds=args.min_seconds)
                    return worker.receive()["seconds"]

                samples[case].append(canary.guarded(threads, run))
    finally:
        for worker in workers.values():
            worker.close()
    medians = {case: statistics.median(s) for case, s in samples.items()}
    return medians, params, versions


def run_rss(args, spec, pythons, user_wait_policy):
    threads = max(args.threads)
    results = {}
    for net in spec["nets"]:
        for framework, python in pythons.items():
            for config in FRAMEWORK_CONFIGS[framework]:
                out = subprocess.run([python, str(Path(__file__).resolve()), "--rss", config, "--net", net,
                                      "--threads", str(threads), "--steps", str(args.rss_steps),
                                      "--spec", json.dumps(spec)],
                                     capture_output=True, text=True, env=worker_env(threads, user_wait_policy),
                                     cwd=ROOT, timeout=900)
                if out.returncode != 0:
                    raise RuntimeError(f"RSS run {config}/{net} failed:\n{out.stderr[-3000:]}")
                results[net, config] = json.loads(out.stdout.strip().splitlines()[-1])
    return results


def run_imports(args, pythons, user_wait_policy):
    threads = max(args.threads)
    times = {framework: [] for framework in pythons}
    for _ in range(args.import_reps):
        for framework, python in pythons.items():
            code = (f"import time; t = time.perf_counter(); import {IMPORTS[framework]}; "
                    "print(time.perf_counter() - t)")
            out = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=ROOT,
                                 env=worker_env(threads, user_wait_policy), timeout=300)
            if out.returncode != 0:
                raise RuntimeError(f"import {framework} failed:\n{out.stderr[-2000:]}")
            times[framework].append(float(out.stdout.strip().splitlines()[-1]))
    return {framework: statistics.median(t) for framework, t in times.items()}


def find_pythons(args):
    """framework -> interpreter running its worker; PyTorch and Keras only where importable."""
    pythons = {"pycnn": sys.executable}
    if not args.no_torch and importlib.util.find_spec("torch") is not None:
        pythons["torch"] = sys.executable
    if not args.no_keras:
        candidate = args.keras_python or sys.executable
        probe = subprocess.run([candidate, "-c", "import keras, tensorflow"], capture_output=True,
                               env=dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3"))
        if probe.returncode == 0:
            pythons["keras"] = candidate
        elif args.keras_python:
            raise SystemExit(f"--keras-python {args.keras_python} cannot import keras and tensorflow")
    return pythons


def net_spec(nets):
    sys.path.insert(0, str(ROOT))
    from pycnn.applications.bench import training_config

    spec = {}
    for net in nets:
        batch, optimizer, learning_rate = training_config(net)
        spec[net] = {"batch": batch, "optimizer": optimizer, "learning_rate": learning_rate,
                     "infer_batches": sorted({batch, LARGE_BATCH})}
    return {"nets": spec}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", nargs="+", choices=NETS, default=list(NETS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--reps", type=int, default=7, help="interleaved repetitions (medians)")
    parser.add_argument("--min-seconds", type=float, default=0.3, help="each repetition lasts at least this")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls of every case first")
    parser.add_argument("--settle", type=float, default=0.05,
                        help="pause before each repetition so the previous worker's threads stop spinning")
    parser.add_argument("--rss-steps", type=int, default=50)
    parser.add_argument("--import-reps", type=int, default=5)
    parser.add_argument("--canary-ms", type=float, help="canary limit (default: max(2, 3 x its quiet median))")
    parser.add_argument("--keras-python", help="interpreter with keras + tensorflow (default: this one, if it has them)")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 repetitions of 0.05 s, 1 warm-up, 5 RSS steps, 1 import")
    parser.add_argument("--markdown", help="also write the report to this file")
    parser.add_argument("--worker", choices=SETUPS, help=argparse.SUPPRESS)
    parser.add_argument("--rss", help=argparse.SUPPRESS)
    parser.add_argument("--net", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.min_seconds, args.warmup, args.rss_steps, args.import_reps = 2, 0.05, 1, 5, 1
    if min(args.threads) < 1 or args.reps < 1 or args.rss_steps < 2:
        parser.error("--threads and --reps must be >= 1, --rss-steps >= 2")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker_main(args.worker, args.threads[0])
    if args.rss:
        return rss_main(args.rss, args.net, args.threads[0], args.steps, json.loads(args.spec))
    import nets_report

    user_wait_policy = os.environ.get("OMP_WAIT_POLICY")
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # read when the canary's pycnn loads below
    command = "python benchmarks/nets.py " + " ".join(sys.argv[1:]) if argv is None else " ".join(argv)
    spec = net_spec(args.nets)
    pythons = find_pythons(args)
    canary = Canary(args.canary_ms)
    started = datetime.datetime.now().astimezone()
    medians, params, versions = run_timings(args, spec, pythons, canary, user_wait_policy)
    print("memory runs", file=sys.stderr, flush=True)
    rss = run_rss(args, spec, pythons, user_wait_policy)
    print("import runs", file=sys.stderr, flush=True)
    imports = run_imports(args, pythons, user_wait_policy)
    versions["python"] = platform.python_version()
    context = {"args": args, "configs": [c for f in pythons for c in FRAMEWORK_CONFIGS[f]], "spec": spec, "pythons": pythons, "started": started, "command": command,
               "versions": versions, "canary": canary, "elapsed_s": (datetime.datetime.now().astimezone()
                                                                     - started).total_seconds()}
    text, params_ok = nets_report.render(context, medians, params, rss, imports)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 0 if params_ok else 1


if __name__ == "__main__":
    sys.exit(main())
