"""Minibatch standard deviation (Karras et al. 2018, section 3), used before D's last block."""

from __future__ import annotations

import torch
from torch import Tensor, nn

EPS = 1e-8


class MinibatchStd(nn.Module):
    """Appends the standard deviation of features across a group of samples as extra maps.

    As in the official code, sample ``i`` belongs to group ``i % M`` where ``M`` is the number
    of groups, so a batch divisible by the group size is processed exactly as there. A batch
    that is not divisible uses ``M = max(N // group_size, 1)`` groups of unequal size (each at
    least ``group_size`` samples when ``N >= group_size``) rather than failing.

    Args:
        group_size: Samples per group (4 in StyleGAN).
        num_features: Number of statistics appended (1 in StyleGAN); channels are split into
            that many slices.
    """

    def __init__(self, group_size: int = 4, num_features: int = 1) -> None:
        super().__init__()
        if group_size < 1 or num_features < 1:
            raise ValueError("group_size and num_features must be at least 1")
        self.group_size = group_size
        self.num_features = num_features

    def forward(self, x: Tensor) -> Tensor:
        """[N, C, H, W] -> [N, C + num_features, H, W]."""
        n, c, h, w = x.shape
        f = self.num_features
        if c % f:
            raise ValueError(f"channels ({c}) must be divisible by num_features ({f})")
        groups = max(n // min(self.group_size, n), 1)
        y = x.reshape(n, f, c // f, h, w).float()
        if n % groups == 0:
            y = y.reshape(n // groups, groups, f, c // f, h, w)  # [G, M, F, c, H, W]
            # Two passes, as the official code: torch.var's single-pass kernel is several
            # times slower on CPUs for this strided reduction.
            deviation = y - y.mean(dim=0)
            std = (deviation.square().mean(dim=0) + EPS).sqrt()  # [M, F, c, H, W]
            stat = std.mean(dim=(2, 3, 4))  # [M, F]
        else:
            member = torch.arange(n, device=x.device) % groups
            one_hot = torch.nn.functional.one_hot(member, groups).to(y.dtype)  # [N, M]
            counts = one_hot.sum(dim=0)  # [M]
            flat = y.reshape(n, -1)
            mean = (one_hot.T @ flat) / counts[:, None]
            var = (one_hot.T @ (flat - mean[member]).square()) / counts[:, None]
            std = (var + EPS).sqrt().reshape(groups, f, -1)
            stat = std.mean(dim=2)  # [M, F]
        per_sample = stat[torch.arange(n, device=x.device) % groups]  # [N, F]
        maps = per_sample.to(x.dtype)[:, :, None, None].expand(n, f, h, w)
        return torch.cat([x, maps], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_features={self.num_features}"
