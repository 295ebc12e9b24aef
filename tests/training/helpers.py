"""Tiny end-to-end training setups shared by the training tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from stylegan_lit.callbacks import ProgressiveGrowing
from stylegan_lit.cli.train import TRAINER_DEFAULTS
from stylegan_lit.data.datamodule import FaceDataModule
from stylegan_lit.models import Discriminator, Generator
from stylegan_lit.training import OFFICIAL_BATCH_SIZES_8GPU, ProgressiveSchedule, StyleGANModule

TINY_NET = dict(resolution=16, fmap_base=64, fmap_max=16)


def tiny_module(init_seed: int = 0, mbstd_group_size: int = 4, **kwargs: Any) -> StyleGANModule:
    """A small module whose initial weights depend only on ``init_seed``."""
    torch.manual_seed(init_seed)
    G = Generator(z_dim=16, w_dim=16, mapping_layers=2, **TINY_NET)
    D = Discriminator(mbstd_group_size=mbstd_group_size, **TINY_NET)
    return StyleGANModule(G, D, **{"r1_interval": 4, "ema_half_life_kimg": 0.1, **kwargs})


def tiny_growth(total_kimg: float = 0.128, **kwargs: Any) -> ProgressiveGrowing:
    """8 px for 32 images, fade to 16 px over 32 images, then stable: batch 8."""
    return ProgressiveGrowing(
        start_resolution=8,
        stable_kimg=0.032,
        fade_kimg=0.032,
        total_kimg=total_kimg,
        batch_sizes={8: 8, 16: 8},
        **kwargs,
    )


def place_at(module: StyleGANModule, resolution: int, alpha: float = 1.0) -> StyleGANModule:
    """Attach a schedule (8 px up, 1 kimg stable and 1 kimg fade per level) and set the image
    count where it trains ``resolution`` at ``alpha``: a module as a run leaves it there."""
    schedule = ProgressiveSchedule(
        start_resolution=8,
        final_resolution=module.generator.resolution,
        stable_kimg=1,
        fade_kimg=1,
        total_kimg=100,
        batch_sizes=dict.fromkeys(OFFICIAL_BATCH_SIZES_8GPU, 1),
    )
    level = schedule.resolutions.index(resolution)
    if level == 0 and alpha != 1.0:
        raise ValueError("the first level does not fade in")
    module.schedule = schedule
    module.images_seen = 0 if level == 0 else schedule.level_start(level) + round(alpha * 1000)
    assert (module.resolution, module.alpha) == (resolution, alpha)
    return module


def tiny_data(**kwargs: Any) -> FaceDataModule:
    return FaceDataModule(**{"source": "synthetic", "resolution": 16, "num_images": 64, **kwargs})


def tiny_trainer(root: Path, callbacks: list[pl.Callback], **kwargs: Any) -> pl.Trainer:
    options = {
        **TRAINER_DEFAULTS,
        "default_root_dir": str(root),
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "deterministic": True,
        **kwargs,
    }
    return pl.Trainer(callbacks=callbacks, **options)
