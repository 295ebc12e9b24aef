"""The fade-in callback: drives progressive growing from the number of images seen."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.utilities import rank_zero_info

from stylegan_lit.training.module import StyleGANModule
from stylegan_lit.training.schedule import Phase, ProgressiveSchedule


class ProgressiveGrowing(pl.Callback):
    """Advance resolution and alpha from the images seen across all ranks.

    Before every batch it evaluates the schedule at the module's ``images_seen`` and sets the
    module's resolution, alpha and learning rate; it resets both optimizers whenever the
    network's structure changes (the floor or ceiling of the official lod), as the official
    code does. Each level is one epoch: at an epoch's end it tells the data module the next
    level's resolution, per-rank batch and image range, and Lightning rebuilds the loader
    (``reload_dataloaders_every_n_epochs=1``). Training stops at ``total_kimg``.

    Args:
        start_resolution: First resolution.
        final_resolution: Last resolution (G's and D's resolution if ``None``).
        stable_kimg: Thousands of images stable per level.
        fade_kimg: Thousands of images of fade-in per level.
        total_kimg: Length of training.
        batch_sizes: GLOBAL batch per resolution (all ranks together, as in the paper).
        learning_rates: Learning rate per resolution.
        base_lr: Learning rate where ``learning_rates`` has no entry.
        reset_optimizers: Reset Adam's state at each structure change (official behaviour).
    """

    def __init__(
        self,
        start_resolution: int = 8,
        final_resolution: int | None = None,
        stable_kimg: float = 600.0,
        fade_kimg: float = 600.0,
        total_kimg: float = 25_000.0,
        batch_sizes: Mapping[int, int] | None = None,
        learning_rates: Mapping[int, float] | None = None,
        base_lr: float = 0.001,
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
        )
        self.final_resolution = final_resolution
        self.reset_optimizers = reset_optimizers
        self.schedule: ProgressiveSchedule | None = None
        if final_resolution is not None:
            self.schedule = ProgressiveSchedule(
                final_resolution=final_resolution, **self._schedule_args
            )
        self.stream_start = 0
        self.lod_bounds: tuple[int, int] | None = None
        self.optimizer_resets = 0

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {
            "stream_start": self.stream_start,
            "lod_bounds": self.lod_bounds,
            "optimizer_resets": self.optimizer_resets,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.stream_start = int(state_dict["stream_start"])
        bounds = state_dict.get("lod_bounds")
        self.lod_bounds = None if bounds is None else (int(bounds[0]), int(bounds[1]))
        self.optimizer_resets = int(state_dict.get("optimizer_resets", 0))

    # ------------------------------------------------------------------ helpers
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
        self.schedule = ProgressiveSchedule(final_resolution=final, **self._schedule_args)
        return self.schedule

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        schedule = self.build_schedule(_as_stylegan(pl_module).generator.resolution)
        for res in schedule.resolutions:
            if schedule.batch_sizes[res] % trainer.world_size:
                raise ValueError(
                    f"batch_sizes[{res}] = {schedule.batch_sizes[res]} (global) is not "
                    f"divisible by the {trainer.world_size} processes"
                )

    def phase(self, pl_module: pl.LightningModule) -> Phase:
        assert self.schedule is not None
        return self.schedule.phase(int(_as_stylegan(pl_module).images_seen))

    def _configure_stream(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Tell the data module what the coming epoch (one level) serves."""
        phase = self.phase(pl_module)
        per_rank = phase.batch_size // trainer.world_size
        datamodule = trainer.datamodule  # type: ignore[attr-defined]  # a Trainer property
        if datamodule is None or not hasattr(datamodule, "set_stream"):
            raise TypeError("ProgressiveGrowing needs a data module with set_stream()")
        datamodule.set_stream(
            resolution=phase.resolution,
            batch_size=per_rank,
            start_image=self.stream_start,
            # Full batches can overshoot the last level's end: then the stream is empty.
            stop_image=max(phase.level_stop, self.stream_start),
        )
        _as_stylegan(pl_module).set_progress(phase.resolution, phase.alpha)

    # ------------------------------------------------------------------ hooks
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        module = _as_stylegan(pl_module)
        if int(module.images_seen) == 0:
            self.stream_start = 0
        assert self.schedule is not None
        rank_zero_info(f"Progressive schedule (global batch):\n{self.schedule.describe()}")
        self._configure_stream(trainer, pl_module)

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        module = _as_stylegan(pl_module)
        phase = self.phase(module)
        module.set_progress(phase.resolution, phase.alpha)
        bounds = (math.floor(phase.lod), math.ceil(phase.lod))
        if self.lod_bounds is not None and bounds != self.lod_bounds and self.reset_optimizers:
            for optimizer in trainer.optimizers:
                optimizer.state.clear()
            self.optimizer_resets += 1
        self.lod_bounds = bounds
        for optimizer in trainer.optimizers:
            for group in optimizer.param_groups:
                group["lr"] = phase.learning_rate

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        assert self.schedule is not None
        if int(_as_stylegan(pl_module).images_seen) >= self.schedule.total_images:
            trainer.should_stop = True

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.stream_start = int(_as_stylegan(pl_module).images_seen)
        assert self.schedule is not None
        if self.stream_start >= self.schedule.total_images:
            # Training is over: keep the resolution and alpha that were trained last, so the
            # final grids, metrics and checkpoint describe the trained layers.
            return
        self._configure_stream(trainer, pl_module)


def _as_stylegan(pl_module: pl.LightningModule) -> StyleGANModule:
    if not isinstance(pl_module, StyleGANModule):
        raise TypeError(
            f"ProgressiveGrowing drives a StyleGANModule, got {type(pl_module).__name__}"
        )
    return pl_module
