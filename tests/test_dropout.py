"""Dropout vs the NumPy Philox reference in tests/reference/dropout.py."""

import numpy as np
import pytest

import pycnn
from pycnn import _core, ops
from reference import dropout as ref


def make_config(seed):
    r = np.random.default_rng(seed)
    rank = int(r.integers(1, 5))
    shape = tuple(int(v) for v in r.integers(1, 12, rank))
    rate = float(r.choice([0.0, 0.1, 0.25, 0.5, 0.9, r.uniform(0, 1)]))
    return dict(seed=seed, shape=shape, rate=rate, key=int(r.integers(0, 2**63)) * (1 + seed % 2),
                step=int(r.integers(0, 2**40)) if seed % 3 else int(seed), layout=["contiguous", "float64", "strided"][seed % 3])


def config_id(cfg):
    return f"s{cfg['seed']}-{'x'.join(map(str, cfg['shape']))}-rate{cfg['rate']:.3f}-{cfg['layout']}"


CONFIGS = [make_config(seed) for seed in range(220)]


def test_reference_philox_known_answers():
    # Known-answer vectors of Philox4x32-10 (Random123 kat_vectors).
    cases = [((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
             ((0xFFFFFFFF,) * 4, (0xFFFFFFFF, 0xFFFFFFFF), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
             ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
              (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]
    for ctr, key, want in cases:
        got = ref.philox4x32_10([[c] for c in ctr], key)[:, 0]
        assert [int(v) for v in got] == list(want)


@pytest.mark.parametrize("cfg", CONFIGS, ids=config_id)
def test_dropout_matches_reference(cfg):
    r = np.random.default_rng(cfg["seed"])
    x32 = (r.standard_normal(cfg["shape"]) + 3).astype(np.float32)  # never 0
    x = x32 if cfg["layout"] == "contiguous" else x32.astype(np.float64) if cfg["layout"] == "float64" else np.asfortranarray(x32)
    rate, key, step = cfg["rate"], cfg["key"], cfg["step"]
    keep = ref.keep_mask(cfg["shape"], rate, key, step)
    y = ops.dropout(x, rate, key, step)
    assert y.shape == x32.shape and y.dtype == np.float32
    np.testing.assert_array_equal(y != 0, keep)
    np.testing.assert_allclose(y, ref.dropout(x32, rate, key, step), rtol=1e-6)
    dy = r.standard_normal(cfg["shape"]).astype(np.float32)
    np.testing.assert_array_equal(ops.dropout_backward(dy, rate, key, step), np.where(keep, dy * np.float32(1 / (1 - rate)), 0))
    mask = ops.dropout_mask(cfg["shape"], rate, key, step)
    np.testing.assert_array_equal(mask, np.where(keep, np.float32(1 / (1 - rate)), 0).astype(np.float32))


@pytest.mark.parametrize("isa", _core.supported_isas())
def test_every_isa_same_mask(isa):
    x = np.ones(10_000 + 13, np.float32)
    want = ref.keep_mask(x.shape, 0.4, 77, 2**33 + 5)
    _core.set_isa(isa)
    try:
        y = ops.dropout(x, 0.4, 77, 2**33 + 5)
    finally:
        _core.set_isa(None)
    np.testing.assert_array_equal(y != 0, want)


@pytest.mark.parametrize("isa", _core.supported_isas())
def test_ties_on_the_high_half_decided_by_the_low_half(isa):
    # threshold = 0x4000 * 2**16 + 0x8000: an element whose high half h is 0x4000
    # (2**-16 of them, 16 here) is kept iff its low half t >= 0x8000.
    n, rate, seed, step = 1 << 20, (0x4000 * 2**16 + 0x8000) / 2**32, 5, 7
    tied = np.flatnonzero(ref.high_halves(n, seed, step) == 0x4000)
    want = ref.keep_mask((n,), rate, seed, step)
    assert 0 < np.count_nonzero(want[tied]) < tied.size
    _core.set_isa(isa)
    try:
        y, mask = ops.dropout(np.ones(n, np.float32), rate, seed, step), ops.dropout_mask((n,), rate, seed, step)
    finally:
        _core.set_isa(None)
    np.testing.assert_array_equal(y != 0, want)
    np.testing.assert_array_equal(mask != 0, want)


def test_mask_reproducible_and_step_dependent():
    shape = (64, 32, 32, 8)
    a = ops.dropout_mask(shape, 0.5, seed=3, step=10)
    np.testing.assert_array_equal(a, ops.dropout_mask(shape, 0.5, seed=3, step=10))
    for other in (ops.dropout_mask(shape, 0.5, seed=3, step=11), ops.dropout_mask(shape, 0.5, seed=4, step=10)):
        agree = np.mean((a == 0) == (other == 0))
        assert 0.45 < agree < 0.55  # independent masks agree half the time
    # A prefix of the tensor sees the same mask: it depends on the element index only.
    np.testing.assert_array_equal(ops.dropout_mask((1000,), 0.5, 3, 10), a.reshape(-1)[:1000])


@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5, 0.8, 0.97])
def test_keep_fraction(rate):
    n = 1 << 20
    kept = np.count_nonzero(ops.dropout_mask((n,), rate, seed=1234, step=99)) / n
    sigma = np.sqrt(rate * (1 - rate) / n)
    assert abs(kept - (1 - rate)) < 5 * sigma


def test_expectation_preserved():
    x = np.full((1 << 20,), 2.0, np.float32)
    assert abs(ops.dropout(x, 0.3, 5, 6).mean() - 2.0) < 0.01


def test_one_and_two_threads_bitwise_equal(rng):
    x = rng.standard_normal((32, 40, 40, 3)).astype(np.float32)
    before = pycnn.get_num_threads()
    out = []
    for threads in (1, 2):
        pycnn.set_num_threads(threads)
        out.append((ops.dropout(x, 0.37, 42, 1000), ops.dropout_backward(x, 0.37, 42, 1000), ops.dropout_mask(x.shape, 0.37, 42, 1000)))
    pycnn.set_num_threads(before)
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_rate_zero_is_identity_and_extremes(rng):
    x = rng.standard_normal((7, 9)).astype(np.float32)
    np.testing.assert_array_equal(ops.dropout(x, 0.0, 1, 2), x)
    np.testing.assert_array_equal(ops.dropout_mask(x.shape, 0, 1, 2), 1.0)
    assert np.count_nonzero(ops.dropout(np.ones(4096), 1 - 2.0**-40, 1, 2)) == 0
    np.testing.assert_array_equal(ops.dropout(np.ones(0), 0.5, 1, 2), np.ones(0))
    assert ops.dropout(np.ones((0, 3)), 0.5, 1, 2).shape == (0, 3)
    assert ops.dropout_mask((0, 5), 0.5, 1, 2).shape == (0, 5)
    big = ops.dropout(np.ones(100), 0.5, 2**64 - 1, 2**64 - 1)  # largest seed and step
    np.testing.assert_array_equal(big != 0, ref.keep_mask((100,), 0.5, 2**64 - 1, 2**64 - 1))


def test_outputs_fully_written():
    y = _core.dropout(np.ones(1000 + 7, np.float32), 0.5, 9, 9, fill=np.nan)
    assert np.isfinite(y).all()


@pytest.mark.parametrize("call,match", [
    (lambda: ops.dropout(np.ones(3), 1.0, 0, 0), r"\[dropout\] expected `rate` in \[0, 1\)"),
    (lambda: ops.dropout(np.ones(3), -0.1, 0, 0), r"\[dropout\] expected `rate`"),
    (lambda: ops.dropout(np.ones(3), float("nan"), 0, 0), r"\[dropout\] expected `rate`"),
    (lambda: ops.dropout(np.ones(3), "0.5", 0, 0), r"\[dropout\] expected `rate`"),
    (lambda: ops.dropout(np.ones(3), 0.5, -1, 0), r"\[dropout\] expected `seed`"),
    (lambda: ops.dropout(np.ones(3), 0.5, 2**64, 0), r"\[dropout\] expected `seed`"),
    (lambda: ops.dropout(np.ones(3), 0.5, 0, 1.5), r"\[dropout\] expected `step`"),
    (lambda: ops.dropout(np.array(["a"]), 0.5, 0, 0), r"\[dropout\]"),
    (lambda: ops.dropout_backward(np.ones(3), 1.5, 0, 0), r"\[dropout_backward\] expected `rate`"),
    (lambda: ops.dropout_backward(np.ones(3), 0.5, 0, -3), r"\[dropout_backward\] expected `step`"),
    (lambda: ops.dropout_mask((2, -1), 0.5, 0, 0), r"\[dropout_mask\] expected `shape`"),
    (lambda: ops.dropout_mask((2, 3), 1, 0, 0), r"\[dropout_mask\] expected `rate`"),
    (lambda: _core.dropout(np.ones(3, np.float32), 1.0, 0, 0), r"\[dropout\] expected rate in \[0, 1\)"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
