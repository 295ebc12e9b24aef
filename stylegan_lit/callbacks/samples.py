"""Fixed-latent sample grids and a style-mixing grid from the EMA generator, saved to disk and
sent to the logger."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_only

from stylegan_lit.callbacks.steps import as_stylegan, crossed_multiple, logging_step
from stylegan_lit.generate.images import grid_pixels, to_pil
from stylegan_lit.generate.mixing import (
    MixingFigure,
    StyleRange,
    assign_ranges,
    style_mixing,
    style_ranges,
)
from stylegan_lit.generate.options import RenderOptions
from stylegan_lit.generate.sampling import DEFAULT_OPTIONS, render_latents
from stylegan_lit.generate.seeds import check_seeds
from stylegan_lit.training.module import StyleGANModule


def sample_grid_pixels(images: torch.Tensor, nrow: int | None = None) -> np.ndarray:
    """The psi grids' layout: ``nrow`` (default ``floor(sqrt(N))``) images per row, black
    1 px borders; uint8 [H', W', C] (see :func:`~stylegan_lit.generate.images.grid_pixels`)."""
    nrow = nrow or max(math.isqrt(images.shape[0]), 1)
    return grid_pixels(images, ncols=nrow, pad_value=0)


def logged_image(pixels: np.ndarray) -> torch.Tensor:
    """uint8 [H, W, C] -> floats in [0, 1] [C, H, W], the form the loggers take: what is
    logged is exactly what is saved."""
    return torch.from_numpy(pixels).permute(2, 0, 1).float().div(255)


def images_to_grid(images: torch.Tensor, nrow: int | None = None) -> torch.Tensor:
    """Images in [-1, 1] [N, C, H, W] -> one grid in [0, 1] [C, H', W'], as logged."""
    return logged_image(sample_grid_pixels(images, nrow))


def training_options(pl_module: StyleGANModule, settings: RenderOptions) -> RenderOptions:
    """``settings`` (truncation, noise, batch size) at the module's current resolution,
    fade-in alpha and device: how G_ema renders while it trains."""
    return replace(
        settings,
        resolution=pl_module.resolution,
        alpha=pl_module.alpha,
        device=pl_module.device,
    )


def style_mixing_grid(
    pl_module: StyleGANModule,
    row_seeds: Sequence[int],
    col_seeds: Sequence[int],
    settings: RenderOptions = DEFAULT_OPTIONS,
) -> tuple[MixingFigure, list[StyleRange]]:
    """The paper's style-mixing figure (figure 3) from the module's G_ema, as it trains now.

    The coarse, middle and fine ranges are those of the resolution being trained (the
    module's ``resolution``, from its image count), not of the full network: layers above it
    are not in use yet, so at 8 px there are only coarse (4 px) and fine (8 px) styles. Rows
    are spread over the ranges in order (:func:`~stylegan_lit.generate.mixing.assign_ranges`),
    and the images render at the current resolution and fade-in ``alpha``
    (:func:`training_options`) with ``settings``' truncation and noise (const by default), as
    ``stylegan-lit generate
    --figure mixing`` renders a checkpoint.

    Returns:
        The figure (cell (r, k): row seed r with ``layers[r]`` taken from column seed k) and
        the style range of each row.
    """
    options = training_options(pl_module, settings)
    layout = assign_ranges(
        style_ranges(options.resolution_for(pl_module.generator_ema)), len(row_seeds)
    )
    figure = style_mixing(pl_module.generator_ema, row_seeds, col_seeds, layout, options)
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
        options = training_options(pl_module, self._settings())
        for psi in (1.0, self.truncation_psi):
            images = render_latents(
                pl_module.generator_ema, z, replace(options, truncation_psi=psi)
            )
            path = directory / f"kimg{kimg:08.1f}-psi{psi:g}.png"
            caption = f"kimg {kimg:.1f}"
            self._publish(trainer, sample_grid_pixels(images), path, f"samples/psi{psi:g}", caption)
        if self.mixing_grid:
            self._render_mixing(trainer, pl_module, directory, kimg)

    def _settings(self) -> RenderOptions:
        """The truncated grids' settings (the module supplies resolution, alpha, device)."""
        return RenderOptions(
            truncation_psi=self.truncation_psi, truncation_cutoff=self.truncation_cutoff
        )

    def _render_mixing(
        self, trainer: pl.Trainer, pl_module: StyleGANModule, directory: Path, kimg: float
    ) -> None:
        figure, layout = style_mixing_grid(
            pl_module, self.mixing_row_seeds, self.mixing_col_seeds, self._settings()
        )
        path = directory / f"kimg{kimg:08.1f}-mixing.png"
        rows = ", ".join(
            f"{len(list(group))} x {style}" for style, group in itertools.groupby(layout)
        )
        caption = f"kimg {kimg:.1f}, {int(pl_module.resolution)} px; rows: {rows}"
        self._publish(trainer, grid_pixels(figure.grid()), path, "samples/style_mixing", caption)

    def _publish(
        self, trainer: pl.Trainer, pixels: np.ndarray, path: Path, key: str, caption: str
    ) -> None:
        """Save a grid's pixels as PNG and send the same pixels to the loggers."""
        to_pil(pixels).save(path)
        self.written.append(path)
        self._send_to_logger(trainer, logged_image(pixels), key, caption)

    @staticmethod
    def _send_to_logger(trainer: pl.Trainer, grid: torch.Tensor, key: str, caption: str) -> None:
        step = logging_step(trainer)
        for logger in trainer.loggers:
            experiment = getattr(logger, "experiment", None)
            if hasattr(logger, "log_image"):  # WandbLogger
                logger.log_image(key=key, images=[grid], step=step, caption=[caption])
            elif experiment is not None and hasattr(experiment, "add_image"):  # TensorBoard
                experiment.add_image(key, grid, global_step=step)
