"""Operations on per-layer latents ws [N, num_ws, w_dim]: truncation and style mixing."""

from __future__ import annotations

import torch
from torch import Tensor


def broadcast_ws(w: Tensor, num_ws: int) -> Tensor:
    """Repeat one w [N, w_dim] for every layer: [N, num_ws, w_dim]."""
    return w[:, None, :].expand(-1, num_ws, -1)


def truncate(ws: Tensor, w_avg: Tensor, psi: float = 1.0, cutoff: int | None = None) -> Tensor:
    """The truncation trick (paper section 4.1): ``w' = w_avg + psi * (w - w_avg)``.

    Args:
        ws: Latents [N, num_ws, w_dim].
        w_avg: The tracked centre of W, [w_dim].
        psi: 1 leaves ws unchanged, 0 maps every latent to ``w_avg``.
        cutoff: Only layers ``< cutoff`` are truncated (coarse styles); ``None`` means all.
    """
    if psi == 1.0:
        return ws
    num_ws = ws.shape[1]
    cutoff = num_ws if cutoff is None else min(cutoff, num_ws)
    if cutoff <= 0:
        return ws
    head = torch.lerp(w_avg.to(ws.dtype), ws[:, :cutoff], psi)
    return torch.cat([head, ws[:, cutoff:]], dim=1)


def mix_styles(ws1: Tensor, ws2: Tensor, crossover: int | Tensor) -> Tensor:
    """Style mixing: layers ``< crossover`` take ``ws1``, the rest ``ws2``.

    ``crossover = 0`` gives ``ws2`` alone and ``crossover = num_ws`` gives ``ws1`` alone.
    A tensor ``crossover`` of shape [N] mixes each sample at its own layer.
    """
    if ws1.shape != ws2.shape:
        raise ValueError(f"ws1 {tuple(ws1.shape)} and ws2 {tuple(ws2.shape)} must match")
    layer = torch.arange(ws1.shape[1], device=ws1.device)
    crossover = torch.as_tensor(crossover, device=ws1.device)
    take_first = layer[None, :] < crossover.reshape(-1, 1)  # [N or 1, num_ws]
    return torch.where(take_first[:, :, None], ws1, ws2)
