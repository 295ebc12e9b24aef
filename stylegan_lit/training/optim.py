"""The optimizers: Adam per network, with an optional slower rate for G's noise strengths.

Every parameter group carries an ``lr_multiplier``; the learning rate of the schedule is
applied to all groups through :func:`set_learning_rate`, so the multiplier holds at every
level. With the default multiplier of 1, G has one group, as in the official code.

Why a noise multiplier at all: the official code trains the per-channel noise strengths
(zero-initialised raw variables) at the base rate, 0.001 at 8-64 px with minibatches of 64-256.
Small CPU recipes take 4x that rate and batches of 16 to learn in minutes; Adam then moves
each strength by up to the full rate per step, whatever the gradient's noise, and right after
a fade-in (when D punishes blur and the cheapest high frequency G has is its noise) the
strengths outgrow the image, which is covered in speckle. ``noise_lr_multiplier`` slows only
them (rosinality's port gets a similar effect, about 1/5.7 at 64 channels, by putting the
strengths under its equalised-lr scaling). A deviation from the official code when not 1.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from stylegan_lit.nn.noise import NoiseInjection


def noise_strengths(network: nn.Module) -> list[nn.Parameter]:
    """The learned per-channel noise strengths of ``network`` (G's synthesis)."""
    return [m.strength for m in network.modules() if isinstance(m, NoiseInjection)]


def parameter_groups(
    network: nn.Module, noise_lr_multiplier: float = 1.0
) -> list[dict[str, object]]:
    """Optimizer groups of ``network``: one, or the noise strengths apart when their
    multiplier is not 1 (one group keeps optimizer states of earlier checkpoints loadable)."""
    params = list(network.parameters())
    noise = noise_strengths(network) if noise_lr_multiplier != 1.0 else []
    if not noise:
        return [{"params": params, "lr_multiplier": 1.0}]
    noise_ids = {id(p) for p in noise}
    rest = [p for p in params if id(p) not in noise_ids]
    return [
        {"params": rest, "lr_multiplier": 1.0},
        {"params": noise, "lr_multiplier": noise_lr_multiplier},
    ]


def set_learning_rate(optimizers: Iterable[torch.optim.Optimizer], lr: float) -> None:
    """Give every group ``lr`` times its ``lr_multiplier`` (1 where a group has none)."""
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["lr"] = lr * group.get("lr_multiplier", 1.0)


__all__ = ["noise_strengths", "parameter_groups", "set_learning_rate"]
