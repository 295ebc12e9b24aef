"""A small StyleGAN trained briefly on the synthetic faces, saved as a real checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch

from stylegan_lit.callbacks import ProgressiveGrowing
from stylegan_lit.data.datamodule import FaceDataModule
from stylegan_lit.models import Discriminator, Generator
from stylegan_lit.training import StyleGANModule
from tests.training.helpers import tiny_trainer

NET = dict(resolution=16, fmap_base=256, fmap_max=32)


def train_checkpoint(root: Path, level_kimg: float = 0.512, seed: int = 0) -> Path:
    """8 px, fade to 16 px, 16 px: ``level_kimg`` each, batch 16; returns ``model.ckpt``.

    About 30 s on two CPU cores at the default length: enough for the generator to
    place faces, hats and backgrounds, which the editing test needs.
    """
    torch.manual_seed(seed)
    G = Generator(z_dim=32, w_dim=32, mapping_layers=4, **NET)
    D = Discriminator(**NET)
    module = StyleGANModule(G, D, r1_interval=16, ema_half_life_kimg=0.2, seed=seed)
    growth = ProgressiveGrowing(
        start_resolution=8,
        stable_kimg=level_kimg,
        fade_kimg=level_kimg,
        total_kimg=3 * level_kimg,
        batch_sizes={8: 16, 16: 16},
        base_lr=0.002,
    )
    data = FaceDataModule(source="synthetic", resolution=16, num_images=4096, seed=seed)
    trainer = tiny_trainer(root, [growth])
    trainer.fit(module, datamodule=data)
    path = root / "model.ckpt"
    trainer.save_checkpoint(path)
    return path
