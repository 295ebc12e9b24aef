"""Equalised-learning-rate layers (Karras et al. 2018, section 4.1; StyleGAN keeps them).

Weights are stored as ``N(0, 1 / lr_multiplier)`` and scaled at run time by
``gain / sqrt(fan_in) * lr_multiplier``. Because Adam's step size is invariant to a
parameter's scale, every layer then learns at the same speed, and a layer with
``lr_multiplier = 0.01`` (the mapping network) moves its effective weight 100x slower.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LRELU_GAIN = math.sqrt(2.0)
"""He gain for leaky ReLU layers, as the official code uses for every hidden layer."""


class EqualizedLinear(nn.Module):
    """Fully connected layer with run-time weight scaling.

    Args:
        in_features: Input width.
        out_features: Output width.
        bias: Whether to add a bias.
        gain: Gain of the He initialisation (``sqrt(2)`` before leaky ReLU, 1 otherwise).
        lr_multiplier: Learning-rate multiplier applied to weight and bias.
        bias_init: Initial value of the (effective) bias.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        gain: float = LRELU_GAIN,
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__()
        if lr_multiplier <= 0:
            raise ValueError(f"lr_multiplier must be positive, got {lr_multiplier}")
        self.in_features = in_features
        self.out_features = out_features
        self.lr_multiplier = lr_multiplier
        self.gain = gain
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = (
            nn.Parameter(torch.full((out_features,), float(bias_init) / lr_multiplier))
            if bias
            else None
        )
        self.weight_gain = gain / math.sqrt(in_features) * lr_multiplier

    def effective_weight(self) -> Tensor:
        """The weight the layer actually applies."""
        return self.weight * self.weight_gain

    def effective_bias(self) -> Tensor | None:
        """The bias the layer actually applies."""
        return None if self.bias is None else self.bias * self.lr_multiplier

    def forward(self, x: Tensor) -> Tensor:
        """Apply the layer to ``x`` of shape [N, in_features]."""
        return F.linear(x, self.effective_weight(), self.effective_bias())

    def extra_repr(self) -> str:
        return (
            f"in={self.in_features}, out={self.out_features}, bias={self.bias is not None}, "
            f"gain={self.gain:.3g}, lr_multiplier={self.lr_multiplier:g}"
        )


class EqualizedConv2d(nn.Module):
    """2-D convolution with run-time weight scaling and "same" padding.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Square kernel size (odd).
        bias: Whether to add a bias.
        gain: Gain of the He initialisation.
        lr_multiplier: Learning-rate multiplier.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        bias: bool = True,
        gain: float = LRELU_GAIN,
        lr_multiplier: float = 1.0,
    ) -> None:
        super().__init__()
        if lr_multiplier <= 0:
            raise ValueError(f"lr_multiplier must be positive, got {lr_multiplier}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.padding = kernel_size // 2
        self.lr_multiplier = lr_multiplier
        self.gain = gain
        self.weight = nn.Parameter(
            torch.randn(out_channels, in_channels, kernel_size, kernel_size) / lr_multiplier
        )
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = gain / math.sqrt(in_channels * kernel_size * kernel_size) * lr_multiplier

    def effective_weight(self) -> Tensor:
        """The kernel the layer actually applies, [out, in, k, k]."""
        return self.weight * self.weight_gain

    def effective_bias(self) -> Tensor | None:
        """The bias the layer actually applies."""
        return None if self.bias is None else self.bias * self.lr_multiplier

    def forward(self, x: Tensor) -> Tensor:
        """Convolve ``x`` [N, in, H, W] to [N, out, H, W]."""
        return F.conv2d(x, self.effective_weight(), self.effective_bias(), padding=self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"bias={self.bias is not None}, gain={self.gain:.3g}, "
            f"lr_multiplier={self.lr_multiplier:g}"
        )
