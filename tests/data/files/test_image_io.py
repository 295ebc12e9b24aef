"""Decoding: every mode becomes uint8 [H, W, C]; broken files raise DatasetError naming them."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from stylegan_lit.data.errors import DatasetError
from stylegan_lit.data.files.image_io import decode_image, probe_image
from tests.data.conftest import encode, png16, random_rgb


def test_rgb_round_trip() -> None:
    rgb = random_rgb(8)
    assert np.array_equal(decode_image(encode(rgb), "a.png"), rgb)


def test_grayscale_becomes_rgb_or_stays_single_channel() -> None:
    gray = random_rgb(8)[..., 1]
    rgb = decode_image(encode(gray), "g.png", channels=3)
    assert rgb.shape == (8, 8, 3)
    assert all(np.array_equal(rgb[..., c], gray) for c in range(3))
    single = decode_image(encode(gray), "g.png", channels=1)
    assert single.shape == (8, 8, 1) and np.array_equal(single[..., 0], gray)


def test_rgb_to_single_channel_is_luma() -> None:
    rgb = random_rgb(8)
    expected = np.asarray(Image.fromarray(rgb).convert("L"))
    assert np.array_equal(decode_image(encode(rgb), "c.png", channels=1)[..., 0], expected)


def test_rgba_is_composited_on_white() -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., :3] = (200, 10, 30)
    rgba[0, 0, 3] = 255  # opaque: keeps its colour
    rgba[0, 1, 3] = 0  # transparent: white
    rgba[0, 2, 3] = 128  # half: halfway to white
    out = decode_image(encode(rgba), "cutout.png")
    assert out.shape == (4, 4, 3)
    assert tuple(out[0, 0]) == (200, 10, 30)
    assert tuple(out[0, 1]) == (255, 255, 255)
    assert np.allclose(out[0, 2], [228, 133, 143], atol=1)


def test_palette_with_transparency() -> None:
    img = Image.new("P", (4, 4), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.info["transparency"] = 0
    buffer = io.BytesIO()
    img.save(buffer, "PNG", transparency=0)
    assert tuple(decode_image(buffer.getvalue(), "p.png")[0, 0]) == (255, 255, 255)


def test_sixteen_bit_grayscale_is_scaled() -> None:
    values = np.array([[0, 257, 65535, 32896]], np.uint16)
    out = decode_image(png16(values), "deep.png", channels=1)
    assert out[0, :, 0].tolist() == [0, 1, 255, 128]


def test_sixteen_bit_rgb_is_reduced() -> None:
    values = np.zeros((2, 2, 3), np.uint16)
    values[..., 0], values[..., 1], values[..., 2] = 65535, 257 * 100, 0
    assert tuple(decode_image(png16(values), "deep.png")[0, 0]) == (255, 100, 0)


def test_float_images_are_refused() -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.ones((4, 4), np.float32)).save(buffer, "TIFF")
    with pytest.raises(DatasetError, match=r"f\.tif.*floating-point") as info:
        decode_image(buffer.getvalue(), "f.tif")
    assert info.value.reason == "unsupported mode"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file(fmt: str) -> None:
    data = encode(random_rgb(32), fmt)
    with pytest.raises(DatasetError, match=r"broken\.img: corrupt or truncated") as info:
        decode_image(data[: len(data) // 2], "broken.img")
    assert info.value.reason == "corrupt"


def test_not_an_image() -> None:
    with pytest.raises(DatasetError, match=r"notes\.png: not a readable image") as info:
        decode_image(b"just some text", "notes.png")
    assert info.value.reason == "not an image"
    with pytest.raises(DatasetError, match=r"notes\.png"):
        probe_image(io.BytesIO(b"just some text"), "notes.png")


def test_probe_reads_the_header_only() -> None:
    data = encode(random_rgb((10, 20)))
    info = probe_image(io.BytesIO(data[:100]), "header-only.png")  # pixel data cut off
    assert (info.width, info.height, info.mode) == (20, 10, "RGB")


def test_exif_orientation_is_applied() -> None:
    image = Image.fromarray(random_rgb((4, 8)))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif)
    assert decode_image(buffer.getvalue(), "rotated.png").shape == (8, 4, 3)
