"""Resolution rules shared by every source: powers of two from 4 px up, and box reduction.

A dataset is served at every power of two from its highest resolution down to
:data:`LOWEST_RESOLUTION`. The synthetic renderer, the file readers, the cache and the data
module all check resolutions and list pyramid levels with these functions, and
:func:`box_reduce` is the official StyleGAN downsampling, used for the synthetic faces'
lower levels and for the ``box`` filter of image files. Kept apart from
:mod:`~stylegan_lit.data.files.resize` so that the renderer does not depend on file input.
"""

from __future__ import annotations

import numpy as np

LOWEST_RESOLUTION = 4


def is_power_of_two(value: int) -> bool:
    return value >= 1 and value & (value - 1) == 0


def check_resolution(resolution: int, name: str = "resolution") -> int:
    """Return ``resolution`` if it is a power of two >= 4, else raise a ValueError naming it."""
    if (
        not isinstance(resolution, int)
        or resolution < LOWEST_RESOLUTION
        or not is_power_of_two(resolution)
    ):
        raise ValueError(
            f"{name} must be a power of two >= {LOWEST_RESOLUTION}, got {resolution!r}"
        )
    return resolution


def pyramid_resolutions(top: int, lowest: int = LOWEST_RESOLUTION) -> list[int]:
    """``[top, top/2, ..., lowest]``; both must be powers of two with ``lowest <= top``."""
    if not (is_power_of_two(top) and is_power_of_two(lowest) and lowest <= top):
        raise ValueError(f"resolution must be a power of two >= {lowest}, got {top}")
    return [top >> k for k in range(top.bit_length() - lowest.bit_length() + 1)]


def largest_power_of_two(side: int) -> int:
    """The largest power of two <= ``side`` (``side >= 1``)."""
    return 1 << (side.bit_length() - 1)


def box_reduce(images: np.ndarray, factor: int) -> np.ndarray:
    """Average ``uint8 [..., H, W]`` over ``factor x factor`` blocks, rounding half to even.

    Args:
        images: Any leading dimensions, then H and W divisible by ``factor``.
        factor: Block side (1 returns the input).
    """
    if factor == 1:
        return images
    *lead, height, width = images.shape
    if height % factor or width % factor:
        raise ValueError(f"{height}x{width} is not divisible by {factor}")
    blocks = images.reshape(*lead, height // factor, factor, width // factor, factor)
    mean = blocks.mean(axis=(-3, -1), dtype=np.float64)
    return np.rint(mean).astype(np.uint8)
