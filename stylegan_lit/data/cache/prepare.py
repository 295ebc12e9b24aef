"""Prepare a dataset once: every power-of-two resolution in one pass, into a cache directory.

Usage (``stylegan-lit prepare`` runs this module's :func:`main`)::

    stylegan-lit prepare SRC DST [--resolution R] [--filter lanczos|box]
        [--no-crop] [--channels 1|3] [--strict] [--workers N] [--overwrite]
    stylegan-lit prepare synthetic DST --resolution 64 --num-images 10000 \
        --seed 0

``SRC`` is a folder of images (searched recursively), a ZIP archive of images, or the word
``synthetic``. Each image is decoded once, centre-cropped to a square (or skipped with
``--no-crop``), resized to R (default: the largest power of two that fits the first
image) and downsampled to R/2, ..., 4 px. Files that cannot be used (corrupt, too small,
not square, not images) are skipped, logged and listed in the manifest with the reason;
``--strict`` stops at the first one instead. See :mod:`stylegan_lit.data.cache.store` for
the format. This is where the cache meets the sources: it reads image files through
:mod:`stylegan_lit.data.files` and renders :mod:`stylegan_lit.data.synthetic` faces.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from stylegan_lit.data.cache.store import CacheManifest, CacheWriter, is_cache
from stylegan_lit.data.errors import DatasetError, Skipped, summarize_skipped
from stylegan_lit.data.files.decode_pool import decode_all
from stylegan_lit.data.files.resize import RESIZE_FILTERS, ResizeFilter
from stylegan_lit.data.files.scan import infer_resolution
from stylegan_lit.data.files.sources import ImageFiles, open_image_files
from stylegan_lit.data.pyramid import LOWEST_RESOLUTION, check_resolution, pyramid_resolutions

log = logging.getLogger(__name__)

SYNTHETIC = "synthetic"


def _target_directory(destination: Path, overwrite: bool) -> None:
    if is_cache(destination):
        if not overwrite:
            raise DatasetError(
                f"{destination}: a prepared cache already exists (use --overwrite to replace it)",
                reason="exists",
            )
    elif destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise DatasetError(
            f"{destination}: exists and is neither an empty folder nor a cache; "
            "refusing to overwrite it",
            reason="exists",
        )


def prepare_cache(
    source: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    *,
    resolution: int | None = None,
    resize_filter: ResizeFilter = "lanczos",
    crop: bool = True,
    channels: int = 3,
    strict: bool = False,
    workers: int = 0,
    overwrite: bool = False,
    num_images: int = 10_000,
    seed: int = 0,
    progress: bool = True,
) -> CacheManifest:
    """Write the multi-resolution cache of a dataset (see the module docstring).

    The cache is written into a temporary sibling folder and renamed into place when
    complete, so an interrupted run never leaves something that looks like a cache, and
    concurrent runs (several nodes preparing the same shared folder) do not collide.

    Args:
        source: A folder or ZIP of images, or ``"synthetic"``.
        destination: The cache folder to create.
        resolution: Highest resolution; ``None`` infers it from the first image (64 for
            synthetic faces).
        resize_filter: ``"lanczos"`` (quality) or ``"box"`` (the official pyramid, for FID).
        crop: Centre-crop non-square images; otherwise they are skipped.
        channels: 3 (RGB) or 1 (grayscale).
        strict: Raise on the first bad file instead of skipping it.
        workers: Processes decoding in parallel (0: in this process).
        overwrite: Replace an existing cache at ``destination``.
        num_images: Synthetic faces only: how many.
        seed: Synthetic faces only: which.
        progress: Show a progress bar.

    Returns:
        The manifest written.

    Raises:
        DatasetError: For a missing or empty source, an existing destination, no usable
            image, or (with ``strict``) any bad file.
    """
    if resize_filter not in RESIZE_FILTERS:
        raise ValueError(f"resize_filter must be one of {RESIZE_FILTERS}, got {resize_filter!r}")
    destination = Path(destination)
    _target_directory(destination, overwrite)
    if str(source) != SYNTHETIC and is_cache(source):
        raise DatasetError(
            f"{source}: already a prepared cache; use it as the data source directly",
            reason="exists",
        )
    staging = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        if str(source) == SYNTHETIC:
            top = check_resolution(resolution) if resolution else 64
            manifest = _write_synthetic(staging, top, channels, num_images, seed, progress)
        else:
            files = open_image_files(source)
            top = check_resolution(resolution) if resolution else infer_resolution(files, crop=crop)
            manifest = _write_files(
                staging, files, top, resize_filter, crop, channels, strict, workers, progress
            )
        if is_cache(destination):
            shutil.rmtree(destination)
        elif destination.exists():
            destination.rmdir()  # empty (checked above)
        os.replace(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _write_synthetic(
    staging: Path, resolution: int, channels: int, num_images: int, seed: int, progress: bool
) -> CacheManifest:
    # Imported here: it needs torch, which the decoding workers (that import this module
    # when it runs as __main__) should not have to load.
    from stylegan_lit.data.synthetic.faces import SyntheticFaces

    faces = SyntheticFaces(num_images, seed=seed, resolution=resolution, img_channels=channels)
    writer = CacheWriter(staging, pyramid_resolutions(resolution), channels)
    try:
        with tqdm(
            total=num_images, desc="prepare synthetic", unit="img", disable=not progress
        ) as bar:
            for indices, levels in faces.pyramids():
                writer.append(levels, [f"synthetic/{i}" for i in indices.tolist()])
                bar.update(len(indices))
    except BaseException:
        writer.abort()
        raise
    manifest = CacheManifest(
        count=0,
        channels=channels,
        resolutions=[],
        source=SYNTHETIC,
        filter="box",
        extra={"seed": seed, "num_images": num_images},
    )
    return writer.close(manifest)


def _write_files(
    staging: Path,
    files: ImageFiles,
    top: int,
    resize_filter: ResizeFilter,
    crop: bool,
    channels: int,
    strict: bool,
    workers: int,
    progress: bool,
) -> CacheManifest:
    resolutions = pyramid_resolutions(top)
    options = {
        "top": top,
        "lowest": LOWEST_RESOLUTION,
        "crop": crop,
        "channels": channels,
        "resize_filter": resize_filter,
    }
    log.info(
        "%s: %d image files -> %s px, %s filter", files.root, len(files), resolutions, resize_filter
    )
    skipped: list[Skipped] = []
    writer = CacheWriter(staging, resolutions, channels)
    try:
        bar = tqdm(total=len(files), desc="prepare", unit="img", disable=not progress)
        with bar, logging_redirect_tqdm():  # warnings print above the bar, not through it
            for index, result in enumerate(decode_all(files, options, workers)):
                bar.update(1)
                if isinstance(result, Skipped):
                    if strict:
                        raise DatasetError(result.detail, reason=result.reason)
                    log.warning("skipping %s", result.detail)
                    skipped.append(result)
                    continue
                writer.append({r: level[None] for r, level in result.items()}, [files.names[index]])
    except BaseException:
        writer.abort()
        raise
    everything = files.ignored + skipped
    if writer.count == 0:
        writer.abort()
        raise DatasetError(
            f"{files.root}: no usable image\n"
            + summarize_skipped(everything, len(files) + len(files.ignored)),
            reason="empty",
        )
    if everything:
        log.warning("%s", summarize_skipped(everything, len(files) + len(files.ignored)))
    manifest = CacheManifest(
        count=0,
        channels=channels,
        resolutions=[],
        source=str(Path(files.root).resolve()),
        filter=resize_filter,
        crop=crop,
        skipped=[s.to_dict() for s in everything],
    )
    return writer.close(manifest)
