"""The synthesis network g: ws -> image, grown progressively (paper section 2, figure 1b)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylegan_lit.models.resolution import (
    check_resolution,
    feature_maps,
    num_ws_for,
    resolutions_up_to,
)
from stylegan_lit.nn import (
    AdaIN,
    Blur,
    EqualizedConv2d,
    NoiseInjection,
    NoiseMode,
    noise_bias_leaky_relu,
    upsample_conv2d,
    upsample_nearest,
)


class StyleEpilogue(nn.Module):
    """What follows every synthesis conv: noise, bias, leaky ReLU, then AdaIN with one w.

    Args:
        channels: Feature maps.
        w_dim: Width of w.
        resolution: Spatial size (for the const noise image).
    """

    def __init__(self, channels: int, w_dim: int, resolution: int) -> None:
        super().__init__()
        self.noise = NoiseInjection(channels, resolution)
        self.bias = nn.Parameter(torch.zeros(channels))
        self.adain = AdaIN(channels, w_dim)
        self.fused_epilogue = True
        """Noise, bias and leaky ReLU as one autograd node (:func:`noise_bias_leaky_relu`)."""

    def forward(
        self,
        x: Tensor,
        w: Tensor,
        noise_mode: NoiseMode = "random",
        noise: Tensor | None = None,
    ) -> Tensor:
        """x [N, C, H, W], w [N, w_dim] -> [N, C, H, W]; ``noise`` [N or 1, 1, H, W], when
        given, replaces the image ``noise_mode`` would pick."""
        if self.fused_epilogue:
            if noise is None:
                noise = self.noise.sample(x, noise_mode)
            x = noise_bias_leaky_relu(x, noise, self.noise.strength, self.bias, 0.2)
        else:
            x = self.noise(x, noise_mode, noise)
            x = F.leaky_relu(x + self.bias.to(x.dtype)[None, :, None, None], 0.2)
        return self.adain(x, w)


class UpsampleConv(nn.Module):
    """Nearest x2 upsampling, 3x3 conv, [1, 2, 1] blur: the official ``blur(upscale2d_conv2d)``.

    ``fused_resampling`` runs upsampling and conv as one stride-2 transposed conv (the official
    ``fused_scale``; exact, 4/9 of the multiply-adds).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = EqualizedConv2d(in_channels, out_channels, 3, bias=False)
        self.blur = Blur()
        self.fused_resampling = True

    def forward(self, x: Tensor) -> Tensor:
        """[N, Cin, H, W] -> [N, Cout, 2H, 2W]."""
        conv = self.conv
        up = upsample_conv2d(x, conv.weight, gain=conv.weight_gain, fused=self.fused_resampling)
        return self.blur(up)


class SynthesisBlock(nn.Module):
    """Two styled layers at one resolution, each consuming one w.

    At 4x4 the first layer starts from a learned constant (initialised to ones, as
    officially) instead of a conv; above, the first conv upsamples.

    Args:
        in_channels: Channels arriving from the previous block (ignored at 4x4).
        out_channels: Channels of this block.
        w_dim: Width of w.
        resolution: Output size of this block.
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.const: nn.Parameter | None = None
        self.conv0: UpsampleConv | None = None
        if resolution == 4:
            self.const = nn.Parameter(torch.ones(1, out_channels, 4, 4))
        else:
            self.conv0 = UpsampleConv(in_channels, out_channels)
        self.epilogue0 = StyleEpilogue(out_channels, w_dim, resolution)
        self.conv1 = EqualizedConv2d(out_channels, out_channels, 3, bias=False)
        self.epilogue1 = StyleEpilogue(out_channels, w_dim, resolution)

    def forward(
        self,
        x: Tensor | None,
        ws: Tensor,
        noise_mode: NoiseMode = "random",
        noise: Sequence[Tensor] | None = None,
    ) -> Tensor:
        """x [N, Cin, R/2, R/2] (``None`` at 4x4), ws [N, 2, w_dim] -> [N, Cout, R, R];
        ``noise``: the two layers' noise images, when given."""
        if self.const is not None:
            x = self.const.to(ws.dtype).expand(ws.shape[0], -1, -1, -1)
        else:
            assert self.conv0 is not None and x is not None
            x = self.conv0(x)
        noise0, noise1 = (None, None) if noise is None else noise
        x = self.epilogue0(x, ws[:, 0], noise_mode, noise0)
        return self.epilogue1(self.conv1(x), ws[:, 1], noise_mode, noise1)


