"""Header checks over a list of image files, before any pixel is decoded.

Reading only headers is cheap (well under a millisecond per file), so a whole folder can be
checked up front: files that are not images, too small or (without cropping) not square
are found before training starts rather than in the middle of it. Kept free of torch, so
that the ``prepare`` worker processes start quickly.
"""

from __future__ import annotations

import logging

from stylegan_lit.data.errors import DatasetError, Skipped
from stylegan_lit.data.files.image_io import probe_image
from stylegan_lit.data.files.sources import ImageFiles
from stylegan_lit.data.pyramid import largest_power_of_two

log = logging.getLogger(__name__)


def infer_resolution(files: ImageFiles, *, crop: bool = True) -> int:
    """The largest power of two that fits the first readable image (after cropping).

    Raises:
        DatasetError: When no file has a readable header or every image is smaller than 4 px.
    """
    for index, name in enumerate(files.names):
        try:
            with files.open(index) as file:
                info = probe_image(file, name)
        except DatasetError:
            continue
        if not crop and info.width != info.height:
            continue
        side = min(info.width, info.height)
        if side >= 4:
            resolution = largest_power_of_two(side)
            log.info(
                "%s: resolution %d px, from %s (%dx%d)",
                files.root,
                resolution,
                name,
                info.width,
                info.height,
            )
            return resolution
    raise DatasetError(
        f"{files.root}: no readable image of at least 4x4 px to take the resolution from",
        reason="empty",
    )


def scan_files(
    files: ImageFiles, resolution: int, *, crop: bool = True, strict: bool = False
) -> tuple[list[int], list[Skipped]]:
    """Check every file's header: returns the usable file indices and the skipped files.

    Raises:
        DatasetError: With ``strict``, for the first bad file.
    """
    usable, skipped = [], []
    for index, name in enumerate(files.names):
        try:
            with files.open(index) as file:
                info = probe_image(file, name)
            if info.width != info.height and not crop:
                raise DatasetError(
                    f"{name}: image is {info.width}x{info.height}, not square "
                    "(enable centre cropping to use it)",
                    reason="not square",
                )
            side = min(info.width, info.height)
            if side < resolution:
                raise DatasetError(
                    f"{name}: image is {info.width}x{info.height}, smaller than the target "
                    f"resolution {resolution}",
                    reason="too small",
                )
        except DatasetError as error:
            if strict:
                raise
            skipped.append(Skipped(name, error.reason, str(error)))
            continue
        usable.append(index)
    return usable, skipped
