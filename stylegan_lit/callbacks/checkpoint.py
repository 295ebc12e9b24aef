"""Checkpoints on the training clock (kimg), in a folder that follows the run's root dir."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import ModelCheckpoint

from stylegan_lit.callbacks.steps import as_stylegan, crossed_multiple


class KimgCheckpoint(ModelCheckpoint):
    """Write ``last.ckpt`` every ``every_kimg`` and at the end of training.

    Lightning's ``ModelCheckpoint`` counts ``trainer.global_step``, which under manual
    optimization advances once per optimizer step (twice per batch here), and in Lightning
    2.6 it warns at every such save; StyleGAN's clock is the number of images shown to D,
    the official code's ``network-snapshot-<kimg>`` interval. This subclass saves on that
    clock and is otherwise a ``ModelCheckpoint`` (so ``--ckpt_path last`` finds its files
    and Lightning adds no default checkpoint callback beside it).

    - ``last.ckpt`` is rewritten at every interval and once more when training ends, so it
      always holds the final state (the plain callback writes it at the end only if it never
      wrote it before). Resume with ``--ckpt_path <dir>/last.ckpt``.
    - With ``keep_snapshots`` each interval also leaves ``kimg<kimg>.ckpt`` behind
      (``kimg000012.5.ckpt``, named as the sample grids), as the official training keeps
      its network snapshots.

    Every rank calls the save at the same image count (the count is global), so this is
    safe under DDP. Checkpoints hold the full training state (optimizers included).

    Args:
        every_kimg: Interval in thousands of images shown to D (``0``: only at the end).
        dirpath: Folder (default ``<trainer.default_root_dir>/checkpoints``, so runs with
            different root dirs never share checkpoint files).
        keep_snapshots: Also keep one file per interval.
    """

    def __init__(
        self,
        every_kimg: float = 50.0,
        dirpath: str | None = None,
        keep_snapshots: bool = False,
    ) -> None:
        if every_kimg < 0:
            raise ValueError(f"every_kimg must be >= 0, got {every_kimg}")
        # Epoch and step triggers are off: this callback saves on the image count only.
        super().__init__(
            dirpath=dirpath,
            save_last=True,
            save_top_k=0,
            every_n_epochs=0,
            save_on_train_epoch_end=False,
            enable_version_counter=False,
        )
        self.every_images = round(every_kimg * 1000)
        self.keep_snapshots = keep_snapshots

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.dirpath is None:
            self.dirpath = os.path.join(trainer.default_root_dir, "checkpoints")
        super().setup(trainer, pl_module, stage)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if self.every_images > 0 and crossed_multiple(
            as_stylegan(pl_module, self), self.every_images
        ):
            self.save_now(trainer, snapshot=self.keep_snapshots)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.save_now(trainer, snapshot=False)

    def save_now(self, trainer: pl.Trainer, *, snapshot: bool) -> Path:
        """Write ``last.ckpt`` (and a kimg snapshot) now; every rank must call this."""
        if self._should_skip_saving_checkpoint(trainer):
            return Path(self.last_model_path)
        if snapshot:
            kimg = as_stylegan(trainer.lightning_module, self).kimg
            self._save_checkpoint(
                trainer, os.path.join(self.dirpath or "", f"kimg{kimg:08.1f}.ckpt")
            )
        self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        return Path(self.last_model_path)


__all__ = ["KimgCheckpoint"]
