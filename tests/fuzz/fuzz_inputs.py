"""Turns a fuzzer's bytes into arguments for pycnn's public functions.

Every harness decodes its input with a ``Source``: a cursor over the bytes
that answers small questions (an int in a range, a pick from a list) and
reads zeros once the bytes run out, so any byte string decodes to a valid
call and nearby byte strings decode to nearby calls. The generators below
favour the cases that break validation: empty and huge dimensions (2**31,
2**62), odd dtypes (float16/64, ints, bool, complex, object, strings),
NaN/Inf/huge values, non-contiguous, negatively strided, unaligned and
read-only views, and out-of-range or wrongly typed options.

``call(fn, ...)`` runs one call and enforces the promise: a result, or a
ValueError / TypeError naming the op, or a MemoryError. Anything else
(another exception type, an anonymous error from deep inside) is raised
as ``FuzzFinding``; crashes and sanitizer reports end the process.
"""

import contextlib
import os
import re
import resource
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if ROOT not in sys.path:
    sys.path.append(ROOT)  # after PYTHONPATH, so a sanitizer build placed there wins

HUGE = (2**31 - 1, 2**31, 2**32 + 1, 2**40, 2**62, 2**63 - 1)
SPECIALS = (np.nan, np.inf, -np.inf, 3e38, -3e38, 1e300, -0.0, 1e-45, 65504.0)
DTYPES = (np.float32, np.float32, np.float32, np.float64, np.float16, np.int8, np.int32, np.int64,
          np.uint8, np.bool_, np.complex64, object, "U3")
ACTIVATION_NAMES = (None, "linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "RELU",
                    "Tanh", "swish", "", 3)
# Bytes of material a single decoded array may hold; larger shapes become
# broadcast (zero-stride) views, which cost nothing until an op copies them.
MAX_ELEMENTS = 4096


class FuzzFinding(AssertionError):
    """A call ended in something other than a result or a clear error."""


