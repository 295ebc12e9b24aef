"""Face datasets for training: four parts, and the Lightning data module that joins them.

* the synthetic renderer, :mod:`~stylegan_lit.data.synthetic` (``attributes``, ``render``,
  ``faces``): procedural faces with known attributes, nothing to download;
* file input, :mod:`~stylegan_lit.data.files` (``sources``, ``image_io``, ``scan``,
  ``resize``, ``raw``, ``decode_pool``): folders and ZIPs of images, decoded into pyramids;
* the cache, :mod:`~stylegan_lit.data.cache` (``store``, ``prepare``): a dataset prepared
  once into memory-mapped arrays, one per resolution;
* the stream, :mod:`~stylegan_lit.data.stream` (``sampler``, ``loader``, ``dataset``):
  which images reach each rank in which order, batch by batch.

At this level sit what several parts share, and the module that joins them:

* :mod:`~stylegan_lit.data.images`: :class:`MultiResolutionImages`, the protocol each source
  implements and the only thing the stream knows about sources, and :class:`MemoryImages`;
* :mod:`~stylegan_lit.data.pyramid`: the power-of-two resolution rules and box reduction
  (the renderer, file input, the cache and the data module all use them);
* :mod:`~stylegan_lit.data.hashing`: counter-based random numbers (the faces' attributes and
  the stream's order);
* :mod:`~stylegan_lit.data.errors`: :class:`DatasetError` and :class:`Skipped`;
* :mod:`~stylegan_lit.data.datamodule`: :class:`FaceDataModule`, which picks the source and
  serves the stream.

Why this grouping: each part can be read, tested and changed on its own, because the
dependencies point one way. The renderer and file input know nothing of each other; the
cache builds on both (``prepare`` is where a source becomes a cache, so it lives with the
format it writes); the stream knows sources only through :class:`MultiResolutionImages`.
A module sits at this level only when two or more parts need it: that is why the resolution
rules and box reduction (:mod:`~stylegan_lit.data.pyramid`) are not in file input's
``resize``, which the renderer would otherwise have to import.

The names below are the package's API (import them from here); they are imported lazily, so
that ``stylegan-lit prepare`` and its worker processes do not pay for importing Lightning.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "CacheManifest": "cache.store",
    "CachedImages": "cache.store",
    "is_cache": "cache.store",
    "FaceDataModule": "datamodule",
    "ImageBatchDataset": "stream.dataset",
    "MemoryImages": "images",
    "MultiResolutionImages": "images",
    "RawImages": "files.raw",
    "DatasetError": "errors",
    "Skipped": "errors",
    "decode_image": "files.image_io",
    "square": "files.resize",
    "check_size": "files.resize",
    "resize_square": "files.resize",
    "COARSE_ATTRIBUTES": "synthetic.attributes",
    "FINE_ATTRIBUTES": "synthetic.attributes",
    "HAIR_STYLES": "synthetic.attributes",
    "FaceAttributes": "synthetic.attributes",
    "sample_attributes": "synthetic.attributes",
    "landmarks": "synthetic.render",
    "render_faces": "synthetic.render",
    "StreamLoader": "stream.loader",
    "prepare_cache": "cache.prepare",
    "BatchRequest": "stream.sampler",
    "Stream": "stream.sampler",
    "StreamBatchSampler": "stream.sampler",
    "StreamOrder": "stream.sampler",
    "open_image_files": "files.sources",
    "SyntheticFaces": "synthetic.faces",
}

__all__ = [
    "COARSE_ATTRIBUTES",
    "FINE_ATTRIBUTES",
    "HAIR_STYLES",
    "BatchRequest",
    "CacheManifest",
    "CachedImages",
    "DatasetError",
    "FaceAttributes",
    "FaceDataModule",
    "ImageBatchDataset",
    "MemoryImages",
    "MultiResolutionImages",
    "RawImages",
    "Skipped",
    "Stream",
    "StreamBatchSampler",
    "StreamLoader",
    "StreamOrder",
    "SyntheticFaces",
    "check_size",
    "decode_image",
    "is_cache",
    "landmarks",
    "open_image_files",
    "prepare_cache",
    "render_faces",
    "resize_square",
    "sample_attributes",
    "square",
]

if TYPE_CHECKING:
    from stylegan_lit.data.cache.prepare import prepare_cache
    from stylegan_lit.data.cache.store import CachedImages, CacheManifest, is_cache
    from stylegan_lit.data.datamodule import FaceDataModule
    from stylegan_lit.data.errors import DatasetError, Skipped
    from stylegan_lit.data.files.image_io import decode_image
    from stylegan_lit.data.files.raw import RawImages
    from stylegan_lit.data.files.resize import check_size, resize_square, square
    from stylegan_lit.data.files.sources import open_image_files
    from stylegan_lit.data.images import MemoryImages, MultiResolutionImages
    from stylegan_lit.data.stream.dataset import ImageBatchDataset
    from stylegan_lit.data.stream.loader import StreamLoader
    from stylegan_lit.data.stream.sampler import (
        BatchRequest,
        Stream,
        StreamBatchSampler,
        StreamOrder,
    )
    from stylegan_lit.data.synthetic.attributes import (
        COARSE_ATTRIBUTES,
        FINE_ATTRIBUTES,
        HAIR_STYLES,
        FaceAttributes,
        sample_attributes,
    )
    from stylegan_lit.data.synthetic.faces import SyntheticFaces
    from stylegan_lit.data.synthetic.render import landmarks, render_faces


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    return __all__
