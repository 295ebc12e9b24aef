"""Sources of real images for the metrics: a tensor, a folder, a .pt file, or a data module.

The metrics need the first N real images at the resolution being evaluated, readable in
slices (so that DDP ranks can share the work) and identifiable (so that cached statistics
are reused only for the very same images). Every source serves uint8 pixels or floats in
[-1, 1] of shape [n, C, R, R], and brings larger images to R by integer box downscaling,
as a multi-resolution dataset would; anything else (upscaling, non-square images, odd
factors) is refused, because a silent resample would change the real statistics.

Files are listed and decoded by the data package (:func:`stylegan_lit.data.open_image_files`,
:func:`stylegan_lit.data.decode_image`), so a folder measured here yields the pixels that
training reads from it (EXIF rotation, alpha over white, 16-bit scaling included).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

from stylegan_lit.data import decode_image, open_image_files
from stylegan_lit.generate.images import to_uint8
from stylegan_lit.metrics.images import downscale_uint8


@runtime_checkable
class ImageSource(Protocol):
    """What the metrics need of a real-image set."""

    def available(self, resolution: int, count: int) -> int:
        """How many of the first ``count`` images exist at ``resolution`` (<= ``count``)."""
        ...

    def read(self, start: int, stop: int, resolution: int) -> Tensor:
        """Images ``start:stop`` at ``resolution``: [n, C, R, R], uint8 or floats in [-1, 1]."""
        ...

    def fingerprint(self, resolution: int, count: int) -> str:
        """A string that changes whenever the first ``count`` images at ``resolution`` do."""
        ...


def _content_hash(images: Tensor, resolution: int) -> str:
    pixels = to_uint8(images, require_finite=True).contiguous().cpu()
    digest = hashlib.sha256(f"{tuple(pixels.shape)}@{resolution}".encode())
    digest.update(pixels.numpy().tobytes())
    return digest.hexdigest()[:16]


def _at_resolution(images: Tensor, resolution: int) -> Tensor:
    if images.ndim != 4:
        raise ValueError(f"real images must be [N, C, H, W], got {tuple(images.shape)}")
    if images.shape[-1] == resolution and images.shape[-2] == resolution:
        return images
    return downscale_uint8(to_uint8(images, require_finite=True), resolution)


class TensorImages:
    """Real images held in memory: [N, C, H, W] uint8 or floats in [-1, 1].

    Args:
        images: The images (at the evaluation resolution or an integer multiple of it).
        name: Label used in cache file names and messages.
    """

    def __init__(self, images: Tensor, name: str = "tensor") -> None:
        if images.ndim != 4 or images.shape[-1] != images.shape[-2]:
            raise ValueError(f"expected square images [N, C, H, W], got {tuple(images.shape)}")
        self.images = images
        self.name = name

    def available(self, resolution: int, count: int) -> int:
        return min(count, self.images.shape[0])

    def read(self, start: int, stop: int, resolution: int) -> Tensor:
        return _at_resolution(self.images[start:stop], resolution)

    def fingerprint(self, resolution: int, count: int) -> str:
        return _content_hash(self.read(0, count, resolution), resolution)


class CallableImages:
    """Images from ``fn(resolution, count, seed) -> Tensor``, e.g. a data module's method.

    The result of the last call is kept, so the slices that DDP ranks read come from one
    draw. A data module exposing ``real_images(resolution, count, seed)`` is wrapped by
    :func:`as_image_source`.

    Args:
        fn: Returns up to ``count`` images at ``resolution``.
        seed: Passed to ``fn``: which images a random-access dataset returns.
        name: Label used in messages.
    """

    def __init__(
        self, fn: Callable[[int, int, int], Tensor], *, seed: int = 0, name: str = "callable"
    ) -> None:
        self.fn = fn
        self.seed = seed
        self.name = name
        self._cached: tuple[int, int, Tensor] | None = None

    def _images(self, resolution: int, count: int) -> Tensor:
        if self._cached is None or self._cached[:2] != (resolution, count):
            images = self.fn(resolution, count, self.seed)
            if not isinstance(images, Tensor):
                raise TypeError(f"{self.name} returned {type(images).__name__}, not a Tensor")
            self._cached = (resolution, count, _at_resolution(images[:count], resolution))
        return self._cached[2]

    def available(self, resolution: int, count: int) -> int:
        return self._images(resolution, count).shape[0]

    def read(self, start: int, stop: int, resolution: int) -> Tensor:
        if self._cached is None or self._cached[0] != resolution or self._cached[1] < stop:
            self._images(resolution, stop)
        assert self._cached is not None
        return self._cached[2][start:stop]

    def fingerprint(self, resolution: int, count: int) -> str:
        return _content_hash(self._images(resolution, count), resolution)


class DataModuleImages:
    """Real images streamed from a data module's ``iter_real_images(resolution, count, seed,
    batch_size)`` (``FaceDataModule``): the same images, crop and resize as training sees,
    without holding 50k images in memory.

    Reads are served from the stream in order; a read that starts before the stream's
    position restarts it, one that starts later skips ahead (a DDP rank reading its share).

    Args:
        datamodule: The data module.
        seed: Which images (a seeded permutation of the dataset).
        batch_size: Images per stream batch.
    """

    def __init__(self, datamodule: Any, *, seed: int = 0, batch_size: int = 256) -> None:
        self.datamodule = datamodule
        self.seed = seed
        self.batch_size = batch_size
        self.name = type(datamodule).__name__
        self._stream: Any = None
        self._count = 0
        self._key: tuple[int, int] | None = None
        self._buffer: Tensor | None = None
        self._buffer_start = 0

    def available(self, resolution: int, count: int) -> int:
        self._count = count  # later reads stream the same ``count`` images
        return count  # the data module repeats its images (in new orders) beyond its size

    def _restart(self, resolution: int, count: int) -> None:
        self._stream = iter(
            self.datamodule.iter_real_images(
                resolution, count, self.seed, batch_size=self.batch_size
            )
        )
        self._key = (resolution, count)
        self._buffer, self._buffer_start = None, 0

    def read(self, start: int, stop: int, resolution: int) -> Tensor:
        count = max(stop, self._count)
        if self._key != (resolution, count) or start < self._buffer_start:
            self._restart(resolution, count)
        while self._buffer_start + (0 if self._buffer is None else len(self._buffer)) < stop:
            batch = next(self._stream)
            self._buffer = batch if self._buffer is None else torch.cat([self._buffer, batch])
            drop = start - self._buffer_start  # keep nothing before the requested images
            if drop > 0:
                self._buffer, self._buffer_start = self._buffer[drop:], start
        assert self._buffer is not None
        offset = start - self._buffer_start
        return _at_resolution(self._buffer[offset : offset + stop - start], resolution)

    def fingerprint(self, resolution: int, count: int) -> str:
        """The data module's configuration plus the content of the first images.

        Hashing all N images would mean reading them on every cache hit; a change of
        dataset, crop, filter or order changes the configuration or the first images.
        """
        hparams = getattr(self.datamodule, "hparams", {})
        config = sorted((str(k), repr(v)) for k, v in dict(hparams).items())
        digest = hashlib.sha256(f"{self.name}|{config}|{self.seed}|{count}".encode())
        self.available(resolution, count)
        first = self.read(0, min(count, 64), resolution)
        digest.update(_content_hash(first, resolution).encode())
        return digest.hexdigest()[:16]


class FolderImages:
    """Image files in a folder, listed and decoded as the data package does it.

    The files are those :func:`stylegan_lit.data.open_image_files` lists (recursively,
    sorted by relative path, hidden files left out), decoded by
    :func:`stylegan_lit.data.decode_image`; unlike training, nothing is cropped: a
    non-square image is refused, as every real-image source here refuses a resample.

    Args:
        root: The folder.
        channels: 3 (RGB) or 1 (grayscale): what the files are converted to.

    Raises:
        FileNotFoundError: The folder does not exist.
        stylegan_lit.data.DatasetError: It holds no image file (a ``ValueError``).
    """

    READER = "data.decode_image"
    """Part of the fingerprint: statistics cached under another way of decoding are not reused."""

    def __init__(self, root: str | os.PathLike[str], channels: int = 3) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"real-image folder {self.root} does not exist")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        self.channels = channels
        self.files = open_image_files(self.root)
        self.name = self.root.name

    def available(self, resolution: int, count: int) -> int:
        return min(count, len(self.files))

    def _load(self, index: int, resolution: int) -> Tensor:
        path = self.root / self.files.names[index]
        array = decode_image(self.files.read(index), str(path), self.channels)  # [H, W, C]
        pixels = torch.from_numpy(array.copy()).permute(2, 0, 1)  # decoded arrays are read-only
        if pixels.shape[1] != pixels.shape[2]:
            raise ValueError(f"real image {path} is not square: {tuple(pixels.shape[1:])}")
        try:
            return downscale_uint8(pixels[None], resolution)[0]
        except ValueError as error:
            raise ValueError(f"real image {path}: {error}") from error

    def read(self, start: int, stop: int, resolution: int) -> Tensor:
        return torch.stack(
            [self._load(i, resolution) for i in range(start, min(stop, len(self.files)))]
        )

    def fingerprint(self, resolution: int, count: int) -> str:
        digest = hashlib.sha256(
            f"{self.root.resolve()}@{resolution}/{self.channels}/{self.READER}".encode()
        )
        for name in self.files.names[:count]:
            stat = (self.root / name).stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
        return digest.hexdigest()[:16]


def load_tensor_file(path: str | os.PathLike[str]) -> Tensor:
    """Images from a ``.pt`` file: a tensor, or a dict with an ``"images"`` tensor."""
    data = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(data, dict):
        data = data.get("images")
    if not isinstance(data, Tensor):
        raise ValueError(f"{path} holds no image tensor (a Tensor or a dict with 'images')")
    return data


def as_image_source(obj: Any, *, seed: int = 0, channels: int = 3) -> ImageSource:
    """Wrap what the user gave: an :class:`ImageSource`, a Tensor, a folder, a ``.pt`` file, a
    data module (``iter_real_images`` streamed, else ``real_images(resolution, count, seed)``),
    or such a callable.
    """
    if isinstance(obj, Tensor):
        return TensorImages(obj)
    if isinstance(obj, str | os.PathLike):
        path = Path(obj)
        if path.is_dir():
            return FolderImages(path, channels=channels)
        if path.suffix in (".pt", ".pth") and path.is_file():
            return TensorImages(load_tensor_file(path), name=path.stem)
        raise FileNotFoundError(f"{path} is neither a folder of images nor a .pt tensor file")
    if callable(getattr(obj, "iter_real_images", None)):
        return DataModuleImages(obj, seed=seed)
    if callable(getattr(obj, "real_images", None)):
        return CallableImages(obj.real_images, seed=seed, name=type(obj).__name__)
    if isinstance(obj, ImageSource):
        return obj
    if callable(obj):
        return CallableImages(obj, seed=seed, name=getattr(obj, "__name__", "callable"))
    raise TypeError(f"cannot read real images from {type(obj).__name__}")


__all__ = [
    "CallableImages",
    "DataModuleImages",
    "FolderImages",
    "ImageSource",
    "TensorImages",
    "as_image_source",
    "load_tensor_file",
]
