"""The step that callbacks log at, so their points line up with the module's losses."""

from __future__ import annotations

import lightning.pytorch as pl


def logging_step(trainer: pl.Trainer) -> int:
    """The step Lightning gives the module's ``self.log`` values: batches trained so far.

    ``trainer.global_step`` counts optimizer steps. The module optimizes manually with two
    optimizers, so it moves by two per batch (one when a non-finite step is skipped), while
    Lightning logs ``self.log`` values at the number of batches
    (``fit_loop.epoch_loop._batches_that_stepped``, restored on resume). Callbacks that write
    to the loggers themselves (metrics, grids, throughput) use this count, so that on W&B's
    ``trainer/global_step`` axis (and in TensorBoard and CSV files) their points sit beside
    the losses of the same batch instead of at twice its step.

    Inside ``on_train_batch_end`` the count does not yet include the current batch, exactly
    as when Lightning writes that batch's losses right after the hook. Falls back to
    ``trainer.global_step`` if a future Lightning renames the counter.
    """
    epoch_loop = getattr(getattr(trainer, "fit_loop", None), "epoch_loop", None)
    step = getattr(epoch_loop, "_batches_that_stepped", None)
    return int(step) if isinstance(step, int) else int(trainer.global_step)


def next_due(images_seen: int, every_images: int) -> int:
    """The first multiple of ``every_images`` after ``images_seen``: when a callback that
    acts every so many images (grids, metrics, checkpoints) is next due."""
    return (images_seen // every_images + 1) * every_images


__all__ = ["logging_step", "next_due"]
