"""From generator output to pixels: the one uint8 conversion, grids, PNG files.

Generator images are float tensors in [-1, 1] that may overshoot; they are mapped to bytes
the way the official tools do (``x * 127.5 + 128``, clamped, truncated), so saved files
match theirs. The metrics (:mod:`stylegan_lit.metrics`) quantise fakes with the same
:func:`to_uint8` before measuring them, and the training callbacks save and log their
grids through :func:`grid_pixels`, so a metric, a logged grid and a saved file all see the
same pixels.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

PathLike = str | os.PathLike[str]


def to_uint8(images: Tensor, *, require_finite: bool = False) -> Tensor:
    """Images in [-1, 1] (or already uint8) -> uint8 of the same shape and device.

    ``floor(x * 127.5 + 128)`` after clamping to [0, 255]: round-half-up of
    ``(x + 1) * 127.5``, bit-exact with the official TensorFlow conversion
    (``saturate_cast(x * 127.5 + 127.5 + 0.5)``).

    Args:
        images: Floats in the data range (any shape), or uint8 (returned as they are).
        require_finite: Refuse NaN and infinite values instead of letting them become some
            byte. The metrics ask for it (a diverged generator must not yield a silent
            number); files and training grids do not, so that a diverged model's samples
            can still be looked at.

    Raises:
        ValueError: An integer dtype other than uint8, or (with ``require_finite``)
            non-finite values.
    """
    if images.dtype == torch.uint8:
        return images
    if not images.is_floating_point():
        raise ValueError(f"images must be uint8 or floating point in [-1, 1], got {images.dtype}")
    if require_finite and not bool(torch.isfinite(images).all()):
        raise ValueError("images contain NaN or infinite values; cannot measure them")
    return (images.detach().float() * 127.5 + 128.0).clamp_(0.0, 255.0).to(torch.uint8)


def to_hwc(images: Tensor) -> np.ndarray:
    """Images [N, C, H, W] in [-1, 1] -> uint8 numpy [N, H, W, C] on the CPU (for PIL, ffmpeg)."""
    if images.ndim != 4:
        raise ValueError(f"images must be [N, C, H, W], got {tuple(images.shape)}")
    return to_uint8(images).permute(0, 2, 3, 1).cpu().numpy()


def to_pil(pixels: np.ndarray, zoom: int = 1) -> Image.Image:
    """uint8 [H, W, C] (C = 1 or 3) -> a PIL image, enlarged ``zoom`` times (nearest).

    Zooming with nearest neighbour keeps every generated pixel visible in small models'
    figures (32 px faces are hard to judge at their real size).
    """
    if zoom < 1:
        raise ValueError(f"zoom must be at least 1, got {zoom}")
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    if zoom > 1:
        image = image.resize((image.width * zoom, image.height * zoom), Image.Resampling.NEAREST)
    return image


def grid_pixels(
    images: Tensor, ncols: int | None = None, padding: int = 1, pad_value: int = 255
) -> np.ndarray:
    """Tile images [N, C, H, W] (or [rows, cols, C, H, W]) into one uint8 [H', W', C].

    A 5-d input keeps its rows and columns; a 4-d one is laid out ``ncols`` per row
    (default: a near-square grid). Missing cells and the padding are ``pad_value``.
    """
    if images.ndim == 5:
        rows, ncols = images.shape[:2]
        images = images.flatten(0, 1)
    else:
        count = images.shape[0]
        ncols = ncols or max(1, int(np.ceil(np.sqrt(count))))
        rows = -(-count // ncols)
    pixels = to_hwc(images)
    n, h, w, c = pixels.shape
    canvas = np.full(
        (rows * (h + padding) + padding, ncols * (w + padding) + padding, c),
        pad_value,
        np.uint8,
    )
    for i in range(n):
        r, col = divmod(i, ncols)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        canvas[top : top + h, left : left + w] = pixels[i]
    return canvas


def grid_image(
    images: Tensor, ncols: int | None = None, padding: int = 1, zoom: int = 1
) -> Image.Image:
    """Images as one grid PIL image (for notebooks; see :func:`grid_pixels`)."""
    return to_pil(grid_pixels(images, ncols, padding), zoom)


def save_image(image: Tensor, path: PathLike, zoom: int = 1) -> Path:
    """Save one image [C, H, W] in [-1, 1] as PNG (folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_pil(to_hwc(image[None])[0], zoom).save(path)
    return path


def save_images(
    images: Tensor, directory: PathLike, names: Sequence[str], zoom: int = 1
) -> list[Path]:
    """Save images [N, C, H, W] as ``directory/<name>`` PNG files, one per name."""
    if len(names) != images.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {len(names)} names")
    return [
        save_image(image, Path(directory) / name, zoom)
        for image, name in zip(images, names, strict=True)
    ]


def save_grid(
    images: Tensor,
    path: PathLike,
    ncols: int | None = None,
    padding: int = 1,
    zoom: int = 1,
) -> Path:
    """Save images as one grid PNG (see :func:`grid_pixels` for the layout)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid_image(images, ncols, padding, zoom).save(path)
    return path


def seed_names(seeds: Sequence[int]) -> list[str]:
    """File names for seeds, as the official tools write them: ``seed0007.png``."""
    return [f"seed{seed:04d}.png" for seed in seeds]
