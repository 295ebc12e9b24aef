"""A progress bar on StyleGAN's clock: kimg of the whole run, resolution, alpha, images/s."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import TQDMProgressBar

from stylegan_lit.callbacks.progressive import ProgressiveGrowing
from stylegan_lit.callbacks.throughput import Throughput

BAR_FORMAT = "{desc} |{bar}| {n:.1f}/{total:.0f} kimg [{elapsed}<{remaining}{postfix}]"


class KimgProgressBar(TQDMProgressBar):
    """One bar for the whole run, advancing in kimg (images shown to D, all ranks).

    Lightning's bar counts batches per epoch; here an epoch is one resolution level, so its
    bar would restart at every level and say nothing about the run. This one spans
    ``total_kimg`` (from :class:`~stylegan_lit.callbacks.ProgressiveGrowing`'s schedule),
    describes the level (``16 px``, ``16 px fade 0.42``) and shows images/s (from the
    :class:`~stylegan_lit.callbacks.Throughput` callback) and the latest logged metrics
    (``metrics/...``) and losses; the W&B run id (``v_num``) is left out.

    Args:
        refresh_rate: Batches between redraws.
    """

    def __init__(self, refresh_rate: int = 1) -> None:
        super().__init__(refresh_rate=refresh_rate)
        self.total_kimg: float | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        bar = self.init_train_tqdm()
        bar.bar_format = BAR_FORMAT
        for callback in trainer.callbacks:  # type: ignore[attr-defined]
            if isinstance(callback, ProgressiveGrowing) and callback.schedule is not None:
                self.total_kimg = callback.schedule.total_images / 1000
        bar.total = self.total_kimg
        bar.n = _kimg(pl_module)
        bar.refresh()
        self.train_progress_bar = bar

    def on_train_epoch_start(self, trainer: pl.Trainer, *_: Any) -> None:
        """A level starts: the bar goes on (no reset, unlike Lightning's)."""

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        bar = self.train_progress_bar
        if bar is None or bar.disable or (batch_idx + 1) % self.refresh_rate:
            return
        bar.n = _kimg(pl_module)
        bar.set_description(_level(pl_module), refresh=False)
        bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)
        bar.refresh()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """A level ends: keep the bar open for the next one."""

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        """img/s, losses and metrics; the progress values are in the bar and its label."""
        shown: dict[str, Any] = {}
        for callback in trainer.callbacks:  # type: ignore[attr-defined]
            if isinstance(callback, Throughput) and callback.last:
                shown["img/s"] = f"{callback.last['progress/images_per_s']:.0f}"
        metrics = trainer.callback_metrics
        for key, label in (("loss/d", "loss D"), ("loss/g", "loss G")):
            if key in metrics:
                shown[label] = f"{float(metrics[key]):.3f}"
        for key, value in metrics.items():
            if key.startswith("metrics/") and key != "metrics/kimg" and "_" not in key:
                shown[key.removeprefix("metrics/")] = f"{float(value):.4g}"
        return shown


def _kimg(pl_module: pl.LightningModule) -> float:
    return int(getattr(pl_module, "images_seen", 0)) / 1000


def _level(pl_module: pl.LightningModule) -> str:
    resolution = int(getattr(pl_module, "resolution", 0))
    alpha = float(getattr(pl_module, "alpha", 1.0))
    return f"{resolution} px" if alpha >= 1 else f"{resolution} px fade {alpha:.2f}"


__all__ = ["KimgProgressBar"]
