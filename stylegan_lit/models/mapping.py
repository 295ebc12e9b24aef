"""The mapping network f: Z -> W (paper section 2)."""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylegan_lit.models.latents import broadcast_ws, truncate
from stylegan_lit.nn import EqualizedLinear, pixel_norm


class MappingNetwork(nn.Module):
    """8-layer MLP with leaky ReLU, pixel-normalised z, and a tracked ``w_avg``.

    Args:
        z_dim: Width of z.
        w_dim: Width of w.
        num_layers: Fully connected layers (8 in the paper).
        hidden_dim: Width of the hidden layers (``w_dim`` if ``None``).
        lr_multiplier: Learning-rate multiplier of every layer (0.01 in the paper).
        w_avg_beta: Decay of the running mean of w, the truncation centre.
        num_ws: If set, outputs are broadcast to [N, num_ws, w_dim] for the synthesis network.
    """

    w_avg: Tensor  # buffer: the running mean of w (truncation centre)

    def __init__(
        self,
        z_dim: int = 512,
        w_dim: int = 512,
        num_layers: int = 8,
        hidden_dim: int | None = None,
        lr_multiplier: float = 0.01,
        w_avg_beta: float = 0.995,
        num_ws: int | None = None,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        if not 0.0 <= w_avg_beta <= 1.0:
            raise ValueError(f"w_avg_beta must be in [0, 1], got {w_avg_beta}")
        self.z_dim = z_dim
        self.w_dim = w_dim
        self.num_ws = num_ws
        self.w_avg_beta = w_avg_beta
        hidden_dim = w_dim if hidden_dim is None else hidden_dim
        widths = [z_dim] + [hidden_dim] * (num_layers - 1) + [w_dim]
        self.layers = nn.ModuleList(
            EqualizedLinear(a, b, lr_multiplier=lr_multiplier)
            for a, b in itertools.pairwise(widths)
        )
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(
        self,
        z: Tensor,
        *,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> Tensor:
        """Map z [N, z_dim] to w [N, w_dim], or ws [N, num_ws, w_dim] when ``num_ws`` is set."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must have shape [N, {self.z_dim}], got {tuple(z.shape)}")
        x = pixel_norm(z)
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2)
        if self.num_ws is None:
            if truncation_psi != 1.0:
                x = truncate(x[:, None], self.w_avg, truncation_psi)[:, 0]
            return x
        return self.truncate(broadcast_ws(x, self.num_ws), truncation_psi, truncation_cutoff)

    def truncate(self, ws: Tensor, psi: float = 1.0, cutoff: int | None = None) -> Tensor:
        """Truncate ws [N, num_ws, w_dim] towards ``w_avg`` (see :func:`truncate`)."""
        return truncate(ws, self.w_avg, psi, cutoff)

    @torch.no_grad()
    def update_w_avg(self, w: Tensor) -> None:
        """Move ``w_avg`` towards the batch mean of w [N, w_dim] (or ws [N, L, w_dim])."""
        batch_mean = w.detach().float().reshape(-1, self.w_dim).mean(dim=0)
        self.w_avg.copy_(torch.lerp(batch_mean, self.w_avg, self.w_avg_beta))

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}"
