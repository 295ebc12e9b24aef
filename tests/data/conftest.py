"""Helpers for the data tests: tiny image files of every awkward kind."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def random_rgb(size: int | tuple[int, int], seed: int = 0) -> np.ndarray:
    """uint8 [H, W, 3] noise with some structure (so resizing filters differ)."""
    height, width = (size, size) if isinstance(size, int) else size
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    xx = np.arange(width)[None, :]
    base[..., 0] = ((xx * 255) // max(width - 1, 1)).astype(np.uint8)
    return base


def encode(array: np.ndarray, fmt: str = "PNG", **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def png16(array: np.ndarray) -> bytes:
    """A 16-bit PNG (grayscale [H, W] or RGB [H, W, 3] uint16), written by hand: Pillow cannot
    write 16-bit RGB."""
    height, width = array.shape[:2]
    color_type = 0 if array.ndim == 2 else 2
    rows = array.reshape(height, -1).astype(">u2")
    raw = b"".join(b"\x00" + rows[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """Twelve clean 40x40 RGB images in nested folders, PNG, JPEG and WebP."""
    root = tmp_path / "images"
    for i in range(12):
        fmt, ext = [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")][i % 3]
        extra = {"lossless": True} if fmt == "WEBP" else {}
        write(
            root / f"part{i % 2}" / f"img{i:02d}.{ext}",
            encode(random_rgb(40, seed=i), fmt, **extra),
        )
    return root
