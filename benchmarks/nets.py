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
2-thread process costs milliseconds. A fixed canary (four 256x256 pycnn GEMMs
on 2 threads, passive OpenMP waiting) is timed before and after every timed
repetition: the run waits while the canary is slow and redoes a repetition
after which it was slow.

--isa avx2 times the training and inference steps as on an AVX2-only CPU:
pycnn through _core.set_isa, PyTorch through ONEDNN_MAX_CPU_ISA,
ATEN_CPU_CAPABILITY and MKL_ENABLE_INSTRUCTIONS (Keras is left out: TensorFlow's own kernels cannot be
limited). --isa portable: pycnn's baseline build against PyTorch limited to
SSE4.1.

    python benchmarks/nets.py --quick
    python benchmarks/nets.py --keras-python PATH/TO/python --markdown nets.md
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import ISA_ENV

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
WORKER = HERE / "nets_worker.py"
NETS = ("mnist", "cifar10", "faces")
FRAMEWORK_CONFIGS = {"pycnn": ("pycnn",), "torch": ("torch", "torch_tuned"), "keras": ("keras",)}
IMPORTS = {"pycnn": "pycnn", "torch": "torch", "keras": "keras"}
LARGE_BATCH = 256
ISA = None  # --isa


class Worker:
    """A worker process for one framework at one thread count."""

    def __init__(self, framework, threads, python, env):
        self.framework, self.threads = framework, threads
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([python, str(WORKER), "--worker", framework, "--threads", str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
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
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Canary:
    """Four 256x256 GEMMs on 2 threads (four fork/joins), timed in the driver: pycnn with
    passive OpenMP waiting, so no spinning thread is left behind to compete with the workers."""

    GEMMS = 4

    def __init__(self, limit_ms=None, max_wait_s=60.0, max_redo=3):
        import numpy as np
        import pycnn

        pycnn.set_num_threads(2)
        self._gemm = pycnn.ops.gemm
        self._a = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
        # The fastest of 20 samples spread over a second: a loaded host still has quiet moments.
        self.quiet_ms = min(self._spaced_sample() for _ in range(20))
        self.limit_ms = limit_ms or max(5.0, 3.0 * self.quiet_ms)
        self.max_wait_s, self.max_redo = max_wait_s, max_redo
        self.samples = []  # every check during the run, to show how quiet the machine was
        self.waited_s = {}
        self.redone = {}

    def _spaced_sample(self):
        time.sleep(0.05)
        return self.sample()

    def sample(self):
        start = time.perf_counter()
        for _ in range(self.GEMMS):
            self._gemm(self._a, self._a)
        return (time.perf_counter() - start) * 1e3

    def quiet(self):
        ms = self.sample()
        self.samples.append(ms)
        return ms <= self.limit_ms

    def wait(self, key):
        start = time.perf_counter()
        while not self.quiet() and time.perf_counter() - start < self.max_wait_s:
            time.sleep(0.25)
        self.waited_s[key] = self.waited_s.get(key, 0.0) + time.perf_counter() - start

    def guarded(self, key, run, settle_s):
        """run() between two canary checks; redo it (up to max_redo times) when the machine turned bad.

        The pause before each check lets the last worker's spinning threads go to sleep first.
        """
        for attempt in range(self.max_redo + 1):
            time.sleep(settle_s)
            self.wait(key)
            result = run()
            time.sleep(min(settle_s, 0.02))
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
    if ISA:
        env.update(ISA_ENV[ISA], PYCNN_BENCH_ISA=ISA)
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
                    worker.send(cmd="time", case=f"{net}|{config}|{measure}", min_seconds=args.min_seconds)
                    return worker.receive()["seconds"]

                samples[case].append(canary.guarded(threads, run, args.settle))
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
                out = subprocess.run([python, str(WORKER), "--rss", config, "--net", net,
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
    parser.add_argument("--canary-ms", type=float,
                        help="canary limit (default: max(5, 3 x the fastest of 20 samples at the start))")
    parser.add_argument("--keras-python", help="interpreter with keras + tensorflow (default: this one, if it has them)")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 repetitions of 0.05 s, 1 warm-up, 5 RSS steps, 1 import, "
                             "canary waits of at most 5 s and 1 redo")
    parser.add_argument("--markdown", help="also write the report to this file")
    parser.add_argument("--isa", choices=sorted(ISA_ENV),
                        help="run pycnn and PyTorch at most at this ISA (no Keras)")
    args = parser.parse_args(argv)
    if args.isa:
        args.no_keras = True
    if args.quick:
        args.reps, args.min_seconds, args.warmup, args.rss_steps, args.import_reps = 2, 0.05, 1, 5, 1
    if min(args.threads) < 1 or args.reps < 1 or args.rss_steps < 2:
        parser.error("--threads and --reps must be >= 1, --rss-steps >= 2")
    return args


def main(argv=None):
    global ISA
    args = parse_args(argv)
    ISA = args.isa
    import nets_report

    user_wait_policy = os.environ.get("OMP_WAIT_POLICY")
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # read when the canary's pycnn loads below
    command = "python benchmarks/nets.py " + " ".join(sys.argv[1:]) if argv is None else " ".join(argv)
    spec = net_spec(args.nets)
    pythons = find_pythons(args)
    canary = Canary(args.canary_ms, *((5.0, 1) if args.quick else (60.0, 3)))
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
