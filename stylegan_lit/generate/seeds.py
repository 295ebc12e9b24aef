"""Seeds: how users name latents, and the z each seed stands for.

A seed is the reproducible handle on a latent (``--seeds 0-7,12``): seed ``s`` always gives
the same z for a given ``z_dim``, on any device and in any batch, because each z is drawn
from its own ``torch.Generator`` on the CPU.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

MAX_SEED = 2**32 - 1
"""Largest accepted seed (seeds are unsigned 32-bit numbers, as in the official tools)."""


class SeedError(ValueError):
    """A seed specification that cannot be read."""


def parse_seeds(spec: str) -> list[int]:
    """Read a seed list such as ``"0-7,12"`` (ranges inclusive, order kept).

    Raises:
        SeedError: Empty parts, non-integers, negative or too large seeds, or a range whose
            end is before its start; the message names the bad part.
    """
    seeds: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            raise SeedError(f"empty entry in seed list {spec!r}")
        first, dash, last = part.partition("-")
        try:
            low = int(first)
            high = int(last) if dash else low
        except ValueError:
            raise SeedError(
                f"bad seed {part!r} in {spec!r}: use integers and ranges, e.g. 0-7,12"
            ) from None
        if high < low:
            raise SeedError(f"bad seed range {part!r}: the end is before the start")
        seeds.extend(range(low, high + 1))
    check_seeds(seeds)
    return seeds


def check_seeds(seeds: Iterable[int]) -> list[int]:
    """Return ``seeds`` as a list, or raise :class:`SeedError` if one is out of range."""
    seeds = list(seeds)
    if not seeds:
        raise SeedError("no seeds given")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise SeedError(f"seed {seed!r} is not an integer in [0, {MAX_SEED}]")
    return seeds


def z_from_seeds(seeds: Sequence[int], z_dim: int) -> Tensor:
    """The latents of ``seeds``: [len(seeds), z_dim] float32 on the CPU, N(0, 1)."""
    seeds = check_seeds(seeds)
    return torch.stack(
        [torch.randn(z_dim, generator=torch.Generator().manual_seed(seed)) for seed in seeds]
    )
