"""Face datasets: built-in synthetic faces, image folders and ZIPs, the multi-resolution
cache, and the Lightning data module that streams them at the current resolution.

Names are imported lazily, so that ``python -m stylegan_lit.data.prepare`` and its worker
processes do not pay for importing Lightning.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "CacheManifest": "cache",
    "CachedImages": "cache",
    "is_cache": "cache",
    "FaceDataModule": "datamodule",
    "ImageBatchDataset": "datasets",
    "MemoryImages": "datasets",
    "MultiResolutionImages": "datasets",
    "RawImages": "datasets",
    "DatasetError": "errors",
    "Skipped": "errors",
    "COARSE_ATTRIBUTES": "face_attributes",
    "FINE_ATTRIBUTES": "face_attributes",
    "HAIR_STYLES": "face_attributes",
    "FaceAttributes": "face_attributes",
    "sample_attributes": "face_attributes",
    "landmarks": "face_render",
    "render_faces": "face_render",
    "StreamLoader": "loader",
    "prepare_cache": "prepare",
    "BatchRequest": "sampler",
    "Stream": "sampler",
    "StreamBatchSampler": "sampler",
    "StreamOrder": "sampler",
    "open_image_files": "sources",
    "SyntheticFaces": "synthetic",
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
    "is_cache",
    "landmarks",
    "open_image_files",
    "prepare_cache",
    "render_faces",
    "sample_attributes",
]

if TYPE_CHECKING:
    from stylegan_lit.data.cache import CachedImages, CacheManifest, is_cache
    from stylegan_lit.data.datamodule import FaceDataModule
    from stylegan_lit.data.datasets import (
        ImageBatchDataset,
        MemoryImages,
        MultiResolutionImages,
        RawImages,
    )
    from stylegan_lit.data.errors import DatasetError, Skipped
    from stylegan_lit.data.face_attributes import (
        COARSE_ATTRIBUTES,
        FINE_ATTRIBUTES,
        HAIR_STYLES,
        FaceAttributes,
        sample_attributes,
    )
    from stylegan_lit.data.face_render import landmarks, render_faces
    from stylegan_lit.data.loader import StreamLoader
    from stylegan_lit.data.prepare import prepare_cache
    from stylegan_lit.data.sampler import BatchRequest, Stream, StreamBatchSampler, StreamOrder
    from stylegan_lit.data.sources import open_image_files
    from stylegan_lit.data.synthetic import SyntheticFaces


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    return __all__
