"""Synthetic faces: determinism, resolution consistency, attributes that match the pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylegan_lit.data.pyramid import box_reduce
from stylegan_lit.data.synthetic.attributes import (
    COARSE_ATTRIBUTES,
    FINE_ATTRIBUTES,
    HAIR_STYLES,
    FaceAttributes,
    sample_attributes,
)
from stylegan_lit.data.synthetic.faces import SyntheticFaces, to_grayscale
from stylegan_lit.data.synthetic.render import landmarks


def test_image_is_a_pure_function_of_seed_and_index() -> None:
    faces = SyntheticFaces(100, seed=3, resolution=32)
    together = faces.read(np.array([57, 2, 91, 2]), 32)
    assert np.array_equal(together[1], together[3])
    for row, index in enumerate([57, 2, 91]):
        assert np.array_equal(faces.read(np.array([index]), 32)[0], together[row])
    again = SyntheticFaces(100, seed=3, resolution=32).read(np.array([57]), 32)
    assert np.array_equal(again[0], together[0])
    other_seed = SyntheticFaces(100, seed=4, resolution=32).read(np.array([57]), 32)
    assert not np.array_equal(other_seed[0], together[0])


def test_rendering_does_not_depend_on_the_batch() -> None:
    """Parts are drawn only inside their bounding box over the batch: a box that is too small
    would clip a part when a face is rendered alone but not in a batch."""
    faces = SyntheticFaces(300, seed=11, resolution=32)
    batch = faces.read(np.arange(300), 32)
    alone = np.concatenate([faces.read(np.array([i]), 32) for i in range(300)])
    assert np.array_equal(batch, alone)


def test_lower_resolutions_are_box_downsampled_renders() -> None:
    faces = SyntheticFaces(10, seed=0, resolution=64)
    indices = np.arange(6)
    top = faces.read(indices, 64)
    for resolution in (32, 16, 8, 4):
        assert np.array_equal(faces.read(indices, resolution), box_reduce(top, 64 // resolution))
    memory = faces.to_memory()
    assert memory.resolutions == [4, 8, 16, 32, 64]
    for resolution in memory.resolutions:
        assert np.array_equal(memory.read(indices, resolution), faces.read(indices, resolution))


def test_grayscale_is_the_luma_of_the_colour_render() -> None:
    rgb = SyntheticFaces(4, resolution=16).read(np.arange(4), 16)
    gray = SyntheticFaces(4, resolution=16, img_channels=1).read(np.arange(4), 16)
    expected = np.asarray(Image.fromarray(rgb[0].transpose(1, 2, 0)).convert("L"))
    assert gray.shape == (4, 1, 16, 16)
    assert np.array_equal(gray[0, 0], expected)
    assert np.array_equal(gray, to_grayscale(rgb))


def test_attributes_per_image() -> None:
    faces = SyntheticFaces(50, seed=1)
    attrs = faces.attributes(7)
    assert isinstance(attrs["sunglasses"], bool) and isinstance(attrs["hat"], bool)
    assert isinstance(attrs["smile"], float) and isinstance(attrs["hair_style"], int)
    assert len(attrs["skin_color"]) == 3
    assert attrs == faces.attribute_batch(np.array([3, 7]))[1]
    assert set(COARSE_ATTRIBUTES) | set(FINE_ATTRIBUTES) == set(attrs)
    assert not set(COARSE_ATTRIBUTES) & set(FINE_ATTRIBUTES)
    with pytest.raises(IndexError):
        faces.attributes(50)


def test_attributes_vary_and_coarse_is_independent_of_fine() -> None:
    attrs = sample_attributes(0, np.arange(4000))
    assert set(np.unique(attrs.hair_style)) == set(range(len(HAIR_STYLES)))
    assert not (attrs.glasses & attrs.sunglasses).any()
    for name, expected in [("glasses", 0.18), ("sunglasses", 0.12), ("hat", 0.15), ("beard", 0.15)]:
        assert abs(getattr(attrs, name).mean() - expected) < 0.03, name
    coarse = np.stack([attrs.yaw, attrs.roll, attrs.face_width, attrs.smile])
    fine = np.stack(
        [
            attrs.light_angle,
            attrs.skin_color[:, 0],
            attrs.hair_color[:, 1],
            attrs.background_top[:, 2],
        ]
    )
    correlation = np.corrcoef(np.concatenate([coarse, fine]))[:4, 4:]
    assert np.abs(correlation).max() < 0.06


def _patch_mean(images: np.ndarray, points: np.ndarray, radius: int = 2) -> np.ndarray:
    """Mean brightness of a small square around each face's point (x, y in [-1, 1])."""
    size = images.shape[-1]
    means = []
    for image, (x, y) in zip(images, points, strict=True):
        col, row = int((x + 1) * size / 2), int((y + 1) * size / 2)
        means.append(image[:, row - radius : row + radius, col - radius : col + radius].mean())
    return np.array(means)


def test_sunglasses_darken_the_eyes() -> None:
    faces = SyntheticFaces(40, seed=5, resolution=64)
    base = faces.attribute_batch(np.arange(40)).replace(eye_open=0.9, hat=False)
    shades = faces.render_attributes(base.replace(sunglasses=True, glasses=False))
    bare = faces.render_attributes(base.replace(sunglasses=False, glasses=False))
    points = landmarks(base)
    for eye in ("left_eye", "right_eye"):
        dark = _patch_mean(shades, points[eye])
        assert dark.max() < 90, dark
        light = _patch_mean(bare, points[eye])
        assert (light > dark).all() and light.mean() > dark.mean() + 40


def test_hat_covers_the_crown_in_its_colour() -> None:
    faces = SyntheticFaces(20, seed=2, resolution=64)
    attrs = faces.attribute_batch(np.arange(20)).replace(hat=True)
    images = faces.render_attributes(attrs)
    points = landmarks(attrs)["crown"]
    for image, (x, y), color in zip(images, points, attrs.hat_color, strict=True):
        col, row = int((x + 1) * 32), int((y + 1) * 32)
        assert np.allclose(image[:, row, col] / 255.0, color, atol=0.02)


def test_replace_and_take() -> None:
    attrs = sample_attributes(0, np.arange(5))
    edited = attrs.replace(smile=1.0, hair_color=(1.0, 0.0, 0.0))
    assert np.all(edited.smile == 1.0) and np.all(edited.hair_color == [1.0, 0.0, 0.0])
    assert np.array_equal(edited.yaw, attrs.yaw)
    assert isinstance(attrs.take([4, 0]), FaceAttributes) and attrs.take([4, 0])[0] == attrs[4]


def test_write_folder(tmp_path: Path) -> None:
    faces = SyntheticFaces(5, seed=0, resolution=16)
    folder = faces.write_folder(tmp_path / "faces", progress=False)
    images = faces.read(np.arange(5), 16)
    for index in range(5):
        pixels = np.asarray(Image.open(folder / f"{index:06d}.png")).transpose(2, 0, 1)
        assert np.array_equal(pixels, images[index])
    lines = [json.loads(line) for line in (folder / "attributes.jsonl").read_text().splitlines()]
    assert [line["file"] for line in lines] == [f"{i:06d}.png" for i in range(5)]
    assert lines[3]["sunglasses"] == faces.attributes(3)["sunglasses"]
