"""Prepare a dataset once: every power-of-two resolution in one pass, into a cache directory.

Usage (``stylegan-lit prepare`` runs this module's :func:`main`)::

    python -m stylegan_lit.data.cache.prepare SRC DST [--resolution R] [--filter lanczos|box]
        [--no-crop] [--channels 1|3] [--strict] [--workers N] [--overwrite]
    python -m stylegan_lit.data.cache.prepare synthetic DST --resolution 64 --num-images 10000 \
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

import argparse
import logging
import os
import shutil
import sys
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


def main(argv: list[str] | None = None) -> int:
    """Prepare a multi-resolution cache from a folder, a ZIP archive or the synthetic faces.

    Returns:
        0 on success, 1 when the dataset cannot be prepared (the reason is printed).
    """
    parser = argparse.ArgumentParser(
        prog="stylegan-lit prepare",
        description="Write every power-of-two resolution of a dataset (down to 4 px) into a "
        "cache folder that training reads with random access.",
    )
    parser.add_argument(
        "source", help="folder of images (recursive), .zip archive of images, or 'synthetic'"
    )
    parser.add_argument("destination", help="cache folder to create")
    parser.add_argument(
        "--resolution",
        type=int,
        default=None,
        help="highest resolution (default: from the first image; 64 for synthetic)",
    )
    parser.add_argument(
        "--filter",
        choices=RESIZE_FILTERS,
        default="lanczos",
        help="downsampling filter (box: the official StyleGAN pyramid, for FID)",
    )
    parser.add_argument(
        "--no-crop",
        dest="crop",
        action="store_false",
        help="skip non-square images instead of centre-cropping them",
    )
    parser.add_argument(
        "--channels", type=int, choices=(1, 3), default=3, help="3 for RGB, 1 for grayscale"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first unusable file instead of skipping it",
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="decoding processes (default 0: in this process)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing cache at DST")
    parser.add_argument(
        "--num-images", type=int, default=10_000, help="synthetic only: number of faces"
    )
    parser.add_argument("--seed", type=int, default=0, help="synthetic only: which faces")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        manifest = prepare_cache(
            args.source,
            args.destination,
            resolution=args.resolution,
            resize_filter=args.filter,
            crop=args.crop,
            channels=args.channels,
            strict=args.strict,
            workers=args.workers,
            overwrite=args.overwrite,
            num_images=args.num_images,
            seed=args.seed,
            progress=not args.quiet,
        )
    except (DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    levels = ", ".join(map(str, manifest.resolutions))
    print(
        f"wrote {manifest.count} images at {levels} px to {args.destination}"
        + (
            f"; skipped {len(manifest.skipped)} files (listed in manifest.json)"
            if manifest.skipped
            else ""
        ),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
