"""The discriminator: the Progressive GAN discriminator StyleGAN keeps (mirror of G)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylegan_lit.models.resolution import check_resolution, feature_maps, resolutions_up_to
from stylegan_lit.nn import (
    Blur,
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStd,
    conv2d_downsample,
    downsample_box,
)


class FromRGB(nn.Module):
    """1x1 conv + leaky ReLU from image channels to the features of one resolution."""

    def __init__(self, img_channels: int, channels: int) -> None:
        super().__init__()
        self.conv = EqualizedConv2d(img_channels, channels, 1)

    def forward(self, img: Tensor) -> Tensor:
        return F.leaky_relu(self.conv(img), 0.2)


class DiscriminatorBlock(nn.Module):
    """3x3 conv, then blur, 3x3 conv and 2x2 box downsampling (official ``conv2d_downscale2d``).

    ``fused_resampling`` runs the second conv and the downsampling as one stride-2 conv (the
    official ``fused_scale``; exact, 4/9 of the multiply-adds).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualizedConv2d(in_channels, in_channels, 3)
        self.blur = Blur()
        self.conv1 = EqualizedConv2d(in_channels, out_channels, 3)
        self.fused_resampling = True

    def forward(self, x: Tensor) -> Tensor:
        """[N, Cin, R, R] -> [N, Cout, R/2, R/2]."""
        # In place: a conv's backward needs its input, not its output.
        x = F.leaky_relu(self.conv0(x), 0.2, inplace=True)
        conv = self.conv1
        x = conv2d_downsample(
            self.blur(x),
            conv.weight,
            conv.effective_bias(),
            gain=conv.weight_gain,
            fused=self.fused_resampling,
        )
        return F.leaky_relu(x, 0.2, inplace=True)


class DiscriminatorEpilogue(nn.Module):
    """The 4x4 head: minibatch std, 3x3 conv, dense, dense to one logit."""

    def __init__(
        self, channels: int, dense_channels: int, mbstd_group_size: int, mbstd_num_features: int
    ) -> None:
        super().__init__()
        self.mbstd = MinibatchStd(mbstd_group_size, mbstd_num_features)
        self.conv = EqualizedConv2d(channels + mbstd_num_features, channels, 3)
        self.dense = EqualizedLinear(channels * 16, dense_channels)
        self.out = EqualizedLinear(dense_channels, 1, gain=1.0)

    def forward(self, x: Tensor) -> Tensor:
        """[N, C, 4, 4] -> logits [N, 1]."""
        x = F.leaky_relu(self.conv(self.mbstd(x)), 0.2)
        x = F.leaky_relu(self.dense(x.flatten(1)), 0.2)
        return self.out(x)


class Discriminator(nn.Module):
    """Progressive discriminator with a fromRGB per resolution and fade-in on the input side.

    During a fade-in the features entering the block below the newest one are
    ``lerp(fromRGB_{R/2}(box_down(img)), block_R(fromRGB_R(img)), alpha)``: the official
    linear structure. The resolution is read from the image.

    Args:
        resolution: Maximum input resolution (power of two, >= 4).
        fmap_base: Channel budget (see :func:`feature_maps`).
        fmap_max: Maximum channels per layer.
        mbstd_group_size: Group size of the minibatch standard deviation.
        mbstd_num_features: Statistics appended by the minibatch standard deviation.
        img_channels: 3 for RGB, 1 for grayscale.
    """

    def __init__(
        self,
        resolution: int = 1024,
        fmap_base: int = 8192,
        fmap_max: int = 512,
        mbstd_group_size: int = 4,
        mbstd_num_features: int = 1,
        img_channels: int = 3,
    ) -> None:
        super().__init__()
        check_resolution(resolution)
        self.config = dict(
            resolution=resolution,
            fmap_base=fmap_base,
            fmap_max=fmap_max,
            mbstd_group_size=mbstd_group_size,
            mbstd_num_features=mbstd_num_features,
            img_channels=img_channels,
        )
        """Constructor arguments: saved in checkpoints so the network can be rebuilt."""
        self.resolution = resolution
        self.img_channels = img_channels
        self.from_rgb = nn.ModuleDict()
        self.blocks = nn.ModuleDict()
        for res in resolutions_up_to(resolution):
            channels = feature_maps(res, fmap_base, fmap_max)
            self.from_rgb[str(res)] = FromRGB(img_channels, channels)
            if res > 4:
                lower = feature_maps(res // 2, fmap_base, fmap_max)
                self.blocks[str(res)] = DiscriminatorBlock(channels, lower)
        dense_channels = min(fmap_base, fmap_max)  # official nf(0)
        self.epilogue = DiscriminatorEpilogue(
            feature_maps(4, fmap_base, fmap_max),
            dense_channels,
            mbstd_group_size,
            mbstd_num_features,
        )

    def forward(self, img: Tensor, *, alpha: float | Tensor = 1.0) -> Tensor:
        """Score images [N, C, R, R] (R a power of two up to the maximum) -> logits [N]."""
        if img.ndim != 4 or img.shape[1] != self.img_channels or img.shape[2] != img.shape[3]:
            raise ValueError(
                f"D expects square images [N, {self.img_channels}, R, R], got {tuple(img.shape)}"
            )
        resolution = img.shape[-1]
        check_resolution(resolution, name="image resolution")
        if resolution > self.resolution:
            raise ValueError(f"image resolution {resolution} exceeds D's {self.resolution}")
        x = self.from_rgb[str(resolution)](img)
        if resolution > 4:
            x = self.blocks[str(resolution)](x)
            if not (isinstance(alpha, float | int) and alpha >= 1.0):
                skip = self.from_rgb[str(resolution // 2)](downsample_box(img))
                alpha = torch.as_tensor(alpha, dtype=x.dtype, device=x.device).clamp(0, 1)
                x = torch.lerp(skip, x, alpha)
            for res in reversed(resolutions_up_to(resolution // 2)[1:]):
                x = self.blocks[str(res)](x)
        return self.epilogue(x).squeeze(1)

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}, img_channels={self.img_channels}"
