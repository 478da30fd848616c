"""Case tables shared by the tests and the Python benchmarks.

SEED_CONV / SEED_DENSE are the seed networks' real layers (batch as trained);
random_conv_cases / random_dense_cases give reproducible small configurations
aimed at the places kernels break: odd sizes, stride > kernel, 1x1 (and 1x1
with stride 2, which must not take the 1x1 shortcut), kernel == input, N=1,
dilation, groups and depthwise, explicit padding, channel counts that hit
SIMD tails. Ids read like ``n2-h7w5-c3k4-3x3-s2-same-seed17``.
"""

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class ConvCase:
    n: int
    h: int
    w: int
    c: int
    k: int
    kh: int = 3
    kw: int = 3
    strides: tuple = (1, 1)
    padding: object = "valid"  # 'valid' | 'same' | ((top, bottom), (left, right))
    dilation: tuple = (1, 1)
    groups: int = 1
    seed: int = 0
    name: str = ""

    @property
    def x_shape(self):
        return (self.n, self.h, self.w, self.c)

    @property
    def kernel_shape(self):
        return (self.kh, self.kw, self.c // self.groups, self.k)

    def output_hw(self):
        out = []
        for size, win, s, d, axis in ((self.h, self.kh, self.strides[0], self.dilation[0], 0),
                                      (self.w, self.kw, self.strides[1], self.dilation[1], 1)):
            ext = (win - 1) * d + 1
            if self.padding == "same":
                out.append(-(-size // s))
            else:
                pad = 0 if self.padding == "valid" else sum(self.padding[axis])
                out.append((size + pad - ext) // s + 1)
        return tuple(out)

    def flops(self):
        oh, ow = self.output_hw()
        return 2.0 * self.n * oh * ow * self.k * self.kh * self.kw * (self.c // self.groups)

    def core_args(self):
        """(strides, padding mode, explicit pads, dilation, groups) as pycnn._core's conv2d entries take them."""
        if isinstance(self.padding, str):
            mode, pads = {"valid": 0, "same": 1}[self.padding], (0, 0, 0, 0)
        else:
            mode, pads = 2, (*self.padding[0], *self.padding[1])
        return self.strides, mode, pads, self.dilation, self.groups

    @property
    def id(self):
        pad = self.padding if isinstance(self.padding, str) else "p" + "".join(
            str(v) for pair in self.padding for v in pair)
        s = f"s{self.strides[0]}" if self.strides[0] == self.strides[1] else f"s{self.strides[0]}x{self.strides[1]}"
        parts = [f"n{self.n}-h{self.h}w{self.w}-c{self.c}k{self.k}-{self.kh}x{self.kw}-{s}-{pad}"]
        if self.dilation != (1, 1):
            parts.append(f"d{self.dilation[0]}x{self.dilation[1]}")
        if self.groups != 1:
            parts.append(f"g{self.groups}")
        tag = f"{self.name}-" if self.name else ""
        return tag + "-".join(parts) + f"-seed{self.seed}"


@dataclass(frozen=True)
class DenseCase:
    rows: int
    inp: int
    out: int
    lead: tuple = ()  # extra leading axes: x is (rows, *lead, inp)
    seed: int = 0
    name: str = ""

    @property
    def x_shape(self):
        return (self.rows, *self.lead, self.inp)

    def flops(self):
        return 2.0 * self.rows * int(np.prod(self.lead, dtype=np.int64)) * self.inp * self.out

    @property
    def id(self):
        lead = "x".join(str(v) for v in self.lead)
        lead = f"-lead{lead}" if lead else ""
        tag = f"{self.name}-" if self.name else ""
        return f"{tag}n{self.rows}{lead}-in{self.inp}-out{self.out}-seed{self.seed}"


# The seed networks' conv layers (mnist CNN, CIFAR-10 CNN, faces CNN).
SEED_CONV = [
    ConvCase(64, 28, 28, 1, 32, name="mnist-conv1"),
    ConvCase(64, 13, 13, 32, 64, name="mnist-conv2"),
    ConvCase(64, 5, 5, 64, 64, name="mnist-conv3"),
    ConvCase(32, 32, 32, 3, 32, padding="same", name="cifar-conv1"),
    ConvCase(32, 32, 32, 32, 32, strides=(2, 2), padding="same", name="cifar-conv2"),
    ConvCase(32, 16, 16, 32, 64, padding="same", name="cifar-conv3"),
    ConvCase(32, 16, 16, 64, 64, strides=(2, 2), padding="same", name="cifar-conv4"),
    ConvCase(16, 112, 92, 3, 16, padding="same", name="face-conv1"),
    ConvCase(16, 56, 46, 16, 32, padding="same", name="face-conv2"),
    ConvCase(16, 28, 23, 32, 64, padding="same", name="face-conv3"),
]

# The seed networks' dense layers.
SEED_DENSE = [
    DenseCase(64, 576, 64, name="mnist-dense1"),
    DenseCase(64, 64, 10, name="mnist-dense2"),
    DenseCase(32, 4096, 128, name="cifar-dense1"),
    DenseCase(32, 128, 10, name="cifar-dense2"),
    DenseCase(16, 10752, 512, name="face-dense1"),
    DenseCase(16, 512, 128, name="face-dense2"),
    DenseCase(16, 128, 2, name="face-dense3"),
]

# The CIFAR-10 network's batch norms (NHWC), as benchmarks/bench_elementwise.py
# and tools/ab_inprocess.py time them.
SEED_BATCH_NORM = [("cifar bn1", (32, 32, 32, 32)), ("cifar bn2", (32, 16, 16, 32)), ("cifar bn3", (32, 16, 16, 64)),
                   ("cifar bn4", (32, 8, 8, 64)), ("cifar bn5 dense", (32, 128))]


def small_seed_conv(batch=2):
    """The seed conv layers with a small batch, for tests."""
    return [replace(c, n=min(c.n, batch)) for c in SEED_CONV]


def _random_conv(seed):
    r = np.random.default_rng(seed)
    kind = seed % 10
    n = int(r.choice([1, 1, 2, 3]))
    h, w = (int(v) for v in r.integers(1, 12, size=2))
    c, k = (int(v) for v in r.choice([1, 2, 3, 4, 5, 8, 13, 16, 17, 33], size=2))
    kh, kw = (int(v) for v in r.integers(1, 5, size=2))
    strides = tuple(int(v) for v in r.integers(1, 4, size=2))
    dilation, groups = (1, 1), 1
    padding = str(r.choice(["valid", "same"]))
    if kind == 1:  # 1x1 stride 1: the plain-GEMM shortcut
        kh = kw = 1
        strides, padding = (1, 1), "valid"
    elif kind == 2:  # 1x1 with stride 2 or padding: must not take the shortcut
        kh = kw = 1
        strides = (2, int(r.integers(1, 3)))
    elif kind == 3:  # depthwise, with a depth multiplier
        groups = c = int(r.choice([1, 3, 8, 16, 19, 32]))
        k = c * int(r.choice([1, 1, 2, 3]))
    elif kind == 4:  # grouped
        groups = int(r.choice([2, 3, 4]))
        c = groups * int(r.integers(1, 6))
        k = groups * int(r.integers(1, 6))
    elif kind == 5:  # dilation
        dilation = tuple(int(v) for v in r.integers(1, 4, size=2))
    elif kind == 6:  # kernel == input
        h, w = kh, kw
        padding, strides = "valid", (1, 1)
    elif kind == 7:  # explicit, uneven padding (can exceed the kernel)
        padding = tuple(tuple(int(v) for v in r.integers(0, 4, size=2)) for _ in range(2))
    elif kind == 8:  # stride larger than the kernel
        kh, kw = (int(v) for v in r.integers(1, 3, size=2))
        strides = (3, 4)
    elif kind == 9:  # first-layer shapes, larger images
        c, k = int(r.choice([1, 3])), int(r.choice([8, 16, 32, 33]))
        h, w = (int(v) for v in r.integers(8, 20, size=2))
        kh = kw = 3
        padding = str(r.choice(["valid", "same"]))
    # 'valid'/explicit need the (dilated) window to fit the padded input.
    pad_h = sum(padding[0]) if isinstance(padding, tuple) else 0
    pad_w = sum(padding[1]) if isinstance(padding, tuple) else 0
    if padding != "same":
        h = max(h, (kh - 1) * dilation[0] + 1 - pad_h)
        w = max(w, (kw - 1) * dilation[1] + 1 - pad_w)
    return ConvCase(n, h, w, c, k, kh, kw, strides, padding, dilation, groups, seed)


def random_conv_cases(count=220, first_seed=1):
    return [_random_conv(s) for s in range(first_seed, first_seed + count)]


def _random_dense(seed):
    r = np.random.default_rng(seed)
    lead = () if seed % 4 else tuple(int(v) for v in r.integers(1, 4, size=int(r.integers(1, 3))))
    return DenseCase(int(r.choice([1, 2, 3, 7, 16, 33])), int(r.integers(1, 70)),
                     int(r.integers(1, 70)), lead, seed)


def random_dense_cases(count=210, first_seed=1):
    return [_random_dense(s) for s in range(first_seed, first_seed + count)]
