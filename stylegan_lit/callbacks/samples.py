"""Fixed-latent sample grids and a style-mixing grid from the EMA generator, saved to disk and
sent to the logger."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities import rank_zero_only
from torchvision.utils import make_grid, save_image

from stylegan_lit.callbacks.steps import as_stylegan, crossed_multiple, logging_step
from stylegan_lit.generate.images import grid_pixels, to_pil
from stylegan_lit.generate.mixing import (
    MixingFigure,
    StyleRange,
    assign_ranges,
    style_mixing,
    style_ranges,
)
from stylegan_lit.generate.seeds import check_seeds
from stylegan_lit.training.module import StyleGANModule


def images_to_grid(images: torch.Tensor, nrow: int | None = None) -> torch.Tensor:
    """Images in [-1, 1] [N, C, H, W] -> one grid in [0, 1] [C, H', W'] (clamped)."""
    nrow = nrow or max(int(math.sqrt(images.shape[0])), 1)
    return make_grid(images.float().clamp(-1, 1).add(1).div(2), nrow=nrow, padding=1)


def style_mixing_grid(
    pl_module: StyleGANModule,
    row_seeds: Sequence[int],
    col_seeds: Sequence[int],
    *,
    truncation_psi: float = 1.0,
    truncation_cutoff: int | None = None,
) -> tuple[MixingFigure, list[StyleRange]]:
    """The paper's style-mixing figure (figure 3) from the module's G_ema, as it trains now.

    The coarse, middle and fine ranges are those of the resolution being trained (its
    ``resolution`` buffer), not of the full network: layers above it are not in use yet, so
    at 8 px there are only coarse (4 px) and fine (8 px) styles. Rows are spread over the
    ranges in order (:func:`~stylegan_lit.generate.mixing.assign_ranges`), and the images
    render at the current resolution and fade-in ``alpha`` with constant noise, as
    ``stylegan-lit generate --figure mixing`` renders a checkpoint.

    Returns:
        The figure (cell (r, k): row seed r with ``layers[r]`` taken from column seed k) and
        the style range of each row.
    """
    resolution = int(pl_module.resolution)
    layout = assign_ranges(style_ranges(resolution), len(row_seeds))
    figure = style_mixing(
        pl_module.generator_ema,
        row_seeds,
        col_seeds,
        layout,
        truncation_psi=truncation_psi,
        truncation_cutoff=truncation_cutoff,
        resolution=resolution,
        alpha=float(pl_module.alpha),
        device=pl_module.device,
    )
    return figure, layout


class SampleGrids(pl.Callback):
    """Every ``every_kimg``, render fixed latents with G_ema and save/log grids.

    Judging a GAN run means looking at its samples as it trains, so the same latents are
    rendered each time (changes come from training, not from the draw):

    - ``<dir>/kimg<kimg>-psi1.png`` and ``-psi<truncation_psi>.png``: ``num_samples`` images
      without and with truncation (cutoff ``truncation_cutoff``), logged as ``samples/psi1``
      and ``samples/psi<psi>``;
    - ``<dir>/kimg<kimg>-mixing.png`` (with ``mixing_grid``): the paper's style-mixing
      figure, logged as ``samples/style_mixing``. The top row holds the ``mixing_col_seeds``
      sources and the left column the ``mixing_row_seeds`` sources; each cell is its row's
      image with one range of styles (coarse, middle or fine, rows spread over them in
      order) copied from its column's image, the layout of the official
      ``generate_figures.py`` and of ``stylegan-lit generate --figure mixing`` (so a
      checkpoint's figure from that command matches the logged one). Ranges follow the
      resolution being trained (see :func:`style_mixing_grid`); the truncation is the
      second grid's.

    A fresh run renders its starting point before the first step; a final set is written at
    the end of training. When it renders follows from the module's image count alone, so
    nothing of it is saved in checkpoints. Only rank 0 renders. Images go to
    ``WandbLogger.log_image`` (with the kimg as caption) or TensorBoard's ``add_image``, at
    the step of the module's losses (:func:`~stylegan_lit.callbacks.steps.logging_step`).

    Args:
        every_kimg: Interval in thousands of images.
        num_samples: Images per grid.
        truncation_psi: Truncation of the second grid and the mixing grid (0.7 as in the
            paper's figures).
        truncation_cutoff: Layers truncated (8 officially; ``None`` for all).
        seed: Seed of the fixed latents.
        directory: Where grids go (default ``<trainer.default_root_dir>/samples``, so runs
            with different root dirs never overwrite each other's grids).
        mixing_grid: Also render the style-mixing grid.
        mixing_row_seeds: Seeds down the left of the mixing grid (they give the styles not
            copied); the official figure has six rows.
        mixing_col_seeds: Seeds along its top (they give the copied styles); five columns.
    """

    def __init__(
        self,
        every_kimg: float = 50.0,
        num_samples: int = 16,
        truncation_psi: float = 0.7,
        truncation_cutoff: int | None = 8,
        seed: int = 123,
        directory: str | None = None,
        mixing_grid: bool = True,
        mixing_row_seeds: Sequence[int] = (0, 1, 2, 3, 4, 5),
        mixing_col_seeds: Sequence[int] = (6, 7, 8, 9, 10),
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
        self.mixing_grid = mixing_grid
        self.mixing_row_seeds = check_seeds(mixing_row_seeds)
        self.mixing_col_seeds = check_seeds(mixing_col_seeds)
        self.written: list[Path] = []

    def _directory(self, trainer: pl.Trainer) -> Path:
        if self.directory is not None:
            return Path(self.directory)
        return Path(trainer.default_root_dir) / "samples"

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if crossed_multiple(as_stylegan(pl_module, self), self.every_images):
            self.render(trainer, pl_module)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if as_stylegan(pl_module, self).images_seen == 0:
            self.render(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.render(trainer, pl_module)

    @rank_zero_only
    def render(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Render, save and log all grids now."""
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
            self._send_to_logger(trainer, grid, f"samples/psi{psi:g}", f"kimg {kimg:.1f}")
        if self.mixing_grid:
            self._render_mixing(trainer, pl_module, directory, kimg)

    def _render_mixing(
        self, trainer: pl.Trainer, pl_module: StyleGANModule, directory: Path, kimg: float
    ) -> None:
        figure, layout = style_mixing_grid(
            pl_module,
            self.mixing_row_seeds,
            self.mixing_col_seeds,
            truncation_psi=self.truncation_psi,
            truncation_cutoff=self.truncation_cutoff,
        )
        pixels = grid_pixels(figure.grid())
        path = directory / f"kimg{kimg:08.1f}-mixing.png"
        to_pil(pixels).save(path)
        self.written.append(path)
        # The logged image is the saved one: uint8 HWC -> float CHW in [0, 1].
        grid = torch.from_numpy(pixels).permute(2, 0, 1).float().div(255)
        rows = ", ".join(
            f"{len(list(group))} x {style}" for style, group in itertools.groupby(layout)
        )
        caption = f"kimg {kimg:.1f}, {int(pl_module.resolution)} px; rows: {rows}"
        self._send_to_logger(trainer, grid, "samples/style_mixing", caption)

    @staticmethod
    def _send_to_logger(trainer: pl.Trainer, grid: torch.Tensor, key: str, caption: str) -> None:
        step = logging_step(trainer)
        for logger in trainer.loggers:
            experiment = getattr(logger, "experiment", None)
            if hasattr(logger, "log_image"):  # WandbLogger
                logger.log_image(key=key, images=[grid], step=step, caption=[caption])
            elif experiment is not None and hasattr(experiment, "add_image"):  # TensorBoard
                experiment.add_image(key, grid, global_step=step)
