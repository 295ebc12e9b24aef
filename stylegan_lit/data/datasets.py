"""Image collections served at any resolution, and the torch Dataset that batches them.

Every source of faces (a prepared cache, a raw folder or archive, the synthetic renderer,
an in-memory pyramid) implements :class:`MultiResolutionImages`: a length, the channel
count, the highest resolution, and ``read(indices, resolution) -> uint8 [B, C, R, R]``.
:class:`ImageBatchDataset` turns one into float batches in [-1, 1] for a DataLoader.
Reading whole batches at once lets the synthetic renderer vectorise over faces and lets the
cache gather rows with one numpy call.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from stylegan_lit.data.errors import DatasetError, summarize_skipped
from stylegan_lit.data.resize import (
    ResizeFilter,
    check_resolution,
    image_pyramid,
)
from stylegan_lit.data.sampler import BatchRequest
from stylegan_lit.data.scan import infer_resolution, scan_files
from stylegan_lit.data.sources import ImageFiles

log = logging.getLogger(__name__)


@runtime_checkable
class MultiResolutionImages(Protocol):
    """A fixed collection of square images available at every power of two up to a maximum."""

    img_channels: int
    max_resolution: int

    def __len__(self) -> int: ...

    def read(self, indices: np.ndarray, resolution: int) -> np.ndarray:
        """uint8 [B, C, R, R] for the given dataset indices (a new, writable array)."""
        ...


def to_float(images: np.ndarray) -> Tensor:
    """uint8 [..., H, W] -> float32 in [-1, 1] (``x / 127.5 - 1``, as the official code).

    Done in numpy, single-threaded: torch's intra-op thread pool costs more than it saves on
    arrays this small, and much more when the training step keeps every core busy.
    """
    out = images.astype(np.float32)
    out /= np.float32(127.5)
    out -= np.float32(1.0)
    return torch.from_numpy(out)


class ImageBatchDataset(Dataset):
    """Float batches from a :class:`MultiResolutionImages` for a DataLoader.

    The DataLoader's batch sampler yields :class:`~stylegan_lit.data.sampler.BatchRequest`
    objects, which torch passes whole to :meth:`__getitems__`.

    Args:
        images: The collection to serve.
    """

    def __init__(self, images: MultiResolutionImages) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> Tensor:
        """One image at the highest resolution, float32 [C, R, R] in [-1, 1]."""
        return to_float(self.images.read(np.array([index]), self.images.max_resolution))[0]

    def __getitems__(self, request: BatchRequest) -> Tensor:
        """The batch a request describes: float32 [B, C, R, R] in [-1, 1], flips applied."""
        images = self.images.read(request.indices, request.resolution)  # [BCHW] uint8
        if request.flips.any():
            images[request.flips] = images[request.flips][..., ::-1]
        return to_float(images)


class MemoryImages:
    """A pyramid held in RAM, e.g. the synthetic faces rendered once.

    The arrays live in shared-memory torch storage, so DataLoader workers receive them
    without a copy under both ``fork`` and ``spawn``.

    Args:
        levels: ``{resolution: uint8 [N, C, R, R]}`` for each power of two served (copied into
            shared memory unless already there).
    """

    def __init__(self, levels: dict[int, np.ndarray | Tensor]) -> None:
        shapes = {r: tuple(a.shape) for r, a in levels.items()}
        counts = {s[0] for s in shapes.values()}
        channels = {s[1] for s in shapes.values()}
        if (
            len(counts) != 1
            or len(channels) != 1
            or any(s[2:] != (r, r) for r, s in shapes.items())
        ):
            raise ValueError(f"inconsistent pyramid shapes {shapes}")
        self._tensors = {r: _shared(a) for r, a in levels.items()}
        self.img_channels = channels.pop()
        self.max_resolution = max(levels)
        self.resolutions = sorted(levels)
        self._count = counts.pop()

    @classmethod
    def empty(cls, count: int, channels: int, resolutions: list[int]) -> MemoryImages:
        """A zeroed pyramid to fill in place through :meth:`level` (no second copy)."""
        shape = {r: (count, channels, r, r) for r in resolutions}
        return cls({r: torch.zeros(shape[r], dtype=torch.uint8) for r in resolutions})

    def level(self, resolution: int) -> np.ndarray:
        """The uint8 [N, C, R, R] array of one resolution (a writable view)."""
        if resolution not in self._tensors:
            raise DatasetError(
                f"no {resolution} px level in memory (has {self.resolutions})",
                reason="missing resolution",
            )
        return self._tensors[resolution].numpy()

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        return sum(t.numel() for t in self._tensors.values())

    def read(self, indices: np.ndarray, resolution: int) -> np.ndarray:
        return self.level(resolution)[np.asarray(indices, dtype=np.int64)]


def _shared(array: np.ndarray | Tensor) -> Tensor:
    tensor = array if isinstance(array, Tensor) else torch.from_numpy(np.ascontiguousarray(array))
    return tensor if tensor.is_shared() else tensor.share_memory_()


class RawImages:
    """Images decoded and downsampled on the fly from a folder or archive (no cache needed).

    Slower than a prepared cache (every read decodes and resizes), but it needs no
    preparation step. The headers of all files are checked when the object is built, so
    non-images, images that are too small and (without ``crop``) non-square ones are found
    up front; they are skipped and logged, or raise with ``strict``. Damage inside the pixel
    data shows only when a file is decoded; that raises a :class:`DatasetError` naming it
    (prepare a cache to find and skip such files in one pass).

    Args:
        files: The image files.
        resolution: Highest resolution served; ``None`` takes the largest power of two that
            fits the first readable image.
        crop: Centre-crop non-square images (else they are skipped or refused).
        img_channels: 3 (RGB) or 1 (grayscale).
        resize_filter: ``"lanczos"`` or ``"box"``; pixels match a cache prepared with it.
        strict: Raise on the first bad file instead of skipping it.
    """

    def __init__(
        self,
        files: ImageFiles,
        resolution: int | None = None,
        *,
        crop: bool = True,
        img_channels: int = 3,
        resize_filter: ResizeFilter = "lanczos",
        strict: bool = False,
    ) -> None:
        self.files = files
        self.crop = crop
        self.img_channels = img_channels
        self.resize_filter = resize_filter
        self.max_resolution = resolution or infer_resolution(files, crop=crop)
        check_resolution(self.max_resolution)
        self.indices, self.skipped = scan_files(
            files, self.max_resolution, crop=crop, strict=strict
        )
        if not self.indices:
            raise DatasetError(
                f"{files.root}: none of {len(files)} image files is usable\n"
                + summarize_skipped(self.skipped, len(files)),
                reason="empty",
            )
        if self.skipped:
            log.warning("%s: %s", files.root, summarize_skipped(self.skipped, len(files)))

    def __len__(self) -> int:
        return len(self.indices)

    def name(self, index: int) -> str:
        return self.files.names[self.indices[index]]

    def read(self, indices: np.ndarray, resolution: int) -> np.ndarray:
        if resolution > self.max_resolution:
            raise DatasetError(
                f"{self.files.root}: {resolution} px asked, maximum {self.max_resolution}"
            )
        out = np.empty((len(indices), self.img_channels, resolution, resolution), np.uint8)
        for row, index in enumerate(np.asarray(indices).tolist()):
            file_index = self.indices[index]
            levels = image_pyramid(
                self.files.read(file_index),
                self.files.names[file_index],
                self.max_resolution,
                lowest=resolution,
                crop=self.crop,
                channels=self.img_channels,
                resize_filter=self.resize_filter,
            )
            out[row] = levels[resolution]
        return out