class Source:
    """A cursor over fuzzer bytes; reads 0 once they are used up."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def byte(self):
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def uint(self, nbytes):
        value = 0
        for _ in range(nbytes):
            value = (value << 8) | self.byte()
        return value

    def below(self, n):
        """An int in [0, n)."""
        return self.uint(1 if n <= 256 else 4) % n

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def chance(self, one_in):
        return self.below(one_in) == 0

    def real(self):
        """A float: mostly moderate, sometimes special (NaN, Inf, huge, denormal)."""
        kind = self.below(8)
        if kind == 0:
            return float(self.pick(SPECIALS))
        if kind == 1:
            return float(self.below(4))
        return (self.uint(2) - 32768) / 4096.0


def dim(src):
    """A dimension: mostly 0..6, sometimes huge."""
    if src.chance(12):
        return src.pick(HUGE)
    return src.below(7)


def shape(src, rank=None, max_rank=5):
    rank = src.below(max_rank + 1) if rank is None else rank
    return tuple(dim(src) for _ in range(rank))


def _values(src, n, dtype):
    rng = np.random.default_rng(src.uint(4))
    scale = src.pick((1.0, 1.0, 0.01, 100.0, 1e30))
    v = rng.standard_normal(n) * scale
    for _ in range(src.below(4)):  # a few special values at chosen places
        if n:
            v[src.below(n)] = src.pick(SPECIALS)
    if dtype == "U3":
        return np.array(["a"] * n, dtype="U3")
    if np.dtype(dtype).kind in "iub":
        with np.errstate(invalid="ignore", over="ignore"):
            v = np.nan_to_num(v, nan=0.0, posinf=0.0, neginf=0.0)
            info = np.iinfo(np.int8 if np.dtype(dtype).kind == "b" else dtype)
            return np.clip(v, info.min, info.max).astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        return v.astype(dtype)


def _layout(src, a):
    """The same values as ``a`` in another memory layout (or ``a`` itself)."""
    kind = src.below(10)
    if a.ndim == 0 or kind < 4:
        return a
    if kind == 4:
        return np.asfortranarray(a)
    if kind == 5:  # negatively strided along a chosen axis
        axis = src.below(a.ndim)
        return np.flip(np.flip(a, axis).copy(), axis)
    if kind == 6:  # every other element of a larger array
        bigger = np.repeat(a, 2, axis=a.ndim - 1)
        return bigger[..., ::2]
    if kind == 7 and a.dtype != object and a.dtype.kind != "U":  # unaligned
        raw = np.zeros(a.nbytes + 1, np.uint8)
        view = raw[1:].view(a.dtype).reshape(a.shape)
        view[...] = a
        return view
    if kind == 8:
        a = a.copy()
        a.flags.writeable = False
        return a
    return a


def array(src, rank=None, dims=None, dtype=None):
    """An ndarray (or occasionally a list, scalar or None) of fuzzed shape, dtype, values and layout."""
    oddity = src.below(32)
    if oddity == 0:
        return None
    if oddity == 1:
        return src.real()
    if oddity == 2:
        return [[1.0, 2.0], [3.0]]  # ragged
    dims = shape(src, rank) if dims is None else tuple(dims)
    dtype = src.pick(DTYPES) if dtype is None else dtype
    size = int(np.prod([float(d) for d in dims]))  # float: no wrap-around
    try:
        if size > MAX_ELEMENTS:
            return np.broadcast_to(np.zeros((), dtype=dtype), dims)
        a = _layout(src, _values(src, size, dtype).reshape(dims))
    except (ValueError, MemoryError):  # a shape numpy cannot describe, e.g. (0, 2**63 - 1) of float32
        return np.zeros((0,), dtype=dtype)
    if oddity == 3 and max(a.shape, default=0) <= 64 and a.dtype.kind in "biuf":
        return a.tolist()
    return a


def shape_of(a):
    """np.shape, or () for what numpy cannot shape (ragged lists)."""
    try:
        return np.shape(a)
    except ValueError:
        return ()


def ndim(a):
    return len(shape_of(a))


def last_dim(a, default=0):
    """The last dimension of an array-like, or ``default`` if it has none."""
    s = shape_of(a)
    return s[-1] if s else default


def float32_array(src, dims):
    """A writeable, C-contiguous float32 array of exactly ``dims`` (for in-place arguments)."""
    size = int(np.prod([float(d) for d in dims]))
    if size > MAX_ELEMENTS:
        dims, size = (0,) + tuple(dims[1:]), 0
    try:
        return _values(src, size, np.float32).reshape(dims)
    except ValueError:  # (0, 2**63 - 1) and the like
        return np.zeros((0,), np.float32)


def like(src, a):
    """An array shaped like ``a`` most of the time (so calls get past shape checks), else anything."""
    if src.chance(5) or not isinstance(a, np.ndarray):
        return array(src)
    return array(src, dims=a.shape, dtype=src.pick((np.float32, np.float32, np.float64, np.int32, np.bool_)))


def integer(src, low=-2, high=6):
    """An int argument: mostly in [low, high], sometimes huge, negative or of the wrong type."""
    kind = src.below(16)
    if kind == 0:
        return src.pick(HUGE)
    if kind == 1:
        return -src.pick(HUGE)
    if kind == 2:
        return src.pick((True, 2.0, 1.5, "2", None, (2,), np.int64(2), np.float32(1)))
    return low + src.below(high - low + 1)


def int_pair(src, low=-1, high=4):
    kind = src.below(8)
    if kind < 3:
        return integer(src, low, high)
    if kind == 7:
        return tuple(integer(src, low, high) for _ in range(src.pick((0, 1, 3))))
    return (integer(src, low, high), integer(src, low, high))


def padding(src):
    kind = src.below(8)
    if kind < 5:
        return src.pick(("valid", "same", "VALID", "Same", "full"))
    if kind < 7:
        return ((integer(src, -1, 3), integer(src, -1, 3)), (integer(src, -1, 3), integer(src, -1, 3)))
    return src.pick(((1, 1), ((1, 2),), 3, None, ((1, 2), (3,))))


def real(src):
    """A float option: mostly finite, sometimes NaN/Inf/huge or not a number at all."""
    if src.chance(10):
        return src.pick((None, "0.5", True, np.float64(0.5), 1, complex(1, 1)))
    return src.real()


def rate(src):
    return src.pick((0.0, 0.5, 0.25, 0.999, 1.0, -0.1, np.nan, 1e-9)) if src.chance(2) else real(src)


def counter(src):
    """A seed or step: usually in [0, 2**64), sometimes outside or not an int."""
    kind = src.below(8)
    if kind == 0:
        return src.pick((-1, 2**64, 2**64 - 1, 2**100, 1.0, True, None))
    return src.uint(8) if kind == 1 else src.below(100)


def activation_name(src):
    return src.pick(ACTIVATION_NAMES)


def limit_memory(megabytes):
    """Caps the address space so an absurd allocation fails at once (MemoryError).

    Skipped under AddressSanitizer, which reserves terabytes of shadow memory;
    there ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=...
    does the same job.
    """
    if "asan" in os.environ.get("LD_PRELOAD", ""):
        return
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    limit = used + megabytes * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))


_OP_NAME = re.compile(r"^\[[a-z0-9_]+\] ")


def _checked(fn, args, kwargs, clear, lacking):
    """fn(*args, **kwargs): a result, MemoryError, or ValueError / TypeError
    whose message passes ``clear``; anything else is a FuzzFinding."""
    try:
        return fn(*args, **kwargs)
    except MemoryError:
        return None
    except (ValueError, TypeError) as exc:
        if not clear(str(exc)):
            raise FuzzFinding(f"{fn.__name__}: {type(exc).__name__} without {lacking}: {exc}") from exc
        return None
    except Exception as exc:
        raise FuzzFinding(f"{fn.__name__}: unexpected {type(exc).__name__}: {exc}") from exc


def call(fn, *args, **kwargs):
    """A public op: errors must start with the op's name (``[conv2d] ...``)."""
    return _checked(fn, args, kwargs, _OP_NAME.match, "the op's name")


