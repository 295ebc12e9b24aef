"""``stylegan-lit prepare SRC DST``: a dataset into a multi-resolution cache.

Examples::

    stylegan-lit prepare data/ffhq-images data/ffhq-cache --filter box
    stylegan-lit prepare synthetic data/faces64 --resolution 64 --num-images 10000

The work is :func:`stylegan_lit.data.prepare_cache`; this module only reads the command line.
"""

from __future__ import annotations

import argparse
import logging
import sys

from stylegan_lit.data.cache.prepare import prepare_cache
from stylegan_lit.data.errors import DatasetError
from stylegan_lit.data.files.resize import RESIZE_FILTERS


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
