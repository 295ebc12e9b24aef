"""Normalisation layers: PixelNorm for z, and AdaIN, StyleGAN's style injection."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stylegan_lit.nn.equalized import EqualizedLinear
from stylegan_lit.nn.fused import adaptive_instance_norm

EPS = 1e-8
"""Epsilon of the official code for every normalisation."""


def pixel_norm(x: Tensor, dim: int = 1, eps: float = EPS) -> Tensor:
    """Scale each vector along ``dim`` to unit root-mean-square."""
    return x * torch.rsqrt(x.square().mean(dim=dim, keepdim=True) + eps)


def instance_norm(x: Tensor, eps: float = EPS) -> Tensor:
    """Zero mean and unit variance per sample and channel over the spatial axes of [N, C, H, W]."""
    x = x - x.mean(dim=(2, 3), keepdim=True)
    return x * torch.rsqrt(x.square().mean(dim=(2, 3), keepdim=True) + eps)


class PixelNorm(nn.Module):
    """Module form of :func:`pixel_norm` (normalises z before the mapping network)."""

    def forward(self, x: Tensor) -> Tensor:
        return pixel_norm(x)


class AdaIN(nn.Module):
    """Adaptive instance normalisation (paper eq. 1).

    ``AdaIN(x, w) = scale(w) * instance_norm(x) + bias(w)``, with ``(scale, bias)`` a learned
    affine map of w (the paper's "A" block). The scale half of the affine bias starts at 1, so
    a fresh layer passes the normalised features through unchanged.

    Args:
        channels: Feature maps of ``x``.
        w_dim: Width of w.
    """

    def __init__(self, channels: int, w_dim: int) -> None:
        super().__init__()
        self.channels = channels
        self.fused_epilogue = True
        """Normalise and restyle as one autograd node (:func:`adaptive_instance_norm`)."""
        self.affine = EqualizedLinear(w_dim, 2 * channels, gain=1.0)
        with torch.no_grad():
            assert self.affine.bias is not None
            self.affine.bias[:channels].fill_(1.0)

    def styles(self, w: Tensor) -> tuple[Tensor, Tensor]:
        """Per-channel (scale, bias), each [N, C], for w [N, w_dim]."""
        scale, bias = self.affine(w).chunk(2, dim=1)
        return scale, bias

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        """Restyle ``x`` [N, C, H, W] with ``w`` [N, w_dim]."""
        scale, bias = self.styles(w)
        scale, bias = scale.to(x.dtype)[:, :, None, None], bias.to(x.dtype)[:, :, None, None]
        if not self.fused_epilogue:
            return torch.addcmul(bias, instance_norm(x), scale)
        return adaptive_instance_norm(x, scale, bias, EPS)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"