def call_with_message(fn, *args, **kwargs):
    """An API above the ops (load_model, predict): errors must have a message."""
    return _checked(fn, args, kwargs, bool, "a message")


def check_array(result, op, shape_=None):
    """A successful op returns new float32 arrays of the documented shape."""
    if not isinstance(result, np.ndarray) or result.dtype != np.float32:
        raise FuzzFinding(f"{op}: expected a float32 array, got {type(result).__name__} "
                          f"{getattr(result, 'dtype', '')}")
    if shape_ is not None and result.shape != tuple(shape_):
        raise FuzzFinding(f"{op}: expected shape {tuple(shape_)}, got {result.shape}")


def instrumented(fuzzing):
    """Context for importing pycnn: with atheris coverage when fuzzing, plain otherwise.

    Only pycnn's Python code is instrumented; the compiled core is not.
    """
    if not fuzzing:
        return contextlib.nullcontext()
    import atheris

    return atheris.instrument_imports(include=["pycnn"])


def run_one(ops, data):
    """Decodes one input of a target: which op (by name) and its arguments.

    With PYCNN_FUZZ_FINDINGS=FILE a FuzzFinding is appended to FILE (once per
    distinct message, with the input in hex) and fuzzing goes on; crashes and
    sanitizer reports still stop the process.
    """
    src = Source(data)
    name = sorted(ops)[src.below(len(ops))]
    try:
        ops[name](src)
    except FuzzFinding as exc:
        log = os.environ.get("PYCNN_FUZZ_FINDINGS")
        if not log:
            raise
        key = re.sub(r"\d+", "N", str(exc).splitlines()[0])[:160]
        if key not in _LOGGED:
            _LOGGED.add(key)
            with open(log, "a") as f:
                f.write(f"{key}\t{bytes(data).hex()}\n")


_LOGGED = set()


def main(ops, argv=None, memory_mb=2048):
    """atheris entry point shared by the fuzz_*.py targets."""
    import atheris

    limit_memory(memory_mb)
    atheris.Setup(sys.argv if argv is None else argv, lambda data: run_one(ops, data))
    atheris.Fuzz()


def smoke_inputs(ops, count, seed):
    """``count`` deterministic random inputs, then three per op (its index as the first byte)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield rng.integers(0, 256, rng.integers(0, 160), dtype=np.uint8).tobytes()
    for index in range(len(ops)):
        for tail_seed in range(3):
            yield bytes([index]) + np.random.default_rng(tail_seed).integers(0, 256, 96, dtype=np.uint8).tobytes()


if __name__ == "__main__":
    # python fuzz_inputs.py TARGET COUNT [FILE...]: runs TARGET's TestOneInput on
    # COUNT random inputs and on FILEs, under the same memory cap as fuzzing
    # (tests/test_fuzz_smoke.py runs it in a subprocess).
    import importlib
    import warnings

    warnings.simplefilter("ignore", RuntimeWarning)  # float32 overflow of huge values is expected
    limit_memory(2048)
    target = importlib.import_module(sys.argv[1])
    ops = getattr(target, "OPS", {"load_model": None})
    for data in smoke_inputs(ops, int(sys.argv[2]), sum(sys.argv[1].encode())):
        target.TestOneInput(data)
    for path in sys.argv[3:]:
        with open(path, "rb") as f:
            target.TestOneInput(f.read())
