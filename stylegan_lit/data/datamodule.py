"""``FaceDataModule``: faces at the current resolution and batch size, for every rank.

The training code tells the module what to serve next with :meth:`FaceDataModule.set_stream`
(resolution, per-rank batch size, the span of global image positions, and where to resume in
it), and Lightning then asks for :meth:`FaceDataModule.train_dataloader`. The stream is a pure
function of the global image count (see :mod:`stylegan_lit.data.stream.sampler`), so it is identical
for any number of ranks and workers, and a checkpoint taken mid-level resumes at the exact
next batch from its image count alone.

Sources, chosen by ``source``:

* ``"synthetic"``: the built-in procedural faces, rendered once into memory at setup
  (seconds at 32-64 px), or into ``cache_dir`` if given;
* a prepared cache directory (``stylegan-lit prepare``): fastest;
* a folder or a ``.zip`` of images: prepared into ``cache_dir`` on first use if given,
  otherwise decoded and resized on the fly (slower, but no preparation step).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_info

from stylegan_lit.data.cache.prepare import SYNTHETIC, prepare_cache
from stylegan_lit.data.cache.store import CachedImages, is_cache
from stylegan_lit.data.errors import DatasetError
from stylegan_lit.data.files.raw import RawImages
from stylegan_lit.data.files.sources import open_image_files
from stylegan_lit.data.images import MultiResolutionImages
from stylegan_lit.data.pyramid import LOWEST_RESOLUTION, check_resolution, pyramid_resolutions
from stylegan_lit.data.stream.dataset import ImageBatchDataset
from stylegan_lit.data.stream.loader import StreamLoader
from stylegan_lit.data.stream.sampler import Stream, StreamBatchSampler, StreamOrder
from stylegan_lit.data.synthetic.faces import SyntheticFaces

log = logging.getLogger(__name__)


class FaceDataModule(pl.LightningDataModule):
    """Face images for progressive StyleGAN training, as float32 [B, C, R, R] in [-1, 1].

    Args:
        source: ``"synthetic"``, a prepared cache directory, a folder of images (PNG, JPEG,
            WebP, ...; searched recursively) or a ``.zip`` of images.
        resolution: Highest resolution of the run (power of two >= 4); a folder, ZIP or cache
            must provide at least this size.
        num_images: Synthetic faces only: dataset size.
        seed: Seed of the synthetic faces, of the shuffling and of the flips.
        mirror: Random horizontal flips (on for faces, as in the paper).
        crop: Centre-crop non-square images; otherwise they are skipped (or refused with
            ``strict``).
        img_channels: 3 for RGB, 1 for grayscale.
        resize_filter: ``"lanczos"`` (quality) or ``"box"`` (the official pyramid, for FID
            comparability); used when resizing a folder or ZIP.
        strict: Stop at the first unusable file instead of skipping it with a warning.
        batch_size: Per-rank batch size until :meth:`set_stream` says otherwise.
        num_workers: DataLoader worker processes (0: load in the training process).
        pin_memory: Pin batches in page-locked memory (faster copies to a GPU).
        persistent_workers: Keep workers alive between streams (one set serves every level).
        prefetch_factor: Batches loaded ahead per worker (``None``: torch's default).
        cache_dir: Where to prepare folders, ZIPs and synthetic faces once and reuse them
            (subfolders named after the source and settings). ``None``: no disk cache.
    """

    def __init__(
        self,
        source: str = SYNTHETIC,
        resolution: int = 32,
        num_images: int = 10_000,
        seed: int = 0,
        mirror: bool = True,
        crop: bool = True,
        img_channels: int = 3,
        resize_filter: Literal["lanczos", "box"] = "lanczos",
        strict: bool = False,
        batch_size: int = 32,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = True,
        prefetch_factor: int | None = None,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__()
        check_resolution(resolution)
        if img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, got {img_channels}")
        self.save_hyperparameters()
        self.source = str(source)
        self.max_resolution = resolution
        self.img_channels = img_channels
        self.num_images = num_images
        self.seed = seed
        self.mirror = mirror
        self.crop = crop
        self.resize_filter = resize_filter
        self.strict = strict
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.persistent_workers = persistent_workers
        self.prefetch_factor = prefetch_factor
        self.cache_dir = cache_dir
        self.images: MultiResolutionImages | None = None
        self._stream_request: tuple[int, int, int, int] | None = None
        self._resume_image: int | None = None
        self._loader: StreamLoader | None = None

    # ----------------------------------------------------------------- sources

    def _needs_disk_cache(self) -> bool:
        return self.cache_dir is not None and not is_cache(self.source)

    def cache_path(self) -> Path | None:
        """The cache folder this configuration uses under ``cache_dir`` (``None`` without one)."""
        if not self._needs_disk_cache():
            return None
        assert self.cache_dir is not None
        if self.source == SYNTHETIC:
            name = (
                f"synthetic-seed{self.seed}-n{self.num_images}"
                f"-{self.max_resolution}px-{self.img_channels}ch"
            )
        else:
            resolved = Path(self.source).expanduser().resolve()
            settings = (self.max_resolution, self.resize_filter, self.crop, self.img_channels)
            key = f"{resolved}|{settings}"
            digest = hashlib.sha1(key.encode()).hexdigest()[:10]
            name = f"{resolved.stem}-{self.max_resolution}px-{self.resize_filter}-{digest}"
        return Path(self.cache_dir).expanduser() / name

    def prepare_data(self) -> None:
        """Build the disk cache under ``cache_dir`` once (Lightning calls this on one process
        per node before :meth:`setup`); a no-op without ``cache_dir`` or when it exists."""
        path = self.cache_path()
        if path is None or is_cache(path):
            return
        rank_zero_info(f"Preparing {self.source} into {path} (once; later runs reuse it)")
        try:
            prepare_cache(
                self.source,
                path,
                resolution=self.max_resolution,
                resize_filter=self.resize_filter,
                crop=self.crop,
                channels=self.img_channels,
                strict=self.strict,
                num_images=self.num_images,
                seed=self.seed,
            )
        except DatasetError as error:
            if not is_cache(path):  # another process may have finished it first
                raise
            log.debug("cache built concurrently: %s", error)

    def setup(self, stage: str | None = None) -> None:
        """Open the source (idempotent). Raises :class:`DatasetError` for unusable input."""
        if self.images is not None:
            return
        started = time.perf_counter()
        if self._needs_disk_cache():
            self.prepare_data()
            path = self.cache_path()
            assert path is not None
            images: MultiResolutionImages = self._open_cache(path)
        elif self.source == SYNTHETIC:
            faces = SyntheticFaces(
                self.num_images,
                seed=self.seed,
                resolution=self.max_resolution,
                img_channels=self.img_channels,
            )
            images = faces.to_memory()
            rank_zero_info(
                f"Rendered {len(images)} synthetic faces at {self.max_resolution} px and below in "
                f"{time.perf_counter() - started:.1f} s ({images.nbytes / 2**20:.0f} MiB in memory)"
            )
        elif is_cache(self.source):
            images = self._open_cache(Path(self.source))
        else:
            images = RawImages(
                open_image_files(self.source),
                self.max_resolution,
                crop=self.crop,
                img_channels=self.img_channels,
                resize_filter=self.resize_filter,
                strict=self.strict,
            )
            rank_zero_info(
                f"Reading {len(images)} images from {self.source} with on-the-fly resizing; "
                "set cache_dir (or run `stylegan-lit prepare`) for faster loading"
            )
        self.images = images

    def _open_cache(self, path: Path) -> CachedImages:
        cache = CachedImages(path)
        if self.max_resolution not in cache.resolutions:
            raise DatasetError(
                f"{path}: prepared up to {cache.max_resolution} px (levels {cache.resolutions}); "
                f"resolution {self.max_resolution} is not available",
                reason="missing resolution",
            )
        if cache.img_channels != self.img_channels:
            raise DatasetError(
                f"{path}: prepared with {cache.img_channels} channels, "
                f"img_channels={self.img_channels} asked; prepare it again with --channels",
                reason="channels",
            )
        return cache

    @property
    def dataset_size(self) -> int:
        """Number of images N (after :meth:`setup`)."""
        return len(self._images())

    def _images(self) -> MultiResolutionImages:
        if self.images is None:
            self.setup("fit")
        assert self.images is not None
        return self.images

    # ----------------------------------------------------------------- stream

    def _check_resolution(self, resolution: int) -> None:
        if resolution not in pyramid_resolutions(self.max_resolution, LOWEST_RESOLUTION):
            raise ValueError(
                f"resolution must be a power of two in [4, {self.max_resolution}], got {resolution}"
            )

    def set_stream(
        self,
        resolution: int,
        batch_size: int,
        start_image: int,
        stop_image: int,
        resume_image: int | None = None,
    ) -> None:
        """Choose what the next :meth:`train_dataloader` serves.

        Args:
            resolution: Image side, a power of two up to ``resolution`` of the module.
            batch_size: Images per rank per batch (the global batch is this x world size).
            start_image: First global image position (images shown so far, all ranks).
            stop_image: Global position to reach; the loader yields
                ``ceil((stop_image - start_image) / global_batch)`` full batches.
            resume_image: Global position the next loader starts at (a batch boundary of
                the stream; the batches before it are not loaded): the images seen when a
                run resumes mid-level. ``None`` starts at ``start_image``.
        """
        self._check_resolution(resolution)
        if batch_size < 1 or not 0 <= start_image <= stop_image:
            raise ValueError(
                "need batch_size >= 1 and 0 <= start_image <= stop_image, got "
                f"{batch_size}, {start_image}, {stop_image}"
            )
        self._stream_request = (resolution, batch_size, start_image, stop_image)
        self._resume_image = resume_image

    def _world(self) -> tuple[int, int]:
        trainer = self.trainer
        if trainer is None:
            return 1, 0
        connector = getattr(trainer, "_accelerator_connector", None)
        if trainer.world_size > 1 and getattr(connector, "use_distributed_sampler", False):
            raise ValueError(
                "FaceDataModule shards the image stream over ranks itself: build the Trainer "
                "with use_distributed_sampler=False"
            )
        return trainer.world_size, trainer.global_rank

    def current_stream(self) -> Stream:
        """The stream the next loader serves (one pass over the data at full resolution by
        default)."""
        world_size, rank = self._world()
        if self._stream_request is None:
            request = (self.max_resolution, self.batch_size, 0, len(self._images()))
        else:
            request = self._stream_request
        return Stream(*request, world_size=world_size, rank=rank)

    def train_dataloader(self) -> StreamLoader:
        """The loader of the current stream: float32 [batch_size, C, R, R] batches in [-1, 1].

        The same loader object (and its persistent workers) is reused for every stream.
        """
        images = self._images()
        stream = self.current_stream()
        first_batch = 0 if self._resume_image is None else stream.batch_at(self._resume_image)
        if self._loader is None:
            order = StreamOrder(len(images), seed=self.seed, mirror=self.mirror)
            self._loader = StreamLoader(
                ImageBatchDataset(images),
                StreamBatchSampler(order, stream),
                num_workers=self.num_workers,
                pin_memory=self.pin_memory,
                persistent_workers=self.persistent_workers,
                prefetch_factor=self.prefetch_factor,
            )
        self._loader.set_stream(stream, first_batch)
        return self._loader

    def teardown(self, stage: str | None = None) -> None:
        """Stop the loader's persistent workers at the end of fitting (the loader, its stream
        and the opened source stay, so a later :meth:`train_dataloader` starts new workers)."""
        if self._loader is not None:
            self._loader.shutdown_workers()

    # ----------------------------------------------------------------- metrics

    def iter_real_images(
        self, resolution: int, count: int, seed: int = 0, batch_size: int = 256
    ) -> Iterator[torch.Tensor]:
        """Real images for metrics, in uint8 batches [b, C, R, R] (values 0..255).

        The ``count`` images are distinct while ``count <= N`` (a seeded permutation of the
        dataset; repeated in new permutations beyond), never flipped, independent of the
        training stream: the same ``(resolution, count, seed)`` always gives the same images.
        """
        self._check_resolution(resolution)
        images = self._images()
        order = StreamOrder(len(images), seed=seed, mirror=False)
        for start in range(0, count, batch_size):
            indices = order.indices(np.arange(start, min(start + batch_size, count)))
            yield torch.from_numpy(images.read(indices, resolution))

    def real_images(self, resolution: int, count: int, seed: int = 0) -> torch.Tensor:
        """``count`` real images at once as uint8 [count, C, R, R]; see :meth:`iter_real_images`
        (prefer it for large counts: 50k images at 256 px are 9.8 GB)."""
        out = torch.empty((count, self.img_channels, resolution, resolution), dtype=torch.uint8)
        start = 0
        for batch in self.iter_real_images(resolution, count, seed):
            out[start : start + len(batch)] = batch
            start += len(batch)
        return out
