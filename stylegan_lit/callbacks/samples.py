"""Fixed-latent sample grids from the EMA generator, saved to disk and sent to the logger."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities import rank_zero_only
from torchvision.utils import make_grid, save_image

from stylegan_lit.training.module import StyleGANModule


def images_to_grid(images: torch.Tensor, nrow: int | None = None) -> torch.Tensor:
    """Images in [-1, 1] [N, C, H, W] -> one grid in [0, 1] [C, H', W'] (clamped)."""
    nrow = nrow or max(int(math.sqrt(images.shape[0])), 1)
    return make_grid(images.float().clamp(-1, 1).add(1).div(2), nrow=nrow, padding=1)


class SampleGrids(pl.Callback):
    """Every ``every_kimg``, render the same latents with G_ema and save/log a grid.

    Two grids are written: without truncation and with ``truncation_psi`` (cutoff
    ``truncation_cutoff``), to ``<run dir>/samples/kimg<kimg>-<psi>.png``; a final pair at the
    end of training. Only rank 0 renders.

    Args:
        every_kimg: Interval in thousands of images.
        num_samples: Images per grid.
        truncation_psi: Truncation of the second grid (0.7 as in the paper's figures).
        truncation_cutoff: Layers truncated (8 officially; ``None`` for all).
        seed: Seed of the fixed latents.
        directory: Where grids go (default: the trainer's log dir or root dir + ``samples``).
    """

    def __init__(
        self,
        every_kimg: float = 50.0,
        num_samples: int = 16,
        truncation_psi: float = 0.7,
        truncation_cutoff: int | None = 8,
        seed: int = 123,
        directory: str | None = None,
    ) -> None:
        super().__init__()
        if every_kimg <= 0 or num_samples < 1:
            raise ValueError("every_kimg must be positive and num_samples at least 1")
        self.every_images = round(every_kimg * 1000)
        self.num_samples = num_samples
        self.truncation_psi = truncation_psi
        self.truncation_cutoff = truncation_cutoff
        self.seed = seed
        self.directory = directory
        self.next_at = 0
        self.written: list[Path] = []

    def state_dict(self) -> dict[str, Any]:
        return {"next_at": self.next_at}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.next_at = int(state_dict["next_at"])

    def _directory(self, trainer: pl.Trainer) -> Path:
        if self.directory is not None:
            return Path(self.directory)
        return Path(trainer.log_dir or trainer.default_root_dir) / "samples"

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        images_seen = int(pl_module.images_seen)  # type: ignore[arg-type]
        if images_seen >= self.next_at:
            self.next_at = (images_seen // self.every_images + 1) * self.every_images
            self.render(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.render(trainer, pl_module)

    @rank_zero_only
    def render(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Render and save both grids now."""
        if not isinstance(pl_module, StyleGANModule):
            raise TypeError("SampleGrids needs a StyleGANModule")
        generator = torch.Generator().manual_seed(self.seed)
        z = torch.randn(self.num_samples, pl_module.generator.z_dim, generator=generator)
        directory = self._directory(trainer)
        directory.mkdir(parents=True, exist_ok=True)
        kimg = pl_module.kimg
        for psi in (1.0, self.truncation_psi):
            images = pl_module.sample(
                z, truncation_psi=psi, truncation_cutoff=self.truncation_cutoff
            )
            grid = images_to_grid(images)
            path = directory / f"kimg{kimg:08.1f}-psi{psi:g}.png"
            save_image(grid, path)
            self.written.append(path)
            self._send_to_logger(trainer, grid, f"samples/psi{psi:g}", kimg)

    @staticmethod
    def _send_to_logger(trainer: pl.Trainer, grid: torch.Tensor, key: str, kimg: float) -> None:
        for logger in trainer.loggers:
            experiment = getattr(logger, "experiment", None)
            if hasattr(logger, "log_image"):  # WandbLogger
                logger.log_image(
                    key=key, images=[grid], step=trainer.global_step, caption=[f"kimg {kimg:.1f}"]
                )
            elif experiment is not None and hasattr(experiment, "add_image"):  # TensorBoard
                experiment.add_image(key, grid, global_step=trainer.global_step)
