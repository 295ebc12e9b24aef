"""Per-pixel noise injection (paper section 3.2: stochastic variation)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

NoiseMode = Literal["random", "const", "none"]
NOISE_MODES: tuple[str, ...] = ("random", "const", "none")


class NoiseInjection(nn.Module):
    """Adds a single-channel N(0, 1) image, scaled by a learned per-channel strength.

    The strength starts at zero (official init), so noise only matters once learned.

    Args:
        channels: Feature maps.
        resolution: Spatial size, for the fixed noise image used by ``noise_mode="const"``.

    ``noise_mode``:
        ``"random"``: a fresh draw per call (training, and stochastic variation);
        ``"const"``: a fixed image stored with the weights, for deterministic output;
        ``"none"``: no noise.
    """

    noise_const: Tensor  # buffer: the stored noise image of noise_mode='const'

    def __init__(self, channels: int, resolution: int) -> None:
        super().__init__()
        self.channels = channels
        self.resolution = resolution
        self.strength = nn.Parameter(torch.zeros(channels))
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))

    def sample(self, x: Tensor, noise_mode: NoiseMode = "random") -> Tensor | None:
        """The noise image for ``x`` [N, C, H, W]: [N, 1, H, W], [1, 1, H, W] or ``None``."""
        if noise_mode == "none":
            return None
        if noise_mode == "random":
            return torch.randn(
                x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype
            )
        if noise_mode == "const":
            return self.noise_const.to(x.dtype)
        raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")

    def forward(
        self, x: Tensor, noise_mode: NoiseMode = "random", noise: Tensor | None = None
    ) -> Tensor:
        """Add noise to ``x`` [N, C, H, W]: ``noise`` [N or 1, 1, H, W] when given (then
        ``noise_mode`` is not used), else the image ``noise_mode`` says."""
        if noise is None:
            noise = self.sample(x, noise_mode)
        if noise is None:
            return x
        return torch.addcmul(x, noise, self.strength.to(x.dtype)[None, :, None, None])

    def extra_repr(self) -> str:
        return f"channels={self.channels}, resolution={self.resolution}"
