"""The random latents of a training step: z, and style-mixing regularisation.

Official StyleGAN (``training/loss.py`` with ``style_mixing_prob``): with probability
0.9 a minibatch draws a second z and, from one crossover layer on (uniform over the layers
in use at the current resolution), takes its styles from it. One decision per minibatch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from stylegan_lit.models import MappingNetwork, mix_styles
from stylegan_lit.models.resolution import num_ws_for


@dataclass(frozen=True)
class LatentDraw:
    """The latents of one minibatch.

    Attributes:
        z: Latents [N, z_dim].
        z_mix: Second latents for style mixing [N, z_dim], or ``None``.
        crossover: First layer that takes its style from ``z_mix``.
    """

    z: Tensor
    z_mix: Tensor | None = None
    crossover: int | None = None

    def map(self, mapping: MappingNetwork, part: slice = slice(None)) -> Tensor:
        """Per-layer ws [n, num_ws, w_dim] for a slice of the draw (micro-batches map their
        own part; the mixing decision is the minibatch's)."""
        ws = mapping(self.z[part])
        if self.z_mix is not None and self.crossover is not None:
            ws = mix_styles(ws, mapping(self.z_mix[part]), self.crossover)
        return ws


def draw_latents(
    batch: int, z_dim: int, resolution: int, mixing_prob: float, device: torch.device
) -> LatentDraw:
    """Draw a minibatch's latents from torch's global RNG (seeded per step by the module).

    Args:
        batch: Images in the minibatch.
        z_dim: Size of z.
        resolution: The resolution being trained: crossovers fall among its layers.
        mixing_prob: Probability of style mixing (0.9 officially).
        device: Where the latents live.
    """
    z = torch.randn(batch, z_dim, device=device)
    layers = num_ws_for(resolution)
    if mixing_prob > 0 and layers > 1 and torch.rand(()) < mixing_prob:
        z_mix = torch.randn(batch, z_dim, device=device)
        return LatentDraw(z, z_mix, int(torch.randint(1, layers, ())))
    return LatentDraw(z)


__all__ = ["LatentDraw", "draw_latents"]
