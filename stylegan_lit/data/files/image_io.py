"""Decode one image file into a uint8 array with a fixed number of channels.

Real datasets mix modes: grayscale, palette, RGBA cut-outs, 16-bit PNGs, CMYK JPEGs, phone
photos with an EXIF rotation. Everything is normalised here, once, so the rest of the
package only ever sees ``uint8 [H, W, C]`` with C = 1 or 3:

* grayscale becomes RGB by repeating the channel (or stays 1-channel when 1 is asked for);
* an alpha channel is composited onto a white background (then dropped), the usual
  expectation for cut-outs;
* 16-bit grayscale is scaled to 8 bits (``round(v / 257)``); Pillow already reduces 16-bit
  RGB PNGs to 8 bits when it opens them;
* the EXIF orientation is applied;
* float images (mode ``F``) are rejected: their range is unknown.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO

import numpy as np
from PIL import Image, ImageOps

from stylegan_lit.data.errors import DatasetError

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
"""File name endings read as images (case-insensitive); other files are ignored and counted."""

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_BACKGROUND = (255, 255, 255)


def is_image_name(name: str) -> bool:
    """Whether a file name has one of the :data:`IMAGE_EXTENSIONS`."""
    return name.lower().endswith(IMAGE_EXTENSIONS)


@dataclass(frozen=True)
class ImageInfo:
    """What an image header says, read without decoding the pixels."""

    width: int
    height: int
    mode: str


def probe_image(file: IO[bytes], name: str) -> ImageInfo:
    """Read the header of an image file (cheap: the pixels are not decoded).

    Raises:
        DatasetError: ``reason="not an image"`` when Pillow cannot identify the file,
            ``"unsupported mode"`` for float images.
    """
    try:
        with Image.open(file) as img:
            info = ImageInfo(img.width, img.height, img.mode)
    except Exception as exc:  # Pillow raises many types for unreadable headers.
        raise _not_an_image(name, exc) from exc
    if info.mode == "F":
        raise DatasetError(
            f"{name}: floating-point images (mode F) are not supported: their range is unknown",
            reason="unsupported mode",
        )
    return info


def decode_image(data: bytes, name: str, channels: int = 3) -> np.ndarray:
    """Decode an encoded image into ``uint8 [H, W, channels]``.

    Args:
        data: The file's bytes (PNG, JPEG, WebP, ...).
        name: The file's name, for error messages.
        channels: 3 for RGB, 1 for grayscale (luma, ITU-R 601-2 as in Pillow).

    Raises:
        DatasetError: ``reason="corrupt"`` for truncated or damaged files, ``"not an image"``
            when the format is unknown, ``"unsupported mode"`` for float images.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
    except Image.UnidentifiedImageError as exc:
        raise _not_an_image(name, exc) from exc
    except Exception as exc:  # truncated or damaged data: OSError, SyntaxError, zlib.error, ...
        raise DatasetError(
            f"{name}: corrupt or truncated image ({_describe(exc)})", reason="corrupt"
        ) from exc
    return _to_array(img, name, channels)


def _to_array(img: Image.Image, name: str, channels: int) -> np.ndarray:
    if img.mode == "F":
        raise DatasetError(
            f"{name}: floating-point images (mode F) are not supported: their range is unknown",
            reason="unsupported mode",
        )
    if img.mode in _SIXTEEN_BIT_MODES:
        wide = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8), "L")
    has_alpha = img.mode in _ALPHA_MODES or (img.mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_BACKGROUND, 255))
        img = Image.alpha_composite(background, rgba)
    img = img.convert("RGB" if channels == 3 else "L")
    array = np.asarray(img, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return np.ascontiguousarray(array)


def _not_an_image(name: str, exc: BaseException) -> DatasetError:
    if isinstance(exc, Image.UnidentifiedImageError):
        detail = "unknown format or damaged header"
    else:
        detail = _describe(exc)
    return DatasetError(f"{name}: not a readable image ({detail})", reason="not an image")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
