"""When callbacks act (every so many images) and the step they log at (beside the losses)."""

from __future__ import annotations

import lightning.pytorch as pl

from stylegan_lit.training.module import StyleGANModule


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


def as_stylegan(pl_module: pl.LightningModule | None, user: object) -> StyleGANModule:
    """``pl_module`` as the :class:`StyleGANModule` that callback ``user`` needs."""
    if not isinstance(pl_module, StyleGANModule):
        raise TypeError(
            f"{type(user).__name__} needs a StyleGANModule, got {type(pl_module).__name__}"
        )
    return pl_module


def crossed_multiple(module: StyleGANModule, every_images: int) -> bool:
    """Whether the batch just trained passed a multiple of ``every_images`` (grids, metrics
    and checkpoints act every so many images).

    A pure function of the module's image count and its schedule, so it needs no state of its
    own and a resumed run acts at the same counts as an uninterrupted one.
    """
    before, after = module.last_batch_start(), module.images_seen
    return after // every_images > before // every_images


__all__ = ["as_stylegan", "crossed_multiple", "logging_step"]
