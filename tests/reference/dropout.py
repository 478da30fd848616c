"""NumPy reference of the dropout mask: Philox4x32-10 and the element mapping."""

import numpy as np

M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK32 = np.uint64(0xFFFFFFFF)


def philox4x32_10(ctr, key):
    """ctr: (4, n) uint32-valued arrays, key: (k0, k1) ints -> (4, n) uint64 words."""
    c0, c1, c2, c3 = (np.asarray(c, np.uint64) for c in ctr)
    k0, k1 = key
    for _ in range(10):
        p0, p1 = M0 * c0, M1 * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0), p1 & MASK32,
                          (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1), p0 & MASK32)
        k0, k1 = (k0 + W0) & 0xFFFFFFFF, (k1 + W1) & 0xFFFFFFFF
    return np.stack([c0, c1, c2, c3])


def _philox_word(counter, step, seed, word):
    """Word `word` of Philox4x32-10 at counters (counter, step) under key seed, as uint64."""
    counter = np.asarray(counter, np.uint64)
    ctr = (counter & MASK32, counter >> np.uint64(32), np.full(counter.shape, step & 0xFFFFFFFF, np.uint64),
           np.full(counter.shape, step >> 32, np.uint64))
    words = philox4x32_10(ctr, (seed & 0xFFFFFFFF, seed >> 32))
    return words[np.asarray(word, np.int64), np.arange(counter.size)]


def high_halves(n, seed, step):
    """h of every element i < n: half i%2 of word (i//32)%4 of counter 16*(i//128) + (i//2)%16."""
    i = np.arange(n, dtype=np.uint64)
    counter = (i // np.uint64(128)) * np.uint64(16) + (i // np.uint64(2)) % np.uint64(16)
    word = _philox_word(counter, step, seed, (i // np.uint64(32)) % np.uint64(4))
    return (word >> (np.uint64(16) * (i % np.uint64(2)))) & np.uint64(0xFFFF)


def low_halves(i, seed, step):
    """t of elements i: the low half of word 0 of counter i with bit 63 set."""
    counter = np.asarray(i, np.uint64) | np.uint64(1 << 63)
    return _philox_word(counter, step, seed, np.zeros(counter.size, np.int64)) & np.uint64(0xFFFF)


def uniform_words(n, seed, step):
    """The 32-bit uniform u * 2**32 = h * 2**16 + t of every element i < n."""
    return high_halves(n, seed, step) * np.uint64(1 << 16) + low_halves(np.arange(n), seed, step)


def keep_mask(shape, rate, seed, step):
    """Boolean: keep iff u >= rate."""
    n = int(np.prod(shape))
    return (uniform_words(n, seed, step).astype(np.float64) * 2.0**-32 >= rate).reshape(shape)


def dropout(x, rate, seed, step):
    x = np.asarray(x, np.float64)
    return np.where(keep_mask(x.shape, rate, seed, step), x / (1 - rate), 0.0)
