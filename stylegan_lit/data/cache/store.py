"""The multi-resolution cache: one uint8 ``.npy`` per resolution and a JSON manifest.

Layout of a cache directory::

    manifest.json     format, count, channels, resolutions, source, filter, skipped files
    names.txt         source file of each image, one per line, in index order
    r0004.npy ...     uint8 [N, C, R, R] per resolution (channels first: served as is)

Plain ``.npy`` files open anywhere (``np.load(path, mmap_mode="r")``), are memory-mapped
by every DataLoader worker without copying (the page cache is shared between processes and
ranks), and serve random access at memory speed once warm. The writer streams images in one
pass and writes each header last, so the number of images need not be known in advance
(files skipped during decoding simply leave no row). The manifest is written last, so a
directory with a manifest is a complete cache.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from stylegan_lit.data.errors import DatasetError

MANIFEST_NAME = "manifest.json"
NAMES_FILE = "names.txt"
CACHE_FORMAT = "stylegan_lit.cache"
CACHE_VERSION = 1
_HEADER_BYTES = 128  # fixed .npy v1.0 header size, so it can be rewritten in place


def level_file(resolution: int) -> str:
    """File name of one resolution's array."""
    return f"r{resolution:04d}.npy"


def is_cache(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a complete cache directory (it has a manifest)."""
    return (Path(path) / MANIFEST_NAME).is_file()


@dataclass
class CacheManifest:
    """What ``manifest.json`` records.

    Attributes:
        count: Number of images.
        channels: 3 (RGB) or 1 (grayscale).
        resolutions: Stored resolutions, highest first.
        source: The dataset the cache was made from.
        filter: Downsampling filter, ``"lanczos"`` or ``"box"``.
        crop: Whether non-square images were centre-cropped.
        skipped: ``{"name", "reason", "detail"}`` per file left out.
        extra: Source-specific facts (e.g. the synthetic seed).
        format: Always ``"stylegan_lit.cache"``.
        version: Format version.
        layout: Array layout, ``"NCHW"``.
    """

    count: int
    channels: int
    resolutions: list[int]
    source: str
    filter: str
    crop: bool = True
    skipped: list[dict[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    format: str = CACHE_FORMAT
    version: int = CACHE_VERSION
    layout: str = "NCHW"

    @property
    def max_resolution(self) -> int:
        return max(self.resolutions)


def _npy_header(shape: Sequence[int]) -> bytes:
    text = repr({"descr": "|u1", "fortran_order": False, "shape": tuple(shape)})
    body_len = _HEADER_BYTES - 10
    if len(text) + 1 > body_len:
        raise ValueError(f"shape {shape} does not fit a {_HEADER_BYTES}-byte header")
    body = text.ljust(body_len - 1).encode("latin1") + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", body_len) + body


class CacheWriter:
    """Writes a cache in one streaming pass; call :meth:`close` to finish it.

    Args:
        directory: Where to write (created; should be empty).
        resolutions: Resolutions to store.
        channels: Image channels.
    """

    def __init__(
        self, directory: str | os.PathLike[str], resolutions: Sequence[int], channels: int
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.resolutions = sorted(resolutions, reverse=True)
        self.channels = channels
        self.count = 0
        self.names: list[str] = []
        self._files: dict[int, IO[bytes]] = {}
        for r in self.resolutions:
            file = open(self.directory / level_file(r), "wb")  # noqa: SIM115 (closed in close())
            file.write(_npy_header((0, channels, r, r)))
            self._files[r] = file

    def append(self, levels: dict[int, np.ndarray], names: Sequence[str]) -> None:
        """Append images: ``levels[r]`` is uint8 [B, C, r, r] for every resolution."""
        batch = len(names)
        for r, file in self._files.items():
            array = levels[r]
            if array.dtype != np.uint8 or array.shape != (batch, self.channels, r, r):
                raise ValueError(
                    f"expected uint8 {(batch, self.channels, r, r)}, "
                    f"got {array.dtype} {array.shape}"
                )
            file.write(np.ascontiguousarray(array).tobytes())
        self.count += batch
        self.names.extend(names)

    def close(self, manifest: CacheManifest) -> CacheManifest:
        """Write the final headers, the names and (last) the manifest."""
        for r, file in self._files.items():
            file.seek(0)
            file.write(_npy_header((self.count, self.channels, r, r)))
            file.close()
        self._files = {}
        (self.directory / NAMES_FILE).write_text("".join(f"{n}\n" for n in self.names))
        manifest.count, manifest.channels = self.count, self.channels
        manifest.resolutions = list(self.resolutions)
        text = json.dumps(asdict(manifest), indent=2)
        (self.directory / MANIFEST_NAME).write_text(text + "\n")
        return manifest

    def abort(self) -> None:
        """Close the files without finishing (the directory stays incomplete: no manifest)."""
        for file in self._files.values():
            file.close()
        self._files = {}


def read_manifest(directory: str | os.PathLike[str]) -> CacheManifest:
    """Read and check a cache's manifest.

    Raises:
        DatasetError: When it is missing, unreadable or of another format or version.
    """
    path = Path(directory) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise DatasetError(
            f"{directory}: not a prepared cache (no {MANIFEST_NAME})", reason="missing"
        ) from exc
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: unreadable manifest ({exc})", reason="corrupt") from exc
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        raise DatasetError(f"{path}: not a {CACHE_FORMAT} manifest", reason="corrupt")
    if data.get("version") != CACHE_VERSION:
        raise DatasetError(
            f"{path}: cache version {data.get('version')} is not supported (expected "
            f"{CACHE_VERSION}); prepare the dataset again",
            reason="version",
        )
    known = CacheManifest.__dataclass_fields__
    try:
        return CacheManifest(**{k: v for k, v in data.items() if k in known})
    except TypeError as exc:
        raise DatasetError(f"{path}: incomplete manifest ({exc})", reason="corrupt") from exc


class CachedImages:
    """Serves a cache directory: random access to any image at any stored resolution.

    Arrays are memory-mapped lazily in each process and never pickled, so the object is cheap
    to send to DataLoader workers.

    Args:
        directory: A cache written by :class:`CacheWriter` (see
            :mod:`stylegan_lit.data.cache.prepare`).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.manifest = read_manifest(directory)
        self.img_channels = self.manifest.channels
        self.max_resolution = self.manifest.max_resolution
        self.resolutions = sorted(self.manifest.resolutions)
        self._levels: dict[int, np.ndarray] = {}
        self._pid = os.getpid()
        for r in self.resolutions:
            self.level(r)  # fail now, with a clear message, if a file is missing or short

    def __len__(self) -> int:
        return self.manifest.count

    def level(self, resolution: int) -> np.ndarray:
        """The memory-mapped uint8 [N, C, R, R] array of one resolution."""
        if self._pid != os.getpid():
            self._levels, self._pid = {}, os.getpid()
        if resolution not in self._levels:
            if resolution not in self.resolutions:
                raise DatasetError(
                    f"{self.directory}: no {resolution} px level (has {self.resolutions})",
                    reason="missing resolution",
                )
            path = self.directory / level_file(resolution)
            try:
                array = np.load(path, mmap_mode="r")
            except (OSError, ValueError) as exc:
                raise DatasetError(
                    f"{path}: unreadable cache file ({exc})", reason="corrupt"
                ) from exc
            expected = (len(self), self.img_channels, resolution, resolution)
            if array.dtype != np.uint8 or array.shape != expected:
                raise DatasetError(
                    f"{path}: holds {array.dtype} {array.shape}, "
                    f"the manifest says uint8 {expected}",
                    reason="corrupt",
                )
            self._levels[resolution] = array
        return self._levels[resolution]

    def read(self, indices: np.ndarray, resolution: int) -> np.ndarray:
        """Images ``indices`` at ``resolution``: a new uint8 [B, C, R, R] array."""
        return np.take(self.level(resolution), np.asarray(indices, dtype=np.int64), axis=0)

    def names(self) -> list[str]:
        """Source file of each image, in index order."""
        path = self.directory / NAMES_FILE
        return path.read_text().splitlines() if path.is_file() else []

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_levels"] = {}
        return state
