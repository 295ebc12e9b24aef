"""The fade-in callback: drives progressive growing from the number of images seen."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.utilities import rank_zero_info

from stylegan_lit.callbacks.steps import as_stylegan
from stylegan_lit.training.module import StyleGANModule
from stylegan_lit.training.optim import set_learning_rate
from stylegan_lit.training.schedule import BASE_LEARNING_RATE, Phase, ProgressiveSchedule


class ProgressiveGrowing(pl.Callback):
    """Drive progressive growing from the module's one counter, ``images_seen``.

    At setup it builds the :class:`ProgressiveSchedule` (once, for G's resolution) and
    attaches it to the module, which from then on derives its resolution and fade-in alpha
    from its image count. Before every batch this callback sets the learning rate of the
    phase and resets both optimizers whenever the network's structure changes (the floor or
    ceiling of the official lod), as the official code does. Each level is one epoch: at its
    start the data module is told the level's resolution, per-rank batch and image span
    (``reload_dataloaders_every_n_epochs=1`` rebuilds the loader), resuming mid-level at the
    image count. Training stops at ``total_kimg``. Nothing here is saved in checkpoints: all of
    it follows from the image count.

    Args:
        start_resolution: First resolution; ``None``: the final one (one resolution, no
            growing: what fine-tuning from ``model.init_from`` needs).
        final_resolution: Last resolution (G's and D's resolution if ``None``).
        stable_kimg: Thousands of images stable per level.
        fade_kimg: Thousands of images of fade-in per level.
        total_kimg: Length of training.
        batch_sizes: GLOBAL batch per resolution (all ranks together, as in the paper).
        learning_rates: Learning rate per resolution.
        base_lr: Learning rate where ``learning_rates`` has no entry.
        lr_rampdown_kimg: Thousands of images at the end of training over which the learning
            rate falls along a half cosine to zero (0: none, as officially; a deviation for
            short runs, see :mod:`stylegan_lit.training.schedule`).
        reset_optimizers: Reset Adam's state at each structure change (official behaviour).
    """

    def __init__(
        self,
        start_resolution: int | None = 8,
        final_resolution: int | None = None,
        stable_kimg: float = 600.0,
        fade_kimg: float = 600.0,
        total_kimg: float = 25_000.0,
        batch_sizes: Mapping[int, int] | None = None,
        learning_rates: Mapping[int, float] | None = None,
        base_lr: float = BASE_LEARNING_RATE,
        lr_rampdown_kimg: float = 0.0,
        reset_optimizers: bool = True,
    ) -> None:
        super().__init__()
        self._schedule_args: dict[str, Any] = dict(
            start_resolution=start_resolution,
            stable_kimg=stable_kimg,
            fade_kimg=fade_kimg,
            total_kimg=total_kimg,
            batch_sizes=batch_sizes,
            learning_rates=learning_rates,
            base_lr=base_lr,
            lr_rampdown_kimg=lr_rampdown_kimg,
        )
        self.final_resolution = final_resolution
        self.reset_optimizers = reset_optimizers
        self.schedule: ProgressiveSchedule | None = None
        self.optimizer_resets = 0
        """Resets done by this process (a statistic, not saved)."""

    def build_schedule(self, final_resolution: int) -> ProgressiveSchedule:
        """Build (and validate) the schedule for a generator of ``final_resolution``.

        Raises:
            ValueError: naming the offending field, for any invalid schedule setting.
        """
        if self.final_resolution is not None and self.final_resolution > final_resolution:
            raise ValueError(
                f"final_resolution {self.final_resolution} exceeds the generator's "
                f"resolution {final_resolution}"
            )
        final = final_resolution if self.final_resolution is None else self.final_resolution
        args = dict(self._schedule_args)
        if args["start_resolution"] is None:
            args["start_resolution"] = final
        self.schedule = ProgressiveSchedule(final_resolution=final, **args)
        return self.schedule

    # ------------------------------------------------------------------ hooks
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        module = as_stylegan(pl_module, self)
        schedule = self.build_schedule(module.generator.resolution)
        if (
            module.hp.init_from is not None
            and schedule.start_resolution < schedule.final_resolution
        ):
            raise ValueError(
                f"model.init_from fine-tunes at the full resolution, but progressive."
                f"start_resolution is {schedule.start_resolution} (final "
                f"{schedule.final_resolution}): set progressive.start_resolution: null"
            )
        for res in schedule.resolutions:
            if schedule.batch_sizes[res] % trainer.world_size:
                raise ValueError(
                    f"batch_sizes[{res}] = {schedule.batch_sizes[res]} (global) is not "
                    f"divisible by the {trainer.world_size} processes"
                )
        module.schedule = schedule

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        module = as_stylegan(pl_module, self)
        assert self.schedule is not None
        rank_zero_info(f"Progressive schedule (global batch):\n{self.schedule.describe()}")
        # The epoch Lightning resumes is the one that trained the last batch; when that batch
        # ended its level, the stream is used up and the next epoch starts the next level.
        last_trained = max(module.images_seen - 1, 0)
        self._configure_stream(trainer, module, self.schedule.stream_level(last_trained))
        if module.images_seen >= self.schedule.total_images:
            trainer.should_stop = True

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        module = as_stylegan(pl_module, self)
        assert self.schedule is not None
        phase = self.schedule.phase(module.images_seen)
        previous = self.schedule.phase(module.last_batch_start())
        if self.reset_optimizers and _lod_bounds(phase) != _lod_bounds(previous):
            for optimizer in trainer.optimizers:
                optimizer.state.clear()
            self.optimizer_resets += 1
        set_learning_rate(trainer.optimizers, phase.learning_rate, phase.resolution)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        assert self.schedule is not None
        if as_stylegan(pl_module, self).images_seen >= self.schedule.total_images:
            trainer.should_stop = True

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        module = as_stylegan(pl_module, self)
        assert self.schedule is not None
        if module.images_seen < self.schedule.total_images:
            self._configure_stream(trainer, module, self.schedule.stream_level(module.images_seen))

    # ------------------------------------------------------------------ helpers
    def _configure_stream(self, trainer: pl.Trainer, module: StyleGANModule, level: int) -> None:
        """Tell the data module what the coming epoch (``level``) serves, from where."""
        assert self.schedule is not None
        resolution = self.schedule.resolutions[level]
        start = self.schedule.stream_start(level)
        datamodule = trainer.datamodule  # type: ignore[attr-defined]  # a Trainer property
        if datamodule is None or not hasattr(datamodule, "set_stream"):
            raise TypeError("ProgressiveGrowing needs a data module with set_stream()")
        stop = max(self.schedule.level_stop(level), start)
        datamodule.set_stream(
            resolution=resolution,
            batch_size=self.schedule.batch_sizes[resolution] // trainer.world_size,
            start_image=start,
            # Full batches can overshoot the last level's end: then the stream is empty.
            stop_image=stop,
            resume_image=max(module.images_seen, start),
        )


def _lod_bounds(phase: Phase) -> tuple[int, int]:
    """The official lod's floor and ceiling: the network's structure."""
    return math.floor(phase.lod), math.ceil(phase.lod)
