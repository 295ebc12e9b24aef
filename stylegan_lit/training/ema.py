"""Exponential moving average of the generator weights, with a half-life in images."""

from __future__ import annotations

import torch
from torch import nn


def ema_beta(batch_size: int, half_life_kimg: float) -> float:
    """Per-step decay such that the weight of a sample halves every ``half_life_kimg`` images.

    ``beta = 0.5 ** (batch_size / (half_life_kimg * 1000))``: two steps of batch B decay exactly
    as one step of 2B, so the average is the same for any batch size or number of GPUs (pass
    the global batch).
    """
    if half_life_kimg <= 0:
        return 0.0
    return 0.5 ** (batch_size / (half_life_kimg * 1000.0))


def ramped_half_life(half_life_kimg: float, rampup: float | None, images_seen: int) -> float:
    """The EMA half-life in kimg at ``images_seen``: ``half_life_kimg``, or with a ramp-up
    ``min(half_life_kimg, rampup * images_seen / 1000)``, as the official StyleGAN2-ADA code
    (``ema_rampup``, 0.05 in its ``auto`` config).

    A fixed half-life is a compromise: short enough that the EMA follows G while the network
    is still changing fast (and growing), long enough to average out G's step-to-step
    wandering later. With a ramp the half-life is a fixed fraction of the training so far.
    A function of the image count alone, so resuming repeats an uninterrupted run.
    """
    if rampup is None:
        return half_life_kimg
    return min(half_life_kimg, rampup * images_seen / 1000.0)


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, beta: float) -> None:
    """``ema = lerp(model, ema, beta)`` for parameters; buffers (``w_avg``, noise) are copied."""
    ema_params: list[torch.Tensor] = list(ema.parameters())
    model_params = [p.detach() for p in model.parameters()]
    if len(ema_params) != len(model_params):
        raise ValueError("EMA and model have different parameter lists")
    torch._foreach_lerp_(ema_params, model_params, 1.0 - beta)
    for ema_buffer, buffer in zip(ema.buffers(), model.buffers(), strict=True):
        ema_buffer.copy_(buffer)
