"""One evaluation of FID/KID/SWD: reals once per resolution, fakes per call, any number of ranks.

Shared by the training callback (:mod:`stylegan_lit.callbacks.metrics`, under DDP) and the
``eval`` command (one process). Work is split by batches: with ``B`` the batch size, batch
``b`` covers images ``[bB, (b+1)B)`` of a set and ranks take contiguous runs of batches. The
latent of fake image ``i`` and the noise of the batch starting at ``i`` depend only on
``(seed, i)``, SWD patch positions only on the image index, and per-rank results are
gathered in rank order; so N images split over any number of ranks give the same metric
as in one process (up to float summation order in the FID sums).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
import torch
from torch import Tensor

from stylegan_lit.generate.images import to_uint8
from stylegan_lit.metrics.fid import (
    FEATURE_DIM,
    FeatureStatistics,
    InceptionFeatureExtractor,
    StatisticsCache,
    StatisticsKey,
    compute_inception_metrics,
)
from stylegan_lit.metrics.real_images import ImageSource
from stylegan_lit.metrics.swd import SlicedWassersteinDistance, swd_resolutions

METRICS = ("fid", "kid", "swd")
INCEPTION_METRICS = ("fid", "kid")
T = TypeVar("T")


class Collective(Protocol):
    """The collective operations an evaluation needs (one process or a DDP group)."""

    rank: int
    world_size: int

    def gather(self, rows: Tensor) -> Tensor:
        """Concatenate every rank's ``rows`` along dim 0 in rank order (row counts may differ)."""
        ...

    def broadcast(self, obj: T) -> T:
        """Rank 0's ``obj`` on every rank."""
        ...


class SingleProcess:
    """The trivial :class:`Collective` of a lone process."""

    rank = 0
    world_size = 1

    def gather(self, rows: Tensor) -> Tensor:
        return rows

    def broadcast(self, obj: T) -> T:
        return obj


