"""Fused forms of the elementwise layers between StyleGAN's convolutions.

Between two convolutions the network is memory-bound: on a 2-core CPU one pass over a
[16, 256, 64, 64] activation costs about a fifteenth of the conv next to it, and autograd's
chain of small ops makes a dozen such passes. The functions here do the same arithmetic in
fewer passes.

Eager PyTorch runs ``x + noise * strength``, ``+ bias`` and ``leaky_relu`` as three passes
over memory, each allocating its output and saving what its backward needs. Here they are
one autograd node: one output buffer updated in place, one saved tensor (the output, from
which leaky ReLU's backward reads the sign), and a backward that reads the incoming gradient
once for x and reduces it for the bias and the noise strength. The function is the same;
only the number of passes differs (tests compare both forms).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn


def _per_channel(v: Tensor, like: Tensor) -> Tensor:
    return v.to(like.dtype)[None, :, None, None]


def _sum_except_channels(x: Tensor) -> Tensor:
    return x.sum(dim=(0, 2, 3))


def _noise_strength_grad(grad: Tensor, noise: Tensor) -> Tensor:
    """sum over n, h, w of grad[n, c, h, w] * noise[n, 0, h, w], as a batched matmul (no
    [N, C, H, W] temporary), in whichever memory layout ``grad`` is stored."""
    n, c, h, w = grad.shape
    noise_rows = noise.reshape(n, 1, h * w).to(grad.dtype)
    if grad.is_contiguous(memory_format=torch.channels_last) and not grad.is_contiguous():
        pixels_by_channel = grad.permute(0, 2, 3, 1).reshape(n, h * w, c)
        return torch.bmm(noise_rows, pixels_by_channel).sum(dim=(0, 1))
    return torch.bmm(grad.reshape(n, c, h * w), noise_rows.transpose(1, 2)).sum(dim=(0, 2))


class _NoiseBiasLeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, x: Tensor, noise: Tensor | None, strength: Tensor, bias: Tensor, slope: float
    ) -> Tensor:
        if noise is None:
            out = x + _per_channel(bias, x)
        else:
            out = torch.addcmul(x, noise.to(x.dtype), _per_channel(strength, x))
            out.add_(_per_channel(bias, x))
        torch.nn.functional.leaky_relu_(out, slope)
        ctx.slope = slope
        ctx.has_noise = noise is not None
        ctx.strength = _per_channel(strength.detach(), x) if noise is not None else None
        ctx.param_dtypes = (strength.dtype, bias.dtype)
        ctx.save_for_backward(out, noise if noise is not None else torch.empty(0))
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        out, noise = ctx.saved_tensors
        grad_x = torch.ops.aten.leaky_relu_backward(grad, out, ctx.slope, True)
        strength_dtype, bias_dtype = ctx.param_dtypes
        grad_bias = _sum_except_channels(grad_x).to(bias_dtype)
        if ctx.has_noise and ctx.needs_input_grad[2]:
            grad_strength = _noise_strength_grad(grad_x, noise).to(strength_dtype)
        else:
            grad_strength = None
        grad_noise = None
        if ctx.has_noise and ctx.needs_input_grad[1]:  # noise maps being optimised (projection)
            grad_noise = (grad_x * ctx.strength).sum(dim=1, keepdim=True).to(noise.dtype)
        return grad_x, grad_noise, grad_strength, grad_bias, None


def noise_bias_leaky_relu(
    x: Tensor, noise: Tensor | None, strength: Tensor, bias: Tensor, slope: float = 0.2
) -> Tensor:
    """``leaky_relu(x + noise * strength + bias, slope)`` as one fused autograd node.

    Args:
        x: Features [N, C, H, W].
        noise: One noise image per sample [N, 1, H, W] or shared [1, 1, H, W]; ``None``
            for no noise. It gets a gradient when it requires one (a projection optimises
            the noise maps).
        strength: Per-channel noise strength [C].
        bias: Per-channel bias [C].
        slope: Negative slope of the leaky ReLU.
    """
    if noise is not None and noise.shape[0] != x.shape[0]:
        noise = noise.expand(x.shape[0], -1, -1, -1)
    return _NoiseBiasLeakyReLU.apply(x, noise, strength, bias, slope)


def set_fused_ops(
    root: nn.Module, *, resampling: bool | None = None, epilogue: bool | None = None
) -> None:
    """Switch the fused forms of every layer under ``root`` on or off (``None``: leave as is).

    The fused forms compute the same function (to float rounding) faster; the switch exists so
    that benchmarks and tests can compare them with the plain composition of layers.
    """
    for module in root.modules():
        if resampling is not None and hasattr(module, "fused_resampling"):
            setattr(module, "fused_resampling", resampling)  # noqa: B010 (any layer type)
        if epilogue is not None and hasattr(module, "fused_epilogue"):
            setattr(module, "fused_epilogue", epilogue)  # noqa: B010


class _AdaptiveInstanceNorm(torch.autograd.Function):
    """``scale * (x - mean) / std + bias`` with statistics per sample and channel.

    Forward: the statistics in two reductions (the mean, then the mean squared deviation:
    on CPUs about 8x faster than ``torch.var_mean``'s single-pass kernel at 8-16 px, and as
    accurate) and one output pass (``x * m + (bias - mean * m)``, with ``m = scale / std``).
    Backward: the normalisation gradient written in terms of x (no normalised copy of x is
    kept): ``grad_x = m * g + a * x + b`` with per-channel a and b
    from two reductions, i.e. four passes over memory where autograd's chain takes about ten.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, scale: Tensor, bias: Tensor, eps: float) -> Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        var = (x - mean).square_().mean(dim=(2, 3), keepdim=True)
        rstd = torch.rsqrt(var + eps)
        multiplier = scale * rstd
        ctx.save_for_backward(x, scale, mean, rstd)
        return torch.addcmul(bias - mean * multiplier, x, multiplier)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, scale, mean, rstd = ctx.saved_tensors
        count = x.shape[2] * x.shape[3]
        grad_bias = grad.sum(dim=(2, 3), keepdim=True)
        # sum(g * x_hat) over the pixels, with x_hat = (x - mean) * rstd.
        grad_dot_normalized = ((grad * x).sum(dim=(2, 3), keepdim=True) - mean * grad_bias) * rstd
        multiplier = scale * rstd
        # grad_x = multiplier * (g - mean(g) - x_hat * mean(g * x_hat)), expanded in x.
        x_coefficient = -multiplier * rstd * grad_dot_normalized / count
        constant = -multiplier * grad_bias / count - x_coefficient * mean
        grad_x = torch.addcmul(constant, grad, multiplier).addcmul_(x, x_coefficient)
        return grad_x, grad_dot_normalized, grad_bias, None


def adaptive_instance_norm(x: Tensor, scale: Tensor, bias: Tensor, eps: float = 1e-8) -> Tensor:
    """AdaIN as one autograd node: normalise ``x`` [N, C, H, W] per sample and channel over
    the pixels, then apply ``scale`` and ``bias`` [N, C, 1, 1] (same dtype as ``x``)."""
    return _AdaptiveInstanceNorm.apply(x, scale, bias, eps)
