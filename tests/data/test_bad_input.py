"""Bad input: each case gets a DatasetError naming the file and the problem, or a counted skip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from stylegan_lit.cli.prepare import main as prepare_main
from stylegan_lit.data.cache.prepare import prepare_cache
from stylegan_lit.data.datamodule import FaceDataModule
from stylegan_lit.data.errors import DatasetError
from stylegan_lit.data.files.raw import RawImages
from stylegan_lit.data.files.sources import open_image_files
from tests.data.conftest import encode, png16, random_rgb, write


def messy_folder(root: Path) -> Path:
    """Four good images and one of each kind of trouble."""
    for i in range(4):
        write(root / f"good{i}.png", encode(random_rgb(16, seed=i)))
    write(root / "gray.png", encode(random_rgb(16)[..., 0]))
    rgba = np.dstack([random_rgb(16), np.full((16, 16), 255, np.uint8)])
    write(root / "alpha.png", encode(rgba))
    write(root / "deep.png", png16(np.full((16, 16), 40000, np.uint16)))
    write(root / "wide.png", encode(random_rgb((16, 24))))
    data = encode(random_rgb(16, seed=9))
    write(root / "truncated.png", data[: len(data) // 2])
    write(root / "fake.jpg", b"this is not a jpeg")
    write(root / "tiny.png", encode(random_rgb(8)))
    write(root / "notes.txt", b"hello")
    write(root / ".DS_Store", b"\x00\x01")
    return root


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nowhere: no such file or folder"):
        open_image_files(tmp_path / "nowhere")
    assert prepare_main([str(tmp_path / "nowhere"), str(tmp_path / "out"), "--quiet"]) == 1


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"empty: no image files found"):
        open_image_files(tmp_path / "empty")


def test_folder_without_images_mentions_the_other_files(tmp_path: Path) -> None:
    write(tmp_path / "docs" / "readme.txt", b"hi")
    with pytest.raises(DatasetError, match=r"no image files found \(1 other files ignored\)"):
        open_image_files(tmp_path / "docs")


def test_a_single_non_image_file_as_source(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.txt", b"hello")
    with pytest.raises(DatasetError, match=r"notes\.txt: not a folder or a ZIP archive"):
        open_image_files(path)
    with pytest.raises(DatasetError, match=r"notes\.txt: not a folder or a ZIP archive"):
        FaceDataModule(source=str(path), resolution=8).setup()


def test_corrupt_zip(tmp_path: Path) -> None:
    data = bytearray(b"PK\x03\x04" + b"\x00" * 200)
    path = write(tmp_path / "broken.zip", bytes(data))
    with pytest.raises(DatasetError, match=r"broken\.zip: not a (readable ZIP archive|folder)"):
        open_image_files(path)


def test_non_image_files_are_ignored_and_counted(tmp_path: Path) -> None:
    files = open_image_files(messy_folder(tmp_path / "messy"))
    assert "notes.txt" not in files.names and ".DS_Store" not in files.names
    assert [s.name for s in files.ignored] == ["notes.txt"]
    assert files.ignored[0].reason == "not an image file"


def test_raw_dataset_skips_bad_files_with_reasons(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    images = RawImages(open_image_files(messy_folder(tmp_path / "messy")), 16)
    reasons = {s.name: s.reason for s in images.skipped}
    # Headers reveal the fake and the tiny image; truncation shows only when decoding.
    assert reasons == {"fake.jpg": "not an image", "tiny.png": "too small"}
    assert "skipped 2 of" in caplog.text and "tiny.png" in caplog.text
    names = [images.name(i) for i in range(len(images))]
    assert "wide.png" in names and "truncated.png" in names
    batch = images.read(np.array([names.index("gray.png"), names.index("wide.png")]), 8)
    assert batch.shape == (2, 3, 8, 8)
    with pytest.raises(DatasetError, match=r"truncated\.png: corrupt or truncated image"):
        images.read(np.array([names.index("truncated.png")]), 8)


def test_raw_dataset_strict_and_no_crop(tmp_path: Path) -> None:
    files = open_image_files(messy_folder(tmp_path / "messy"))
    with pytest.raises(DatasetError, match=r"fake\.jpg: not a readable image"):
        RawImages(files, 16, strict=True)
    images = RawImages(files, 16, crop=False)
    assert {s.name: s.reason for s in images.skipped}["wide.png"] == "not square"
    write(tmp_path / "wide" / "wide.png", encode(random_rgb((16, 24))))
    with pytest.raises(DatasetError, match=r"wide\.png: image is 24x16, not square"):
        RawImages(open_image_files(tmp_path / "wide"), 8, crop=False, strict=True)


def test_every_image_too_small(tmp_path: Path) -> None:
    write(tmp_path / "small" / "a.png", encode(random_rgb(8)))
    with pytest.raises(
        DatasetError, match=r"(?s)none of 1 image files is usable.*1 too small \(a\.png\)"
    ):
        RawImages(open_image_files(tmp_path / "small"), 16)


def test_prepare_skips_and_summarises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = messy_folder(tmp_path / "messy")
    manifest = prepare_cache(source, tmp_path / "cache", resolution=16, progress=False)
    reasons = {s["name"]: s["reason"] for s in manifest.skipped}
    assert reasons == {
        "fake.jpg": "not an image",
        "tiny.png": "too small",
        "truncated.png": "corrupt",
        "notes.txt": "not an image file",
    }
    assert manifest.count == 8  # 4 good + gray + alpha + 16-bit + cropped wide
    assert "skipped 4 of 12 files" in caplog.text


def test_prepare_strict_stops_at_the_first_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = messy_folder(tmp_path / "messy")
    code = prepare_main(
        [str(source), str(tmp_path / "cache"), "--resolution", "16", "--strict", "--quiet"]
    )
    assert code == 1
    assert "fake.jpg: not a readable image" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()  # nothing half-written left behind
    assert not list(tmp_path.glob(".cache.partial-*"))


def test_prepare_refuses_to_overwrite(tmp_path: Path, image_folder: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(
        DatasetError, match=r"taken: exists and is neither an empty folder nor a cache"
    ):
        prepare_cache(image_folder, tmp_path / "taken", progress=False)
    prepare_cache(image_folder, tmp_path / "cache", resolution=8, progress=False)
    with pytest.raises(DatasetError, match=r"cache: a prepared cache already exists"):
        prepare_cache(image_folder, tmp_path / "cache", resolution=8, progress=False)
    manifest = prepare_cache(
        image_folder, tmp_path / "cache", resolution=16, overwrite=True, progress=False
    )
    assert manifest.resolutions == [16, 8, 4]


def test_bad_resolution_arguments(tmp_path: Path, image_folder: Path) -> None:
    assert (
        prepare_main([str(image_folder), str(tmp_path / "c"), "--resolution", "48", "--quiet"]) == 1
    )
    with pytest.raises(ValueError, match="power of two"):
        FaceDataModule(resolution=48)
    with pytest.raises(
        DatasetError, match=r"img\d+\.\w+: image is 40x40, smaller than the target resolution 64"
    ):
        RawImages(open_image_files(image_folder), 64, strict=True)


def test_zip_with_unsupported_members(tmp_path: Path) -> None:
    path = tmp_path / "faces.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.png", encode(random_rgb(8)))
        archive.writestr("__MACOSX/._a.png", b"junk")
        archive.writestr("readme.md", b"hello")
    files = open_image_files(path)
    assert files.names == ["a.png"] and [s.name for s in files.ignored] == ["readme.md"]
