"""A photo file as a projection target: decoded, centre-cropped and resized to the model.

Decoding, cropping and resizing are the data package's (the same code that prepares
training images), so a photo is framed for projection as a training image would be: centre
crop to the shorter side, Lanczos down to the model's resolution, converted to the model's
channel count (a grayscale photo for an RGB model is repeated into three channels, an RGB
photo for a grayscale model becomes luma). Smaller photos are refused rather than
upsampled: a projection of an enlarged blur would fit the blur.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from stylegan_lit.data import DatasetError, check_size, decode_image, resize_square, square
from stylegan_lit.generate.images import PathLike


class PhotoError(ValueError):
    """A photo that cannot be a target (not an image, too small); the message names it."""


def load_photo(path: PathLike, resolution: int, channels: int = 3) -> Tensor:
    """The photo at ``path`` as a target [channels, resolution, resolution] in [-1, 1].

    Raises:
        FileNotFoundError: No such file.
        PhotoError: Not a decodable image, or smaller than ``resolution`` after cropping.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        pixels = decode_image(path.read_bytes(), str(path), channels)
        height, width = pixels.shape[:2]
        pixels = square(pixels, crop=True, name=str(path))
        check_size(pixels.shape[0], resolution, str(path))
    except DatasetError as error:
        if error.reason == "too small":
            raise PhotoError(
                f"{path} is {width}x{height} px; the minimum for this model "
                f"is {resolution}x{resolution} (after a centre crop to a square)"
            ) from None
        raise PhotoError(str(error)) from None
    pixels = resize_square(pixels, resolution, "lanczos")
    image = torch.from_numpy(pixels.copy()).permute(2, 0, 1).float()
    return image / 127.5 - 1.0


__all__ = ["PhotoError", "load_photo"]
