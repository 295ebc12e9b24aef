"""Resolution and channel-budget rules shared by G and D (official ``nf()`` and ``num_ws``)."""

from __future__ import annotations

import math


def check_resolution(resolution: int, *, name: str = "resolution", minimum: int = 4) -> int:
    """Return log2(resolution), or raise if it is not a power of two >= ``minimum``."""
    if (
        not isinstance(resolution, int)
        or resolution < minimum
        or resolution & (resolution - 1) != 0
    ):
        raise ValueError(f"{name} must be a power of two >= {minimum}, got {resolution!r}")
    return int(math.log2(resolution))


def feature_maps(resolution: int, fmap_base: int = 8192, fmap_max: int = 512) -> int:
    """Channels at ``resolution``: the official ``min(fmap_base / 2**stage, fmap_max)``.

    With ``stage = log2(resolution) - 1`` this is ``min(2 * fmap_base / resolution, fmap_max)``:
    512 up to 32 px, then halving to 16 at 1024 px for the default budget.
    """
    stage = check_resolution(resolution) - 1
    return max(min(int(fmap_base / 2.0**stage), fmap_max), 1)


def num_ws_for(resolution: int) -> int:
    """Number of style inputs (two per resolution from 4 px): 18 at 1024 px."""
    return 2 * check_resolution(resolution) - 2


def resolutions_up_to(resolution: int) -> list[int]:
    """All network resolutions, 4, 8, ..., ``resolution``."""
    return [2**k for k in range(2, check_resolution(resolution) + 1)]
