"""Imported official networks as a stylegan_lit checkpoint.

The file has what :mod:`stylegan_lit.checkpoints` reads (``generate``, ``eval``) and what
``fit`` with ``model.init_from`` starts a fine-tuning run from: ``state_dict`` with
``generator.*``, ``generator_ema.*`` and ``discriminator.*``, and the ``stylegan_lit`` entry
(:mod:`stylegan_lit.checkpoint_format`). It has no optimizer or loop state, so it is not a
Lightning checkpoint to resume (``fit --ckpt_path`` refuses it, pointing at ``init_from``).

Its image count is where the official progressive schedule (8 px start, 600 + 600 kimg per
level) sits at the final resolution with alpha 1, and that schedule is stored with it, so
readers render at full resolution. The entry's ``imported`` dict records the source file, the
official default truncation of ``Gs`` and which layers were fused.

A file without ``G`` gets a copy of ``Gs`` as G; one without ``D`` gets a freshly initialised
D (fine-tuning then trains D from scratch). Both are said in ``notes``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch

from stylegan_lit.checkpoint_format import META_KEY, write_meta
from stylegan_lit.interop.official import OfficialNetworks
from stylegan_lit.models import Discriminator

IMPORTED_KEY = "imported"
"""Key, inside the ``stylegan_lit`` entry, of what the import recorded."""


def full_resolution_point(resolution: int) -> tuple[dict[str, Any], int]:
    """The official default schedule for ``resolution`` and the image count at which it has
    finished fading in the final resolution (alpha 1)."""
    # Imported here: the schedule module is light, but its package imports Lightning.
    from stylegan_lit.training.schedule import ProgressiveSchedule

    schedule = ProgressiveSchedule(start_resolution=min(8, resolution), final_resolution=resolution)
    last = schedule.num_levels - 1
    images = 0 if last == 0 else schedule.level_start(last) + schedule.fade_images
    return schedule.config, images


def official_checkpoint(nets: OfficialNetworks) -> tuple[dict[str, Any], list[str]]:
    """The checkpoint dict for ``nets`` and notes about what had to be filled in."""
    notes: list[str] = []
    g_ema = nets.G_ema if nets.G_ema is not None else nets.G
    g = nets.G if nets.G is not None else nets.G_ema
    assert g is not None and g_ema is not None
    if nets.G is None:
        notes.append("the file holds no G: G is a copy of Gs")
    if nets.G_ema is None:
        notes.append("the file holds no Gs: G_ema is a copy of G")
    d = nets.D
    if d is None:
        config = nets.generator_config
        d = Discriminator(
            resolution=config["resolution"],
            fmap_base=config["fmap_base"],
            fmap_max=config["fmap_max"],
            img_channels=config["img_channels"],
        )
        notes.append("the file holds no D: D is freshly initialised (official D_basic defaults)")
    state: dict[str, torch.Tensor] = {}
    for prefix, network in (("generator", g), ("generator_ema", g_ema), ("discriminator", d)):
        for key, value in copy.deepcopy(network).float().state_dict().items():
            state[f"{prefix}.{key}"] = value.contiguous()
    checkpoint: dict[str, Any] = {"state_dict": state}
    schedule, images_seen = full_resolution_point(nets.resolution)
    write_meta(checkpoint, g, d, images_seen=images_seen, schedule=schedule)
    checkpoint[META_KEY][IMPORTED_KEY] = {
        "source": Path(nets.source).name,
        "truncation_psi": nets.truncation_psi,
        "truncation_cutoff": nets.truncation_cutoff,
        "fused_up_resolutions": list(nets.fused_up_resolutions),
        "fused_down_resolutions": list(nets.fused_down_resolutions),
        "notes": list(notes),
    }
    return checkpoint, notes


def save_official_checkpoint(nets: OfficialNetworks, path: str | Path) -> list[str]:
    """Write ``nets`` as a checkpoint at ``path``; returns the notes."""
    checkpoint, notes = official_checkpoint(nets)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)
    return notes


__all__ = [
    "IMPORTED_KEY",
    "full_resolution_point",
    "official_checkpoint",
    "save_official_checkpoint",
]