class SynthesisNetwork(nn.Module):
    """Learned 4x4 constant, two styled convs per resolution, a toRGB per resolution.

    Every block of the full-resolution network exists from the start (so checkpoints and DDP
    see one fixed set of parameters); ``forward`` runs only the blocks up to ``resolution``.
    During a fade-in (``alpha < 1``) the output is ``lerp(up(toRGB(x_{R/2})), toRGB(x_R),
    alpha)`` with nearest-neighbour ``up``: the official linear progressive structure.

    Args:
        w_dim: Width of w.
        resolution: Maximum output resolution (power of two, >= 4).
        img_channels: 3 for RGB, 1 for grayscale.
        fmap_base: Channel budget (see :func:`feature_maps`).
        fmap_max: Maximum channels per layer.
    """

    def __init__(
        self,
        w_dim: int = 512,
        resolution: int = 1024,
        img_channels: int = 3,
        fmap_base: int = 8192,
        fmap_max: int = 512,
    ) -> None:
        super().__init__()
        check_resolution(resolution)
        self.w_dim = w_dim
        self.resolution = resolution
        self.img_channels = img_channels
        self.blocks = nn.ModuleDict()
        self.to_rgb = nn.ModuleDict()
        in_channels = 0
        for res in resolutions_up_to(resolution):
            channels = feature_maps(res, fmap_base, fmap_max)
            self.blocks[str(res)] = SynthesisBlock(in_channels, channels, w_dim, res)
            self.to_rgb[str(res)] = EqualizedConv2d(channels, img_channels, 1, gain=1.0)
            in_channels = channels

    @property
    def num_ws(self) -> int:
        """Style inputs of the full-resolution network (2 per resolution)."""
        return num_ws_for(self.resolution)

    def forward(
        self,
        ws: Tensor,
        *,
        resolution: int | None = None,
        alpha: float | Tensor = 1.0,
        noise_mode: NoiseMode = "random",
        noise: Sequence[Tensor] | None = None,
    ) -> Tensor:
        """Render ws [N, L, w_dim] (L >= layers used at ``resolution``) to [N, C, R, R].

        Args:
            ws: Per-layer latents.
            resolution: Output size, up to the network's maximum (default: the maximum).
            alpha: Fade-in weight of the newest block; 1 is fully grown.
            noise_mode: ``"random"``, ``"const"`` or ``"none"``.
            noise: Explicit noise images, one per style layer used at ``resolution`` (the
                shapes :meth:`noise_shapes` gives, batch 1 or N); they replace
                ``noise_mode``'s, and may require gradients: a projection optimises them, and
                an exported graph takes them as inputs instead of drawing them.
        """
        resolution = self.resolution if resolution is None else resolution
        check_resolution(resolution)
        if resolution > self.resolution:
            raise ValueError(f"resolution {resolution} exceeds the network's {self.resolution}")
        needed = num_ws_for(resolution)
        if ws.ndim != 3 or ws.shape[1] < needed or ws.shape[2] != self.w_dim:
            raise ValueError(
                f"ws must have shape [N, >={needed}, {self.w_dim}] at {resolution} px, "
                f"got {tuple(ws.shape)}"
            )
        if noise is not None and len(noise) != needed:
            raise ValueError(
                f"noise must hold {needed} images at {resolution} px, got {len(noise)}"
            )
        fading = resolution > 4 and not (isinstance(alpha, float | int) and alpha >= 1.0)
        x: Tensor | None = None
        previous: Tensor | None = None
        for i, res in enumerate(resolutions_up_to(resolution)):
            previous = x
            pair = None if noise is None else noise[2 * i : 2 * i + 2]
            x = self.blocks[str(res)](x, ws[:, 2 * i : 2 * i + 2], noise_mode, pair)
        assert x is not None
        image = self.to_rgb[str(resolution)](x)
        if fading:
            assert previous is not None
            skip = upsample_nearest(self.to_rgb[str(resolution // 2)](previous))
            alpha = torch.as_tensor(alpha, dtype=image.dtype, device=image.device).clamp(0, 1)
            image = torch.lerp(skip, image, alpha)
        return image

    def noise_shapes(self, resolution: int | None = None) -> list[tuple[int, int, int, int]]:
        """The shape [1, 1, R, R] of each style layer's noise image up to ``resolution``."""
        resolution = self.resolution if resolution is None else resolution
        return [(1, 1, res, res) for res in resolutions_up_to(resolution) for _ in range(2)]

    def extra_repr(self) -> str:
        return (
            f"resolution={self.resolution}, num_ws={self.num_ws}, img_channels={self.img_channels}"
        )