def shard_batches(count: int, batch_size: int, rank: int, world_size: int) -> list[tuple[int, int]]:
    """The ``(start, stop)`` image ranges of the batches this rank processes.

    The set is cut into batches first and the batches are dealt out in contiguous runs, so
    batch boundaries (and thus per-batch noise) are the same for any number of ranks.
    """
    num_batches = -(-count // batch_size)
    first = num_batches * rank // world_size
    last = num_batches * (rank + 1) // world_size
    return [(b * batch_size, min((b + 1) * batch_size, count)) for b in range(first, last)]


def _seed(*words: int) -> int:
    return int(np.random.SeedSequence(list(words)).generate_state(1, dtype=np.uint64)[0] >> 1)


def latents(first_index: int, count: int, z_dim: int, seed: int) -> Tensor:
    """Latents of fake images ``first_index ...``: z_i ~ N(0, I) seeded by ``(seed, i)``."""
    return torch.stack(
        [
            torch.randn(z_dim, generator=torch.Generator().manual_seed(_seed(seed, 0, i)))
            for i in range(first_index, first_index + count)
        ]
    )


@dataclass
class _Reals:
    """Real-set state kept for one resolution (on rank 0; other ranks keep only ``count``)."""

    resolution: int
    count: int
    inception: FeatureStatistics | None = None
    swd: SlicedWassersteinDistance | None = None
    cache_hit: bool = False
    extras: dict[str, Any] = field(default_factory=dict)


class MetricSuite:
    """Computes the chosen metrics of a generator against a real-image set.

    Args:
        metrics: Any of ``"fid"``, ``"kid"``, ``"swd"``.
        num_fake: Generated images per evaluation.
        num_real: Real images (default ``num_fake``; fewer if the dataset is smaller).
        batch_size: Images per generator / feature-extractor batch (per rank).
        seed: Seed of latents, noise, SWD patch positions and projections, KID subsets.
        inception: The feature extractor, required for FID/KID.
        cache: Where real Inception statistics are cached (``None``: not cached).
        noise_mode: Generator noise: ``"random"`` as in the reference protocol (seeded per
            batch, so reproducible), or ``"const"``.
        kid_subsets: KID subsets (100).
        kid_subset_size: KID subset size (1000).
        swd_options: Keyword arguments for :class:`SlicedWassersteinDistance`.
        progress: Show tqdm progress bars (rank 0).
    """

    def __init__(
        self,
        metrics: Sequence[str] = ("swd",),
        *,
        num_fake: int = 50_000,
        num_real: int | None = None,
        batch_size: int = 32,
        seed: int = 0,
        inception: InceptionFeatureExtractor | None = None,
        cache: StatisticsCache | None = None,
        noise_mode: str = "random",
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        swd_options: dict[str, Any] | None = None,
        progress: bool = False,
    ) -> None:
        unknown = set(metrics) - set(METRICS)
        if unknown or not metrics:
            raise ValueError(f"metrics must be a non-empty subset of {METRICS}, got {metrics}")
        if num_fake < 2 or batch_size < 1:
            raise ValueError("num_fake must be >= 2 and batch_size >= 1")
        if set(metrics) & set(INCEPTION_METRICS) and inception is None:
            raise ValueError("FID/KID need an InceptionFeatureExtractor")
        self.metrics = tuple(dict.fromkeys(metrics))
        self.num_fake = num_fake
        self.num_real = num_real or num_fake
        self.batch_size = batch_size
        self.seed = seed
        self.inception = inception
        self.cache = cache
        self.noise_mode = noise_mode
        self.kid_subsets = kid_subsets
        self.kid_subset_size = kid_subset_size
        self.swd_options = dict(swd_options or {})
        self.progress = progress
        self._reals: _Reals | None = None

    @property
    def _num_features(self) -> int:
        return getattr(self.inception, "num_features", FEATURE_DIM)

    @property
    def uses_inception(self) -> bool:
        return any(m in self.metrics for m in INCEPTION_METRICS)

    def _swd_usable(self, resolution: int) -> bool:
        if "swd" not in self.metrics:
            return False
        try:
            swd_resolutions(resolution, nhood_size=self.swd_options.get("nhood_size", 7))
        except ValueError:
            return False
        return True

    def _new_swd(self, resolution: int) -> SlicedWassersteinDistance:
        swd = SlicedWassersteinDistance(seed=self.seed, **self.swd_options)
        swd.resolution = resolution
        return swd

    def _batches(
        self, count: int, collective: Collective, description: str
    ) -> Iterator[tuple[int, int]]:
        if -(-count // self.batch_size) < collective.world_size:
            raise ValueError(
                f"{count} images in batches of {self.batch_size} leave some of the "
                f"{collective.world_size} ranks without work; lower batch_size or raise the count"
            )
        ranges = shard_batches(count, self.batch_size, collective.rank, collective.world_size)
        if self.progress and collective.rank == 0:
            from tqdm.auto import tqdm

            yield from tqdm(ranges, desc=description, unit="batch")
        else:
            yield from ranges

    # ------------------------------------------------------------------ reals
    def prepare_reals(
        self,
        source: ImageSource,
        resolution: int,
        *,
        collective: Collective | None = None,
        device: torch.device | str = "cpu",
    ) -> int:
        """Measure (or load from the cache) the real set at ``resolution``; returns its size.

        A no-op when the reals of this resolution are already prepared.
        """
        collective = collective or SingleProcess()
        if self._reals is not None and self._reals.resolution == resolution:
            return self._reals.count
        count = source.available(resolution, self.num_real)
        if count < 2:
            raise ValueError(f"need at least 2 real images, the source has {count}")
        if count < self.num_real and collective.rank == 0:
            warnings.warn(
                f"only {count} real images available (asked for {self.num_real})", stacklevel=2
            )
        reals = _Reals(resolution=resolution, count=count)
        need_kid = "kid" in self.metrics
        key: StatisticsKey | None = None
        if self.uses_inception and collective.rank == 0 and self.cache is not None:
            assert self.inception is not None
            key = StatisticsKey(
                dataset=source.fingerprint(resolution, count),
                resolution=resolution,
                num_images=count,
                extractor=self.inception.fingerprint,
            )
            reals.inception = self.cache.load(key, need_features=need_kid)
            reals.cache_hit = reals.inception is not None
        measure_inception = self.uses_inception and not collective.broadcast(reals.cache_hit)
        swd = self._new_swd(resolution) if self._swd_usable(resolution) else None
        if measure_inception or swd is not None:
            if self.inception is not None:
                self.inception.to(device)
            features, descriptors = [], []
            for start, stop in self._batches(count, collective, f"reals {resolution}px"):
                images = to_uint8(
                    source.read(start, stop, resolution).to(device), require_finite=True
                )
                if measure_inception:
                    assert self.inception is not None
                    features.append(self.inception(images).cpu())
                if swd is not None:
                    descriptors.append([d.cpu() for d in swd.descriptors(images, start)])
            if measure_inception:
                reals.inception = self._gather_statistics(features, collective, keep=need_kid)
                if collective.rank == 0 and self.cache is not None and key is not None:
                    reals.extras["cache_file"] = str(self.cache.save(key, reals.inception))
            if swd is not None:
                swd.add_descriptors(
                    self._gather_descriptors(descriptors, swd, collective), real=True, count=count
                )
                reals.swd = swd
        if collective.rank != 0:  # only rank 0 computes; free the gathered copies
            reals.inception, reals.swd = None, None
        self._reals = reals
        return count

    def _gather_statistics(
        self, features: list[Tensor], collective: Collective, *, keep: bool
    ) -> FeatureStatistics:
        local = torch.cat(features) if features else torch.zeros(0, self._num_features)
        stats = FeatureStatistics.from_features(local, keep_features=keep)
        return FeatureStatistics(
            num_samples=int(collective.gather(torch.tensor([stats.num_samples])).sum()),
            features_sum=collective.gather(stats.features_sum[None]).sum(dim=0),
            features_cov_sum=collective.gather(stats.features_cov_sum[None]).sum(dim=0),
            features=collective.gather(stats.features) if keep else None,  # type: ignore[arg-type]
        )

    @staticmethod
    def _gather_descriptors(
        batches: list[list[Tensor]], swd: SlicedWassersteinDistance, collective: Collective
    ) -> list[Tensor]:
        return [
            collective.gather(torch.cat([b[k] for b in batches])) for k in range(len(swd.levels))
        ]

    # ------------------------------------------------------------------ fakes
    @torch.no_grad()
    def evaluate(
        self,
        sample: Callable[..., Tensor],
        z_dim: int,
        resolution: int,
        *,
        collective: Collective | None = None,
        device: torch.device | str = "cpu",
    ) -> dict[str, float]:
        """Generate ``num_fake`` images with ``sample(z, noise_mode=...)`` and measure them.

        Call :meth:`prepare_reals` for ``resolution`` first. Every rank must call this; all
        get the same result (computed on rank 0 and broadcast).

        Returns:
            ``fid``, ``kid``, ``kid_std``, ``swd_avg`` and ``swd_<res>`` per level, as chosen
            (SWD is left out below 7 px).
        """
        collective = collective or SingleProcess()
        reals = self._reals
        if reals is None or reals.resolution != resolution:
            raise RuntimeError(f"prepare_reals for {resolution} px before evaluate")
        swd = self._new_swd(resolution) if self._swd_usable(resolution) else None
        if swd is None and not self.uses_inception:
            return {}  # SWD alone below 7 px: nothing to measure, nothing to generate
        if self.inception is not None and self.uses_inception:
            self.inception.to(device)
        features, descriptors = [], []
        for start, stop in self._batches(self.num_fake, collective, f"fakes {resolution}px"):
            z = latents(start, stop - start, z_dim, self.seed).to(device)
            with torch.random.fork_rng(devices=_cuda_devices(device)):
                torch.manual_seed(_seed(self.seed, 1, start))
                images = sample(z, noise_mode=self.noise_mode)
            if images.shape[-1] != resolution:
                raise ValueError(f"generator made {images.shape[-1]} px, expected {resolution}")
            images = to_uint8(images, require_finite=True)
            if self.uses_inception:
                assert self.inception is not None
                features.append(self.inception(images).cpu())
            if swd is not None:
                descriptors.append([d.cpu() for d in swd.descriptors(images, start)])
        gathered_features = (
            collective.gather(
                torch.cat(features) if features else torch.zeros(0, self._num_features)
            )
            if self.uses_inception
            else None
        )
        gathered_descriptors = (
            self._gather_descriptors(descriptors, swd, collective) if swd is not None else None
        )
        result: dict[str, float] = {}
        if collective.rank == 0:
            if gathered_features is not None:
                assert reals.inception is not None
                result.update(
                    compute_inception_metrics(
                        reals.inception,
                        gathered_features,
                        fid="fid" in self.metrics,
                        kid="kid" in self.metrics,
                        kid_subsets=self.kid_subsets,
                        kid_subset_size=self.kid_subset_size,
                        seed=self.seed,
                    )
                )
            if swd is not None and gathered_descriptors is not None and reals.swd is not None:
                reals.swd.reset(keep_reals=True)
                reals.swd.add_descriptors(gathered_descriptors, real=False, count=self.num_fake)
                result.update(reals.swd.compute(device=device))
                reals.swd.reset(keep_reals=True)
        return collective.broadcast(result)

    def real_info(self) -> dict[str, Any]:
        """Facts about the prepared real set (count, resolution, cache use), for reports."""
        if self._reals is None:
            return {}
        return {
            "num_real": self._reals.count,
            "resolution": self._reals.resolution,
            "real_statistics_cached": self._reals.cache_hit,
            **self._reals.extras,
        }


def _cuda_devices(device: torch.device | str) -> list[torch.device]:
    device = torch.device(device)
    return [device] if device.type == "cuda" else []


__all__ = [
    "INCEPTION_METRICS",
    "METRICS",
    "Collective",
    "MetricSuite",
    "SingleProcess",
    "latents",
    "shard_batches",
]
