"""Square crop and the resolution pyramid: one square image to every power of two down to 4 px.

Two filters, chosen by the user:

* ``"lanczos"`` (default, high quality): Pillow's Lanczos-3 (antialiased when reducing) from
  the source to the top resolution, then a halving cascade, each level from the one above.
  The cascade costs about 1.3x one full-resolution pass instead of one pass per level.
* ``"box"``: the official StyleGAN ``dataset_tool`` pyramid, which FID numbers are usually
  computed against: every level is the mean of the top level's pixels over blocks of
  (top / R)^2, rounded half to even (identical to the official float cascade).

The same functions serve the cache writer and the on-the-fly folder reader, so both give the
same pixels. The resolution rules and the box reduction itself are shared with the synthetic
renderer and live in :mod:`~stylegan_lit.data.pyramid`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from PIL import Image

from stylegan_lit.data.errors import DatasetError
from stylegan_lit.data.files.image_io import decode_image
from stylegan_lit.data.pyramid import LOWEST_RESOLUTION, box_reduce, pyramid_resolutions

ResizeFilter = Literal["lanczos", "box"]
RESIZE_FILTERS: tuple[str, ...] = ("lanczos", "box")


def square(image: np.ndarray, *, crop: bool, name: str) -> np.ndarray:
    """Centre-crop ``uint8 [H, W, C]`` to its shorter side, or refuse a non-square image.

    Raises:
        DatasetError: ``reason="not square"`` when the image is not square and ``crop`` is off.
    """
    height, width = image.shape[:2]
    if height == width:
        return image
    if not crop:
        raise DatasetError(
            f"{name}: image is {width}x{height}, not square (enable centre cropping to use it)",
            reason="not square",
        )
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return image[top : top + side, left : left + side]


def check_size(side: int, resolution: int, name: str) -> None:
    """Refuse images smaller than the target resolution (they would need upsampling).

    Raises:
        DatasetError: ``reason="too small"``.
    """
    if side < resolution:
        raise DatasetError(
            f"{name}: image is {side}x{side} (after cropping), smaller than the target "
            f"resolution {resolution}",
            reason="too small",
        )


def resize_square(image: np.ndarray, size: int, resize_filter: ResizeFilter) -> np.ndarray:
    """Resize square ``uint8 [S, S, C]`` to ``[size, size, C]`` (downsampling only)."""
    side = image.shape[0]
    if side == size:
        return image
    if side < size:
        raise ValueError(f"refusing to upsample {side} px to {size} px")
    if resize_filter == "box" and side % size == 0:
        return np.ascontiguousarray(
            box_reduce(image.transpose(2, 0, 1), side // size).transpose(1, 2, 0)
        )
    method = Image.Resampling.LANCZOS if resize_filter == "lanczos" else Image.Resampling.BOX
    channels = image.shape[2]
    pil = Image.fromarray(image[:, :, 0] if channels == 1 else image)
    out = np.asarray(pil.resize((size, size), method), dtype=np.uint8)
    return out.reshape(size, size, channels)


def build_pyramid(
    image: np.ndarray,
    top: int,
    *,
    lowest: int = LOWEST_RESOLUTION,
    resize_filter: ResizeFilter = "lanczos",
) -> dict[int, np.ndarray]:
    """Every power-of-two level of a square image, from ``top`` down to ``lowest``.

    Args:
        image: Square ``uint8 [S, S, C]`` with ``S >= top``.
        top: Highest resolution to produce.
        lowest: Lowest resolution to produce.
        resize_filter: ``"lanczos"`` or ``"box"`` (see the module docstring).

    Returns:
        ``{resolution: uint8 [C, R, R]}``, channels first (the cache and tensor layout).
    """
    if resize_filter not in RESIZE_FILTERS:
        raise ValueError(f"resize_filter must be one of {RESIZE_FILTERS}, got {resize_filter!r}")
    resolutions = pyramid_resolutions(top, lowest)
    current = resize_square(image, top, resize_filter)
    top_chw = np.ascontiguousarray(current.transpose(2, 0, 1))
    levels = {top: top_chw}
    for resolution in resolutions[1:]:
        if resize_filter == "box":
            levels[resolution] = box_reduce(top_chw, top // resolution)
        else:
            current = resize_square(current, resolution, "lanczos")
            levels[resolution] = np.ascontiguousarray(current.transpose(2, 0, 1))
    return levels


def image_pyramid(
    data: bytes,
    name: str,
    top: int,
    *,
    lowest: int = LOWEST_RESOLUTION,
    crop: bool = True,
    channels: int = 3,
    resize_filter: ResizeFilter = "lanczos",
) -> dict[int, np.ndarray]:
    """Decode, square, check and downsample one image file: the whole per-file pipeline.

    Raises:
        DatasetError: For any problem with the file (the message names it).
    """
    image = square(decode_image(data, name, channels), crop=crop, name=name)
    check_size(image.shape[0], top, name)
    return build_pyramid(image, top, lowest=lowest, resize_filter=resize_filter)
