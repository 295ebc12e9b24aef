"""The optimizers: Adam per network, with optional slower rates for parts of G.

Every parameter group carries an ``lr_multiplier``; the learning rate of the schedule is
applied to all groups through :func:`set_learning_rate`, so the multipliers hold at every
level. With the default multipliers of 1, G has one group, as in the official code.

Why a noise multiplier at all: the official code trains the per-channel noise strengths
(zero-initialised raw variables) at the base rate, 0.001 at 8-64 px with minibatches of 64-256.
Small CPU recipes take 4x that rate and batches of 16 to learn in minutes; Adam then moves
each strength by up to the full rate per step, whatever the gradient's noise, and right after
a fade-in (when D punishes blur and the cheapest high frequency G has is its noise) the
strengths outgrow the image, which is covered in speckle. ``noise_lr_multiplier`` slows only
them (rosinality's port gets a similar effect, about 1/5.7 at 64 channels, by putting the
strengths under its equalised-lr scaling). A deviation from the official code when not 1.

Why a coarse multiplier: at such rates the layers that draw the coarse layout (pose, head
shape) keep moving from step to step long after they have learned it, while the newest,
finest layers still need the full rate, and a short EMA does not average the swing out.
``coarse_lr_multiplier`` slows G's synthesis blocks (with their toRGBs) that lie
:data:`COARSE_OCTAVES` or more octaves below the resolution being trained: at 64 px the 4, 8
and 16 px blocks. A layer so trains at the full rate while it is new and slows once two finer
levels sit on it. The mapping network and D keep the full rate. Also a deviation when not 1;
its groups carry their block's ``resolution``, and :func:`set_learning_rate` takes the
trained one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from stylegan_lit.checkpoint_format import CheckpointError
from stylegan_lit.nn.noise import NoiseInjection

COARSE_OCTAVES = 2
"""Octaves below the trained resolution from which a block of G counts as coarse."""


def noise_strengths(network: nn.Module) -> list[nn.Parameter]:
    """The learned per-channel noise strengths of ``network`` (G's synthesis)."""
    return [m.strength for m in network.modules() if isinstance(m, NoiseInjection)]


def _synthesis_levels(generator: nn.Module) -> dict[int, list[nn.Parameter]]:
    """G's synthesis parameters per block resolution (the block and its toRGB)."""
    synthesis = getattr(generator, "synthesis", None)
    if synthesis is None:
        raise ValueError("coarse_lr_multiplier applies to a generator with a synthesis network")
    return {
        int(key): [*block.parameters(), *synthesis.to_rgb[key].parameters()]
        for key, block in synthesis.blocks.items()
    }


def parameter_groups(
    network: nn.Module, noise_lr_multiplier: float = 1.0, coarse_lr_multiplier: float = 1.0
) -> list[dict[str, Any]]:
    """Optimizer groups of ``network``: one when both multipliers are 1 (so optimizer states
    of earlier checkpoints stay loadable); else the noise strengths apart at their multiplier
    and, for a coarse multiplier, one group per synthesis block tagged with its resolution
    (the rest of G, the mapping network, tagged ``None``)."""
    params = list(network.parameters())
    noise_ids = {id(p) for p in noise_strengths(network)} if noise_lr_multiplier != 1.0 else set()
    parts: list[tuple[int | None, list[nn.Parameter]]] = [(None, params)]
    if coarse_lr_multiplier != 1.0:
        levels = _synthesis_levels(network)
        in_levels = {id(p) for level in levels.values() for p in level}
        parts = [(None, [p for p in params if id(p) not in in_levels]), *levels.items()]
    groups: list[dict[str, Any]] = []
    for resolution, part in parts:
        tags = {} if coarse_lr_multiplier == 1.0 else {
            "resolution": resolution, "coarse_lr_multiplier": coarse_lr_multiplier,
        }  # fmt: skip
        for multiplier, members in (
            (1.0, [p for p in part if id(p) not in noise_ids]),
            (noise_lr_multiplier, [p for p in part if id(p) in noise_ids]),
        ):
            if members:
                groups.append({"params": members, "lr_multiplier": multiplier, **tags})
    return groups


def set_learning_rate(
    optimizers: Iterable[torch.optim.Optimizer], lr: float, resolution: int | None = None
) -> None:
    """Give every group ``lr`` times its ``lr_multiplier`` (1 where a group has none), and
    times its ``coarse_lr_multiplier`` where its block lies :data:`COARSE_OCTAVES` or more
    octaves below ``resolution``, the resolution being trained (``None``: no group is coarse).
    """
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            rate = lr * group.get("lr_multiplier", 1.0)
            if is_coarse(group.get("resolution"), resolution):
                rate *= group.get("coarse_lr_multiplier", 1.0)
            group["lr"] = rate


GROUP_SETTINGS: tuple[tuple[str, object], ...] = (
    ("lr_multiplier", 1.0), ("resolution", None), ("coarse_lr_multiplier", 1.0),
)  # fmt: skip
"""The keys :func:`parameter_groups` sets beside ``params``, with their value where absent."""


def _group_layout(groups: Sequence[Mapping[str, Any]]) -> list[tuple[object, ...]]:
    """Per group: its number of tensors and its :data:`GROUP_SETTINGS`."""
    return [
        (len(group["params"]), *(group.get(key, absent) for key, absent in GROUP_SETTINGS))
        for group in groups
    ]


def check_saved_groups(
    saved: Mapping[str, Any], groups: Sequence[Mapping[str, Any]], network: str
) -> None:
    """Refuse an optimizer state saved with other groups than ``groups``: another layout
    would fail in Adam's own loader with a message that names neither, and other multipliers
    in the same layout would be restored silently over the config's (Adam's loader keeps a
    saved group's settings).

    Raises:
        CheckpointError: naming the network and both groups' (tensors, multiplier,
            block resolution, coarse multiplier).
    """
    had = _group_layout(saved.get("param_groups", []))
    want = _group_layout(groups)
    if had != want:
        raise CheckpointError(
            f"the checkpoint's {network} optimizer has parameter groups (tensors, "
            f"lr_multiplier, resolution, coarse_lr_multiplier) {had}, this config's {want}: "
            "model.noise_lr_multiplier or model.coarse_lr_multiplier differs from the run "
            "that wrote it (resume with that run's values)"
        )


def is_coarse(block: int | None, resolution: int | None) -> bool:
    """Whether G's block at ``block`` px (``None``: not a synthesis block) lies
    :data:`COARSE_OCTAVES` or more octaves below the trained ``resolution``."""
    return block is not None and resolution is not None and block << COARSE_OCTAVES <= resolution


__all__ = [
    "COARSE_OCTAVES", "check_saved_groups", "is_coarse", "noise_strengths", "parameter_groups",
    "set_learning_rate",
]  # fmt: skip
