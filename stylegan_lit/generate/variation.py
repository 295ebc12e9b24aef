"""Stochastic variation (paper figure 4): one w, several noise draws.

The per-pixel noise inputs should change only stochastic detail (hair placement, skin
texture), never identity: rendering one w with fresh noise many times and taking the
per-pixel standard deviation shows where the noise acts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from stylegan_lit.generate.options import RenderOptions
from stylegan_lit.generate.sampling import map_seeds, synthesize
from stylegan_lit.models import Generator

RANDOM_NOISE = RenderOptions(noise_mode="random")
"""The default of :func:`stochastic_variation`: fresh noise, which is what it shows."""


@dataclass
class StochasticVariation:
    """Noise draws of fixed ws.

    Attributes:
        draws: [S, K, C, H, W]: K renders of each of S latents, each with its own noise.
        std: [S, H, W]: per-pixel standard deviation over the K draws, mean over channels,
            in image units ([-1, 1] range).
    """

    draws: Tensor
    std: Tensor

    def std_images(self, scale: float | None = None) -> Tensor:
        """The std as grey images [S, C, H, W] in [-1, 1] (white = most variation).

        Args:
            scale: Std shown as white; default the largest std over the figure, so the
                images compare with each other. With ``noise_mode="none"`` all are black.
        """
        scale = float(self.std.max()) if scale is None else scale
        grey = (self.std / scale).clamp(0, 1) if scale > 0 else torch.zeros_like(self.std)
        channels = self.draws.shape[2]
        return (grey * 2 - 1)[:, None].expand(-1, channels, -1, -1)

    def grid(self, scale: float | None = None) -> Tensor:
        """One row per latent: the K draws then the std image, [S, K + 1, C, H, W]."""
        return torch.cat([self.draws, self.std_images(scale)[:, None]], dim=1)


def stochastic_variation(
    G: Generator,
    seeds: Sequence[int],
    num_draws: int = 8,
    options: RenderOptions = RANDOM_NOISE,
    *,
    noise_seed: int | None = 0,
) -> StochasticVariation:
    """Render each seed's ws ``num_draws`` times with independent noise.

    Args:
        G: The generator.
        seeds: The latents to vary.
        num_draws: Noise draws per latent (the paper's std uses 100).
        options: How to render. Its ``noise_mode`` must be ``"random"`` to see the
            variation (the default here, unlike every other figure: options made for those,
            e.g. by :meth:`RenderOptions.from_checkpoint`, need
            ``replace(options, noise_mode="random")``); ``"none"`` or ``"const"`` give
            identical draws and a zero std (the control).
        noise_seed: Seeds the draws, so the figure is reproducible.
    """
    if num_draws < 2:
        raise ValueError(f"num_draws must be at least 2 to measure variation, got {num_draws}")
    ws = map_seeds(G, seeds, options)
    repeated = ws.repeat_interleave(num_draws, dim=0)  # each batch row gets its own noise
    images = synthesize(G, repeated, options, noise_seed=noise_seed)
    draws = images.unflatten(0, (len(seeds), num_draws))
    std = draws.std(dim=1, unbiased=False).mean(dim=1)
    return StochasticVariation(draws=draws, std=std)
