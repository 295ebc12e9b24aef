"""Training throughput (images/s, sec/kimg) over wall-clock intervals, for the loggers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import lightning.pytorch as pl

from stylegan_lit.callbacks.steps import logging_step


class ThroughputMeter:
    """Images per second between successive readings of (time, images seen).

    Kept apart from the callback so the arithmetic can be tested with a fake clock.
    """

    def __init__(self) -> None:
        self.time: float | None = None
        self.images: int | None = None

    @property
    def started(self) -> bool:
        return self.time is not None

    def start(self, now: float, images_seen: int) -> None:
        """Take the reference reading that the next interval is measured from."""
        self.time, self.images = now, images_seen

    def update(self, now: float, images_seen: int) -> dict[str, float] | None:
        """Close the interval since the last reading and start the next one.

        Returns ``progress/images_per_s`` and ``progress/sec_per_kimg`` for the interval, or
        ``None`` for the first reading or an interval without images or time (nothing to
        report; a zero would read as a stall).
        """
        if self.time is None or self.images is None:
            self.start(now, images_seen)
            return None
        seconds, images = now - self.time, images_seen - self.images
        self.start(now, images_seen)
        if seconds <= 0 or images <= 0:
            return None
        return {
            "progress/images_per_s": images / seconds,
            "progress/sec_per_kimg": seconds / images * 1000.0,
        }


class Throughput(pl.Callback):
    """Log training throughput: ``progress/images_per_s`` and ``progress/sec_per_kimg``.

    Measured over the wall-clock time between logging steps rather than per step: a single
    step's time is noise (and on a GPU, without a synchronisation, only the time to queue the
    work). At each logging step rank 0 reads the module's ``images_seen`` (a CPU counter:
    no wait for the GPU; the step's gradient-finiteness check already waits for its work, so
    the queue never runs ahead by more than a step) and divides the images trained since the
    previous logging step by the seconds elapsed. ``images_seen`` counts images across all
    ranks, so under DDP this is the throughput of the whole job.

    The interval is wall-clock time: it includes data loading and whatever other callbacks
    do in between (sample grids, metric evaluations, checkpoints), so intervals holding such
    work read lower (the official StyleGAN's ``sec/kimg`` leaves this "maintenance" out).
    The first interval starts at the first training batch (after set-up and the initial
    metric evaluation), also after a resume.

    Values go to every logger at the step of the module's losses (see
    :func:`~stylegan_lit.callbacks.steps.logging_step`), on Lightning's logging steps
    (``trainer.log_every_n_steps``) unless ``every_n_steps`` is given.

    Args:
        every_n_steps: Batches per interval (default: the trainer's ``log_every_n_steps``;
            0 there turns this callback off too).
        clock: Seconds as a float (default :func:`time.perf_counter`; a fake for tests).
    """

    def __init__(
        self, every_n_steps: int | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        super().__init__()
        if every_n_steps is not None and every_n_steps < 1:
            raise ValueError(f"every_n_steps must be at least 1, got {every_n_steps}")
        self.every_n_steps = every_n_steps
        self.clock = clock or time.perf_counter
        self.meter = ThroughputMeter()
        self.last: dict[str, float] = {}

    def _interval(self, trainer: pl.Trainer) -> int:
        if self.every_n_steps is not None:
            return self.every_n_steps
        return trainer.log_every_n_steps  # type: ignore[attr-defined]  # set by Lightning's connector

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.meter = ThroughputMeter()  # a new fit measures from its own first batch

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if trainer.is_global_zero and not self.meter.started and self._interval(trainer) > 0:
            images_seen = int(pl_module.images_seen)  # type: ignore[arg-type]
            self.meter.start(self.clock(), images_seen)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        interval = self._interval(trainer)
        if not trainer.is_global_zero or interval <= 0:
            return
        step = logging_step(trainer)
        if (step + 1) % interval != 0:  # Lightning's own test for a logging step
            return
        images_seen = int(pl_module.images_seen)  # type: ignore[arg-type]
        values = self.meter.update(self.clock(), images_seen)
        if values is None:
            return
        self.last = values
        for logger in trainer.loggers:
            logger.log_metrics(values, step=step)


__all__ = ["Throughput", "ThroughputMeter"]
