"""Image preparation only the metrics need: RGB for Inception, integer box downscaling.

Every metric sees images as 8-bit pixels, as in the official StyleGAN evaluation: generator
output is quantised by the package's one conversion,
:func:`stylegan_lit.generate.images.to_uint8` (the official ``convert_images_to_uint8``),
with ``require_finite=True`` so that a diverged generator cannot yield a silent number;
real images read from disk are already 8-bit. Comparing an unquantised fake set with
quantised reals would add a small, systematic difference that has nothing to do with the
generator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def to_rgb(images: Tensor) -> Tensor:
    """Repeat a grayscale channel three times; RGB passes through. [N, 1|3, H, W] -> [N, 3, H, W].

    Inception was trained on RGB; a gray image shown as three equal channels is what
    torch-fidelity and the TF tools do for grayscale datasets.
    """
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"expected images [N, 1 or 3, H, W], got {tuple(images.shape)}")
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


def downscale_uint8(images: Tensor, resolution: int) -> Tensor:
    """Box-downscale square uint8 images by an integer factor to ``resolution``.

    The multi-resolution datasets of the official code average 2x2 blocks per halving; a
    box filter over ``factor x factor`` blocks is the same operation done at once. The
    result is rounded back to uint8, as a stored lower-resolution dataset would be.

    Raises:
        ValueError: If the images are smaller than ``resolution`` or the factor is not an
            integer (upscaling or odd resampling would silently change the real statistics).
    """
    size = images.shape[-1]
    if images.shape[-2] != size:
        raise ValueError(f"images must be square, got {tuple(images.shape[-2:])}")
    if size == resolution:
        return images
    if size < resolution or size % resolution:
        raise ValueError(
            f"cannot bring {size} px images to {resolution} px: only integer downscaling is done"
        )
    factor = size // resolution
    pooled = F.avg_pool2d(images.float(), kernel_size=factor)
    return pooled.add_(0.5).floor_().clamp_(0, 255).to(torch.uint8)


__all__ = ["downscale_uint8", "to_rgb"]
