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

    def __init__(self, channels: int, resolution: int) -> None:
        super().__init__()
        self.channels = channels
        self.resolution = resolution
        self.strength = nn.Parameter(torch.zeros(channels))
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))

    def forward(self, x: Tensor, noise_mode: NoiseMode = "random") -> Tensor:
        """Add noise to ``x`` [N, C, H, W]."""
        if noise_mode == "none":
            return x
        if noise_mode == "random":
            noise = torch.randn(
                x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype
            )
        elif noise_mode == "const":
            noise = self.noise_const.to(x.dtype)
        else:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        return torch.addcmul(x, noise, self.strength.to(x.dtype)[None, :, None, None])

    def extra_repr(self) -> str:
        return f"channels={self.channels}, resolution={self.resolution}"
