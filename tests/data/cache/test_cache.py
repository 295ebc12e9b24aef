"""The multi-resolution cache: exact pixels at every level, for every source kind."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylegan_lit.cli.prepare import main as prepare_main
from stylegan_lit.data.cache.prepare import prepare_cache
from stylegan_lit.data.cache.store import CachedImages, level_file
from stylegan_lit.data.errors import DatasetError
from stylegan_lit.data.files.image_io import decode_image
from stylegan_lit.data.files.raw import RawImages
from stylegan_lit.data.files.resize import build_pyramid
from stylegan_lit.data.files.sources import open_image_files
from stylegan_lit.data.synthetic.faces import SyntheticFaces
from tests.data.conftest import encode, random_rgb, write


def block_mean(image_chw: np.ndarray, factor: int) -> np.ndarray:
    """Reference box filter, written independently of the package."""
    c, h, w = image_chw.shape
    blocks = image_chw.astype(np.float64).reshape(c, h // factor, factor, w // factor, factor)
    return np.rint(blocks.mean(axis=(2, 4))).astype(np.uint8)


def lanczos(image_chw: np.ndarray, size: int) -> np.ndarray:
    """Reference Lanczos resize with Pillow."""
    pil = Image.fromarray(image_chw.transpose(1, 2, 0))
    return np.asarray(pil.resize((size, size), Image.Resampling.LANCZOS)).transpose(2, 0, 1)


def test_lanczos_cache_round_trip(tmp_path: Path, image_folder: Path) -> None:
    code = prepare_main([str(image_folder), str(tmp_path / "cache"), "--quiet"])
    assert code == 0
    cache = CachedImages(tmp_path / "cache")
    manifest = json.loads((tmp_path / "cache" / "manifest.json").read_text())
    assert manifest["count"] == 12 and manifest["resolutions"] == [32, 16, 8, 4]  # 40 px -> 32
    assert manifest["filter"] == "lanczos" and manifest["skipped"] == []
    names = cache.names()
    assert names == sorted(names) and len(names) == 12
    for index, name in enumerate(names):
        source = decode_image((image_folder / name).read_bytes(), name).transpose(2, 0, 1)
        expected = {32: lanczos(source, 32)}
        for r in (16, 8, 4):
            expected[r] = lanczos(expected[2 * r], r)  # the halving cascade
        for r in (32, 16, 8, 4):
            assert np.array_equal(cache.read(np.array([index]), r)[0], expected[r]), (name, r)


def test_box_cache_is_the_official_pyramid(tmp_path: Path) -> None:
    for i in range(3):
        write(tmp_path / "src" / f"{i}.png", encode(random_rgb(32, seed=i)))
    prepare_cache(tmp_path / "src", tmp_path / "cache", resize_filter="box", progress=False)
    cache = CachedImages(tmp_path / "cache")
    assert cache.resolutions == [4, 8, 16, 32]
    for index in range(3):
        top = random_rgb(32, seed=index).transpose(2, 0, 1)
        assert np.array_equal(cache.read(np.array([index]), 32)[0], top)
        for r in (16, 8, 4):
            assert np.array_equal(cache.read(np.array([index]), r)[0], block_mean(top, 32 // r))


def test_box_from_a_non_multiple_size(tmp_path: Path, image_folder: Path) -> None:
    prepare_cache(
        image_folder, tmp_path / "cache", resolution=16, resize_filter="box", progress=False
    )
    cache = CachedImages(tmp_path / "cache")
    top = cache.read(np.arange(12), 16)
    for r in (8, 4):
        expected = np.stack([block_mean(image, 16 // r) for image in top])
        assert np.array_equal(cache.read(np.arange(12), r), expected)


def test_raw_folder_serves_the_same_pixels_as_the_cache(tmp_path: Path, image_folder: Path) -> None:
    prepare_cache(image_folder, tmp_path / "cache", progress=False)
    cache = CachedImages(tmp_path / "cache")
    raw = RawImages(open_image_files(image_folder))
    assert raw.max_resolution == 32 and len(raw) == len(cache)
    indices = np.array([3, 0, 11, 3])
    for r in (32, 16, 8, 4):
        assert np.array_equal(raw.read(indices, r), cache.read(indices, r))


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_zip_gives_the_same_cache_as_the_folder(
    tmp_path: Path, image_folder: Path, compression: int
) -> None:
    archive_path = tmp_path / "faces.zip"
    with zipfile.ZipFile(archive_path, "w", compression) as archive:
        for path in sorted(image_folder.rglob("*.*")):
            archive.write(path, path.relative_to(image_folder).as_posix())
    prepare_cache(image_folder, tmp_path / "from_folder", progress=False)
    prepare_cache(archive_path, tmp_path / "from_zip", progress=False)
    a, b = CachedImages(tmp_path / "from_folder"), CachedImages(tmp_path / "from_zip")
    assert a.names() == b.names()
    for r in a.resolutions:
        assert np.array_equal(a.level(r), b.level(r))
    raw_zip = RawImages(open_image_files(archive_path))
    assert np.array_equal(raw_zip.read(np.arange(12), 8), a.read(np.arange(12), 8))


def test_synthetic_cache_matches_the_renderer(tmp_path: Path) -> None:
    manifest = prepare_cache(
        "synthetic", tmp_path / "cache", resolution=16, num_images=20, seed=7, progress=False
    )
    assert manifest.extra == {"seed": 7, "num_images": 20} and manifest.filter == "box"
    cache = CachedImages(tmp_path / "cache")
    faces = SyntheticFaces(20, seed=7, resolution=16)
    for r in (16, 8, 4):
        assert np.array_equal(cache.level(r), faces.read(np.arange(20), r))


def test_grayscale_cache(tmp_path: Path, image_folder: Path) -> None:
    prepare_cache(image_folder, tmp_path / "cache", resolution=8, channels=1, progress=False)
    cache = CachedImages(tmp_path / "cache")
    assert cache.img_channels == 1 and cache.read(np.arange(2), 8).shape == (2, 1, 8, 8)


def test_npy_files_open_standalone(tmp_path: Path, image_folder: Path) -> None:
    prepare_cache(image_folder, tmp_path / "cache", resolution=16, progress=False)
    array = np.load(tmp_path / "cache" / level_file(16), mmap_mode="r")
    assert array.shape == (12, 3, 16, 16) and array.dtype == np.uint8


def test_parallel_prepare_matches_serial(tmp_path: Path, image_folder: Path) -> None:
    prepare_cache(image_folder, tmp_path / "serial", resolution=16, progress=False)
    prepare_cache(image_folder, tmp_path / "parallel", resolution=16, workers=1, progress=False)
    a, b = CachedImages(tmp_path / "serial"), CachedImages(tmp_path / "parallel")
    for r in a.resolutions:
        assert np.array_equal(a.level(r), b.level(r))


def test_damaged_cache_is_reported(tmp_path: Path, image_folder: Path) -> None:
    prepare_cache(image_folder, tmp_path / "cache", resolution=16, progress=False)
    level = tmp_path / "cache" / level_file(8)
    level.write_bytes(level.read_bytes()[:500])
    with pytest.raises(DatasetError, match=r"r0008\.npy: unreadable cache file"):
        CachedImages(tmp_path / "cache")
    level.unlink()
    with pytest.raises(DatasetError, match=r"r0008\.npy"):
        CachedImages(tmp_path / "cache")
    manifest = tmp_path / "cache" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"version": 1', '"version": 99'))
    with pytest.raises(DatasetError, match=r"cache version 99 is not supported"):
        CachedImages(tmp_path / "cache")
    manifest.write_text("{not json")
    with pytest.raises(DatasetError, match=r"manifest\.json: unreadable manifest"):
        CachedImages(tmp_path / "cache")


def test_build_pyramid_shapes() -> None:
    levels = build_pyramid(random_rgb(20), 16)
    assert {r: a.shape for r, a in levels.items()} == {16: (3, 16, 16), 8: (3, 8, 8), 4: (3, 4, 4)}
