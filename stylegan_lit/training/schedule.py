"""The progressive-growing schedule as a pure function of images shown to D.

Follows the official ``training_schedule()``: training starts stable at ``start_resolution``;
every ``stable_kimg + fade_kimg`` the network grows one level: ``fade_kimg`` of fade-in of the
next resolution (alpha 0 -> 1), then ``stable_kimg`` stable, until ``final_resolution``, which
trains stable until ``total_kimg``. During a fade-in the batch size and learning rate are those
of the new resolution, as officially.

One deviation, off by default: ``lr_rampdown_kimg`` lowers the learning rate along a half
cosine to zero over the last thousands of images of training (the shape of the official
projector's ramp-down). Short runs at a high learning rate end wherever the adversarial game
happens to swing; ramping down lets G settle, and its EMA with it.

A *level* is one resolution's stretch of training, from the start of its fade-in to the
start of the next one. Each level is one Lightning epoch, so the data module is rebuilt at
each resolution change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from stylegan_lit.models.resolution import check_resolution

OFFICIAL_BATCH_SIZES_8GPU: dict[int, int] = {
    4: 512, 8: 256, 16: 128, 32: 64, 64: 32, 128: 32, 256: 32, 512: 32, 1024: 32,
}  # fmt: skip
"""Global minibatch per resolution of the official 8-GPU FFHQ setup."""

OFFICIAL_BATCH_SIZES_1GPU: dict[int, int] = {
    4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8, 512: 4, 1024: 4,
}  # fmt: skip
"""Minibatch per resolution of the official 1-GPU setup."""

OFFICIAL_LEARNING_RATES: dict[int, float] = {
    4: 0.001, 8: 0.001, 16: 0.001, 32: 0.001, 64: 0.001,
    128: 0.0015, 256: 0.002, 512: 0.003, 1024: 0.003,
}  # fmt: skip
"""Adam learning rate per resolution (G and D) of the official code."""

BASE_LEARNING_RATE = 0.001
"""The official learning rate where no per-resolution rate is given."""


@dataclass(frozen=True)
class Phase:
    """Where training stands after a number of images.

    Attributes:
        level: Index of the current resolution, 0 at ``start_resolution``.
        resolution: Resolution G and D run at (the new one during a fade-in).
        alpha: Fade-in weight of the newest block; 1 when stable.
        batch_size: Global minibatch (all ranks together).
        learning_rate: Adam learning rate of G and D (ramp-down included).
        level_start: First image of this level (start of its fade-in).
        level_stop: First image of the next level, or ``total_images`` at the last one.
        lod: Official level of detail (``log2(final) - log2(resolution) + 1 - alpha``
            during a fade-in); the optimizers are reset whenever its floor or ceiling changes.
    """

    level: int
    resolution: int
    alpha: float
    batch_size: int
    learning_rate: float
    level_start: int
    level_stop: int
    lod: float

    @property
    def fading(self) -> bool:
        return self.alpha < 1.0


class ProgressiveSchedule:
    """Resolution, fade-in alpha, batch size and learning rate as functions of images seen.

    Args:
        start_resolution: First resolution (8 officially).
        final_resolution: Last resolution.
        stable_kimg: Thousands of images trained stable per level (600 officially).
        fade_kimg: Thousands of images of fade-in per level (600 officially).
        total_kimg: Length of training (25,000 officially).
        batch_sizes: Global batch per resolution; every resolution trained must be present.
        learning_rates: Learning rate per resolution; missing resolutions use ``base_lr``.
        base_lr: Learning rate for resolutions not in ``learning_rates``.
        lr_rampdown_kimg: Thousands of images at the end of training over which the
            learning rate falls along a half cosine to zero (0: none, as officially).
    """

    def __init__(
        self,
        start_resolution: int = 8,
        final_resolution: int = 1024,
        stable_kimg: float = 600.0,
        fade_kimg: float = 600.0,
        total_kimg: float = 25_000.0,
        batch_sizes: Mapping[int, int] | None = None,
        learning_rates: Mapping[int, float] | None = None,
        base_lr: float = BASE_LEARNING_RATE,
        lr_rampdown_kimg: float = 0.0,
    ) -> None:
        start_log2 = check_resolution(start_resolution, name="start_resolution")
        final_log2 = check_resolution(final_resolution, name="final_resolution")
        if start_resolution > final_resolution:
            raise ValueError(
                f"start_resolution ({start_resolution}) must not exceed "
                f"final_resolution ({final_resolution})"
            )
        for name, value in (
            ("stable_kimg", stable_kimg),
            ("fade_kimg", fade_kimg),
            ("total_kimg", total_kimg),
            ("lr_rampdown_kimg", lr_rampdown_kimg),
        ):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if total_kimg <= 0:
            raise ValueError(f"total_kimg must be positive, got {total_kimg!r}")
        if lr_rampdown_kimg > total_kimg:
            raise ValueError(
                f"lr_rampdown_kimg ({lr_rampdown_kimg}) must not exceed total_kimg ({total_kimg})"
            )
        if base_lr <= 0:
            raise ValueError(f"base_lr must be positive, got {base_lr!r}")
        self.resolutions = [2**k for k in range(start_log2, final_log2 + 1)]
        batch_sizes = dict(OFFICIAL_BATCH_SIZES_8GPU if batch_sizes is None else batch_sizes)
        batch_sizes = {int(k): v for k, v in batch_sizes.items()}
        missing = [r for r in self.resolutions if r not in batch_sizes]
        if missing:
            raise ValueError(f"batch_sizes has no entry for resolution(s) {missing}")
        for res in self.resolutions:
            size = batch_sizes[res]
            if not isinstance(size, int) or size < 1:
                raise ValueError(f"batch_sizes[{res}] must be a positive integer, got {size!r}")
        learning_rates = {int(k): v for k, v in (learning_rates or {}).items()}
        for res, lr in learning_rates.items():
            if not lr > 0:
                raise ValueError(f"learning_rates[{res}] must be positive, got {lr!r}")
        self.config: dict[str, object] = dict(
            start_resolution=start_resolution,
            final_resolution=final_resolution,
            stable_kimg=stable_kimg,
            fade_kimg=fade_kimg,
            total_kimg=total_kimg,
            batch_sizes=batch_sizes,
            learning_rates=learning_rates,
            base_lr=base_lr,
            lr_rampdown_kimg=lr_rampdown_kimg,
        )
        """The constructor's arguments: checkpoints keep them, so a reader can tell where a run
        stood from its image count alone."""
        self.start_resolution = start_resolution
        self.final_resolution = final_resolution
        self.stable_images = round(stable_kimg * 1000)
        self.fade_images = round(fade_kimg * 1000)
        self.total_images = round(total_kimg * 1000)
        self.batch_sizes = batch_sizes
        self.learning_rates = learning_rates
        self.base_lr = base_lr
        self.rampdown_images = round(lr_rampdown_kimg * 1000)
        self._stream_starts = self._compute_stream_starts()

    @property
    def num_levels(self) -> int:
        return len(self.resolutions)

    def level_start(self, level: int) -> int:
        """First image of ``level`` (the start of its fade-in; 0 for level 0)."""
        if level == 0:
            return 0
        start = level * (self.stable_images + self.fade_images) - self.fade_images
        return min(start, self.total_images)

    def level_stop(self, level: int) -> int:
        """First image after ``level``."""
        if level >= self.num_levels - 1:
            return self.total_images
        return self.level_start(level + 1)

    def stream_start(self, level: int) -> int:
        """First image of the data stream that trains ``level``.

        Batches are always full, so a level's last batch can run past its end; the next level
        then starts where that batch stopped. Hence level ``l + 1``'s stream starts at
        ``stream_start(l) + ceil((level_stop(l) - stream_start(l)) / batch) * batch``: every
        image count a run passes through is a batch boundary of one level's stream.
        """
        return self._stream_starts[level]

    def _compute_stream_starts(self) -> list[int]:
        """:meth:`stream_start` of every level, computed once (callbacks ask every batch)."""
        starts = [0]
        for level in range(self.num_levels - 1):
            batch = self.batch_sizes[self.resolutions[level]]
            start = starts[-1]
            starts.append(start + math.ceil(max(self.level_stop(level) - start, 0) / batch) * batch)
        return starts

    def stream_level(self, position: int) -> int:
        """The level whose stream shows global image ``position`` (levels whose stream is
        empty, shorter than the batch that overshot into them, show none)."""
        level = 0
        while level + 1 < self.num_levels and self.stream_start(level + 1) <= position:
            level += 1
        return level

    def batch_start_before(self, images_seen: int) -> int:
        """Where the batch that ended at ``images_seen`` began (0 at the start of training)."""
        if images_seen <= 0:
            return 0
        level = self.stream_level(images_seen - 1)
        return max(images_seen - self.batch_sizes[self.resolutions[level]], 0)

    def learning_rate(self, resolution: int) -> float:
        """The resolution's learning rate, before any ramp-down."""
        return self.learning_rates.get(resolution, self.base_lr)

    def rampdown_factor(self, images_seen: int) -> float:
        """Multiplier of the learning rate after ``images_seen`` images: 1 until the last
        ``lr_rampdown_kimg``, then a half cosine down to 0 at ``total_kimg``."""
        remaining = self.total_images - images_seen
        if self.rampdown_images == 0 or remaining >= self.rampdown_images:
            return 1.0
        done = 1.0 - max(remaining, 0) / self.rampdown_images
        return 0.5 * (1.0 + math.cos(math.pi * done))

    def phase(self, images_seen: int) -> Phase:
        """The training state after ``images_seen`` images: what the next batch trains with.

        Once training is over (``images_seen >= total_images``) it stays the phase of the last
        image trained, so a finished run still describes the layers it trained (a run that
        ends exactly where a new level would begin has not trained that level).
        """
        if images_seen < 0:
            raise ValueError(f"images_seen must be >= 0, got {images_seen}")
        images_seen = min(images_seen, self.total_images - 1)
        period = self.stable_images + self.fade_images
        level = 0
        while level + 1 < self.num_levels and images_seen >= self.level_start(level + 1):
            level += 1
        alpha = 1.0
        if level > 0 and self.fade_images > 0:
            into_level = images_seen - self.level_start(level)
            alpha = min(into_level / self.fade_images, 1.0)
        if period == 0:  # degenerate: jump straight to the final resolution
            level, alpha = self.num_levels - 1, 1.0
        resolution = self.resolutions[level]
        lod = (self.num_levels - 1 - level) + (1.0 - alpha)
        return Phase(
            level=level,
            resolution=resolution,
            alpha=alpha,
            batch_size=self.batch_sizes[resolution],
            learning_rate=self.learning_rate(resolution) * self.rampdown_factor(images_seen),
            level_start=self.level_start(level),
            level_stop=self.level_stop(level),
            lod=lod,
        )

    def describe(self) -> str:
        """One line per level: resolution, image range, batch, learning rate."""
        lines = []
        for level, res in enumerate(self.resolutions):
            lines.append(
                f"{res:>5} px: kimg {self.level_start(level) / 1000:g}-"
                f"{self.level_stop(level) / 1000:g}, batch {self.batch_sizes[res]}, "
                f"lr {self.learning_rate(res):g}"
            )
        if self.rampdown_images:
            lines.append(
                f"learning rate ramps down to 0 over the last {self.rampdown_images / 1000:g} kimg"
            )
        return "\n".join(lines)
