"""Images decoded and downsampled on the fly from a folder or archive, with no cache."""

from __future__ import annotations

import logging

import numpy as np

from stylegan_lit.data.errors import DatasetError, summarize_skipped
from stylegan_lit.data.files.resize import ResizeFilter, image_pyramid
from stylegan_lit.data.files.scan import infer_resolution, scan_files
from stylegan_lit.data.files.sources import ImageFiles
from stylegan_lit.data.pyramid import check_resolution

log = logging.getLogger(__name__)


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
