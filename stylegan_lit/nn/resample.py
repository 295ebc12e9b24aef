"""Resampling as the official StyleGAN code does it: nearest-neighbour x2 up, 2x2 box down,
and the [1, 2, 1] binomial blur that follows every upsampling conv and precedes every
downsampling conv (Zhang 2019, "Making convolutional networks shift-invariant again").

The up- and downsampling convs also have a fused form, the official ``fused_scale``: a 3x3
conv on a nearest-upsampled input equals a stride-2 transposed conv with a 4x4 kernel (the
3x3 kernel summed over its four 1-pixel shifts), and a 3x3 conv followed by a 2x2 box filter
equals a stride-2 conv with that kernel / 4. Both are exact (borders included) and do 4/9
of the multiply-adds; the official code uses them from 128 px up, we use them everywhere.
"""

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


def _shift_sum_taps(taps: Tensor) -> Tensor:
    """[A, 3, 3, B] -> [A, 4, 4, B]: the 3x3 taps (dims 1, 2) summed over their four 1-pixel
    shifts, i.e. convolved with a 2x2 box of ones. Working with the taps in the middle keeps
    every slice a run of long contiguous rows (slicing [..., 3, 3] directly is slow)."""
    rows = torch.cat([taps[:, :1], taps[:, 1:] + taps[:, :-1], taps[:, -1:]], dim=1)
    return torch.cat([rows[:, :, :1], rows[:, :, 1:] + rows[:, :, :-1], rows[:, :, -1:]], dim=2)


def _check_3x3(weight: Tensor) -> None:
    if weight.shape[-2:] != (3, 3):
        raise ValueError(f"fused resampling needs a 3x3 kernel, got {tuple(weight.shape[-2:])}")


def shift_summed_kernel(weight: Tensor) -> Tensor:
    """[O, I, 3, 3] -> [O, I, 4, 4]: the kernel summed over its four 1-pixel shifts.

    Applied with stride 2 it computes, at low resolution, what the 3x3 kernel computes on
    2x2 blocks of equal pixels (upsampling) or summed over 2x2 output blocks (downsampling).
    The result is stored channels_last ([O, kh, kw, I] in memory), as oneDNN wants it.
    """
    _check_3x3(weight)
    return _shift_sum_taps(weight.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def upsample_conv2d(x: Tensor, weight: Tensor, *, gain: float = 1.0, fused: bool = True) -> Tensor:
    """3x3 "same" conv (kernel ``weight * gain``) of the nearest-x2-upsampled ``x``:
    [N, I, H, W] -> [N, O, 2H, 2W]."""
    _check_3x3(weight)
    if not fused:
        return F.conv2d(upsample_nearest(x), weight * gain, padding=1)
    # The transposed conv takes the kernel as [I, O, kh, kw], spatially flipped; it is built
    # directly in that layout's channels_last memory order ([I, kh, kw, O]).
    taps = (weight * gain).permute(1, 2, 3, 0)  # [I, 3, 3, O]
    kernel = _shift_sum_taps(taps).flip(1, 2).permute(0, 3, 1, 2)  # [I, O, 4, 4]
    return F.conv_transpose2d(x, kernel, stride=2, padding=1)


def conv2d_downsample(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    *,
    gain: float = 1.0,
    fused: bool = True,
) -> Tensor:
    """3x3 "same" conv (kernel ``weight * gain``, plus bias), then 2x2 box downsampling:
    [N, I, H, W] -> [N, O, H/2, W/2]."""
    _check_3x3(weight)
    if not fused:
        return downsample_box(F.conv2d(x, weight * gain, bias, padding=1))
    # The box filter's 1/4 rides on the (smaller) 3x3 kernel's scaling.
    kernel = shift_summed_kernel(weight * (gain / 4))
    return F.conv2d(x, kernel, bias, stride=2, padding=1)


class Blur(nn.Module):
    """Depthwise [1, 2, 1] x [1, 2, 1] / 16 low-pass filter, stride 1, same size output.

    The filter is a non-trainable buffer, so it moves with ``.to()`` and costs no parameter.
    """

    kernel: Tensor  # buffer: the normalised [1, 2, 1] x [1, 2, 1] filter

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
