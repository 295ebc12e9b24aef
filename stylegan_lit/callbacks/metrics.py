"""FID/KID/SWD of G_ema every few kimg during training, DDP-aware, logged against kimg."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch import Tensor

from stylegan_lit.callbacks.steps import as_stylegan, crossed_multiple, logging_step
from stylegan_lit.metrics.fid import (
    InceptionFeatureExtractor,
    InceptionWeightsError,
    StatisticsCache,
    resolve_inception_weights,
)
from stylegan_lit.metrics.real_images import ImageSource, as_image_source
from stylegan_lit.metrics.suite import INCEPTION_METRICS, METRICS, MetricSuite
from stylegan_lit.training.module import StyleGANModule

T = TypeVar("T")


class LightningCollective:
    """:class:`stylegan_lit.metrics.suite.Collective` over a Lightning strategy.

    ``strategy.all_gather`` needs equal shapes on every rank, so rows are padded to the
    longest rank's count and trimmed after the gather. Tensors travel on the strategy's
    device (NCCL gathers only CUDA tensors) and come back on the CPU.
    """

    def __init__(self, trainer: pl.Trainer) -> None:
        self.strategy = trainer.strategy
        self.rank = trainer.global_rank
        self.world_size = trainer.world_size

    def gather(self, rows: Tensor) -> Tensor:
        if self.world_size == 1:
            return rows
        device = self.strategy.root_device
        gathered_counts = self.strategy.all_gather(torch.tensor([rows.shape[0]], device=device))
        counts = [int(c) for c in gathered_counts.reshape(-1)]
        padded = rows.new_zeros((max(counts), *rows.shape[1:]))
        padded[: rows.shape[0]] = rows
        gathered = self.strategy.all_gather(padded.to(device))  # [world, longest, ...]
        return torch.cat([gathered[r, :c] for r, c in enumerate(counts)]).cpu()

    def broadcast(self, obj: T) -> T:
        return obj if self.world_size == 1 else self.strategy.broadcast(obj, src=0)


class MetricsCallback(pl.Callback):
    """Every ``every_kimg``, measure G_ema (no truncation) against real images; log the result.

    Logged to every logger (W&B, TensorBoard, CSV) at the step of the module's losses
    (:func:`~stylegan_lit.callbacks.steps.logging_step`):
    ``metrics/fid``, ``metrics/kid``, ``metrics/kid_std``, ``metrics/swd`` (the SWD level
    average), ``metrics/swd_<res>`` per pyramid level, and ``metrics/kimg`` as the x-axis
    users care about. The values also enter ``trainer.callback_metrics`` (so a
    ``ModelCheckpoint`` can monitor ``metrics/fid``). Metrics are sent to the loggers
    directly rather than through ``self.log``, which would drop points that fall between
    ``log_every_n_steps``.

    Each evaluation is also printed on the console (above the progress bar) and appended as
    one JSON line to ``<trainer.default_root_dir>/<log_file>`` by rank 0, a record that
    needs no logger to read back.

    The first evaluation of a fresh run happens before its first step (kimg 0), then every
    ``every_kimg``: when it is due follows from the module's image count alone, so a resumed
    run goes on with the same schedule and nothing of it is saved in checkpoints.

    Under DDP, each rank generates and measures its share of the ``num_fake`` images (latents
    seeded by image index, so shares never overlap and the value equals the one-process
    value on the same images), features and SWD descriptors are gathered, rank 0 computes,
    and every rank receives the same numbers. Real statistics are measured once per
    resolution (FID/KID ones also cached on disk across runs).

    The Inception weights are checked in ``setup``, so a missing file stops the run at
    start (``on_missing_weights="error"``) or disables FID/KID with a warning
    (``"disable"``); SWD needs no weights.

    Args:
        every_kimg: Interval in thousands of images shown to D.
        num_fake: Generated images per evaluation (50,000 for the published protocol; a few
            thousand for tracking, whose FIDs are larger and comparable only with each other).
        metrics: Any of ``"fid"``, ``"kid"``, ``"swd"``.
        feature_extractor_weights_path: Local Inception weights file (offline use).
        on_missing_weights: ``"error"`` or ``"disable"``.
        cache_dir: Folder for cached real statistics (default ``$STYLEGAN_LIT_CACHE_DIR``
            or ``~/.cache/stylegan_lit/metrics``).
        batch_size: Images per generation / feature batch, per rank.
        num_real: Real images (default ``num_fake``).
        seed: Seed of the latents, noise and metric randomness (same images every time).
        noise_mode: G's noise inputs: ``"random"`` (reference protocol) or ``"const"``.
        kid_subsets: KID subsets.
        kid_subset_size: KID subset size (lowered to the set size for small sets).
        real_images: The real images: ``None`` for the data module's
            ``real_images(resolution, count, seed)``, or a folder, a ``.pt`` file, a Tensor,
            an :class:`~stylegan_lit.metrics.real_images.ImageSource` or a callable.
        at_end: Also evaluate when training ends.
        download_weights: Allow downloading the weights when they are not cached.
        inception_features: Inception tap: 2048 (``pool_3``) for FIDs comparable with papers;
            64/192/768 only for quick checks.
        log_file: JSON-lines file under the trainer's root dir (``None``: none).
    """

    def __init__(
        self,
        every_kimg: float = 100.0,
        num_fake: int = 2000,
        metrics: Sequence[str] = ("swd",),
        feature_extractor_weights_path: str | None = None,
        on_missing_weights: Literal["error", "disable"] = "error",
        cache_dir: str | None = None,
        batch_size: int = 32,
        num_real: int | None = None,
        seed: int = 0,
        noise_mode: Literal["random", "const"] = "random",
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        real_images: Any = None,
        at_end: bool = True,
        download_weights: bool = True,
        inception_features: int = 2048,
        log_file: str | None = "metrics.jsonl",
    ) -> None:
        super().__init__()
        metrics = tuple(metrics)
        if not metrics or set(metrics) - set(METRICS):
            raise ValueError(f"metrics must be a non-empty subset of {METRICS}, got {metrics}")
        if every_kimg <= 0 or num_fake < 2 or batch_size < 1:
            raise ValueError("every_kimg must be > 0, num_fake >= 2 and batch_size >= 1")
        if on_missing_weights not in ("error", "disable"):
            raise ValueError(
                f"on_missing_weights must be 'error' or 'disable', got {on_missing_weights!r}"
            )
        self.every_images = round(every_kimg * 1000)
        self.num_fake = num_fake
        self.metrics = metrics
        self.feature_extractor_weights_path = feature_extractor_weights_path
        self.on_missing_weights = on_missing_weights
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.num_real = num_real
        self.seed = seed
        self.noise_mode = noise_mode
        self.kid_subsets = kid_subsets
        self.kid_subset_size = kid_subset_size
        self.real_images = real_images
        self.at_end = at_end
        self.download_weights = download_weights
        self.inception_features = inception_features
        if log_file is not None and Path(log_file).name != log_file:
            raise ValueError(f"log_file must be a plain file name, got {log_file!r}")
        self.log_file = log_file
        self.last_evaluated_at = -1
        self.active_metrics: tuple[str, ...] = metrics
        self.history: list[dict[str, float]] = []
        self._suite: MetricSuite | None = None
        self._source: ImageSource | None = None

    # ------------------------------------------------------------------ hooks
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Check the Inception weights and the real-image source before training starts.

        Args:
            trainer: The trainer (its strategy is already set up, so collectives work).
            pl_module: Must be a :class:`StyleGANModule`.
            stage: Only ``"fit"`` does anything.
        """
        if stage != "fit":
            return
        if not isinstance(pl_module, StyleGANModule):
            raise TypeError("MetricsCallback needs a StyleGANModule")
        collective = LightningCollective(trainer)
        self.active_metrics = self.metrics
        inception = None
        if set(self.metrics) & set(INCEPTION_METRICS):
            inception = self._load_inception(collective)
            if inception is None:
                self.active_metrics = tuple(m for m in self.metrics if m not in INCEPTION_METRICS)
        self._source = self._image_source(trainer)
        if not self.active_metrics:
            self._suite = None
            return
        self._suite = MetricSuite(
            self.active_metrics,
            num_fake=self.num_fake,
            num_real=self.num_real,
            batch_size=self.batch_size,
            seed=self.seed,
            inception=inception,
            cache=StatisticsCache(self.cache_dir),
            noise_mode=self.noise_mode,
            kid_subsets=self.kid_subsets,
            kid_subset_size=self.kid_subset_size,
        )

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """A fresh run is measured before its first step: a baseline at its starting kimg, and
        real-data problems surface at once (a resumed run continues its schedule instead)."""
        if as_stylegan(pl_module, self).images_seen == 0:
            self.evaluate(trainer, pl_module)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if crossed_multiple(as_stylegan(pl_module, self), self.every_images):
            self.evaluate(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.at_end and as_stylegan(pl_module, self).images_seen != self.last_evaluated_at:
            self.evaluate(trainer, pl_module)

    # ------------------------------------------------------------------ work

    def evaluate(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, float]:
        """Measure now (every rank must call this) and log; returns the values."""
        if self._suite is None or self._source is None:
            return {}
        assert isinstance(pl_module, StyleGANModule)
        collective = LightningCollective(trainer)
        resolution = int(pl_module.resolution)
        self._suite.prepare_reals(
            self._source, resolution, collective=collective, device=pl_module.device
        )
        result = self._suite.evaluate(
            pl_module.sample,
            pl_module.generator.z_dim,
            resolution,
            collective=collective,
            device=pl_module.device,
        )
        self.last_evaluated_at = pl_module.images_seen
        if not result:
            return result
        logged = {
            f"metrics/{'swd' if key == 'swd_avg' else key}": value for key, value in result.items()
        }
        logged["metrics/kimg"] = pl_module.kimg
        self.history.append({"kimg": pl_module.kimg, "resolution": resolution, **result})
        trainer.callback_metrics.update({k: torch.tensor(v) for k, v in logged.items()})
        if trainer.is_global_zero:
            for logger in trainer.loggers:
                logger.log_metrics(logged, step=logging_step(trainer))
            self._report(trainer, self.history[-1])
        return result

    def _report(self, trainer: pl.Trainer, row: dict[str, float]) -> None:
        """Print one line for the console and append the row to the JSON-lines file."""
        values = ", ".join(
            f"{key.removesuffix('_avg')} {value:.4g}"
            for key, value in row.items()
            if key in ("fid", "kid", "swd_avg")
        )
        line = f"kimg {row['kimg']:.1f} ({int(row['resolution'])} px): {values}"
        bar = trainer.progress_bar_callback
        if bar is not None and getattr(bar, "is_enabled", True):
            bar.print(line)
        else:
            rank_zero_info(line)
        if self.log_file is not None:
            path = Path(trainer.default_root_dir) / self.log_file
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as file:
                file.write(json.dumps(row) + "\n")

    def _load_inception(self, collective: LightningCollective) -> InceptionFeatureExtractor | None:
        """Rank 0 resolves (maybe downloads) the weights first; every rank then agrees."""
        problem = None
        if collective.rank == 0:
            try:
                resolve_inception_weights(
                    self.feature_extractor_weights_path, download=self.download_weights
                )
            except InceptionWeightsError as error:
                problem = str(error)
        problem = collective.broadcast(problem)
        if problem is not None:
            if self.on_missing_weights == "error":
                raise InceptionWeightsError(problem)
            rank_zero_warn(
                f"{problem}\nFID/KID are disabled for this run (on_missing_weights='disable')."
            )
            return None
        return InceptionFeatureExtractor(
            self.feature_extractor_weights_path,
            download=self.download_weights,
            num_features=self.inception_features,
        )

    def _image_source(self, trainer: pl.Trainer) -> ImageSource:
        if self.real_images is not None:
            return as_image_source(self.real_images, seed=self.seed)
        datamodule = getattr(trainer, "datamodule", None)
        if datamodule is None or not callable(getattr(datamodule, "real_images", None)):
            raise ValueError(
                "MetricsCallback needs real images: give real_images=... or use a data module "
                "with a real_images(resolution, count, seed) method"
            )
        return as_image_source(datamodule, seed=self.seed)


__all__ = ["LightningCollective", "MetricsCallback"]
