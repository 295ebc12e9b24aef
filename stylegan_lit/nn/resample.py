"""Resampling as the official StyleGAN code does it: nearest-neighbour x2 up, 2x2 box down,
and the [1, 2, 1] binomial blur that follows every upsampling conv and precedes every
downsampling conv (Zhang 2019, "Making convolutional networks shift-invariant again")."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def upsample_nearest(x: Tensor, factor: int = 2) -> Tensor:
    """Nearest-neighbour upsampling [N, C, H, W] -> [N, C, H*f, W*f] (the fade-in skip path)."""
    if factor == 1:
        return x
    return F.interpolate(x, scale_factor=factor, mode="nearest")


def downsample_box(x: Tensor, factor: int = 2) -> Tensor:
    """Box-filter downsampling [N, C, H, W] -> [N, C, H/f, W/f] (the D input downscale)."""
    if factor == 1:
        return x
    return F.avg_pool2d(x, kernel_size=factor)


class Blur(nn.Module):
    """Depthwise [1, 2, 1] x [1, 2, 1] / 16 low-pass filter, stride 1, same size output.

    The filter is a non-trainable buffer, so it moves with ``.to()`` and costs no parameter.
    """

    def __init__(self) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        kernel = torch.outer(taps, taps)
        self.register_buffer("kernel", (kernel / kernel.sum())[None, None], persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """Blur every channel of ``x`` [N, C, H, W] independently."""
        channels = x.shape[1]
        kernel = self.kernel.to(x.dtype).expand(channels, 1, 3, 3)
        return F.conv2d(x, kernel, padding=1, groups=channels)
