"""Counter-based random numbers: value ``i`` of a stream is a pure function of (keys, i).

The data stream must be identical for any number of ranks and workers and resumable at any
image, and synthetic face ``i`` must not depend on which faces were rendered before it. A
stateful generator cannot give that cheaply; hashing the counter with the keys can, fully
vectorised, and with the same result on every platform and numpy version (SplitMix64
finaliser, Steele et al. 2014).
"""

from __future__ import annotations

import zlib

import numpy as np
from numpy.typing import ArrayLike

_MASK = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix64(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def salt(name: str) -> int:
    """A stable 32-bit key for a named stream (so adding a stream never shifts the others)."""
    return zlib.crc32(name.encode())


def hash64(counters: ArrayLike, *keys: int) -> np.ndarray:
    """64-bit hashes of ``counters`` under ``keys``: uint64 array shaped like ``counters``.

    Args:
        counters: Non-negative integers (image indices, stream positions, ...).
        *keys: Integers naming the stream (seed, epoch, salt); each changes every output.
    """
    with np.errstate(over="ignore"):
        key = np.zeros(1, np.uint64)
        for k in keys:
            key = _mix64(key + np.uint64(int(k) & _MASK) * _GOLDEN + _GOLDEN)
        c = np.asarray(counters, dtype=np.uint64)
        return _mix64(key + (c + np.uint64(1)) * _GOLDEN).reshape(c.shape)


def uniform(counters: ArrayLike, *keys: int) -> np.ndarray:
    """Uniform floats in [0, 1) (float64, 53 bits), one per counter; see :func:`hash64`."""
    return (hash64(counters, *keys) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
