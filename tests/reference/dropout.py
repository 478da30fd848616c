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


def uniform_words(n, seed, step):
    """The 32-bit word of every element i < n: word (i//16)%4 of counter 16*(i//64) + i%16."""
    i = np.arange(n, dtype=np.uint64)
    g = (i // np.uint64(64)) * np.uint64(16) + i % np.uint64(16)
    ctr = (g & MASK32, g >> np.uint64(32), np.full(n, step & 0xFFFFFFFF, np.uint64),
           np.full(n, step >> 32, np.uint64))
    words = philox4x32_10(ctr, (seed & 0xFFFFFFFF, seed >> 32))
    return words[((i // np.uint64(16)) % np.uint64(4)).astype(np.int64), np.arange(n)]


def keep_mask(shape, rate, seed, step):
    """Boolean: keep iff word * 2**-32 >= rate."""
    n = int(np.prod(shape))
    return (uniform_words(n, seed, step).astype(np.float64) * 2.0**-32 >= rate).reshape(shape)


def dropout(x, rate, seed, step):
    x = np.asarray(x, np.float64)
    return np.where(keep_mask(x.shape, rate, seed, step), x / (1 - rate), 0.0)
