"""The fuzz harnesses (tests/fuzz) run without atheris on fixed inputs.

Each target's TestOneInput gets a few hundred deterministic random byte
strings (and the loader its seed corpus, truncated and bit-flipped), so CI
exercises the harness code and the promise it checks: every public call
ends in a correct result or a ValueError / TypeError naming the op, or a
MemoryError. The coverage test fails when a public op has no harness.
"""

import hashlib
import importlib
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import pycnn
from pycnn import ops

FUZZ_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz")
# The folder holding the pycnn these tests imported (site-packages, or the
# checkout in a developer build), so the subprocess runs the same one.
PYCNN_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(pycnn.__file__)))
sys.path.insert(0, FUZZ_DIR)

OP_TARGETS = ("fuzz_conv_dense_gemm", "fuzz_pool_batchnorm", "fuzz_elementwise_losses_optim")


def _target(name):
    return importlib.import_module(name)


def public_ops():
    """Every public callable of pycnn.ops (what its submodules export)."""
    return {name for name in dir(ops) if not name.startswith("_")
            and callable(getattr(ops, name)) and not isinstance(getattr(ops, name), types.ModuleType)}


def test_every_public_op_has_a_harness():
    covered = set()
    for name in OP_TARGETS:
        covered |= set(_target(name).OPS)
    missing = public_ops() - covered
    assert not missing, f"public ops without a fuzz harness: {sorted(missing)}"
    assert covered <= public_ops(), f"harnessed names that are not public ops: {sorted(covered - public_ops())}"


def _run(target, count, files=()):
    """The target's TestOneInput in a subprocess capped like a fuzzer (so a huge
    allocation fails at once instead of paging in gigabytes)."""
    script = os.path.join(FUZZ_DIR, "fuzz_inputs.py")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([PYCNN_PARENT, os.environ.get("PYTHONPATH", "")]))
    timeout = 120
    if "asan" in env.get("LD_PRELOAD", ""):
        # Under AddressSanitizer the address-space cap is off (its shadow memory
        # needs terabytes), so its allocator is capped instead; and it runs slower.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":allocator_may_return_null=1:max_allocation_size_mb=2048"
        timeout = 900
    done = subprocess.run([sys.executable, script, target, str(count), *map(str, files)], env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("name", OP_TARGETS)
def test_harness_on_random_inputs(name):
    _run(name, 300)


def _mutations(path, rng):
    body = path.read_bytes()
    yield body[: rng.integers(0, len(body))]
    for _ in range(6):
        mutated = bytearray(body)
        for _ in range(rng.integers(1, 4)):
            mutated[rng.integers(0, len(mutated))] ^= 1 << int(rng.integers(0, 8))
        yield bytes(mutated)


def test_load_model_harness_on_seed_corpus(tmp_path):
    seeds = tmp_path / "seeds"
    _target("fuzz_load_model").make_seeds(seeds)
    rng = np.random.default_rng(7)
    files = sorted(seeds.iterdir())
    for path in list(files):
        for i, data in enumerate(_mutations(path, rng)):
            files.append(tmp_path / f"{path.name}.{i}")
            files[-1].write_bytes(data)
    _run("fuzz_load_model", 0, files)


def test_seed_models_load_back(tmp_path):
    """Re-signed, the seeds load; their huge-size variants and the weights file are refused."""
    loader = _target("fuzz_load_model")
    loader.make_seeds(tmp_path)
    from pycnn.models import load_model

    for path in sorted(tmp_path.glob("*")):
        body = path.read_bytes()
        full = tmp_path / (path.name + ".pycnn")
        full.write_bytes(body + hashlib.sha256(body).digest())
        if "_huge" in path.name or path.name == "weights_only":
            with pytest.raises(ValueError, match="corrupted|header length|not a model"):
                load_model(full)
        else:
            assert load_model(full).weights
